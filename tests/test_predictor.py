"""The live engine: a keystroke trace (presage's context-tracker style), the defining property, user cases."""

from __future__ import annotations

import math
import re
import string

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import generated_text
from foretype.model.modelfile import load_model_file
from foretype.model.predictor import MAX_SCORE_GAP, Predictor
from foretype.model.recency import WORD, Lexicon, RecencyCache
from foretype.model.tokenizer import SEGMENT
from foretype.model import vocabulary as vocabulary_module
from foretype.model.vocabulary import Vocabulary, offensive_stem

WHOLE_WORD = re.compile(r"^[^\W\d_]([\w'-]*[^\W\d_])?$")


@pytest.fixture(scope="module")
def loaded(tiny_model_path):
    return load_model_file(tiny_model_path)


@pytest.fixture(scope="module")
def loaded_char(tiny_char_model_path):
    return load_model_file(tiny_char_model_path)


@pytest.fixture
def predictor(loaded):
    return Predictor(loaded.model, loaded.tokenizer)


# key typed ("\b" = backspace) -> prefix of the current word, the previous words, kind of suggestion
TRACE = [
    ("A", "A", (), "completion"),
    ("n", "An", (), "completion"),
    ("n", "Ann", (), "completion"),
    ("a", "Anna", (), "completion"),
    (" ", "", ("Anna",), "prediction"),
    ("w", "w", ("Anna",), "completion"),
    ("r", "wr", ("Anna",), "completion"),
    ("\b", "w", ("Anna",), "completion"),
    ("\b", "", ("Anna",), "prediction"),
    ("\b", "Anna", (), "completion"),
    (" ", "", ("Anna",), "prediction"),
    ("w", "w", ("Anna",), "completion"),
    ("r", "wr", ("Anna",), "completion"),
    ("o", "wro", ("Anna",), "completion"),
    ("t", "wrot", ("Anna",), "completion"),
    ("e", "wrote", ("Anna",), "completion"),
    (",", "", ("Anna", "wrote"), "prediction"),
    (" ", "", ("Anna", "wrote"), "prediction"),
    ("I", "I", ("Anna", "wrote"), "completion"),
    (" ", "", ("wrote", "I"), "prediction"),
    ("d", "d", ("wrote", "I"), "completion"),
    ("o", "do", ("wrote", "I"), "completion"),
    ("n", "don", ("wrote", "I"), "completion"),
    ("'", "don'", ("wrote", "I"), "completion"),
    ("t", "don't", ("wrote", "I"), "completion"),
    (" ", "", ("I", "don't"), "prediction"),
    ("(", "", ("I", "don't"), "prediction"),
    ("w", "w", ("I", "don't"), "completion"),
    ("e", "we", ("I", "don't"), "completion"),
    ("l", "wel", ("I", "don't"), "completion"),
    ("l", "well", ("I", "don't"), "completion"),
    ("-", "well-", ("I", "don't"), "completion"),
    ("k", "well-k", ("I", "don't"), "completion"),
    (")", "", ("don't", "well-k"), "prediction"),
    (".", "", ("don't", "well-k"), "prediction"),
    ("\n", "", ("don't", "well-k"), "prediction"),
    ("5", "", ("don't", "well-k"), "none"),
    ("5", "", ("don't", "well-k"), "none"),
    ("\b", "", ("don't", "well-k"), "none"),
    ("\b", "", ("don't", "well-k"), "prediction"),
    ("w", "w", ("don't", "well-k"), "completion"),
    ("w", "ww", ("don't", "well-k"), "completion"),
    ("w", "www", ("don't", "well-k"), "completion"),
    (".", "", ("well-k", "www"), "prediction"),
    ("x", "", ("don't", "well-k"), "none"),  # "www.x" is not a word: nothing is suggested
]


def test_keystroke_trace(predictor):
    text = ""
    for i, (key, prefix, previous, kind) in enumerate(TRACE):
        text = text[:-1] if key == "\b" else text + key
        predictor.set_text(text)
        context = predictor.context()
        assert (context.prefix, context.previous_words, context.kind) == (prefix, previous, kind), f"row {i}: {text!r}"
        suggestions = predictor.suggest(3)
        if kind == "none":
            assert suggestions == []
        else:
            assert suggestions, f"row {i}: no suggestions for {text!r}"
            assert all(s.kind == kind and s.word.startswith(s.retyped or prefix) and s.retyped.lower() in ("", prefix)
                       and WHOLE_WORD.match(s.word) for s in suggestions), text  # "w" at a line's start: "W..."


def test_suggestions_are_distinct_whole_words_and_insert_the_rest(predictor):
    predictor.set_text("The cat li")
    suggestions = predictor.suggest(5)
    assert len({s.word for s in suggestions}) == len(suggestions) >= 2
    assert suggestions[-1].score >= suggestions[0].score - MAX_SCORE_GAP  # no junk far below the best
    for s in suggestions:
        assert s.word.startswith("li") and WHOLE_WORD.match(s.word)
        assert s.insert == s.word[2:] + " "
    assert [s.score for s in suggestions] == sorted((s.score for s in suggestions), reverse=True)


def test_a_sentence_begun_in_lower_case_is_completed_capitalised_unless_turned_off(predictor):
    # "It rained. w" offered what | when | we, and Tab gave "what": people who type without Shift expect "What"
    predictor.set_text("we like it. th")
    suggestions = predictor.suggest(3)
    assert suggestions and all(s.word.startswith("Th") and s.retyped == "Th" and s.insert == s.word[2:] + " " for s in suggestions)
    predictor.set_text("we like th")  # not a sentence's start: as typed
    assert all(s.word.startswith("th") and not s.retyped for s in predictor.suggest(3))
    predictor.set_text("we met zorblax. zorblax came. zorblax went. z")  # the document's words still count
    assert [(s.word, s.retyped) for s in predictor.suggest(3)][0] == ("Zorblax", "Z")
    predictor.set_text("we like my iPhone. my iPhone. i")  # a capital inside the word: as written
    assert ("iPhone", "") in [(s.word, s.retyped) for s in predictor.suggest(3)]
    predictor.set_text("Shopping:\nmilk\nth")  # a list's line, after no finished sentence: as typed
    assert all(not s.retyped for s in predictor.suggest(3))
    for text in ['We met. "Are you coming?" th', "We waited... th", "He has a Ph.D. th", "1. buy milk\n2. th", "1. th"]:
        predictor.set_text(text)
        assert all(not s.retyped for s in predictor.suggest(3)), text
    for text in ['He said "yes." th', "(See above.) th"]:
        predictor.set_text(text)
        assert all(s.retyped == "Th" for s in predictor.suggest(3)), text
    predictor.set_text("We met.\n\nth")  # a paragraph's start
    assert all(s.retyped == "Th" for s in predictor.suggest(3))
    predictor.capitalise = False
    predictor.set_text("we like it. th")
    assert all(s.word.startswith("th") and not s.retyped for s in predictor.suggest(3))


def test_names_are_offered_capitalised_to_someone_typing_without_capitals(loaded, monkeypatch):
    # "next mon" offered monday, and spelled in lower case "satur" gave Saturn, not Saturday: names are also searched
    # for capitalised, as the model spells them, once the text shows typing without capitals
    vocabulary = Vocabulary(["monday", "month", "monthly", "can't", "canada"], capitalised=["monday", "canada"])
    predictor = Predictor(loaded.model, loaded.tokenizer, vocabulary=vocabulary)
    scores = {"month": -2.0, "monthly": -4.0, "monday": -5.0, "Monday": -1.0, "MONTH": -1.5, "Month": -3.0,
              "can't": -6.0, "canada": -5.0, "Can't": -1.0, "Canada": -2.0}
    monkeypatch.setattr(predictor, "_search", lambda spell, typed, k: {w: s for w, s in scores.items() if w.startswith(typed)})
    as_typed = ["month", "monthly", "monday"]
    named = ["Monday", "month", "monthly"]
    for text, offered in [("We meet next mon", as_typed), ("It rained. We meet next mon", as_typed),
                          ('"Why?" he asked. "Stop!" she cried. We meet next mon', as_typed), ("We waited... and met next mon", as_typed),
                          ("Smith et al. found it next mon", as_typed), ("We read it, i.e. the book, next mon", as_typed),
                          ("Buy:\n1. apples\n2. pears\n\n- eggs next mon", as_typed), ("Buy:\nmilk\neggs next mon", as_typed),
                          ("We sold it. eBay is next mon", as_typed), ("Smith Ph.D. said, Jones Ph.D. agreed, Brown Ph.D. left. We meet next mon", as_typed),
                          ("Shopping:\n\nmilk\neggs\n\nI need to meet next mon", as_typed), ("Hi Tom\n\nsee you next mon", as_typed),
                          ("It rained. " * 200 + "We meet next mon", as_typed), ("I think so. I do.\nfor i in x: meet next mon", as_typed), ("Set i to 0. Then add i to it next mon", as_typed),
                          ("it rained. " * 200 + "we meet next mon", named),  # a long paragraph: its last 1,000 characters
                          ("i think we meet next mon", named), ("i'm free next mon", named), ("it rained. we meet next mon", named),
                          ("see you next mon", named), ("hi tom\n\nsee you next mon", named),
                          ("It rained. mon", ["Monday", "Month", "Monthly"]),  # a sentence's start: every word capitalised,
                          ("It rained. can", ["Can't", "Canada"]),  # and searched for capitalised, not only names
                          ("i think we meet next mo", ["month", "monthly", "Monday"]),  # searched for from the third letter
                          ("i think we meet next monday", ["Monday"])]:  # the name itself
        predictor.set_text(text)
        assert [s.word for s in predictor.suggest(3)] == offered, text
    predictor.set_text("i think we meet next mon")
    assert [(s.word, s.retyped, s.insert) for s in predictor.suggest(1)] == [("Monday", "Mon", "day ")]
    predictor.set_text("i think we meet next monday")
    assert [(s.word, s.retyped, s.insert) for s in predictor.suggest(1)] == [("Monday", "Monday", " ")]
    accepting = Predictor(loaded.model, loaded.tokenizer, vocabulary=vocabulary)  # takes What for "w", and so on
    monkeypatch.setattr(accepting, "_search", lambda spell, typed, k: {w: s for w, s in scores.items() if w.startswith(typed)})
    for typed in ["w", "We went out. t", "We went out. They came back. s"]:  # each sentence begun in lower case
        accepting.set_text(typed)
        accepting.suggest(3)
    accepting.set_text("We went out. They came back. See you next mon")  # a well-cased text, but not so typed
    assert [s.word for s in accepting.suggest(3)] == named
    well_cased = Predictor(loaded.model, loaded.tokenizer, vocabulary=vocabulary)
    monkeypatch.setattr(well_cased, "_search", lambda spell, typed, k: {w: s for w, s in scores.items() if w.startswith(typed)})
    for typed in ["W", "We went. T", "We went. They came. can"]:  # a lower-case start is searched for capitalised all the same
        well_cased.set_text(typed)
        offered = [s.word for s in well_cased.suggest(3)]
    assert offered == ["Can't", "Canada"]
    well_cased.set_text("We went. They came. See you next monday")  # the word typed is never offered back
    assert well_cased.suggest(3) == []
    predictor.capitalise = False
    predictor.set_text("i think we meet next mon")
    assert [s.word for s in predictor.suggest(3)] == as_typed


def test_the_users_names_are_offered_capitalised_too(loaded):
    # written capitalised after another word, and never in lower case: the model alone never spelled "ravenhill"
    vocabulary = Vocabulary(["met", "the", "man", "at", "noon", "later"])
    predictor = Predictor(loaded.model, loaded.tokenizer, vocabulary=vocabulary)
    predictor.set_text("i met Ravenhill at noon. later the man met rav")
    assert ("Ravenhill", "Rav") in [(s.word, s.retyped) for s in predictor.suggest(3)]
    predictor.set_text("i met Ravenhill and ravenhill. later the man met rav")  # also written in lower case: as typed
    assert [(s.word, s.retyped) for s in predictor.suggest(3)] == [("ravenhill", "")]
    predictor.set_text("i wrote.\nBest regards,\nRavenhill\n\nlater the man met rav")  # a line's first word: no sign of a name
    assert "Ravenhill" not in [s.word for s in predictor.suggest(3)]
    lexicon = Lexicon.of_texts(["Ravenhill wrote. We met Ravenhill.", "Book fairs. Book."])  # the user's other writing
    personal = Predictor(loaded.model, loaded.tokenizer, vocabulary=vocabulary, lexicon=lexicon)
    personal.set_text("i think the man met rav")
    assert ("Ravenhill", "Rav") in [(s.word, s.retyped) for s in personal.suggest(3)]
    personal.set_text("i like the bo")  # "Book" only ever started a sentence
    offered = [s.word for s in personal.suggest(3)]
    assert "book" in offered and "Book" not in offered
    lexicon = Lexicon.of_texts(["We met Anna."])
    assert not lexicon.follows_a_word("Ravenhill")
    lexicon.add(Lexicon.of_texts(["We met Ravenhill."]))  # fine-tuned again: the new writing counts at once
    assert lexicon.follows_a_word("Ravenhill")


def test_the_vocabulary_knows_names_from_their_capitals_inside_sentences():
    text = ("We saw " + ", ".join(["Monday"] * 9) + ", monday, " + ", ".join(["London"] * 8) + ", london and london, "
            "Zorblax, Zorblax and TV, TV, TV, a monday-based week. Perhaps we go. Perhaps not. Perhaps soon.\n"
            'He said "Hello" and "Hello" and "Hello" and then I and I and I.\nNote: Later we go. Note: Later again. Note: Later still.\n')
    vocabulary = Vocabulary.of_texts([text])
    assert all(map(vocabulary.is_capitalised, ["monday", "Monday's", "i", "monday-based"]))  # 9 of 10 inside sentences; 3 of 3
    assert not vocabulary.is_capitalised("monday-ish")  # a compound the text lacks: the model made it up
    assert not any(map(vocabulary.is_capitalised, ["london", "zorblax", "tv", "perhaps", "hello", "later", "we"]))  # 8 of 10; twice
    assert all(w in vocabulary for w in ["london", "zorblax", "hello", "later"])
    loaded = Vocabulary.from_payload(vocabulary.to_payload())
    assert loaded.is_capitalised("monday") and not loaded.is_capitalised("london") and "MONDAY" in loaded
    assert not Vocabulary.from_payload("i\nmonday").is_capitalised("monday")  # a file from before capitals: none


def test_capitalised_prefix_gets_capitalised_words(predictor):
    predictor.set_text("we like it. Th")
    assert all(s.word.startswith("Th") for s in predictor.suggest(3))


@pytest.mark.parametrize("text", ["", "We like the book. ", "Really? ", "She said \"Yes.\" ", "first line\n", "Dear Anna,\n",
                                  "We like the book.) ", "(It rained.) ", "I saw it. ", "I mean it.* ", "No. "])
def test_predictions_at_a_sentence_start_are_capitalised(predictor, text):
    predictor.set_text(text)
    suggestions = predictor.suggest(3)
    assert suggestions and all(s.word[0].isupper() and s.kind == "prediction" for s in suggestions), text


def test_words_in_capitals_start_a_line_only_when_the_user_wrote_them(predictor, monkeypatch):
    # what the model of the bundled default offers after "Dear Sam,\n\n": speaker names of the plays it learned from
    monkeypatch.setattr(predictor, "_search", lambda spell, typed, k: {"AMORY": -1.0, "NASA": -2.0, "the": -3.0, "I": -4.0})
    predictor.set_text("NASA wrote.\n\n")
    assert [s.word for s in predictor.suggest(3)] == ["NASA", "The", "I"]
    predictor.set_text("NASA wrote. ")  # within a line the model's word stands
    assert predictor.suggest(1)[0].word == "AMORY"


@pytest.mark.parametrize("text", ["Bring fruit, e.g. ", "We met Dr. ", "We met Dr.", "That is, I.E. ", "Fruit (e.g. ", 'He said "Dr. ',
                                  "Prices in the U.S. ", "See you at 5 p.m. ", "Pens, paper, etc. ", "It was John F. "])
def test_no_capital_after_an_abbreviation(predictor, monkeypatch, text):
    monkeypatch.setattr(predictor, "_search", lambda spell, typed, k: {"apples": -1.0, "the": -2.0})
    predictor.set_text(text)
    assert [s.word for s in predictor.suggest(3)] == ["apples", "the"]


def test_prediction_after_punctuation_starts_with_a_space(predictor):
    predictor.set_text("I like the book,")
    suggestions = predictor.suggest(3)
    assert suggestions and all(s.insert == " " + s.word + " " for s in suggestions)


def test_apostrophes_and_hyphens_inside_words(predictor):
    for text, prefix in (("I don'", "don'"), ("the well-", "well-")):
        predictor.set_text(text)
        suggestions = predictor.suggest(3)
        assert suggestions and all(s.word.startswith(prefix) and WHOLE_WORD.match(s.word) for s in suggestions)


def test_a_word_that_would_repeat_the_last_two_at_once_is_not_offered(predictor, monkeypatch):
    # "as soon as s" offered "soon" first: the model likes the loop, and the cache counted "soon"
    monkeypatch.setattr(predictor, "_search", lambda spell, typed, k: {"soon": -1.0, "some": -2.0})
    predictor.set_text("We will leave as soon as s")
    assert [s.word for s in predictor.suggest(3)] == ["some"]
    predictor.set_text("We will leave soon and as s")
    assert [s.word for s in predictor.suggest(3)] == ["soon", "some"]


def test_the_word_as_typed_is_not_offered_but_keeps_far_less_likely_words_out(predictor):
    predictor.set_text("I like the bo")
    word = predictor.suggest(3)[0]
    predictor.set_text("I like the " + word.word)
    offered = predictor.suggest(3)
    assert word.word not in [s.word for s in offered]
    assert all(s.score >= word.score - MAX_SCORE_GAP for s in offered)


def test_a_word_and_its_capitalised_form_are_one_suggestion():
    words = {"century": math.log(0.3), "of": math.log(0.2), "Century": math.log(0.1), "US": math.log(0.05), "us": math.log(0.04)}
    merged = Predictor._one_per_capitalisation(words, capitalise=False)
    assert merged.keys() == {"century", "of", "US", "us"} and merged["century"] == pytest.approx(math.log(0.4))
    assert Predictor._one_per_capitalisation(words, capitalise=True).keys() == {"Century", "Of", "US", "Us"}


@pytest.mark.parametrize("space", ["\t", "\u00a0"])
def test_a_word_after_a_tab_or_a_no_break_space_is_completed(predictor, space):
    predictor.set_text("I like" + space + "the bo")
    assert predictor.suggest(3) and predictor.context().prefix == "bo"
    predictor.set_text("I like the" + space + "bo")
    assert predictor.suggest(3)


@pytest.mark.parametrize("loose, single", [("It was late.  ", "It was late. "), ("Dear Anna,\n\t", "Dear Anna,\n"),
                                           ("Dear Anna, \n", "Dear Anna,\n"), ("I like  the bo", "I like the bo")])
def test_extra_spaces_read_as_the_training_text_has_them(predictor, loose, single):
    """One space between words, none at a line's ends: after two spaces the model read what it never learned."""
    predictor.set_text(single)
    expected = predictor.suggest(3)
    predictor.set_text(loose)
    assert predictor.suggest(3) == expected and expected


def test_the_search_spells_accented_letters_through_byte_pieces(predictor):
    # the tokenizers have no piece for "\u00e9": a typed "caf\u00e9" found no word at all
    predictor.set_text("We met in the caf\u00e9")
    escape = predictor.tokenizer.escape_bytes
    assert "caf\u00e9" in predictor._search(escape(" caf\u00e9"), escape("caf\u00e9"), 3)


def test_a_typed_letter_no_piece_spells_gets_the_vocabulary_words_it_starts(loaded):
    words = {w.lower() for w in WORD.findall(generated_text(3000, seed=1))} | {"caf\u00e9t\u00e9ria", "caf\u00e9s", "r\u00e9sum\u00e9"}
    predictor = Predictor(loaded.model, loaded.tokenizer, vocabulary=Vocabulary(words))
    predictor.set_text("We met in the caf\u00e9")
    offered = predictor.suggest(3)
    assert offered and {s.word for s in offered} <= {"caf\u00e9t\u00e9ria", "caf\u00e9s"}
    assert all(s.insert == s.word[len("caf\u00e9"):] + " " for s in offered)
    predictor.set_text("R\u00e9s")  # capitalised as typed
    assert [s.word for s in predictor.suggest(3)] == ["R\u00e9sum\u00e9"]


def test_the_vocabulary_lists_the_words_a_prefix_starts():
    vocabulary = Vocabulary(["cafe", "Caf\u00e9", "caf\u00e9s", "cab", "dog"])
    assert vocabulary.starting_with("caf", 10) == ["cafe", "caf\u00e9", "caf\u00e9s"]
    assert vocabulary.starting_with("caf", 2) == ["cafe", "caf\u00e9"] and vocabulary.starting_with("x", 5) == []


def test_curly_quotes_read_as_the_straight_ones_the_model_learned(predictor):
    predictor.set_text("I don't know what you're ")
    straight = predictor.suggest(3)
    predictor.set_text("I don’t know what you’re ")
    assert predictor.suggest(3) == straight
    predictor.set_text("“I don’")
    suggestions = predictor.suggest(3)
    assert suggestions and all(s.word.startswith("don’") and s.insert == s.word[4:] + " " for s in suggestions)
    predictor.set_text("I don’t know what you’re don")  # the document's apostrophes in what is inserted
    assert any(s.insert.startswith("’") for s in predictor.suggest(3))


@pytest.mark.parametrize("text", ["Call me at 555", "see http://example.com/pa", "mail anna@exa", "x = f(y", "abc123"])
def test_no_suggestions_after_non_words(predictor, text):
    predictor.set_text(text)
    assert predictor.suggest(3) == []


@pytest.mark.parametrize("text", ["日本語を話します ", "مرحبا ", "I said Привет. ",
                                  "مرحبا,", "Привет,", "We met in 東京"])
def test_nothing_after_or_inside_a_word_in_a_script_the_model_never_learned(predictor, text):
    predictor.set_text(text)
    assert predictor.suggest(3) == []
    predictor.set_text(text + "\n")  # an English line may follow
    assert predictor.suggest(3)


def test_a_name_used_earlier_in_the_document_is_offered_from_its_first_letter(loaded):
    """The recency cache: the tiny model has never seen "Zorblax"; the document teaches it."""
    with_cache = Predictor(loaded.model, loaded.tokenizer)
    without = Predictor(loaded.model, loaded.tokenizer, recency=RecencyCache(word_weight=0.0, pair_weight=0.0))
    for predictor in (with_cache, without):
        predictor.set_text("Zorblax likes the book. The cat likes Zorblax. Then Z")
    assert with_cache.suggest(1)[0].word == "Zorblax"
    assert "Zorblax" not in [s.word for s in without.suggest(3)]
    with_cache.set_text("A new text. Then Z")  # the cache holds the text before the cursor, nothing older
    assert "Zorblax" not in [s.word for s in with_cache.suggest(3)]
    with_cache.set_text("We flew in a zorblax yesterday. Zor")  # at a sentence start, capitalised
    assert with_cache.suggest(1)[0].word == "Zorblax"


def test_the_users_own_words_are_offered_from_the_lexicon_of_their_writing(loaded):
    """A fine-tuned model's lexicon: names from the user's other documents, not in this one."""
    lexicon = Lexicon.of_texts(["Dear Professor Zorblax, thank you.", "I met Professor Zorblax and Anna."])
    with_lexicon = Predictor(loaded.model, loaded.tokenizer, lexicon=lexicon)
    without = Predictor(loaded.model, loaded.tokenizer)
    for text, offered in (("The cat likes Zo", "Zorblax"), ("We thank Professor ", "Zorblax")):
        with_lexicon.set_text(text)
        without.set_text(text)
        assert offered in [s.word for s in with_lexicon.suggest(3)]
        assert offered not in [s.word for s in without.suggest(3)]


def test_the_vocabulary_knows_any_case_possessives_and_hyphenated_compounds():
    vocabulary = Vocabulary.of_texts(["The family liked the eye test.", "Tracking 3 cats and families"])
    assert all(w in vocabulary for w in ("the", "The", "FAMILY", "family's", "families'", "eye-tracking", "liked"))
    assert not any(w in vocabulary for w in ("familys", "eye-trackingz", "eye-", "3", "cat", "The's", "the's"))
    users = {"Ravenhill"}.__contains__  # the rules hold for the user's own words too
    assert all(vocabulary.knows(w, users) for w in ("Ravenhill", "Ravenhill's", "Ravenhill-family"))
    assert not any(w in vocabulary for w in ("Ravenhill", "Ravenhill's", "Ravenhill-family"))


def test_offensive_words_are_offered_only_once_the_user_has_written_them(loaded, monkeypatch):
    predictor = Predictor(loaded.model, loaded.tokenizer)
    predictor.set_text("I like the bo")
    assert "book" in [s.word for s in predictor.suggest(3)]
    monkeypatch.setattr(vocabulary_module, "OFFENSIVE", frozenset({"book"}))  # as if "book" were a slur
    assert "book" not in [s.word for s in predictor.suggest(3)]
    predictor.set_text("The Book I read. I like the bo")
    assert "book" in [s.word for s in predictor.suggest(3)]


def test_offensive_words_come_with_their_plurals_and_possessives():
    assert [offensive_stem(w) for w in ["Nigger", "niggers", "Bitches", "whore's", "fucking"]] == [
        "nigger", "nigger", "bitch", "whore", "fucking"]
    assert not any(map(offensive_stem, ["night", "spices", "Dickens", "Dick", "cock-tail", "pussy-willow", "therapist"]))


def test_an_ending_in_capitals_after_a_lower_case_letter_is_not_offered(loaded):
    # the vocabulary ignores case: "Clarke'S" passed as "clarke's", and the bar offered it beside "Clarke's"
    predictor = Predictor(loaded.model, loaded.tokenizer, vocabulary=Vocabulary(["clarke", "don't", "o'neil"]))
    assert all(map(predictor._may_offer, ["Clarke's", "don't", "DON'T", "O'NEIL", "O'Neil"]))
    assert not any(map(predictor._may_offer, ["Clarke'S", "don'T"]))


def test_only_words_of_the_vocabulary_or_of_the_document_are_offered(loaded):
    """The model spells words it never saw; with a vocabulary, a word outside it is offered only once the user has typed it."""
    words = {w.lower() for w in WORD.findall(generated_text(3000, seed=1))} - {"book"}
    free = Predictor(loaded.model, loaded.tokenizer)
    limited = Predictor(loaded.model, loaded.tokenizer, vocabulary=Vocabulary(words))
    for predictor in (free, limited):
        predictor.set_text("I like the bo")
    assert "book" in [s.word for s in free.suggest(3)]
    offered = [s.word for s in limited.suggest(3)]
    assert "book" not in offered and all(w in limited.vocabulary for w in offered)
    limited.set_text("We read a book. I like the bo")
    assert "book" in [s.word for s in limited.suggest(3)]
    limited.set_text("Book fairs are fun. I like the bo")  # typed at a sentence's start: still the same word
    assert "book" in [s.word for s in limited.suggest(3)]
    lexicon = Lexicon.of_texts(["Book fairs. Book."])  # the user's other writing has it (capitalised)
    with_lexicon = Predictor(loaded.model, loaded.tokenizer, vocabulary=Vocabulary(words), lexicon=lexicon)
    with_lexicon.set_text("I like the bo")
    assert "book" in [s.word for s in with_lexicon.suggest(3)]


def test_a_word_that_followed_the_previous_word_is_predicted_after_it(loaded):
    predictor = Predictor(loaded.model, loaded.tokenizer)
    predictor.set_text("Anna Zorblax likes the book. The cat likes Anna Zorblax. Then Anna ")
    assert "Zorblax" in [s.word for s in predictor.suggest(3)]
    predictor.set_text("Anna Zorblax likes the book. The cat likes Anna Zorblax. Then the ")
    assert "Zorblax" not in [s.word for s in predictor.suggest(3)]  # unigram counts alone never predict


def test_a_contraction_without_its_apostrophe_is_offered_once_the_user_wrote_it(predictor, monkeypatch):
    monkeypatch.setattr(predictor, "_search", lambda spell, typed, k: {"dont": -1.0, "don't": -2.0, "its": -3.0, "were": -4.0})
    predictor.set_text("I like it and ")
    assert [s.word for s in predictor.suggest(4)] == ["don't", "its", "were"]  # real words a dropped apostrophe makes stay
    predictor.set_text("I dont know and ")
    assert [s.word for s in predictor.suggest(4)] == ["dont", "don't", "its", "were"]


def test_the_name_under_a_sign_off_is_predicted_under_the_next(loaded):
    predictor = Predictor(loaded.model, loaded.tokenizer)
    predictor.set_text("Warm regards,\nZorblax\n\nSee you at the book fair.\nWarm regards,\n")
    assert "Zorblax" in [s.word for s in predictor.suggest(3)]


def test_a_capital_the_vocabulary_lacks_is_spelled_by_its_byte_piece(predictor):
    # the default model has no piece for "Z", "Q" or "X": "New Zea" offered nothing, not even "Zealand"
    sp = predictor.tokenizer.sp
    lacking = [c for c in string.ascii_uppercase if all(sp.is_unknown(sp.piece_to_id(p)) for p in (c, "\u2581" + c))]
    assert lacking  # the generated corpus has few capitals
    predictor.set_text(f"I met {lacking[0]}")
    suggestions = predictor.suggest(3)
    assert suggestions and all(s.word.startswith(lacking[0]) and WHOLE_WORD.match(s.word) for s in suggestions)


def test_character_model_suggests_whole_words(loaded_char):
    predictor = Predictor(loaded_char.model, loaded_char.tokenizer)
    for text in ("", "The ", "The cat lik", "I don'"):
        predictor.set_text(text)
        suggestions = predictor.suggest(3)
        assert suggestions and all(WHOLE_WORD.match(s.word) for s in suggestions), text


def test_one_megabyte_paste_then_typing(predictor):
    text = generated_text(20000, seed=5)
    while len(text) < 1_000_000:
        text += text
    text = text[:1_000_000]
    predictor.set_text(text)
    assert predictor.state_bytes() <= Predictor.SNAPSHOT_CAP_BYTES
    segments = len(predictor._segments)
    predictor.set_text(text + " the bo")  # typing after the paste feeds only what is new
    assert len(predictor._segments) == segments + 2  # the pasted last word and " the"
    suggestions = predictor.suggest(3)
    assert suggestions and all(s.word.startswith("bo") and WHOLE_WORD.match(s.word) for s in suggestions)


def same_suggestions(a, b) -> bool:
    """Same words with the same scores, up to float noise (words may swap only where scores tie)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if abs(x.score - y.score) > 1e-4 or x.insert != y.insert and abs(x.score - y.score) > 1e-5:
            return False
    return sorted(s.word for s in a) == sorted(s.word for s in b) or [s.word for s in a] == [s.word for s in b]


PIECES = ["the ", "cat ", "book", ". ", ", ", "I ", "don't ", "don\u2019t ", "\u6771", "\t", "\u00a0", "well-known ", "\n", "Anna ", "likes ", "9", " ", "x", "é", "Th", "Zorblax's ", "zor"]

edit = st.one_of(
    st.tuples(st.just("type"), st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join)),
    st.tuples(st.just("backspace"), st.integers(1, 12)),
    st.tuples(st.just("jump"), st.floats(0, 1)),  # move the cursor: the text before it is a prefix of the document
    st.tuples(st.just("paste"), st.lists(st.sampled_from(PIECES), min_size=5, max_size=60).map("".join)),
    st.tuples(st.just("select_all_replace"), st.lists(st.sampled_from(PIECES), max_size=8).map("".join)),
)


def with_blocks(loaded, blocks: int, **kwargs) -> Predictor:
    predictor = Predictor(loaded.model, loaded.tokenizer, vocabulary=loaded.vocabulary, **kwargs)
    predictor.CONTEXT_BLOCK = blocks
    return predictor


@pytest.mark.parametrize("blocks", [Predictor.CONTEXT_BLOCK, 3])  # 3 segments: every edit crosses block boundaries
@given(edits=st.lists(edit, max_size=25))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_edit_sequence_gives_what_a_fresh_predictor_gives(loaded, blocks, edits):
    """The defining property: incremental state == recomputing from the final text."""
    predictor = with_blocks(loaded, blocks)
    document, cursor = "", 0
    for kind, arg in edits:
        if kind in ("type", "paste"):
            document, cursor = document[:cursor] + arg + document[cursor:], cursor + len(arg)
        elif kind == "backspace":
            document, cursor = document[: max(0, cursor - arg)] + document[cursor:], max(0, cursor - arg)
        elif kind == "jump":
            cursor = int(arg * len(document))
        else:
            document, cursor = arg, len(arg)
        predictor.set_text(document[:cursor])
        predictor.suggest(3)
    fresh = with_blocks(loaded, blocks)
    fresh.set_text(document[:cursor])
    assert same_suggestions(predictor.suggest(3), fresh.suggest(3))
    assert predictor.context() == fresh.context()
    assert predictor._snapshot_at == sorted(predictor._snapshots)  # the index the lookups bisect


def test_the_model_reads_one_to_two_blocks_back(loaded):
    # 7 words, then the same 4: with blocks of 2 segments the model has read segments 8-10 at segment 11
    ending = " the cat likes the"
    texts = ["Anna wrote: I don't like the cat." + ending, "The book, well-known to us all, is." + ending]
    assert len(SEGMENT.findall(texts[0])) == len(SEGMENT.findall(texts[1])) == 11
    short = [with_blocks(loaded, 2) for _ in texts]
    long = [with_blocks(loaded, Predictor.CONTEXT_BLOCK) for _ in texts]
    for p, text in zip(short + long, texts + texts):
        p.set_text(text + " ")
    in_use = [Predictor._in_use(p._current[1])[1] for p in short + long]  # the LSTM cells
    assert torch.allclose(in_use[0], in_use[1], atol=1e-6)
    assert not torch.allclose(in_use[2], in_use[3], atol=1e-3)  # with long blocks the first 7 words count


def test_editing_near_the_top_of_a_long_document_then_jumping_back_feeds_at_most_two_blocks(loaded, monkeypatch):
    predictor = with_blocks(loaded, 64)
    document = generated_text(20000, seed=7)
    predictor.set_text(document)
    predictor.set_text(document[:100] + "x")
    fed = count_fed(predictor, monkeypatch)
    predictor.set_text(document[:100] + "x" + document[100:])
    assert 0 < sum(fed) <= sum(len(ids) for ids in predictor._ids[-2 * 64:] if ids)
    assert predictor._ids[1000] is None  # nor is a long document's start tokenized


def test_the_search_stops_once_no_new_word_could_be_shown():
    # a word must reach the k-th best score and stay within MAX_SCORE_GAP of the best to be shown
    assert Predictor._shown_above({"a": -1.0, "b": -2.0, "c": -3.0}, 3) == -3.0
    assert Predictor._shown_above({"tomatoes": -0.1}, 3) == pytest.approx(-0.1 - MAX_SCORE_GAP)
    assert Predictor._shown_above({"a": -1.0, "b": -9.0, "c": -20.0}, 3) == pytest.approx(-1.0 - MAX_SCORE_GAP)
    assert Predictor._shown_above({}, 3) == float("-inf")


def count_fed(predictor, monkeypatch) -> list:
    fed = []
    feed = predictor._feed
    monkeypatch.setattr(predictor, "_feed", lambda state, ids: fed.append(len(ids)) or feed(state, ids))
    return fed


def count_steps(predictor, monkeypatch) -> list:
    steps = []
    step = predictor._step
    monkeypatch.setattr(predictor, "_step", lambda ids, state: steps.append(len(ids)) or step(ids, state))
    return steps


def test_typing_a_word_reuses_the_model_rows_of_earlier_keystrokes(loaded, monkeypatch):
    text = "The cat likes the well-known book"
    typing = Predictor(loaded.model, loaded.tokenizer)
    typing_rows = count_steps(typing, monkeypatch)
    fresh_steps, fresh_rows = 0, 0
    for i in range(1, len(text) + 1):
        typing.set_text(text[:i])
        fresh = Predictor(loaded.model, loaded.tokenizer)
        rows = count_steps(fresh, monkeypatch)
        fresh.set_text(text[:i])
        assert same_suggestions(typing.suggest(3), fresh.suggest(3))
        fresh_steps, fresh_rows = fresh_steps + len(rows), fresh_rows + sum(rows)
    assert len(typing_rows) < fresh_steps and sum(typing_rows) < fresh_rows
    before = len(typing_rows)
    typing.suggest(3)  # asked again (the app re-asks after a focus change): every row is reused
    assert len(typing_rows) == before


def test_finishing_a_word_takes_its_state_from_the_search_instead_of_feeding_it(loaded, monkeypatch):
    typing = Predictor(loaded.model, loaded.tokenizer)
    for i in range(1, len("The cat likes the book") + 1):
        typing.set_text("The cat likes the book"[:i])
        typing.suggest(3)
    fed = count_fed(typing, monkeypatch)
    steps = count_steps(typing, monkeypatch)
    typing.set_text("The cat likes the book ")
    assert fed == []  # " book" was one of the last search's beams
    fresh = Predictor(loaded.model, loaded.tokenizer)
    fresh.set_text("The cat likes the book ")
    assert same_suggestions(typing.suggest(3), fresh.suggest(3))
    assert steps  # the next word's search itself still steps the model
