"""A recency cache: the words and word pairs of the text just before the cursor, mixed into suggestions.

Names and terms repeat within a document, and a small LSTM rarely knows them ("Boulter", "Zurbarán").
Like presage's recency predictor, the engine mixes the recent text's statistics into the model's
word probabilities:

    p(word) = (1 - b) [(1 - u) p_model(word) + u p_words(word)] + b p_pairs(word | previous word)

p_words is the word's share of the recent words, used for completions only: with nothing typed its
most frequent words ("the", "of") would crowd out the model's guesses, for no measured gain.
p_pairs is how often the word followed the previous word in the recent text ("Robert" -> "Boulter"),
used when the cursor's word follows that word after a space. The weights and the window were tuned
on dev text the reported figures do not use (docs/EXPERIMENTS.md).

The cache counts segments (see predictor.py: a whitespace character and what follows it), so that
while typing it only adds the segment just finished and drops the oldest: constant work per
keystroke, however long the document.
"""

from __future__ import annotations

import math
import re
from collections import Counter, deque
from collections.abc import Sequence

import numpy as np

WORD = re.compile(r"[^\W\d_](?:[\w'-]*[^\W\d_])?")
# a segment that is one word after a space, nothing else: it can start a pair
CLEAN = re.compile(r" ([^\W\d_](?:[\w'-]*[^\W\d_])?)")
# a segment that starts with a word after a space: it can end a pair
LEADING = re.compile(r" ([^\W\d_](?:[\w'-]*[^\W\d_])?)(?![\w'-])")

WINDOW_SEGMENTS = 1500  # about 8,000 characters of English
WORD_WEIGHT = 0.3
PAIR_WEIGHT = 0.2


def _pair(first: str, second: str) -> tuple[str, str] | None:
    a, b = CLEAN.fullmatch(first), LEADING.match(second)
    return (a[1], b[1]) if a and b else None


class RecencyCache:
    def __init__(self, word_weight: float = WORD_WEIGHT, pair_weight: float = PAIR_WEIGHT, window: int = WINDOW_SEGMENTS):
        self.word_weight, self.pair_weight, self.window = word_weight, pair_weight, window
        self.clear()

    def clear(self) -> None:
        self._segments: deque[str] = deque()
        self._start = 0  # index of the first counted segment in the caller's list
        self._words: Counter[str] = Counter()
        self._followers: dict[str, Counter[str]] = {}  # word -> counts of the words right after it

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

    def _count_pair(self, first: str, second: str, n: int) -> None:
        pair = _pair(first, second)
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

    def _push(self, segment: str) -> None:
        if self._segments:
            self._count_pair(self._segments[-1], segment, 1)
        self._segments.append(segment)
        self._count_words(segment, 1)

    def _pop_back(self) -> None:
        segment = self._segments.pop()
        self._count_words(segment, -1)
        if self._segments:
            self._count_pair(self._segments[-1], segment, -1)

    def _pop_front(self) -> None:
        segment = self._segments.popleft()
        self._start += 1
        self._count_words(segment, -1)
        if self._segments:
            self._count_pair(segment, self._segments[0], -1)

    # ------------------------------------------------------------ mixing

    def previous_word(self) -> str | None:
        """The word that ends the counted text, if nothing (punctuation, a newline) follows it."""
        m = CLEAN.fullmatch(self._segments[-1]) if self._segments else None
        return m[1] if m else None

    def mix(self, words: dict[str, float], typed: str, after_previous: bool) -> dict[str, float]:
        """Mix the cache into ``words`` (word -> natural-log probability from the model).

        ``typed`` is the typed part of the word; ``after_previous`` says the word follows the
        previous word after a space, so the pair statistics apply. Recent words missing from
        ``words`` get the cache's share alone, a lower bound of their mixed probability.
        """
        if typed and self._words:
            words = self._mixed(words, self._words, self.word_weight, typed)
        previous = self.previous_word() if after_previous else None
        if previous in self._followers:
            words = self._mixed(words, self._followers[previous], self.pair_weight, typed)
        return words

    @staticmethod
    def _mixed(words: dict[str, float], counts: Counter[str], weight: float, typed: str) -> dict[str, float]:
        if not weight:
            return words
        total = sum(counts.values())
        mixed = {w: s + math.log1p(-weight) for w, s in words.items()}
        for w, n in counts.items():
            if w.startswith(typed):
                share = math.log(weight * n / total)
                mixed[w] = float(np.logaddexp(mixed[w], share)) if w in mixed else share
        return mixed
