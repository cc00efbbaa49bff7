"""Subword (unigram) or character tokenizer: one sentencepiece model behind a small interface.

The language model sees "model text": the user's text with a space put before the first word
and after every newline, so that every word, including the first of a line, is a piece that
starts with "▁". Tokens never span whitespace, so the text before a whitespace character
always encodes to the same ids whatever follows: the live engine relies on this.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cached_property

import sentencepiece as spm

WORD_START = "\u2581"  # sentencepiece's visible space
NEWLINE = "\n"
KINDS = ("unigram", "char")
USER_SYMBOLS = [NEWLINE]  # pieces of their own, whatever the text
# in every trained vocabulary before the text's own pieces: 256 byte-fallback pieces, <unk>, <s>, </s> and the user symbols
FIXED_PIECES = 256 + 3 + len(USER_SYMBOLS)
# A whitespace character and the non-whitespace after it. Tokens never cross these boundaries, and
# each segment is encoded on its own: sentencepiece's float lattice scores lose precision on very long
# inputs and can then split a word differently than it would alone.
SEGMENT = re.compile(r"[ \n][^ \n]*|[^ \n]+")


def to_model_text(text: str) -> str:
    return " " + text.replace(NEWLINE, NEWLINE + " ")


# The training text has none of these. "don’t" pasted from a word processor was a word the model had never seen
# (after it: "and | up | is"; after "don't": "going | looking"), and a word after a tab or a no-break space got no
# suggestions at all (only a space or a newline starts a segment).
OTHER_SPACES = "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
AS_LEARNED = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'} | dict.fromkeys(OTHER_SPACES, " "))


# Letters outside the Latin script's blocks (Basic Latin to IPA, phonetic extensions, Latin Extended
# Additional, -C, -D, ligatures, full-width Latin); the default model learned English only.
OTHER_SCRIPT_LETTER = re.compile(r"[^\W\d_\u0000-\u02af\u1d00-\u1eff\u2c60-\u2c7f\ua720-\ua7ff\ufb00-\ufb06\uff21-\uff5a]")


# The training text has one space between words and none at the ends of a line; a blank line is "\n \n" in model
# text. After two spaces ("It was late.  "), a tab at a line's start or a space at its end the model had never seen
# what it read and offered "And | The | San" at p=0.000 instead of "I | It | The".
RUN_OF_SPACES = re.compile(r"  +")
SPACE_ENDING_A_LINE = re.compile(r"(?<=[^\n ]) (?=\n)")


def normalized_model_text(text: str) -> str:
    """What the model and the engine read: NFC (one code point per accented letter), straight quotes, plain single
    spaces, then model text."""
    model_text = to_model_text(unicodedata.normalize("NFC", text).translate(AS_LEARNED))
    return SPACE_ENDING_A_LINE.sub("", RUN_OF_SPACES.sub(" ", model_text))


class GrowingModelText:
    """`normalized_model_text` of a text that changes mostly at its end, converting only what follows its unchanged head.

    The engine is given the whole text before the cursor at every keystroke; converting all of a 1 MB
    document cost 1.2 ms a keystroke. The head is the text up to its last run of whitespace, kept with its
    model text: NFC never composes across whitespace, and which spaces the model reads depends only on the
    run they are in and the character before it.
    """

    def __init__(self):
        self._head, self._head_mt = "", to_model_text("")

    def __call__(self, text: str) -> str:
        n = len(self._head)
        if not (text.startswith(self._head) and (text[n : n + 1] or " ").isspace()):
            self._head, self._head_mt, n = "", to_model_text(""), 0  # changed inside the head: start again
        cut = max(text.rfind(" ", n), text.rfind(NEWLINE, n))
        while cut > n and text[cut - 1].isspace():
            cut -= 1
        if cut > n:
            self._head_mt += self._after_head(text[n:cut])
            self._head = text[:cut]
        return self._head_mt + self._after_head(text[len(self._head) :])

    def _after_head(self, text: str) -> str:
        """The model text of ``text`` where it follows the head, whose last character (if it has one) is no space:
        "x" stands for that character."""
        return normalized_model_text("x" + text)[2:] if self._head else normalized_model_text(text)[1:]


def escaped_byte(byte: int) -> str:
    """A byte of 0x80 or more as Python's "surrogateescape" writes it: U+DC80-U+DCFF."""
    return chr(0xDC00 + byte)


def is_escaped_byte(c: str) -> bool:
    """A byte of a UTF-8 sequence as `Tokenizer.escape_bytes` writes it."""
    return "\udc80" <= c <= "\udcff"


def unescape_bytes(text: str) -> str | None:
    """The text `Tokenizer.escape_bytes` made, or None where its bytes are no UTF-8 (a sequence cut short)."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return None


def from_model_text(model_text: str) -> str:
    return model_text[1:].replace(NEWLINE + " ", NEWLINE) if model_text.startswith(" ") else model_text.replace(NEWLINE + " ", NEWLINE)


class Tokenizer:
    """encode / decode / vocab_size / piece surface strings / which ids start a word."""

    def __init__(self, model_proto: bytes):
        self.model_proto = bytes(model_proto)
        self.sp = spm.SentencePieceProcessor(model_proto=self.model_proto)

    @classmethod
    def train(cls, sentences: Iterable[str], kind: str = "unigram", vocab_size: int = 8000) -> "Tokenizer":
        """Train on an iterable of lines (no newlines inside); ``kind`` is "unigram" or "char"."""
        if kind not in KINDS:
            raise ValueError(f"unknown tokenizer kind {kind!r}; expected one of {', '.join(KINDS)}")
        import io

        proto = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences),
            model_writer=proto,
            model_type=kind,
            # a char model needs room for the 256 byte-fallback pieces and the characters
            vocab_size=vocab_size if kind == "unigram" else max(vocab_size, 512),
            hard_vocab_limit=False,
            character_coverage=0.9995,
            byte_fallback=True,  # any character round-trips, none becomes <unk>
            split_digits=True,
            normalization_rule_name="identity",  # the text is NFC-normalised by prepare
            remove_extra_whitespaces=False,
            add_dummy_prefix=False,  # to_model_text adds the space itself, after newlines too
            user_defined_symbols=USER_SYMBOLS,
            input_sentence_size=2_000_000,
            shuffle_input_sentence=True,
            num_threads=2,
            minloglevel=2,
        )
        return cls(proto.getvalue())

    @property
    def vocab_size(self) -> int:
        return self.sp.get_piece_size()

    def encode(self, text: str) -> list[int]:
        """Ids of the user's ``text`` (adds the model-text spaces)."""
        return self.encode_model_text(normalized_model_text(text))

    def encode_model_text(self, model_text: str) -> list[int]:
        return [t for ids in self.encode_segments(SEGMENT.findall(model_text)) for t in ids]

    def encode_segments(self, segments: list[str]) -> list[list[int]]:
        """Ids of each segment (see SEGMENT), encoded in one batched call. A letter of another script reads as
        "x": as the bytes of its UTF-8 it is hundreds of tokens the model never learned, and after a sentence
        of Arabic "Welcome to the " got "B | Zenith | T"; after "xxxxx": "top | game | first"."""
        segments = [OTHER_SCRIPT_LETTER.sub("x", s) for s in segments]
        if len(segments) < 1000:  # a batched call costs ~0.5 ms of thread-pool set-up; one segment ~2 us
            return [self.sp.encode(s) for s in segments]
        return self.sp.encode(segments, num_threads=1)

    def decode(self, ids: Iterable[int]) -> str:
        return from_model_text(self.decode_model_text(ids))

    def decode_model_text(self, ids: Iterable[int]) -> str:
        return self.sp.decode(list(ids))

    @cached_property
    def pieces(self) -> list[str]:
        """Surface text of each id in model text ("▁the" -> " the"); "" for control pieces and other bytes.

        Characters the vocabulary lacks are spelled by byte pieces. A printable ASCII one's byte is that
        character ("<0x5A>" -> "Z": the default model has no piece for "Z", "Q" or "X"); a byte of a UTF-8
        sequence is the character that stands for it in `escape_bytes` ("<0xC3>" "<0xA9>" spell "é").
        """
        out = []
        for i in range(self.vocab_size):
            if self.sp.is_control(i) or self.sp.is_unknown(i) or self.sp.is_byte(i):
                out.append("")
            else:
                out.append(self.sp.id_to_piece(i).replace(WORD_START, " "))
        spelled = set(out)
        for i in range(self.vocab_size):
            if self.sp.is_byte(i):
                byte = int(self.sp.id_to_piece(i)[1:-1], 16)  # "<0x5A>"
                if byte >= 0x80:
                    out[i] = escaped_byte(byte)
                elif chr(byte).isprintable() and chr(byte) not in spelled:
                    out[i] = chr(byte)
        return out

    def escape_bytes(self, text: str) -> str:
        """``text`` as the pieces spell it: a character no piece holds becomes its UTF-8 bytes, each as the lone
        surrogate that Python's "surrogateescape" gives it, so that byte pieces can spell "café" in a search."""
        return "".join(c if c.isascii() or c in self._piece_characters else "".join(map(escaped_byte, c.encode()))
                       for c in text)

    @cached_property
    def _piece_characters(self) -> frozenset[str]:
        return frozenset(c for piece in self.pieces for c in piece if not is_escaped_byte(c))

    @cached_property
    def word_start_ids(self) -> frozenset[int]:
        """Ids whose piece begins a new word (it starts with a space)."""
        return frozenset(i for i, p in enumerate(self.pieces) if p.startswith(" "))
