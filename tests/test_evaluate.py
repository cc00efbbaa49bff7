"""`foretype eval`: the typing simulator on oracle predictors (no model), bits per character, the command."""

from __future__ import annotations

import argparse
import json
import math

import pytest
import torch

from foretype.model.lstm import LSTMConfig, LSTMLanguageModel
from foretype.model.modelfile import load_model_file
from foretype.model.predictor import Suggestion
from foretype.training.evaluate import (WORD, EvalError, accepted_length, as_offered, first_words, run, simulate, text_bits,
                                        worth_asking)

# 24 characters, 6 words. An always-right user:
#   "Hi" accept (the comma follows: no space), "," typed, " the " accept (a prediction after the comma
#   carries its leading space), "cat " accept, "sat" accept, "." typed, "\n" typed, "The " accept,
#   "end" accept: 9 keystrokes, KSR 1 - 9/24.
# Under the "words" rules: hi the cat sat the end, 3 + 5 * 4 = 23 characters, one keystroke a word.
TEXT = "Hi, the cat sat.\nThe end"
BEST_EXACT = 1 - 9 / 24
BEST_WORDS = 1 - 6 / 23


def right_words(text: str, at_start: bool = True):
    """An oracle shaped like the engine: the text's current word, completed, or the next one after a space.

    With ``at_start`` False it only knows a word once its first letter is typed.
    """
    words = list(WORD.finditer(text))

    def suggest(before: str) -> list[tuple[str, str]]:
        pos = len(before)
        for m in words:
            if m.start() < pos < m.end() or (at_start and m.start() == pos):
                return [(m.group(), text[pos : m.end()] + " ")]
            if at_start and m.start() == pos + 1 and text[pos] == " ":
                return [(m.group(), " " + m.group() + " ")]
        return []

    return suggest


def wrong(before: str) -> list[tuple[str, str]]:
    return [("zzz", "zzz "), ("qq", "qq ")]


@pytest.mark.parametrize("text, pos, insert, expected", [
    ("the cat", 0, "the ", 4),  # the word and its space
    ("the cat", 1, "he ", 3),
    ("the, cat", 0, "the ", 3),  # punctuation follows: the word, no space
    ("the", 0, "the ", 3),  # end of text
    ("the\ncat", 0, "the ", 3),
    ("then", 0, "the ", 0),  # the real word is longer
    ("dogs' toys", 0, "dogs ", 0),
    ("The cat", 0, "the ", 0),  # case counts
    ("Hi, you too", 3, " you ", 5),  # a prediction after punctuation, with its leading space
    ("Hi,\nyou", 3, " you ", 0),
    ("Hi, you", 2, " ", 0),  # nothing but a space is no word
])
def test_accepted_length(text, pos, insert, expected):
    assert accepted_length(text, pos, insert) == expected


def test_always_right_saves_the_most_possible():
    typing = simulate(TEXT, right_words(TEXT))
    assert typing.words == 6
    assert typing.chars == {"exact": 24, "words": 23}
    for k in (1, 3, 5):
        assert typing.ksr("exact", k) == pytest.approx(BEST_EXACT)
        assert typing.ksr("words", k) == pytest.approx(BEST_WORDS)
    assert typing.hits == {"top1": 6, "top1_nocase": 6, "top3": 6, "top3_nocase": 6}
    assert simulate(TEXT, right_words(TEXT), tops=[2]).hits == {"top2": 6, "top2_nocase": 6}


@pytest.mark.parametrize("suggest", [wrong, lambda before: []])
def test_never_right_saves_nothing(suggest):
    typing = simulate(TEXT, suggest)
    for k in (1, 3, 5):
        assert typing.ksr("exact", k) == 0
        assert typing.ksr("words", k) == 0
    assert set(typing.hits.values()) == {0}


def test_right_after_the_first_letter():
    # each word costs its first letter and an accept; the space after the comma is typed too
    typing = simulate(TEXT, right_words(TEXT, at_start=False))
    assert typing.keystrokes["exact"][1] == 16
    assert typing.keystrokes["words"][1] == 12
    assert typing.hits["top1"] == 0


def test_only_shown_words_count():
    right = right_words(TEXT)
    third = simulate(TEXT, lambda before: [*wrong(before), *right(before)])
    assert third.ksr("exact", 1) == third.ksr("words", 1) == 0
    assert third.ksr("exact", 3) == pytest.approx(BEST_EXACT)
    assert third.ksr("words", 5) == pytest.approx(BEST_WORDS)
    assert (third.hits["top1"], third.hits["top3"]) == (0, 6)


def test_case_counts_only_under_exact_rules():
    right = right_words(TEXT)
    shouting = simulate(TEXT, lambda before: [(w.upper(), i.upper()) for w, i in right(before)])
    assert shouting.ksr("exact", 5) == 0
    assert shouting.ksr("words", 1) == pytest.approx(BEST_WORDS)
    assert (shouting.hits["top1"], shouting.hits["top1_nocase"]) == (0, 6)


def test_each_position_is_asked_once_and_only_where_a_suggestion_could_help():
    asked = []
    right = right_words(TEXT, at_start=False)

    def suggest(before):
        asked.append(before)
        return right(before)

    simulate(TEXT, suggest)
    assert len(asked) == len(set(asked))
    assert all(TEXT.startswith(before) for before in asked)
    assert "Hi, " in asked and "Hi," in asked  # a word start, and a space after punctuation (" the ")
    assert "Hi" not in asked and "Hi, the cat" not in asked and "Hi, the cat sat." not in asked  # ",", " ", "\n"


@pytest.mark.parametrize("text, pos, expected", [
    ("the cat", 0, True), ("the cat", 2, True), ("it's", 2, True), ("the cat", 3, False),
    ("Hi, you", 3, True), ("Hi, you", 2, False), ("Hi,\nyou", 3, False), ("Hi, 42", 3, True), ("Hi. ", 3, False),
])
def test_worth_asking(text, pos, expected):
    assert worth_asking(text, pos) == expected


def test_first_words():
    assert first_words("One, two three.", 2) == "One, two"
    assert first_words("One, two three.", 5) == "One, two three."
    assert first_words("One, two three.", None) == "One, two three."


def test_bits_per_char_of_a_uniform_model(tiny_model_path):
    tokenizer = load_model_file(tiny_model_path).tokenizer
    model = LSTMLanguageModel(LSTMConfig(vocab_size=tokenizer.vocab_size, embed_dim=8, hidden_dim=8, n_layers=1))
    torch.nn.init.zeros_(model.embedding.weight)  # tied to the output layer: every logit is 0
    model.eval()
    text = "The cat sat on the mat.\nThen it slept."
    bits, tokens = text_bits(model, tokenizer, text)
    assert tokens == len(tokenizer.encode(text))
    assert bits / len(text) == pytest.approx(math.log2(tokenizer.vocab_size) * tokens / len(text))


def test_bits_do_not_depend_on_the_chunking(tiny_model_path):
    loaded = load_model_file(tiny_model_path)
    loaded.model.eval()
    text = "Anna bought the red car. We like this movie!\nThe teacher read a letter."
    whole = text_bits(loaded.model, loaded.tokenizer, text)
    for chunk in (1, 2, 7):
        bits, tokens = text_bits(loaded.model, loaded.tokenizer, text, chunk=chunk)
        assert (bits, tokens) == (pytest.approx(whole[0], rel=1e-6), whole[1])


def eval_args(model, paths, **kwargs) -> argparse.Namespace:
    return argparse.Namespace(model=str(model), texts=[str(p) for p in paths], k=3, max_words=None, rules="exact", json=True, **kwargs)


@pytest.fixture(params=["tiny_model_path", "tiny_char_model_path"])
def any_tiny_model_path(request):
    """Each tiny model in turn: subword and character tokenizers take different paths in the engine."""
    return request.getfixturevalue(request.param)


def test_eval_on_a_tiny_model_is_deterministic(any_tiny_model_path, tmp_path, capsys):
    tiny_model_path = any_tiny_model_path
    path = tmp_path / "sample.txt"
    path.write_text("The cat read the book. My friend wants some coffee.\nAnna bought a new house, thank you very much.\n")
    reports = []
    for _ in range(2):
        assert run(eval_args(tiny_model_path, [path])) == 0
        reports.append(json.loads(capsys.readouterr().out))
    report = reports[0]
    assert report["model"] == str(tiny_model_path)
    metrics = report["files"][str(path)]
    assert metrics["words"] == 19
    assert metrics["chars"] == len(path.read_text())
    assert 0 < metrics["bpc"] < 8
    for rule in ("exact", "words"):
        ksr = metrics["ksr"][rule]
        assert 0 <= ksr["1"] <= ksr["3"] <= ksr["5"] < 1
        assert ksr["5"] > 0  # the tiny models know these sentences
    for name in ("top1", "top3", "top1_nocase", "top3_nocase"):
        assert 0 <= metrics[name] <= 1
    assert metrics["latency_ms"]["p50"] <= metrics["latency_ms"]["p95"] <= metrics["latency_ms"]["p99"]
    timing = ("latency_ms", "seconds", "words_per_s")
    assert [{n: v for n, v in r["overall"].items() if n not in timing} for r in reports] == [
        {n: v for n, v in metrics.items() if n not in timing}] * 2  # one file: overall is that file


def test_eval_table_and_max_words(tiny_model_path, tmp_path, capsys):
    path = tmp_path / "sample.txt"
    path.write_text("We like the garden. They need that song!\n")
    args = eval_args(tiny_model_path, [path])
    args.json, args.max_words, args.rules = False, 3, "words"
    assert run(args) == 0
    out = capsys.readouterr().out
    assert "'words' rules" in out
    assert [line.split()[1] for line in out.splitlines()[2:]] == ["3", "3"]  # the file's row and the overall one
    args.json, args.k = True, 5
    assert run(args) == 0
    metrics = json.loads(capsys.readouterr().out)["overall"]
    assert {"top1", "top3", "top5", "top5_nocase"} <= metrics.keys()  # top3 always, as the report's schema says


def test_eval_refuses_what_it_cannot_use(tiny_model_path, tmp_path):
    with pytest.raises(EvalError, match=r"no text to evaluate: the only file skipped \(.*missing.txt: not found\)"):
        run(eval_args(tiny_model_path, [tmp_path / "missing.txt"]))
    (tmp_path / "empty folder").mkdir()
    with pytest.raises(EvalError, match="no text to evaluate: no files in the input"):
        run(eval_args(tiny_model_path, [tmp_path / "empty folder"]))
    args = eval_args(tiny_model_path, [tmp_path])
    args.k = 0
    with pytest.raises(EvalError, match="-k"):
        run(args)


def test_a_capitalised_word_for_a_sentence_begun_in_lower_case_never_counts():
    # accepting it retypes the letters ("w" -> What): "hat " after the text's "w" is not what it types
    offered = as_offered([Suggestion("What", "hat ", -1.0, "completion", "W"), Suggestion("what", "hat ", -2.0, "completion")])
    assert offered == [("what", "hat ")]
