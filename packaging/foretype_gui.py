"""PyInstaller entry for `foretype-app`: the desktop app without a console window (Windows, macOS)."""
import sys

from foretype.app.cli import main_gui

sys.exit(main_gui())
