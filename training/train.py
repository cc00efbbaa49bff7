"""`foretype train`: truncated-BPTT training of the LSTM language model, resumable, data-parallel with torchrun.

Reads top to bottom like nanoGPT's train.py: set up, then per step: learning rate, evaluate and
checkpoint, forward/backward, clip, step, log.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
import signal
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from foretype.model.errors import ForetypeError
from foretype.model.files import atomic_write, atomic_write_text
from foretype.model.lstm import LSTMConfig, LSTMLanguageModel, repackage_state
from foretype.model.tokenizer import Tokenizer

from .config import DEFAULT_PRESET, ConfigError, TrainConfig, make_config, parse_overrides
from .prepare import META, TOKENIZER, tokenizer_digest

log = logging.getLogger(__name__)

CHECKPOINT = "ckpt.pt"  # latest, for resuming
BEST = "best.pt"  # lowest validation bits per character, for export
TIMED_STEPS = (10, 60)  # steps after the start whose speed sets max_steps under a time budget (the first ones are slow)
MODEL_SHAPE = ("embed_dim", "hidden_dim", "n_layers")  # the options that set the weights' shapes: a resumed run keeps them


class TrainError(ForetypeError):
    pass


# ---------------------------------------------------------------- data

class TokenStreams:
    """The token file cut into ``n`` contiguous streams read side by side, seq_len tokens at a time.

    Consecutive batches continue each stream where the last one stopped, so the LSTM state can
    be carried from batch to batch (pytorch/examples' batchify). Under data parallelism each
    rank reads its own ``batch`` of the ``world * batch`` streams.
    """

    def __init__(self, tokens: np.ndarray, batch: int, seq_len: int, rank: int = 0, world: int = 1):
        n = batch * world
        self.stream_len = len(tokens) // n
        if self.stream_len < seq_len + 1:
            raise TrainError(f"{len(tokens)} tokens is too little data for {n} streams of {seq_len + 1} tokens")
        self.tokens, self.batch, self.seq_len = tokens, batch, seq_len
        self.starts = [(rank * batch + i) * self.stream_len for i in range(batch)]
        self.pos = 0

    @property
    def progress(self) -> float:
        """Fraction of the epoch read: lets a run resume with another world size."""
        return self.pos / self.stream_len

    def seek(self, progress: float) -> None:
        self.pos = int(progress * self.stream_len) // self.seq_len * self.seq_len

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """(x, y) of shape (batch, seq_len), and whether a new epoch started (state must be reset)."""
        wrapped = self.pos + self.seq_len + 1 > self.stream_len
        if wrapped:
            self.pos = 0
        chunk = np.stack([self.tokens[s + self.pos : s + self.pos + self.seq_len + 1] for s in self.starts]).astype(np.int64)
        self.pos += self.seq_len
        chunk = torch.from_numpy(chunk)
        return chunk[:, :-1], chunk[:, 1:], wrapped


def load_data(data_dir: Path) -> tuple[np.ndarray, np.ndarray, dict, Tokenizer]:
    """The token streams, meta.json and tokenizer of a folder `foretype prepare` finished.

    prepare writes meta.json last, with its tokenizer's digest: a folder without it, or with another
    tokenizer, was left by an interrupted (or older) prepare, and its token files may not be the tokenizer's.
    """
    if not data_dir.is_dir():
        raise TrainError(f"no data folder {data_dir}: make one with foretype prepare")
    incomplete = f"{data_dir} is not a complete prepared data folder: run foretype prepare again"
    try:
        meta = json.loads((data_dir / META).read_text())
        model_proto = (data_dir / TOKENIZER).read_bytes()
        train = np.memmap(data_dir / "train.bin", dtype=np.uint16, mode="r")
        val = np.memmap(data_dir / "val.bin", dtype=np.uint16, mode="r")
    except (OSError, ValueError) as e:
        raise TrainError(f"{incomplete} ({e})") from None
    if "tokenizer_sha256" not in meta:
        raise TrainError(f"{data_dir} was prepared by an older Foretype, which did not record its tokenizer: run foretype prepare again")
    if meta["tokenizer_sha256"] != tokenizer_digest(model_proto):
        raise TrainError(f"{incomplete} (its meta.json does not match its tokenizer.model)")
    return train, val, meta, Tokenizer(model_proto)


# ---------------------------------------------------------------- evaluation

@torch.no_grad()
def evaluate_bpc(model: LSTMLanguageModel, tokens: np.ndarray, chars_per_token: float, max_tokens: int, device, batch: int = 8, seq_len: int = 256,
                 stop: threading.Event | None = None) -> float:
    """Validation bits per character, state carried through the (prefix of the) validation stream; once ``stop`` is
    set, KeyboardInterrupt at the next batch (an evaluation of a large model takes minutes on a CPU)."""
    model.eval()
    tokens = tokens[: max_tokens + 1]
    batch = max(1, min(batch, (len(tokens) - 1) // (seq_len + 1)))
    streams = TokenStreams(tokens, batch, min(seq_len, len(tokens) // batch - 1))
    state = model.init_state(batch, device)
    total, count = 0.0, 0
    while streams.pos + streams.seq_len + 1 <= streams.stream_len:
        if stop is not None and stop.is_set():
            raise KeyboardInterrupt
        x, y, _ = streams.next_batch()
        logits, state = model(x.to(device), state)
        total += F.cross_entropy(logits.float().flatten(0, 1), y.to(device).flatten(), reduction="sum").item()
        count += y.numel()
    model.train()
    return total / count / chars_per_token / math.log(2)


def restart_some_streams(state: tuple[torch.Tensor, torch.Tensor], chance: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero the carried state of each stream with probability ``chance``.

    The app starts every document from a zero state. A model whose state is only ever carried
    can come to rely on cells that have long saturated and fail from zero: one run here read
    2.4 bits/char on validation streams yet 9.6 from the start of the validation text.
    """
    if chance <= 0:
        return state
    h, c = state
    keep = (torch.rand(h.shape[1], device=h.device) >= chance).to(h.dtype).view(1, -1, 1)  # (1, batch, 1)
    return h * keep, c * keep


# ---------------------------------------------------------------- checkpoints

def save_checkpoint(path: Path, model, optimizer, preset: str, config: TrainConfig, tokenizer: Tokenizer, meta: dict,
                    progress: dict) -> None:
    payload = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "preset": preset,
        "config": dataclasses.asdict(config),
        "model_config": model.config.to_dict(),
        "tokenizer": torch.frombuffer(bytearray(tokenizer.model_proto), dtype=torch.uint8),
        "tokenizer_kind": meta["tokenizer_kind"],
        "data": {"train_tokens": meta["train"]["tokens"], "train_chars": meta["train"]["chars"]},
        "progress": progress,
    }
    atomic_write(path, lambda f: torch.save(payload, f))


def load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        reason = next(iter(str(e).splitlines()), "") or type(e).__name__  # an empty file's EOFError says nothing
        raise TrainError(f"cannot read checkpoint {path}: {reason[:160]}") from None


def steps_within_budget(config: TrainConfig, step: int, seconds_so_far: float, seconds_per_step: float, eval_seconds: float) -> int:
    """The max_steps that ends the run when ``config.time_budget_s`` of training time are spent.

    A lent GPU or a user's evening is a fixed time, not a number of steps; fixing max_steps once,
    early, keeps the cosine schedule complete and every rank on the same schedule.
    """
    remaining = config.time_budget_s - seconds_so_far
    per_step = seconds_per_step + eval_seconds / config.eval_interval
    return step + max(1, int(remaining / per_step))


def preset_in_config_file(out_dir: Path) -> str | None:
    """The preset that config.json names: checkpoints written before 2026-11-30 did not record it."""
    try:
        return json.loads((out_dir / "config.json").read_text()).get("preset")
    except (OSError, ValueError, AttributeError):
        return None


def resumed_preset(saved: dict, preset: str | None, out_dir: Path) -> str:
    """A resumed run keeps the preset it started with: another one given would be silently ignored, and recorded."""
    started = saved.get("preset") or preset_in_config_file(out_dir)
    if preset and started and preset != started:
        raise ConfigError(f"cannot resume {out_dir} with --preset {preset}: it was started with --preset {started}; "
                          "leave --preset out to resume, or give a new --out to start a new run")
    return started or preset or DEFAULT_PRESET


def check_same_shape(saved: dict, config: TrainConfig, out_dir: Path) -> None:
    """A run's weights fit only a model of their shape: name the options that differ, not PyTorch's size mismatch."""
    changed = [name for name in MODEL_SHAPE if getattr(config, name) != saved[name]]
    if changed:
        given = ", ".join(f"--{name}={getattr(config, name)}" for name in changed)
        had = ", ".join(f"{name}={saved[name]}" for name in changed)
        raise ConfigError(f"cannot resume {out_dir} with {given}: its model has {had}; leave the option out to resume, "
                          "or give a new --out to start a new run")


def lr_at(step: int, c: TrainConfig) -> float:
    """Linear warmup, then cosine decay to min_lr at max_steps."""
    if step < c.warmup_steps:
        return c.lr * (step + 1) / c.warmup_steps
    t = min(1.0, (step - c.warmup_steps) / max(1, c.max_steps - c.warmup_steps))
    return c.min_lr + 0.5 * (1 + math.cos(math.pi * t)) * (c.lr - c.min_lr)


# ---------------------------------------------------------------- the loop

def train(data_dir: Path, out_dir: Path, preset: str | None = None, overrides: dict | None = None, dry_run: bool = False,
          stop: threading.Event | None = None) -> dict:
    """Train (or resume) the run in ``out_dir``; once ``stop`` is set, save a checkpoint before the next step and raise KeyboardInterrupt.

    ``preset`` defaults to DEFAULT_PRESET for a new run and to the run's own for a resumed one. A dry run makes
    every check the real command would (options, a resumed run's preset, shape and tokenizer), then trains a new
    model for 3 steps in a temporary folder: its checkpoint in ``out_dir`` was resumed by the real run, which then
    stopped at once.
    """
    # distributed set-up: torchrun sets RANK / WORLD_SIZE / LOCAL_RANK
    ddp = "RANK" in os.environ
    rank, world = (int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])) if ddp else (0, 1)
    master = rank == 0

    resumed = load_checkpoint(out_dir / CHECKPOINT) if (out_dir / CHECKPOINT).exists() else None
    preset = resumed_preset(resumed, preset, out_dir) if resumed else preset or DEFAULT_PRESET
    config = make_config(preset, overrides, base=resumed["config"] if resumed else None)
    if resumed:
        check_same_shape(resumed["config"], config, out_dir)
    if config.threads:
        torch.set_num_threads(config.threads)
    if config.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device=cuda, but PyTorch {torch.__version__} finds no CUDA GPU here; use --device=cpu")
    device = torch.device("cuda" if config.device == "auto" and torch.cuda.is_available() else ("cpu" if config.device == "auto" else config.device))
    if ddp:
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(device)
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    torch.manual_seed(config.seed + rank)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()

    train_tokens, val_tokens, meta, tokenizer = load_data(data_dir)
    if resumed and bytes(resumed["tokenizer"].numpy().tobytes()) != tokenizer.model_proto:
        raise TrainError(f"{out_dir} was trained on other data (tokenizers differ); use a new --out")
    if dry_run:  # checked: from here on a new model, written nowhere the user will look
        config = dataclasses.replace(config, max_steps=min(config.max_steps, 3), eval_interval=2,
                                     eval_tokens=min(config.eval_tokens, 2_000), warmup_steps=1)
        # beside --out, not in /tmp (often memory): a large preset's checkpoints take hundreds of MB
        scratch_parent = out_dir.parent if out_dir.parent.is_dir() else None
        resumed, out_dir = None, Path(tempfile.mkdtemp(prefix=".foretype-dry-run-", dir=scratch_parent))
    streams = TokenStreams(train_tokens, config.batch_size, config.seq_len, rank, world)
    model_config = LSTMConfig(tokenizer.vocab_size, config.embed_dim, config.hidden_dim, config.n_layers, config.dropout)
    model = LSTMLanguageModel(model_config).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, betas=(0.9, 0.99),
                                  fused=device.type == "cuda")
    progress = {"step": 0, "epoch": 0, "epoch_progress": 0.0, "tokens_seen": 0, "best_val_bpc": float("inf"), "train_seconds": 0.0}
    if resumed:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        progress = dict(resumed["progress"])
        streams.seek(progress["epoch_progress"])
        if master:
            log.info("resuming %s at step %d", out_dir, progress["step"])
    train_model = torch.nn.parallel.DistributedDataParallel(model) if ddp else model

    if master:
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out_dir / "config.json", json.dumps({"preset": preset, "data": str(data_dir), **dataclasses.asdict(config),
                                                              "parameters": model.num_parameters(), "world_size": world}, indent=2))
    val_chars_per_token = meta["val"]["chars_per_token"]
    tokens_per_step = config.batch_size * config.seq_len * world
    state = model.init_state(config.batch_size, device)
    metrics = open(out_dir / "metrics.jsonl", "a") if master else None
    bar = tqdm(total=config.max_steps, initial=progress["step"], desc="training", unit="step", disable=not master, dynamic_ncols=True, mininterval=1.0)
    t_last, step_start = time.time(), progress["step"]
    timed_from = eval_seconds = None

    def stop_requested() -> bool:
        """Ctrl-C or SIGTERM in any process: every rank stops at the same step (one that went on would wait in the
        gradients' all-reduce for ever)."""
        requested = stop is not None and stop.is_set()
        if not ddp:
            return requested  # no tensor: on a GPU, reading one back each step would wait for the step's work
        shared = torch.tensor(int(requested), device=device)
        torch.distributed.all_reduce(shared, op=torch.distributed.ReduceOp.MAX)
        return bool(shared)

    def checkpoint(val_bpc: float) -> None:
        """Save the latest state; copy it to best.pt when validation improved."""
        improved = val_bpc < progress["best_val_bpc"]
        progress["best_val_bpc"] = min(val_bpc, progress["best_val_bpc"])
        save_checkpoint(out_dir / CHECKPOINT, model, optimizer, preset, config, tokenizer, meta, {**progress, "epoch_progress": streams.progress})
        if improved or not (out_dir / BEST).exists():
            data = (out_dir / CHECKPOINT).read_bytes()
            atomic_write(out_dir / BEST, lambda f: f.write(data))

    def validate() -> None:
        nonlocal eval_seconds
        started = time.time()
        val_bpc = evaluate_bpc(model, val_tokens, val_chars_per_token, config.eval_tokens, device,
                               stop=None if ddp else stop)  # under torchrun the other ranks wait at the next step
        eval_seconds = time.time() - started
        record = {"step": progress["step"], "tokens_seen": progress["tokens_seen"], "val_bpc": round(val_bpc, 4),
                  "train_seconds": round(progress["train_seconds"], 1)}
        metrics.write(json.dumps(record) + "\n")
        metrics.flush()
        bar.write(f"step {progress['step']}: val {val_bpc:.3f} bits/char")
        checkpoint(val_bpc)

    model.train()
    try:
        while progress["step"] < config.max_steps:
            if stop_requested():
                raise KeyboardInterrupt  # saved below, as a Ctrl-C that reaches the loop itself
            step = progress["step"]
            lr = lr_at(step, config)
            for group in optimizer.param_groups:
                group["lr"] = lr

            if config.time_budget_s and step == step_start + TIMED_STEPS[0]:
                timed_from = time.time()
            if config.time_budget_s and step == step_start + TIMED_STEPS[1]:
                seconds_per_step = (time.time() - timed_from) / (TIMED_STEPS[1] - TIMED_STEPS[0])
                if master and eval_seconds is None:
                    validate()  # times one evaluation: the budget must hold them too
                max_steps = torch.tensor(steps_within_budget(config, step, progress["train_seconds"], seconds_per_step, eval_seconds or 0.0), device=device)
                if ddp:
                    torch.distributed.broadcast(max_steps, 0)
                config = dataclasses.replace(config, max_steps=int(max_steps), time_budget_s=0.0)
                bar.total = config.max_steps
                if master:
                    log.info("time budget: %.3f s/step, max_steps set to %d", seconds_per_step, config.max_steps)
            if master and step > step_start and step % config.eval_interval == 0:
                validate()

            x, y, new_epoch = streams.next_batch()
            if new_epoch:
                progress["epoch"] += 1
                state = model.init_state(config.batch_size, device)
            with autocast:
                logits, state = train_model(x.to(device), state)
                loss = F.cross_entropy(logits.float().flatten(0, 1), y.to(device).flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            state = restart_some_streams(repackage_state(state), config.state_reset)

            now = time.time()
            progress["train_seconds"] += now - t_last
            progress["tokens_seen"] += tokens_per_step
            progress["step"] += 1
            if master:
                tok_s = tokens_per_step / max(1e-9, now - t_last)
                bar.set_postfix(loss=f"{loss.item():.3f}", tok_s=f"{tok_s:,.0f}", lr=f"{lr:.1e}", refresh=False)
                bar.update(1)
                if progress["step"] % 50 == 0:
                    metrics.write(json.dumps({"step": progress["step"], "train_loss": round(loss.item(), 4), "tok_s": round(tok_s), "lr": lr}) + "\n")
            t_last = now
        if master and progress["step"] > step_start:  # final evaluation and checkpoint
            validate()
    except KeyboardInterrupt:
        if master and dry_run:
            bar.write("dry run interrupted: nothing was written")
        elif master and progress["step"] > step_start:
            save_checkpoint(out_dir / CHECKPOINT, model, optimizer, preset, config, tokenizer, meta, {**progress, "epoch_progress": streams.progress})
            bar.write(f"interrupted: saved step {progress['step']} to {out_dir / CHECKPOINT}; run the same command to resume")
        elif master:  # before its first step: a new run's checkpoint would fix the shape of a mistyped option for good
            bar.write("interrupted before the first step: nothing was saved")
        raise
    finally:
        bar.close()
        if metrics:
            metrics.close()
        if ddp:
            torch.distributed.destroy_process_group()
        if dry_run:
            shutil.rmtree(out_dir, ignore_errors=True)
    return progress


def run(args) -> int:
    # Ctrl-C, SIGTERM (`kill`, a scheduler) and the SIGHUP of a closing terminal save a checkpoint before exiting. The handlers
    # only set `stop`, which the loop reads before each step: a KeyboardInterrupt raised wherever the signal came was
    # lost in an object's __del__ (Python prints and ignores it) and became a RuntimeError inside torch.save's writes.
    # A signal ignored from the start (a script's background job) stays ignored: it was until this line, and
    # not after it, so an early one was ignored and a later one stopped the run.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, lambda *_: stop.set())
    try:
        overrides = parse_overrides(args.overrides)
    except ConfigError as e:
        raise TrainError(str(e)) from None
    try:
        progress = train(Path(args.data), Path(args.out), args.preset, overrides, args.dry_run, stop)
    except KeyboardInterrupt:
        return 130
    if int(os.environ.get("RANK", 0)) != 0:
        return 0
    if args.dry_run:
        print(f"dry run: {progress['step']} steps ran end to end, val {progress['best_val_bpc']:.3f} bits/char; nothing was written to {args.out}")
    else:
        print(f"trained {progress['step']} steps, {progress['tokens_seen']:,} tokens, best val {progress['best_val_bpc']:.3f} bits/char -> {args.out}")
    return 0
