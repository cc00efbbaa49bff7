"""The recency cache counts exactly what a fresh count of the window gives, however the text was edited."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from foretype.model.recency import RecencyCache
from foretype.model.tokenizer import SEGMENT, to_model_text

WORDS = ["Anna", "likes", "the", "book", "Zorblax", "well-known", "don't", "cats,", "end.", "\n", "42"]


def segments(words: list[str]) -> list[str]:
    return SEGMENT.findall(to_model_text(" ".join(words)))


def state(cache: RecencyCache) -> tuple:
    return dict(cache._words), {w: dict(c) for w, c in cache._followers.items()}, cache.previous_word()


@given(st.lists(st.tuples(st.lists(st.sampled_from(WORDS), max_size=30), st.integers(0, 40)), min_size=1, max_size=8))
def test_updates_after_any_edits_equal_a_fresh_count(edits):
    cache = RecencyCache(window=12)
    document: list[str] = []
    for words, end in edits:  # each edit keeps the segments before it as the same objects, like the engine
        keep = min(end, len(document))
        document = document[:keep] + segments(words)
        end = min(end, len(document))
        cache.update(document, end)
        fresh = RecencyCache(window=12)
        fresh.update(list(document), end)
        assert state(cache) == state(fresh)


def test_pairs_and_words_mix_in_as_probabilities():
    cache = RecencyCache(word_weight=0.5, pair_weight=0.5)
    document = segments("Anna Zorblax came . Anna Zorblax left . Anna".split())
    cache.update(document, len(document))
    assert cache.previous_word() == "Anna"
    mixed = cache.mix({"Smith": math.log(0.5)}, "", after_previous=True)
    assert math.isclose(math.exp(mixed["Zorblax"]), 0.5)  # after "Anna" always came "Zorblax"
    assert math.isclose(math.exp(mixed["Smith"]), 0.25)
    assert cache.mix({"Smith": math.log(0.5)}, "", after_previous=False) == {"Smith": math.log(0.5)}
    completed = cache.mix({}, "Zo", after_previous=False)  # 2 of the 7 recent words are "Zorblax"
    assert math.isclose(math.exp(completed["Zorblax"]), 0.5 * 2 / 7)
