"""Shared fixtures: a small generated corpus and tiny models made from it (seconds, no real data)."""

from __future__ import annotations

import os
import random

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

SUBJECTS = ["I", "we", "you", "they", "the cat", "my friend", "the teacher", "our team", "Anna", "the old man"]
VERBS = ["like", "want", "see", "read", "write", "love", "need", "found", "don't know", "bought"]
OBJECTS = ["the book", "a letter", "the well-known story", "some coffee", "the red car", "this movie", "a new house",
           "the garden", "that song", "the morning news", 'the "new" house', "a (very) long letter"]
ENDINGS = [".", ".", ".", "!", "?", ", thank you very much."]


def generated_text(n_sentences: int = 3000, seed: int = 0) -> str:
    """Simple English sentences in paragraphs and documents, the same for every seed."""
    rng = random.Random(seed)
    docs = []
    for _ in range(n_sentences // 30):
        paragraphs = []
        for _ in range(3):
            sentences = []
            for _ in range(10):
                s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(ENDINGS)}"
                sentences.append(s[0].upper() + s[1:])
            paragraphs.append(" ".join(sentences))
        docs.append("\n".join(paragraphs))
    return "\n\n".join(docs) + "\n"


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    (d / "a.txt").write_text(generated_text(3000, seed=1))
    (d / "b.md").write_text(generated_text(600, seed=2))
    return d


def _build_model(tmp_path_factory, corpus_dir, kind: str, vocab: int, steps: int):
    from foretype.training.export import export
    from foretype.training.prepare import prepare
    from foretype.training.train import train

    root = tmp_path_factory.mktemp(f"model-{kind}")
    prepare([str(corpus_dir)], root / "data", kind=kind, vocab_size=vocab)
    train(root / "data", root / "run", "tiny", {"max_steps": steps, "eval_interval": steps})
    export(root / "run", root / "model.pt", vocabulary=root / "data" / "vocabulary.txt")
    return root / "model.pt"


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory, corpus_dir):
    """A tiny unigram-subword model trained for a few seconds on the generated corpus."""
    return _build_model(tmp_path_factory, corpus_dir, "unigram", 400, 150)


@pytest.fixture(scope="session")
def tiny_char_model_path(tmp_path_factory, corpus_dir):
    """A tiny character model trained for a few seconds on the generated corpus."""
    return _build_model(tmp_path_factory, corpus_dir, "char", 400, 150)
