"""`foretype finetune`: it learns the user's text, never damages a previous model, reports progress, refuses bad input in one line."""

from __future__ import annotations

import argparse
import dataclasses
import errno
import io
import json
import math
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from foretype.model.modelfile import ModelFileError, load_model_file, sha256_of
from foretype.model.recency import Lexicon
from foretype.model.vocabulary import Vocabulary
from foretype.training import finetune as finetune_module
from foretype.training.finetune import (
    FinetuneConfig,
    FinetuneError,
    PersonalText,
    Progress,
    finetune,
    general_english_reference,
    newest_vocabulary,
    personal_lexicons,
    read_personal_text,
    sample_probe,
    split_held_out,
    threads_for,
)

# A person who keeps writing the same few sentences, made of words the tiny model knows in other combinations.
PHRASES = ["Anna bought the red car.", "My friend found the well-known story!", "The teacher wants some coffee, thank you very much.",
           "We love the garden.", "Our team read this movie?"]
FAST = FinetuneConfig(lr=3e-2, min_lr=3e-3, max_epochs=10, report_words=300,  # the tiny model was trained at lr 1e-2,
                      max_forgetting=0.5)  # and at lr 3e-2 its own text costs it ~20% more bits/char after 100 steps


def personal_text(paragraphs: int = 120, seed: int = 5) -> str:
    rng = random.Random(seed)
    return "\n".join(" ".join(rng.choice(PHRASES) for _ in range(6)) for _ in range(paragraphs)) + "\n"


@pytest.fixture(scope="module")
def mine(tmp_path_factory):
    d = tmp_path_factory.mktemp("mine")
    (d / "notes.txt").write_text(personal_text())
    (d / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    return d


@pytest.fixture(scope="module")
def finetuned(tiny_model_path, mine, tmp_path_factory):
    """One fine-tuning run: its result, its progress lines, and the personal model file."""
    out = tmp_path_factory.mktemp("personal") / "personal.pt"
    stream = io.StringIO()
    result = finetune(tiny_model_path, [str(mine)], out, FAST, Progress("jsonl", stream))
    return result, [json.loads(line) for line in stream.getvalue().splitlines()], out


def test_the_guard_of_a_personal_model_fine_tuned_again_counts_from_the_default(finetuned, tiny_model_path, monkeypatch):
    # measured from each base, k runs would allow 1.08^k of the default's general-English bits/char
    monkeypatch.setattr(finetune_module, "default_model_path", lambda: Path(tiny_model_path))
    personal, base = load_model_file(finetuned[2]), load_model_file(tiny_model_path)
    assert general_english_reference(personal).sha256 == sha256_of(tiny_model_path)
    assert general_english_reference(base) is base


def test_a_personal_model_fine_tuned_again_gets_the_defaults_names(finetuned, tiny_model_path):
    # personal models copy the base's vocabulary: one made before the default's marked names would never get them
    personal, default = load_model_file(finetuned[2]), load_model_file(tiny_model_path)
    words = personal.vocabulary.to_payload().split("\n")
    named = dataclasses.replace(default, vocabulary=Vocabulary(words, capitalised=["anna"]))
    assert newest_vocabulary(personal, named).is_capitalised("anna")
    assert newest_vocabulary(personal, personal) is personal.vocabulary
    other = dataclasses.replace(default, vocabulary=Vocabulary(words[1:], capitalised=["anna"]))  # other words: another model's
    assert newest_vocabulary(personal, other) is personal.vocabulary


def test_learns_the_users_writing(finetuned):
    result, _, _ = finetuned
    before, after = result["before"], result["after"]
    # The engine's recency cache already predicts some of these repeated words for the base model,
    # which leaves fine-tuning less to add (measured: +0.055 here).
    assert after["ksr"] > before["ksr"] + 0.04
    assert after["top3"] > before["top3"]
    assert after["bpc"] < before["bpc"]
    assert result["best_step"] > 0
    assert after["general_bpc"] <= (1 + FAST.max_forgetting) * before["general_bpc"] + 1e-4


def test_the_probe_is_the_base_models_own_text_the_same_for_a_seed(tiny_model_path):
    base = load_model_file(tiny_model_path)
    rng = torch.get_rng_state()
    probe = sample_probe(base.model, base.tokenizer, streams=4, tokens=40, seed=1)
    assert torch.equal(torch.get_rng_state(), rng)  # training's random numbers are not disturbed
    assert probe == sample_probe(base.model, base.tokenizer, streams=4, tokens=40, seed=1)
    assert probe != sample_probe(base.model, base.tokenizer, streams=4, tokens=40, seed=2)
    assert len(probe.split("\n\n")) >= 4 and len(probe.split()) > 4 * 40 / 3


def test_checkpoints_that_forget_too_much_general_english_are_not_kept(tiny_model_path, mine, tmp_path):
    out = tmp_path / "p.pt"
    config = FinetuneConfig(lr=3e-2, min_lr=3e-3, max_epochs=10, report_words=20, max_forgetting=-1.0)  # every checkpoint over the bound
    stream = io.StringIO()
    result = finetune(tiny_model_path, [str(mine)], out, config, Progress("jsonl", stream))
    assert result["best_step"] == 0 and result["held_back"]
    total = json.loads(stream.getvalue().splitlines()[0])["total"]
    assert result["stopped"] == "early" and result["steps"] == config.patience * math.ceil(total / config.evals)  # over the bound is no improvement
    assert result["after"]["general_bpc"] == result["before"]["general_bpc"]
    personal, base = load_model_file(out).model.state_dict(), load_model_file(tiny_model_path).model.state_dict()
    assert all(torch.equal(personal[k], base[k]) for k in base)


def test_personal_model_file(finetuned, tiny_model_path):
    result, _, out = finetuned
    personal, base = load_model_file(out), load_model_file(tiny_model_path)
    assert personal.base_sha256 == sha256_of(tiny_model_path) == base.sha256
    assert personal.tokenizer.model_proto == base.tokenizer.model_proto
    assert personal.vocabulary.to_payload() == base.vocabulary.to_payload() != ""  # the base's words stay offerable
    assert personal.sha256 == result["sha256"]
    assert personal.summary["after"] == result["after"]
    assert (out.stat().st_mode & 0o777) == 0o600


def test_the_personal_model_keeps_the_words_of_the_users_writing(finetuned, tiny_model_path):
    _, _, out = finetuned
    personal = load_model_file(out)
    assert load_model_file(tiny_model_path).lexicon is None
    assert personal.lexicon._followers["Anna"]["bought"] > 0  # "Anna bought the red car."
    assert personal.summary["lexicon_words"] == len(personal.lexicon) > 10


def test_the_figures_count_only_the_training_texts_words_and_the_model_keeps_all():
    text = PersonalText(train_docs=["Anna bought the red car."], held_out_docs=["Quentin wrote it."])
    measured, kept = personal_lexicons(text, base=Lexicon.of_texts(["Zorblax came."]))
    assert {"Anna", "Zorblax"} <= measured._words.keys() and "Quentin" not in measured._words
    assert {"Anna", "Zorblax", "Quentin"} <= kept._words.keys()


def test_the_progress_fraction_never_goes_back_when_the_estimate_grows():
    stream = io.StringIO()
    progress = Progress("jsonl", stream)
    progress.started -= 10  # 10 s in
    for eta in (10.0, 1000.0, 5.0):
        progress.update(1, 10, eta, {}, force=True)
    fractions = [json.loads(line)["fraction"] for line in stream.getvalue().splitlines()]
    assert fractions[0] == pytest.approx(0.5, abs=0.01) and fractions[1] == fractions[0] and fractions[2] > fractions[1]


def test_a_person_sees_a_bar_while_the_models_are_measured(capsys):
    # up to 45 s a model with only a log line on the terminal
    progress = Progress("bar")
    progress.set_phase("evaluating-base", "measuring the base model on the held-out text")
    for typed in (400, 1000):
        progress.measured(typed, 1000)
    assert progress.bar.n == 1000
    progress.set_phase("training", "fine-tuning")
    assert progress.bar is None and "measuring" in capsys.readouterr().err
    Progress("jsonl", io.StringIO()).measured(400, 1000)  # the app reads eta and fraction instead


def test_progress_stream_follows_the_documented_schema(finetuned):
    result, lines, out = finetuned
    assert all({"event", "phase", "elapsed"} <= line.keys() for line in lines)
    start, done = lines[0], lines[-1]
    assert start["event"] == "start" and start["files"] == 1 and start["truncated"] is False
    assert [s["reason"] for s in start["skipped"]] == ["not a plain-text file type (.jpg)"] and start["skipped_total"] == 1
    assert start["train_chars"] > 5 * start["held_out_chars"] > 0 and start["total"] > 0
    assert done["event"] == "done" and done["out"] == str(out)
    assert {k: done[k] for k in result} == result
    assert set(done["before"]) == set(done["after"]) == {"bpc", "top3", "ksr", "chars", "general_bpc"}
    assert done["held_back"] is False

    progress = [line for line in lines if line["event"] == "progress"]
    assert list(dict.fromkeys(p["phase"] for p in progress)) == ["evaluating-base", "training", "evaluating", "saving"]
    for p in progress:
        assert {"step", "total", "eta", "fraction", "metrics"} <= p.keys()
        assert 0 <= p["step"] <= p["total"] == start["total"] and 0 <= p["fraction"] <= 1
        assert p["eta"] is None or p["eta"] >= 0
    training = [p for p in progress if p["phase"] == "training"]
    assert all({"loss", "lr", "held_out_bpc", "general_bpc", "best_bpc"} <= p["metrics"].keys() for p in training)
    assert [p["step"] for p in training] == sorted(p["step"] for p in training)
    assert [line["elapsed"] for line in lines] == sorted(line["elapsed"] for line in lines)


PREVIOUS_MODEL = b"PK\x03\x04 the previous personal model"  # a zip's first bytes, as a model file has


def test_cancel_leaves_the_previous_model_byte_identical(tiny_model_path, mine, tmp_path):
    """SIGTERM (the app's Cancel) as soon as the first progress line arrives."""
    out = tmp_path / "personal.pt"
    out.write_bytes(PREVIOUS_MODEL)
    proc = subprocess.Popen([sys.executable, "-m", "foretype.app.cli", "finetune", "--base", str(tiny_model_path), str(mine),
                             "--out", str(out), "--progress", "jsonl"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(json.loads(line))
        if lines[-1]["event"] == "progress":
            proc.send_signal(signal.SIGTERM)
            break
    lines += [json.loads(line) for line in proc.stdout]
    assert proc.wait(timeout=60) == 130, proc.stderr.read()
    assert "foretype: 1 file: learning from" in proc.stderr.read()  # notes.txt; photo.jpg skipped
    assert lines[-1]["event"] == "cancelled"
    assert out.read_bytes() == PREVIOUS_MODEL
    assert os.listdir(tmp_path) == ["personal.pt"]


@pytest.mark.parametrize("moment", ["training", "saving", "disk full"])
def test_interrupt_or_failure_at_any_moment_leaves_the_previous_model(tiny_model_path, mine, tmp_path, monkeypatch, moment):
    out = tmp_path / "personal.pt"
    out.write_bytes(PREVIOUS_MODEL)
    error = OSError(errno.ENOSPC, "No space left on device") if moment == "disk full" else KeyboardInterrupt()

    def fail(*args, **kwargs):
        raise error

    if moment == "training":
        monkeypatch.setattr("foretype.training.finetune.pull_toward", fail)
    else:
        monkeypatch.setattr(torch, "save", fail)  # inside the atomic write of the model file
    with pytest.raises(type(error)):
        finetune(tiny_model_path, [str(mine)], out, FinetuneConfig(report_words=20), Progress("jsonl", io.StringIO()))
    assert out.read_bytes() == PREVIOUS_MODEL
    assert os.listdir(tmp_path) == ["personal.pt"]


def test_a_full_disk_reaches_the_app_as_the_os_says_it(tiny_model_path, mine, tmp_path, monkeypatch, capsys):
    # the error event read "[Errno 28] No space left on device", Python's form, in the Learn dialog
    monkeypatch.setattr(finetune_module.os, "nice", lambda n: 0)  # run() lowers its priority, and sets signal handlers:
    monkeypatch.setattr(finetune_module.signal, "signal", lambda *a: None)  # not in the test process

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(finetune_module, "finetune", full_disk)
    args = argparse.Namespace(base=str(tiny_model_path), inputs=[str(mine)], out=str(tmp_path / "p.pt"), progress="jsonl")
    with pytest.raises(OSError):
        finetune_module.run(args)
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert last["event"] == "error" and last["message"] == "No space left on device"


def write_files(root, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        (root / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


@pytest.mark.parametrize("files, message", [
    ({}, "no files in the input"),
    ({"a.bin": b"\x00\x01\x02" * 100, "b.txt": b"\x00PK\x03\x04" * 50}, r"nothing to learn from: all 2 files skipped \(.*a\.bin: not a plain-text file type.*b\.txt: binary"),
    ({"empty.txt": ""}, r"nothing to learn from: the only file skipped \(.*empty"),
    ({"letter.txt": "Дорогая Анна, спасибо за письмо. Мы любим наш сад и читаем хорошие книги.\n" * 40},
     r"the only file skipped \(.*mostly characters the model does not know \(Cyrillic script"),
    ({"note.txt": "We love the garden.\n"}, r"only 19 characters of text in the input; give at least 2,000"),
])
def test_bad_input_is_refused_in_one_line(tiny_model_path, tmp_path, files, message):
    write_files(tmp_path, files)
    with pytest.raises(FinetuneError, match=message) as e:
        finetune(tiny_model_path, [str(tmp_path)], tmp_path / "out.pt", FAST, Progress("jsonl", io.StringIO()))
    assert "\n" not in str(e.value)
    assert not (tmp_path / "out.pt").exists()


def test_an_output_that_is_no_model_file_is_refused_before_training(tiny_model_path, mine, tmp_path):
    with pytest.raises(ModelFileError, match="is a folder: name a model file to write"):
        finetune(tiny_model_path, [str(mine)], tmp_path, FAST, Progress("jsonl", io.StringIO()))
    # `--out` naming one of the inputs replaced the user's writing with the model
    notes = tmp_path / "notes.txt"
    notes.write_text(personal_text())
    with pytest.raises(ModelFileError, match="notes.txt exists and is not a model file: it was left as it is"):
        finetune(tiny_model_path, [str(notes)], notes, FAST, Progress("jsonl", io.StringIO()))
    assert notes.read_text() == personal_text()


def test_command_line_error_is_one_line_and_a_jsonl_event(tiny_model_path, tmp_path):
    write_files(tmp_path, {"a.bin": b"\x00" * 100})
    proc = subprocess.run([sys.executable, "-m", "foretype.app.cli", "finetune", "--base", str(tiny_model_path), str(tmp_path / "a.bin"),
                           "--out", str(tmp_path / "out.pt"), "--progress", "jsonl"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1].startswith("foretype finetune: error: nothing to learn from")
    [line] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert line["event"] == "error" and line["message"].startswith("nothing to learn from")


def test_reading_stops_at_the_input_cap(tiny_model_path, tmp_path):
    for i in range(5):
        (tmp_path / f"{i}.txt").write_text(personal_text(20, seed=i))  # ~4 KB each
    size = (tmp_path / "0.txt").stat().st_size
    text = read_personal_text([str(tmp_path)], load_model_file(tiny_model_path).tokenizer, max_bytes=int(2.5 * size))
    assert text.truncated and text.files == 3
    assert text.train_chars + text.held_out_chars <= 2.5 * size
    assert not read_personal_text([str(tmp_path)], load_model_file(tiny_model_path).tokenizer, max_bytes=10 * size).truncated


def test_held_out_is_the_tail_cut_at_a_boundary():
    text = "\n\n".join(f"Paragraph {i} " + "word " * 20 for i in range(20))
    learn, held_out = split_held_out(text, 0.15)
    assert learn + "\n\n" + held_out == text
    assert held_out.startswith("Paragraph ") and 0.1 < len(held_out) / len(text) < 0.2
    learn, held_out = split_held_out("one line " * 100, 0.15)
    assert learn + " " + held_out == "one line " * 100 and not held_out.startswith(" ")


def test_threads_leave_a_core_for_the_editor():
    assert [threads_for(n) for n in (None, 1, 2, 3, 4, 8, 64)] == [1, 1, 1, 1, 2, 4, 4]


def test_training_stops_when_its_time_budget_is_spent(tiny_model_path, mine, tmp_path):
    result = finetune(tiny_model_path, [str(mine)], tmp_path / "p.pt", FinetuneConfig(train_seconds=0, report_words=20), Progress("jsonl", io.StringIO()))
    assert result["stopped"] == "time" and result["steps"] == 1
