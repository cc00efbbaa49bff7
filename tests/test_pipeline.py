"""prepare -> train -> export, resume, overrides, and the data-parallel smoke test."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import generated_text
from foretype.model.modelfile import load_model_file
from foretype.model.predictor import Predictor
from foretype.training.config import ConfigError, make_config, parse_overrides
from foretype.training.export import export
from foretype.training.prepare import prepare
from foretype.training.textfiles import read_text_file
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
