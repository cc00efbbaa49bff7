"""prepare -> train -> export, resume, overrides, and the data-parallel smoke test."""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import generated_text
from foretype.model.lstm import LSTMConfig, LSTMLanguageModel
from foretype.model.modelfile import load_model_file
from foretype.model.predictor import Predictor
from foretype.model.tokenizer import Tokenizer
from foretype.training import prepare as prepare_module
from foretype.training import train as train_module
from foretype.training.config import ConfigError, make_config, parse_overrides
from foretype.training.export import export
from foretype.training.prepare import OUTPUTS, PrepareError, prepare
from foretype.training.textfiles import Skipped, read_text_file
from foretype.training.train import TIMED_STEPS, TrainError, restart_some_streams, steps_within_budget, train


def test_prepare_survives_binary_empty_and_latin1_files(tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "good.txt").write_text(generated_text(300, seed=3))
    (src / "empty.txt").write_text("")
    (src / "image.txt").write_bytes(bytes(range(256)) * 40)
    (src / "sub" / "latin1.txt").write_bytes("Le café était très animé, déjà plein.\n\nÇa va.".encode("latin-1"))
    (src / "photo.png").write_bytes(b"\x89PNG\r\n")
    meta = prepare([str(src)], tmp_path / "out", vocab_size=400)
    assert meta["files"] == 2  # good.txt and latin1.txt
    reasons = "\n".join(meta["skipped"])
    assert "empty.txt: empty" in reasons
    assert "image.txt: binary" in reasons
    assert "photo.png: not a plain-text file type" in reasons
    train_ids = np.memmap(tmp_path / "out" / "train.bin", dtype=np.uint16, mode="r")
    assert meta["train"]["tokens"] == len(train_ids) > 1000
    assert meta["train"]["chars_per_token"] > 1.5
    assert meta["val"]["documents"] >= 1


def test_windows_1252_text_with_curly_quotes_is_read_not_skipped(tmp_path):
    # read as Latin-1, its curly quotes and euro signs were control characters: the file was "binary"
    letter = "\u201cMerci\u201d, she wrote \u2013 it cost \u20ac5.\n" * 20
    (tmp_path / "letter.txt").write_bytes(letter.encode("cp1252"))
    assert read_text_file(tmp_path / "letter.txt") == letter
    (tmp_path / "unicode.txt").write_bytes(letter.encode("utf-16"))  # NUL bytes, yet text
    assert read_text_file(tmp_path / "unicode.txt") == letter
    cut = "caf\u00e9 " * 10  # a read that stops inside a UTF-8 character loses that character, not the encoding
    (tmp_path / "cut.txt").write_bytes(cut.encode("utf-8"))
    assert read_text_file(tmp_path / "cut.txt", max_bytes=4) == "caf"


def test_prepare_split_is_deterministic(tmp_path, corpus_dir):
    a = prepare([str(corpus_dir)], tmp_path / "a", vocab_size=400)
    b = prepare([str(corpus_dir)], tmp_path / "b", vocab_size=400)
    assert a["val"] == b["val"] and a["train"] == b["train"]
    assert (tmp_path / "a" / "val.bin").read_bytes() == (tmp_path / "b" / "val.bin").read_bytes()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, corpus_dir):
    d = tmp_path_factory.mktemp("data")
    prepare([str(corpus_dir)], d, vocab_size=400)
    return d


def _val_records(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if "val_bpc" in line]


def test_tiny_training_lowers_validation_loss_and_resumes(tmp_path, data_dir):
    run = tmp_path / "run"
    train(data_dir, run, "tiny", {"max_steps": 40, "eval_interval": 20})
    first = _val_records(run)
    assert [r["step"] for r in first] == [20, 40]
    progress = train(data_dir, run, "tiny", {"max_steps": 80, "eval_interval": 20})  # resumes at step 40
    records = _val_records(run)
    assert [r["step"] for r in records] == [20, 40, 60, 80]
    assert progress["step"] == 80 and progress["tokens_seen"] == 80 * 8 * 32
    assert records[-1]["val_bpc"] < records[0]["val_bpc"] < 8.0
    assert (run / "best.pt").exists() and (run / "config.json").exists()


def test_export_int8_loads_and_suggests_whole_words(tmp_path, data_dir):
    run = tmp_path / "run"
    train(data_dir, run, "tiny", {"max_steps": 30, "eval_interval": 30})
    export(run, tmp_path / "m.pt", quantize="int8")
    predictor = Predictor.load(tmp_path / "m.pt")
    assert predictor.quantize == "int8"
    predictor.set_text("The cat ")
    words = [s.word for s in predictor.suggest(3)]
    assert words and all(w.replace("'", "").replace("-", "").isalpha() for w in words)


def test_prepare_writes_the_vocabulary_and_export_puts_it_into_the_model_file(tmp_path, data_dir):
    run = tmp_path / "run"
    train(data_dir, run, "tiny", {"max_steps": 10, "eval_interval": 10})
    export(run, tmp_path / "plain.pt")
    assert load_model_file(tmp_path / "plain.pt").vocabulary is None
    summary = export(tmp_path / "plain.pt", tmp_path / "m.pt", quantize="int8", vocabulary=data_dir / "vocabulary.txt")
    loaded = load_model_file(tmp_path / "m.pt")  # a model file written again: weights kept, vocabulary and int8 added
    assert loaded.quantize == "int8" and summary["vocabulary_words"] == len(loaded.vocabulary) > 20
    assert "letter" in loaded.vocabulary and "zorblax" not in loaded.vocabulary
    assert loaded.summary["steps"] == 10
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(TrainError, match="vocabulary .* is empty"):
        export(tmp_path / "plain.pt", tmp_path / "m2.pt", vocabulary=tmp_path / "empty.txt")
    with pytest.raises(TrainError, match="neither a training checkpoint nor a Foretype model file"):
        export(tmp_path / "empty.txt", tmp_path / "m2.pt")


def test_time_budget_fixes_max_steps_from_the_measured_speed(tmp_path, data_dir):
    config = make_config("tiny", {"time_budget_s": 100.0, "eval_interval": 50})
    # 10 s spent, 0.1 s a step and a 2 s evaluation every 50 steps: 90 s / 0.14 s = 642 more steps
    assert steps_within_budget(config, 60, 10.0, 0.1, 2.0) == 60 + 642
    assert steps_within_budget(config, 60, 500.0, 0.1, 2.0) == 61  # over budget: stop at the next step
    run = tmp_path / "run"
    progress = train(data_dir, run, "tiny", {"time_budget_s": 1e-3, "max_steps": 10_000, "eval_interval": 20})
    assert progress["step"] == TIMED_STEPS[1] + 1
    saved = torch.load(run / "ckpt.pt", weights_only=True)["config"]
    assert saved["max_steps"] == TIMED_STEPS[1] + 1 and saved["time_budget_s"] == 0.0  # a resume keeps the schedule


def test_overrides_are_checked():
    assert parse_overrides(["--lr=0.01", "--n_layers=1"]) == {"lr": 0.01, "n_layers": 1}
    with pytest.raises(ConfigError, match="unknown training option 'lrr'"):
        parse_overrides(["--lrr=0.01"])
    with pytest.raises(ConfigError, match="expects int"):
        parse_overrides(["--n_layers=two"])
    with pytest.raises(ConfigError, match="unknown preset"):
        make_config("huge")


@pytest.mark.parametrize("option, message", [
    ("--batch_size=0", "--batch_size must be at least 1, not 0"),  # ZeroDivisionError
    ("--eval_interval=0", "--eval_interval must be at least 1, not 0"),  # ZeroDivisionError
    ("--seq_len=0", "--seq_len must be at least 1, not 0"),
    ("--dropout=2", "--dropout must be at least 0 and below 1, not 2.0"),
    ("--device=banana", "--device must be auto, cpu or cuda, not banana"),  # RuntimeError
    ("--max_steps=-5", "--max_steps must be at least 1, not -5"),  # "trained 0 steps", a run without a checkpoint
    ("--lr=nan", "--lr must be above 0, not nan"),
])
def test_training_options_out_of_range_are_refused(option, message):
    with pytest.raises(ConfigError) as e:
        make_config("tiny", parse_overrides([option]))
    assert str(e.value) == message


def test_cuda_without_a_gpu_is_refused_before_anything_is_written(tmp_path, data_dir, monkeypatch):
    # a CPU-only PyTorch failed with an AssertionError "Torch not compiled with CUDA enabled"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match=r"^--device=cuda, but PyTorch \S+ finds no CUDA GPU here; use --device=cpu$"):
        train(data_dir, tmp_path / "run", "tiny", {"device": "cuda"})
    assert not (tmp_path / "run").exists()


def test_resuming_with_another_model_shape_names_the_options(tmp_path, data_dir):
    # a "size mismatch for lstm.weight_hh_l0" traceback
    run = tmp_path / "run"
    train(data_dir, run, "tiny", {"max_steps": 2, "eval_interval": 2})
    with pytest.raises(ConfigError) as e:
        train(data_dir, run, "tiny", {"hidden_dim": 128, "n_layers": 2, "max_steps": 4})
    assert str(e.value) == (f"cannot resume {run} with --hidden_dim=128, --n_layers=2: its model has hidden_dim=64, n_layers=1; "
                            "leave the option out to resume, or give a new --out to start a new run")
    assert train(data_dir, run, "tiny", {"max_steps": 4, "eval_interval": 2})["step"] == 4


def test_a_resumed_run_keeps_its_preset_and_refuses_another(tmp_path, data_dir):
    # `--preset` was silently ignored on resume, and config.json then recorded the preset given, not the run's
    run = tmp_path / "run"
    train(data_dir, run, "tiny", {"max_steps": 2, "eval_interval": 2})
    with pytest.raises(ConfigError) as e:
        train(data_dir, run, "small", {"max_steps": 4})
    assert str(e.value) == (f"cannot resume {run} with --preset small: it was started with --preset tiny; "
                            "leave --preset out to resume, or give a new --out to start a new run")
    assert train(data_dir, run, None, {"max_steps": 4, "eval_interval": 2})["step"] == 4
    assert json.loads((run / "config.json").read_text())["preset"] == "tiny"


def _text_folder(tmp_path, name: str, seed: int) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "a.txt").write_text(generated_text(300, seed=seed))
    return folder


def test_train_refuses_a_data_folder_whose_prepare_did_not_finish(tmp_path, monkeypatch):
    # Ctrl-C in a second prepare, after its tokenizer was written, left the first one's token files and meta.json: train
    # read them with the new tokenizer, as garbage
    src, data = _text_folder(tmp_path, "in", seed=5), tmp_path / "data"
    prepare([str(src)], data, vocab_size=400)
    real_write = prepare_module.atomic_write

    def interrupted_at_the_token_files(path, write):
        if Path(path).name == "train.bin":
            raise KeyboardInterrupt
        real_write(path, write)

    monkeypatch.setattr(prepare_module, "atomic_write", interrupted_at_the_token_files)
    with pytest.raises(KeyboardInterrupt):
        prepare([str(src)], data, kind="char")
    monkeypatch.undo()
    incomplete = re.escape(f"{data} is not a complete prepared data folder: run foretype prepare again")
    with pytest.raises(TrainError, match=f"^{incomplete} "):
        train(data, tmp_path / "run", "tiny", {"max_steps": 1})
    prepare([str(src)], data, vocab_size=400)
    other = tmp_path / "other"
    prepare([str(src)], other, kind="char")
    (data / "tokenizer.model").write_bytes((other / "tokenizer.model").read_bytes())  # or a folder from before meta.json named it
    with pytest.raises(TrainError, match=f"^{incomplete} \\(its meta.json does not match its tokenizer.model\\)$"):
        train(data, tmp_path / "run", "tiny", {"max_steps": 1})
    meta = json.loads((other / "meta.json").read_text())
    del meta["tokenizer_sha256"]  # complete, but made before prepare recorded its tokenizer
    (other / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(TrainError, match="was prepared by an older Foretype, which did not record its tokenizer: run foretype prepare again"):
        train(other, tmp_path / "run", "tiny", {"max_steps": 1})
    with pytest.raises(TrainError, match=f"^no data folder {re.escape(str(tmp_path / 'dta'))}: make one with foretype prepare$"):
        train(tmp_path / "dta", tmp_path / "run", "tiny", {"max_steps": 1})
    assert not (tmp_path / "run").exists()


def test_prepare_refuses_options_the_tokenizer_cannot_use(tmp_path, corpus_dir, monkeypatch):
    # sentencepiece's RuntimeError tracebacks; a negative fraction was taken
    out = tmp_path / "out"
    for options, message in [({"vocab_size": 0}, "--vocab-size must be from 261 to 65535, not 0"),
                             ({"vocab_size": 70_000}, "--vocab-size must be from 261 to 65535, not 70000"),
                             ({"val_fraction": 1.5}, "--val-fraction must be from 0 to 0.5, not 1.5"),
                             ({"val_fraction": -1.0}, "--val-fraction must be from 0 to 0.5, not -1.0")]:
        with pytest.raises(PrepareError) as e:
            prepare([str(corpus_dir)], out, **options)
        assert str(e.value) == message
    letters = "".join(chr(0x100 + i) for i in range(120))  # more characters than 300 pieces hold beside the 260 fixed ones
    (tmp_path / "letters.txt").write_text(f"{' '.join(letters)}\n" * 20)
    with pytest.raises(PrepareError, match=r"^--vocab-size 300 is too small for the characters of this text: it needs at least 38\d$"):
        prepare([str(tmp_path / "letters.txt")], out, vocab_size=300)
    (tmp_path / "one line.txt").write_text(generated_text(300).replace("\n", " "))
    with pytest.raises(PrepareError) as e:
        prepare([str(tmp_path / "one line.txt")], out, vocab_size=400)
    assert str(e.value) == "the tokenizer skips lines longer than 4,192 bytes, and every line of the text is: break it into lines"

    def refused(lines, kind, vocab_size):
        raise RuntimeError("INTERNAL: src/trainer_interface.cc(80) [(trainer_spec.num_threads()) > (0)] ")

    monkeypatch.setattr(Tokenizer, "train", refused)
    with pytest.raises(PrepareError) as e:
        prepare([str(corpus_dir)], out)
    assert str(e.value) == "the unigram tokenizer could not be trained: [(trainer_spec.num_threads()) > (0)]"
    assert not out.exists()
    result = _cli("prepare", str(corpus_dir), "--out", str(out), "--vocab-size", "0")
    assert result.returncode == 1 and result.stderr == "foretype prepare: error: --vocab-size must be from 261 to 65535, not 0\n"


def test_prepare_refuses_too_little_text_and_keeps_the_folder_it_would_replace(tmp_path):
    # a one-word file was prepared, validating on the training text, and only train found it too little
    out = tmp_path / "out"
    prepare([str(_text_folder(tmp_path, "in", seed=4))], out, vocab_size=400)
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    (tmp_path / "hello.txt").write_text("hello\n")
    with pytest.raises(PrepareError, match=r"^too little text to train on: the training text is \d tokens \(7 characters\), "
                                           r"and the smallest run \(--preset tiny\) needs at least 264$"):
        prepare([str(tmp_path / "hello.txt")], out, vocab_size=400)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_prepare_into_its_input_folder_leaves_its_own_output_out(tmp_path):
    # run twice, `prepare selfc --out selfc` read its own vocabulary.txt as text
    folder = _text_folder(tmp_path, "selfc", seed=6)
    first = prepare([str(folder)], folder, vocab_size=400)
    second = prepare([str(folder)], folder, vocab_size=400)
    assert second["files"] == first["files"] == 1
    assert sorted(second["skipped"]) == sorted(f"skipped {folder / name}: prepare's own output" for name in OUTPUTS)
    assert (second["train"], second["val"]) == (first["train"], first["val"])


def test_prepare_takes_each_file_as_it_is_read_and_counts_in_words(tmp_path, monkeypatch, caplog, capsys):
    # the reading bar showed only after every file was read, tokenizer training said nothing, the summary said "1 files"
    caplog.set_level(logging.INFO, logger=prepare_module.__name__)
    real_read_texts = prepare_module.read_texts

    def read_texts(inputs):
        yield Skipped(tmp_path / "photo.png", "not a plain-text file type (.png)")
        assert "photo.png" in caplog.text, "the next file was read before the first was taken"
        yield from real_read_texts(inputs)

    monkeypatch.setattr(prepare_module, "read_texts", read_texts)
    args = argparse.Namespace(inputs=[str(_text_folder(tmp_path, "in", seed=7))], out=str(tmp_path / "out"), tokenizer="unigram",
                              vocab_size=400, val_fraction=0.01)
    assert prepare_module.run(args) == 0
    assert capsys.readouterr().out.startswith("1 file (1 skipped), 10 documents, train ")
    assert "training the unigram tokenizer (vocab 400) on 9 documents" in caplog.text
    assert re.search(r"trained the tokenizer in \d+\.\d s", caplog.text)


@pytest.fixture
def signal_handlers():
    """`train.run` sets SIGINT's, SIGTERM's and SIGHUP's handlers: pytest's come back after the test."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def _sigint_at_step(monkeypatch, step: int, send) -> None:
    """Call ``send`` (which raises SIGINT) in the step ``step``, after the optimizer's."""
    steps = []
    real = train_module.restart_some_streams

    def restart_some_streams(state, chance):
        steps.append(len(steps))
        if len(steps) == step:
            send()
        return real(state, chance)

    monkeypatch.setattr(train_module, "restart_some_streams", restart_some_streams)


def _train_args(data, out, *overrides) -> argparse.Namespace:
    return argparse.Namespace(data=str(data), out=str(out), preset="tiny", overrides=list(overrides), dry_run=False)


def test_ctrl_c_stops_training_wherever_it_comes(tmp_path, data_dir, monkeypatch, signal_handlers):
    # the handler raised KeyboardInterrupt; raised in an object's __del__ (or torch.save's writes) it was printed and
    # ignored, and the run went on to the end
    class SignalsWhenCollected:
        def __del__(self):
            signal.raise_signal(signal.SIGINT)

    _sigint_at_step(monkeypatch, 3, SignalsWhenCollected)  # collected at once: SIGINT is handled inside its __del__
    run = tmp_path / "run"
    assert train_module.run(_train_args(data_dir, run, "--max_steps=20", "--eval_interval=10")) == 130
    assert torch.load(run / "ckpt.pt", weights_only=True)["progress"]["step"] == 3


def test_a_dry_run_writes_nothing_so_the_real_run_starts_afresh(tmp_path, data_dir, capsys):
    # the dry run's 3-step checkpoint was resumed by the real command, which stopped at once: "trained 3 steps"
    run = tmp_path / "run"
    args = _train_args(data_dir, run, "--max_steps=6", "--eval_interval=3")
    assert train_module.run(argparse.Namespace(**{**vars(args), "dry_run": True})) == 0
    assert not run.exists() and not list(tmp_path.iterdir())  # its scratch folder, beside --out, is gone too
    assert "dry run: 3 steps ran end to end" in capsys.readouterr().out
    assert train_module.run(args) == 0
    assert torch.load(run / "ckpt.pt", weights_only=True)["progress"]["step"] == 6


def test_a_dry_run_checks_what_the_real_command_would(tmp_path, data_dir):
    # a first version replaced the user's options by its own before checking them, and never looked at --out
    run = tmp_path / "run"
    with pytest.raises(ConfigError, match="max_steps"):
        train_module.train(data_dir, run, "tiny", {"max_steps": 0}, dry_run=True)
    train_module.train(data_dir, run, "tiny", {"max_steps": 2, "eval_interval": 2})
    saved = (run / "ckpt.pt").read_bytes()
    with pytest.raises(ConfigError, match="--preset small: it was started with --preset tiny"):
        train_module.train(data_dir, run, "small", {}, dry_run=True)
    with pytest.raises(ConfigError, match="--hidden_dim=32"):
        train_module.train(data_dir, run, None, {"hidden_dim": 32}, dry_run=True)
    assert train_module.train(data_dir, run, None, {"max_steps": 50}, dry_run=True)["step"] == 3  # a new model's 3 steps
    assert (run / "ckpt.pt").read_bytes() == saved


def test_a_run_from_before_checkpoints_named_their_preset_keeps_the_one_its_config_file_names(tmp_path, data_dir):
    run = tmp_path / "run"
    train(data_dir, run, "tiny", {"max_steps": 2, "eval_interval": 2})
    old = torch.load(run / "ckpt.pt", weights_only=True)
    del old["preset"]
    torch.save(old, run / "ckpt.pt")
    train(data_dir, run, None, {"max_steps": 4, "eval_interval": 2})
    assert torch.load(run / "ckpt.pt", weights_only=True)["preset"] == "tiny"


def test_ctrl_c_before_the_first_step_saves_nothing_so_a_mistyped_option_can_be_retyped(tmp_path, data_dir):
    # a step-0 checkpoint of --hidden_dim=640 made the corrected command fail with "cannot resume ... hidden_dim=640"
    stop = threading.Event()
    stop.set()
    with pytest.raises(KeyboardInterrupt):
        train_module.train(data_dir, tmp_path / "run", "tiny", {"hidden_dim": 640}, stop=stop)
    assert not (tmp_path / "run" / "ckpt.pt").exists()
    assert train_module.train(data_dir, tmp_path / "run", "tiny", {"max_steps": 2, "eval_interval": 2})["step"] == 2


def test_an_evaluation_stops_at_the_next_batch_when_asked():
    # a Ctrl-C or SIGTERM during validation waited for all of it (minutes for a large model on a CPU)
    model = LSTMLanguageModel(LSTMConfig(50, 8, 16, 1, 0.0))
    tokens = (np.arange(20_000) % 50).astype(np.uint16)
    stop = threading.Event()
    assert train_module.evaluate_bpc(model, tokens, 3.0, 10_000, "cpu", stop=stop) > 0
    stop.set()
    with pytest.raises(KeyboardInterrupt):
        train_module.evaluate_bpc(model, tokens, 3.0, 10_000, "cpu", stop=stop)


def test_a_closing_terminals_sighup_saves_as_ctrl_c_does(tmp_path, data_dir, monkeypatch, signal_handlers):
    _sigint_at_step(monkeypatch, 3, lambda: signal.raise_signal(signal.SIGHUP))  # it ended the run with nothing saved
    run = tmp_path / "run"
    assert train_module.run(_train_args(data_dir, run, "--max_steps=20", "--eval_interval=10")) == 130
    assert torch.load(run / "ckpt.pt", weights_only=True)["progress"]["step"] == 3


def test_sigint_ignored_from_the_start_stays_ignored(tmp_path, data_dir, monkeypatch, signal_handlers):
    # a script's background job starts with SIGINT ignored; run() handled it anyway, from the middle of the start-up on,
    # so of two signals a few milliseconds apart one was ignored and the other stopped the run
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _sigint_at_step(monkeypatch, 3, lambda: signal.raise_signal(signal.SIGINT))
    assert train_module.run(_train_args(data_dir, tmp_path / "run", "--max_steps=6", "--eval_interval=6")) == 0
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_restart_some_streams_zeroes_whole_streams_at_the_given_rate():
    torch.manual_seed(0)
    state = (torch.ones(2, 1000, 4), torch.full((2, 1000, 4), 3.0))  # (layers, streams, hidden)
    h, c = restart_some_streams(state, 0.25)
    zeroed = (h == 0).all(dim=2).all(dim=0)
    assert torch.equal(zeroed, (c == 0).all(dim=2).all(dim=0))  # h and c of a stream restart together
    assert torch.equal((h == 1).all(dim=2).all(dim=0), ~zeroed)  # the other streams keep their state whole
    assert 200 < int(zeroed.sum()) < 300
    assert restart_some_streams(state, 0.0) is state


def _cli(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "foretype.app.cli", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_cli_errors_are_one_line(tmp_path, data_dir):
    result = _cli("train", "--data", str(data_dir), "--out", str(tmp_path / "r"), "--preset", "tiny", "--bogus=1")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "unknown training option 'bogus'" in result.stderr
    result = _cli("suggest", "--model", str(tmp_path / "missing.pt"), "hello")
    assert result.returncode == 1 and "model file not found" in result.stderr and "Traceback" not in result.stderr
    result = _cli("suggest", "-k", "0", "hello")
    assert result.returncode == 1 and result.stderr.strip() == "foretype suggest: error: -k must be at least 1, not 0"
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\0\1\2" * 1000)
    result = _cli("bench", str(binary))
    assert result.returncode == 1 and result.stderr.strip() == f"foretype bench: error: cannot read {binary}: it is not a text file (it has NUL bytes)"
    damaged = tmp_path / "utf16.txt"
    damaged.write_bytes(b"\xff\xfeA\x00B")  # marked as UTF-16, an odd number of bytes
    result = _cli("bench", str(damaged))
    assert result.returncode == 1 and result.stderr.strip().startswith(f"foretype bench: error: cannot read {damaged}: it is marked as UTF-16")


def test_bench_json_reports_every_length(tiny_model_path):
    """`foretype bench --json`: the keys the issue asks for, latencies at each length, state memory measured."""
    result = _cli("bench", "--model", str(tiny_model_path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    lengths = {"100", "1000", "10000", "100000"}
    for q in ("p50_ms", "p95_ms", "p99_ms"):
        assert set(report[q]) == lengths and all(v > 0 for v in report[q].values())
    assert all(report["p50_ms"][n] <= report["p95_ms"][n] <= report["p99_ms"][n] for n in lengths)
    assert report["recompute_2000_ms"] > 0 and report["state_bytes_100000"] > 0
    assert report["threads"] == 1 and report["model"] == str(tiny_model_path)


def test_bench_can_idle_between_keys_as_a_person_does(monkeypatch):
    # back to back, a key finds the weights in the CPU's caches; 20 ms apart it took twice as long
    from foretype.model import bench
    from foretype.model.errors import ForetypeError

    class Engine:
        def reset(self): pass
        def set_text(self, text): slept.append("key")
        def suggest(self, k): return []

    slept = []
    monkeypatch.setattr(bench.time, "sleep", lambda s: slept.append(s))
    assert len(bench.keystroke_ms(Engine(), "before", "abc", bench.pause_seconds(20))) == 3
    assert slept == ["key", 0.02, "key", 0.02, "key", 0.02, "key"]  # the first sets the document, untimed
    with pytest.raises(ForetypeError, match="--pause-ms must be at least 0, not -1"):
        bench.pause_seconds(-1)


def test_torchrun_two_process_gloo_smoke(tmp_path, data_dir):
    """Data-parallel training on CPU: 2 processes, each on its own streams, rank 0 writes; then resume."""
    run = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "foretype.app.cli",
           "train", "--data", str(data_dir), "--out", str(run), "--preset", "tiny", "--max_steps=10", "--eval_interval=5"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert [r["step"] for r in _val_records(run)] == [5, 10]
    assert json.loads((run / "config.json").read_text())["world_size"] == 2
    progress = train(data_dir, run, "tiny", {"max_steps": 15, "eval_interval": 5})  # resume with world size 1
    assert progress["step"] == 15


def test_version_prints_the_installed_version():
    result = _cli("--version")
    assert result.returncode == 0 and result.stdout == f"foretype {importlib.metadata.version('foretype')}\n"


def test_no_module_imports_what_the_installers_leave_out():
    """`bench --app` used QtTest, which the PyInstaller spec excludes: the installed command would have crashed."""
    root = Path(__file__).parents[1]
    spec = (root / "packaging" / "foretype.spec").read_text()
    excluded = set(re.findall(r'"([\w.]+)"', spec.split("excludes = [", 1)[1].split("]", 1)[0]))
    assert "PySide6.QtTest" in excluded
    for folder in ("app", "model", "training"):
        for path in (root / folder).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                else:
                    continue
                assert not any(n == e or n.startswith(e + ".") for n in names for e in excluded), f"{path.name} imports {names}"
