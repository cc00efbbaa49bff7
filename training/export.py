"""`foretype export`: a training run (or one checkpoint) -> one inference model file.

The input may also be a model file, to write it again with a vocabulary (`--vocabulary`, the
`vocabulary.txt` of the `foretype prepare` folder the model was trained from) or int8 inference:
the shipped default model got its vocabulary that way.
"""

from __future__ import annotations

import time
from pathlib import Path

from foretype.model.files import usual_file_mode
from foretype.model.lstm import LSTMConfig, LSTMLanguageModel
from foretype.model.modelfile import check_model_output, is_model_payload, model_from_payload, save_model_file
from foretype.model.tokenizer import Tokenizer
from foretype.model.vocabulary import Vocabulary

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


def read_vocabulary(path: Path) -> Vocabulary:
    """`foretype prepare`'s vocabulary.txt, one word a line; anything else (a text, /dev/zero) refused in one line."""
    use_prepares = "use the vocabulary.txt that `foretype prepare` wrote"
    try:
        if not path.is_file():
            raise TrainError(f"the vocabulary {path} is not a file: {use_prepares}")
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise TrainError(f"cannot read the vocabulary {path}: {e}") from None
    if any(len(line.split()) > 1 for line in lines):  # a text given instead: its lines would be "words"
        raise TrainError(f"{path} is not a vocabulary (one word a line): {use_prepares}")
    vocabulary = Vocabulary.from_payload("\n".join(lines))
    if not vocabulary:
        raise TrainError(f"the vocabulary {path} is empty: {use_prepares}")
    return vocabulary


def export(run_or_ckpt: Path, out: Path, quantize: str | None = None, vocabulary: Path | None = None) -> dict:
    check_model_output(out)
    words = read_vocabulary(vocabulary) if vocabulary else None
    neither = TrainError(f"{run_or_ckpt} is neither a training checkpoint nor a Foretype model file")
    source = resolve_checkpoint(run_or_ckpt)
    try:
        ckpt = load_checkpoint(source)
    except TrainError:
        if run_or_ckpt.is_file():
            raise neither from None
        raise
    if is_model_payload(ckpt):
        loaded = model_from_payload(ckpt, source)
        words = words or loaded.vocabulary
        quantize = quantize or loaded.quantize
        summary = {**loaded.summary, "vocabulary_words": len(words or ())}
        save_model_file(out, loaded.model, loaded.tokenizer, tokenizer_kind=loaded.tokenizer_kind, quantize=quantize,
                        summary=summary, base_sha256=loaded.base_sha256, lexicon=loaded.lexicon, vocabulary=words,
                        mode=usual_file_mode())
        return {**summary, "from_model_file": True, "quantize": quantize}
    if not isinstance(ckpt, dict) or "model_config" not in ckpt:
        raise neither
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
        "vocabulary_words": len(words or ()),
        "train_config": config,
    }
    save_model_file(out, model, tokenizer, tokenizer_kind=ckpt["tokenizer_kind"], quantize=quantize, summary=summary, vocabulary=words,
                    mode=usual_file_mode())
    return {**summary, "quantize": quantize}


def run(args) -> int:
    summary = export(Path(args.run), Path(args.out), args.quantize, Path(args.vocabulary) if args.vocabulary else None)
    what = f"model file {args.run}" if summary.get("from_model_file") else (
        f"step {summary['steps']} ({summary['parameters']:,} parameters, val {summary['best_val_bpc']} bits/char)")
    print(f"exported {what}{', int8 inference' if summary['quantize'] else ''}, {summary['vocabulary_words']:,} words in the vocabulary"
          f" -> {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB)")
    return 0
