"""`foretype eval`: how much typing a model saves and how good it is, on any text.

Three measures, so that models and changes can be compared honestly:

- bits per character: the model's total negative log-likelihood of the text's tokens, scored from the
  start state the live engine uses (the tokens of "\\n\\n", a new document), in bits, divided by the
  text's characters;
- next-word accuracy at each word start, case-sensitive and not;
- keystroke savings rate (KSR) of a simulated user who types the text and accepts a suggestion as soon
  as it shows the word being typed, under two rules ("exact" and the literature's "words", see
  `simulate`), for k = 1, 3 and 5 suggestions shown, all from one pass over the text.

The simulator is a pure function of the text and a ``suggest(text_before_cursor)`` callable, so it is
tested with oracle predictors and needs no model. Everything but the latency figures is exactly the
same from run to run: the engine is deterministic and is asked the same questions in the same order.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from foretype.model.errors import ForetypeError
from foretype.model.modelfile import default_model_path
from foretype.model.predictor import Predictor, Suggestion
from foretype.model.tokenizer import NEWLINE, Tokenizer

from .textfiles import Skipped, nothing_read, read_texts

log = logging.getLogger(__name__)

KS = (1, 3, 5)  # KSR is reported for these numbers of suggestions shown
RULES = ("exact", "words")

# text before the cursor -> suggestions as (word, text to insert at the cursor), best first
Suggest = Callable[[str], Sequence[tuple[str, str]]]

# A word: letters or digits, with inner apostrophes or hyphens ("Boulter's", "well-known", "2006");
# everything else is whitespace or punctuation. Used for word counts, --max-words, next-word accuracy
# and the "words" rules. Numbers count: the user types them, though the engine never suggests them.
WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")


class EvalError(ForetypeError):
    pass


def continues_word(c: str) -> bool:
    """Whether ``c`` after a word makes it a longer word (so a suggestion of the shorter one is wrong)."""
    return c.isalnum() or c in "'-_"


def accepted_length(text: str, pos: int, insert: str) -> int:
    """How many characters of ``text`` accepting ``insert`` at ``pos`` types, or 0 if it types something else.

    ``insert`` is the rest of a word and a trailing space (and a leading space for a word predicted
    right after punctuation). It must match the real text exactly, the trailing space included where
    the text has a space there. Where the word is followed by punctuation, a newline or the end of the
    text instead, accepting types the word without the space (as an editor that takes the space back
    when punctuation follows an accepted word), provided the word really ends there: the next
    character is not a letter, digit, apostrophe, hyphen or underscore.
    """
    if text.startswith(insert, pos):
        return len(insert)
    body = insert[:-1]
    end = pos + len(body)
    if insert.endswith(" ") and body.strip() and text.startswith(body, pos) and (end == len(text) or not continues_word(text[end])):
        return len(body)
    return 0


def worth_asking(text: str, pos: int) -> bool:
    """Whether a suggestion at ``pos`` could save a keystroke, given that suggestions insert the rest of a word.

    An insert is the rest of a word and a space, with a leading space only for a prediction right
    after punctuation ("Hello," -> " world "). So one can help only where the text goes on with a word
    character, or with a space and a word after punctuation. Elsewhere (punctuation, a newline, the
    space after a finished word: nothing left to complete) the user types the character anyway, and
    the engine, whose search is the cost of the whole evaluation, is not asked.
    """
    c = text[pos]
    if continues_word(c):
        return True
    after_punctuation = pos > 0 and not continues_word(text[pos - 1]) and not text[pos - 1].isspace()
    return c == " " and after_punctuation and pos + 1 < len(text) and continues_word(text[pos + 1])


@dataclass(frozen=True)
class Typing:
    """What the simulated user did on one text, under both rules."""

    words: int
    chars: dict[str, int]  # rule -> characters the rule makes the user produce
    keystrokes: dict[str, dict[int, int]]  # rule -> k suggestions shown -> keystrokes
    hits: dict[str, int]  # "top1", "top1_nocase", "top3", ... -> words shown before their first letter

    def ksr(self, rule: str, k: int) -> float:
        return 1 - self.keystrokes[rule][k] / self.chars[rule] if self.chars[rule] else 0.0


def simulate(text: str, suggest: Suggest, ks: Sequence[int] = KS, tops: Sequence[int] = (1, 3)) -> Typing:
    """Type ``text`` as a user who accepts a suggestion as soon as one of the first k shows the word being typed.

    "exact" rules: the user produces ``text`` exactly, character by character. A suggestion shows the
    word being typed when accepting it types exactly the real text that follows, to the end of the
    current word (`accepted_length`): its word equals the text's current word, case included.
    Accepting costs one keystroke, and so does typing a character. KSR = 1 - keystrokes / len(text).

    "words" rules, the classic word-prediction simulation of the assistive-typing literature: only
    the words count (`WORD`), each followed by one space, case ignored, punctuation free. A word costs
    the letters typed before one of the first k suggestions' words equals it, plus one to accept
    (the space comes free); a word never shown costs its length plus one for the space.
    KSR = 1 - keystrokes / sum(len(word) + 1). The model sees the real text before the word as
    context, so no text it was not trained on (the lowercased, unpunctuated text) skews its guesses.

    Next-word accuracy: for each word, whether it is among the first n suggestions at its start, for
    each n in ``tops``, case-sensitive and not.

    Accepted text always matches the real text, so the text before the cursor is always a prefix of
    ``text``, whatever was accepted before: suggestions depend on the cursor position alone. Each
    position is asked about once (and only if `worth_asking`), with the most suggestions needed;
    smaller k use the first k.
    """
    depth = max([*ks, *tops])
    asked: dict[int, list[tuple[str, str]]] = {}

    def at(pos: int) -> list[tuple[str, str]]:
        if pos not in asked:
            asked[pos] = list(suggest(text[:pos]))[:depth]
        return asked[pos]

    exact = {}
    for k in sorted(ks):  # smallest k first: it stops at the most positions, in order; larger k ask nothing new
        pos = keys = 0
        while pos < len(text):
            shown = at(pos)[:k] if worth_asking(text, pos) else []
            pos += next((n for _, insert in shown if (n := accepted_length(text, pos, insert))), 1)
            keys += 1
        exact[k] = keys

    words = [(m.start(), m.group()) for m in WORD.finditer(text)]
    plain = dict.fromkeys(ks, 0)
    hits = dict.fromkeys((f"top{n}{case}" for n in tops for case in ("", "_nocase")), 0)
    for start, word in words:
        lower = word.lower()
        for k in sorted(ks):
            typed = next((i for i in range(len(word)) if lower in (w.lower() for w, _ in at(start + i)[:k])), len(word))
            plain[k] += typed + 1
        shown = [w for w, _ in at(start)]
        for n in tops:
            hits[f"top{n}"] += word in shown[:n]
            hits[f"top{n}_nocase"] += lower in (w.lower() for w in shown[:n])
    chars = {"exact": len(text), "words": sum(len(word) + 1 for _, word in words)}
    return Typing(len(words), chars, {"exact": exact, "words": plain}, hits)


def first_words(text: str, max_words: int | None) -> str:
    """The text up to the end of its ``max_words``-th `WORD` (all of it for None)."""
    if max_words is None:
        return text
    for i, m in enumerate(WORD.finditer(text), 1):
        if i == max_words:
            return text[: m.end()]
    return text


def text_bits(model: torch.nn.Module, tokenizer: Tokenizer, text: str, chunk: int = 512) -> tuple[float, int]:
    """Total negative log2-likelihood of ``text``'s tokens and their number, scored after the tokens of "\\n\\n".

    That is the start state the live engine predicts from, so bits per character here and
    suggestions in the app come from the same distribution.
    """
    start = tokenizer.encode_model_text(NEWLINE * 2)
    ids = torch.tensor(start + tokenizer.encode(text), dtype=torch.long)
    bits, state = torch.zeros((), dtype=torch.float64), None
    with torch.inference_mode():
        for i in range(0, len(ids) - 1, chunk):
            inputs, targets = ids[i : i + chunk], ids[i + 1 : i + 1 + chunk]
            logits, state = model(inputs[: len(targets)].unsqueeze(0), state)  # (1, T, V)
            logprobs = torch.log_softmax(logits[0].double(), dim=-1)  # (T, V)
            nll = -logprobs[torch.arange(len(targets)), targets]  # (T,)
            scored = max(0, len(start) - 1 - i)  # the first targets are the rest of the start tokens
            bits += nll[scored:].sum() / math.log(2)
    return float(bits), len(ids) - len(start)


@dataclass
class Totals:
    """Raw counts of one file or of several, which add up; rates are computed from them at the end."""

    words: int = 0
    chars: int = 0
    tokens: int = 0
    bits: float = 0.0
    hits: Counter[str] = field(default_factory=Counter)  # see Typing.hits
    typed_chars: Counter[str] = field(default_factory=Counter)  # see Typing.chars
    keystrokes: Counter[tuple[str, int]] = field(default_factory=Counter)  # (rule, k) -> keystrokes
    latencies: list[float] = field(default_factory=list)  # seconds per suggestion call
    seconds: float = 0.0

    def add(self, other: "Totals") -> None:
        self.words += other.words
        self.chars += other.chars
        self.tokens += other.tokens
        self.bits += other.bits
        self.hits.update(other.hits)
        self.typed_chars.update(other.typed_chars)
        self.keystrokes.update(other.keystrokes)
        self.latencies += other.latencies
        self.seconds += other.seconds

    def metrics(self) -> dict:
        """The report's figures: rates as fractions in [0, 1], latency in milliseconds."""
        latency = np.percentile(np.array(self.latencies) * 1000, [50, 95, 99]) if self.latencies else [0.0] * 3
        return {
            "words": self.words,
            "chars": self.chars,
            "tokens": self.tokens,
            "bpc": round(self.bits / self.chars, 4) if self.chars else 0.0,
            **{name: round(n / self.words, 4) if self.words else 0.0 for name, n in self.hits.items()},
            "ksr": {rule: {str(k): round(1 - self.keystrokes[rule, k] / self.typed_chars[rule], 4) if self.typed_chars[rule] else 0.0 for k in KS} for rule in RULES},
            "latency_ms": {f"p{p}": round(float(v), 2) for p, v in zip((50, 95, 99), latency)},
            "suggest_calls": len(self.latencies),
            "seconds": round(self.seconds, 1),
            "words_per_s": round(self.words / self.seconds, 1) if self.seconds else 0.0,
        }


def as_offered(suggestions: list[Suggestion]) -> list[tuple[str, str]]:
    """(word, text to insert) of the suggestions the simulated user may take: a retyped word ("w" -> What at a
    sentence's start) changes the letters typed, so it never types the text as it is."""
    return [(s.word, s.insert) for s in suggestions if not s.retyped]


def evaluate_text(predictor: Predictor, text: str, k: int = 3, progress: Callable[[int], None] | None = None) -> Totals:
    """All the figures for one text, next-word accuracy at top 1, 3 and ``k``.

    The engine is asked for max(5, k) suggestions at each position; ``progress(n)`` is told of each
    n characters simulated.
    """
    started = time.perf_counter()
    latencies: list[float] = []
    done = 0

    def engine(before: str) -> list[tuple[str, str]]:
        nonlocal done
        t = time.perf_counter()
        predictor.set_text(before)
        suggestions = predictor.suggest(max(*KS, k))
        latencies.append(time.perf_counter() - t)
        if progress and len(before) > done:
            progress(len(before) - done)
            done = len(before)
        return as_offered(suggestions)

    typing = simulate(text, engine, KS, sorted({1, 3, k}))
    if progress:
        progress(len(text) - done)
    bits, tokens = text_bits(predictor.model, predictor.tokenizer, text)
    return Totals(
        words=typing.words,
        chars=len(text),
        tokens=tokens,
        bits=bits,
        hits=Counter(typing.hits),
        typed_chars=Counter(typing.chars),
        keystrokes=Counter({(rule, n): keys for rule, by_k in typing.keystrokes.items() for n, keys in by_k.items()}),
        latencies=latencies,
        seconds=time.perf_counter() - started,
    )


def format_table(report: dict, k: int, rules: str) -> str:
    """The human-readable report: one row per file and one for all, KSR under the chosen rules."""
    top = f"top{k}"
    rows = [(name, m) for name, m in [*report["files"].items(), ("overall", report["overall"])]]
    width = max(len(name) for name, _ in rows)
    lines = [
        f"model {report['model']}, KSR under the {rules!r} rules",
        f"{'file':<{width}} {'words':>7} {'bpc':>6} {'top1':>6} {top:>6} {'KSR@1':>6} {'KSR@3':>6} {'KSR@5':>6} {'p50 ms':>7} {'p95 ms':>7} {'words/s':>8}",
    ]
    for name, m in rows:
        ksr = m["ksr"][rules]
        lines.append(
            f"{name:<{width}} {m['words']:>7} {m['bpc']:>6.3f} {m['top1']:>6.1%} {m[top]:>6.1%} {ksr['1']:>6.1%} {ksr['3']:>6.1%} "
            f"{ksr['5']:>6.1%} {m['latency_ms']['p50']:>7.2f} {m['latency_ms']['p95']:>7.2f} {m['words_per_s']:>8.1f}"
        )
    return "\n".join(lines)


def run(args) -> int:
    if args.k < 1:
        raise EvalError(f"-k must be at least 1, not {args.k}")
    if args.max_words is not None and args.max_words < 1:
        raise EvalError(f"--max-words must be at least 1, not {args.max_words}")
    texts, skipped = [], []
    for item in read_texts(args.texts):
        if isinstance(item, Skipped):
            log.warning("%s", item)
            skipped.append(item)
        else:
            texts.append((str(item[0]), first_words(item[1], args.max_words)))
    if not texts:
        raise EvalError(f"no text to evaluate: {nothing_read(skipped)}")
    predictor = Predictor.load(args.model)

    files: dict[str, Totals] = {}
    overall = Totals()
    for name, text in texts:
        with tqdm(total=len(text), desc=name, unit="char", unit_scale=True, file=sys.stderr, disable=None) as bar:
            files[name] = evaluate_text(predictor, text, args.k, bar.update)
        overall.add(files[name])
    report = {
        "model": str(args.model or default_model_path()),
        "files": {name: totals.metrics() for name, totals in files.items()},
        "overall": overall.metrics(),
    }
    print(json.dumps(report, indent=2) if args.json else format_table(report, args.k, args.rules))
    return 0
