"""`foretype prepare`: text files -> tokenizer + train.bin / val.bin token streams (uint16 memmaps) + the vocabulary."""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from foretype.model.errors import ForetypeError
from foretype.model.files import atomic_write, atomic_write_text
from foretype.model.tokenizer import NEWLINE, Tokenizer
from foretype.model.vocabulary import Vocabulary

from .textfiles import Skipped, nothing_read, read_texts, split_documents

log = logging.getLogger(__name__)

DOC_SEPARATOR = NEWLINE * 2
VOCABULARY = "vocabulary.txt"


class PrepareError(ForetypeError):
    pass


def is_validation(doc: str, val_fraction: float) -> bool:
    """Deterministic document-level split: the same document always lands on the same side."""
    h = int.from_bytes(hashlib.blake2b(doc.encode("utf-8"), digest_size=8).digest(), "big")
    return h / 2**64 < val_fraction


def collect_documents(inputs: list[str]) -> tuple[list[str], list[Skipped], int]:
    """Documents of every readable file, the files skipped, and how many files were read."""
    docs, skipped, n_files = [], [], 0
    for item in tqdm(list(read_texts(inputs)), desc="reading", unit="file", disable=None):
        if isinstance(item, Skipped):
            skipped.append(item)
            log.warning("%s", item)
        else:
            n_files += 1
            docs.extend(split_documents(item[1]))
    return docs, skipped, n_files


def encode_stream(tokenizer: Tokenizer, docs: list[str], desc: str) -> np.ndarray:
    """All documents as one token stream, each followed by a blank line."""
    sep = tokenizer.encode_model_text(DOC_SEPARATOR)
    out: list[int] = []
    for doc in tqdm(docs, desc=desc, unit="doc", disable=None, mininterval=1.0):
        out.extend(tokenizer.encode(doc))
        out.extend(sep)
    return np.array(out, dtype=np.uint16)


def prepare(inputs: list[str], out_dir: Path, kind: str = "unigram", vocab_size: int = 8000, val_fraction: float = 0.01) -> dict:
    start = time.time()
    docs, skipped, n_files = collect_documents(inputs)
    if not docs:
        raise PrepareError("no usable text in the inputs" + ("" if n_files else f": {nothing_read(skipped)}"))
    train_docs = [d for d in docs if not is_validation(d, val_fraction)]
    val_docs = [d for d in docs if is_validation(d, val_fraction)]
    if not val_docs:  # tiny inputs: hold out the last document
        val_docs = [train_docs.pop()] if len(train_docs) > 1 else list(train_docs)
    log.info("training the %s tokenizer (vocab %d) on %d documents", kind, vocab_size, len(train_docs))
    lines = (" " + line for d in train_docs for line in d.split(NEWLINE) if line.strip())  # model text: a space before each line
    tokenizer = Tokenizer.train(lines, kind, vocab_size)
    if tokenizer.vocab_size > 65535:
        raise PrepareError(f"vocabulary of {tokenizer.vocab_size} does not fit uint16")
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(out_dir / "tokenizer.model", lambda f: f.write(tokenizer.model_proto))
    meta = {"tokenizer_kind": kind, "vocab_size": tokenizer.vocab_size, "files": n_files, "skipped": [str(s) for s in skipped]}
    for split, split_docs in (("train", train_docs), ("val", val_docs)):
        ids = encode_stream(tokenizer, split_docs, f"encoding {split}")
        atomic_write(out_dir / f"{split}.bin", lambda f: f.write(ids.tobytes()))
        chars = sum(len(d) + len(DOC_SEPARATOR) for d in split_docs)
        meta[split] = {"documents": len(split_docs), "chars": chars, "tokens": int(len(ids)), "chars_per_token": chars / max(1, len(ids))}
    vocabulary = Vocabulary.of_texts(docs)  # the words the model may offer (model/vocabulary.py); `export --vocabulary` adds it
    atomic_write_text(out_dir / VOCABULARY, vocabulary.to_payload())
    meta["vocabulary_words"] = len(vocabulary)
    meta["seconds"] = round(time.time() - start, 1)
    atomic_write_text(out_dir / "meta.json", json.dumps(meta, indent=2))
    return meta


def run(args) -> int:
    meta = prepare(args.inputs, Path(args.out), args.tokenizer, args.vocab_size, args.val_fraction)
    t, v = meta["train"], meta["val"]
    print(
        f"{meta['files']} files ({len(meta['skipped'])} skipped), {t['documents'] + v['documents']:,} documents, "
        f"train {t['chars']:,} chars -> {t['tokens']:,} tokens ({t['chars_per_token']:.2f} chars/token), "
        f"val {v['chars']:,} chars -> {v['tokens']:,} tokens, vocab {meta['vocab_size']}, {meta['vocabulary_words']:,} words, "
        f"{meta['seconds']} s -> {args.out}",
        file=sys.stdout,
    )
    return 0
