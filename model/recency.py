"""A recency cache: the words and word pairs of the text just before the cursor, mixed into suggestions.

Names and terms repeat within a document, and a small LSTM rarely knows them ("Boulter", "Zurbarán").
Like presage's recency predictor, the engine mixes the recent text's statistics into the model's
word probabilities:

    p(word) = (1 - b) [(1 - u) p_model(word) + u p_words(word)] + b p_pairs(word | previous word)

p_words is the word's share of the recent words, used for completions only: with nothing typed its
most frequent words ("the", "of") would crowd out the model's guesses, for no measured gain.
p_pairs is how often the word followed the previous word in the recent text ("Robert" -> "Boulter"),
used when the cursor's word follows that word after a space, or starts the line after a line that
ended with it ("Best regards," -> "Alex": a sign-off and the name under it). The weights and the
window were tuned on dev text the reported figures do not use (docs/EXPERIMENTS.md).

The cache counts segments (see predictor.py: a whitespace character and what follows it), so that
while typing it only adds the segment just finished and drops the oldest: constant work per
keystroke, however long the document.

A `Lexicon` is the same counts over the user's own writing, saved with a fine-tuned model: the
names, terms and turns of phrase of their other documents, mixed in with smaller weights.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch

from .sentences import capitalised, ends_sentence
from .tokenizer import SEGMENT, normalized_model_text

WORD = re.compile(r"[^\W\d_](?:[\w'-]*[^\W\d_])?")
# a segment that is one word after a space, nothing else: it can start a pair
CLEAN = re.compile(r" ([^\W\d_](?:[\w'-]*[^\W\d_])?)")
# a segment that starts with a word after a space: it can end a pair
LEADING = re.compile(r" ([^\W\d_](?:[\w'-]*[^\W\d_])?)(?![\w'-])")
# a line's last segment, a word and any punctuation after it ("regards,"): it can start a line pair
LINE_END = re.compile(r" ([^\W\d_](?:[\w'-]*[^\W\d_])?[^\w\s]*)")
# ends the first word of a line pair ("regards,\t" -> "Alex"): no segment holds a tab, and the
# lexicon's payload separates its words with newlines
LINE_BREAK = "\t"

WINDOW_SEGMENTS = 1500  # about 8,000 characters of English
WORD_WEIGHT = 0.3
PAIR_WEIGHT = 0.2
# Tuned with the first 60% of wiki_wikitext2 as the writing and the next 20% as the text typed
# (0-0.3 tried; the last 20%, which the reported figures use, left out): docs/EXPERIMENTS.md.
LEXICON_WORD_WEIGHT = 0.05
LEXICON_PAIR_WEIGHT = 0.05


def _pair(first: str, second: str) -> tuple[str, str] | None:
    a, b = CLEAN.fullmatch(first), LEADING.match(second)
    return (a[1], b[1]) if a and b else None


def _line_pair(last: str, first: str) -> tuple[str, str] | None:
    """The last segment of a line and the first of the next: a sign-off and the name under it."""
    a, b = LINE_END.fullmatch(last), LEADING.match(first)
    return (a[1] + LINE_BREAK, b[1]) if a and b else None


def _mixed(words: dict[str, float], counts: Iterable[tuple[str, int]], total: int, weight: float) -> dict[str, float]:
    """(1 - weight) p_model + weight * n / total, in logs, for the counted ``(word, n)`` given."""
    if not weight:
        return words
    mixed = {w: s + math.log1p(-weight) for w, s in words.items()}
    for w, n in counts:
        share = math.log(weight * n / total)
        mixed[w] = float(np.logaddexp(mixed[w], share)) if w in mixed else share
    return mixed


class WordCounts:
    """Counts of words and of word pairs, and their mixing into the model's word probabilities."""

    def __init__(self, word_weight: float, pair_weight: float):
        self.word_weight, self.pair_weight = word_weight, pair_weight
        self._words: Counter[str] = Counter()
        self._followers: dict[str, Counter[str]] = {}  # word -> counts of the words right after it

    def mix(self, words: dict[str, float], typed: str, previous: str | None,
            known: Callable[[str], bool] = lambda word: False) -> dict[str, float]:
        """Mix the counts into ``words`` (word -> natural-log probability from the model).

        ``typed`` is the typed part of the word; ``previous`` the word before it when a space
        separates them (the pair statistics apply), else None. Counted words missing from
        ``words`` get the counts' share alone, a lower bound of their mixed probability.
        ``known(word)``: the model's vocabulary has ``word`` (see `_matching`).
        """
        if typed and self._words:
            words = _mixed(words, self._matching(self._words, typed, known), self._total(self._words), self.word_weight)
        follows = self._follows(previous) if previous is not None else None
        if follows:
            words = _mixed(words, self._matching(follows, typed, known), self._total(follows), self.pair_weight)
        return words

    def _follows(self, previous: str) -> Counter[str] | None:
        """The counts of the words that followed ``previous``."""
        return self._followers.get(previous)

    def _matching(self, counts: Counter[str], typed: str, known: Callable[[str], bool]) -> Iterator[tuple[str, int]]:
        """The counted words that start with ``typed``. A capitalised ``typed`` also gets the lower-case words
        the model does not know, capitalised ("Zor" after "a zorblax": "Zorblax"). For all words this
        cost 0.1 point of keystroke savings on wiki text; for unknown ones it gains 0-0.06 (EXPERIMENTS)."""
        yield from self._starting(counts, typed)
        if typed[:1].isupper():
            for w, n in self._starting(counts, typed[0].lower() + typed[1:]):
                if not known(w):
                    yield capitalised(w), n

    def __contains__(self, word: str) -> bool:
        return word in self._words

    def follows_a_word(self, word: str) -> bool:
        """``word`` was written right after another word, so inside a sentence, where a capital is not a sentence's."""
        return word in self._words_after_words()

    def _words_after_words(self) -> Iterator[str]:
        """The second words of the pairs, not of the line pairs (a name under "regards," starts a line)."""
        return (w for first, follows in self._followers.items() if not first.endswith(LINE_BREAK) for w in follows)

    def _starting(self, counts: Counter[str], typed: str) -> Iterable[tuple[str, int]]:
        return ((w, n) for w, n in counts.items() if w.startswith(typed))

    def _total(self, counts: Counter[str]) -> int:
        return sum(counts.values())


class RecencyCache(WordCounts):
    SENTENCE_SEGMENTS = 40  # the longest sentence looked back over for its pairs

    def __init__(self, word_weight: float = WORD_WEIGHT, pair_weight: float = PAIR_WEIGHT, window: int = WINDOW_SEGMENTS):
        super().__init__(word_weight, pair_weight)
        self.window = window
        self.clear()

    def clear(self) -> None:
        self._segments: deque[str] = deque()
        self._start = 0  # index of the first counted segment in the caller's list
        self._words.clear()
        self._followers.clear()

    # ------------------------------------------------------------ counting

    def update(self, segments: Sequence[str], end: int) -> None:
        """Count ``segments[end - window : end]``, the segments before the cursor's word.

        ``segments`` is the engine's list, whose unchanged entries stay the same objects: when the
        new window overlaps the old one, the overlap is checked in one list comparison and only the
        segments that entered or left the window are counted.
        """
        start = max(0, end - self.window)
        old_end = self._start + len(self._segments)
        overlap = min(end, old_end) - start
        if start < self._start or overlap <= 0 or list(self._segments)[start - self._start :] != list(segments[start : start + overlap]):
            self.clear()
            self._start = start
            for s in segments[start:end]:
                self._push(s)
            return
        while self._start < start:
            self._pop_front()
        while len(self._segments) > end - start:
            self._pop_back()
        for s in segments[start + len(self._segments) : end]:
            self._push(s)

    def _count_pair(self, pair: tuple[str, str] | None, n: int) -> None:
        if pair:
            follows = self._followers.setdefault(pair[0], Counter())
            follows[pair[1]] += n
            if follows[pair[1]] <= 0:
                del follows[pair[1]]
                if not follows:
                    del self._followers[pair[0]]

    def _count_words(self, segment: str, n: int) -> None:
        for w in WORD.findall(segment):
            self._words[w] += n
            if self._words[w] <= 0:
                del self._words[w]

    def _count_pairs_ending(self, segment: str, n: int) -> None:
        """Count the pairs that ``segment``, added after the counted segments, ends: after a word, or after a line."""
        segments = self._segments
        if segments:
            self._count_pair(_pair(segments[-1], segment), n)
        if len(segments) > 1 and segments[-1] == "\n":
            self._count_pair(_line_pair(segments[-2], segment), n)

    def _count_pairs_starting(self, segment: str, n: int) -> None:
        """Count the pairs that ``segment``, just before the counted segments, starts."""
        segments = self._segments
        if segments:
            self._count_pair(_pair(segment, segments[0]), n)
        if len(segments) > 1 and segments[0] == "\n":
            self._count_pair(_line_pair(segment, segments[1]), n)

    def _push(self, segment: str) -> None:
        self._count_pairs_ending(segment, 1)
        self._segments.append(segment)
        self._count_words(segment, 1)

    def _pop_back(self) -> None:
        segment = self._segments.pop()
        self._count_words(segment, -1)
        self._count_pairs_ending(segment, -1)

    def _pop_front(self) -> None:
        segment = self._segments.popleft()
        self._start += 1
        self._count_words(segment, -1)
        self._count_pairs_starting(segment, -1)

    def _follows(self, previous: str) -> Counter[str] | None:
        """Without the pairs of the sentence being written: offering them repeats it ("as soon as " offered
        "soon", "Once upon a time there was a " "time"). A name of the sentence before still comes back
        ("Robert Boulter is an actor. In 2006 Robert ")."""
        follows = self._followers.get(previous)
        if not follows:
            return follows
        sentence = list(itertools.takewhile(lambda s: s != "\n" and not ends_sentence(s.lstrip(" ")),
                                            itertools.islice(reversed(self._segments), self.SENTENCE_SEGMENTS)))[::-1]
        fresh = Counter(b for a, b in filter(None, map(_pair, sentence, sentence[1:])) if a == previous)
        return follows - fresh if fresh else follows

    # ------------------------------------------------------------ the cursor's context

    def loop_word(self) -> str | None:
        """The word that would make the last two words repeat at once: "as soon as" -> "soon" ("as soon as soon")."""
        last = [CLEAN.fullmatch(s) for s in itertools.islice(reversed(self._segments), 3)]
        if len(last) == 3 and all(last) and last[0][1] == last[2][1]:
            return last[1][1]
        return None

    def previous_word(self) -> str | None:
        """The word that ends the counted text, if nothing (punctuation, a newline) follows it; or, at a
        line's start, the previous line's last word and punctuation, ended with LINE_BREAK ("regards,\t")."""
        segments = self._segments
        if not segments:
            return None
        if segments[-1] == "\n" and len(segments) > 1:
            m = LINE_END.fullmatch(segments[-2])
            return m[1] + LINE_BREAK if m else None
        m = CLEAN.fullmatch(segments[-1])
        return m[1] if m else None


class Lexicon(WordCounts):
    """The words and word pairs of the user's own writing, kept in their fine-tuned model file.

    Tens of thousands of words, where the recency cache holds hundreds: each keystroke mixes in
    only the `MATCHES` most frequent words that start with what was typed, found through an index
    by first letters, so a keystroke costs the same however much the user wrote.
    """

    MATCHES = 50

    def __init__(self, word_weight: float = LEXICON_WORD_WEIGHT, pair_weight: float = LEXICON_PAIR_WEIGHT):
        super().__init__(word_weight, pair_weight)
        # id(counts) -> (by prefix, total): counters are never replaced, only updated by add(), which clears this
        self._index: dict[int, tuple[dict[str, list[tuple[str, int]]], int]] = {}
        self._followers_of_words: set[str] | None = None  # follows_a_word's answers, for tens of thousands of pairs

    def follows_a_word(self, word: str) -> bool:
        if self._followers_of_words is None:
            self._followers_of_words = set(self._words_after_words())
        return word in self._followers_of_words

    def _indexed(self, counts: Counter[str]) -> tuple[dict[str, list[tuple[str, int]]], int]:
        """The counts by their first one and first two letters, most frequent first, and their total."""
        if id(counts) not in self._index:
            by_prefix: dict[str, list[tuple[str, int]]] = {"": []}
            for w, n in sorted(counts.items(), key=lambda wn: (-wn[1], wn[0])):
                for prefix in {"", w[:1], w[:2]}:
                    by_prefix.setdefault(prefix, []).append((w, n))
            self._index[id(counts)] = by_prefix, sum(counts.values())
        return self._index[id(counts)]

    def _starting(self, counts: Counter[str], typed: str) -> Iterable[tuple[str, int]]:
        candidates = self._indexed(counts)[0].get(typed[:2], [])
        return itertools.islice(((w, n) for w, n in candidates if w.startswith(typed)), self.MATCHES)

    def _total(self, counts: Counter[str]) -> int:
        return self._indexed(counts)[1]

    @classmethod
    def of_texts(cls, texts: Sequence[str]) -> "Lexicon":
        """Counted as the recency cache counts the text before the cursor; no pair spans two texts."""
        lexicon, cache = cls(), RecencyCache(window=2**62)
        for text in texts:
            segments = SEGMENT.findall(normalized_model_text(text))
            cache.update(segments, len(segments))
            lexicon.add(cache)
        return lexicon

    def add(self, counts: WordCounts) -> None:
        """Add another's counts: a text's, or those of a personal model fine-tuned again."""
        self._index.clear()
        self._followers_of_words = None
        self._words.update(counts._words)
        for first, follows in counts._followers.items():
            self._followers.setdefault(first, Counter()).update(follows)

    def __len__(self) -> int:
        return len(self._words)

    def to_payload(self) -> dict:
        """One string and two tensors, for a model file that loads fast with weights_only=True.

        Lists of Python strings took 1.3 s to load for the 90,000 words and pairs of 1 MB of text; this 0.25 s.
        """
        followers = (w for follows in self._followers.values() for w in follows)
        vocabulary = list(dict.fromkeys([*self._words, *self._followers, *followers]))  # a line pair's "regards,\t" is no word
        index = {w: i for i, w in enumerate(vocabulary)}
        pairs = [(index[a], index[b], n) for a, follows in self._followers.items() for b, n in follows.items()]
        return {"vocabulary": "\n".join(vocabulary),
                "word_counts": torch.tensor([self._words.get(w, 0) for w in vocabulary], dtype=torch.int64),
                "pairs": torch.tensor(pairs, dtype=torch.int64).reshape(-1, 3)}

    @classmethod
    def from_payload(cls, payload: dict) -> "Lexicon":
        """Raises ValueError for anything `to_payload` could not have written."""
        if not isinstance(payload, dict):
            raise ValueError("not a dict")
        vocabulary, counts, pairs = payload["vocabulary"], payload["word_counts"], payload["pairs"]
        if not isinstance(vocabulary, str) or not all(isinstance(t, torch.Tensor) and t.dtype == torch.int64 for t in (counts, pairs)):
            raise ValueError("wrong types")
        vocabulary = vocabulary.split("\n") if vocabulary else []
        if counts.shape != (len(vocabulary),) or pairs.dim() != 2 or pairs.shape[1] != 3:
            raise ValueError("wrong shapes")
        if (counts < 0).any() or (pairs[:, 2] <= 0).any() or (pairs[:, :2] < 0).any() or (pairs[:, :2] >= len(vocabulary)).any():
            raise ValueError("counts or indices out of range")
        lexicon = cls()
        lexicon._words.update({w: n for w, n in zip(vocabulary, counts.tolist()) if n})
        for a, b, n in pairs.tolist():
            lexicon._followers.setdefault(vocabulary[a], Counter())[vocabulary[b]] = n
        return lexicon
