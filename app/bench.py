"""`foretype bench --app`: what a keystroke costs in the app, in documents of 100 to 5,000,000 characters.

`foretype bench` times the engine alone. This types into the app's own editor, suggestion controller, bar and
prediction thread (offscreen; no settings, drafts or files of the user's are touched) and times each key twice:
the GUI thread's own work (the edit, copying the text the engine reads, sending the request), which must stay
small however long the document, as a slow one stalls typing itself; and until the suggestions for that key are
shown, which is what the user waits for. Each document is typed into at its end and in its middle.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from foretype.model.bench import document, pause_seconds, percentile, read_bench_text
from foretype.model.errors import ForetypeError

DOCUMENT_LENGTHS = (100, 100_000, 1_000_000, 5_000_000)
KEYSTROKES = 300  # typed at each place of each document
SHOWN_TIMEOUT_S = 10.0


def _type_key(app, editor, char: str) -> None:
    """Press and release the key that types ``char``, as the keyboard would (not QtTest: installers leave it out)."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent

    if char == "\n":
        key, char = Qt.Key.Key_Return, "\r"
    else:
        try:  # Qt's code for a Latin-1 character is its capital's
            key = Qt.Key(ord(char.upper()))
        except (ValueError, TypeError):
            key = Qt.Key.Key_unknown
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        app.sendEvent(editor, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, char))


def _run_events(app, done, seconds: float) -> bool:
    """Run the event loop until ``done()`` or for ``seconds``, asleep while no event comes, as the app's own loop is:
    a loop that polls would hold the interpreter against the prediction thread. True if ``done()``."""
    from PySide6.QtCore import QEventLoop, QTimer

    timer = QTimer(singleShot=True)  # its timeout is an event: the wait below ends by then
    timer.start(round(seconds * 1000))
    while not done():
        if not timer.isActive():
            return False
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    return True


def _until(app, done, what: str) -> None:
    if not _run_events(app, done, SHOWN_TIMEOUT_S):
        raise ForetypeError(f"gave up waiting for {what} after {SHOWN_TIMEOUT_S:.0f} s")


def type_and_time(app, editor, controller, position: int, typed: str, pause_s: float = 0.0) -> tuple[list[float], list[float]]:
    """Type ``typed`` at ``position``, one key at a time (``pause_s`` apart): (GUI thread ms, ms until its suggestions were
    shown) per key."""
    cursor = editor.textCursor()
    cursor.setPosition(position)
    editor.setTextCursor(cursor)
    _until(app, lambda: controller.up_to_date, "the first suggestions")
    gui, shown = [], []
    for char in typed:
        _run_events(app, lambda: False, pause_s)  # idle, as between a person's keys
        start = time.perf_counter()
        _type_key(app, editor, char)
        app.processEvents()  # the request goes out on the event loop's next turn
        gui.append((time.perf_counter() - start) * 1000)
        _until(app, lambda: controller.up_to_date, "suggestions")
        shown.append((time.perf_counter() - start) * 1000)
    return gui, shown


def app_bench(model_path: Path | None, text: str, keystrokes: int = KEYSTROKES, lengths=DOCUMENT_LENGTHS, pause_ms: float = 0.0) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when the application is made
    from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

    from .editor import Editor
    from .service import PredictionService
    from .settings import Settings
    from .suggestion_bar import SuggestionBar
    from .suggestions import SuggestionController

    if len(text) < 2 * keystrokes:
        raise ForetypeError(f"the bench text needs at least {2 * keystrokes} characters")
    pause_s = pause_seconds(pause_ms)
    app = QApplication.instance() or QApplication([])
    settings = Settings()
    window = QWidget()
    editor, bar = Editor(window), SuggestionBar(settings.suggestions, window)
    service = PredictionService(parent=window)
    controller = SuggestionController(editor, bar, service, settings)
    layout = QVBoxLayout(window)
    layout.addWidget(editor)
    layout.addWidget(bar)
    window.resize(820, 560)
    window.show()
    ready, failed = [], []
    service.model_ready.connect(ready.append)
    service.model_failed.connect(failed.append)
    service.start()
    try:
        service.load_model(model_path)
        _until(app, lambda: ready or failed, "the model")
        if failed:
            raise ForetypeError(failed[0])
        typed, filler = text[:keystrokes], text[keystrokes:] + "\n\n"
        result: dict = {"gui_ms": {}, "shown_ms": {}, "pause_ms": pause_ms}
        for length in lengths:
            doc = document(filler, length)
            middle = doc.find(" ", length // 2) + 1 or length  # at the start of a word
            for place, position in (("end", length), ("middle", middle)):
                editor.setPlainText(doc)
                gui, shown = type_and_time(app, editor, controller, position, typed, pause_s)
                if editor.toPlainText() != doc[:position] + typed + doc[position:]:  # else it timed keys that did nothing
                    raise ForetypeError("the keys typed did not reach the editor as typed")
                key = f"{length} {place}"
                result["gui_ms"][key] = {f"p{q}": round(percentile(gui, q), 3) for q in (50, 99)}
                result["shown_ms"][key] = {f"p{q}": round(percentile(shown, q), 3) for q in (50, 99)}
        return result
    finally:
        service.stop()
        window.close()
        window.deleteLater()


def run(args) -> int:
    text = read_bench_text(args.text)
    result = app_bench(Path(args.model) if args.model else None, text, pause_ms=args.pause_ms)
    result["model"] = args.model or "the bundled model"
    if args.json:
        print(json.dumps(result))
        return 0
    pause = f", {args.pause_ms:g} ms idle before each" if args.pause_ms else ""
    print(f"model {result['model']}, {KEYSTROKES} keystrokes per row{pause}; ms per keystroke")
    print(f"{'document, typed at':>24} {'GUI p50':>8} {'GUI p99':>8} {'shown p50':>10} {'shown p99':>10}")
    for key, gui in result["gui_ms"].items():
        length, place = key.split()
        shown = result["shown_ms"][key]
        print(f"{int(length):>15,} chars, {place:<6} {gui['p50']:>8.2f} {gui['p99']:>8.2f} {shown['p50']:>10.2f} {shown['p99']:>10.2f}")
    return 0
