"""The main window: editor, suggestion bar, files, autosaved draft, find, status bar."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import math
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, QLockFile, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QFont, QIcon, QKeySequence, QPalette, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProxyStyle,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from foretype.model.files import (TextFileError, TextFormat, atomic_write, atomic_write_text, decode_text_file, refused_folder,
                                  usual_file_mode)

from .cli import app_version
from .editor import Editor
from .learn import LearnDialog, learning_elsewhere, new_model_paths, remove_abandoned_new_models
from .service import PredictionService, load_predictor
from .settings import (
    Settings,
    config_dir,
    data_dir,
    draft_lock_path,
    draft_path,
    draft_slots_on_disk,
    forget_mark,
    forgotten_path,
    personal_model_path,
    previous_draft_path,
    waiting_draft_path,
    waiting_drafts,
)
from .settings_dialog import SettingsDialog
from .suggestion_bar import ACCEPT_MODIFIER_NAME, MutedPlaceholder, SuggestionBar
from .suggestions import SuggestionController

log = logging.getLogger(__name__)

TEXT_FILE_SUFFIXES = (".txt", ".md")
TEXT_FILTER = f"Text ({' '.join('*' + suffix for suffix in TEXT_FILE_SUFFIXES)})"
FILE_FILTER = f"{TEXT_FILTER};;All files (*)"
AUTOSAVE_MS = 3000
DRAFT_CHARS_PER_SECOND = 100_000  # a longer document's draft is written less often than every 3 s...
MAX_DRAFT_INTERVAL_S = 30.0  # ...up to every 30 s: rewriting 4.7 MB every 3 s wrote 96 MB a minute
# smaller, the status bar cut its figures mid-word ("Saved 0% of keystro") and the editor showed two lines
MIN_WINDOW_WIDTH, MIN_WINDOW_HEIGHT = 480, 240
MIN_TEXT_SIZE, MAX_TEXT_SIZE = 8, 48  # points; smaller, the key hints in the suggestion bar cannot be read
ICON = Path(__file__).parent / "assets" / "foretype.png"
LICENCE = "MIT"  # as pyproject.toml says
DRAFT_PREVIEW = 60  # characters of a crash draft's text its offer shows: two drafts of one minute look alike


def readable_size(points: int) -> int:
    return min(MAX_TEXT_SIZE, max(MIN_TEXT_SIZE, points))


def keyboard_shortcuts(slots: int) -> list[tuple[str, str]]:
    """Help › Keyboard Shortcuts: the keys no menu shows, with as many Alt+digit keys as the bar has slots."""
    accept_keys = f"{ACCEPT_MODIFIER_NAME}+1" + (f" … {ACCEPT_MODIFIER_NAME}+{slots}" if slots > 1 else "")
    return [
        ("Tab", f"accept the first suggestion; at the start of a line, indent ({ACCEPT_MODIFIER_NAME}+1 accepts there)"),
        (accept_keys, "accept that suggestion (a click does the same)"),
        ("Esc", "hide the suggestions until the next keystroke"),
        ("Ctrl+Space", "show them again"),
        ("Backspace right after accepting", "take the accepted word back"),
        (". , ; : ! ? right after accepting", "goes before the added space"),
        ('" right after accepting', "closes an open quotation, before the added space"),
        ("' or - right after accepting", "joins the word in place of the added space (Sarah's, well-known)"),
        ("Enter right after accepting", "starts a new line in place of the added space"),
        ("Enter / Shift+Enter in Find", "the next / previous match"),
        ("Esc in Find", "close it and go back to the text"),
    ] + ([] if sys.platform == "darwin" else [
        ("Alt alone", "nothing: Alt is for accepting, so the menus open with Alt and their letter (Alt+F: File)"),
        ("F10", "open the menus, then the arrow keys")])


class AltKeepsTyping(QProxyStyle):
    """Alt accepts suggestions, so a lone Alt tap (a change of mind, or Sticky Keys' latched Alt before a digit) must
    not move the keys to the menu bar: the next letters opened menus and one Esc did not bring them back. Alt+letter
    still opens its menu."""

    def styleHint(self, hint, option=None, widget=None, returnData=None) -> int:
        if hint == QStyle.StyleHint.SH_MenuBar_AltKeyNavigation:
            return 0
        return super().styleHint(hint, option, widget, returnData)


SPECIAL = "it is a device, a pipe or a socket, not a file"


def is_special(path: Path) -> bool:
    return path.is_char_device() or path.is_block_device() or path.is_fifo() or path.is_socket()


def error_text(e: OSError) -> str:
    """The OS's words for ``e``, its first letter in lower case to follow a colon: "permission denied".

    Only the first, and not in a name ("RPC struct is bad"); the rest may be a name ("stale NFS file handle")
    or, translated, a noun that keeps its capital.
    """
    if not e.strerror:
        return str(e)
    return e.strerror[:1].lower() + e.strerror[1:] if e.strerror[1:2].islower() else e.strerror


def save_error_text(e: OSError) -> str:
    """Why saving failed: the text goes to a new temporary file first (atomic_write), which the folder may refuse."""
    folder = refused_folder(e)
    return f"cannot create files in {folder} ({error_text(e)})" if folder is not None else error_text(e)


def disk_state(path: Path | None) -> tuple[int, int, int] | None:
    """What tells that a file was written since: its inode (an atomic save makes a new one), time and size; None
    where there is no file."""
    try:
        st = path.stat() if path else None
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size) if st else None


def encoding_note(path: Path | None, text_format: TextFormat) -> str:
    """The status bar's note on a file that is not UTF-8; "" for one that is."""
    if path is None or text_format.encoding == "UTF-8":
        return ""
    return f"Read {path.name} as {text_format.encoding}; it will be saved as UTF-8."


def undo_key() -> str:
    """The Undo key as the platform names it: Ctrl+Z, or ⌘Z on macOS."""
    return QKeySequence(QKeySequence.StandardKey.Undo).toString(QKeySequence.SequenceFormat.NativeText)


def lock_draft_slot() -> tuple[QLockFile, int]:
    """Lock a draft slot for this copy of the app: two running copies never share a draft file.

    Slots with a draft on disk come first, so a draft that a crashed copy left in any slot is offered at the next
    start; QLockFile takes over a lock whose process is gone. Where no lock can be made (the data folder refuses
    files), slot 1, unlocked: autosaving fails there too.
    """
    try:
        data_dir().mkdir(parents=True, exist_ok=True)
    except OSError as e:
        log.warning("could not make %s: %s", data_dir(), e)
    for slot in itertools.chain(draft_slots_on_disk(), itertools.count(1)):
        lock = QLockFile(str(draft_lock_path(slot)))
        lock.setStaleLockTime(0)  # stale only when its process is gone, however long a running copy holds it
        if lock.tryLock(0):
            break
        if lock.error() != QLockFile.LockError.LockFailedError:  # held by no one, yet not to be had
            log.warning("could not lock %s: %s", draft_lock_path(slot), lock.error().name)
            slot = 1
            break
    return lock, slot


def default_text_size() -> int:
    """The system font's size, but 12 points at least: the usual 9 or 10 is small for writing."""
    return max(QFont().pointSize(), 12)


class InfoBar(QWidget):
    """A message above the editor with optional buttons: tells without blocking like a dialog would.

    The buttons have Alt+letter mnemonics: Tab in the editor accepts suggestions, so focus never tabs here.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.label = QLabel(self, wordWrap=True)
        self.setAccessibleName("Message")
        self.topic = ""
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 4, 4)
        self._layout.addWidget(self.label, 1)
        self._buttons: list[QPushButton] = []
        self.hide()

    def show_message(self, text: str, buttons: dict[str, object] | None = None, topic: str = "") -> None:
        """Show ``text`` with buttons label -> callback; every button also closes the bar.

        A ``topic`` lets what answers the message take it down (dismiss), and only it.
        """
        for button in self._buttons:
            button.hide()  # now: deleteLater waits for the event loop, and a message shown meanwhile would show both sets
            button.deleteLater()
        self._buttons = []
        self.set_text(text)
        self.topic = topic
        for label, callback in (buttons or {"&Close": None}).items():
            button = QPushButton(label, self)
            button.clicked.connect(self.hide)
            if callback is not None:
                button.clicked.connect(callback)
            self._layout.addWidget(button)
            self._buttons.append(button)
        self.show()

    def set_text(self, text: str) -> None:
        """Change the message, keeping its buttons."""
        if text != self.label.text():  # unchanged, screen readers are not told again
            self.label.setText(text)
            self.setAccessibleDescription(text)

    def dismiss(self, topic: str) -> None:
        """Hide the bar if it shows a message about ``topic``: a later one about something else stays."""
        if self.topic == topic:
            self.hide()

    def button(self, label: str) -> QPushButton:
        """The button labelled ``label`` (without its & mnemonic marker)."""
        return next(b for b in self._buttons if b.text().replace("&", "") == label)


class FindBar(QWidget):
    """Ctrl+F: type to find; Enter finds the next, Shift+Enter the previous, wrapping; Esc closes."""

    def __init__(self, editor: Editor, parent=None):
        super().__init__(parent)
        self.editor = editor
        self.field = QLineEdit(self, placeholderText="Find")
        self.field.setAccessibleName("Find")
        MutedPlaceholder(self.field)
        self.field.textEdited.connect(lambda: self.find(from_start=True))
        self.status = QLabel(self)  # "Not found"
        close = QPushButton("Close", self)
        close.clicked.connect(self.close_bar)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.field, 1)
        layout.addWidget(self.status)
        layout.addWidget(close)
        self.hide()

    def open_bar(self) -> None:
        self.status.clear()  # about the last search, which the text may answer differently now
        self.show()
        self.field.setFocus()
        self.field.selectAll()

    def close_bar(self) -> None:
        self.hide()
        self.editor.setFocus()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close_bar()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):  # the field passes these on
            self.find(backward=bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
        else:
            super().keyPressEvent(event)

    def find_next(self) -> None:
        self.find()

    def find_previous(self) -> None:
        self.find(backward=True)

    def find(self, backward: bool = False, from_start: bool = False) -> bool:
        """Select the next match, wrapping around the document once; with none, the cursor and view stay."""
        text = self.field.text()
        self.status.clear()
        if not text:
            return False
        flags = QTextDocument.FindFlag.FindBackward if backward else QTextDocument.FindFlag(0)
        document = self.editor.document()
        start = self.editor.textCursor()
        if from_start:  # as the search text grows, the match may grow where it is
            start.setPosition(start.selectionStart())
        found = document.find(text, start, flags)
        if found.isNull():
            edge = QTextCursor(document)
            edge.movePosition(QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start)
            found = document.find(text, edge, flags)
        if found.isNull():
            self.status.setText("Not found")
            return False
        self.editor.setTextCursor(found)
        return True


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, model_override: str | None = None,
                 loader: Callable[[Path | None], Any] = load_predictor):
        super().__init__()
        self.settings = settings
        self.model_override = model_override
        self.path: Path | None = None
        self.text_format = TextFormat()  # how the open file stored its text: saving keeps its line endings and BOM
        self._disk_state: tuple[int, int, int] | None = None  # the file as this window last read or wrote it
        self._told_state: tuple[int, int, int] | None = None  # the file as the user was last told it changed
        self._disk_digest: bytes | None = None  # of the file's bytes as last read or written: the same bytes again are no change
        self._text_when_deleted: bytes | None = None  # the text's digest when its file was deleted, if unedited till then
        self._watcher = QFileSystemWatcher(self)  # says when another program or window writes the open file
        self._watcher.fileChanged.connect(self._on_file_changed)
        self._watcher.directoryChanged.connect(self._on_file_changed)  # a file moved away and written again
        self._draft_dirty = False
        self._draft_written_at = -math.inf  # time.monotonic() of the last draft written
        self._read_digest: bytes | None = None  # of a file not in UTF-8 as read: modified only by its re-encoding while equal
        self._draft_lock, self.draft_slot = lock_draft_slot()
        self._forget_mark = forget_mark()  # a new one: Forget My Data ran in another copy, so forget here too
        self._data_watcher = QFileSystemWatcher([str(data_dir())] if data_dir().is_dir() else [], self)
        self._data_watcher.directoryChanged.connect(self._on_data_changed)
        self._draft_offer = ""  # the offer to restore a draft while it shows, without the note on replacing text
        self._draft_offer_path: Path | None = None  # the file of the draft offered
        self._quitting = False  # while closing asks to save: a failed save says why the window stays open
        self.learn_dialog: LearnDialog | None = None

        self.editor = Editor(self)
        self.bar = SuggestionBar(settings.suggestions, self)
        self.info = InfoBar(self)
        self.find_bar = FindBar(self.editor, self)
        self.service = PredictionService(loader, self)
        self.controller = SuggestionController(self.editor, self.bar, self.service, settings)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for widget in (self.info, self.editor, self.find_bar, self.bar):
            layout.addWidget(widget)
        self.setCentralWidget(central)
        self.setWindowIcon(QIcon(str(ICON)))
        self.resize(820, 560)

        self.file_note = QLabel(self)  # how the file was read; temporary messages cover it while they last
        self.statusBar().addWidget(self.file_note, 1)
        self.model_name = ""  # of the model in use; empty while one loads or where none could be
        self.model_label = QLabel("No model", self)
        self.saved_label = QLabel(self)
        self.latency_label = QLabel(self)
        self.latency_label.setMinimumWidth(self.latency_label.fontMetrics().horizontalAdvance("9999 ms"))  # never "47 m"
        for label in (self.model_label, self.saved_label, self.latency_label):
            self.statusBar().addPermanentWidget(label)
        self.setMinimumSize(MIN_WINDOW_WIDTH, MIN_WINDOW_HEIGHT)
        self._build_menus()
        self.apply_settings()

        self.editor.document().modificationChanged.connect(self._update_title)
        self.editor.document().contentsChanged.connect(self._on_contents_changed)
        self.service.model_loading.connect(self._on_model_loading)
        self.service.model_ready.connect(self._on_model_ready)
        self.service.model_failed.connect(self._on_model_failed)
        self.controller.stats_changed.connect(self._update_stats)
        self._autosave_timer = QTimer(self, interval=AUTOSAVE_MS)
        self._autosave_timer.timeout.connect(self.autosave)
        self._autosave_timer.start()
        self._update_title()
        self._update_stats()
        self._offer_draft()

    # ------------------------------------------------------------ set-up

    def _build_menus(self) -> None:
        def action(menu, text: str, slot, *shortcuts) -> QAction:
            a = menu.addAction(text)
            a.triggered.connect(slot)
            keys = []
            for s in shortcuts:  # a standard key means all of the platform's bindings for it
                keys += QKeySequence.keyBindings(s) if isinstance(s, QKeySequence.StandardKey) else [QKeySequence(s)]
            a.setShortcuts(keys)
            return a

        file_menu = self.menuBar().addMenu("&File")
        action(file_menu, "&New", self.new_file, QKeySequence.StandardKey.New)
        action(file_menu, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)  # without the files deleted since
        self._fill_recent_menu()
        action(file_menu, "&Save", self.save, QKeySequence.StandardKey.Save)
        action(file_menu, "Save &As…", self.save_as, QKeySequence.StandardKey.SaveAs)
        file_menu.addSeparator()
        action(file_menu, "Se&ttings…", self.open_settings, "Ctrl+,")  # no standard key on Linux
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, "Ctrl+Q")

        edit_menu = self.menuBar().addMenu("&Edit")
        action(edit_menu, "&Undo", self.editor.undo, QKeySequence.StandardKey.Undo)
        action(edit_menu, "&Redo", self.editor.redo, QKeySequence.StandardKey.Redo)
        edit_menu.addSeparator()
        action(edit_menu, "Cu&t", self.editor.cut, QKeySequence.StandardKey.Cut)
        action(edit_menu, "&Copy", self.editor.copy, QKeySequence.StandardKey.Copy)
        action(edit_menu, "&Paste", self.editor.paste, QKeySequence.StandardKey.Paste)
        action(edit_menu, "Select &All", self.editor.selectAll, QKeySequence.StandardKey.SelectAll)
        edit_menu.addSeparator()
        action(edit_menu, "&Find…", self.find_bar.open_bar, QKeySequence.StandardKey.Find)
        action(edit_menu, "Find &Next", self.find_bar.find_next, QKeySequence.StandardKey.FindNext)
        action(edit_menu, "Find &Previous", self.find_bar.find_previous, QKeySequence.StandardKey.FindPrevious)

        view_menu = self.menuBar().addMenu("&View")
        action(view_menu, "&Larger Text", lambda: self.zoom(1), QKeySequence.StandardKey.ZoomIn, "Ctrl+=")
        action(view_menu, "&Smaller Text", lambda: self.zoom(-1), QKeySequence.StandardKey.ZoomOut)
        action(view_menu, "&Normal Size", self.reset_zoom, "Ctrl+0")

        model_menu = self.menuBar().addMenu("&Model")
        action(model_menu, "&Learn from My Writing…", lambda: self.open_learn_dialog())  # not triggered's bool
        self.reset_action = action(model_menu, "&Reset to the Default Model", lambda: self.switch_model("default"))
        self.personal_action = action(model_menu, "Use My &Personal Model", lambda: self.switch_model("personal"))
        model_menu.aboutToShow.connect(self._update_personal_action)  # another copy may have made or forgotten one
        model_menu.addSeparator()
        action(model_menu, "&Forget My Data…", self.forget_my_data)

        help_menu = self.menuBar().addMenu("&Help")
        action(help_menu, "&Keyboard Shortcuts", self.show_shortcuts)
        action(help_menu, "&About Foretype", self.show_about)
        if sys.platform != "darwin":  # F10 opens the menus, as on GNOME and Windows: Alt alone no longer does
            action(self, "Menus", lambda: self.menuBar().setActiveAction(file_menu.menuAction()), "F10")

    def apply_settings(self) -> None:
        """Make the window match self.settings (after start-up or the settings dialog)."""
        self._set_text_font(self._zoomed(self.chosen_font()))
        if self.bar.slots() != self.settings.suggestions:
            self.bar.set_slots(self.settings.suggestions)
        self.controller.request()

    def start(self) -> None:
        """Start the prediction thread and load the chosen model; call once the window is shown."""
        remove_abandoned_new_models()  # a crashed copy's model of the user's text, never to be offered
        self.service.load_model(self.settings.model_path(self.model_override))
        self.service.start()

    # ------------------------------------------------------------ files

    def new_file(self) -> None:
        if self.maybe_save():
            self._set_document("", None, TextFormat())

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open", str(self.path.parent if self.path else Path.home()), FILE_FILTER)
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path, missing_ok: bool = False) -> bool:
        """Open a text file; with ``missing_ok`` a file that does not exist yet is a new, empty one, which joins the
        recent files once it is saved (a name mistyped on the command line never does).

        A file that is not UTF-8 opens as modified: saving it writes UTF-8, so its bytes change only if the user saves.
        """
        path = Path(path)
        read = self._read_file(path, missing_ok)
        if read is None:
            return False
        text, text_format, state, digest = read
        self._set_document(text, path, text_format, state, digest)
        self._note_encoding(path, text_format)
        if path.exists():
            self._remember(path)
        return True

    def _read_file(self, path: Path, missing_ok: bool = False) -> tuple[str, TextFormat, tuple[int, int, int] | None, bytes] | None:
        """The file's text, how it stores it, its disk state and the digest of its bytes, or None once the info bar says
        why it cannot be opened.
        With ``missing_ok`` a file that does not exist is an empty one. The state is taken before reading: a write
        in between then reads as a change, never as seen."""
        state = disk_state(path)
        try:
            if is_special(path):  # reading /dev/zero or a pipe would never end
                self.info.show_message(f"Could not open {path}: {SPECIAL}", topic="file")
                return None
            data = path.read_bytes()
        except FileNotFoundError if missing_ok else ():
            data = b""
        except OSError as e:
            self.info.show_message(f"Could not open {path}: {error_text(e)}", topic="file")
            return None
        try:
            return *decode_text_file(data), state, hashlib.sha256(data).digest()
        except TextFileError as e:
            self.info.show_message(f"Could not open {path}: {e}", topic="file")
            return None

    def _note_encoding(self, path: Path, text_format: TextFormat) -> None:
        """A file that is not UTF-8 reads as modified: saving writes UTF-8, so its bytes change only if the user saves."""
        self._read_digest = None
        if text_format.encoding != "UTF-8":
            self.editor.document().setModified(True)
            self._read_digest = self._text_digest()
        self.file_note.setText(encoding_note(path, text_format))

    def _text_digest(self) -> bytes:
        return hashlib.sha256(self.editor.toPlainText().encode("utf-8", "surrogatepass")).digest()

    def reload(self) -> None:
        """Read the open file again after another program or window wrote it; Ctrl+Z brings back the text it replaces."""
        read = self._read_file(self.path)
        if read is None:
            return
        text, text_format, state, digest = read
        position = self.editor.textCursor().position()
        self._replace_text(text)
        cursor = self.editor.textCursor()
        cursor.setPosition(min(position, self.editor.document().characterCount() - 1))  # where the user was, if still there
        self.editor.setTextCursor(cursor)
        self.text_format = text_format
        self._known_on_disk(state, digest)
        self.editor.document().setModified(False)
        self._note_encoding(self.path, text_format)
        self._update_title()

    def _replace_text(self, text: str) -> None:
        """All of the text replaced by one edit, not setPlainText: the text before stays a Ctrl+Z away."""
        cursor = QTextCursor(self.editor.document())
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        self.editor.setTextCursor(cursor)  # at the end

    def _known_on_disk(self, state: tuple[int, int, int] | None, digest: bytes | None = None) -> None:
        """The open file is as this window last read or wrote it: a change from here on is another's. Without the
        ``digest`` of its bytes (a draft's file) any write counts as a change, even of the same bytes."""
        self._disk_state = self._told_state = state
        self._disk_digest = digest
        self._text_when_deleted = None
        self._follow_file()

    def _same_bytes_on_disk(self, target: Path, state: tuple[int, int, int]) -> bool:
        """The file was written again with the bytes this window last read or wrote (a sync tool, `touch`, another
        editor saving unchanged text): no change to tell of or to ask about. Another size is another file, unread."""
        if self._disk_digest is None or (self._disk_state is not None and state[2] != self._disk_state[2]):
            return False
        try:
            return not is_special(target) and hashlib.sha256(target.read_bytes()).digest() == self._disk_digest
        except OSError:
            return False

    def _edited(self) -> bool:
        """Changed since read or saved by the user, not only marked so because the file was deleted on disk."""
        return self.editor.document().isModified() and self._text_when_deleted != self._text_digest()

    def _follow_file(self) -> None:
        """Watch the open file and its folder, anew after each change: a save that writes a new file and renames it
        over the old one (ours, and most programs') leaves the watcher on the old file, and a file moved away and
        written again is seen only in its folder."""
        watched = self._watcher.files() + self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        if self.path is not None:
            target = self.path.resolve()  # through a symlink: the file that is written, and its folder
            self._watcher.addPaths([str(p) for p in (target, target.parent) if p.exists()])

    def _on_file_changed(self) -> None:
        self._follow_file()
        if self.path is None:
            return
        target = self.path.resolve()
        state = disk_state(target)
        if state is not None and (state == self._disk_state or state != self._told_state and self._same_bytes_on_disk(target, state)):
            self._back_as_it_was(state)  # our own save, another file of the folder, the same bytes again
            return
        if state == self._told_state:
            return  # a change the user was told of
        self._told_state = state
        if state is None:  # its text is now only here: closing must ask, and a crash keep a draft
            if not self.editor.document().isModified():
                self._text_when_deleted = self._text_digest()  # so that the file's return takes the mark back
            self.editor.document().setModified(True)
            self._draft_dirty = True
            self.info.show_message(f"{self.path.name} was deleted or moved on disk. Saving writes it again.",
                                   {"&Close": self._offer_waiting_draft}, topic="deleted")
            return
        self.info.show_message(self._change_notice_text(),
                               {"&Reload": self._reload_then_offer_draft, "&Keep Mine": self._offer_waiting_draft},
                               topic="changed")

    def _back_as_it_was(self, state: tuple[int, int, int]) -> None:
        """The file is on disk as this window last read or wrote it, perhaps again (moved away and back, written over
        with the bytes it had): a notice of its deletion or change is out of date, and so is the deletion's mark."""
        self._disk_state = self._told_state = state  # taken before reading: a write meanwhile reads as a change next time
        if self._text_when_deleted is not None:
            if not self._edited():
                self.editor.document().setModified(False)
                self._draft_dirty = True  # the draft written meanwhile goes at the next autosave
            self._text_when_deleted = None
        self.info.dismiss("deleted")
        self.info.dismiss("changed")

    def _change_notice_text(self) -> str:
        """That the file changed on disk, and whether reloading replaces unsaved changes: the user may type meanwhile."""
        notice = f"{self.path.name} was changed on disk by another program or another Foretype window."
        if self._edited():
            notice += f" Reloading replaces your unsaved changes ({undo_key()} brings them back)."
        return notice

    def _reload_then_offer_draft(self) -> None:
        """The bar holds one message: a draft offer it covered comes back once the user has answered."""
        self.reload()
        if self.info.isHidden():  # a failed reload's message stays instead
            self._offer_waiting_draft()

    def save(self) -> bool:
        return self.save_to(self.path) if self.path else self.save_as()

    def save_as(self) -> bool:
        start = str(self.path or Path.home() / "untitled.txt")
        chosen, chosen_filter = QFileDialog.getSaveFileName(self, "Save As", start, FILE_FILTER)
        if not chosen:
            return False
        path = Path(chosen)
        # "letter2" (or "notes.v2") becomes letter2.txt, which Open's filter shows
        if chosen_filter == TEXT_FILTER and path.suffix.lower() not in TEXT_FILE_SUFFIXES:
            path = path.with_name(path.name.rstrip(".") + ".txt")
            if path.exists() and QMessageBox.question(self, "Save As", f"{path.name} already exists. Replace it?",
                                                      defaultButton=QMessageBox.StandardButton.No) != QMessageBox.StandardButton.Yes:
                return False  # the dialog asked about "letter2", not about this file
        return self.save_to(path)

    def save_to(self, path: Path) -> bool:
        """Write the text as UTF-8 with the file's line endings and BOM; on failure the file on disk, the modified flag
        and the draft stay as they were."""
        target = path.resolve()  # through a symlink, not over it
        on_disk = disk_state(target)  # None: deleted, nothing of another's to lose
        if (path == self.path and on_disk not in (None, self._disk_state) and not self._same_bytes_on_disk(target, on_disk)
                and not self._replace_changes_on_disk(path)):
            return False
        try:
            if is_special(target):  # the temporary file would be renamed over it: /dev/full became a regular file
                self._show_save_error(f"Could not save {path}: {SPECIAL}")
                return False
            # an existing file keeps its permissions (the temporary file is private)
            mode = target.stat().st_mode & 0o7777 if target.exists() else usual_file_mode()
            data = self.text_format.file_text(self.editor.toPlainText()).encode("utf-8")
            atomic_write(target, lambda f: f.write(data), mode=mode)
        except OSError as e:
            unchanged = "; the file on disk is unchanged" if os.path.exists(target) else ""
            self._show_save_error(f"Could not save {path}: {save_error_text(e)}{unchanged}")
            return False
        self.path = path
        self._known_on_disk(disk_state(target), hashlib.sha256(data).digest())
        self.editor.document().setModified(False)
        self._update_title()  # Save As of an unmodified document changes the name, not the modified flag
        self._clear_file_messages()
        self._remember(path)
        self._discard_draft()
        self.statusBar().showMessage(f"Saved {path}", 3000)
        return True

    def _show_save_error(self, message: str) -> None:
        """Say why saving failed, with Save As at hand; on quitting, also why the window did not close."""
        if self._quitting:
            message += ". The window stays open because your text is not saved."
        self.info.show_message(message, {"Save &As…": self.save_as, "&Close": None}, topic="file")

    def _replace_changes_on_disk(self, path: Path) -> bool:
        """Saving over a file another program or another Foretype window wrote since would lose what it wrote: ask."""
        answer = QMessageBox.warning(
            self, "File changed on disk",
            f"{path.name} was changed on disk after you opened it, by another program or another Foretype window.\n\n"
            "Saving replaces those changes with your text. To keep both, cancel and use Save As.",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Save

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False if the user cancels."""
        if not self.editor.document().isModified():
            return True
        question = f"Save the changes to {self._display_name()}?"
        if self._read_digest is not None and self._text_digest() == self._read_digest:  # edits undone count as none
            question = (f"{self._display_name()} was read as {self.text_format.encoding} and you have not changed it. "
                        "Save it as UTF-8? (Discard leaves the file as it is.)")
        answer = QMessageBox.warning(
            self, "Unsaved changes", question,
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def _set_document(self, text: str, path: Path | None, text_format: TextFormat,
                      state: tuple[int, int, int] | None = None, digest: bytes | None = None) -> None:
        self.path = path  # first: the draft offer, reworded as the text changes, compares with the new document
        self.editor.setPlainText(text)
        self._read_digest = None
        self._known_on_disk(state, digest)
        self.text_format = text_format
        self.editor.document().setModified(False)
        self._discard_draft()
        self._update_title()
        self._clear_file_messages()  # about the file this one replaces

    def _clear_file_messages(self) -> None:
        """Take down an error about opening or saving the file and the note on how it was read: both are out of date."""
        self.info.dismiss("file")
        self.info.dismiss("deleted")
        self.info.dismiss("changed")  # saved or reloaded: the change on disk is answered
        self.file_note.clear()

    def _remember(self, path: Path) -> None:
        self.settings.add_recent_file(str(path.resolve()))
        self._save_settings()
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        """List the recent files that exist; a missing one stays in the settings, as its drive may come back."""
        self.recent_menu.clear()
        for path in filter(os.path.isfile, self.settings.recent_files):
            shown = path.replace("&", "&&")  # a single & would mark the next letter as the Alt key, and not show
            self.recent_menu.addAction(shown).triggered.connect(lambda _=False, p=path: self.open_recent(p))
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    def open_recent(self, path: str) -> None:
        """Open a recent file; one that is gone leaves the list, one that fails for another reason stays."""
        if self.maybe_save() and not self.open_file(path) and not os.path.exists(path):
            self.settings.remove_recent_file(path)
            self._save_settings()
            self._fill_recent_menu()

    # ------------------------------------------------------------ draft

    def autosave(self) -> None:
        """Write the unsaved text to the draft file, so a crash or kill loses a few seconds at most (half a minute in
        a document of millions of characters)."""
        if not self._draft_dirty or time.monotonic() - self._draft_written_at < self._draft_interval():
            return
        self._draft_dirty = False
        if not self.editor.document().isModified():
            self._discard_draft()
            return
        draft = {"text": self.editor.toPlainText(), "path": str(self.path or ""), "time": time.time(),
                 "format": dataclasses.asdict(self.text_format),  # restored, the file keeps its line endings and BOM
                 "disk": self._disk_state}  # and saving it is checked against the file as it was read
        try:
            atomic_write_text(draft_path(self.draft_slot), json.dumps(draft))
        except OSError as e:
            log.warning("could not autosave the draft: %s", e)
            return
        self._draft_written_at = time.monotonic()

    def _draft_interval(self) -> float:
        """Seconds between drafts: every 3 s up to 300,000 characters, then in proportion, up to 30 s."""
        chars = self.editor.document().characterCount()
        return min(MAX_DRAFT_INTERVAL_S, max(AUTOSAVE_MS / 1000, chars / DRAFT_CHARS_PER_SECOND))

    def _discard_draft(self) -> None:
        self._draft_dirty = False
        draft_path(self.draft_slot).unlink(missing_ok=True)

    def _offer_draft(self) -> None:
        """Offer the text a crashed or killed session left in this slot. It joins the queue of waiting drafts, so this
        session's autosave cannot overwrite it, and it cannot replace a draft offered before and left unanswered. The
        drafts of the other slots belong to other running copies, or wait for the next start."""
        try:
            place = self._close_up_drafts() + 1
            draft_path(self.draft_slot).replace(waiting_draft_path(self.draft_slot, place))
        except FileNotFoundError:
            pass  # no new one; an offer the user left open last time may still be there
        except OSError as e:
            log.warning("could not keep the previous draft: %s", e)
            return
        self._offer_waiting_draft()

    def _offer_waiting_draft(self) -> None:
        """Offer the oldest waiting draft; one that is broken or has no text is dropped and the next one offered. One
        that cannot be read now (a disk error) stays for the next start."""
        try:
            waiting = self._close_up_drafts()
            if not waiting:
                return
            draft = self._read_previous_draft()
        except OSError as e:  # the drafts stay on disk for the next start
            self.info.show_message(f"Could not read the text Foretype kept after a crash: {error_text(e)}", topic="draft")
            return
        if draft is None:
            self._next_draft()
            return
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(draft["time"]))
        name = Path(draft["path"]).name if draft["path"] else "an untitled document"
        start = " ".join(draft["text"].split())
        start = start if len(start) <= DRAFT_PREVIEW else start[:DRAFT_PREVIEW].rsplit(" ", 1)[0] + "…"
        count = f" (1 of {waiting})" if waiting > 1 else ""
        self._draft_offer = f"Foretype was closed without saving {name} ({when}): “{start}”{count}. Restore that text?"
        self._draft_offer_path = Path(draft["path"]) if draft["path"] else None
        self.info.show_message(self._draft_offer_text(), {"&Restore": self.restore_draft, "&Discard": self._next_draft},
                               topic="draft")

    def _draft_offer_text(self) -> str:
        """The offer, and what restoring does to the text the window has by now."""
        if self.editor.document().isEmpty():
            return self._draft_offer
        if self._draft_offer_path == self.path:
            return f"{self._draft_offer} It replaces the current text ({undo_key()} brings that back)."
        return f"{self._draft_offer} It replaces the document open now, as opening a file does."

    def restore_draft(self) -> None:
        """Restore the oldest waiting draft. Over the same document it is one undoable edit; over another it asks to
        save first, as opening a file does: undone, the other's text would be saved under the draft's file name."""
        try:
            draft = self._read_previous_draft()
        except OSError as e:
            self.info.show_message(f"Could not read the draft: {error_text(e)}", topic="draft")
            return
        if draft is None:
            return
        path = Path(draft["path"]) if draft["path"] else None
        if path == self.path:
            self._replace_text(draft["text"])  # the cursor at the end, where the user was most likely writing
        elif self.maybe_save():
            self.editor.setPlainText(draft["text"])
            self.editor.moveCursor(QTextCursor.MoveOperation.End)
        else:
            if self.info.isHidden():  # cancelled: the offer stays (a failed save's message stays instead)
                self._offer_waiting_draft()
            return
        self.path = path
        self.text_format = draft["format"]
        self._read_digest = None  # the draft's text, not the file's as read
        self._known_on_disk(draft["disk"])
        self.editor.document().setModified(True)
        self.file_note.setText(encoding_note(path, draft["format"]))  # the note was about the text the draft replaced
        self._update_title()
        self._next_draft()
        self._on_file_changed()  # the file may have changed since the crash: say so now, not at a later change in its folder

    def _read_previous_draft(self) -> dict | None:
        """The oldest waiting draft; None where there is none, or it is broken or empty (to be dropped). A disk
        error raises OSError: the draft may be fine."""
        try:
            draft = json.loads(previous_draft_path(self.draft_slot).read_text(encoding="utf-8"))
            draft = {"text": str(draft["text"]), "path": str(draft["path"]), "time": float(draft["time"]),
                     "format": TextFormat.from_dict(draft.get("format", {})),  # drafts before line endings were kept: none
                     "disk": tuple(draft["disk"]) if draft.get("disk") else None}
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as e:
            log.warning("discarding a broken draft: %s", e)
            return None
        return draft if draft["text"] else None

    def _next_draft(self) -> None:
        """The offered draft is answered (restored or discarded) or unreadable: it goes, and the next waiting one moves
        up to its place and is offered."""
        try:
            previous_draft_path(self.draft_slot).unlink(missing_ok=True)
        except OSError as e:
            log.warning("could not delete the answered draft: %s", e)
            return
        self._offer_waiting_draft()

    def _close_up_drafts(self) -> int:
        """Move the waiting drafts up to places 1, 2, ... in their order (the answered one's place, or gaps a failed
        move left); how many wait. Raises OSError."""
        drafts = waiting_drafts(self.draft_slot)
        for place, path in enumerate(drafts, 1):
            if path != waiting_draft_path(self.draft_slot, place):
                path.replace(waiting_draft_path(self.draft_slot, place))
        return len(drafts)

    def _on_contents_changed(self) -> None:
        self._draft_dirty = True
        if self.info.isHidden():  # not isVisible: before the window shows too
            return
        if self.info.topic == "draft":
            self.info.set_text(self._draft_offer_text())
        elif self.info.topic == "changed":
            self.info.set_text(self._change_notice_text())

    # ------------------------------------------------------------ model and status

    def _on_model_loading(self, what: str) -> None:
        self.model_name = ""
        self.model_label.setText("Loading model…")
        self.statusBar().showMessage(f"Loading {what}…")

    def _on_model_ready(self, name: str) -> None:
        chosen = self.settings.model_path(self.model_override)
        # not while the default is the choice; still after a chosen file failed, so the choice can be reset
        self.reset_action.setEnabled(chosen is not None)
        self._update_personal_action()
        if self.service.model_path == chosen:  # the chosen model, not the default standing in for it after a failure
            self.info.dismiss("model")
        self.model_name = name
        self.model_label.setText(f"Model: {name}")
        self.statusBar().showMessage(f"Loaded {name}", 3000)

    def _update_personal_action(self) -> None:
        self.personal_action.setEnabled(personal_model_path().is_file() and self.service.model_path != personal_model_path())

    def _on_model_failed(self, message: str) -> None:
        self.model_name = ""
        self.model_label.setText("No model")
        self.statusBar().clearMessage()
        self.info.show_message(message, topic="model")

    def _update_stats(self) -> None:
        self.saved_label.setText(f"Saved {self.controller.saved_share:.0%} of keystrokes")
        latency = self.controller.latency_ms
        self.latency_label.setText(f"{latency:.0f} ms" if latency is not None else "")

    def _display_name(self) -> str:
        return self.path.name if self.path else "Untitled"

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self._display_name()}[*] — Foretype")
        self.setWindowModified(self.editor.document().isModified())

    # ------------------------------------------------------------ settings and zoom

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self.chosen_font(), self)
        if not dialog.exec():
            return
        old_model = self.settings.model_path(self.model_override)
        dialog.apply_to(self.settings)
        self.model_override = None  # choosing in Settings replaces --model
        self._save_settings()
        self.apply_settings()
        new_model = self.settings.model_path()
        if new_model != old_model:
            self.service.load_model(new_model)

    def switch_model(self, choice: str) -> None:
        """Use the "default" or "personal" model from now on, as if chosen in Settings; loads it even if unchanged."""
        self.settings.model = choice
        self.settings.chose("model")
        self.model_override = None
        self._save_settings()
        self.service.load_model(self.settings.model_path())

    # ------------------------------------------------------------ learning from the user's writing

    def open_learn_dialog(self, command=None) -> LearnDialog:
        """Show the (non-modal) dialog; one at a time, so a second click shows the run in progress."""
        if self.learn_dialog is None:
            kwargs = {"command": command} if command else {}
            # the model in use when Start is clicked: a chosen file may fail to load, or the choice change, meanwhile
            self.learn_dialog = LearnDialog(lambda: self.service.model_path, parent=self, **kwargs)
            self.learn_dialog.use_model.connect(self.install_personal_model)
        self.learn_dialog.show()
        self.learn_dialog.raise_()
        self.learn_dialog.activateWindow()
        return self.learn_dialog

    def install_personal_model(self, new: Path) -> None:
        """Make the trainer's output the personal model (readable only by the user) and switch to it, no restart."""
        target = personal_model_path()
        try:
            os.chmod(new, 0o600)
            os.replace(new, target)
        except OSError as e:
            self.info.show_message(f"Could not install the new model: {e.strerror or e}", topic="model")  # a model loaded takes it down
            return
        self.switch_model("personal")

    def forget_my_data(self) -> None:
        """Delete the personal model and an unused new one; the documents and the unsaved-text draft are the user's own."""
        learning = (self.learn_dialog is not None and self.learn_dialog.running()) or learning_elsewhere()
        if not (learning or personal_model_path().exists() or new_model_paths()):
            QMessageBox.information(self, "Forget my data", "There is nothing to forget: Foretype has not learned from your writing.")
            return
        in_use = self.service.model_path  # --model F or a chosen file stays in use; the personal model gives way
        after = f"still come from {in_use.name}" if in_use not in (None, personal_model_path()) else "come from the default model"
        answer = QMessageBox.question(
            self, "Forget my data",
            "Delete your personal model (learned from your writing) and any model being made from it now?\n\n"
            f"Your documents, the autosaved copy of unsaved text and your settings are kept. Suggestions will {after}.",
            defaultButton=QMessageBox.StandardButton.No,  # deleting must not be what Enter does
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        # before end() discards an unused new one
        deleted = ("Your personal model was deleted." if personal_model_path().exists() else
                   "The new model learned from your writing, not used yet, was deleted." if new_model_paths() else
                   "Learning from your writing was stopped; nothing was kept.")
        if self.learn_dialog is not None:
            self.learn_dialog.forget()  # a run in progress would write a new model from the user's text
        failed = []
        for path in (personal_model_path(), *new_model_paths()):
            try:
                path.unlink(missing_ok=True)
            except OSError as e:
                failed.append(f"{path}: {e.strerror or e}")
        try:
            atomic_write_text(forgotten_path(), secrets.token_hex(8))
        except OSError as e:
            failed.append(f"{forgotten_path()} (which tells other Foretype windows to forget too): {e.strerror or e}")
        self._forget_mark = forget_mark()  # this copy has forgotten already
        self.service.load_model(self.settings.model_path(self.model_override))
        if failed:
            self.info.show_message("Could not delete " + "; ".join(failed))
        else:  # a box, not the status bar: the model's "Loaded" message replaced that at once
            QMessageBox.information(self, "Forget my data", deleted)

    def _on_data_changed(self) -> None:
        """Forget My Data in another running copy: stop a run here and unload the personal model, as it did."""
        mark = forget_mark()
        if mark == self._forget_mark:
            return  # a draft saved, a model installed: not a Forget
        self._forget_mark = mark
        running = self.learn_dialog is not None and self.learn_dialog.running()
        unused = self.learn_dialog is not None and self.learn_dialog.has_new_model()
        if self.learn_dialog is not None:
            self.learn_dialog.forget()
        using_personal = self.service.model_path == personal_model_path()
        if using_personal:
            self.service.load_model(self.settings.model_path(self.model_override))
        if running or unused or using_personal:
            stopped = ("; learning here was stopped and nothing was kept" if running else
                       "; the new model made here, not used yet, was deleted" if unused else "")
            self.info.show_message("Forget My Data in another Foretype window deleted what was learned from your "
                                   f"writing{stopped}.", topic="forgotten")

    def chosen_font(self) -> QFont:
        """The font chosen in Settings, or the system font at the usual size: the text's size before zooming."""
        font = QFont()
        if not (self.settings.font and font.fromString(self.settings.font)):
            font.setPointSize(default_text_size())
        return font

    def _zoomed(self, font: QFont) -> QFont:
        """At zoom 0 the font as chosen, 10.5 or 72 pt included."""
        if self.settings.zoom:
            font.setPointSize(readable_size(font.pointSize() + self.settings.zoom))
        return font

    def zoom(self, steps: int) -> None:
        """Zoom is kept apart from the chosen font, so Ctrl+0 goes back to the size chosen in Settings."""
        self._set_zoom(readable_size(self.editor.font().pointSize() + steps) - self.chosen_font().pointSize())

    def reset_zoom(self) -> None:
        """Ctrl+0: the size chosen in Settings (it was the usual size, which undid the choice)."""
        self._set_zoom(0)

    def _set_zoom(self, points: int) -> None:
        self.settings.zoom = points
        # written with the font it applies to, even where equal to what this copy loaded: another copy's zoom of
        # another font kept, or this copy's 0 lost, made a size neither copy showed
        self.settings.chose("font", "zoom")
        self._save_settings()
        self._set_text_font(self._zoomed(self.chosen_font()))

    def _set_text_font(self, font: QFont) -> None:
        """Use ``font`` in the editor, and its size in the suggestion bar: the words there grow with the text."""
        self.editor.setFont(font)
        self.bar.set_text_size(font.pointSizeF())

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{keys}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>"
                       for keys, what in keyboard_shortcuts(self.bar.slots()))
        QMessageBox.information(self, "Keyboard Shortcuts", f"<table>{rows}</table><p>The menus show the other keys "
                                "(Ctrl+F: Find, Ctrl+=: Larger Text, ...).</p>")

    def show_about(self) -> None:
        if self.model_name:
            model = f"Model: {self.model_name} ({self.service.model_path or 'the default model, bundled with Foretype'})"
        else:
            model = self.model_label.text()  # loading one, or none
        QMessageBox.about(
            self, "About Foretype",
            f"Foretype {app_version()}: next-word suggestions as you type.\n\n"
            f"{model}\n"
            f"Licence: {LICENCE}\n\n"
            "Everything runs on this computer: nothing you type leaves it. "
            f"Your personal model and autosaved drafts are kept in {data_dir()}, your settings in {config_dir()}.",
        )

    def _save_settings(self) -> None:
        try:
            self.settings.save()
        except OSError as e:
            log.warning("could not save the settings: %s", e)

    # ------------------------------------------------------------ closing

    def closeEvent(self, event: QCloseEvent) -> None:
        self._quitting = True
        try:
            saved = self.maybe_save()
        finally:
            self._quitting = False
        # then the run or its result: a result used before a cancelled save question would be a choice made for nothing
        if not saved or (self.learn_dialog is not None and not self.learn_dialog.may_quit()):
            event.ignore()
            return
        if self.learn_dialog is not None:
            self.learn_dialog.end()  # a trainer is not left running without its window
        self._autosave_timer.stop()
        self._discard_draft()
        self._draft_lock.unlock()  # the slot is free for the next copy
        self.service.stop()
        event.accept()
