"""`foretype app`: show the window first, then start the prediction thread (which imports torch)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from foretype.model.errors import ForetypeError

from .settings import APP_NAME, Settings
from .window import AltKeepsTyping, MainWindow

log = logging.getLogger(__name__)


def prepare_application(app: QApplication) -> None:
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName("foretype")
    if sys.platform != "darwin" and not isinstance(app.style(), AltKeepsTyping):  # macOS: no Alt menu navigation
        app.setStyle(AltKeepsTyping(app.style().name()))  # the platform's own style, less Alt's menu-bar navigation


def run(args: argparse.Namespace) -> int:
    """Run the app until its window closes; the exit status of the event loop."""
    if sys.platform.startswith("linux") and not any(map(os.environ.get, ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))):
        raise ForetypeError("no display to show the window on (neither DISPLAY nor WAYLAND_DISPLAY is set)")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    prepare_application(app)
    window = MainWindow(Settings.load(), model_override=args.model)
    if args.file:
        window.open_file(args.file, missing_ok=True)  # `foretype app new.md` starts that file
    window.show()
    app.aboutToQuit.connect(window.service.stop)  # however the loop ends, the thread is joined
    QTimer.singleShot(0, window.start)  # after the first paint: loading the model holds the GIL for a while
    return app.exec()
