"""The desktop app, offscreen: suggestions, accepting, the prediction thread, files, draft, model fallback."""

from __future__ import annotations

import codecs
import errno
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import threading
import tomllib
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPalette, QTextCursor
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QMessageBox, QPushButton, QStyle, QStyleOptionButton

from foretype.app import window as window_module
from foretype.app.service import load_predictor
from foretype.app.settings import (
    Settings,
    config_dir,
    data_dir,
    draft_lock_path,
    draft_path,
    personal_model_path,
    previous_draft_path,
)
from foretype.app.editor import Editor
from foretype.app.main import prepare_application
from foretype.app.suggestion_bar import ACCEPT_MODIFIER, ACCEPT_MODIFIER_NAME, SHOW_MODIFIER, SlotButton, SuggestionBar
from foretype.app.suggestions import SENT_CHUNK, tail_start, text_before
from foretype.app.window import MIN_WINDOW_WIDTH, MainWindow
from foretype.model.errors import ForetypeError
from foretype.model.files import atomic_write
from foretype.model.predictor import Suggestion

PREDICTIONS = ["one", "two", "three", "four", "five"]


class FakePredictor:
    """Completes a partial word with a, b, c...; predicts "one two three..." after a space.

    With a ``gate``, each suggest() waits until the test opens it: a model as slow as the test wants.
    """

    name = "fake"

    def __init__(self, gate: threading.Event | None = None):
        self.gate = gate
        self.entered = threading.Event()
        self.texts: list[str] = []  # every text given to set_text
        self.text = ""  # like a new Predictor: the empty document
        self.capitalise = True  # set by the service from the settings, as on a Predictor

    def set_text(self, text: str) -> None:
        self.texts.append(text)
        self.text = text

    def suggest(self, k: int = 3) -> list[Suggestion]:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait()
        return fake_suggestions(self.text, k)


def fake_suggestions(text: str, k: int = 3) -> list[Suggestion]:
    partial = text.split()[-1] if text and not text[-1].isspace() else ""
    if partial:
        return [Suggestion(partial + c, c + " ", -1.0 - i, "completion") for i, c in enumerate("abcde"[:k])]
    return [Suggestion(w, w + " ", -1.0 - i, "prediction") for i, w in enumerate(PREDICTIONS[:k])]


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    """Settings, drafts and the personal model go to a temporary home, never the real one."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)


@pytest.fixture
def make_window(qtbot):
    """Make a shown window with the prediction thread started; it is closed (thread joined) afterwards."""
    windows = []

    def make(loader=lambda path: FakePredictor(), settings: Settings | None = None, model: str | None = None) -> MainWindow:
        window = MainWindow(settings or Settings(), model_override=model, loader=loader)
        qtbot.addWidget(window)
        window.show()
        with qtbot.waitSignal(window.service.model_ready, timeout=20000):
            window.start()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        assert not window.service.isRunning()


def test_a_long_documents_text_is_sent_from_a_start_that_moves_a_chunk_at_a_time(qtbot):
    # copying all of a 3.6 MB document on each keystroke cost the window's thread 15 ms; the engine reads ~5,400 characters
    editor = Editor()
    qtbot.addWidget(editor)
    text = "word " * 60_000
    editor.setPlainText(text)
    cursor = editor.textCursor()
    start, starts = 0, []
    # typing on from 3 chunks, backspacing across a chunk boundary and back, jumping to the top, then to the end
    for position in (3 * SENT_CHUNK, 3 * SENT_CHUNK + 1, 3 * SENT_CHUNK - 1, 3 * SENT_CHUNK + 1, 100, 300_000):
        start = tail_start(position, start)
        cursor.setPosition(position)
        sent = text_before(cursor, start)
        assert text[:position].endswith(sent) and len(sent) <= 3 * SENT_CHUNK
        starts.append(position - len(sent))
    assert starts == [0, 2 * SENT_CHUNK, 2 * SENT_CHUNK, 2 * SENT_CHUNK, 0, 8 * SENT_CHUNK]


def add_lines(window, lines: str) -> None:
    cursor = window.editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertText(lines)


@pytest.mark.parametrize("before, after", [
    (b"\xef\xbb\xbfone\r\n", b"\xef\xbb\xbfone\r\ntwo\r\nthree\r\n"),  # Notepad's UTF-8
    (b"one\n", b"one\ntwo\nthree\n"),
    (b"caf\xe9\r\n", b"caf\xc3\xa9\r\ntwo\r\nthree\r\n"),  # Windows-1252: saved as UTF-8, as its note says
])
def test_saving_keeps_the_files_line_endings_and_bom(make_window, tmp_path, before, after):
    window = make_window()
    path = tmp_path / "letter.txt"
    path.write_bytes(before)
    assert window.open_file(path)
    add_lines(window, "two\nthree\n")
    assert window.save()
    assert path.read_bytes() == after


def test_an_os_error_follows_a_colon_with_only_its_first_letter_lowered():
    assert window_module.error_text(OSError(errno.ESTALE, "Stale NFS file handle")) == "stale NFS file handle"
    assert window_module.error_text(OSError(errno.EIO, "RPC struct is bad")) == "RPC struct is bad"


def test_a_new_document_saves_plain_newlines_whatever_the_file_before(make_window, tmp_path):
    window = make_window()
    windows_file = tmp_path / "windows.txt"
    windows_file.write_bytes(b"\xef\xbb\xbfone\r\n")
    assert window.open_file(windows_file)
    window.new_file()
    add_lines(window, "one\ntwo\n")
    assert window.save_to(tmp_path / "new.txt")
    assert (tmp_path / "new.txt").read_bytes() == b"one\ntwo\n"


def test_opening_damaged_utf16_says_why_and_keeps_the_open_document(make_window, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("kept")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8a\x00")  # a lone high surrogate
    window = make_window()
    assert window.open_file(good)
    assert not window.open_file(bad)
    message = "it is marked as UTF-16 text but is not valid UTF-16 at byte 2"
    assert window.info.label.text() == f"Could not open {bad}: {message}"
    assert window.path == good and window.editor.toPlainText() == "kept"


CRASHING_COPY = """
import os
from PySide6.QtWidgets import QApplication
from foretype.app.settings import Settings
from foretype.app.window import MainWindow

app = QApplication([])
window = MainWindow(Settings())
window.editor.insertPlainText({text!r})
window.autosave()
print(window.draft_slot)
os._exit(3)  # no closeEvent, no clean-up: the draft and the lock file stay behind, as after a crash
"""


def run_a_copy_that_crashes(text: str) -> int:
    """Another copy of the app types ``text``, autosaves it and dies; the draft slot it held."""
    result = subprocess.run([sys.executable, "-c", CRASHING_COPY.format(text=text)], capture_output=True, text=True)
    assert result.returncode == 3, result.stderr
    return int(result.stdout)


def leave_a_draft(text: str, path: str = "", disk=None) -> None:
    """The draft a crashed session of slot 1 leaves: ``text`` typed into ``path`` (untitled: "")."""
    draft_path().parent.mkdir(parents=True, exist_ok=True)
    draft_path().write_text(json.dumps({"text": text, "path": path, "time": 0, "disk": disk}))


def leave_a_crash_draft(window: MainWindow, path: Path, content: bytes, typed: str) -> None:
    """``window`` opens ``path`` (holding ``content``), has ``typed`` added and autosaved, and keeps that draft as a
    crash would leave it; its document is then set aside as saved."""
    path.write_bytes(content)
    assert window.open_file(path)
    add_lines(window, typed)
    window.autosave()
    previous_draft_path(window.draft_slot).write_bytes(draft_path(window.draft_slot).read_bytes())
    window.editor.document().setModified(False)


def test_the_changed_on_disk_notice_follows_typing_and_goes_once_saved(make_window, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "note.txt"
    path.write_text("one\n")
    window = make_window()
    assert window.open_file(path)
    path.write_text("one\ntheirs\n")
    qtbot.waitUntil(lambda: "note.txt was changed on disk" in window.info.label.text())
    type_text(qtbot, window, "mine")  # typed after the notice came: reloading would now replace it
    assert window.info.label.text().endswith("Reloading replaces your unsaved changes (Ctrl+Z brings them back).")
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Save)  # replace theirs
    assert window.save() and not window.info.isVisible()


def type_text(qtbot, window: MainWindow, text: str) -> None:
    qtbot.keyClicks(window.editor, text)


def wait_words(qtbot, window: MainWindow, words: list[str]) -> None:
    qtbot.waitUntil(lambda: window.bar.words() == words, timeout=5000)


def send_mouse_events(widget, types: list[QEvent.Type]) -> None:
    """Left-button events at the widget's centre, in this order (QTest's double-click is no real one)."""
    at = QPointF(widget.rect().center())
    for event_type in types:
        buttons = Qt.MouseButton.NoButton if event_type == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
        QApplication.sendEvent(widget, QMouseEvent(event_type, at, widget.mapToGlobal(at), Qt.MouseButton.LeftButton,
                                                   buttons, Qt.KeyboardModifier.NoModifier))


def type_then_press(qtbot, window: MainWindow, text: str, key=Qt.Key.Key_Tab, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Type ``text``, wait until the fake's suggestions for the text before the cursor show, press ``key``."""
    type_text(qtbot, window, text)
    before = window.editor.toPlainText()[: window.editor.textCursor().position()]
    wait_words(qtbot, window, [s.word for s in fake_suggestions(before)])
    qtbot.keyClick(window.editor, key, modifier)


def test_typing_a_phrase_shows_completions_from_the_model(make_window, qtbot, tiny_model_path):
    window = make_window(loader=load_predictor, model=str(tiny_model_path))
    type_text(qtbot, window, "I like the bo")
    qtbot.waitUntil(lambda: window.controller.up_to_date, timeout=10000)
    assert window.bar.words() and all(w.startswith("bo") for w in window.bar.words())
    top = window.controller.suggestions[0]
    assert window.editor.ghost_text() == top.insert.rstrip(" ")
    assert window.model_label.text() == f"Model: {tiny_model_path.stem}"
    assert window.latency_label.text().endswith("ms")


def test_the_empty_document_shows_predictions_in_the_bar_but_no_ghost_over_the_placeholder(make_window, qtbot):
    window = make_window()
    wait_words(qtbot, window, PREDICTIONS[:3])
    assert window.editor.ghost_text() == ""
    type_text(qtbot, window, "he")
    wait_words(qtbot, window, ["hea", "heb", "hec"])
    assert window.editor.ghost_text() == "a"


def test_ghost_text_near_the_right_edge_is_cut_with_an_ellipsis(qtbot):
    editor = Editor()
    qtbot.addWidget(editor)
    editor.resize(300, 200)
    editor.show()
    editor.set_ghost_text("ry")
    assert editor.visible_ghost_text() == "ry"  # room enough at the start of a line
    editor.setPlainText("x" * 200)
    editor.moveCursor(QTextCursor.MoveOperation.StartOfLine)
    for _ in range(200):  # to the last characters of the first line
        if editor.cursorRect().left() >= editor.viewport().width() - 80:
            break
        editor.moveCursor(QTextCursor.MoveOperation.Right)
    editor.set_ghost_text("extraordinarily")
    shown = editor.visible_ghost_text()
    room = editor.viewport().width() - editor.cursorRect().left()
    assert shown.endswith("…") and editor.fontMetrics().horizontalAdvance(shown) <= room


@pytest.mark.parametrize("extra, shown_hint", [(0, "Tab"), (-1, "")])
def test_a_key_hint_shows_only_where_it_fits_after_the_whole_word_and_never_cuts_it(qtbot, extra, shown_hint):
    # at 5 slots the hint, given room on both sides of the word, hid itself and cut the word ("present…")
    button = SlotButton("Alt+1 or Tab")
    qtbot.addWidget(button)
    button.show()
    button.set_word("present", "Tab")
    option = QStyleOptionButton()
    button.initStyleOption(option)
    margins = button.width() - button.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, option, button).width()
    word_and_hint = button.fontMetrics().horizontalAdvance("present") + button._hint_width()
    button.resize(margins + word_and_hint + extra, button.height())
    assert button.text() == "present" and button.hint() == shown_hint


def test_ghost_text_and_key_hints_follow_a_dark_palette_that_leaves_placeholder_text_dark(make_window):
    # dark-theme recipes set Text, Base and Button but rarely PlaceholderText: hints drawn in it were black on dark grey
    window = make_window()
    palette = QPalette(window.palette())
    palette.setColor(QPalette.ColorRole.Text, QColor("white"))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor("#eeeeee"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#202020"))
    palette.setColor(QPalette.ColorRole.Button, QColor("#303030"))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#101010"))
    window.setPalette(palette)
    for color, text in ((window.editor.ghost_color(), QColor("white")), (window.bar._buttons[0].hint_color(), QColor("#eeeeee"))):
        assert color.rgb() == text.rgb() and 0.3 < color.alphaF() < 0.7  # the text's colour, muted


@pytest.mark.parametrize("text", ["שלום עולם ", "مرحبا", "I said שלום"])
def test_no_ghost_text_after_right_to_left_text(qtbot, text):
    # the cursor is at the left of the Hebrew or Arabic word: the ghost would be drawn over it
    editor = Editor()
    qtbot.addWidget(editor)
    editor.show()
    editor.set_ghost_text("much")
    editor.setPlainText(text)
    editor.moveCursor(QTextCursor.MoveOperation.End)
    assert editor.visible_ghost_text() == ""
    editor.setPlainText("Thank you very ")
    editor.moveCursor(QTextCursor.MoveOperation.End)
    assert editor.visible_ghost_text() == "much"


def test_tab_accepts_the_top_suggestion_and_alt_2_the_second(make_window, qtbot):
    window = make_window()
    type_then_press(qtbot, window, "hel")
    assert window.editor.toPlainText() == "hela "
    type_then_press(qtbot, window, "", Qt.Key.Key_2, ACCEPT_MODIFIER)
    assert window.editor.toPlainText() == "hela two "
    type_text(qtbot, window, "wo")
    wait_words(qtbot, window, ["woa", "wob", "woc"])
    qtbot.mouseClick(window.bar._buttons[2], Qt.MouseButton.LeftButton)
    assert window.editor.toPlainText() == "hela two woc "
    wait_words(qtbot, window, PREDICTIONS[:3])
    double_click = [QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
                    QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseButtonRelease]  # as a window system sends it
    send_mouse_events(window.bar._buttons[1], double_click[:2])
    assert window.editor.toPlainText() == "hela two woc two "
    qtbot.waitUntil(lambda: window.controller.up_to_date, timeout=5000)
    send_mouse_events(window.bar._buttons[1], double_click[2:])  # accepted the word shown after the first click too
    assert window.editor.toPlainText() == "hela two woc two "
    window.editor.undo()
    assert window.controller.accepted_chars == len("a two c ")
    assert window.saved_label.text() == f"Saved {1 - (5 + 3) / (5 + 8):.0%} of keystrokes"  # 5 letters and 3 accepts for 13


def test_the_saved_share_counts_an_absorbed_space_as_a_keystroke_and_not_the_space_enter_replaced(make_window, qtbot):
    # both made the status bar's figure ~2 points too high
    window = make_window()
    type_then_press(qtbot, window, "hel")
    type_text(qtbot, window, " ")  # absorbed: a key pressed for nothing
    assert window.editor.toPlainText() == "hela "
    assert window.controller.saved_share == pytest.approx(1 - (3 + 1 + 1) / 5)  # 3 letters, a space, an accept for 5
    type_then_press(qtbot, window, "wo")
    qtbot.keyClick(window.editor, Qt.Key.Key_Return)  # takes the added space's place
    assert window.editor.toPlainText() == "hela woa\n"
    assert window.controller.saved_share == pytest.approx(1 - (3 + 1 + 2 + 1 + 2) / len("hela woa\n"))  # 7 keys, 2 accepts


def test_the_smallest_window_still_shows_the_status_figures_whole(make_window, qtbot):
    window = make_window()
    window.show()
    window.model_label.setText("Model: personal")
    window.saved_label.setText("Saved 100% of keystrokes")
    window.latency_label.setText("9999 ms")
    window.resize(100, 100)
    qtbot.waitUntil(lambda: window.width() < 820)
    for label in (window.model_label, window.saved_label, window.latency_label):
        assert label.width() >= label.sizeHint().width(), label.text()


def test_a_shortcut_key_is_not_counted_as_typing(make_window, qtbot):
    window = make_window()
    type_text(qtbot, window, "hel")
    qtbot.keyClick(window.editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all: its event says "a"
    assert window.controller.typed_keys == 3 and window.editor.textCursor().selectedText() == "hel"
    qtbot.keyClick(window.editor, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    assert window.controller.typed_keys == 4  # AltGr+E, as Windows sends it, types a letter


def test_an_alt_key_for_an_empty_slot_types_nothing(make_window, qtbot):
    class OneSuggestion(FakePredictor):
        def suggest(self, k: int = 3) -> list[Suggestion]:
            return super().suggest(1)

    window = make_window(loader=lambda path: OneSuggestion())
    type_text(qtbot, window, "Thank you very ")
    wait_words(qtbot, window, ["one"])
    assert [button.hint() for button in window.bar._buttons] == ["Tab", "", ""]  # an empty slot shows no key
    for key in (Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_5, Qt.Key.Key_6, Qt.Key.Key_0):  # empty, not shown, never a slot
        qtbot.keyClick(window.editor, key, ACCEPT_MODIFIER)
    assert window.editor.toPlainText() == "Thank you very "


def test_tab_at_the_start_of_a_line_indents_and_alt_1_still_accepts(make_window, qtbot):
    window = make_window()
    type_text(qtbot, window, "Shopping list:")
    qtbot.keyClick(window.editor, Qt.Key.Key_Return)
    wait_words(qtbot, window, PREDICTIONS[:3])
    assert window.editor.ghost_text() == "" and window.bar._buttons[0].hint() == f"{ACCEPT_MODIFIER_NAME}+1"
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "Shopping list:\n\t"
    qtbot.waitUntil(lambda: window.controller.up_to_date)  # the same words as before the tab: wait for fresh ones
    qtbot.keyClick(window.editor, Qt.Key.Key_1, ACCEPT_MODIFIER)
    assert window.editor.toPlainText() == "Shopping list:\n\tone "
    type_then_press(qtbot, window, "mil")  # after a word Tab accepts again
    assert window.editor.toPlainText() == "Shopping list:\n\tone mila "
    wait_words(qtbot, window, PREDICTIONS[:3])
    assert [button.hint() for button in window.bar._buttons] == ["Tab", f"{ACCEPT_MODIFIER_NAME}+2", f"{ACCEPT_MODIFIER_NAME}+3"]


def test_backspace_right_after_accepting_undoes_the_acceptance(make_window, qtbot):
    window = make_window()
    type_then_press(qtbot, window, "hel")
    assert window.editor.toPlainText() == "hela "
    qtbot.keyClick(window.editor, Qt.Key.Key_Backspace)
    assert window.editor.toPlainText() == "hel"
    qtbot.keyClick(window.editor, Qt.Key.Key_Backspace)  # an ordinary backspace again
    assert window.editor.toPlainText() == "he"
    assert window.controller.accepted_chars == 0


class CapitalisingPredictor(FakePredictor):
    """Completes "w" at a sentence's start as the engine does: "What", the typed "w" retyped "W"."""

    def suggest(self, k: int = 3) -> list[Suggestion]:
        if self.text.endswith(". w") and self.capitalise:
            return [Suggestion("What", "hat ", -1.0, "completion", "W")]
        if self.text.endswith(". don’") and self.capitalise:
            return [Suggestion("Don’t", "t ", -1.0, "completion", "Don'")]  # the engine's typed part: a straight '
        return super().suggest(k)


def test_accepting_a_capitalised_word_retypes_the_typed_letter_and_backspace_puts_it_back(make_window, qtbot):
    predictor = CapitalisingPredictor()
    window = make_window(loader=lambda path: predictor)
    type_text(qtbot, window, "It rained. w")
    qtbot.waitUntil(lambda: window.controller.up_to_date and window.bar.words() == ["What"], timeout=5000)
    assert window.editor.ghost_text() == ""  # grey "hat" after the "w" would read "what"
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "It rained. What " and window.controller.accepted_chars == 4
    qtbot.keyClick(window.editor, Qt.Key.Key_Backspace)  # the take-back gives the "w" as typed
    assert window.editor.toPlainText() == "It rained. w" and window.controller.accepted_chars == 0
    qtbot.waitUntil(lambda: window.controller.up_to_date and window.bar.words() == ["What"], timeout=5000)
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    window.editor.undo()  # one undo step, the retyping included
    assert window.editor.toPlainText() == "It rained. w" and window.controller.accepted_chars == 0
    qtbot.waitUntil(lambda: window.controller.up_to_date and window.bar.words() == ["What"], timeout=5000)
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    qtbot.keyClick(window.editor, Qt.Key.Key_Backspace)
    type_text(qtbot, window, "hen")
    window.editor.undo()  # the typed "hen" went into the take-back's undo step, and Ctrl+Z brought "What" back
    assert window.editor.toPlainText() == "It rained. w"
    window.settings.capitalise = False  # Settings: off for people who write in lower case
    window.controller.request()
    qtbot.waitUntil(lambda: window.controller.up_to_date and window.bar.words() == ["wa", "wb", "wc"], timeout=5000)


def test_a_capitalised_word_keeps_the_rest_of_the_typed_letters_as_typed(make_window, qtbot):
    # the engine's "Don'" replaced the user's curly "don’" with a straight apostrophe
    window = make_window(loader=lambda path: CapitalisingPredictor())
    window.editor.setPlainText("It rained. don’")
    window.editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.waitUntil(lambda: window.controller.up_to_date and window.bar.words() == ["Don’t"], timeout=5000)
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "It rained. Don’t "


def test_undo_takes_back_an_accepted_word_then_word_by_word(make_window, qtbot):
    window = make_window()
    type_then_press(qtbot, window, "Thank you Qu")
    type_text(qtbot, window, "more words")
    assert window.editor.toPlainText() == "Thank you Qua more words"
    undone = []
    while window.editor.document().isUndoAvailable():
        window.editor.undo()
        undone.append(window.editor.toPlainText())
    assert undone == ["Thank you Qua more ", "Thank you Qua ", "Thank you Qu", "Thank you ", "Thank ", ""]


def press_tab_when_up_to_date(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.controller.up_to_date and window.bar.words() == PREDICTIONS[:3], timeout=5000)
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)


def test_undoing_accepted_words_takes_their_savings_back_and_redo_gives_them_back(make_window, qtbot):
    window = make_window()
    type_text(qtbot, window, "Thank you very ")
    for _ in range(3):
        press_tab_when_up_to_date(qtbot, window)
    assert window.editor.toPlainText() == "Thank you very one one one "
    saved = window.saved_label.text()
    assert saved == f"Saved {1 - (15 + 3) / (15 + 12):.0%} of keystrokes"
    for _ in range(3):
        window.editor.undo()  # Ctrl+Z (QTest's Ctrl+Z carries the text "z", which would count as a typed key)
    assert window.editor.toPlainText() == "Thank you very "
    assert (window.controller.accepted_chars, window.controller.accepts) == (0, 0)
    assert window.saved_label.text() == "Saved 0% of keystrokes"
    for _ in range(3):
        window.editor.redo()
    assert window.editor.toPlainText() == "Thank you very one one one "
    assert window.saved_label.text() == saved

    window.editor.undo()
    type_text(qtbot, window, "x")  # a new edit: the undone word can no longer come back
    window.editor.redo()
    assert window.editor.toPlainText() == "Thank you very one one x"
    assert (window.controller.accepted_chars, window.controller.accepts) == (8, 2)


def test_undoing_backspace_after_accepting_gives_the_savings_back_and_a_new_document_keeps_them(make_window, qtbot):
    window = make_window()
    type_then_press(qtbot, window, "hel")
    qtbot.keyClick(window.editor, Qt.Key.Key_Backspace)  # takes the accepted "a " back
    assert (window.controller.accepted_chars, window.controller.accepts) == (0, 0)
    window.editor.undo()
    assert window.editor.toPlainText() == "hela "
    assert (window.controller.accepted_chars, window.controller.accepts) == (2, 1)
    window.editor.undo()  # the acceptance itself
    assert window.editor.toPlainText() == "hel"
    assert (window.controller.accepted_chars, window.controller.accepts) == (0, 0)
    window.editor.redo()
    window.new_file()  # clears the undo stack: what was accepted stays counted, as what was typed does
    assert (window.controller.accepted_chars, window.controller.accepts) == (2, 1)


def test_typing_over_a_selection_is_one_undo_step(make_window, qtbot):
    window = make_window()
    window.editor.setPlainText("saved text\n")
    window.editor.document().setModified(False)
    window.editor.selectAll()
    type_text(qtbot, window, "Z")
    window.editor.undo()
    assert window.editor.toPlainText() == "saved text\n" and not window.editor.document().isModified()


def test_an_accepted_word_is_its_own_undo_step_without_auto_space(make_window, qtbot):
    window = make_window(settings=Settings(auto_space=False))
    type_then_press(qtbot, window, "Qu")
    type_text(qtbot, window, "s")
    assert window.editor.toPlainText() == "Quas"
    window.editor.undo()
    assert window.editor.toPlainText() == "Qua"


def test_backspace_after_other_typing_deletes_one_character(make_window, qtbot):
    window = make_window()
    type_then_press(qtbot, window, "hel")
    type_text(qtbot, window, "x")
    qtbot.keyClick(window.editor, Qt.Key.Key_Backspace)
    assert window.editor.toPlainText() == "hela "


def test_punctuation_after_an_accepted_word_takes_its_space_and_a_typed_space_is_absorbed(make_window, qtbot):
    window = make_window()
    type_then_press(qtbot, window, "hel")
    type_text(qtbot, window, ",")
    assert window.editor.toPlainText() == "hela, "
    type_text(qtbot, window, "x.")  # not after an accepted word: typed as is
    assert window.editor.toPlainText() == "hela, x."
    type_then_press(qtbot, window, " wo")
    type_text(qtbot, window, "  y")  # habit: a space after the accepted word is absorbed, a second one is the user's
    assert window.editor.toPlainText() == "hela, x. woa  y"
    type_then_press(qtbot, window, " ze")
    type_text(qtbot, window, ".  z")  # after the punctuation's own space too; a second space is the user's
    assert window.editor.toPlainText() == "hela, x. woa  y zea.  z"
    type_then_press(qtbot, window, " (mo")
    type_text(qtbot, window, ")")  # a closing bracket too
    assert window.editor.toPlainText().endswith("(moa) ")


def test_a_straight_double_quote_after_an_accepted_word_closes_an_open_quotation(make_window, qtbot):
    window = make_window()
    type_then_press(qtbot, window, '"He')
    type_text(qtbot, window, '"')
    assert window.editor.toPlainText() == '"Hea" '
    type_then_press(qtbot, window, "sa")
    type_text(qtbot, window, '"')  # none open: it opens one, after the space
    assert window.editor.toPlainText() == '"Hea" saa "'


def test_an_apostrophe_or_hyphen_after_an_accepted_word_joins_it_unless_a_space_was_typed_first(make_window, qtbot):
    # "Sarah 's car", "well -known": the added space stayed before them
    window = make_window()
    type_then_press(qtbot, window, "It was Sar")
    type_text(qtbot, window, "'")
    assert window.editor.toPlainText() == "It was Sara'"
    window.editor.undo()
    assert window.editor.toPlainText() == "It was Sara "  # the join is its own step
    window.editor.redo()
    type_text(qtbot, window, "s car")
    type_then_press(qtbot, window, ", a wel")
    type_text(qtbot, window, "-known")
    assert window.editor.toPlainText() == "It was Sara's car, a wela-known"
    type_then_press(qtbot, window, " one. She sa")
    type_text(qtbot, window, ",'")  # after punctuation it opens a quotation
    type_then_press(qtbot, window, "Go ho")
    type_text(qtbot, window, " -")  # a space typed first: a dash, not a compound
    assert window.editor.toPlainText().endswith("She saa, 'Go hoa -")
    type_then_press(qtbot, window, " Jo")
    for char in "\u2019s":  # a typographic apostrophe too (QTest types ASCII only)
        QApplication.sendEvent(window.editor, QKeyEvent(QEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, char))
    assert window.editor.toPlainText().endswith("Joa\u2019s")

    window.editor.setPlainText("the Sa meeting")  # completing a word in front of another: that space is the user's
    cursor = window.editor.textCursor()
    cursor.setPosition(len("the Sa"))
    window.editor.setTextCursor(cursor)
    wait_words(qtbot, window, ["Saa", "Sab", "Sac"])
    accepted = window.controller.accepted_chars
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    type_text(qtbot, window, "'s")
    assert window.editor.toPlainText() == "the Saa's meeting"  # not "Saa'smeeting"
    assert window.controller.accepted_chars == accepted + 1  # the "a"; no space of ours was taken back
    window.editor.undo()
    assert window.editor.toPlainText() == "the Saa meeting"  # the typing first, then the acceptance
    qtbot.keyClick(window.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.editor.toPlainText() == "the Sa meeting"

    window.editor.setPlainText("the Sa meeting")  # punctuation, then Enter, in front of the user's own space
    cursor = window.editor.textCursor()
    cursor.setPosition(len("the Sa"))
    window.editor.setTextCursor(cursor)
    qtbot.waitUntil(lambda: window.controller.up_to_date, timeout=5000)  # the same words as before: wait for fresh ones
    accepted = window.controller.accepted_chars
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    type_text(qtbot, window, ",")
    qtbot.keyClick(window.editor, Qt.Key.Key_Return)
    assert window.editor.toPlainText() == "the Saa,\nmeeting"
    assert window.controller.accepted_chars == accepted + 1  # Enter took the place of the user's space, not ours

    window.editor.setPlainText("")
    for char in "\u2018":  # a typographic quotation: ’ after punctuation closes it, as before the space
        QApplication.sendEvent(window.editor, QKeyEvent(QEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, char))
    type_then_press(qtbot, window, "Re")
    type_text(qtbot, window, "?")
    QApplication.sendEvent(window.editor, QKeyEvent(QEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, "\u2019"))
    assert window.editor.toPlainText() == "\u2018Rea?\u2019 "


def test_enter_right_after_accepting_takes_the_place_of_the_added_space(make_window, qtbot):
    window = make_window()
    type_then_press(qtbot, window, "Thank you very mu")
    qtbot.keyClick(window.editor, Qt.Key.Key_Return)
    assert window.editor.toPlainText() == "Thank you very mua\n"
    assert window.controller.typed_chars == len("Thank you very mu") + 1  # Enter is a keystroke of the user's
    type_text(qtbot, window, "Best")
    undone = []
    while window.editor.document().isUndoAvailable():
        window.editor.undo()
        undone.append(window.editor.toPlainText())
    assert undone[:3] == ["Thank you very mua\n", "Thank you very mua ", "Thank you very mu"]  # Enter, then the accept
    window.editor.setPlainText("")
    type_then_press(qtbot, window, "wo")
    type_text(qtbot, window, "?")
    qtbot.keyClick(window.editor, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)  # after punctuation's own space too
    type_then_press(qtbot, window, "ze")
    type_text(qtbot, window, " ")  # absorbed, and then the space is the user's own: Enter keeps it
    qtbot.keyClick(window.editor, Qt.Key.Key_Return)
    assert window.editor.toPlainText() == "woa?\nzea \n"


def test_backspace_over_a_selection_deletes_the_selection_not_the_acceptance(make_window, qtbot):
    window = make_window()
    type_text(qtbot, window, "it was ")
    type_then_press(qtbot, window, "hel")
    assert window.editor.toPlainText() == "it was hela "
    wait_words(qtbot, window, PREDICTIONS[:3])
    assert window.editor.ghost_text() == "one"
    qtbot.keyClick(window.editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.controller.up_to_date, timeout=5000)
    assert window.editor.ghost_text() == ""  # typing would replace the selection, not follow it
    qtbot.keyClick(window.editor, Qt.Key.Key_Backspace)
    assert window.editor.toPlainText() == ""


def test_no_suggestions_while_text_is_selected_so_tab_and_alt_keys_cannot_accept_beside_it(make_window, qtbot):
    window = make_window()
    type_text(qtbot, window, "it was ")
    wait_words(qtbot, window, PREDICTIONS[:3])
    window.editor.selectAll()
    wait_words(qtbot, window, [])
    assert window.editor.ghost_text() == ""
    qtbot.keyClick(window.editor, Qt.Key.Key_2, ACCEPT_MODIFIER)
    assert window.editor.toPlainText() == "it was " and window.editor.textCursor().hasSelection()
    window.editor.moveCursor(QTextCursor.MoveOperation.End)  # the selection goes: the suggestions come back
    wait_words(qtbot, window, PREDICTIONS[:3])
    window.editor.selectAll()
    wait_words(qtbot, window, [])
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)  # as any key would, it replaces the selection
    assert window.editor.toPlainText() == "\t"


def test_a_new_window_has_no_unsaved_changes(make_window):
    window = make_window()
    assert not window.editor.document().isModified()
    assert not window.isWindowModified()
    assert not window.editor.document().isUndoAvailable()


def test_no_space_is_added_before_existing_whitespace_or_with_auto_space_off(make_window, qtbot):
    window = make_window()
    window.editor.setPlainText("hel world")
    cursor = window.editor.textCursor()
    cursor.setPosition(3)
    window.editor.setTextCursor(cursor)
    wait_words(qtbot, window, ["hela", "helb", "helc"])  # suggestions follow the cursor
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "hela world"
    assert window.editor.textCursor().position() == len("hela ")

    window.editor.setPlainText("the ca, and")
    cursor.setPosition(len("the ca"))
    window.editor.setTextCursor(cursor)
    wait_words(qtbot, window, ["caa", "cab", "cac"])
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "the caa, and"  # no space before the comma that follows
    window.editor.setPlainText('"the ca"')
    cursor.setPosition(len('"the ca'))
    window.editor.setTextCursor(cursor)
    qtbot.waitUntil(lambda: window.controller.up_to_date, timeout=5000)  # the same words as before: wait for fresh ones
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == '"the caa"'  # nor before a closing quote

    window.settings.auto_space = False
    window.editor.setPlainText("")
    type_then_press(qtbot, window, "wo")
    assert window.editor.toPlainText() == "woa"
    qtbot.waitUntil(lambda: window.controller.up_to_date, timeout=5000)
    assert window.bar.words() == []  # "woa" is the word chosen: not "woaa", which a second Tab took
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "woa"  # nor a tab after it
    type_text(qtbot, window, " ")
    wait_words(qtbot, window, PREDICTIONS[:3])


def test_no_suggestions_inside_a_word(make_window, qtbot):
    window = make_window()
    type_text(qtbot, window, "we have carefully")
    wait_words(qtbot, window, ["carefullya", "carefullyb", "carefullyc"])
    cursor = window.editor.textCursor()
    cursor.setPosition(len("we have carefu"))
    window.editor.setTextCursor(cursor)
    qtbot.waitUntil(lambda: window.controller.up_to_date, timeout=5000)
    assert window.bar.words() == [] and window.editor.ghost_text() == ""  # "carefully lly" is no suggestion
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)  # nothing to accept: the key types a tab
    assert window.editor.toPlainText() == "we have carefu\tlly"
    window.editor.undo()
    cursor.setPosition(len("we have"))
    window.editor.setTextCursor(cursor)
    wait_words(qtbot, window, ["havea", "haveb", "havec"])  # before a space, as at a word's end
    window.editor.setPlainText("I said 'the ca' and the cat's")
    for typed, words in (("I said 'the ca", ["caa", "cab", "cac"]), ("I said 'the ca' and the ca", [])):
        cursor.setPosition(len(typed))  # before a closing quote a word ends; before "'s" it goes on
        window.editor.setTextCursor(cursor)
        qtbot.waitUntil(lambda: window.controller.up_to_date, timeout=5000)
        assert window.bar.words() == words


@pytest.mark.parametrize("auto_space", [True, False])
def test_a_new_word_typed_in_front_of_another_gets_suggestions(make_window, qtbot, auto_space):
    window = make_window()
    window.settings.auto_space = auto_space
    type_text(qtbot, window, "we have carefully")
    cursor = window.editor.textCursor()
    cursor.setPosition(len("we have "))
    window.editor.setTextCursor(cursor)
    wait_words(qtbot, window, PREDICTIONS[:3])  # the next word, from the text before the cursor
    type_text(qtbot, window, "al")  # "we have al|carefully": the new word's letters, not a word's inside
    wait_words(qtbot, window, ["ala", "alb", "alc"])
    qtbot.keyClick(window.editor, Qt.Key.Key_Left)
    qtbot.keyClick(window.editor, Qt.Key.Key_Left)
    wait_words(qtbot, window, PREDICTIONS[:3])  # at the new word's start: the word before it is predicted
    qtbot.keyClick(window.editor, Qt.Key.Key_Right)
    qtbot.keyClick(window.editor, Qt.Key.Key_Right)
    wait_words(qtbot, window, ["ala", "alb", "alc"])  # back at its end: still a new word
    qtbot.waitUntil(lambda: window.controller.up_to_date, timeout=5000)
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "we have ala carefully"  # kept apart, automatic spaces or not
    wait_words(qtbot, window, PREDICTIONS[:3])  # the next word again, in front of "carefully"
    qtbot.keyClick(window.editor, Qt.Key.Key_Backspace)  # taken back: the new word's letters, still a new word
    assert window.editor.toPlainText() == "we have alcarefully"
    wait_words(qtbot, window, ["ala", "alb", "alc"])
    qtbot.waitUntil(lambda: window.controller.up_to_date, timeout=5000)  # Tab on stale suggestions is swallowed
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    type_text(qtbot, window, "t")  # a second new word in front of the same one
    wait_words(qtbot, window, ["ta", "tb", "tc"])
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "we have ala ta carefully"
    cursor = window.editor.textCursor()
    cursor.setPosition(len("we have ala ta car"))  # moved into the next word: none
    window.editor.setTextCursor(cursor)
    qtbot.waitUntil(lambda: window.controller.up_to_date, timeout=5000)
    assert window.bar.words() == []
    cursor.setPosition(len("we have a"))  # back into the accepted word: none either
    window.editor.setTextCursor(cursor)
    qtbot.waitUntil(lambda: window.controller.up_to_date, timeout=5000)
    assert window.bar.words() == []


def test_escape_hides_the_suggestions_until_the_next_keystroke(make_window, qtbot):
    window = make_window()
    type_then_press(qtbot, window, "hel", Qt.Key.Key_Escape)
    assert window.bar.words() == [] and window.editor.ghost_text() == ""
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)  # nothing to accept: Tab types a tab
    assert window.editor.toPlainText() == "hel\t"
    wait_words(qtbot, window, ["one", "two", "three"])


def test_ctrl_space_brings_back_the_suggestions_escape_hid(make_window, qtbot):
    window = make_window()
    type_then_press(qtbot, window, "hel", Qt.Key.Key_Escape)
    assert window.bar.words() == []
    qtbot.keyClick(window.editor, Qt.Key.Key_Space, SHOW_MODIFIER)
    wait_words(qtbot, window, ["hela", "helb", "helc"])
    assert window.editor.toPlainText() == "hel" and window.editor.ghost_text() == "a"


def test_help_lists_the_keyboard_shortcuts(make_window, monkeypatch):
    window = make_window()
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: shown.append(text))
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    help_menu.actions()[0].trigger()
    assert all(key in shown[0] for key in ("Tab", f"{ACCEPT_MODIFIER_NAME}+1", "Esc", "Ctrl+Space"))
    for key in (f"{ACCEPT_MODIFIER_NAME}+1 accepts there", ". , ; : ! ? right after", '" right after', "' or - right after", "Enter right after"):
        assert key in shown[0]  # the keys that act differently at the start of a line or right after accepting
    assert "Enter / Shift+Enter in Find" in shown[0] and "The menus show the other keys" in shown[0]  # the list said neither


def test_the_shortcuts_list_as_many_alt_keys_as_there_are_suggestion_slots(make_window, monkeypatch):
    from foretype.app.settings_dialog import SettingsDialog

    window = make_window(settings=Settings(suggestions=3))
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: shown.append(text))
    window.show_shortcuts()
    assert f"<b>{ACCEPT_MODIFIER_NAME}+1 … {ACCEPT_MODIFIER_NAME}+3</b>" in shown[-1]
    monkeypatch.setattr(SettingsDialog, "exec", lambda dialog: dialog.suggestions.setValue(1) or 1)
    window.open_settings()
    window.show_shortcuts()
    assert f"<b>{ACCEPT_MODIFIER_NAME}+1</b>" in shown[-1]  # one slot: no range


def test_about_gives_the_version_model_licence_and_where_the_users_data_stays(make_window, monkeypatch):
    window = make_window()
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    next(a for a in help_menu.actions() if a.text() == "&About Foretype").trigger()
    licence = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["license"]
    assert f"Foretype {importlib.metadata.version('foretype')}:" in shown[0]
    assert "Model: fake (the default model, bundled with Foretype)" in shown[0] and f"Licence: {licence}" in shown[0]
    assert "nothing you type leaves it" in shown[0] and str(data_dir()) in shown[0] and str(config_dir()) in shown[0]

    def not_installed(name: str):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)  # run from a source checkout
    window.show_about()
    assert "Foretype unknown (not installed):" in shown[1]


def test_a_slow_model_never_blocks_typing_and_stale_results_are_never_shown(make_window, qtbot, monkeypatch):
    gate = threading.Event()
    gate.set()
    fake = FakePredictor(gate)
    window = make_window(loader=lambda path: fake)
    wait_words(qtbot, window, ["one", "two", "three"])
    gate.clear()
    fake.entered.clear()
    fake.texts.clear()
    shown, sent = [], []
    window.service.suggestions_ready.connect(lambda *_: shown.append(window.bar.words()))
    request = window.service.request
    monkeypatch.setattr(window.service, "request", lambda seq, text, *rest: sent.append(text) or request(seq, text, *rest))
    qtbot.keyClick(window.editor, "h")
    qtbot.waitUntil(fake.entered.is_set)  # the worker is now stuck predicting for "h"
    for i, char in enumerate("ello"):
        qtbot.keyClick(window.editor, char)
        assert window.editor.toPlainText() == "hello"[: i + 2]
        qtbot.waitUntil(lambda: sent[-1] == "hello"[: i + 2])  # the request went out, and typing goes on
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)  # the shown words are stale: nothing is inserted
    assert window.editor.toPlainText() == "hello"
    gate.set()
    wait_words(qtbot, window, ["helloa", "hellob", "helloc"])
    assert fake.texts == ["h", "hello"]  # the requests for "he" ... "hell" were dropped unseen
    assert shown[0] == ["one", "two", "three"]  # the answer for "h" arrived and was ignored
    assert ["ha", "hb", "hc"] not in shown


def test_open_and_save_round_trip(make_window, qtbot, tmp_path):
    window = make_window()
    path = tmp_path / "note.md"
    path.write_text("# Title\nfirst line\n", encoding="utf-8")
    path.chmod(0o644)  # saving keeps it
    assert window.open_file(path)
    assert window.editor.toPlainText() == "# Title\nfirst line\n"
    assert not window.isWindowModified()
    cursor = window.editor.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    window.editor.setTextCursor(cursor)
    type_text(qtbot, window, "second line")
    assert window.isWindowModified()
    assert window.save()
    assert path.read_text(encoding="utf-8") == "# Title\nfirst line\nsecond line"
    assert not window.isWindowModified()
    assert Settings.load().recent_files[0] == str(path.resolve())
    assert window.recent_menu.isEnabled() and window.recent_menu.actions()[0].text() == str(path.resolve())
    assert path.stat().st_mode & 0o777 == 0o644


def test_saving_over_a_file_changed_on_disk_since_asks_first(make_window, qtbot, tmp_path, monkeypatch):
    # two windows on one file, or another program writing it: the later save silently dropped the other's text
    path = tmp_path / "note.txt"
    path.write_text("one\n", encoding="utf-8")
    window, other = make_window(), make_window()
    assert window.open_file(path) and other.open_file(path)
    add_lines(other, "from the other window\n")
    assert other.save()
    add_lines(window, "two\n")
    asked = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Cancel)
    assert not window.save()
    assert "note.txt was changed on disk" in asked[0] and window.isWindowModified()
    assert path.read_text(encoding="utf-8") == "one\nfrom the other window\n"
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Save)
    assert window.save() and path.read_text(encoding="utf-8") == "one\ntwo\n"
    add_lines(window, "three\n")
    assert window.save() and len(asked) == 2  # its own last save is no change on disk


def test_the_same_bytes_written_again_are_no_change_on_disk(make_window, qtbot, tmp_path, monkeypatch):
    # a sync tool or another editor rewriting the file unchanged asked "changed on disk" and stopped the next save
    path = tmp_path / "note.txt"
    path.write_bytes(b"one\r\n")
    window = make_window()
    assert window.open_file(path)
    atomic_write(path, lambda f: f.write(b"one\r\n"))  # a new file, the same bytes
    window._on_file_changed()
    assert not window.info.isVisible()
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: pytest.fail(f"asked: {a[2]}"))
    add_lines(window, "two\n")
    assert window.save() and path.read_bytes() == b"one\r\ntwo\r\n"
    atomic_write(path, lambda f: f.write(b"one\r\ntwo\r\n"))  # after a save, its bytes
    add_lines(window, "three\n")
    assert window.save()

    atomic_write(path, lambda f: f.write(b"one\ntwo\nthree\n"))  # the same text in other line endings is a change
    qtbot.waitUntil(lambda: "note.txt was changed on disk" in window.info.label.text())


def test_a_file_changed_on_disk_is_offered_to_reload_and_reloading_is_undoable(make_window, qtbot, tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("one\n", encoding="utf-8")
    window = make_window()
    assert window.open_file(path)
    add_lines(window, "mine\n")
    assert window.save()  # our own save is no change on disk
    atomic_write(path, lambda f: f.write(b"one\nmine\ntheirs\n"))  # as most programs save: a new file renamed over
    qtbot.waitUntil(lambda: window.info.isVisible() and "note.txt was changed on disk" in window.info.label.text())
    assert "unsaved" not in window.info.label.text()
    qtbot.mouseClick(window.info.button("Reload"), Qt.MouseButton.LeftButton)
    assert window.editor.toPlainText() == "one\nmine\ntheirs\n" and not window.isWindowModified()
    window.editor.undo()
    assert window.editor.toPlainText() == "one\nmine\n" and window.isWindowModified()
    window.editor.redo()

    add_lines(window, "unsaved\n")
    path.write_text("rewritten in place\n", encoding="utf-8")  # the same file written again: still watched
    qtbot.waitUntil(lambda: window.info.isVisible() and "unsaved changes" in window.info.label.text())
    qtbot.mouseClick(window.info.button("Keep Mine"), Qt.MouseButton.LeftButton)
    assert window.editor.toPlainText().endswith("unsaved\n") and window.isWindowModified()
    path.unlink()
    qtbot.waitUntil(lambda: window.info.isVisible() and "was deleted or moved" in window.info.label.text())
    window.editor.document().setModified(False)  # closing would ask to save


def test_a_file_moved_away_and_written_again_is_still_followed_and_saving_a_deleted_one_asks_nothing(
        make_window, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "note.txt"
    path.write_text("one\n")
    leave_a_draft("lost")
    window = make_window()
    assert window.open_file(path)
    path.rename(tmp_path / "note.txt~")  # as editors that keep a backup save: move away, then write anew
    qtbot.waitUntil(lambda: "was deleted or moved" in window.info.label.text())
    path.write_text("one\nand theirs\n")
    qtbot.waitUntil(lambda: "note.txt was changed on disk" in window.info.label.text())
    qtbot.mouseClick(window.info.button("Keep Mine"), Qt.MouseButton.LeftButton)
    assert "closed without saving" in window.info.label.text()  # the draft offer the bar covered comes back
    path.unlink()
    qtbot.waitUntil(lambda: "was deleted or moved" in window.info.label.text())
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: pytest.fail("asked about a file that is gone"))
    add_lines(window, "two\n")
    assert window.save() and path.read_text() == "one\ntwo\n"


def test_a_file_deleted_on_disk_is_kept_as_unsaved_text(make_window, qtbot, tmp_path, monkeypatch):
    # an unedited document whose file another program deleted: quitting asked nothing and kept no draft
    path = tmp_path / "note.txt"
    path.write_text("only here now\n")
    window = make_window()
    assert window.open_file(path) and not window.isWindowModified()
    path.unlink()
    qtbot.waitUntil(lambda: "was deleted or moved" in window.info.label.text())
    assert window.isWindowModified()
    window.autosave()
    assert json.loads(draft_path().read_text())["text"] == "only here now\n"


def test_a_deleted_file_back_as_it_was_takes_the_unsaved_mark_back_unless_edited(make_window, qtbot, tmp_path):
    # moved away and back, or deleted and written with the same bytes: the document stayed "modified" for good
    path = tmp_path / "note.txt"
    path.write_text("one\n")
    window = make_window()
    assert window.open_file(path)
    path.rename(tmp_path / "away.txt")
    qtbot.waitUntil(window.isWindowModified)
    (tmp_path / "away.txt").rename(path)
    qtbot.waitUntil(lambda: not window.isWindowModified() and not window.info.isVisible())
    path.unlink()
    qtbot.waitUntil(window.isWindowModified)
    window.autosave()
    assert draft_path().exists()
    path.write_text("one\n")
    qtbot.waitUntil(lambda: not window.isWindowModified() and not window.info.isVisible())
    window._draft_written_at -= 10  # the next autosave, 3 s on
    window.autosave()
    assert not draft_path().exists()  # the draft of the deleted file's text went with the mark
    path.unlink()
    qtbot.waitUntil(window.isWindowModified)
    path.write_text("theirs\n")
    qtbot.waitUntil(lambda: "note.txt was changed on disk" in window.info.label.text())
    assert "unsaved" not in window.info.label.text()  # the user changed nothing: only the deletion marked it
    qtbot.mouseClick(window.info.button("Reload"), Qt.MouseButton.LeftButton)
    path.unlink()
    qtbot.waitUntil(window.isWindowModified)
    add_lines(window, "mine\n")
    path.write_text("theirs\n")  # back, but the text here was edited meanwhile: still unsaved
    qtbot.waitUntil(lambda: not window.info.isVisible())
    assert window.isWindowModified()


def test_a_long_documents_draft_is_written_less_often(make_window, qtbot):
    # 4.7 MB rewritten every 3 s while typing: 96 MB of disk writes a minute
    window = make_window()
    add_lines(window, "word " * 200_000)  # a million characters: every 10 s
    window.autosave()
    assert len(json.loads(draft_path().read_text())["text"]) == 1_000_000
    add_lines(window, "more")
    window.autosave()
    assert len(json.loads(draft_path().read_text())["text"]) == 1_000_000  # 3 s later: not yet
    window._draft_written_at -= 10
    window.autosave()
    assert json.loads(draft_path().read_text())["text"].endswith("word more")


def test_a_restored_draft_is_checked_against_the_file_as_it_was_read(make_window, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "note.txt"
    window = make_window()
    leave_a_crash_draft(window, path, b"one\n", "two\n")
    window.new_file()
    path.write_text("written after the crash\n", encoding="utf-8")
    window.restore_draft()
    assert "note.txt was changed on disk" in window.info.label.text()  # said now, not at some later change in its folder
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    assert not window.save() and path.read_text(encoding="utf-8") == "written after the crash\n"
    window.editor.document().setModified(False)  # closing would ask again


def test_an_autosaved_draft_is_offered_back_after_a_crash(make_window, qtbot, monkeypatch):
    monkeypatch.setattr(window_module, "AUTOSAVE_MS", 10)
    assert run_a_copy_that_crashes("Do not lose me") == 1
    assert json.loads(draft_path().read_text())["text"] == "Do not lose me"
    assert draft_lock_path().exists()  # its process is gone: a stale lock, which blocks nothing

    window = make_window()
    assert window.draft_slot == 1
    assert window.info.isVisible()
    assert "closed without saving" in window.info.label.text()
    type_text(qtbot, window, "new text")  # autosaved on its own: the offered draft is not overwritten
    qtbot.waitUntil(lambda: draft_path().is_file() and json.loads(draft_path().read_text())["text"] == "new text")
    qtbot.mouseClick(window.info.button("Restore"), Qt.MouseButton.LeftButton)
    assert window.editor.toPlainText() == "Do not lose me"
    assert window.editor.textCursor().position() == len("Do not lose me")  # where the writing goes on
    window.editor.undo()
    assert window.editor.toPlainText() == "new text"  # typed before restoring: not lost
    window.editor.redo()
    assert window.isWindowModified()
    assert not window.info.isVisible()
    assert not previous_draft_path().exists()


def test_a_restored_draft_keeps_its_files_line_endings_and_bom(make_window, qtbot, tmp_path):
    path = tmp_path / "windows.txt"
    window = make_window()
    leave_a_crash_draft(window, path, b"\xef\xbb\xbfone\r\n", "two\n")
    window.new_file()  # an untitled document with plain newlines
    window.restore_draft()
    assert window.path == path and window.save()
    assert path.read_bytes() == b"\xef\xbb\xbfone\r\ntwo\r\n"


def test_running_copies_keep_their_own_drafts_and_the_next_start_restores_a_crashed_one(make_window, qtbot, monkeypatch):
    monkeypatch.setattr(window_module, "AUTOSAVE_MS", 10)
    first = make_window()
    type_text(qtbot, first, "first copy")
    qtbot.waitUntil(draft_path().is_file)
    second = make_window()
    assert second.draft_slot == 2 and not second.info.isVisible()  # the first copy's live draft is not offered
    type_text(qtbot, second, "second copy")
    qtbot.waitUntil(draft_path(2).is_file)
    assert json.loads(draft_path().read_text())["text"] == "first copy"
    second.close()  # it discards its own draft only
    assert not draft_path(2).exists() and json.loads(draft_path().read_text())["text"] == "first copy"

    assert run_a_copy_that_crashes("crashed copy") == 2  # slot 1 is the first copy's, still running
    first.close()
    third = make_window()  # slot 1 is free now, but the crashed copy's draft is in slot 2: that slot comes first
    assert third.draft_slot == 2 and "closed without saving" in third.info.label.text()
    qtbot.mouseClick(third.info.button("Restore"), Qt.MouseButton.LeftButton)
    assert third.editor.toPlainText() == "crashed copy"


def test_a_draft_offer_left_open_is_made_again_next_time(make_window, qtbot):
    leave_a_draft("old")
    first = make_window()
    assert first.info.isVisible()
    first.close()
    second = make_window()
    assert second.info.isVisible()
    qtbot.mouseClick(second.info.button("Discard"), Qt.MouseButton.LeftButton)
    assert not previous_draft_path().exists() and second.editor.toPlainText() == ""


def test_a_draft_offer_says_once_there_is_text_that_restoring_replaces_it_and_undo_brings_it_back(make_window, qtbot):
    leave_a_draft("lost")
    window = make_window()
    assert "replaces" not in window.info.label.text()  # nothing to replace yet
    type_text(qtbot, window, "typed since")
    assert window.info.label.text().endswith("Restore that text? It replaces the current text (Ctrl+Z brings that back).")
    qtbot.mouseClick(window.info.button("Restore"), Qt.MouseButton.LeftButton)
    assert window.editor.toPlainText() == "lost"
    qtbot.keyClick(window.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.editor.toPlainText() == "typed since"


def test_a_draft_offer_left_unanswered_is_not_replaced_when_the_app_is_killed_again(make_window, qtbot):
    # each copy ignores the offer of the drafts before, types, and is killed
    for text in ("first lost", "second lost", "third lost"):
        assert run_a_copy_that_crashes(text) == 1
    window = make_window()
    for text in ("first lost", "second lost", "third lost"):  # offered oldest first, the next once one is answered
        assert "closed without saving an untitled document" in window.info.label.text()
        qtbot.mouseClick(window.info.button("Restore"), Qt.MouseButton.LeftButton)
        assert window.editor.toPlainText() == text
    assert not window.info.isVisible() and list(data_dir().glob("draft*-previous*.json")) == []
    window.editor.undo()
    assert window.editor.toPlainText() == "second lost"


def test_a_draft_offer_is_worded_for_the_file_opened_at_start(make_window, tmp_path):
    # `foretype f.txt` with an untitled draft waiting: the offer promised that Ctrl+Z would bring f.txt back
    path = tmp_path / "f.txt"
    path.write_text("f\n")
    leave_a_draft("untitled notes")
    window = make_window()
    assert window.open_file(path)
    assert window.info.label.text().endswith("It replaces the document open now, as opening a file does.")


def test_a_draft_of_another_file_replaces_the_document_as_opening_does_never_undoably(make_window, qtbot, tmp_path, monkeypatch):
    # undoing such a restore gave back g's text under f's name: Ctrl+S then wrote it into f.txt
    f, g = tmp_path / "f.txt", tmp_path / "g.txt"
    f.write_text("f as saved\n")
    g.write_text("g as saved\n")
    leave_a_draft("f as typed\n", str(f), disk=window_module.disk_state(f))
    window = make_window()
    assert window.open_file(g)
    assert window.info.label.text().endswith("It replaces the document open now, as opening a file does.")
    add_lines(window, "more of g\n")
    asked = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Cancel)
    qtbot.mouseClick(window.info.button("Restore"), Qt.MouseButton.LeftButton)
    assert asked == ["Save the changes to g.txt?"] and window.path == g and window.info.isVisible()  # cancelled: offered still
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)
    qtbot.mouseClick(window.info.button("Restore"), Qt.MouseButton.LeftButton)
    assert window.path == f and window.editor.toPlainText() == "f as typed\n" and window.isWindowModified()
    assert not window.editor.document().isUndoAvailable()
    assert window.save() and f.read_text() == "f as typed\n" and g.read_text() == "g as saved\n"


def test_waiting_drafts_are_told_apart_and_one_unreadable_now_is_kept(make_window, qtbot):
    for text in ("Dear Anna, the garden is lovely this year and the roses are out", "second"):
        assert run_a_copy_that_crashes(text) == 1
    window = make_window()
    assert "“Dear Anna, the garden is lovely this year and the roses are…” (1 of 2). Restore that text?" in window.info.label.text()
    qtbot.mouseClick(window.info.button("Discard"), Qt.MouseButton.LeftButton)
    assert "“second”. Restore that text?" in window.info.label.text() and "of 2" not in window.info.label.text()
    qtbot.mouseClick(window.info.button("Discard"), Qt.MouseButton.LeftButton)
    window.close()

    previous_draft_path().mkdir()  # reading it fails with a disk error, not as a broken draft
    other = make_window()
    assert "Could not read the text Foretype kept after a crash" in other.info.label.text() and previous_draft_path().is_dir()


def test_a_message_shown_over_another_hides_the_old_buttons_at_once(qtbot):
    # they waited for the event loop to be deleted: where it had not run (a modal dialog's loop, a script), the bar
    # showed Restore | Discard | Reload | Keep Mine
    info = window_module.InfoBar()
    qtbot.addWidget(info)
    info.show_message("Restore that text?", {"&Restore": None, "&Discard": None})
    old = info.findChildren(QPushButton)
    info.show_message("note.txt was changed on disk.", {"&Reload": None, "&Keep Mine": None})
    assert all(b.isHidden() and b.testAttribute(Qt.WidgetAttribute.WA_WState_ExplicitShowHide) for b in old)


def test_a_waiting_draft_after_a_gap_is_still_offered(make_window, qtbot):
    # a move that failed halfway left place 1 empty: the drafts after it were never offered again
    waiting = window_module.waiting_draft_path(1, 2)
    waiting.parent.mkdir(parents=True)
    waiting.write_text(json.dumps({"text": "after a gap", "path": "", "time": 0}))
    assert window_module.draft_slots_on_disk() == [1]
    window = make_window()
    qtbot.mouseClick(window.info.button("Restore"), Qt.MouseButton.LeftButton)
    assert window.editor.toPlainText() == "after a gap" and not waiting.exists()


def test_a_restored_draft_of_a_windows_1252_file_is_unsaved_text_when_closing(make_window, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "menu.txt"
    window = make_window()
    leave_a_crash_draft(window, path, b"caf\xe9\n", "tart\n")
    window.new_file()
    window.restore_draft()
    assert window.file_note.text() == "Read menu.txt as Windows-1252; it will be saved as UTF-8."  # still so
    asked = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Cancel)
    assert not window.maybe_save() and asked == ["Save the changes to menu.txt?"]  # not "you have not changed it"
    window.editor.document().setModified(False)


def test_a_failed_save_while_restoring_a_draft_keeps_its_message(make_window, qtbot, tmp_path, monkeypatch):
    leave_a_draft("lost", str(tmp_path / "other.txt"))
    window = make_window()
    add_lines(window, "typed\n")
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Save)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("/proc/untitled.txt", ""))
    qtbot.mouseClick(window.info.button("Restore"), Qt.MouseButton.LeftButton)
    assert window.info.label.text().startswith("Could not save /proc/untitled.txt")  # not covered by the offer again
    assert window.editor.toPlainText() == "typed\n"
    window.editor.document().setModified(False)


def test_a_broken_waiting_draft_gives_its_place_to_the_next(make_window, qtbot):
    previous_draft_path().parent.mkdir(parents=True)
    previous_draft_path().write_text("{not json")
    draft_path().write_text(json.dumps({"text": "lost", "path": "", "time": 0}))
    window = make_window()
    qtbot.mouseClick(window.info.button("Restore"), Qt.MouseButton.LeftButton)
    assert window.editor.toPlainText() == "lost" and not previous_draft_path().exists()


def test_saving_through_a_symlink_writes_the_linked_file(make_window, qtbot, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "notes.txt").write_text("Original notes.")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real" / "notes.txt")
    window = make_window()
    assert window.open_file(tmp_path / "link.txt")
    window.editor.moveCursor(QTextCursor.MoveOperation.End)
    type_text(qtbot, window, " More.")
    assert window.save()
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "real" / "notes.txt").read_text() == "Original notes. More."


def test_a_file_opened_through_a_symlink_is_followed_when_its_target_is_written_anew(make_window, qtbot, tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "notes.txt"
    target.write_text("one\n")
    (tmp_path / "link.txt").symlink_to(target)
    window = make_window()
    assert window.open_file(tmp_path / "link.txt")
    target.rename(tmp_path / "real" / "notes.txt~")
    target.write_text("one\nand theirs\n")
    qtbot.waitUntil(lambda: "link.txt was changed on disk" in window.info.label.text())


def test_a_saved_document_leaves_no_draft(make_window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(window_module, "AUTOSAVE_MS", 10)
    window = make_window()
    type_text(qtbot, window, "kept")
    qtbot.waitUntil(draft_path().is_file)
    assert window.save_to(tmp_path / "kept.txt")
    assert not draft_path().exists()


def test_save_as_renames_the_window_and_adds_txt_to_a_bare_name(make_window, qtbot, tmp_path, monkeypatch):
    chosen = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / chosen[-1]), window_module.TEXT_FILTER))
    window = make_window()
    type_text(qtbot, window, "Dear Anna")
    chosen.append("letter.txt")
    assert window.save_as() and window.windowTitle().startswith("letter.txt")
    chosen.append("letter2")
    assert window.save_as()
    assert (tmp_path / "letter2.txt").read_text() == "Dear Anna"
    assert window.windowTitle().startswith("letter2.txt") and not window.isWindowModified()

    (tmp_path / "kept.txt").write_text("someone else's")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    chosen.append("kept")  # the dialog did not ask about kept.txt: Save As does, and No keeps it
    assert not window.save_as()
    assert (tmp_path / "kept.txt").read_text() == "someone else's"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert window.save_as() and (tmp_path / "kept.txt").read_text() == "Dear Anna"
    chosen.append("notes.v2")
    assert window.save_as() and (tmp_path / "notes.v2.txt").exists()


def test_a_windows_1252_file_opens_as_modified_and_saves_as_utf8_only_when_saved(make_window, tmp_path, monkeypatch):
    path = tmp_path / "menu.txt"
    path.write_bytes(b"caf\xe9 cr\xe8me \x93br\xfbl\xe9e\x94\r\n")
    window = make_window()
    assert window.open_file(path)
    assert window.editor.toPlainText() == "café crème “brûlée”\n"
    assert window.file_note.text() == "Read menu.txt as Windows-1252; it will be saved as UTF-8."
    window.statusBar().clearMessage()  # "Loaded fake" covers the note for a few seconds
    assert window.file_note.isVisible() and not window.info.isVisible()
    assert window.isWindowModified() and window.windowTitle() == "menu.txt[*] — Foretype"
    assert path.read_bytes() == b"caf\xe9 cr\xe8me \x93br\xfbl\xe9e\x94\r\n"  # nothing written before Save
    asked = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Cancel)
    assert not window.maybe_save()  # "Save the changes?" read as if the user had made some
    assert asked == ["menu.txt was read as Windows-1252 and you have not changed it. Save it as UTF-8? "
                     "(Discard leaves the file as it is.)"]
    add_lines(window, "tart\n")
    assert not window.maybe_save() and asked[1] == "Save the changes to menu.txt?"
    window.editor.undo()
    assert not window.maybe_save() and asked[2] == asked[0]  # back to the text as read
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)
    assert window.save()
    assert path.read_text(encoding="utf-8") == "café crème “brûlée”\n"
    assert not window.isWindowModified() and window.file_note.text() == ""

    undefined = tmp_path / "odd.txt"  # 0x81 is undefined in Windows-1252: read as Latin-1 reads it, the quotes still curly
    undefined.write_bytes(b"\x81\x93caf\xe9\x94")
    assert window.open_file(undefined) and window.editor.toPlainText() == "\x81“café”"
    assert window.file_note.text() == "Read odd.txt as Windows-1252; it will be saved as UTF-8."
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbfcaf\xc3\xa9")
    assert window.open_file(bom) and window.editor.toPlainText() == "café"
    assert not window.isWindowModified() and window.file_note.text() == ""
    notepad = tmp_path / "unicode.txt"  # Notepad's old "Unicode": UTF-16 with a byte-order mark, full of NUL bytes
    notepad.write_bytes("caf\u00e9\r\n".encode("utf-16"))
    assert window.open_file(notepad) and window.editor.toPlainText() == "café\n"
    assert window.file_note.text() == "Read unicode.txt as UTF-16; it will be saved as UTF-8."

    png = tmp_path / "logo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert not window.open_file(png)
    assert window.info.label.text() == f"Could not open {png}: it is not a text file (it has NUL bytes)"
    assert window.path == notepad  # the open document stays


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc, a folder that refuses new files even to root")
def test_saving_where_the_folder_refuses_new_files_says_so_and_loses_nothing(make_window, qtbot, monkeypatch):
    monkeypatch.setattr(window_module, "AUTOSAVE_MS", 10)
    window = make_window()
    type_text(qtbot, window, "Keep me")
    qtbot.waitUntil(draft_path().is_file)
    assert not window.save_to(Path("/proc/notes.txt"))  # the kernel answers "no such file" for the temporary file
    assert window.info.label.text().startswith("Could not save /proc/notes.txt: cannot create files in /proc (")
    assert window.isWindowModified() and window.path is None and draft_path().is_file()


def test_saving_into_a_folder_without_write_permission_names_the_folder(make_window, tmp_path, monkeypatch):
    path = tmp_path / "notes.txt"
    path.write_text("Saved before.")
    window = make_window()
    assert window.open_file(path)
    window.editor.insertPlainText("Changed. ")

    def refuse(prefix: str, suffix: str, dir: Path):  # mkstemp in a folder the user may not write to; root may, so simulated
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dir / f"{prefix}x1y2{suffix}"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    assert not window.save()
    assert window.info.label.text() == (f"Could not save {path}: cannot create files in {tmp_path} (permission denied); "
                                        "the file on disk is unchanged")
    assert window.isWindowModified() and path.read_text() == "Saved before."


def test_saving_to_a_pipe_or_device_leaves_it_in_place_and_opening_one_is_refused(make_window, tmp_path):
    # renamed over, /dev/full became a regular file (a pipe stands in for it here: a failing test must not break /dev)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    window = make_window()
    window.editor.insertPlainText("Some text. ")
    assert not window.save_to(pipe)
    assert pipe.is_fifo() and "not a file" in window.info.label.text()
    assert window.isWindowModified()
    assert not window.open_file(os.devnull) and window.path is None  # reading /dev/zero or a pipe would never end
    assert "not a file" in window.info.label.text()
    too_long = tmp_path / ("a" * 300 + ".txt")  # checking what it is raises: the message must still come
    assert not window.save_to(too_long) and "name too long" in window.info.label.text()


def test_the_latency_label_has_room_for_its_figure(make_window):
    label = make_window().latency_label
    assert label.minimumWidth() >= label.fontMetrics().horizontalAdvance("999 ms")


def test_a_full_disk_leaves_the_saved_file_as_it_was_and_says_why(make_window, tmp_path, monkeypatch):
    (tmp_path / "docs").mkdir()
    path = tmp_path / "docs" / "notes.txt"
    path.write_text("Saved before.")
    window = make_window()
    assert window.open_file(path)
    window.editor.insertPlainText("A longer text that does not fit. ")

    def write_until_full(f) -> None:
        f.write(b"A longer")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as the OS raises it

    monkeypatch.setattr(window_module, "atomic_write", lambda target, write, mode: atomic_write(target, write_until_full, mode))
    assert not window.save()
    assert window.info.label.text() == f"Could not save {path}: no space left on device; the file on disk is unchanged"
    assert path.read_text() == "Saved before." and os.listdir(tmp_path / "docs") == ["notes.txt"]  # no temporary file left
    assert window.isWindowModified()


def test_a_failed_save_offers_save_as_and_on_quitting_says_the_window_stays_open(make_window, qtbot, tmp_path, monkeypatch):
    (tmp_path / "folder").mkdir()
    window = make_window()
    type_text(qtbot, window, "Keep me")
    assert not window.save_to(tmp_path / "folder")
    assert "stays open" not in window.info.label.text()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "kept.txt"), window_module.TEXT_FILTER))
    qtbot.mouseClick(window.info.button("Save As…"), Qt.MouseButton.LeftButton)
    assert (tmp_path / "kept.txt").read_text() == "Keep me" and not window.isWindowModified()

    type_text(qtbot, window, " and me")

    def full_disk(target, write, mode):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(window_module, "atomic_write", full_disk)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Save)  # save on quitting
    assert not window.close() and window.isVisible()
    assert window.info.label.text().endswith("unchanged. The window stays open because your text is not saved.")
    assert window.info.button("Save As…").isVisible()
    assert not window.save() and "stays open" not in window.info.label.text()  # not quitting this time
    window.editor.document().setModified(False)  # closing would ask again


def test_a_successful_open_new_or_save_takes_down_an_earlier_file_error_only(make_window, tmp_path):
    (tmp_path / "a.txt").write_text("A")
    window = make_window()
    assert not window.open_file(tmp_path / "missing.txt")
    assert window.info.isVisible()
    assert window.open_file(tmp_path / "a.txt") and not window.info.isVisible()
    (tmp_path / "folder").mkdir()
    assert not window.save_to(tmp_path / "folder")
    assert window.info.isVisible()
    window.new_file()
    assert not window.info.isVisible()
    assert not window.open_file(tmp_path / "missing.txt")
    assert window.save_to(tmp_path / "b.txt") and not window.info.isVisible()
    window.info.show_message("Suggestions are off until a model is chosen in Settings.")  # not about the file
    window.new_file()
    assert window.info.isVisible()


def test_open_recent_lists_files_that_exist_and_forgets_one_found_gone(make_window, tmp_path):
    kept, unplugged, deleted = (str(tmp_path / name) for name in ("kept.txt", "unplugged.txt", "deleted.txt"))
    Path(kept).write_text("kept")
    Path(deleted).write_text("deleted soon")
    window = make_window(settings=Settings(recent_files=[deleted, unplugged, kept]))
    assert [a.text() for a in window.recent_menu.actions()] == [deleted, kept]
    choice = window.recent_menu.actions()[0]
    os.remove(deleted)  # after the menu was filled
    choice.trigger()
    assert window.info.label.text() == f"Could not open {deleted}: no such file or directory"
    assert Settings.load().recent_files == [unplugged, kept]  # never chosen: its drive may come back
    assert [a.text() for a in window.recent_menu.actions()] == [kept]
    os.remove(kept)
    window.recent_menu.aboutToShow.emit()
    assert window.recent_menu.actions() == [] and not window.recent_menu.isEnabled()


def test_open_recent_shows_an_ampersand_in_a_path_and_opens_the_file(make_window, tmp_path):
    path = tmp_path / "Tom & Jerry" / "a&b.txt"
    path.parent.mkdir()
    path.write_text("cartoon")
    window = make_window(settings=Settings(recent_files=[str(path)]))
    choice = window.recent_menu.actions()[0]
    assert choice.iconText() == str(path)  # the text as shown, without the & of Alt keys: was "Tom _Jerry/ab.txt"
    choice.trigger()
    assert window.path == path and window.editor.toPlainText() == "cartoon"


def test_a_new_file_named_on_the_command_line_joins_the_recent_files_once_saved(make_window, qtbot, tmp_path):
    path = tmp_path / "new.txt"
    window = make_window()
    assert window.open_file(path, missing_ok=True) and window.path == path
    assert Settings.load().recent_files == []  # a mistyped name, never saved, would stay on the list unseen
    type_text(qtbot, window, "first words")
    assert window.save()
    assert Settings.load().recent_files == [str(path.resolve())]


def test_a_broken_model_file_gives_a_message_and_falls_back_to_the_default(qtbot, tmp_path, tiny_model_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a model")
    window = MainWindow(Settings(), model_override=str(broken),
                        loader=lambda path: load_predictor(path if path is not None else tiny_model_path))
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignals([window.service.model_failed, window.service.model_ready], timeout=20000):
        window.start()
    assert window.info.isVisible()
    assert "broken.pt" in window.info.label.text() and "Falling back to the default model" in window.info.label.text()
    assert window.model_label.text() == f"Model: {tiny_model_path.stem}"
    type_text(qtbot, window, "I like the ")
    qtbot.waitUntil(lambda: window.controller.up_to_date, timeout=10000)
    fallback = load_predictor(tiny_model_path)
    fallback.set_text("I like the ")
    assert window.bar.words() == [s.word for s in fallback.suggest(window.settings.suggestions)] != []
    window.close()


def test_a_model_error_is_taken_down_once_a_chosen_model_loads(make_window, qtbot):
    def loader(path):
        if path is not None:
            raise ForetypeError(f"cannot read {path}")
        return FakePredictor()

    window = make_window(loader=loader, model="broken.pt")  # fails, and the default stands in: the error stays
    qtbot.waitUntil(lambda: "broken.pt" in window.info.label.text())
    assert window.info.isVisible()
    with qtbot.waitSignal(window.service.model_ready):
        window.switch_model("default")
    assert not window.info.isVisible()


def test_without_any_model_the_editor_works_and_says_why(qtbot):
    def no_model(path):
        raise ForetypeError("model file not found: default.pt")

    window = MainWindow(Settings(), loader=no_model)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.service.model_failed):
        window.start()
    assert "Suggestions are off" in window.info.label.text()
    type_text(qtbot, window, "still typing")
    assert window.editor.toPlainText() == "still typing"
    window.close()
    assert not window.service.isRunning()


def test_number_of_suggestions_follows_the_settings(make_window, qtbot):
    window = make_window(settings=Settings(suggestions=5))
    type_text(qtbot, window, "a ")
    wait_words(qtbot, window, PREDICTIONS)  # five slots, all filled
    qtbot.keyClick(window.editor, Qt.Key.Key_5, ACCEPT_MODIFIER)
    assert window.editor.toPlainText() == "a five "


def test_long_suggestions_never_widen_the_window(make_window, qtbot):
    window = make_window()
    width = window.width()
    long_word = "Pneumonoultramicroscopicsilicovolcanoconiosis" + "x" * 15  # 60 letters
    type_text(qtbot, window, long_word)
    wait_words(qtbot, window, [long_word + c for c in "abc"])
    # laid out for the new words: the window's minimum width takes the bar's in, a few event-loop turns later
    qtbot.waitUntil(lambda: window.minimumSizeHint().width() >= window.bar.minimumSizeHint().width())
    assert window.width() == width
    assert window.minimumSizeHint().width() < 500 and window.minimumWidth() == MIN_WINDOW_WIDTH
    assert window.bar.words() == [long_word + c for c in "abc"]
    assert all(button.text().endswith("\u2026") for button in window.bar._buttons)  # shown elided
    tooltip = window.bar._buttons[0].toolTip()
    assert tooltip.startswith(long_word + "a (") and tooltip.endswith(" or Tab)")  # the whole word, and its keys


def test_settings_round_trip_and_broken_files_give_defaults(tmp_path):
    path = tmp_path / "settings.json"
    Settings(suggestions=4, ghost_text=False, model="file", model_file="/m.pt").save(path)
    loaded = Settings.load(path)
    assert (loaded.suggestions, loaded.ghost_text, loaded.model, str(loaded.model_path())) == (4, False, "file", "/m.pt")
    path.write_text(json.dumps({"suggestions": 99, "model": "cloud", "auto_space": "yes"}))
    odd = Settings.load(path)
    assert (odd.suggestions, odd.model, odd.auto_space) == (5, "personal", True)
    path.write_text("{ not json")
    assert Settings.load(path) == Settings()
    assert Settings().model_path() is None  # no personal model yet: the bundled one


def test_foretype_with_a_file_opens_it_in_the_app_and_a_mistyped_command_stays_an_error(tmp_path):
    from foretype.app.cli import opens_a_file

    (tmp_path / "README").write_text("notes")
    assert opens_a_file(["letter.txt"]) and opens_a_file(["new-notes.md"])  # a text file's name, even a new one
    assert opens_a_file([str(tmp_path / "README")])  # an existing file of any name
    assert not opens_a_file(["sugest", "hello"]) and not opens_a_file(["suggest", "a.txt"]) and not opens_a_file(["--help"])


def test_foretype_file_runs_the_app_on_it(monkeypatch):
    from types import SimpleNamespace

    from foretype.app import cli

    ran = []
    monkeypatch.setattr(cli.importlib, "import_module", lambda name: SimpleNamespace(run=lambda args: ran.append((name, args)) or 0))
    assert cli.main(["letter.txt", "--model", "m.pt"]) == 0
    assert ran[0][0] == cli.COMMANDS["app"] and (ran[0][1].file, ran[0][1].model) == ("letter.txt", "m.pt")


def test_qt_calls_keep_their_references_to_none(qtbot):
    """PySide6 6.12.0 on Python 3.11 lost one per call that returns nothing: the app died after ~6,000 keystrokes."""
    from PySide6.QtWidgets import QPlainTextEdit

    editor = QPlainTextEdit()
    qtbot.addWidget(editor)
    cursor = editor.textCursor()
    before = sys.getrefcount(None)
    for _ in range(2000):
        cursor.insertText("a")
    assert sys.getrefcount(None) - before > -100


def test_the_app_module_imports_without_torch():
    code = "import sys, foretype.app.main; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_settings_dialog_changes_apply_at_once_and_persist(make_window, qtbot, tmp_path, monkeypatch, tiny_model_path):
    from foretype.app.settings_dialog import SettingsDialog

    loaded = []
    window = make_window(loader=lambda path: loaded.append(path) or FakePredictor())

    def choose(dialog: SettingsDialog) -> int:
        shortcuts = [label for label in dialog.findChildren(QLabel) if "&" in label.text()]
        assert len(shortcuts) == 4 and all(label.buddy() is not None for label in shortcuts)  # else "&" is drawn
        letters = [label.text()[label.text().index("&") + 1].lower() for label in shortcuts]
        assert len(set(letters)) == len(letters)  # each Alt+letter goes to one field
        dialog.suggestions.setValue(2)
        dialog.ghost_text.setChecked(False)
        dialog.model.setCurrentIndex(dialog.model.findData("file"))
        dialog.model_file.setText(str(tiny_model_path))
        return 1

    monkeypatch.setattr(SettingsDialog, "exec", choose)
    with qtbot.waitSignal(window.service.model_ready):
        window.open_settings()
    assert loaded[-1] == tiny_model_path  # switched without a restart
    type_text(qtbot, window, "hel")
    wait_words(qtbot, window, ["hela", "helb"])
    assert window.editor.ghost_text() == ""
    saved = Settings.load()
    assert (saved.suggestions, saved.ghost_text, saved.model, saved.model_file) == (2, False, "file", str(tiny_model_path))


def test_settings_dialog_takes_a_typed_path_as_the_choice_and_refuses_a_file_choice_without_one(qtbot):
    from PySide6.QtGui import QFont

    from foretype.app.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(), QFont())
    qtbot.addWidget(dialog)
    assert dialog.model.currentData() == "personal" and dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.model_file, "/models/mine.pt")
    assert dialog.model.currentData() == "file"
    dialog.model_file.selectAll()
    qtbot.keyClick(dialog.model_file, Qt.Key.Key_Delete)
    assert dialog.model.currentData() == "file" and not dialog.ok_button.isEnabled()  # else the default loads, unsaid
    dialog.model.setCurrentIndex(dialog.model.findData("default"))
    assert dialog.ok_button.isEnabled()


def test_find_wraps_around_and_zoom_changes_the_font(make_window, qtbot):
    window = make_window()
    window.editor.setPlainText("one two one")
    window.find_bar.open_bar()
    qtbot.keyClicks(window.find_bar.field, "one")
    assert window.editor.textCursor().selectionStart() == 0
    qtbot.keyClick(window.find_bar.field, Qt.Key.Key_Return)
    assert window.editor.textCursor().selectionStart() == 8
    qtbot.keyClick(window.find_bar.field, Qt.Key.Key_Return)  # wraps to the first
    assert window.editor.textCursor().selectionStart() == 0
    qtbot.keyClick(window.find_bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)  # back, wrapping
    assert window.editor.textCursor().selectionStart() == 8
    window.find_bar.field.clear()
    qtbot.keyClicks(window.find_bar.field, "zebra")  # no match: the cursor stays, and the bar says so
    assert window.editor.textCursor().position() == len("one two one")
    assert window.find_bar.status.text() == "Not found"
    window.find_bar.open_bar()
    assert window.find_bar.status.text() == ""  # reopened: the old answer is gone
    window.find_bar.field.clear()
    qtbot.keyClicks(window.find_bar.field, "two")
    assert window.editor.textCursor().selectedText() == "two" and window.find_bar.status.text() == ""
    qtbot.keyClick(window.find_bar.field, Qt.Key.Key_Escape)
    assert not window.find_bar.isVisible()
    size = window.editor.font().pointSize()
    assert window.bar._buttons[0].font().pointSize() == size
    window.zoom(2)
    assert window.editor.font().pointSize() == size + 2
    assert [button.font().pointSize() for button in window.bar._buttons] == [size + 2] * 3  # the suggestions grow too
    assert (Settings.load().font, Settings.load().zoom) == ("", 2)  # the font stays the system's, followed as it changes
    window.zoom(-2)
    assert (Settings.load().font, Settings.load().zoom) == ("", 0)


def test_the_edit_menu_selects_all_and_shift_f3_finds_the_previous_match(make_window, qtbot):
    window = make_window()
    window.editor.setPlainText("one two one")
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    next(a for a in edit_menu.actions() if a.text() == "Select &All").trigger()
    assert window.editor.textCursor().selectedText() == "one two one"
    window.find_bar.open_bar()
    qtbot.keyClicks(window.find_bar.field, "one")
    assert window.editor.textCursor().selectionStart() == 0
    qtbot.keyClick(window.editor, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)  # back, wrapping to the last
    assert window.editor.textCursor().selectionStart() == 8


def test_text_gets_no_smaller_than_8_points_and_ctrl_0_gives_back_the_normal_size(make_window, qtbot):
    window = make_window()
    normal = window.editor.font().pointSize()
    for _ in range(normal):
        window.zoom(-1)
    assert window.editor.font().pointSize() == 8  # key hints in the bar still readable
    qtbot.keyClick(window.editor, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert window.editor.font().pointSize() == normal
    assert window.bar._buttons[0].font().pointSize() == normal
    assert (Settings.load().font, Settings.load().zoom) == ("", 0)


def test_ctrl_0_goes_back_to_the_size_chosen_in_settings(make_window, qtbot, monkeypatch):
    # Normal Size went to the usual 12 pt and stored it, throwing away the 16 pt chosen in Settings
    from foretype.app.settings_dialog import SettingsDialog

    window = make_window()
    chosen = QFont(window.editor.font().family(), 16)

    def choose_font(dialog) -> int:
        dialog.font_value, dialog.font_chosen = QFont(chosen), True
        return 1

    monkeypatch.setattr(SettingsDialog, "exec", choose_font)
    window.open_settings()
    window.zoom(3)
    assert window.editor.font().pointSize() == 19 and Settings.load().zoom == 3
    window.reset_zoom()
    assert window.editor.font().pointSize() == 16 and Settings.load().font == chosen.toString()
    window.zoom(2)
    window.open_settings()  # choosing a font again, even the same one: the size chosen is the size shown
    assert window.editor.font().pointSize() == 16 and Settings.load().zoom == 0
    chosen.setPointSizeF(10.5)
    window.open_settings()
    assert window.editor.font().pointSizeF() == 10.5  # as chosen, not rounded to 11


def test_ctrl_0_in_one_copy_sticks_when_another_copy_zoomed(make_window):
    # 0 equalled what this copy had loaded, so its save kept the other copy's 3 from the file
    zoomed, reset = make_window(), make_window()
    zoomed.zoom(3)
    reset.reset_zoom()
    assert Settings.load().zoom == 0


def test_large_text_makes_the_suggestions_as_large_as_their_slots_let_a_long_word_and_its_key_be(make_window, qtbot):
    # at 36 pt the slots read "informa…", "informat…": the bar followed the text's size whatever its width
    window = make_window()
    window.resize(820, 560)
    window.zoom(36 - window.editor.font().pointSize())
    qtbot.waitUntil(lambda: window.bar.width() < 830)
    window.bar.set_words(["information", "informations", "info"])
    first = window.bar._buttons[0]
    assert first.text() == "information" and first.hint() == "Tab"  # whole, with its key
    assert 12 < first.font().pointSizeF() < 36
    window.resize(1800, 560)
    qtbot.waitUntil(lambda: first.font().pointSizeF() == 36)  # room for the text's own size again
    window.resize(820, 560)
    qtbot.waitUntil(lambda: window.bar.font().pointSizeF() < 36)
    three_slots = window.bar.font().pointSizeF()
    window.bar.set_slots(1)  # as Settings does: one slot has room for more
    assert window.bar.font().pointSizeF() > three_slots


def test_at_usual_sizes_the_suggestions_keep_the_texts_size_however_narrow_the_bar(qtbot):
    bar = SuggestionBar(5)
    qtbot.addWidget(bar)
    bar.resize(480, 40)
    bar.set_text_size(12)
    bar.show()
    qtbot.waitExposed(bar)
    assert bar.font().pointSizeF() == 12  # five slots in 480 px had shrunk it to 8 pt
    bar.set_slots(0)  # no slot, no share to fit: no division by zero
    bar.resize(481, 40)


def test_run_opens_the_file_loads_the_model_and_returns_when_the_window_closes(qtbot, tmp_path, tiny_model_path):
    from argparse import Namespace

    from foretype.app.main import run

    seen = {}

    def close_when_ready() -> None:
        window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        if window.model_label.text().startswith("Model:"):
            seen.update(title=window.windowTitle(), model=window.model_label.text())
            poll.stop()
            window.close()

    poll = QTimer(interval=10)
    poll.timeout.connect(close_when_ready)
    poll.start()
    assert run(Namespace(model=str(tiny_model_path), file=str(tmp_path / "new.md"))) == 0
    assert seen == {"title": "new.md[*] — Foretype", "model": f"Model: {tiny_model_path.stem}"}


def test_when_the_fallback_fails_too_both_reasons_are_shown(qtbot, tmp_path):
    def loader(path):
        raise ForetypeError(f"cannot read {path.name if path else 'default.pt'}")

    window = MainWindow(Settings(), model_override=str(tmp_path / "mine.pt"), loader=loader)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignals([window.service.model_failed, window.service.model_failed]):
        window.start()
    assert window.info.label.text() == ("cannot read mine.pt. cannot read default.pt. "
                                        "Suggestions are off until a model is chosen in Settings.")
    assert window.model_label.text() == "No model"
    window.close()


def test_an_answer_that_arrives_after_an_edit_but_before_its_request_is_stale(make_window, qtbot):
    window = make_window()
    wait_words(qtbot, window, ["one", "two", "three"])
    seq = window.controller.seq
    qtbot.keyClick(window.editor, "x")  # the request for "x" goes out on the next event-loop turn
    window.service.suggestions_ready.emit(seq, fake_suggestions("", 3)[::-1], 1.0)  # late answer for ""
    assert window.bar.words() == ["one", "two", "three"] and not window.controller.up_to_date
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)  # nothing stale is accepted
    assert window.editor.toPlainText() == "x"
    wait_words(qtbot, window, ["xa", "xb", "xc"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is for Linux desktops")
def test_without_a_display_run_fails_with_one_clear_line(monkeypatch):
    from argparse import Namespace

    from foretype.app.main import run

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ForetypeError, match="no display"):
        run(Namespace(model=None, file=None))




def test_forget_my_data_asks_naming_the_model_that_suggestions_will_come_from(make_window, monkeypatch, tmp_path):
    personal_model_path().parent.mkdir(parents=True)
    personal_model_path().write_text("personal")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    make_window().forget_my_data()  # the personal model is in use
    make_window(model=str(tmp_path / "mine.pt")).forget_my_data()
    make_window(settings=Settings(model="file", model_file=str(tmp_path / "chosen.pt"))).forget_my_data()
    assert asked[0].endswith(" Suggestions will come from the default model.")
    assert asked[1].endswith(" Suggestions will still come from mine.pt.")
    assert asked[2].endswith(" Suggestions will still come from chosen.pt.")
    assert personal_model_path().exists()


def test_the_app_bench_times_each_key_in_the_editor_and_until_its_suggestions_show(qtbot, tiny_model_path):
    from foretype.app.bench import app_bench

    text = "The quick brown fox jumps over the lazy dog.\n" * 20
    result = app_bench(tiny_model_path, text, keystrokes=12, lengths=(100, 20_000))
    rows = {"100 end", "100 middle", "20000 end", "20000 middle"}
    assert set(result["gui_ms"]) == set(result["shown_ms"]) == rows
    for row in rows:
        gui, shown = result["gui_ms"][row], result["shown_ms"][row]
        assert 0 < gui["p50"] <= gui["p99"] and gui["p50"] <= shown["p50"] <= shown["p99"]


def test_a_lone_alt_tap_leaves_the_keys_in_the_editor_and_alt_letter_still_opens_a_menu(make_window, qtbot, qapp):
    # Alt accepts suggestions: a lone tap (or Sticky Keys' latched Alt) gave the menu bar the keys, and "help" opened Help
    prepare_application(qapp)
    window = make_window()
    window.activateWindow()
    window.editor.setFocus()
    qtbot.keyPress(window.editor, Qt.Key.Key_Alt, Qt.KeyboardModifier.AltModifier)
    qtbot.keyRelease(window.editor, Qt.Key.Key_Alt)
    assert QApplication.focusWidget() is window.editor
    type_text(qtbot, window, "xy")
    assert window.editor.toPlainText() == "xy"
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    qtbot.keyClick(window.editor, Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is help_menu)
    qtbot.keyClick(help_menu, Qt.Key.Key_Escape)  # one Esc: the keys go back to the editor, not to the menu bar
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.editor)
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    qtbot.keyClick(window.editor, Qt.Key.Key_F10)  # the way into the menus that Alt alone was
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is file_menu)
    qtbot.keyClick(file_menu, Qt.Key.Key_Escape)
