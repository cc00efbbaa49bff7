"""The live engine: text before the cursor -> word suggestions, at a per-keystroke cost independent of the document.

The model text (see tokenizer.py) is cut into segments, each a whitespace character followed by
the non-whitespace characters after it (" Hello", ",", no: " Hello," is one segment). Tokens never
cross a segment boundary, so the LSTM state after the first n segments depends only on those
segments. The engine keeps such states as snapshots, finds on each `set_text` how many segments
are unchanged, restores the nearest snapshot and feeds only the rest. The last, unfinished segment
(" wor", or " " after a space) is never fed: it constrains a small beam search that spells it out
and continues until the model ends the word. An empty partial word is next-word prediction.

The context is bounded so that no edit costs more than a few thousand characters of feeding, however
long the document: the state at segment n is what a new document's state becomes after the segments
from max(0, (n // CONTEXT_BLOCK - 1) * CONTEXT_BLOCK) to n, between one and two blocks of text. Two
such chains run side by side as a batch of two: the one in use, and the next, started at the current
block's first segment, which takes over at the next block boundary. Opening a long file, or editing
near its top and jumping back, feeds at most two blocks; a model this size uses far less context than
a block (docs/EXPERIMENTS.md).
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from .lstm import LSTMLanguageModel, State
from .modelfile import default_model_path, load_model_file
from .recency import Lexicon, RecencyCache
from .sentences import CLOSING, OPENING, capitalised, ends_sentence
from .tokenizer import NEWLINE, OTHER_SCRIPT_LETTER, SEGMENT, GrowingModelText, Tokenizer, is_escaped_byte, unescape_bytes
from .vocabulary import Vocabulary, apostrophe_dropped, capital_ending, offensive_stem

BOUNDARY = " " + NEWLINE  # characters that start a segment
MAX_WORD_CHARS = 32
# Words this much less likely than the best are noise ("very" -> "verybye"): show fewer rather than junk.
MAX_SCORE_GAP = math.log(1000)

# rest of the last segment -> (opening punctuation, partial word, closing punctuation); a word has no digits, as
# the search never spells one after the typed part ("abc123", "mp3" get no suggestions rather than themselves)
PARTIAL = re.compile(rf"^(?P<lead>[{re.escape(OPENING)}]*)(?P<word>(?:[^\W\d_](?:[^\W\d_]|['\-])*)?)(?P<close>[{re.escape(CLOSING)}]*)$")


@contextmanager
def single_steps():
    """Inference mode with oneDNN off: its LSTM kernel costs ~7 ms per single step here, the native one ~0.3 ms."""
    enabled = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        with torch.inference_mode():
            yield
    finally:
        torch.backends.mkldnn.enabled = enabled


def is_word_char(c: str) -> bool:
    """A letter, an apostrophe or a hyphen; or a byte of a UTF-8 letter that only byte pieces spell ("é")."""
    return c.isalpha() or c in "'-" or is_escaped_byte(c)


def last_word(text: str) -> str:
    """What follows the last space or newline of ``text``: its last word, with any punctuation around it."""
    return text[max(text.rfind(" "), text.rfind(NEWLINE)) + 1 :]


def written_in_another_script(word: str) -> bool:
    """Letters, all of another script than Latin (as the tokenizer reads them as "x"): after "مرحبا " or "話します "
    the model, which learned English only, offered "Park" and "Aj"."""
    letters = [c for c in word if c.isalpha()]
    return bool(letters) and all(map(OTHER_SCRIPT_LETTER.match, letters))


@dataclass(frozen=True)
class Context:
    """What the engine sees at the cursor: for traces, tests and the app's status."""

    previous_words: tuple[str, ...]  # the last two finished words before the cursor
    prefix: str  # the typed part of the current word ("" for next-word prediction)
    kind: str  # "completion", "prediction", or "none" after digits, URLs and other non-words


WORD = re.compile(r"[^\W\d_](?:[\w'-]*[^\W\d_])?")
LIST_MARKER = re.compile(r"\d+[.)]")  # a numbered list's item, not a sentence's end
# a sentence's end that a lower-case word often follows in well-cased text: '"Why?" he asked', "waited... and"
AMBIGUOUS_END = tuple(mark + quote for mark in "?!" for quote in "\"'”’") + ("...", "…")


@functools.lru_cache(maxsize=4)  # 0.35 ms for 1,000 characters: once a word, not once a keystroke
def shows_typing_without_capitals(text: str, from_start: bool) -> bool:
    """More of ``text``'s sentences and paragraphs begin in lower case than with a capital. A list item, an
    abbreviation ("Ph.D. said") or a line of code in well-cased text is outnumbered; "i" is no sign, as it may be a
    variable ("Set i to 0"). ``from_start``: ``text`` is the document's start, whose first word starts a paragraph."""
    cases = Counter()
    after_end = from_start
    for n, line in enumerate(text.split(NEWLINE)):
        words = line.split()[0 if n or from_start else 1 :]  # not a word cut short
        starts = [b for a, b in zip(words, words[1:]) if ends_sentence(a) and not a.endswith(AMBIGUOUS_END)
                  and not a[:1].isdigit() and "." not in a[:-1]]  # not after "1.", "Ph.D." or "www.example.com"
        cases.update("lower" if w.islower() else "upper" if w[:1].isupper() else "" for w in words[:after_end] + starts)
        after_end = not words or ends_sentence(words[-1])
    return cases["lower"] > cases["upper"]


@dataclass(frozen=True)
class Suggestion:
    word: str  # the whole word as it will read ("Thanks")
    insert: str  # exactly what to insert at the cursor ("anks ")
    score: float  # natural-log probability of the word, given the text before it
    kind: str  # "completion" (a partial word was typed) or "prediction" (next word)
    retyped: str = ""  # the typed part of the word with its first letter capitalised ("W" for "w" at a sentence's start):
    # accepting capitalises that letter first; "": the word goes on as typed


class Rows(NamedTuple):
    """A batch of beams' model rows with what the search reads of each, computed once per row and kept."""

    logprobs: torch.Tensor  # (B, V) next-token log-probabilities
    h: torch.Tensor  # (layers, B, hidden): the LSTM state after the beam
    c: torch.Tensor
    ends: torch.Tensor  # (B,) log-probability that the word ends here (a terminator token comes next)
    continuations: torch.Tensor  # (B, width) the best word-continuing tokens' log-probabilities, best first
    continuation_ids: torch.Tensor  # (B, width) and their token ids


class Predictor:
    """One model, one document's state, one thread. Call `set_text` on any edit, then `suggest`."""

    RECENT = 256  # keep a snapshot at each of the last RECENT segment boundaries (word-level edits)
    STRIDE = 64  # and at every STRIDE-th boundary before that (cursor jumps, edits far back)
    SNAPSHOT_CAP_BYTES = 32 * 2**20  # the stride doubles as needed to stay under this
    ROW_CACHE = 256  # model rows kept for the word being typed (~40 KB each): forgotten once past this
    # 6 beams, not 8: 0.04 points of keystroke savings for 6-9% off the slowest keystrokes (docs/EXPERIMENTS.md)
    BEAM_WIDTH = 6
    CONTEXT_BLOCK = 512  # segments (~2,700 characters of English): the model reads one to two blocks back
    NAME_LETTERS = 3  # a word typed in lower case may be searched for as a name from its third letter ("mon" -> Monday)
    LOOK_BACK = 1000  # characters read for signs of typing without capitals
    STARTS_KEPT = 20  # sentence starts typed, remembered for the same
    VOCABULARY_COMPLETIONS = 64  # vocabulary words scored for a typed letter no piece spells: one batch, ~5 ms

    def __init__(self, model: LSTMLanguageModel, tokenizer: Tokenizer, quantize: str | None = None, beam_width: int = BEAM_WIDTH,
                 recency: RecencyCache | None = None, lexicon: Lexicon | None = None, vocabulary: Vocabulary | None = None,
                 name: str = "model"):
        torch.set_num_threads(1)  # one small step at a time: more threads only add overhead
        model.eval()
        if quantize == "int8":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.LSTM, torch.nn.Linear}, dtype=torch.qint8)
        self.model, self.tokenizer, self.quantize, self.beam_width, self.name = model, tokenizer, quantize, beam_width, name
        self.recency = recency or RecencyCache()
        self.lexicon = lexicon  # the user's own writing, in a fine-tuned model's file
        self.vocabulary = vocabulary  # the words of the model's training text: None offers any word the model spells
        # a word begun in lower case is completed capitalised at a sentence's start ("w" -> What) and where it is a
        # name ("mon" -> Monday), as phone keyboards do, for people who type without Shift; accepting capitalises the
        # typed first letter (Suggestion.retyped)
        self.capitalise = True
        self._starts_typed: dict[int, bool] = {}  # a sentence's first word, by its segment: typed in lower case
        self._index_vocabulary()
        start = self._feed(self._zero_state(), tokenizer.encode_model_text(NEWLINE * 2))  # "a new document"
        self._start_state = self._pair(start, start)  # both chains start at segment 0
        self._state_bytes = sum(t.numel() * t.element_size() for t in self._start_state)
        self.reset()

    @classmethod
    def load(cls, path: str | Path | None = None, **kwargs) -> "Predictor":
        """Load a model file (the bundled default when ``path`` is None)."""
        path = Path(path) if path else default_model_path()
        loaded = load_model_file(path)
        return cls(loaded.model, loaded.tokenizer, loaded.quantize, lexicon=loaded.lexicon, vocabulary=loaded.vocabulary,
                   name=path.stem, **kwargs)

    # ------------------------------------------------------------ vocabulary tables

    def _index_vocabulary(self) -> None:
        pieces = self.tokenizer.pieces
        self._pieces = pieces
        self._by_piece: dict[str, list[int]] = {}
        for i, p in enumerate(pieces):
            if p:
                self._by_piece.setdefault(p, []).append(i)
        order = sorted((p, i) for i, p in enumerate(pieces) if p)
        self._sorted_pieces = [p for p, _ in order]
        self._sorted_ids = np.array([i for _, i in order], dtype=np.int64)
        # tokens that continue a word, and tokens that end one (whitespace, newline, punctuation)
        self._continuation_ids = torch.tensor([i for i, p in enumerate(pieces) if p and all(map(is_word_char, p))], dtype=torch.long)
        self._terminator_ids = torch.tensor([i for i, p in enumerate(pieces) if p and not p[0].isalnum() and not is_word_char(p[0])],
                                            dtype=torch.long)
        self._spelling_cache: dict[tuple[str, bool], torch.Tensor] = {}

    def _pieces_extending(self, need: str) -> np.ndarray:
        """Ids whose piece starts with ``need``."""
        lo = bisect.bisect_left(self._sorted_pieces, need)
        hi = bisect.bisect_left(self._sorted_pieces, need + "\U0010ffff")
        return self._sorted_ids[lo:hi]

    # ------------------------------------------------------------ running the model

    def _zero_state(self) -> State:
        return self.model.init_state(1)

    def _step(self, ids: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """ids (B, T) -> log-probabilities of the next token after the last one (B, V), new state."""
        with single_steps():
            logits, state = self.model(ids, state)
            return torch.log_softmax(logits[:, -1].float(), dim=-1), state

    def _feed(self, state: State, ids: list[int]) -> State:
        """The same ids to every chain of ``state``."""
        if not ids:
            return state
        with single_steps():
            return self.model.advance(torch.tensor([ids] * state[0].shape[1], dtype=torch.long), state)

    def _feed_chains(self, state: State, ids: list[int], same_chains: bool, in_use: State | None = None) -> State:
        """Feed both chains. In the first block (``same_chains``: both started at segment 0) one stands for both,
        30% less work. ``in_use``: the chain in use after ``ids``, when the search has stepped it already."""
        if in_use is None:
            if not same_chains:
                return self._feed(state, ids)
            in_use = self._feed(self._in_use(state), ids)
        # a new tensor, not a view: a snapshot must not hold the search's whole batch
        return self._pair(in_use, in_use if same_chains else self._feed(self._following(state), ids))

    @staticmethod
    def _pair(in_use: State, following: State) -> State:
        """Two one-chain states as one batch: the chain the suggestions use, and the one that takes over next.

        Under int8 dynamic quantization a batch shares one activation scale, so the chain in use carries
        quantization noise that depends on the other, as feeding text in different chunks already does:
        the defining property holds exactly in float (tested), up to that noise in int8.
        """
        return torch.cat((in_use[0], following[0]), dim=1), torch.cat((in_use[1], following[1]), dim=1)

    @staticmethod
    def _in_use(state: State) -> State:
        return state[0][:, :1], state[1][:, :1]

    @staticmethod
    def _following(state: State) -> State:
        return state[0][:, 1:], state[1][:, 1:]

    def _next_logprobs(self, state: State) -> torch.Tensor:
        """Distribution of the next token from the chain in use: the output layers applied to the top layer's h."""
        with single_steps():
            logits = self.model.output(self.model.projection(state[0][-1, :1]))
            return torch.log_softmax(logits.float(), dim=-1)

    def _summarise(self, logprobs: torch.Tensor, state: State, width: int) -> Rows:
        """What the search reads of each row, once per row: a row is kept and read again on later keystrokes."""
        ends = torch.logsumexp(logprobs.index_select(1, self._terminator_ids), dim=1)
        best = torch.topk(logprobs.index_select(1, self._continuation_ids), min(width, len(self._continuation_ids)), dim=1)
        ids = self._continuation_ids.index_select(0, best.indices.flatten()).view_as(best.indices)
        return Rows(logprobs, state[0], state[1], ends, best.values, ids)

    # ------------------------------------------------------------ context tracking

    def reset(self) -> None:
        """Forget every saved state (a new document, or a benchmark of recomputing from scratch)."""
        self._known, self._segments, self._ends = "", [], []
        self._ids: list[list[int] | None] = []  # each segment's token ids, once fed
        self._model_text = GrowingModelText()
        self._snapshots: dict[int, State] = {0: self._start_state}
        self._snapshot_at = [0]  # the keys of _snapshots in order: a keystroke's lookups bisect, never scan them
        self._current: tuple[int, State] = (0, self._start_state)
        self._stride = self.STRIDE
        self._partial = " "
        self._apostrophe = "'"  # or "’" where the text before the cursor uses those
        self._cursor_rows: tuple[State, int, Rows] | None = None  # for (state, width)
        self._rows: dict[tuple[int, ...], Rows] = {}  # one row each, by token path since the cursor's state
        self._rows_for: State | None = None
        self._rows_width = 0
        self.recency.clear()

    def set_text(self, text: str) -> None:
        """The text before the cursor changed (typing, deleting, pasting, jumping): bring the state up to date."""
        recent = text[-2000:]  # the model reads straight apostrophes; suggestions use the document's kind
        self._apostrophe = "\u2019" if recent.count("\u2019") > recent.count("'") else "'"
        mt = self._model_text(text)
        cut = max(mt.rfind(" "), mt.rfind(NEWLINE))  # start of the unfinished segment
        committed, self._partial = mt[:cut], mt[cut:]

        # how much of the known text is unchanged
        known = self._known
        if committed.startswith(known):
            lcp = len(known)
        elif known.startswith(committed):
            lcp = len(committed)
        else:
            lo, hi = 0, min(len(known), len(committed))
            while lo < hi:  # longest common prefix by bisection: log(n) memcmps, not a Python loop over characters
                mid = (lo + hi + 1) // 2
                if committed[:mid] == known[:mid]:
                    lo = mid
                else:
                    hi = mid - 1
            lcp = lo
        keep = bisect.bisect_right(self._ends, lcp)
        if keep and self._ends[keep - 1] == lcp and lcp < len(committed) and committed[lcp] not in BOUNDARY:
            keep -= 1  # that segment goes on in the new text
        start = self._ends[keep - 1] if keep else 0
        tail = SEGMENT.findall(committed, start)
        if tail:  # the text diverges from what is known: forget what follows
            del self._segments[keep:], self._ids[keep:], self._ends[keep:]
            later = bisect.bisect_right(self._snapshot_at, keep)
            for i in self._snapshot_at[later:]:
                del self._snapshots[i]
            del self._snapshot_at[later:]
            self._segments.extend(tail)
            self._ids.extend([None] * len(tail))  # tokenized when fed: a long document's start never is
            end = start
            for seg in tail:
                end += len(seg)
                self._ends.append(end)
            self._known = committed
        n = keep + len(tail)

        # the nearest valid state at or before n, then feed the rest
        base = self._snapshot_at[bisect.bisect_right(self._snapshot_at, n) - 1]
        current_n, current_state = self._current
        if base < current_n <= min(n, keep if tail else n):
            base, state = current_n, current_state
        else:
            state = self._snapshots[base]
        # never more than two blocks: the chain in use at n starts one block before n's block
        takeover = n // self.CONTEXT_BLOCK * self.CONTEXT_BLOCK
        valid_from = base
        if base < takeover - self.CONTEXT_BLOCK:  # both chains start there; the one in use before takeover is not fed
            base, state, valid_from = takeover - self.CONTEXT_BLOCK, self._start_state, takeover
        self._current = (n, self._advance(base, n, state, valid_from))
        self._prune_snapshots()

    def _keeps_snapshot(self, i: int) -> bool:
        return i % self._stride == 0 or i > len(self._segments) - self.RECENT

    def _advance(self, base: int, n: int, state: State, valid_from: int) -> State:
        """Feed segments base..n, one model call per run of segments between snapshot points and block boundaries.

        Snapshots are kept from ``valid_from`` on, where both chains of ``state`` are the right ones.
        """
        unknown = [k for k in range(base, n) if self._ids[k] is None]
        for k, ids in zip(unknown, self.tokenizer.encode_segments([self._segments[k] for k in unknown])):
            self._ids[k] = ids
        i = base
        while i < n:
            j = i + 1
            while j < n and not self._keeps_snapshot(j) and j % self.CONTEXT_BLOCK:
                j += 1
            ids = [t for segment in self._ids[i:j] for t in segment]
            row = self._searched_row(state, ids)
            state = self._feed_chains(state, ids, j <= self.CONTEXT_BLOCK, None if row is None else (row.h, row.c))
            if row is not None:  # the row also gives the cursor's next-token distribution
                self._cursor_rows = (state, self._rows_width, row)
            if j % self.CONTEXT_BLOCK == 0:  # the following chain takes over, and a new one starts here
                state = self._pair(self._following(state), self._in_use(self._start_state))
            if j >= valid_from and self._keeps_snapshot(j):
                if j not in self._snapshots:
                    bisect.insort(self._snapshot_at, j)
                self._snapshots[j] = state
            i = j
        return state

    def _searched_row(self, state: State, ids: list[int]) -> Rows | None:
        """The search's row after ``ids`` if the last search already stepped them from ``state``, else None.

        Finishing a word (typing the space after it) feeds the word's tokens, which the search of the
        keystroke before has stepped as one of its beams: its row gives the chain in use and the cursor's
        next-token distribution, so the space costs no model step in the first block, and one step of the
        following chain after it.
        """
        return self._rows.get(tuple(ids)) if state is self._rows_for else None

    def _prune_snapshots(self) -> None:
        if (len(self._snapshots) < 2 * self.RECENT + len(self._segments) // self._stride
                and len(self._snapshots) * self._state_bytes <= self.SNAPSHOT_CAP_BYTES):
            return
        # + 1: the snapshot at 0 is always kept; a stride past the document keeps only the recent ones
        while ((self.RECENT + 1 + len(self._segments) // self._stride) * self._state_bytes > self.SNAPSHOT_CAP_BYTES
               and self._stride <= len(self._segments)):
            self._stride *= 2
        self._snapshots = {i: s for i, s in self._snapshots.items() if i == 0 or self._keeps_snapshot(i)}
        self._snapshot_at = sorted(self._snapshots)

    def state_bytes(self) -> int:
        """Memory held for saved LSTM states and the current word's model rows (both capped)."""
        row_bytes = sum(t.numel() * t.element_size() for t in next(iter(self._rows.values()), ()))
        return len(self._snapshots) * self._state_bytes + len(self._rows) * row_bytes

    # ------------------------------------------------------------ suggestions

    def _constraint(self) -> tuple[str, str, str, str] | None:
        """(text the search must spell first, typed part of the word, kind, start) or None for non-words.

        start: "line" at the start of the document or of a line, "sentence" after ".", "!" or "?", else "".
        """
        rest = self._partial[1:]
        m = PARTIAL.match(rest)
        if not m or len(rest) > MAX_WORD_CHARS:
            return None  # digits, URLs, e-mail addresses, code: no suggestions rather than junk
        word, close = m["word"], m["close"]
        before = self._recent_known().rstrip(" ")
        if written_in_another_script(word or last_word(before)):
            return None  # the model learned English only; spelling "東京" costs ~17 ms a keystroke for nothing
        if close:
            if not word or any(c in "'-" for c in word[-1:]):
                return None
            # a finished word with punctuation after it: predict the next word, after a space
            return self._partial + " ", "", "prediction", "sentence" if ends_sentence(word + close) else ""
        at_start = not before.strip() and not self._known[: self._current_end()].strip()  # all of it only when its end is blank
        if at_start or before.endswith(NEWLINE):
            start = "line"
        else:
            start = "sentence" if ends_sentence(last_word(before)) else ""
        return self._partial, word, "completion" if word else "prediction", start

    def context(self) -> Context:
        constraint = self._constraint()
        before = self._recent_known()
        if constraint and constraint[2] == "prediction" and constraint[0] != self._partial:
            before += self._partial  # "Hello world," -> the finished word counts as previous
        previous = tuple(WORD.findall(before)[-2:])
        if constraint is None:
            return Context(previous, "", "none")
        return Context(previous, constraint[1], constraint[2])

    def _recent_known(self) -> str:
        """The last 200 committed characters before the cursor: all that looking back needs, and a keystroke never copies the document."""
        end = self._current_end()
        return self._known[max(0, end - 200) : end]

    def _current_end(self) -> int:
        n = self._current[0]
        return self._ends[n - 1] if n else 0

    def suggest(self, k: int = 3) -> list[Suggestion]:
        """Up to k distinct whole words for the cursor position, best first."""
        constraint = self._constraint()
        if constraint is None or k <= 0:
            return []
        spell, typed, kind, start = constraint
        self.recency.update(self._segments, self._current[0])
        previous = self.recency.previous_word() if self._partial == " " + typed else None
        # made-up words are dropped after the search, not inside it: there it would spell ever longer words to find
        # k real ones (p99 per keystroke 35 -> 124 ms on the dev files)
        # one more when a word is typed: the word as typed is never shown (accepting it saves nothing), but
        # it still sets the bar that others must reach ("much" keeps "muchly" out)
        escaped_typed = self.tokenizer.escape_bytes(typed)
        searched = {w: s for w, s in self._search(self.tokenizer.escape_bytes(spell), escaped_typed, k + bool(typed)).items()
                    if self._may_offer(w)}
        if escaped_typed != typed and self.vocabulary is not None:
            # a letter only byte pieces spell ("é"): the model gives their few bytes so little that the search,
            # wide or narrow, ends in "réd..." and never reaches "résumé"; the vocabulary's words are scored instead
            searched = self._scored_words(spell[: len(spell) - len(typed)], self._vocabulary_completions(typed)) | searched
        if start == "line" and not (len(typed) > 1 and typed.isupper()):
            searched = {w: s for w, s in searched.items() if not self._shouted_by_the_training_text(w)}
        words = self._with_counts(searched, typed, previous)
        at_start = kind == "completion" and self._at_sentence_start(start)
        if at_start and typed[:1].isalpha():
            self._note_sentence_start(typed[:1].islower())
        capitalising = self._capitalising(typed, kind)
        sentence_start = capitalising and at_start
        without_capitals = capitalising and self._types_without_capitals()
        if sentence_start or (without_capitals and len(typed) >= self.NAME_LETTERS):
            for w, s in self._typed_capitalised(spell, typed, previous, k, names_only=not sentence_start).items():
                words[w] = float(np.logaddexp(words[w], s)) if w in words else s
        loop = self.recency.loop_word() if previous is not None else None
        if loop:  # "as soon as s": not "soon" (the model and the cache both like it); no cost on the dev files
            words.pop(loop, None)
        words = self._one_per_capitalisation(words, capitalise=kind == "prediction" and bool(start))
        ranked = sorted(words.items(), key=lambda ws: (-ws[1], ws[0]))
        typed_name = without_capitals and self._is_name(typed)  # "i" -> I, "tom" -> Tom: the one change left to make
        ranked = [(w, s) for w, s in ranked if s >= ranked[0][1] - MAX_SCORE_GAP and (w != typed or typed_name)][:k]
        prefix = spell[len(self._partial):]  # a space the user has not typed yet
        suggestions = []
        for w, s in ranked:
            # searched as typed, so the document's and the user's own words count as ever, and capitalised after
            retyped = self._retyped(w, typed, sentence_start, without_capitals) if capitalising else ""
            w = (retyped[:1] + w[1:] if retyped else w).replace("'", self._apostrophe)  # "don’t" in a document of curly ones
            suggestions.append(Suggestion(w, prefix + w[len(typed):] + " ", float(s), kind, retyped))
        return suggestions

    def _capitalising(self, typed: str, kind: str) -> bool:
        """A word typed in lower case, which may be offered capitalised (`Suggestion.retyped`)."""
        return self.capitalise and kind == "completion" and typed.islower() and len(typed[:1].upper()) == 1  # not "ß" -> "SS"

    def _with_counts(self, words: dict[str, float], typed: str, previous: str | None) -> dict[str, float]:
        """The model's words mixed with the document's (recency cache) and the user's (lexicon) counts."""
        words = self.recency.mix(words, typed, previous, self._in_vocabulary)
        return self.lexicon.mix(words, typed, previous, self._in_vocabulary) if self.lexicon else words

    def _retyped(self, word: str, typed: str, sentence_start: bool, without_capitals: bool) -> str:
        """``typed`` with its first letter capitalised where ``word``, begun in lower case, is offered capitalised: at a
        sentence's start, or a name ("mon" -> Monday) for someone who types without capitals; "" where it goes on as
        typed. "iPhone" stays as it is."""
        if any(c.isupper() for c in word[1:]) or not (sentence_start or (without_capitals and self._is_name(word))):
            return ""
        return capitalised(typed)

    def _note_sentence_start(self, in_lower_case: bool) -> None:
        """Remember how the user began the word at a sentence's start, by the word: accepting "What" for "w" leaves a
        text that looks well-cased, but the user still types without capitals."""
        self._starts_typed[self._current[0]] = in_lower_case
        while len(self._starts_typed) > self.STARTS_KEPT:
            del self._starts_typed[next(iter(self._starts_typed))]

    def _types_without_capitals(self) -> bool:
        """Only someone who types without capitals is offered names for words typed in lower case: others would pay for
        the second search (`_typed_capitalised`), 70% more time a keystroke, and see "Jack" where they type "jack". Most
        of the last sentence starts they typed, or of the text before the cursor, show it."""
        typed = Counter(self._starts_typed.values())
        if typed[True] > typed[False]:
            return True
        end = self._current_end()
        return shows_typing_without_capitals(self._known[max(0, end - self.LOOK_BACK) : end], end <= self.LOOK_BACK)

    def _typed_capitalised(self, spell: str, typed: str, previous: str | None, k: int, names_only: bool) -> dict[str, float]:
        """The words that complete ``typed`` (in lower case) as if it were typed capitalised, keyed in lower case as the
        search's words are: only names, except at a sentence's start. Spelled in lower case, "satur" gave Saturn, not
        Saturday, the user's "Ravenhill" never came, and at a sentence's start "can" gave Canada before Can't."""
        capital = capitalised(typed)
        escaped = self.tokenizer.escape_bytes(capital)
        found = self._search(self.tokenizer.escape_bytes(spell[: len(spell) - len(typed)]) + escaped, escaped, k)
        words = self._with_counts({w: s for w, s in found.items() if self._may_offer(w)}, capital, previous)
        return {w.lower(): s for w, s in words.items()
                if not any(c.isupper() for c in w[1:]) and (not names_only or self._is_name(w.lower()))}

    def _at_sentence_start(self, start: str) -> bool:
        """A sentence's start, or a line's after a blank line or a finished sentence ("Ingredients:" then "flour", or
        code, or a numbered list's item, is not one). Not after '"Why?"' or an ellipsis, which a lower-case word often
        follows ('"Why?" she asked')."""
        if not start:
            return False  # most keystrokes: nothing to read
        recent = self._recent_known()
        if start == "line":
            lines = recent.split(NEWLINE)
            line_before = lines[-2] if len(lines) > 1 else ""
            return not line_before.strip() or ends_sentence(last_word(line_before.rstrip(" ")))
        list_marker = LIST_MARKER.fullmatch(recent[recent.rfind(NEWLINE) + 1 :].strip())  # "2. buy eggs" after "1. buy milk"
        return not last_word(recent.rstrip(" ")).endswith(AMBIGUOUS_END) and not list_marker

    def _is_name(self, word: str) -> bool:
        """``word`` (in lower case) is written with a capital inside sentences: by the user, after another word and never
        in lower case ("met Ravenhill", "met Mark"; "Book fairs" starts a sentence), or in the training text ("monday")."""
        if not self._written_by_user(word) and any(counts is not None and counts.follows_a_word(capitalised(word))
                                                   for counts in (self.recency, self.lexicon)):
            return True
        return self.vocabulary is not None and self.vocabulary.is_capitalised(word)

    def _search(self, spell: str, typed: str, k: int) -> dict[str, float]:
        """Beam search over tokens: spell ``spell``, then word characters until the model ends the word.

        ``spell`` and ``typed`` as `Tokenizer.escape_bytes` writes them. Returns word -> log-probability (summed over the tokenizations that reach it), where the
        probability of a word includes the model's probability that it ends there.
        """
        width = max(self.beam_width, k)  # the same beam for any k up to beam_width (only the early stop depends on k)
        state = self._current[1]
        if self._rows_for is not state or len(self._rows) > self.ROW_CACHE or self._rows_width != width:
            self._rows, self._rows_for, self._rows_width = {}, state, width
        rows = self._cursor(width)
        beams = [""]  # text generated by each beam
        scores = torch.zeros(1)
        words: dict[str, float] = {}
        paths = [()]  # the tokens of each beam since the cursor's state: what its model rows depend on
        for _ in range(len(spell) + MAX_WORD_CHARS):
            spelling = [b for b, text in enumerate(beams) if len(text) < len(spell)]
            in_word = [b for b, text in enumerate(beams) if len(text) >= len(spell)]
            cand_scores, cand_beam, cand_token = [], [], []
            for b in spelling:  # few beams, each with its own allowed tokens
                ids = self._spelling_ids(spell[len(beams[b]):], need_letter=not typed)
                if len(ids):
                    top = torch.topk(scores[b] + rows.logprobs[b].index_select(0, ids), min(width, len(ids)))
                    cand_scores.append(top.values)
                    cand_token.append(ids.index_select(0, top.indices))
                    cand_beam.append(torch.full((len(top.indices),), b))
            if in_word:  # all beams inside the word at once: end it here, or continue it
                # index_select throughout, not fancy indexing (tensor[indices]): 3-5x less per call here
                index = torch.tensor(in_word)
                ends = (scores + rows.ends).index_select(0, index)
                for b, end in zip(in_word, ends.tolist()):
                    word = unescape_bytes(typed + beams[b][len(spell):])  # None: a UTF-8 sequence cut short
                    if word and word[-1] not in "'-" and all(map(is_word_char, word)):  # bytes may spell "—"
                        words[word] = float(np.logaddexp(words[word], end)) if word in words else end
                # each beam's best continuations hold the best continuations of all beams
                grown = (scores[:, None] + rows.continuations).index_select(0, index)
                top = torch.topk(grown.flatten(), min(width, grown.numel()))
                cand_scores.append(top.values)
                cand_token.append(rows.continuation_ids.index_select(0, index).flatten().index_select(0, top.indices))
                cand_beam.append(index.index_select(0, top.indices // grown.shape[1]))
            if not cand_scores:
                break
            all_scores = torch.cat(cand_scores)
            top = torch.topk(all_scores, min(width, len(all_scores)))
            # extending a beam only lowers its score, so beams below what could be shown are dropped (not
            # exact: a word sums its tokenizations, and a dropped one's sliver is lost; eval moves <= 0.01 points)
            n = int((top.values >= self._shown_above(words, k)).sum())
            if not n:
                break
            chosen = top.indices[:n]
            parents = torch.cat(cand_beam).index_select(0, chosen)
            tokens = torch.cat(cand_token).index_select(0, chosen)
            chosen_pairs = list(zip(parents.tolist(), tokens.tolist()))
            beams = [beams[p] + self._pieces[t] for p, t in chosen_pairs]
            paths = [paths[p] + (t,) for p, t in chosen_pairs]
            scores = top.values[:n]
            rows = self._rows_after(paths, parents, tokens, rows, width)
        return words

    def _vocabulary_completions(self, typed: str) -> list[str]:
        """The vocabulary's words that complete ``typed``, capitalised as it is, that may be offered."""
        words = self.vocabulary.starting_with(typed.lower(), self.VOCABULARY_COMPLETIONS)
        if typed[:1].isupper():
            words = [capitalised(w) for w in words]
        return [w for w in words if w.startswith(typed) and w != typed and self._may_offer(w)]

    def _scored_words(self, lead: str, words: list[str]) -> dict[str, float]:
        """Each word's log-probability after the cursor's state, as the search scores it: its tokens (after
        ``lead``, the segment's text before the word), then the end of the word. One batch for all."""
        if not words:
            return {}
        in_use = self._in_use(self._current[1])
        encoded = [self.tokenizer.encode_model_text(lead + w) for w in words]
        longest = max(map(len, encoded))
        ids = torch.tensor([e + [0] * (longest - len(e)) for e in encoded])  # padding after a word is never read
        batch = tuple(s.expand(-1, len(words), -1).contiguous() for s in in_use)
        with single_steps():
            logits, _ = self.model(ids, batch)
        after = torch.log_softmax(logits.float(), dim=-1)  # (words, tokens, vocabulary): after each token
        first = self._next_logprobs(in_use)[0]
        scores = {}
        for b, (word, tokens) in enumerate(zip(words, encoded)):
            score = first[tokens[0]] + sum(after[b, t - 1, tokens[t]] for t in range(1, len(tokens)))
            scores[word] = float(score + torch.logsumexp(after[b, len(tokens) - 1].index_select(0, self._terminator_ids), 0))
        return scores

    def _rows_after(self, paths: list[tuple[int, ...]], parents: torch.Tensor, tokens: torch.Tensor, rows: Rows, width: int) -> Rows:
        """The rows of the beams ``paths`` (``parents``' rows stepped with ``tokens``), stepping only the rows not seen yet.

        The next keystroke in a word re-spells mostly the same beams, so every row stepped since the
        cursor's state is kept by its path: typing the bench sample steps 33% fewer rows and 17% fewer
        batches than a fresh search per keystroke. Under int8 dynamic quantization a batch shares one
        activation scale, so a kept row may differ from a fresh one by quantization noise, as text fed
        in different chunks already does.
        """
        missing = [i for i, path in enumerate(paths) if path not in self._rows]
        if missing:
            index = torch.tensor(missing)
            parents = parents.index_select(0, index)
            logprobs, state = self._step(tokens.index_select(0, index).view(-1, 1), (rows.h.index_select(1, parents), rows.c.index_select(1, parents)))
            stepped = self._summarise(logprobs, state, width)
            for j, i in enumerate(missing):
                self._rows[paths[i]] = Rows(*(t[:, j : j + 1] if t.dim() == 3 else t[j : j + 1] for t in stepped))
            if len(missing) == len(paths):
                return stepped  # all stepped, in order
        kept = [self._rows[path] for path in paths]
        return Rows(*(torch.cat(field, dim=1 if field[0].dim() == 3 else 0) for field in zip(*kept)))

    @staticmethod
    def _one_per_capitalisation(words: dict[str, float], capitalise: bool) -> dict[str, float]:
        """"century" and "Century" as one suggestion, their probabilities summed: shown as the likelier, or
        capitalised at a sentence's start. Two slots for one word hid a third ("century | of | Century").
        Words in capitals stay apart ("US" and "us")."""
        merged: dict[str, float] = {}
        shown: dict[str, str] = {}  # the word with a lower-case first letter -> the form shown
        for w, s in sorted(words.items(), key=lambda ws: (-ws[1], ws[0])):
            key = w[:1].lower() + w[1:]
            form = shown.setdefault(key, capitalised(key) if capitalise else w)
            merged[form] = float(np.logaddexp(merged[form], s)) if form in merged else s
        return merged

    def _in_vocabulary(self, word: str) -> bool:
        return self.vocabulary is not None and word in self.vocabulary

    def _may_offer(self, word: str) -> bool:
        """A real word: known from the training text, or typed in this document or the user's own writing;
        a slur or strong profanity, or a contraction without its apostrophe ("dont"), only if the user wrote it.

        Left to itself the model also spells words it has never seen ("seriess", "identifys"): 4.8% of
        the suggestions shown while typing the dev files (docs/EXPERIMENTS.md).
        """
        stem = offensive_stem(word)
        if stem and not (self._users_word(word) or self._users_word(stem)):  # "Dick's" once "Dick" was written
            return False
        if apostrophe_dropped(word) and not self._users_word(word):
            return False
        if capital_ending(word) and not self._written_by_user(word):
            return False
        return self.vocabulary is None or self.vocabulary.knows(word, self._users_word)

    def _shouted_by_the_training_text(self, word: str) -> bool:
        """A word in capitals that the user has not written so: at a line's start the model offers the speaker
        names and headings of the plays and books it learned from ("AMORY", "THE") before "Thank" or "I"."""
        return len(word) > 1 and word.isupper() and not self._written_by_user(word)

    def _users_word(self, word: str) -> bool:
        """In the recency cache or the lexicon, as typed, lowercased or capitalised: "Petitioning" at a sentence's start makes "petitioning" a word."""
        return any(map(self._written_by_user, {word, word.lower(), capitalised(word)}))

    def _written_by_user(self, word: str) -> bool:
        """In the recency cache or the lexicon exactly as ``word`` is written."""
        return any(counts is not None and word in counts for counts in (self.recency, self.lexicon))

    @staticmethod
    def _shown_above(words: dict[str, float], k: int) -> float:
        """The score a new word must reach to be shown: the k-th best so far's, and within MAX_SCORE_GAP of the best.

        Beams below it are dropped (extending a beam only lowers its score), so once one word dominates
        the search stops spelling ever longer, hopeless words to find k: while typing the bench sample,
        8% fewer model steps and then 23% fewer rows in the remaining steps. A word reached by several
        tokenizations may lose the probability of a dropped one, and rarely a third word near the gap.
        """
        best = sorted(words.values(), reverse=True)
        if not best:
            return -math.inf
        return max(best[0] - MAX_SCORE_GAP, best[k - 1] if len(best) >= k else -math.inf)

    def _cursor(self, width: int) -> Rows:
        """The row at the cursor's last segment boundary, kept while typing inside a word."""
        state = self._current[1]
        if self._cursor_rows is None or self._cursor_rows[0] is not state or self._cursor_rows[1] != width:
            self._cursor_rows = (state, width, self._summarise(self._next_logprobs(state), self._in_use(state), width))
        return self._cursor_rows[2]

    def _spelling_ids(self, need: str, need_letter: bool) -> torch.Tensor:
        """Tokens that spell the start of ``need``, or all of it and then only word characters (cached)."""
        key = (need, need_letter)
        if key not in self._spelling_cache:
            if len(self._spelling_cache) > 4096:
                self._spelling_cache.clear()
            self._spelling_cache[key] = self._find_spelling_ids(need, need_letter)
        return self._spelling_cache[key]

    def _find_spelling_ids(self, need: str, need_letter: bool) -> torch.Tensor:
        shorter = [i for j in range(1, len(need)) for i in self._by_piece.get(need[:j], ())]
        longer = [int(i) for i in self._pieces_extending(need)]
        ok_longer = [i for i in longer if self._spells_word_after(self._pieces[i], len(need), need_letter)]
        return torch.tensor(shorter + ok_longer, dtype=torch.long)

    @staticmethod
    def _spells_word_after(piece: str, start: int, need_letter: bool) -> bool:
        tail = piece[start:]
        return not tail or (all(map(is_word_char, tail)) and (not need_letter or tail[0] not in "'-"))
