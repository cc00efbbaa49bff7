"""The recency cache counts exactly what a fresh count of the window gives, however the text was edited."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foretype.model.recency import Lexicon, RecencyCache
from foretype.model.tokenizer import SEGMENT, to_model_text

WORDS = ["Anna", "likes", "the", "book", "Zorblax", "well-known", "don't", "cats,", "end.", "\n", "\n", "42"]


def segments(words: list[str]) -> list[str]:
    """The words joined by spaces, a newline ending its line ("cats,\nAnna": a line pair)."""
    return SEGMENT.findall(to_model_text(" ".join(words).replace(" \n ", "\n")))


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
    mixed = cache.mix({"Smith": math.log(0.5)}, "", previous="Anna")
    assert math.isclose(math.exp(mixed["Zorblax"]), 0.5)  # after "Anna" always came "Zorblax"
    assert math.isclose(math.exp(mixed["Smith"]), 0.25)
    assert cache.mix({"Smith": math.log(0.5)}, "", previous=None) == {"Smith": math.log(0.5)}
    completed = cache.mix({}, "Zo", previous=None)  # 2 of the 7 recent words are "Zorblax"
    assert math.isclose(math.exp(completed["Zorblax"]), 0.5 * 2 / 7)
    capitalised = cache.mix({}, "Ca", previous=None)  # "came" at a sentence start
    assert capitalised.keys() == {"Came"} and math.isclose(math.exp(capitalised["Came"]), 0.5 * 1 / 7)
    known = cache.mix({"Came": math.log(0.2)}, "Ca", previous=None, known=lambda w: w == "came")  # the model's own word
    assert known.keys() == {"Came"} and math.isclose(math.exp(known["Came"]), 0.5 * 0.2)  # is not counted again
    assert cache.mix({}, "an", previous=None) == {}  # a lower-case prefix stays lower-case: no "anna"


def test_a_line_pair_predicts_the_name_under_a_sign_off():
    cache = RecencyCache()
    document = SEGMENT.findall(to_model_text("Warm regards,\nAnna\n\nSee you soon.\nWarm regards,\n"))
    cache.update(document, len(document) - 1)  # all but the cursor's segment, " "
    assert cache.previous_word() == "regards,\t"
    assert "Anna" in cache.mix({}, "", previous=cache.previous_word())
    assert cache._followers["soon.\t"] == {"Warm": 1}
    assert "Anna\t" not in cache._followers  # a blank line between: a new paragraph, no pair


def test_a_lexicon_counts_each_text_as_the_cache_would_and_survives_its_payload():
    texts = ["Anna Zorblax came home. Anna Zorblax left", "Zorblax and Anna", "Best wishes,\nAnna"]
    lexicon = Lexicon.of_texts(texts)
    assert lexicon._words == {"Anna": 4, "Zorblax": 3, "came": 1, "home": 1, "left": 1, "and": 1, "Best": 1, "wishes": 1}
    assert lexicon._followers["Anna"] == {"Zorblax": 2}
    assert lexicon._followers["wishes,\t"] == {"Anna": 1}  # the name under a sign-off
    assert "left" not in lexicon._followers  # no pair spans two texts
    again = Lexicon.from_payload(lexicon.to_payload())
    assert again._words == lexicon._words and again._followers == lexicon._followers
    assert again.mix({}, "Zo", previous="Anna") == lexicon.mix({}, "Zo", previous="Anna")
    assert again.mix({}, "", previous="wishes,\t") == lexicon.mix({}, "", previous="wishes,\t") != {}
    assert "Zorblax" in lexicon.mix({}, "Zo", previous=None)


def test_a_lexicon_mixes_in_only_its_most_frequent_matching_words():
    names = [f"Zo{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(80)]
    lexicon = Lexicon.of_texts([" ".join(" ".join([name] * (i + 1)) for i, name in enumerate(names)) + " Anna"])
    mixed = lexicon.mix({}, "Zo", previous=None)
    assert set(mixed) == set(names[-Lexicon.MATCHES:])  # the most frequent, not the first counted
    total = sum(range(1, 81)) + 1
    assert math.isclose(math.exp(mixed[names[-1]]), lexicon.word_weight * 80 / total)
    assert lexicon.mix({}, "An", previous=None).keys() == {"Anna"}


@pytest.mark.parametrize("words, loop", [("leave as soon as", "soon"), ("more and more and", "more"), ("as soon, as", None),
                                         ("we can as soon as we", None), ("soon", None)])
def test_the_word_that_would_repeat_the_last_two_at_once(words, loop):
    cache = RecencyCache()
    document = segments(words.split())
    cache.update(document, len(document))
    assert cache.loop_word() == loop


def test_the_phrase_being_written_is_not_offered_again():
    cache = RecencyCache(pair_weight=0.5)
    document = segments("as soon as".split())
    cache.update(document, len(document))
    assert cache._followers["as"] == {"soon": 1}  # counted: the window still equals a fresh count
    assert cache.mix({}, "", previous="as") == {}  # "as soon as soon" is no suggestion
    document = segments("as soon as we can. Then as".split())
    cache.update(document, len(document))
    assert "soon" in cache.mix({}, "", previous="as")  # written in a sentence before
    document = segments('He said "it is Robert Boulter." Then Robert'.split())
    cache.update(document, len(document))
    assert "Boulter" in cache.mix({}, "", previous="Robert")  # a sentence ends before a closing quote too
