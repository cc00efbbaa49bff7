"""The command line's own handling: interruptions, OS errors and arguments, each in one line."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest

from foretype.app import cli
from foretype.model import suggest
from foretype.model.bench import pause_seconds, read_bench_text
from foretype.model.errors import ForetypeError
from foretype.model.files import atomic_write, os_error_text
from foretype.model.modelfile import ModelFileError
from foretype.training.export import export
from foretype.training.train import TrainError


def test_ctrl_c_is_one_line_and_exit_status_130(monkeypatch, capsys):
    # prepare, eval and bench printed a KeyboardInterrupt traceback
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(suggest, "run", interrupted)
    assert cli.main(["suggest", "Thank you"]) == 130
    assert capsys.readouterr().err == "foretype suggest: interrupted\n"


def test_os_errors_name_the_users_file_not_the_temporary_one(tmp_path):
    # "Is a directory: /tmp/rc/.adir.pt.3xdw2f4p.tmp" for `export ... --out adir.pt`
    (tmp_path / "adir.pt").mkdir()
    with pytest.raises(OSError) as e:
        atomic_write(tmp_path / "adir.pt", lambda f: f.write(b"model"))
    assert os_error_text(e.value) == f"Is a directory: {tmp_path / 'adir.pt'}"
    refused = PermissionError(13, "Permission denied", str(tmp_path / ".model.pt.k2j4x9.tmp"))
    assert os_error_text(refused) == f"cannot create files in {tmp_path} (Permission denied)"
    assert os_error_text(PermissionError(13, "Permission denied", "/data/x.txt")) == "Permission denied: /data/x.txt"


def test_text_arguments_that_are_not_utf8_read_as_replacement_characters():
    # `foretype suggest $'\xff\xfe bad '` ended in "Unable to cast Python instance of type str"
    args = cli.build_parser().parse_args(["suggest", "\udcff\udcfe bad "])
    assert args.text == "\ufffd\ufffd bad "


def test_suggest_shows_a_small_probability_in_significant_digits():
    # a completion's probability is the whole word's: "See you tomor" -> tomorrow read "p=0.000"
    assert suggest.probability_text(math.log(0.000221)) == "0.000221"
    assert suggest.probability_text(math.log(0.995)) == "0.995"


@pytest.mark.parametrize("pause_ms", [-1.0, math.nan, math.inf])
def test_pause_ms_must_be_a_number_of_zero_or_more(pause_ms):
    with pytest.raises(ForetypeError, match="--pause-ms must be at least 0"):
        pause_seconds(pause_ms)


def test_bench_refuses_a_pipe_rather_than_waiting_for_ever(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(ForetypeError, match="pipe.txt: not a regular file"):
        read_bench_text(str(tmp_path / "pipe.txt"))


def test_an_exported_model_is_readable_as_the_umask_says_and_never_replaces_a_text(tiny_model_path, tmp_path):
    # every export was readable by its owner only (the temporary file's mode), unlike any other file written
    old = os.umask(0o022)
    try:
        export(tiny_model_path, tmp_path / "shared.pt")
    finally:
        os.umask(old)
    assert (tmp_path / "shared.pt").stat().st_mode & 0o777 == 0o644
    notes = tmp_path / "notes.txt"
    notes.write_text("Dear Anna,")
    with pytest.raises(ModelFileError, match="notes.txt exists and is not a model file"):
        export(tiny_model_path, notes)
    assert notes.read_text() == "Dear Anna,"


@pytest.mark.parametrize("vocabulary, message", [
    ("Dear Anna,\nthe garden is lovely this year.\n", "is not a vocabulary (one word a line)"),
    ("", "is empty"),
])
def test_export_refuses_a_vocabulary_that_is_not_one(tiny_model_path, tmp_path, vocabulary, message):
    # a plain text was taken as "830 words"; /dev/zero ran the machine out of memory
    (tmp_path / "vocabulary.txt").write_text(vocabulary)
    for path in (tmp_path / "vocabulary.txt", Path("/dev/zero")):
        with pytest.raises(TrainError, match=re.escape(message) if path.name == "vocabulary.txt" else "is not a file"):
            export(tiny_model_path, tmp_path / "out.pt", vocabulary=path)
    assert not (tmp_path / "out.pt").exists()


def test_exporting_an_empty_file_says_what_it_is_not(tmp_path):
    # the error message itself failed: an IndexError on the empty text of torch.load's EOFError
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(TrainError, match="empty.pt is neither a training checkpoint nor a Foretype model file"):
        export(tmp_path / "empty.pt", tmp_path / "out.pt")


def test_suggest_says_when_there_are_no_suggestions(tiny_model_path, capsys, caplog):
    # `foretype suggest "Привет как "` printed nothing at all, which read as a failure
    caplog.set_level("INFO")
    assert cli.main(["suggest", "--model", str(tiny_model_path), "call 555 12"]) == 0
    assert capsys.readouterr().out == "" and "no suggestions" in caplog.text
