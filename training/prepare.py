"""`foretype prepare`: text files -> tokenizer + train.bin / val.bin token streams (uint16 memmaps) + the vocabulary."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from foretype.model.errors import ForetypeError
from foretype.model.files import atomic_write, atomic_write_text
from foretype.model.tokenizer import FIXED_PIECES, NEWLINE, Tokenizer
from foretype.model.vocabulary import Vocabulary

from .config import PRESETS
from .textfiles import Skipped, nothing_read, plural, read_texts, split_documents

log = logging.getLogger(__name__)

DOC_SEPARATOR = NEWLINE * 2
TOKENIZER = "tokenizer.model"
VOCABULARY = "vocabulary.txt"
META = "meta.json"  # written last, with the tokenizer's digest: `train` refuses a folder without it
OUTPUTS = (TOKENIZER, "train.bin", "val.bin", VOCABULARY, META)  # the files prepare writes into its folder
MAX_VOCAB = 65535  # token ids are stored as uint16
MAX_VAL_FRACTION = 0.5  # holding out more than is trained on is no split
# the fewest training tokens `train` can read: TokenStreams' need for the smallest preset
MIN_TRAIN_TOKENS = PRESETS["tiny"]["batch_size"] * (PRESETS["tiny"]["seq_len"] + 1)
# sentencepiece's errors: "INTERNAL: src/trainer_interface.cc(638) [condition] message"
SENTENCEPIECE_SOURCE = re.compile(r"^\w+: \S+\(\d+\) ")
VOCABULARY_TOO_SMALL = re.compile(r"Vocabulary size is smaller than required_chars\. \d+ vs (\d+)")
NO_SENTENCES = "[!sentences_.empty()]"  # it skips lines longer than its max_sentence_length; it had none left
MAX_LINE_BYTES = 4192  # sentencepiece's default max_sentence_length


class PrepareError(ForetypeError):
    pass


def is_validation(doc: str, val_fraction: float) -> bool:
    """Deterministic document-level split: the same document always lands on the same side."""
    h = int.from_bytes(hashlib.blake2b(doc.encode("utf-8"), digest_size=8).digest(), "big")
    return h / 2**64 < val_fraction


def tokenizer_digest(model_proto: bytes) -> str:
    """What meta.json records of tokenizer.model, so that `train` can tell its token files belong to it."""
    return hashlib.sha256(model_proto).hexdigest()


def check_options(vocab_size: int, val_fraction: float) -> None:
    """Refuse values the tokenizer or the split cannot use before the inputs are read, not after."""
    if not FIXED_PIECES < vocab_size <= MAX_VOCAB:
        raise PrepareError(f"--vocab-size must be from {FIXED_PIECES + 1} to {MAX_VOCAB}, not {vocab_size}")
    if not 0 <= val_fraction <= MAX_VAL_FRACTION:
        raise PrepareError(f"--val-fraction must be from 0 to {MAX_VAL_FRACTION}, not {val_fraction}")


def collect_documents(inputs: list[str], out_dir: Path) -> tuple[list[str], list[Skipped], int]:
    """Documents of every readable file, the files skipped, and how many files were read.

    The files a run writes into ``out_dir`` are skipped: run again on the folder it writes to, prepare read its own
    vocabulary.txt as text.
    """
    own_outputs = {os.path.realpath(out_dir / name) for name in OUTPUTS}
    docs, skipped, n_files = [], [], 0
    for item in tqdm(read_texts(inputs), desc="reading", unit="file", disable=None):
        path = item.path if isinstance(item, Skipped) else item[0]
        if os.path.realpath(path) in own_outputs:
            item = Skipped(path, "prepare's own output")
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


def train_tokenizer(docs: list[str], kind: str, vocab_size: int) -> Tokenizer:
    """The tokenizer of ``docs``: a minute's work on a large corpus, logged before and after; sentencepiece's
    refusals become one readable line."""
    log.info("training the %s tokenizer (vocab %d) on %s", kind, vocab_size, plural(len(docs), "document"))
    started = time.time()
    lines = (" " + line for d in docs for line in d.split(NEWLINE) if line.strip())  # model text: a space before each line
    try:
        tokenizer = Tokenizer.train(lines, kind, vocab_size)
    except RuntimeError as e:
        reason = SENTENCEPIECE_SOURCE.sub("", str(e)).strip().splitlines()[0]
        too_small = VOCABULARY_TOO_SMALL.search(reason)
        if too_small:
            raise PrepareError(f"--vocab-size {vocab_size} is too small for the characters of this text: it needs at least {too_small[1]}") from None
        if reason == NO_SENTENCES:
            raise PrepareError(f"the tokenizer skips lines longer than {MAX_LINE_BYTES:,} bytes, and every line of the text is: break it into lines") from None
        raise PrepareError(f"the {kind} tokenizer could not be trained: {reason}") from None
    log.info("trained the tokenizer in %.1f s", time.time() - started)
    return tokenizer


def prepare(inputs: list[str], out_dir: Path, kind: str = "unigram", vocab_size: int = 8000, val_fraction: float = 0.01) -> dict:
    """Read, split, train the tokenizer and encode, then write ``out_dir``.

    Nothing in ``out_dir`` changes before all of it is ready; meta.json is removed before the first file is
    written and written last, so an interrupted run leaves a folder `train` refuses, never one that mixes
    a new tokenizer with old token files.
    """
    check_options(vocab_size, val_fraction)
    start = time.time()
    docs, skipped, n_files = collect_documents(inputs, out_dir)
    if not docs:
        raise PrepareError("no usable text in the inputs" + ("" if n_files else f": {nothing_read(skipped)}"))
    train_docs = [d for d in docs if not is_validation(d, val_fraction)]
    val_docs = [d for d in docs if is_validation(d, val_fraction)]
    if not train_docs or not val_docs:  # tiny inputs: hold out the last document
        train_docs, val_docs = docs[:-1] or docs, docs[-1:]
    if len(docs) == 1:
        log.warning("the text is one document (no blank line in it): validation reads the training text, so its bits/char look better than they are")
    tokenizer = train_tokenizer(train_docs, kind, vocab_size)
    if tokenizer.vocab_size > MAX_VOCAB:
        raise PrepareError(f"vocabulary of {tokenizer.vocab_size} does not fit uint16")
    meta = {"tokenizer_kind": kind, "vocab_size": tokenizer.vocab_size, "tokenizer_sha256": tokenizer_digest(tokenizer.model_proto),
            "files": n_files, "skipped": [str(s) for s in skipped], "documents": len(docs)}
    streams = {}
    for split, split_docs in (("train", train_docs), ("val", val_docs)):
        streams[split] = encode_stream(tokenizer, split_docs, f"encoding {split}")
        chars = sum(len(d) + len(DOC_SEPARATOR) for d in split_docs)
        tokens = len(streams[split])
        meta[split] = {"documents": len(split_docs), "chars": chars, "tokens": tokens, "chars_per_token": chars / max(1, tokens)}
    if meta["train"]["tokens"] < MIN_TRAIN_TOKENS:
        raise PrepareError(f"too little text to train on: the training text is {plural(meta['train']['tokens'], 'token')} "
                           f"({plural(meta['train']['chars'], 'character')}), and the smallest run (--preset tiny) needs at least {MIN_TRAIN_TOKENS:,}")
    vocabulary = Vocabulary.of_texts(docs)  # the words the model may offer (model/vocabulary.py); `export --vocabulary` adds it
    meta["vocabulary_words"] = len(vocabulary)

    (out_dir / META).unlink(missing_ok=True)  # the folder is incomplete from here until meta.json is written again
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(out_dir / TOKENIZER, lambda f: f.write(tokenizer.model_proto))
    for split, ids in streams.items():
        atomic_write(out_dir / f"{split}.bin", lambda f: f.write(ids.tobytes()))
    atomic_write_text(out_dir / VOCABULARY, vocabulary.to_payload())
    meta["seconds"] = round(time.time() - start, 1)
    atomic_write_text(out_dir / META, json.dumps(meta, indent=2))
    return meta


def run(args) -> int:
    meta = prepare(args.inputs, Path(args.out), args.tokenizer, args.vocab_size, args.val_fraction)
    t, v = meta["train"], meta["val"]
    print(
        f"{plural(meta['files'], 'file')} ({len(meta['skipped'])} skipped), {plural(meta['documents'], 'document')}, "
        f"train {t['chars']:,} chars -> {t['tokens']:,} tokens ({t['chars_per_token']:.2f} chars/token), "
        f"val {v['chars']:,} chars -> {v['tokens']:,} tokens, vocab {meta['vocab_size']}, {meta['vocabulary_words']:,} words, "
        f"{meta['seconds']} s -> {args.out}",
        file=sys.stdout,
    )
    return 0
