""""Learn from my writing": the file scan, and the dialog driving a fake trainer process end to end."""

from __future__ import annotations

import os
import signal
import stat
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QLockFile, Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from foretype.app import learn
from foretype.app.cli import build_parser
from foretype.app.learn import LearnDialog, finetune_command, new_model_path, scan_inputs
from foretype.app.settings import Settings, draft_path, personal_model_path
from test_app import FakePredictor, make_window, type_text, user_dirs, wait_words  # noqa: F401 (fixtures)

# A stand-in for `foretype finetune --progress jsonl`: behaves as told by its first argument.
FAKE_TRAINER = r'''
import json, os, signal, sys
mode, out = sys.argv[1], sys.argv[sys.argv.index("--out") + 1]

def emit(event, **fields):
    print(json.dumps({"event": event, "elapsed": 0.1, **fields}), flush=True)

def on_term(*_):
    emit("cancelled", message="cancelled")
    sys.exit(130)

signal.signal(signal.SIGTERM, on_term)
emit("start", phase="reading", files=2, skipped=[], skipped_total=1, truncated=False, train_chars=8500, held_out_chars=1500, total=10)
if mode == "started":
    signal.pause()  # measuring the current model, until the app's Cancel
emit("progress", phase="training", step=5, total=10, eta=42.0, fraction=0.5, metrics={"loss": 3.1, "lr": 0.001})
if mode == "stubborn":  # ignores Cancel's SIGTERM
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.pause()
if mode == "gate":  # finishes as "ok" on the test's SIGUSR1
    signal.signal(signal.SIGUSR1, lambda *_: None)
    signal.pause()
if mode == "written-then-cancelled":  # SIGTERM between writing the model and saying so
    open(out, "w").write("new model")
    on_term()
if mode in ("ok", "no-better", "gate", "done-then-crash"):
    emit("warning", phase="reading", message="read only the first 4 MB of the input")
    open(out, "w").write("new model")
    emit("done", phase="done", out=out, sha256="x", steps=10, best_step=8, held_back=True, stopped="early", seconds=1.0,
         before={"bpc": 2.0, "top3": 0.30, "ksr": 0.20, "chars": 1500, "general_bpc": 1.9},
         after={"bpc": 1.8, "top3": 0.36, "ksr": 0.25 if mode == "ok" else 0.20, "chars": 1500, "general_bpc": 1.95})
    if mode == "done-then-crash":
        os.kill(os.getpid(), signal.SIGSEGV)
elif mode == "wait":
    print("not json: a stray line", flush=True)
    signal.pause()  # until the app's Cancel
elif mode == "crash":
    print("Traceback (most recent call last):\nMemoryError: out of memory", file=sys.stderr, flush=True)
    sys.exit(1)
elif mode == "killed":  # by the system (out of memory, say) right after a line of its log
    print("foretype: fine-tuning: at most 10 steps", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
elif mode == "error":
    emit("error", phase="reading", message="no plain-text files in the input")
    sys.exit(1)
'''


@pytest.fixture(autouse=True)
def questions(monkeypatch):
    """The questions asked before minutes of training are thrown away, answered as a test sets (a real box would wait
    for ever): Stop Learning, and No to using a waiting result when quitting, unless a test says otherwise."""
    class Questions:
        def __init__(self):
            self.asked: list[str] = []
            self.defaults: list[QMessageBox.StandardButton] = []
            self.stop, self.use = True, QMessageBox.StandardButton.No
            self.meanwhile = lambda: None  # what happens while the Stop question is open

        def confirm_stop(self, parent, question, *args) -> bool:
            self.asked.append(question)
            self.meanwhile()
            return self.stop

        def question(self, parent, title, text, *args, defaultButton=None):
            self.asked.append(text)
            self.defaults.append(defaultButton)
            return self.use

    answers = Questions()
    monkeypatch.setattr(learn, "confirm_stop", answers.confirm_stop)
    monkeypatch.setattr(QMessageBox, "question", answers.question)
    return answers


@pytest.fixture
def fake_command(tmp_path):
    """The dialog's command factory, running the fake trainer in the given mode; records the real arguments."""
    script = tmp_path / "fake_trainer.py"
    script.write_text(FAKE_TRAINER)
    calls = []

    def make(mode: str):
        def command(base, inputs, out):
            calls.append((base, inputs, out))
            return [sys.executable, str(script), mode, *inputs, "--out", str(out)]
        return command

    make.calls = calls
    return make


@pytest.fixture
def writing(tmp_path) -> Path:
    folder = tmp_path / "writing"
    folder.mkdir()
    (folder / "letter.txt").write_text("Dear Anna, the garden is lovely this year.\n" * 50)
    (folder / "notes.md").write_text("# Notes\n\nCall the plumber about the boiler.\n")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff" + bytes(range(256)) * 4)
    return folder


def start_learning(qtbot, window, mode: str, fake_command, paths: list[Path]) -> LearnDialog:
    dialog = window.open_learn_dialog(command=fake_command(mode))
    dialog.add_paths([str(p) for p in paths])
    assert dialog.start_button.isEnabled()
    dialog.start_button.click()
    return dialog


def test_scan_counts_text_files_and_skips_binary_and_empty(writing, tmp_path):
    selection = scan_inputs([str(writing)])
    assert (selection.files, selection.skipped, selection.incomplete) == (2, 1, False)
    assert selection.text_bytes == (writing / "letter.txt").stat().st_size + (writing / "notes.md").stat().st_size
    assert "2 text files" in selection.describe() and "about" in selection.describe()
    assert "1 other file skipped — photo.jpg: not a plain-text file type (.jpg)." in selection.describe()

    binary = tmp_path / "binary"
    binary.mkdir()
    (binary / "a.txt").write_bytes(b"\x00\x01" * 100)
    (binary / "empty.txt").write_text("")
    only_binary = scan_inputs([str(binary)])
    assert not only_binary.usable()
    assert only_binary.describe() == ("No plain-text files here. Choose .txt, .md or other text files, or folders of them.\n"
                                      "2 files skipped — a.txt: binary (contains NUL bytes); empty.txt: empty.")


def test_scan_of_a_huge_folder_stops_and_says_only_part_is_used(writing):
    selection = scan_inputs([str(writing)], max_files=1)
    assert selection.incomplete and selection.files == 1
    assert selection.describe().startswith("At least 1 text file")
    assert "Only the first 4.0 MB of text will be used" in selection.describe()


def test_the_app_reads_and_estimates_with_finetunes_budgets():
    from foretype.training.finetune import HELD_OUT_FRACTION, MAX_INPUT_BYTES, MIN_CHARS, FinetuneConfig

    assert learn.USED_BYTES == MAX_INPUT_BYTES and learn.HELD_OUT_FRACTION == HELD_OUT_FRACTION and learn.MIN_CHARS == MIN_CHARS
    assert (learn.REPORT_SECONDS, learn.TRAIN_SECONDS) == (FinetuneConfig.report_seconds, FinetuneConfig.train_seconds)
    assert learn.MAX_FORGETTING == FinetuneConfig.max_forgetting


def test_the_time_estimate_is_near_measured_runs_and_within_ten_minutes():
    # measured on 2 cores (docs/EXPERIMENTS.md): 52 KB of emails 66 s; 978 KB of wiki text 6-7 minutes
    assert 45 <= learn.estimate_seconds(52_000) <= 100
    assert 330 <= learn.estimate_seconds(1_000_000) <= 500
    assert learn.estimate_seconds(10 * 2**30) <= 600  # only the first 4 MB are used


def test_the_time_left_is_rounded_once_so_a_minute_never_reads_as_60_s():
    assert [learn.format_duration(s) for s in (42, 59.4, 59.6, 60, 89, 91, 600)] == \
        ["42 s", "59 s", "1 min", "1 min", "1 min", "2 min", "10 min"]
    assert [learn.time_left(s) for s in (0.2, 0.6, 75)] == ["Almost done", "About 1 s left", "About 1 min left"]


def test_the_real_command_parses_as_foretype_finetune_with_jsonl_progress(tmp_path):
    argv = finetune_command(Path("base.pt"), ["a.txt", "folder"], tmp_path / "out.pt")
    assert argv[:4] == [sys.executable, "-m", "foretype.app.cli", "finetune"]
    args = build_parser().parse_args(argv[3:])
    assert (args.base, args.inputs, args.out, args.progress) == ("base.pt", ["a.txt", "folder"], str(tmp_path / "out.pt"), "jsonl")
    assert "--base" not in finetune_command(None, ["a.txt"], tmp_path / "out.pt")  # the bundled model


def test_an_installer_build_runs_finetune_with_its_console_program(tmp_path, monkeypatch):
    app_program = tmp_path / "foretype" / ("foretype-app.exe" if sys.platform == "win32" else "foretype-app")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(app_program))
    argv = finetune_command(None, ["a.txt"], tmp_path / "out.pt")
    console = app_program.with_name("foretype.exe" if sys.platform == "win32" else "foretype")
    assert argv[:2] == [str(console), "finetune"]
    assert build_parser().parse_args(argv[1:]).inputs == ["a.txt"]


def test_empty_or_binary_selection_cannot_start(make_window, qtbot, tmp_path, fake_command):
    window = make_window()
    action = next(a for m in window.menuBar().actions() for a in m.menu().actions() if a.text() == "&Learn from My Writing…")
    action.trigger()
    dialog = window.learn_dialog
    assert dialog.isVisible() and dialog.command is finetune_command
    dialog.command = fake_command("ok")
    assert not dialog.start_button.isEnabled()
    (tmp_path / "pic.png").write_bytes(b"\x89PNG\x00\x00")
    dialog.add_paths([str(tmp_path / "pic.png")])
    assert not dialog.start_button.isEnabled()
    assert "No plain-text files" in dialog.summary.text()
    dialog.start()
    assert not fake_command.calls and dialog.pages.currentIndex() == 0
    (tmp_path / "short.txt").write_text("A line or two.")  # finetune refuses under a page: Start was offered for it
    dialog.add_paths([str(tmp_path / "short.txt")])
    assert not dialog.start_button.isEnabled()
    assert dialog.summary.text().startswith("Too little text: 14 bytes in 1 file. Add at least about a page (2,000 characters).")


def test_remove_takes_the_selected_entries_and_waits_for_a_selection(make_window, qtbot, tmp_path):
    window = make_window()
    dialog = window.open_learn_dialog()
    dialog.add_paths([str(tmp_path / name) for name in ("a", "b", "c")])
    assert not dialog.remove_button.isEnabled()  # it did nothing with nothing selected
    dialog.path_list.item(0).setSelected(True)
    dialog.path_list.item(2).setSelected(True)
    dialog.remove_button.click()
    assert dialog.paths == [str(tmp_path / "b")] and not dialog.remove_button.isEnabled()


def test_learning_end_to_end_then_use_switches_to_the_personal_model_without_restart(make_window, qtbot, writing, fake_command):
    loaded = []
    window = make_window(loader=lambda path: loaded.append(path) or FakePredictor())
    dialog = start_learning(qtbot, window, "ok", fake_command, [writing])
    assert fake_command.calls[0][2] == new_model_path()
    type_text(qtbot, window, "we ")  # the editor keeps working while the trainer runs
    wait_words(qtbot, window, ["one", "two", "three"])
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    assert dialog.progress_bar.value() == 500
    assert "42 s left" in dialog.eta_label.text()
    assert dialog.detail_label.text() == "2 files, 10,000 characters; 1 file skipped\nread only the first 4 MB of the input"
    text = dialog.result_label.text()
    assert "20.0%" in text and "25.0%" in text and "1.800" in text
    assert "<td>General English (bits/char, lower is better)</td><td align=right>1.900</td><td align=right>1.950</td>" in text
    assert "held back" in text and "worse at general English" in text
    assert "everyday English" in text and "8% above" in text  # what the General English row means
    assert dialog.use_button.isVisible()

    with qtbot.waitSignal(window.service.model_ready, timeout=10000):
        dialog.use_button.click()
    assert loaded[-1] == personal_model_path()
    assert personal_model_path().read_text() == "new model"
    assert stat.S_IMODE(personal_model_path().stat().st_mode) == 0o600
    assert not new_model_path().exists()
    assert Settings.load().model == "personal"
    assert not dialog.isVisible()


def test_a_model_that_saves_no_more_keystrokes_says_so_and_enter_discards_it(make_window, qtbot, writing, fake_command):
    window = make_window()
    dialog = start_learning(qtbot, window, "no-better", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    assert "saved no more keystrokes" in dialog.result_label.text()
    assert dialog.discard_button.isDefault() and not dialog.use_button.isDefault()
    qtbot.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_Return)
    assert not new_model_path().exists() and not personal_model_path().exists()

    window.open_learn_dialog()
    dialog.command = fake_command("ok")  # a better one: Use is the default again
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    assert "saved no more keystrokes" not in dialog.result_label.text()
    assert dialog.use_button.isDefault() and not dialog.discard_button.isDefault()


def test_discard_deletes_the_new_model_and_keeps_the_old_one(make_window, qtbot, writing, fake_command):
    window = make_window()
    dialog = start_learning(qtbot, window, "ok", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    assert new_model_path().exists()
    dialog.discard_button.click()
    assert not new_model_path().exists() and not personal_model_path().exists()


def test_cancel_stops_the_trainer_and_leaves_the_model_as_it_was(make_window, qtbot, writing, fake_command):
    personal_model_path().parent.mkdir(parents=True, exist_ok=True)
    personal_model_path().write_text("old model")
    window = make_window()
    dialog = start_learning(qtbot, window, "wait", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.progress_bar.value() == 500, timeout=20000)
    assert dialog.running()
    with qtbot.waitSignal(dialog.trainer.cancelled, timeout=10000):
        dialog.cancel_button.click()
    assert not dialog.running()
    assert "Cancelled" in dialog.result_label.text() and not dialog.use_button.isVisible()
    assert personal_model_path().read_text() == "old model"


def test_starting_again_right_after_cancel_is_not_killed_by_the_first_runs_timer(make_window, qtbot, writing, fake_command,
                                                                                monkeypatch):
    monkeypatch.setattr(learn, "KILL_AFTER_MS", 300)
    window = make_window()
    dialog = start_learning(qtbot, window, "wait", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.progress_bar.value() == 500, timeout=20000)
    with qtbot.waitSignal(dialog.trainer.cancelled, timeout=10000):
        dialog.cancel_button.click()
    dialog.again_button.click()
    dialog.start_button.click()
    with qtbot.assertNotEmitted(dialog.trainer.failed, wait=2 * learn.KILL_AFTER_MS):
        pass
    assert dialog.running() and dialog.pages.currentIndex() == 1


def test_reading_shows_as_such_with_a_busy_bar_until_the_first_progress(make_window, qtbot, writing, fake_command):
    window = make_window()
    dialog = start_learning(qtbot, window, "wait", fake_command, [writing])
    assert dialog.phase_label.text() == "Reading your files…" and dialog.progress_bar.maximum() == 0  # busy
    qtbot.waitUntil(lambda: dialog.progress_bar.value() == 500, timeout=20000)
    assert dialog.phase_label.text() == "Learning…" and dialog.progress_bar.maximum() == 1000


def test_after_reading_the_dialog_says_the_current_model_is_measured(make_window, qtbot, writing, fake_command):
    window = make_window()
    dialog = start_learning(qtbot, window, "started", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.detail_label.text().startswith("2 files"), timeout=20000)  # the start event
    assert dialog.phase_label.text() == "Measuring the current model…" and dialog.progress_bar.maximum() == 0


def test_quitting_during_a_run_asks_first_then_stops_the_trainer(make_window, qtbot, writing, fake_command, questions):
    # Ctrl+Q threw away minutes of training without a word
    window = make_window()
    dialog = start_learning(qtbot, window, "wait", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.progress_bar.value() == 500, timeout=20000)
    questions.stop = False  # Keep Learning
    assert not window.close()
    assert window.isVisible() and dialog.running()
    assert questions.asked == ["Learning from your writing is still running (about 42 s left). Quitting stops it. "
                               "What it has learned so far will be discarded."]
    questions.stop = True
    assert window.close()
    assert not dialog.running() and not new_model_path().exists()


def test_quitting_with_a_result_not_chosen_yet_offers_to_use_it(make_window, qtbot, writing, fake_command, questions):
    # quitting discarded it silently
    window = make_window()
    dialog = start_learning(qtbot, window, "ok", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    dialog.hide()
    questions.use = QMessageBox.StandardButton.Cancel
    assert not window.close() and new_model_path().exists()
    questions.use = QMessageBox.StandardButton.Yes
    assert window.close()
    assert personal_model_path().read_text() == "new model" and Settings.load().model == "personal"
    assert "ready. Use it from now on?" in questions.asked[-1]


def test_escape_asks_then_cancels_a_run_as_closing_does(make_window, qtbot, writing, fake_command, questions):
    # Escape hid the dialog and the run went on writing a model from the user's text; then it cancelled without asking
    window = make_window()
    dialog = start_learning(qtbot, window, "wait", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.progress_bar.value() == 500, timeout=20000)
    questions.stop = False
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible() and dialog.running() and questions.asked[-1].endswith("Stop it? What it has learned so far will be discarded.")
    questions.stop = True
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and not dialog.running() and dialog.pages.currentIndex() == 0


def test_after_start_the_keys_go_to_the_editor_again(make_window, qtbot, writing, fake_command, monkeypatch):
    # the progress dialog kept the focus: letters typed were lost, Tab reached Cancel and the next Space cancelled
    # (offscreen windows are not activated as on a desktop, so the request itself is checked)
    window = make_window()
    activated = []
    monkeypatch.setattr(window, "activateWindow", lambda: activated.append(window))
    dialog = start_learning(qtbot, window, "wait", fake_command, [writing])
    assert activated == [window] and dialog.isVisible() and dialog.running()


def test_typing_into_the_progress_dialog_by_mistake_does_not_cancel_the_run(make_window, qtbot, writing, fake_command):
    # Space or Enter right after Start pressed the focused Cancel: minutes of training lost to a stray key
    window = make_window()
    dialog = start_learning(qtbot, window, "wait", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.progress_bar.value() == 500, timeout=20000)
    for key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_A):
        qtbot.keyClick(dialog.focusWidget() or dialog, key)
    assert dialog.running() and dialog.cancel_button.isEnabled()
    qtbot.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.running(), timeout=10000)


def test_escape_on_a_result_hides_it_and_keeps_the_model_for_later(make_window, qtbot, writing, fake_command, monkeypatch):
    window = make_window()
    dialog = start_learning(qtbot, window, "ok", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # one key must not throw away minutes of training
    assert not dialog.isVisible() and new_model_path().read_text() == "new model"
    assert window.open_learn_dialog() is dialog and dialog.pages.currentIndex() == 2
    dialog.hide()
    told = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: told.append(a[2]))
    window.forget_my_data()  # the unused new model is deleted, whether the dialog shows it or not
    assert not new_model_path().exists() and told == ["The new model learned from your writing, not used yet, was deleted."]


def test_each_running_copy_trains_into_its_own_file_and_forget_deletes_them_all(make_window, qtbot, writing, fake_command,
                                                                                monkeypatch):
    # a second copy's Start deleted the first copy's finished model: both wrote personal-new.pt
    others = new_model_path().with_name("personal-new-999999.pt")
    others.parent.mkdir(parents=True, exist_ok=True)
    others.write_text("the other copy's new model")
    other_copys_lock = QLockFile(str(others.with_name("learning-999999.lock")))  # that copy is running: its result waits
    assert other_copys_lock.tryLock(0)
    window = make_window()
    dialog = start_learning(qtbot, window, "ok", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    assert others.read_text() == "the other copy's new model"
    with monkeypatch.context() as other_copy:
        other_copy.setattr(learn.os, "getpid", lambda: 999999)
        assert new_model_path() == others  # where that copy's trainer writes: not this copy's file
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    window.forget_my_data()
    assert not others.exists() and not new_model_path().exists()


def test_a_new_model_whose_copy_is_gone_is_deleted_at_the_next_start(make_window, qtbot, writing, fake_command, monkeypatch):
    # a crash while the result waited left a model of the user's text that no copy would offer again, one per crash
    abandoned = new_model_path().with_name("personal-new-999999.pt")
    abandoned.parent.mkdir(parents=True, exist_ok=True)
    abandoned.write_text("a crashed copy's new model")
    window = make_window()
    assert not abandoned.exists()
    dialog = start_learning(qtbot, window, "ok", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    with monkeypatch.context() as another_copy:  # starting now: this copy is alive and its result waits, so it stays
        another_copy.setattr(learn.os, "getpid", lambda: 999998)
        learn.remove_abandoned_new_models()
    assert new_model_path().read_text() == "new model"


def test_an_install_error_goes_once_a_model_loads(make_window, qtbot, tmp_path):
    window = make_window()
    window.install_personal_model(tmp_path / "gone.pt")
    assert window.info.isVisible() and "Could not install the new model" in window.info.label.text()
    with qtbot.waitSignal(window.service.model_ready, timeout=10000):
        window.switch_model("default")
    assert not window.info.isVisible()  # it read as if the model in use had failed


def test_forget_my_data_stops_a_run_in_a_hidden_dialog(make_window, qtbot, writing, fake_command, monkeypatch):
    window = make_window()
    dialog = start_learning(qtbot, window, "wait", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.progress_bar.value() == 500, timeout=20000)
    QDialog.reject(dialog)  # hidden as QDialog's own Escape did: close() then never reached the dialog
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: told.append(a[2]))
    window.forget_my_data()
    assert not dialog.running() and not new_model_path().exists()
    assert told == ["Learning from your writing was stopped; nothing was kept."]  # not "your personal model was deleted"


def test_forget_my_data_in_one_copy_stops_another_copys_run_and_unloads_its_personal_model(make_window, qtbot, writing,
                                                                                           fake_command, monkeypatch):
    # the other copy went on training from the user's text, and suggesting from the deleted model, after "deleted"
    personal_model_path().parent.mkdir(parents=True, exist_ok=True)
    personal_model_path().write_text("personal")
    loaded = []
    other = make_window(loader=lambda path: loaded.append(path) or FakePredictor())
    assert loaded[-1] == personal_model_path()
    dialog = start_learning(qtbot, other, "wait", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.progress_bar.value() == 500, timeout=20000)
    this = make_window()
    other.editor.insertPlainText("Dear Anna")
    other.autosave()  # a draft saved in the data folder is no Forget
    qtbot.waitUntil(lambda: draft_path(other.draft_slot).exists(), timeout=5000)
    assert dialog.running() and not other.info.isVisible()

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    this.forget_my_data()
    qtbot.waitUntil(lambda: not dialog.running() and loaded[-1] is None, timeout=10000)
    assert not new_model_path().exists() and not personal_model_path().exists()
    assert "Forget My Data in another Foretype window" in other.info.label.text() and "learning here was stopped" in other.info.label.text()
    assert not this.info.isVisible()  # its own Forget is no news to it


def test_forget_my_data_finds_another_copys_first_run_which_has_no_file_yet(make_window, qtbot, writing, fake_command,
                                                                          monkeypatch):
    # "There is nothing to forget", and the other copy went on making a model from the user's writing
    other = make_window()
    with monkeypatch.context() as other_copy:
        other_copy.setattr(learn.os, "getpid", lambda: 999999)  # its learning lock is another process's
        dialog = start_learning(qtbot, other, "wait", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.progress_bar.value() == 500, timeout=20000)
    this = make_window()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: told.append(a[2]))
    this.forget_my_data()
    assert told == ["Learning from your writing was stopped; nothing was kept."]
    qtbot.waitUntil(lambda: not dialog.running(), timeout=10000)
    assert not learn.learning_elsewhere()  # the run ended: its lock with it


@pytest.mark.parametrize("mode, message", [("crash", "exit status 1: MemoryError: out of memory"),
                                           ("error", "no plain-text files in the input")])
def test_a_failing_trainer_gives_a_clear_message_and_the_app_keeps_working(make_window, qtbot, writing, fake_command, mode, message):
    window = make_window()
    dialog = start_learning(qtbot, window, mode, fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    assert message in dialog.result_label.text() and "unchanged" in dialog.result_label.text()
    assert dialog.again_button.isVisible() and dialog.close_button.isVisible() and not dialog.use_button.isVisible()
    dialog.again_button.click()
    assert dialog.pages.currentIndex() == 0 and dialog.start_button.isEnabled()  # can try again
    type_text(qtbot, window, "he")
    wait_words(qtbot, window, ["hea", "heb", "hec"])


def test_a_trainer_killed_by_the_system_is_not_blamed_on_its_last_log_line(make_window, qtbot, writing, fake_command):
    window = make_window()
    dialog = start_learning(qtbot, window, "killed", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    assert "Learning did not finish: The trainer crashed.</p>" in dialog.result_label.text()


def test_learning_starts_from_the_model_in_use_not_one_that_failed_to_load(make_window, qtbot, writing, fake_command, tmp_path):
    def loader(path):
        if path is not None and path.name == "broken.pt":
            raise ValueError("not a model")
        return FakePredictor()

    window = make_window(loader=loader, model=str(tmp_path / "mine.pt"))
    dialog = window.open_learn_dialog(command=fake_command("ok"))  # left open while the model changes
    assert dialog.base() == tmp_path / "mine.pt"
    with qtbot.waitSignals([window.service.model_failed, window.service.model_ready], timeout=10000):
        window.service.load_model(tmp_path / "broken.pt")
    dialog.add_paths([str(writing)])
    dialog.start_button.click()
    assert fake_command.calls[-1][0] is None  # the bundled model it fell back to, not broken.pt or mine.pt


def test_a_trainer_that_cannot_start_is_reported(make_window, qtbot, writing, tmp_path):
    window = make_window()
    dialog = window.open_learn_dialog(command=lambda base, inputs, out: [str(tmp_path / "no-such-python")])
    dialog.add_paths([str(writing)])
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=10000)
    assert "Could not start the trainer" in dialog.result_label.text()


def test_reset_loads_the_default_model_and_forget_deletes_the_personal_one(make_window, qtbot, monkeypatch):
    personal_model_path().parent.mkdir(parents=True, exist_ok=True)
    personal_model_path().write_text("personal")
    new_model_path().write_text("unused new")
    loaded = []
    window = make_window(loader=lambda path: loaded.append(path) or FakePredictor())
    assert loaded[-1] == personal_model_path()

    assert window.reset_action.isEnabled() and not window.personal_action.isEnabled()
    with qtbot.waitSignal(window.service.model_ready, timeout=10000):
        window.switch_model("default")
    assert loaded[-1] is None and Settings.load().model == "default"
    assert not window.reset_action.isEnabled()  # nothing to reset to
    assert personal_model_path().exists()  # reset does not delete
    assert window.personal_action.isEnabled()  # the way back was only through Settings

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    window.forget_my_data()
    assert personal_model_path().exists() and "personal model" in asked[0]

    window.switch_model("personal")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: told.append(a[2]))
    qtbot.waitUntil(lambda: loaded[-1] == personal_model_path(), timeout=10000)
    with qtbot.waitSignal(window.service.model_ready, timeout=10000):
        window.forget_my_data()
    assert not personal_model_path().exists() and not new_model_path().exists()
    assert loaded[-1] is None and not window.personal_action.isEnabled()
    assert told == ["Your personal model was deleted."]

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("asked to delete what does not exist"))
    window.forget_my_data()
    assert "nothing to forget" in told[-1]


def test_forget_my_data_also_forgets_which_files_were_chosen(make_window, qtbot, writing, monkeypatch):
    # the dialog still listed them after Forget
    personal_model_path().parent.mkdir(parents=True, exist_ok=True)
    personal_model_path().write_text("personal")
    window = make_window()
    dialog = window.open_learn_dialog()
    dialog.add_paths([str(writing)])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    window.forget_my_data()
    assert dialog.paths == [] and dialog.path_list.count() == 0 and not dialog.start_button.isEnabled()


def run_that_ends_while_asked(qtbot, window, fake_command, writing, questions) -> LearnDialog:
    """A run under way whose trainer ends while the Stop question is open: the box's event loop delivers the result
    behind it."""
    dialog = start_learning(qtbot, window, "gate", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.progress_bar.value() == 500, timeout=20000)

    def finish() -> None:
        os.kill(dialog.trainer.process.processId(), signal.SIGUSR1)
        qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)

    questions.meanwhile = finish
    return dialog


def test_a_run_that_ends_while_stop_and_quit_is_asked_is_offered_not_thrown_away(make_window, qtbot, writing,
                                                                                 fake_command, questions):
    window = make_window()
    run_that_ends_while_asked(qtbot, window, fake_command, writing, questions)
    questions.use = QMessageBox.StandardButton.Yes
    assert window.close()
    assert "ready. Use it from now on?" in questions.asked[-1]
    assert personal_model_path().read_text() == "new model"


def test_closing_the_dialog_on_a_result_keeps_it_even_when_the_run_ended_during_the_question(make_window, qtbot, writing,
                                                                                           fake_command, questions):
    # the title bar's close button deleted a finished model without a word
    window = make_window()
    dialog = run_that_ends_while_asked(qtbot, window, fake_command, writing, questions)
    dialog.close()  # "Stop it?" answered Stop, but it had finished
    assert new_model_path().read_text() == "new model" and not dialog.isVisible()
    assert window.open_learn_dialog() is dialog and dialog.pages.currentIndex() == 2
    dialog.close()
    assert new_model_path().exists()
    dialog.show()
    dialog.discard_button.click()
    assert not new_model_path().exists() and dialog.pages.currentIndex() == 0


def test_quitting_asks_with_the_result_pages_advice_as_the_default(make_window, qtbot, writing, fake_command, questions):
    window = make_window()
    dialog = start_learning(qtbot, window, "no-better", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    assert window.close()
    assert questions.defaults == [QMessageBox.StandardButton.No] and "saved no more keystrokes" in questions.asked[-1]
    assert not new_model_path().exists()


def test_a_model_written_just_before_a_cancel_is_deleted(make_window, qtbot, writing, fake_command):
    window = make_window()
    dialog = start_learning(qtbot, window, "written-then-cancelled", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    assert "Cancelled" in dialog.result_label.text() and not new_model_path().exists()


def test_a_killed_copys_temporary_model_file_is_deleted_too(make_window, qtbot):
    partial = new_model_path().with_name(".personal-new-999999.pt.k2j4x9.tmp")
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_text("half a model of the user's text")
    make_window()
    assert not partial.exists()


def test_a_chosen_file_gone_before_start_is_not_read_as_a_pattern(make_window, qtbot, tmp_path, writing, fake_command):
    # "notes [a].txt", renamed after it was chosen, would be a pattern that reads "notes a.txt"
    chosen = writing / "notes [a].txt"
    chosen.write_text("Dear Anna, the garden is lovely this year.\n" * 50)
    dialog = make_window().open_learn_dialog(command=fake_command("ok"))
    dialog.add_paths([str(chosen)])
    chosen.rename(writing / "notes a.txt")
    dialog.start_button.click()
    assert not fake_command.calls and dialog.pages.currentIndex() == 0
    assert dialog.summary.text() == "notes [a].txt was moved or deleted since you chose it: remove it, or add it again."


def test_the_dialog_opens_on_add_files_not_on_the_empty_list(make_window, qtbot):
    # the empty list took the focus, where nothing showed it
    dialog = make_window().open_learn_dialog()
    assert dialog.focusWidget() is dialog.add_files_button


def test_enter_starts_even_with_the_focus_on_add_files(make_window, qtbot, writing, fake_command, monkeypatch):
    # Add Files took Enter from Start and opened the file dialog a second time
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([], ""))
    dialog = make_window().open_learn_dialog(command=fake_command("ok"))
    dialog.add_paths([str(writing)])
    dialog.add_files_button.setFocus()
    qtbot.keyClick(dialog.add_files_button, Qt.Key.Key_Return)
    assert fake_command.calls


def test_a_trainer_that_ignores_cancel_is_killed_and_leaves_the_dialog_on_its_first_page(make_window, qtbot, writing,
                                                                                        fake_command, monkeypatch):
    # its late "finished" put the hidden dialog on "Cancelled", shown at the next opening
    monkeypatch.setattr(learn, "KILL_AFTER_MS", 300)
    window = make_window()
    dialog = start_learning(qtbot, window, "stubborn", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.progress_bar.value() == 500, timeout=20000)  # after it ignores SIGTERM
    dialog.end()
    qtbot.waitUntil(lambda: not dialog.running(), timeout=5000)
    qtbot.wait(0)  # any signal still queued
    assert dialog.pages.currentIndex() == 0


def test_a_trainer_that_crashes_after_saying_done_still_offers_its_model(make_window, qtbot, writing, fake_command):
    # its written, checked model was taken for a failure and deleted
    dialog = start_learning(qtbot, make_window(), "done-then-crash", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    assert dialog.use_button.isVisible() and new_model_path().read_text() == "new model"


def test_a_model_that_cannot_be_installed_still_waits_for_use_or_discard(make_window, qtbot, writing, fake_command):
    # Use went back to the first page and let the lock go: the model was orphaned, and deleted at the next start
    window = make_window()
    dialog = start_learning(qtbot, window, "ok", fake_command, [writing])
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=20000)
    personal_model_path().mkdir(parents=True)  # renaming onto it fails
    dialog.use_button.click()
    assert dialog.pages.currentIndex() == 2 and dialog.use_button.isVisible() and new_model_path().exists()
    assert "Could not install the new model" in window.info.label.text()
    personal_model_path().rmdir()
    dialog.use_button.click()
    assert personal_model_path().read_text() == "new model" and not new_model_path().exists()
