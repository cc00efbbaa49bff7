"""Training configuration: a frozen dataclass, named presets, and checked `--key=value` overrides."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, fields

from foretype.model.errors import ForetypeError


@dataclass(frozen=True)
class TrainConfig:
    # model
    embed_dim: int = 256
    hidden_dim: int = 512
    n_layers: int = 2
    dropout: float = 0.1
    # data: batch_size parallel streams per process, seq_len tokens per truncated-BPTT chunk
    batch_size: int = 32
    seq_len: int = 64
    # optimisation
    lr: float = 3e-3
    min_lr: float = 3e-4
    warmup_steps: int = 200
    max_steps: int = 20_000
    time_budget_s: float = 0.0  # >0: after a few timed steps, max_steps becomes what fits in this many seconds
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    state_reset: float = 0.02  # chance per stream and step that its carried state restarts from zero
    # evaluation and logging
    eval_interval: int = 500
    eval_tokens: int = 200_000
    seed: int = 1337
    threads: int = 0  # torch CPU threads; 0 leaves torch's default (all cores)
    device: str = "auto"  # auto, cpu, cuda


DEFAULT_PRESET = "small"
PRESETS: dict[str, dict] = {
    # seconds on a laptop; for tests and smoke runs
    "tiny": dict(embed_dim=32, hidden_dim=64, n_layers=1, dropout=0.0, batch_size=8, seq_len=32, lr=1e-2, min_lr=1e-3, threads=1,
                 warmup_steps=10, max_steps=200, eval_interval=50, eval_tokens=5_000),
    # hours on a 2-core CPU
    "small": dict(embed_dim=256, hidden_dim=512, n_layers=2, dropout=0.1, batch_size=32, seq_len=64, lr=3e-3, min_lr=3e-4,
                  warmup_steps=200, max_steps=8_000, eval_interval=250, eval_tokens=100_000),
    # for a GPU
    "base": dict(embed_dim=512, hidden_dim=1024, n_layers=2, dropout=0.2, batch_size=128, seq_len=128, lr=2e-3, min_lr=2e-4,
                 warmup_steps=500, max_steps=30_000, eval_interval=1000, eval_tokens=1_000_000),
}


class ConfigError(ForetypeError):
    pass


def _at_least(low: float) -> tuple[Callable[[float], bool], str]:
    return (lambda v: math.isfinite(v) and v >= low), f"at least {low}"


def _above(low: float) -> tuple[Callable[[float], bool], str]:
    return (lambda v: math.isfinite(v) and v > low), f"above {low}"


# what each option may be, and how the error says it: a value outside these fails later, as a division by zero,
# an empty run or PyTorch's traceback
ALLOWED: dict[str, tuple[Callable, str]] = {
    "embed_dim": _at_least(1),
    "hidden_dim": _at_least(1),
    "n_layers": _at_least(1),
    "dropout": ((lambda v: 0 <= v < 1), "at least 0 and below 1"),
    "batch_size": _at_least(1),
    "seq_len": _at_least(1),
    "lr": _above(0),
    "min_lr": _at_least(0),
    "warmup_steps": _at_least(0),
    "max_steps": _at_least(1),
    "time_budget_s": _at_least(0),
    "weight_decay": _at_least(0),
    "grad_clip": _above(0),
    "state_reset": ((lambda v: 0 <= v <= 1), "from 0 to 1"),
    "eval_interval": _at_least(1),
    "eval_tokens": _at_least(1),
    "seed": ((lambda v: 0 <= v < 2**32), f"from 0 to {2**32 - 1}"),
    "threads": _at_least(0),
    "device": ((lambda v: v in ("auto", "cpu", "cuda")), "auto, cpu or cuda"),
}


def check(config: TrainConfig) -> None:
    """Refuse a value no run can use, naming the option and what it may be."""
    for f in fields(config):
        allowed, words = ALLOWED[f.name]
        value = getattr(config, f.name)
        if not allowed(value):
            raise ConfigError(f"--{f.name} must be {words}, not {value}")


def parse_overrides(items: list[str]) -> dict:
    """["--lr=1e-3", "--n_layers=1"] -> {"lr": 0.001, "n_layers": 1}; unknown keys and bad types are errors."""
    types = {f.name: f.type for f in fields(TrainConfig)}
    out = {}
    for item in items:
        if not item.startswith("--") or "=" not in item:
            raise ConfigError(f"expected --key=value, got {item!r}")
        key, value = item[2:].split("=", 1)
        key = key.replace("-", "_")
        if key not in types:
            raise ConfigError(f"unknown training option {key!r}; known: {', '.join(sorted(types))}")
        kind = {"int": int, "float": float, "str": str}[types[key]]
        try:
            out[key] = kind(value)
        except ValueError:
            raise ConfigError(f"--{key} expects {types[key]}, got {value!r}") from None
    return out


def make_config(preset: str = DEFAULT_PRESET, overrides: dict | None = None, base: dict | None = None) -> TrainConfig:
    """Preset values, then ``base`` (e.g. a resumed run's config), then explicit overrides."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    values = {**PRESETS[preset], **(base or {}), **(overrides or {})}
    config = dataclasses.replace(TrainConfig(), **values)
    check(config)
    return config
