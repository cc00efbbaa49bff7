"""`foretype export`: a training run (or one checkpoint) -> one inference model file."""

from __future__ import annotations

import time
from pathlib import Path

from foretype.model.lstm import LSTMConfig, LSTMLanguageModel
from foretype.model.modelfile import save_model_file
from foretype.model.tokenizer import Tokenizer

from .train import BEST, CHECKPOINT, TrainError, load_checkpoint


def resolve_checkpoint(run_or_ckpt: Path) -> Path:
    if run_or_ckpt.is_dir():
        for name in (BEST, CHECKPOINT):
            if (run_or_ckpt / name).exists():
                return run_or_ckpt / name
        raise TrainError(f"{run_or_ckpt} holds no checkpoint ({BEST} or {CHECKPOINT})")
    if not run_or_ckpt.exists():
        raise TrainError(f"{run_or_ckpt} not found")
    return run_or_ckpt


def export(run_or_ckpt: Path, out: Path, quantize: str | None = None) -> dict:
    ckpt = load_checkpoint(resolve_checkpoint(run_or_ckpt))
    model = LSTMLanguageModel(LSTMConfig(**ckpt["model_config"]))
    model.load_state_dict(ckpt["model"])
    tokenizer = Tokenizer(ckpt["tokenizer"].numpy().tobytes())
    progress, config = ckpt["progress"], ckpt["config"]
    summary = {
        "exported": time.strftime("%Y-%m-%d"),
        "steps": progress["step"],
        "tokens_seen": progress["tokens_seen"],
        "train_seconds": round(progress["train_seconds"]),
        "best_val_bpc": round(progress["best_val_bpc"], 4),
        "parameters": model.num_parameters(),
        "train_config": config,
    }
    save_model_file(out, model, tokenizer, tokenizer_kind=ckpt["tokenizer_kind"], quantize=quantize, summary=summary)
    return summary


def run(args) -> int:
    summary = export(Path(args.run), Path(args.out), args.quantize)
    print(f"exported step {summary['steps']} ({summary['parameters']:,} parameters, val {summary['best_val_bpc']} bits/char"
          f"{', int8 inference' if args.quantize else ''}) -> {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB)")
    return 0
