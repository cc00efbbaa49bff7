"""Where a sentence ends: the engine capitalises the word after one, and the recency cache does not offer
back the pairs of the sentence being written."""

from __future__ import annotations

import re

OPENING = "\"'([{<*_"  # may stand before a word being typed
CLOSING = ".,;:!?\"')]}>*_"  # may follow a finished word
SENTENCE_END = ".!?"
# end with a full stop but often do not end a sentence: the model, not a rule, says whether the next word has a capital
ABBREVIATIONS = frozenset(["e.g.", "i.e.", "cf.", "vs.", "al.", "mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "etc.", "approx.",
                           "vol.", "fig.", "inc.", "ltd.", "co.", "jr.", "sr.", "mt.", "ave.", "dept.", "est.",
                           "jan.", "feb.", "mar.", "apr.", "jun.", "jul.", "aug.", "sep.", "sept.", "oct.", "nov.", "dec."])
INITIALISM = re.compile(r"(?:[^\W\d_]\.)+|(?:[^\W\d_]{1,3}\.){2,}")  # "U.S.", "p.m.", an initial ("John F."), "Ph.D."


def capitalised(word: str) -> str:
    """``word`` with its first letter in capitals and the rest as it is (str.capitalize lowers "iPhone"'s "P")."""
    return word[:1].upper() + word[1:]


def ends_sentence(word: str) -> bool:
    """Whether ``word``, with the punctuation around it ('"Yes."', "it.*"), ends a sentence."""
    word = word.lstrip(OPENING).rstrip("".join(c for c in CLOSING if c not in SENTENCE_END))
    if word.endswith("."):
        return not (word.lower() in ABBREVIATIONS or INITIALISM.fullmatch(word))
    return word.endswith(tuple(SENTENCE_END))
