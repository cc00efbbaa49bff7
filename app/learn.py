""""Learn from my writing…": pick files, run `foretype finetune` in a separate process, offer the result.

The trainer runs in a QProcess, never in the app's process: training takes minutes and a lot of
memory, and a crash in it (or the user cancelling) must not take the editor down. It reports on
stdout with `--progress jsonl` (schema in training/finetune.py); this module only reads that stream.
Importing this module does not import torch.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QProcess, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from foretype.training.textfiles import Skipped, expand_inputs, plural, read_text_file

from .cli import LOG_PREFIX
from .settings import data_dir

log = logging.getLogger(__name__)

# finetune's budgets (not imported: that module imports torch); a test keeps them equal
USED_BYTES = 4 * 2**20  # finetune.MAX_INPUT_BYTES
HELD_OUT_FRACTION = 0.15  # of the text, typed by the engine before and after training
REPORT_SECONDS = 45.0  # at most, each time
TRAIN_SECONDS = 420.0  # at most
MAX_FORGETTING = 0.08  # general English may get this much worse than the current model's
MIN_CHARS = 2_000  # finetune.MIN_CHARS: less is refused, so Start is not offered for it
MAX_SCANNED_FILES = 5_000  # the scan runs on the GUI thread: a huge folder is counted only this far (~40 MB read at most)
SNIFF_BYTES = 8192  # enough of a file to tell text from binary
GENERAL_ENGLISH_NOTE = ("<p>General English: how well the model still predicts everyday English, measured on sample "
                        "sentences of it (lower is better). Learning your writing may raise it a little; training "
                        f"stops before it is {MAX_FORGETTING:.0%} above the current model's.</p>")
SKIPPED_SHOWN = 3  # skipped files named, with the reason, under the selection
LOCK_WAIT_MS = 2000  # for the learning lock, which another copy holds for a moment when it checks it
KILL_AFTER_MS = 5000  # a trainer that ignores Cancel's SIGTERM this long is killed
STDERR_LINES = 20  # the end of the trainer's log, for the message when it crashes
PROGRESS_STEPS = 1000  # the progress bar's range, for the trainer's fraction
PHASES = {"reading": "Reading your files", "evaluating-base": "Measuring the current model", "training": "Learning",
          "evaluating": "Measuring the new model", "saving": "Saving", "done": "Done"}

NEW_MODEL_OWNER = re.compile(r"personal-new-(\d+)\.pt")  # the process id in new_model_path(), and in its temporary files' names
Command = Callable[[Path | None, list[str], Path], list[str]]  # (base model, inputs, out) -> argv


def new_model_path() -> Path:
    """Where this copy's trainer writes: beside personal.pt, so installing it is an atomic rename; one file per
    running copy, as a second copy's Start deleted the first's finished model (and two runs wrote one file)."""
    return data_dir() / f"personal-new-{os.getpid()}.pt"


def new_model_paths() -> list[Path]:
    """The unused new models of every copy, a crashed one's too, and the temporary files of one killed while writing:
    all that Forget My Data deletes besides personal.pt."""
    return sorted([*data_dir().glob("personal-new*.pt"), *data_dir().glob(".personal-new*.tmp")])


def taken_from_no_live_copy(path: Path) -> QLockFile | None:
    """Another copy's learning lock, taken (unlock() removes it) if no running copy holds it, else None. A crashed
    copy's lock is stale and goes; a live run's never is, however long it has held it."""
    lock = QLockFile(str(path))
    lock.setStaleLockTime(0)  # stale only when its process is gone
    return lock if lock.tryLock(0) else None


def learning_elsewhere() -> bool:
    """Another running copy is learning from the user's writing, or has a result waiting: it holds its learning lock.
    Its first model has no file yet, so only the lock tells Forget My Data that there is something to stop."""
    for path in data_dir().glob("learning-*.lock"):
        if path.name == learning_lock_name():
            continue
        lock = taken_from_no_live_copy(path)
        if lock is None:
            return True
        lock.unlock()
    return False


def learning_lock_name(pid: int | None = None) -> str:
    return f"learning-{os.getpid() if pid is None else pid}.lock"


def remove_abandoned_new_models() -> None:
    """Delete the unused new models of copies that are gone (a crash, a power cut while a result waited): a model
    of the user's text no copy will offer again. A live copy holds its learning lock until its result is chosen."""
    for path in new_model_paths():
        owner = NEW_MODEL_OWNER.search(path.name)
        if not owner or int(owner[1]) == os.getpid():
            continue
        lock = taken_from_no_live_copy(data_dir() / learning_lock_name(int(owner[1])))
        if lock is not None:  # held while deleting: no copy can start on that file meanwhile
            try:
                path.unlink(missing_ok=True)
            except OSError as e:
                log.warning("could not delete %s: %s", path, e)
            lock.unlock()


def finetune_command(base: Path | None, inputs: list[str], out: Path) -> list[str]:
    """`foretype finetune` run by this installation itself, so no `foretype` on PATH is needed.

    From a virtualenv that is this interpreter with ``-m``. In an installer's build (PyInstaller sets
    ``sys.frozen``) ``sys.executable`` is the app program, which runs only the app: the console
    program `foretype` beside it runs the command line.
    """
    if getattr(sys, "frozen", False):
        program = Path(sys.executable).with_name("foretype.exe" if sys.platform == "win32" else "foretype")
        argv = [str(program), "finetune"]
    else:
        argv = [sys.executable, "-m", "foretype.app.cli", "finetune"]
    if base is not None:
        argv += ["--base", str(base)]
    return argv + [*inputs, "--out", str(out), "--progress", "jsonl"]


# ---------------------------------------------------------------- what the user picked


@dataclass(frozen=True)
class Selection:
    files: int  # plain-text files found
    text_bytes: int  # their total size
    skipped: int  # files that are not plain text (binary, empty, other types)
    incomplete: bool  # the scan stopped at MAX_SCANNED_FILES
    skipped_examples: tuple[Skipped, ...] = ()  # the first few skipped files, with why

    def usable(self) -> bool:
        return self.files > 0 and self.text_bytes >= MIN_CHARS

    def describe(self) -> str:
        """A few lines for the dialog: how much text, how long, what was skipped and why."""
        more = "At least " if self.incomplete else ""
        if not self.files:
            lines = ["No plain-text files here. Choose .txt, .md or other text files, or folders of them."]
        elif not self.usable():
            lines = [f"Too little text: {format_bytes(self.text_bytes)} in {plural(self.files, 'file')}. "
                     f"Add at least about a page ({MIN_CHARS:,} characters)."]
        else:
            lines = [f"{more}{plural(self.files, 'text file')}, {format_bytes(self.text_bytes)}."]
            if self.incomplete or self.text_bytes > USED_BYTES:
                lines.append(f"Only the first {format_bytes(USED_BYTES)} of text will be used.")
            lines.append(f"This takes about {format_duration(estimate_seconds(self.text_bytes))}; you can keep writing meanwhile.")
        if self.skipped:
            reasons = "; ".join(f"{s.path.name}: {s.reason}" for s in self.skipped_examples)
            etc = "; …" if self.skipped > len(self.skipped_examples) else ""
            noun = "other file" if self.files else "file"
            lines.append(f"{more}{plural(self.skipped, noun)} skipped — {reasons}{etc}.")  # reasons hold parentheses
        return "\n".join(lines)


def scan_inputs(paths: Iterable[str], max_files: int = MAX_SCANNED_FILES) -> Selection:
    """Count the plain-text files and bytes the trainer would read, with the trainer's own file rules."""
    files = text_bytes = 0
    skipped: list[Skipped] = []
    incomplete = False
    for seen, item in enumerate(expand_inputs(paths), 1):
        if seen > max_files:
            incomplete = True
            break
        size = item if isinstance(item, Skipped) else text_file_size(item)
        if isinstance(size, Skipped):
            skipped.append(size)
        else:
            files, text_bytes = files + 1, text_bytes + size
    return Selection(files, text_bytes, len(skipped), incomplete, tuple(skipped[:SKIPPED_SHOWN]))


def text_file_size(path: Path) -> int | Skipped:
    """The size of a file the trainer would read, or why it would skip it (judged from the file's start)."""
    sniffed = read_text_file(path, max_bytes=SNIFF_BYTES)
    if isinstance(sniffed, Skipped):
        return sniffed
    try:
        return path.stat().st_size
    except OSError as e:
        return Skipped(path, f"cannot be read ({e.strerror or e})")


def estimate_seconds(text_bytes: int) -> float:
    """Rough, from finetune's budgets and runs on a 2-core machine: ~20 s to start and write the general-English
    probe; the held-out text typed before and after at ~85 words (~500 bytes) a second; and training, ~6 min for
    1 MB (most runs stop early). Measured: 52 KB 66 s, 978 KB 6-7 min."""
    used = min(text_bytes, USED_BYTES)
    measuring = 2 * min(REPORT_SECONDS, HELD_OUT_FRACTION * used / 500)
    return 20 + measuring + min(TRAIN_SECONDS, 360 * used / 2**20)


def format_bytes(n: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def format_duration(seconds: float) -> str:
    """Seconds under a minute, minutes from there; rounded first, so 59.7 s is "1 min", never "60 s"."""
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 60 else f"{round(seconds / 60)} min"


def time_left(seconds: float) -> str:
    return "Almost done" if round(seconds) == 0 else f"About {format_duration(seconds)} left"  # not "About 0 s left"


# ---------------------------------------------------------------- the trainer process


class TrainerProcess(QObject):
    """Runs the trainer and turns its JSON lines into signals; exactly one of done/failed/cancelled ends a run."""

    started_info = Signal(dict)  # the "start" event
    progress = Signal(dict)  # "progress" events
    warning = Signal(str)
    done = Signal(dict)  # the "done" event, after the process exited with status 0
    failed = Signal(str)  # one line for the user
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.process = QProcess(self)
        self.process.readyReadStandardOutput.connect(self._read_stdout)
        self.process.readyReadStandardError.connect(self._read_stderr)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error_occurred)
        self._stdout = b""
        self._stderr: list[str] = []
        self._last: dict | None = None  # the last done/error/cancelled event
        self._cancelling = False
        # Cancel's SIGKILL, for this run only: stopped when it ends, so it can never kill the next one
        self._kill_timer = QTimer(self, singleShot=True, interval=KILL_AFTER_MS)
        self._kill_timer.timeout.connect(self._kill_if_running)

    def start(self, argv: list[str]) -> None:
        log.info("starting the trainer: %s", " ".join(argv))
        self._stdout, self._stderr, self._last, self._cancelling = b"", [], None, False
        self.process.start(argv[0], argv[1:])

    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    def cancel(self) -> None:
        """SIGTERM (the trainer exits 130 leaving any previous output as it was); SIGKILL if it does not stop."""
        if not self.running():
            return
        self._cancelling = True
        self.process.terminate()
        self._kill_timer.start()

    def _kill_if_running(self) -> None:
        if self.running():
            log.warning("the trainer ignored SIGTERM; killing it")
            self.process.kill()

    def _read_stdout(self) -> None:
        self._stdout += bytes(self.process.readAllStandardOutput())
        *lines, self._stdout = self._stdout.split(b"\n")
        for line in lines:
            self._handle_line(line)

    def _read_stderr(self) -> None:
        text = bytes(self.process.readAllStandardError()).decode("utf-8", "replace")
        for line in text.splitlines():
            log.info("trainer: %s", line)
            if line.strip():
                self._stderr = (self._stderr + [line.strip()])[-STDERR_LINES:]

    def _handle_line(self, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            log.warning("trainer printed a line that is not JSON: %r", line[:200])
            return
        if not isinstance(event, dict):
            return
        kind = event.get("event")
        if kind == "start":
            self.started_info.emit(event)
        elif kind == "progress":
            self.progress.emit(event)
        elif kind == "warning":
            self.warning.emit(str(event.get("message", "")))
        elif kind in ("done", "error", "cancelled"):
            self._last = event
        # other events: the schema says to ignore what we do not know

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._kill_timer.stop()
        self._read_stdout()
        self._read_stderr()
        if self._stdout.strip():  # a last line without a newline
            self._handle_line(self._stdout)
            self._stdout = b""
        last = self._last or {}
        if last.get("event") == "done" and not self._cancelling:  # its model is written and checked, even if it
            self.done.emit(last)  # crashed on its way out
        elif self._cancelling or last.get("event") == "cancelled" or code == 130:
            self.cancelled.emit()
        else:
            self.failed.emit(self._failure_message(code, status, last))

    def _failure_message(self, code: int, status: QProcess.ExitStatus, last: dict) -> str:
        if last.get("event") == "error":
            return str(last.get("message", "unknown error"))
        how = "crashed" if status == QProcess.ExitStatus.CrashExit else f"stopped with exit status {code}"
        cause = self._stderr[-1] if self._stderr else ""
        if cause.startswith(LOG_PREFIX):  # what it was doing (killed by the system, say), not why it stopped
            cause = ""
        return f"The trainer {how}" + (f": {cause}" if cause else "")

    def _error_occurred(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:  # no finished() follows
            self.failed.emit(f"Could not start the trainer ({self.process.errorString()})")


# ---------------------------------------------------------------- the dialog


def confirm_stop(parent: QWidget, question: str, stop_text: str = "&Stop Learning") -> bool:
    """Ask before minutes of training are thrown away; Keep Learning is what Enter and Esc do."""
    box = QMessageBox(QMessageBox.Icon.Question, "Learning from your writing", question, parent=parent)
    stop = box.addButton(stop_text, QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("&Keep Learning", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    box.exec()
    return box.clickedButton() is stop


class LearnDialog(QDialog):
    """Three pages: choose files -> progress (the editor stays usable: the dialog is not modal) -> result.

    Emits ``use_model(path)`` when the user takes the new model; the window installs and loads it.
    """

    use_model = Signal(Path)

    def __init__(self, base: Callable[[], Path | None], command: Command = finetune_command, parent: QWidget | None = None):
        """``base()``: the model to start from (None: the bundled one), asked when the user clicks Start."""
        super().__init__(parent)
        self.setWindowTitle("Learn from my writing")
        self.setModal(False)
        self.base = base
        self.command = command
        self.out = new_model_path()
        self.paths: list[str] = []
        self.selection: Selection | None = None
        self.trainer = TrainerProcess(self)
        self.trainer.started_info.connect(self._on_start)
        self.trainer.progress.connect(self._on_progress)
        self.trainer.warning.connect(self._on_warning)
        self.trainer.done.connect(self._on_done)
        self.trainer.failed.connect(self._on_failed)
        self.trainer.cancelled.connect(self._on_cancelled)
        # held from Start until the result is used or discarded: Forget My Data in another copy looks for it (a first
        # run has no file yet), and a new model whose copy is gone is deleted at the next start (remove_abandoned_new_models)
        self._lock: QLockFile | None = None

        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._choose_page())
        self.pages.addWidget(self._progress_page())
        self.pages.addWidget(self._result_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        self.resize(520, 340)
        self._update_selection()

    # ------------------------------------------------ pages

    def _choose_page(self) -> QWidget:
        page = QWidget(self)
        intro = QLabel("Foretype can learn your words and phrases from your own documents. "
                       "Everything stays on this computer.", page, wordWrap=True)
        self.path_list = QListWidget(page)
        self.path_list.setAccessibleName("Folders and files to learn from")
        self.path_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.path_list.itemSelectionChanged.connect(self._update_remove_button)
        self.add_files_button = add_files = QPushButton("Add &Files…", page)
        add_files.clicked.connect(self._add_files)
        add_folder = QPushButton("Add F&older…", page)
        add_folder.clicked.connect(self._add_folder)
        self.remove_button = QPushButton("&Remove", page)
        self.remove_button.clicked.connect(self._remove_selected)
        for button in (add_files, add_folder, self.remove_button):  # Enter is Start's wherever the focus is, not a
            button.setAutoDefault(False)  # second file dialog
        self.summary = QLabel(page, wordWrap=True)
        self.start_button = QPushButton("&Start", page, default=True)
        self.start_button.clicked.connect(self.start)
        close = QPushButton("Close", page)
        close.clicked.connect(self.close)

        buttons = QVBoxLayout()
        for b in (add_files, add_folder, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.path_list, 1)
        row.addLayout(buttons)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)
        bottom.addWidget(self.start_button)
        layout = QVBoxLayout(page)
        layout.addWidget(intro)
        layout.addLayout(row, 1)
        layout.addWidget(self.summary)
        layout.addLayout(bottom)
        return page

    def _progress_page(self) -> QWidget:
        page = QWidget(self)
        self.phase_label = QLabel(page)
        self.progress_bar = QProgressBar(page, textVisible=False)
        self.eta_label = QLabel(page)
        self.detail_label = QLabel(page, wordWrap=True)
        # minutes of training must not end with a stray key: the user keeps typing, perhaps into this dialog by
        # mistake, so Cancel is neither Enter's button nor focused at the start (the page is); Esc and Alt+C still cancel
        self.cancel_button = QPushButton("&Cancel", page, autoDefault=False)
        self.cancel_button.clicked.connect(self.cancel)
        page.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.cancel_button)
        layout = QVBoxLayout(page)
        for w in (self.phase_label, self.progress_bar, self.eta_label, self.detail_label):
            layout.addWidget(w)
        layout.addStretch(1)
        layout.addLayout(bottom)
        return page

    def _result_page(self) -> QWidget:
        page = QWidget(self)
        self.result_label = QLabel(page, wordWrap=True, textFormat=Qt.TextFormat.RichText,
                                   alignment=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.use_button = QPushButton("&Use the New Model", page)  # it or Discard is made the default with the result
        self.use_button.clicked.connect(self._use)
        self.discard_button = QPushButton("&Discard", page)
        self.discard_button.clicked.connect(self._discard)
        self.again_button = QPushButton("&Back", page)  # after a failure or cancel: change the selection, try again
        self.again_button.clicked.connect(lambda: self.pages.setCurrentIndex(0))
        self.close_button = QPushButton("Close", page)
        self.close_button.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.again_button)
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        bottom.addWidget(self.discard_button)
        bottom.addWidget(self.use_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.result_label, 1)
        layout.addLayout(bottom)
        return page

    # ------------------------------------------------ choosing

    def add_paths(self, paths: Iterable[str]) -> None:
        for p in paths:
            if p and p not in self.paths:
                self.paths.append(p)
                self.path_list.addItem(p)
        self._update_selection()

    def _add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Your text files", str(Path.home()), "Text (*.txt *.md *.rst);;All files (*)")
        self.add_paths(files)

    def _add_folder(self) -> None:
        self.add_paths([QFileDialog.getExistingDirectory(self, "A folder of your writing", str(Path.home()))])

    def _remove_selected(self) -> None:
        for item in self.path_list.selectedItems():
            self.paths.remove(item.text())
            self.path_list.takeItem(self.path_list.row(item))
        self._update_selection()

    def _update_selection(self) -> None:
        self.selection = scan_inputs(self.paths) if self.paths else None
        if self.selection is None:
            self.summary.setText("Add the files or folders of text you wrote: letters, notes, articles.")
        else:
            self.summary.setText(self.selection.describe())
        self.start_button.setEnabled(bool(self.selection and self.selection.usable()))
        self._update_remove_button()

    def _update_remove_button(self) -> None:
        self.remove_button.setEnabled(bool(self.path_list.selectedItems()))

    # ------------------------------------------------ training

    def start(self) -> None:
        if not (self.selection and self.selection.usable()) or self.trainer.running():
            return
        gone = [p for p in self.paths if not os.path.lexists(p)]
        if gone:  # the trainer takes a name that does not exist as a pattern: "notes [a].txt" would read "notes a.txt"
            self.summary.setText(f"{Path(gone[0]).name} was moved or deleted since you chose it: remove it, or add it again.")
            return
        try:  # a stale result of an earlier run must not pass for this one's
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.out.unlink(missing_ok=True)
        except OSError as e:
            self._show_result(f"Cannot write to {self.out.parent}: {e.strerror or e}", can_use=False)
            return
        # the trainer reads first and says so only when it is done (its "start" event): meanwhile, a busy bar
        self.phase_label.setText(PHASES["reading"] + "…")
        self.progress_bar.setRange(0, 0)
        self.eta_label.setText("")
        self.detail_label.setText("")
        self.cancel_button.setEnabled(True)
        self.pages.setCurrentIndex(1)
        self.pages.currentWidget().setFocus()  # not Cancel, where Start's focus would pass on to
        self._lock = QLockFile(str(data_dir() / learning_lock_name()))
        if not self._lock.tryLock(LOCK_WAIT_MS):  # another copy's start-up looking at it (remove_abandoned_new_models)
            self._lock = None
            self._show_result(f"<p>Could not start: {html.escape(str(data_dir()))} is busy. Try again.</p>", can_use=False)
            return
        self.trainer.start(self.command(self.base(), list(self.paths), self.out))
        if self.parentWidget() is not None:  # the user goes on writing: keys typed now go to the editor, not here
            self.parentWidget().activateWindow()

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def stop_question(self, quitting: bool = False) -> str:
        left = self.eta_label.text()
        return (f"Learning from your writing is still running{f' ({left.lower()})' if left else ''}. "
                + ("Quitting stops it." if quitting else "Stop it?") + " What it has learned so far will be discarded.")

    def may_quit(self) -> bool:
        """Asked when the app quits, which ends a run and discards an unchosen result: both are minutes of work.

        The run may end while a question is open (its box runs the event loop): then the result is asked about.
        """
        parent = self.parentWidget() or self
        while self.running():
            if not confirm_stop(parent, self.stop_question(quitting=True), "&Stop and Quit"):
                return False
            if self.running():
                return True
        if not self.has_new_model():
            return True
        better = self.use_button.isDefault()  # the result page's advice
        yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
        answer = QMessageBox.question(
            parent, "Learning from your writing",
            "The new model learned from your writing is ready. Use it from now on?\n\nNo discards it"
            + ("." if better else ": it saved no more keystrokes on your text than the current model."),
            yes | no | QMessageBox.StandardButton.Cancel, defaultButton=yes if better else no)
        if answer == yes and self.has_new_model():  # not forgotten by another copy meanwhile
            self._use()
        return answer != QMessageBox.StandardButton.Cancel

    def cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.phase_label.setText("Cancelling…")
        self.trainer.cancel()

    def running(self) -> bool:
        return self.trainer.running()

    def _on_start(self, event: dict) -> None:
        """Reading is done; the trainer measures the current model (its held-out and general-English figures) before
        its first progress event."""
        self.phase_label.setText(PHASES["evaluating-base"] + "…")
        chars = int(event.get("train_chars", 0)) + int(event.get("held_out_chars", 0))
        skipped = int(event.get("skipped_total", 0))
        self.detail_label.setText(f"{plural(int(event.get('files', 0)), 'file')}, {chars:,} characters"
                                  + (f"; {plural(skipped, 'file')} skipped" if skipped else ""))

    def _on_progress(self, event: dict) -> None:
        self.phase_label.setText(PHASES.get(event.get("phase"), str(event.get("phase", ""))) + "…")
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setValue(round(PROGRESS_STEPS * min(1.0, max(0.0, float(event.get("fraction") or 0.0)))))
        eta = event.get("eta")
        self.eta_label.setText(time_left(float(eta)) if isinstance(eta, (int, float)) else "Estimating the time left…")

    def _on_warning(self, message: str) -> None:
        self.detail_label.setText((self.detail_label.text() + "\n" + message).strip())

    def _on_done(self, event: dict) -> None:
        before, after = event.get("before", {}), event.get("after", {})
        rows = [("Keystrokes saved", "ksr", "{:.1%}"), ("Next word in the top 3", "top3", "{:.1%}"),
                ("Bits per character (lower is better)", "bpc", "{:.3f}"),
                ("General English (bits/char, lower is better)", "general_bpc", "{:.3f}")]
        table = "".join(f"<tr><td>{name}</td><td align=right>{fmt.format(before[key])}</td><td align=right>{fmt.format(after[key])}</td></tr>"
                        for name, key, fmt in rows if key in before and key in after)
        note = GENERAL_ENGLISH_NOTE if "general_bpc" in before and "general_bpc" in after else ""
        if event.get("held_back"):
            note += "<p>Training was held back: learning more of your text made the model worse at general English.</p>"
        if event.get("best_step") == 0:  # the weights are the current model's; the lexicon is new
            note += "<p>Training did not improve its predictions on your text: the new model adds your words and phrases to the current one.</p>"
        better = "ksr" not in after or after["ksr"] > before.get("ksr", 0.0)  # not measured: no advice
        if not better:
            note += ("<p>The new model saved no more keystrokes on this text than the current one: "
                     "keeping the current model is the better choice.</p>")
        self._show_result(f"<p>Measured on {int(after.get('chars', 0)):,} characters of your text that training did not see:</p>"
                          f"<table cellspacing=6><tr><th></th><th>Before</th><th>After</th></tr>{table}</table>{note}"
                          "<p>Use the new model, or discard it and keep the current one?</p>", can_use=True)
        # Enter takes the recommended choice; it gets the focus too, as a focused button takes Enter whatever the default
        recommended = self.use_button if better else self.discard_button
        self.use_button.setDefault(better)
        self.discard_button.setDefault(not better)
        recommended.setFocus()

    def _on_failed(self, message: str) -> None:
        log.warning("learning failed: %s", message)
        self.discard_new_model()  # a trainer stopped between writing its model and saying so
        ending = "" if message.endswith((".", "!", "?")) else "."
        self._show_result(f"<p>Learning did not finish: {html.escape(message)}{ending}</p><p>Your current model is unchanged.</p>",
                          can_use=False)

    def _on_cancelled(self) -> None:
        self.discard_new_model()  # cancelled between writing its model and saying so
        self._show_result("<p>Cancelled. Your current model is unchanged.</p>", can_use=False)

    def _show_result(self, html: str, can_use: bool) -> None:
        self.result_label.setText(html)
        self.use_button.setVisible(can_use)
        self.discard_button.setVisible(can_use)
        self.again_button.setVisible(not can_use)
        self.close_button.setVisible(not can_use)
        self.pages.setCurrentIndex(2)

    def _use(self) -> None:
        self.pages.setCurrentIndex(0)  # chosen: closing must not discard it
        self.use_model.emit(self.out)
        if self.out.exists():  # not installed (the window says why): it still waits for Use or Discard
            self.pages.setCurrentIndex(2)
            return
        self._release_lock()
        self.close()

    def _discard(self) -> None:
        self.discard_new_model()
        self.pages.setCurrentIndex(0)  # nothing waits: closing must not keep the result page
        self.close()

    def discard_new_model(self) -> None:
        try:
            self.out.unlink(missing_ok=True)
        except OSError as e:
            log.warning("could not delete %s: %s", self.out, e)
        self._release_lock()

    def has_new_model(self) -> bool:
        """A finished model waits for Use or Discard: shown on the result page, the dialog hidden or not."""
        return self.pages.currentIndex() == 2 and not self.use_button.isHidden()

    def stop(self) -> None:
        """End a run in progress (the trainer is waited for) and discard a result the user did not choose.

        Closing the dialog, Escape, Forget My Data and quitting all come here: not through ``close()``, which
        does nothing to a dialog already hidden, so a run would go on writing a model from the user's text.
        """
        if self.trainer.running():
            self.trainer.cancel()
            self.trainer.process.waitForFinished(KILL_AFTER_MS)
            self.trainer._kill_if_running()
            self.trainer.process.waitForFinished(KILL_AFTER_MS)  # its cancelled signal now, not on a later page
        if self.has_new_model():
            self.discard_new_model()
        self._release_lock()
        self.pages.setCurrentIndex(0)

    def end(self) -> None:
        """Stop and hide, shown or not: for quitting."""
        self.stop()
        self.hide()

    def forget(self) -> None:
        """For Forget My Data: end, and forget which files and folders were chosen too."""
        self.end()
        self.paths.clear()
        self.path_list.clear()
        self._update_selection()

    def showEvent(self, event: QShowEvent) -> None:
        """An empty list took the first focus, where nothing shows it: start on Add Files."""
        super().showEvent(event)
        if self.pages.currentIndex() == 0 and not self.paths:
            self.add_files_button.setFocus()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing during a run asks, then stops it. A result waits for Use or Discard: closing only hides it (the run
        may also have ended while the question was open)."""
        if self.running() and not confirm_stop(self, self.stop_question()):
            event.ignore()
            return
        if not self.has_new_model():
            self.stop()
        event.accept()

    def reject(self) -> None:
        """Escape: during a run, as closing the dialog, which asks first (QDialog only hid it, the run going on); on a
        result, hide it as QDialog does: one key must not discard a model that took minutes to make."""
        if self.running():
            self.close()
        else:
            self.hide()
