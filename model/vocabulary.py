"""The words a model may offer: those of its training text, so that suggestions are never made-up words.

A subword model spells words it has never seen: "considerablely", "seriess", "identifys". The engine
offers only words of this vocabulary, words the user has typed in the document (the recency cache)
or written elsewhere (a personal model's lexicon). A word also counts when it is a known
word's possessive ("system's") or joins known words with hyphens ("eye-tracking").
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from .recency import WORD
from .sentences import capitalised, ends_sentence
from .tokenizer import NEWLINE

OFFENSIVE = frozenset(line for line in (Path(__file__).parent / "assets" / "offensive_words.txt").read_text().splitlines()
                      if line and not line.startswith("#"))


def offensive_stem(word: str) -> str | None:
    """The word of `OFFENSIVE` that ``word`` is, or is the plural or possessive of; None for any other word.

    The training text (reviews, chat, old fiction) holds them, so the model offers them: "He was a nig"
    showed "nigger" in the third slot. "es" is a plural only after s, x, z, ch and sh ("spices" is not one).
    Compounds are left alone: "cock-tail", "pussy-willow" and "Moby-Dick" are words of the vocabulary.
    """
    w = word.lower().removesuffix("'s").removesuffix("'")
    stems = [w, w.removesuffix("s")] + ([w[:-2]] if w.endswith(("ses", "xes", "zes", "ches", "shes")) else [])
    return next((stem for stem in stems if stem in OFFENSIVE), None)


# contractions written without their apostrophe, as chat text does ("dont", "thats"); not the real words that
# a dropped apostrophe also makes ("its", "lets", "were", "well", "ill", "hell", "cant", "wont" left out on purpose)
APOSTROPHE_DROPPED = re.compile(r"(?:(?:do|does|did|is|was|are|were|have|has|had|could|would|should|must|need|ai)nt"
                                r"|(?:that|there|here|what|where|who|she|he)s|(?:you|they)(?:re|ve|ll|d)|ive|im)", re.IGNORECASE)


def capital_ending(word: str) -> bool:
    """An ending in capitals after a lower-case letter: the vocabulary ignores case, so "Clarke'S" and "don'T"
    passed as "clarke's" and "don't". "O'NEIL" in capitals and "d'Artagnan" are not such words."""
    before, apostrophe, after = word.rpartition("'")
    return bool(apostrophe) and before[-1:].islower() and after.isalpha() and after.isupper()


# a word whose uses inside sentences begin with a capital this often is a name, offered capitalised to someone typing
# in lower case ("mon" -> Monday). Of the dev files' 16,823 uses of such words inside sentences, 473 are in lower case
# ("basil", "march", "grams" from the training fiction's names); at 0.95, 208 of 14,187, but no Friday, Easter or French
CAPITALISED_SHARE = 0.9
CAPITALISED_MIN_COUNT = 3

# words that take no "'s": the model spells "Then's" and "The's" from them (the vocabulary's own "he's", "that's" stay)
NO_POSSESSIVE = frozenset("a an and as at but by for from if in nor not of on or so than the then these this those to "
                          "very with i me my we us our you your they them their".split())


def apostrophe_dropped(word: str) -> bool:
    """A contraction without its apostrophe: the vocabulary has them from chat, and "I do" offered "dont" beside
    "don't", "Th" "Thats", which read as typos."""
    return bool(APOSTROPHE_DROPPED.fullmatch(word))


class Vocabulary:
    def __init__(self, words: Iterable[str], capitalised: Iterable[str] = ()):
        """``words`` in any case; ``capitalised``: those written with a capital inside a sentence (names: "Monday")."""
        self._words = frozenset(w.lower() for w in words)
        self._capitalised = frozenset(w.lower() for w in capitalised) & self._words
        self._sorted: list[str] | None = None  # for prefixes: sorted on the first word that needs it (0.1 s)

    @classmethod
    def of_texts(cls, texts: Iterable[str]) -> "Vocabulary":
        """Every word seen, once is enough: leaving out the words seen once cost 0.12 points of keystroke savings.

        A word is capitalised when, inside a sentence, at least `CAPITALISED_SHARE` of its
        `CAPITALISED_MIN_COUNT` or more uses begin with a capital. A sentence's first word and a line's
        say nothing, and words in capitals are left out ("TV").
        """
        capital, lower = Counter(), Counter()
        words = set()
        for text in texts:
            for line in text.split(NEWLINE):
                before = None
                for token in line.split():
                    match = WORD.search(token)
                    if match:
                        word = match[0]
                        words.add(word)
                        inside = before is not None and not ends_sentence(before) and not before.endswith(":") and match.start() == 0
                        if inside and word[:1].isupper() and not (len(word) > 1 and word.isupper()):
                            capital[word.lower()] += 1
                        elif inside and word[:1].islower():
                            lower[word.lower()] += 1
                        words.update(WORD.findall(token[match.end():]))  # "well-known/famous": every word counts
                    before = token
        names = (w for w, n in capital.items() if n >= CAPITALISED_MIN_COUNT and n >= CAPITALISED_SHARE * (n + lower[w]))
        return cls(words, names)

    def __len__(self) -> int:
        return len(self._words)

    def starting_with(self, prefix: str, limit: int) -> list[str]:
        """Up to ``limit`` words that start with ``prefix`` (lower case), in alphabetical order."""
        if self._sorted is None:
            self._sorted = sorted(self._words)
        start = bisect.bisect_left(self._sorted, prefix)
        return list(itertools.takewhile(lambda w: w.startswith(prefix), itertools.islice(self._sorted, start, start + limit)))

    def __contains__(self, word: str) -> bool:
        return self.knows(word)

    def knows(self, word: str, also: Callable[[str], bool] = lambda w: False) -> bool:
        """``word`` is a vocabulary word (any case), the possessive of one, or such words joined by hyphens.

        ``also`` says whether a word not in the vocabulary is one of the user's: the rules apply to
        those too ("Ravenhill's", "Ravenhill-Smith").
        """
        def base(w: str) -> bool:
            return w.lower() in self._words or also(w)

        if base(word):
            return True
        owner = word[:-2] if word.endswith("'s") else word[:-1] if word.endswith("s'") else None  # "family's", "families'"
        if owner and owner.lower() not in NO_POSSESSIVE and base(owner):
            return True
        parts = word.split("-")
        return len(parts) > 1 and all(part and base(part) for part in parts)

    def has_same_words(self, other: "Vocabulary") -> bool:
        """The same words, whichever of them are marked as names."""
        return self._words == other._words

    def is_capitalised(self, word: str) -> bool:
        """``word`` (any case) is written with a capital inside a sentence: a name, its possessive, or a compound of the
        vocabulary that a name starts ("London-based"; not one the model makes up, "Jack-known")."""
        word = word.lower()
        owner = word[:-2] if word.endswith("'s") else word[:-1] if word.endswith("s'") else None
        first = word.split("-")[0] if "-" in word and word in self._words else None
        return word in self._capitalised or owner in self._capitalised or first in self._capitalised

    def to_payload(self) -> str:
        """One string, which loads fast from a model file with weights_only=True: a word a line, lower case, or
        capitalised where it is written so (files from before 2026-11-30 have no capitals)."""
        return "\n".join(sorted(capitalised(w) if w in self._capitalised else w for w in self._words))

    @classmethod
    def from_payload(cls, payload: str) -> "Vocabulary":
        if not isinstance(payload, str):
            raise ValueError("not a string")
        words = [w for w in payload.split("\n") if w]
        return cls(words, (w for w in words if w[:1].isupper()))
