"""`foretype bench`: per-keystroke latency against the length of the text before the cursor.

Types real text one character at a time after documents of 100 to 100,000 characters and times each
keystroke (set_text + suggest(k=3)); compares with recomputing a 2,000-character context from
scratch; reports the engine's saved-state memory at 100,000 characters.

Keys typed back to back find the model's weights in the CPU's caches; a person's keys come 100-200 ms
apart, and after 20 ms idle a keystroke took twice as long on the 2-core VM (other work evicts the 5.8
MB of weights a step reads). ``--pause-ms`` waits that long before each key to measure what a person gets.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from pathlib import Path

import torch
from tqdm import tqdm

from .errors import ForetypeError
from .files import NOT_REGULAR, TextFileError, decode_text_file, without_a_cut_character
from .predictor import Predictor

CONTEXT_LENGTHS = (100, 1_000, 10_000, 100_000)
KEYSTROKES = 1_000  # typed after each context length
RECOMPUTE_CHARS = 2_000
RECOMPUTE_REPEATS = 10
SAMPLE = Path(__file__).parent / "assets" / "sample.txt"
MAX_TEXT_BYTES = 16 * 2**20  # of the file to type from: more than the longest document typed into (5 MB)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))]


def document(text: str, length: int) -> str:
    """``length`` characters of ``text``, repeated as needed."""
    return (text * (length // len(text) + 1))[:length]


def keystroke_ms(predictor: Predictor, before: str, typed: str, pause_s: float = 0.0) -> list[float]:
    predictor.reset()
    predictor.set_text(before)
    predictor.suggest(3)
    times = []
    for i in range(1, len(typed) + 1):
        if pause_s:
            time.sleep(pause_s)  # idle between keys, as a person's typing is, and not timed
        start = time.perf_counter()
        predictor.set_text(before + typed[:i])
        predictor.suggest(3)
        times.append((time.perf_counter() - start) * 1000)
    return times


def pause_seconds(pause_ms: float) -> float:
    """``--pause-ms`` as seconds to sleep, refused when negative, infinite or not a number."""
    if not 0 <= pause_ms < math.inf:
        raise ForetypeError(f"--pause-ms must be at least 0, not {pause_ms:g}")
    return pause_ms / 1000


def bench(predictor: Predictor, text: str, pause_ms: float = 0.0) -> dict:
    if len(text) < 2 * KEYSTROKES:
        raise ForetypeError(f"the bench text needs at least {2 * KEYSTROKES} characters")
    pause_s = pause_seconds(pause_ms)
    typed = text[:KEYSTROKES]
    keystroke_ms(predictor, text[KEYSTROKES:][:100], typed)  # warm-up: first calls of torch kernels and caches
    result = {"p50_ms": {}, "p95_ms": {}, "p99_ms": {}}
    for length in tqdm(CONTEXT_LENGTHS, desc="typing after documents of 100..100,000 chars", disable=None):
        before = document(text[KEYSTROKES:] + "\n\n", length)
        times = keystroke_ms(predictor, before, typed, pause_s)
        for q in (50, 95, 99):
            result[f"p{q}_ms"][str(length)] = round(percentile(times, q), 3)
        if length == 100_000:
            result["state_bytes_100000"] = predictor.state_bytes()
    context = document(text, RECOMPUTE_CHARS)
    recompute = []
    for _ in range(RECOMPUTE_REPEATS):
        predictor.reset()
        start = time.perf_counter()
        predictor.set_text(context)
        predictor.suggest(3)
        recompute.append((time.perf_counter() - start) * 1000)
    result["recompute_2000_ms"] = round(statistics.median(recompute), 3)
    result["threads"] = torch.get_num_threads()
    result["pause_ms"] = pause_ms
    result["quantize"] = predictor.quantize or "none"
    return result


def read_bench_text(path: str | None) -> str:
    """The text to type from: the file named (read as the app opens it), or the bundled sample."""
    text_path = Path(path) if path else SAMPLE
    try:
        if not text_path.is_file():  # a pipe or /dev/zero would never end
            raise ForetypeError(f"cannot read {text_path}: {NOT_REGULAR}" if text_path.exists() else f"{text_path} not found")
        with open(text_path, "rb") as f:
            data = f.read(MAX_TEXT_BYTES)  # a 2 GB file was read whole
    except OSError as e:
        raise ForetypeError(f"cannot read {text_path}: {e.strerror or e}") from None
    try:
        return decode_text_file(without_a_cut_character(data) if len(data) == MAX_TEXT_BYTES else data)[0]
    except TextFileError as e:
        raise ForetypeError(f"cannot read {text_path}: {e}") from None


def run(args) -> int:
    from .modelfile import default_model_path

    model_path = Path(args.model) if args.model else default_model_path()
    result = {**bench(Predictor.load(model_path), read_bench_text(args.text), args.pause_ms), "model": str(model_path)}
    if args.json:
        print(json.dumps(result))
        return 0
    pause = f", {result['pause_ms']:g} ms idle before each" if result["pause_ms"] else ""
    print(f"model {result['model']} ({result['quantize']}), {result['threads']} thread(s), {KEYSTROKES} keystrokes per row{pause}")
    print(f"{'chars before cursor':>20} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for length in CONTEXT_LENGTHS:
        k = str(length)
        print(f"{length:>20,} {result['p50_ms'][k]:>8.2f} {result['p95_ms'][k]:>8.2f} {result['p99_ms'][k]:>8.2f}")
    ratio = result["recompute_2000_ms"] / max(1e-9, result["p50_ms"]["1000"])
    print(f"recomputing 2,000 chars from scratch: {result['recompute_2000_ms']:.1f} ms ({ratio:.0f}x a keystroke)")
    print(f"saved LSTM states at 100,000 chars: {result['state_bytes_100000'] / 2**20:.1f} MiB")
    return 0
