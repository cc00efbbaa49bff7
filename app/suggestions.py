"""Live suggestions for one editor: asks the service on every edit or cursor move, shows and accepts.

Key handling is a small dispatch table in an event filter on the editor (the shape of
Frescobaldi's completer): Tab, Alt+1..5, Esc, Ctrl+Space, Backspace-after-accept, and a space, punctuation,
a closing quote or Enter typed right after an auto-inserted space are handled here; everything else goes to
the editor untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QTextCursor

from .editor import Editor
from .service import PredictionService
from .settings import Settings
from .suggestion_bar import ACCEPT_MODIFIER, SHOW_MODIFIER, SuggestionBar

SMART_PUNCTUATION = ".,;:!?)]}\u201d\u2019\u00bb"  # typed right after an auto-inserted space, it takes the space's place
NO_SPACE_BEFORE = SMART_PUNCTUATION + "\"'"  # accepting right before one of these adds no space
WORD_JOINERS = "'\u2019-"  # inside words: "don't", "well-known"; right after a word (’ after "?" closes a quote)
SPACE = " "  # typed right after an auto-inserted space, it is absorbed: habit must not make a double space
NO_MODIFIER = Qt.KeyboardModifier.NoModifier


@dataclass(frozen=True)
class Acceptance:
    """The last accepted suggestion, while nothing else has happened since: Backspace takes it back."""

    start: int  # document positions (UTF-16 units, as Qt counts) of the inserted text
    end: int
    retyped: str = ""  # the typed letters a capitalised word replaced ("w" for What): put back with the take-back


@dataclass(frozen=True)
class CountedEdit:
    """An edit of ours that changed the accepted counts (an acceptance, its Backspace), and where it is on the undo stack."""

    undo_steps: int  # the document's availableUndoSteps() right after the edit
    chars: int
    accepts: int


SENT_CHUNK = 32_768  # characters: see tail_start
MAX_NEW_WORD = 32  # characters: a longer "word" typed in front of another is not looked through


def tail_start(position: int, previous: int) -> int:
    """Where the text sent for a cursor at ``position`` starts, given where it started last time.

    The engine reads at most ~5,400 characters back and its recency cache 8,000, while copying all of a long
    document on every keystroke cost the window's thread 15 ms at 3.6 MB. So the text sent starts at a chunk
    boundary, and stays there while it lies half a chunk to three chunks before the cursor (or is the
    document's start): each move costs the engine a re-read of two of its blocks (~250 ms, in its own
    thread), so typing moves it once per two chunks, and a cursor going back and forth does not move it.
    """
    if previous <= position <= previous + 3 * SENT_CHUNK and (previous == 0 or position - previous >= SENT_CHUNK // 2):
        return previous
    return max(0, (position // SENT_CHUNK - 1) * SENT_CHUNK)


def is_shortcut(modifiers: Qt.KeyboardModifier) -> bool:
    """Ctrl (Cmd on macOS) or Meta without Alt: a shortcut, though its event may carry its letter (Ctrl+Z gives
    "z" in tests, Cmd+Z may on macOS) and must not count as typing. AltGr, which types, comes as Ctrl+Alt on Windows."""
    held = modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.MetaModifier)
    return bool(held) and not modifiers & Qt.KeyboardModifier.AltModifier


def text_before(cursor: QTextCursor, start: int) -> str:
    """The text from ``start`` to ``cursor``, with newlines as "\\n"."""
    position = cursor.position()
    if "\udc00" <= cursor.document().characterAt(start) <= "\udfff":
        start += 1  # not between the halves of an emoji
    c = QTextCursor(cursor.document())
    c.setPosition(start)
    c.setPosition(position, QTextCursor.MoveMode.KeepAnchor)
    return c.selectedText().replace("\u2029", "\n")


class SuggestionController(QObject):
    stats_changed = Signal()  # saved share or latency changed

    def __init__(self, editor: Editor, bar: SuggestionBar, service: PredictionService, settings: Settings):
        super().__init__(editor)
        self.editor, self.bar, self.service, self.settings = editor, bar, service, settings
        self.suggestions: list = []  # shown now, best first
        self.latency_ms: float | None = None
        self.typed_keys = 0  # keys the user pressed to type this session, a space we absorbed too
        self.typed_chars = 0  # characters those keys left in the text
        self.accepted_chars = 0  # characters inserted by accepted suggestions, less those taken back
        self.accepts = 0  # keys or clicks that accepted them, less those taken back
        self._done_edits: list[CountedEdit] = []  # counted, oldest first (see _follow_undo_stack)
        self._undone_edits: list[CountedEdit] = []  # undone, the latest undone last: the next Redo redoes it
        self.seq = 0  # number of the latest request; answers to others are stale
        self._hidden = False  # Esc: hide until the next edit or cursor move
        self._fresh = False  # the shown suggestions are for the text as it is now
        self._inserting = False  # our own edit: keep the acceptance state
        self._acceptance: Acceptance | None = None
        self._auto_space_end: int | None = None  # cursor position right after a space we inserted, or stepped over
        self._space_is_ours = False  # that space was inserted, not the user's own space before the next word
        self._sent_start = 0  # where the text last sent to the engine started (see tail_start)
        # a new word typed in front of another: where it starts, and where the other now starts (see _typing_a_new_word)
        self._new_word_start = QTextCursor(editor.document())
        self._new_word_start.setKeepPositionOnInsert(True)
        self._next_word_start = QTextCursor(editor.document())
        self._keys = {(Qt.Key.Key_Tab, NO_MODIFIER): self._accept_with_tab,
                      (Qt.Key.Key_Escape, NO_MODIFIER): self.hide,
                      (Qt.Key.Key_Space, SHOW_MODIFIER): self.show_again,
                      (Qt.Key.Key_Backspace, NO_MODIFIER): self.undo_acceptance,
                      (Qt.Key.Key_Return, NO_MODIFIER): self._newline_after_word,
                      (Qt.Key.Key_Enter, NO_MODIFIER): self._newline_after_word}
        # every digit: Alt+6 (no slot has it) typed "6" into the text
        digits = (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_5, Qt.Key.Key_6, Qt.Key.Key_7,
                  Qt.Key.Key_8, Qt.Key.Key_9, Qt.Key.Key_0)
        for i, key in enumerate(digits):
            self._keys[(key, ACCEPT_MODIFIER)] = lambda i=i: self._accept_slot(i)

        # one request per event-loop turn, however many signals an edit fires
        self._request_timer = QTimer(self, singleShot=True, interval=0)
        self._request_timer.timeout.connect(self._send_request)
        editor.textChanged.connect(self._on_edit)
        editor.cursorPositionChanged.connect(self._on_edit)
        editor.selectionChanged.connect(self._on_edit)  # select-all at the end moves no cursor, yet Backspace must not undo an acceptance
        editor.installEventFilter(self)
        editor.document().undoCommandAdded.connect(self._undone_edits.clear)  # a new edit: nothing can be redone
        editor.document().contentsChanged.connect(self._follow_undo_stack)
        bar.clicked.connect(self.accept)
        service.suggestions_ready.connect(self._on_suggestions)
        service.model_ready.connect(self.request)

    @property
    def saved_share(self) -> float:
        """Keystrokes saved, as foretype eval counts them: 1 - (keys typed + accepts) / characters produced."""
        produced = self.typed_chars + self.accepted_chars
        return max(0.0, 1 - (self.typed_keys + self.accepts) / produced) if produced else 0.0

    @property
    def up_to_date(self) -> bool:
        """True when the shown suggestions answer the latest request (the text as it is now)."""
        return self._fresh

    def request(self) -> None:
        """Ask for suggestions at the cursor; any answer to an earlier request will be ignored."""
        self.seq += 1
        self._send_request()

    def _send_request(self) -> None:
        cursor = self.editor.textCursor()
        # "carefu|lly": a completion would give "carefully lly"; over a selection, typing replaces it, accepting would not
        if cursor.hasSelection() or (self._before_word_character(cursor) and not self._typing_a_new_word(cursor)):
            self.show([])
            return
        self._sent_start = tail_start(cursor.position(), self._sent_start)
        self.service.request(self.seq, text_before(cursor, self._sent_start), self.settings.suggestions, self.settings.capitalise)

    def show(self, suggestions: list) -> None:
        self.suggestions = suggestions
        self._fresh = True
        self.bar.set_words([s.word for s in suggestions], tab_accepts=not self._tab_indents())
        self.editor.set_ghost_text(self._ghost_text())

    def hide(self) -> bool:
        if not self.suggestions:
            return False
        self._hidden = True
        self.show([])
        return True

    def show_again(self) -> bool:
        """Ctrl+Space: ask again for the suggestions Esc hid, without an edit."""
        self._hidden = False
        self.request()
        return True

    def accept(self, index: int) -> bool:
        """Insert suggestion ``index``; False if there is none (the key then does what it normally does).

        Suggestions shown for an earlier text (the answer for the latest keystroke is not in yet) would
        insert the wrong rest of the word: the key is swallowed instead.
        """
        if index >= len(self.suggestions):
            return False
        if not self._fresh:
            return True
        suggestion = self.suggestions[index]
        insert = suggestion.insert
        cursor = self.editor.textCursor()
        next_char = self._char_after(cursor)
        before_punctuation = next_char != "" and next_char in NO_SPACE_BEFORE  # "the ca|, and", "(the ca|)"
        # a word right after the cursor (a new word typed in front of it) is kept apart even without automatic spaces
        space_wanted = insert.endswith(" ") and (self.settings.auto_space or next_char.isalnum()) and not before_punctuation
        if insert.endswith(" ") and (not space_wanted or next_char.isspace()):
            insert = insert[:-1]
        start, retyped = cursor.position(), ""
        with self._own_edit():
            cursor.beginEditBlock()  # its own undo step: Ctrl+Z takes back the accepted text, not what was typed before
            if suggestion.retyped:  # "w" -> What at a sentence's start: the first typed letter is capitalised first
                cursor.movePosition(QTextCursor.MoveOperation.PreviousCharacter, QTextCursor.MoveMode.KeepAnchor,
                                    len(suggestion.retyped))
                start, retyped = cursor.selectionStart(), cursor.selectedText()
                cursor.insertText(suggestion.retyped[:1] + retyped[1:])  # the rest as typed: a curly ’ stays curly
            cursor.insertText(insert)
            cursor.endEditBlock()
            self._acceptance = Acceptance(start, cursor.position(), retyped)
            if space_wanted and next_char == " ":  # step over the space that is already there
                cursor.movePosition(QTextCursor.MoveOperation.NextCharacter)
            self.editor.setTextCursor(cursor)
            self.editor.start_undo_step()  # what is typed next, even with no space between, is undone apart
        self._auto_space_end = cursor.position() if space_wanted else None
        self._space_is_ours = space_wanted and next_char != " "
        self._hidden = not space_wanted  # at the accepted word's end: longer words of it ("be" -> bed) are not wanted
        self._count_edit(len(insert), accepts=1)
        return True

    def _accept_with_tab(self) -> bool:
        """Tab accepts the first suggestion, except at the start of a line, where it indents. Right after an
        acceptance it never types a tab: a second Tab is meant as another acceptance."""
        return not self._tab_indents() and (self.accept(0) or self._acceptance is not None)

    def _accept_slot(self, index: int) -> bool:
        """Alt+N accepts slot N; with the slot empty it does nothing: the key must never type its digit."""
        self.accept(index)
        return True

    def _tab_indents(self) -> bool:
        """Only whitespace between the line's start and the cursor: Tab is for indenting there ("Shopping list:" Enter Tab)."""
        cursor, document = self.editor.textCursor(), self.editor.document()
        before = range(cursor.position() - 1, cursor.block().position() - 1, -1)  # backwards: stops at the first letter
        return all(document.characterAt(p).isspace() for p in before)

    def undo_acceptance(self) -> bool:
        """Backspace right after accepting removes the whole accepted text in one press."""
        if self._acceptance is None:
            return False
        cursor = self.editor.textCursor()
        cursor.setPosition(self._acceptance.start)
        cursor.setPosition(self._acceptance.end, QTextCursor.MoveMode.KeepAnchor)
        removed = len(cursor.selectedText()) - len(self._acceptance.retyped)  # the retyped letters were typed
        with self._own_edit():
            cursor.insertText(self._acceptance.retyped)  # as typed ("w"), or nothing
            self.editor.setTextCursor(cursor)
            if self._acceptance.retyped:
                self.editor.start_undo_step()  # what is typed next merged into the "w" put back, and went with its undo
        self._acceptance = self._auto_space_end = None
        self._count_edit(-removed, accepts=-1)
        return True

    def _after_auto_space(self) -> QTextCursor | None:
        """The auto-inserted space selected, if the cursor is right after it and nothing happened since."""
        cursor = self.editor.textCursor()
        if self._auto_space_end is None or cursor.position() != self._auto_space_end or cursor.hasSelection():
            return None
        cursor.movePosition(QTextCursor.MoveOperation.PreviousCharacter, QTextCursor.MoveMode.KeepAnchor)
        return cursor if cursor.selectedText() == " " else None

    def _absorb_space(self) -> bool:
        """A space typed right after an auto-inserted one is already there: "word " + " " stays "word "."""
        if self._after_auto_space() is None:
            return False
        self._acceptance = self._auto_space_end = None  # a second space is the user's own
        self.typed_keys += 1  # a key pressed for nothing: the suggestion saved less
        return True

    def _smart_punctuation(self, char: str) -> bool:
        """Punctuation typed right after an auto-inserted space goes before it: "word " + "," -> "word, "."""
        cursor = self._after_auto_space()
        if cursor is None:
            return False
        with self._own_edit():
            cursor.insertText(char + " ")
            self.editor.setTextCursor(cursor)
        self._acceptance = None
        self._auto_space_end = cursor.position()  # "?!" keeps working; the space is as much ours as before
        self.typed_keys += 1
        self.typed_chars += 1
        return True

    def _join_word(self, char: str) -> bool:
        """An apostrophe or hyphen typed right after a word's auto-inserted space takes its place and ends it: "Sarah " +
        "'" -> "Sarah'" ("Sarah's"), "well " + "-" -> "well-". A space typed first keeps them apart: "said '", "home -"."""
        cursor = self._after_auto_space()
        if cursor is None or not self.editor.document().characterAt(cursor.selectionStart() - 1).isalnum():
            return False  # "said, " + "'" opens a quotation
        ours = self._space_is_ours
        with self._own_edit():
            if not ours:  # the user's own space before the next word ("the Sa| meeting"): it stays, after the joiner
                cursor.setPosition(cursor.selectionStart())
                self.editor.setTextCursor(cursor)
                self.editor.start_undo_step()  # not merged into the acceptance: Ctrl+Z takes back the joiner first
                cursor = self.editor.textCursor()
            cursor.insertText(char)
            self.editor.setTextCursor(cursor)
        self._acceptance = self._auto_space_end = None
        self.typed_keys += 1
        self.typed_chars += 1
        if ours:
            self._count_edit(-1, accepts=0)  # the space it replaced
        return True

    def _closes_quote(self, char: str) -> bool:
        """A straight double quote closes a quotation when the line before it has an odd number of them:
        '"Here ' + '"' -> '"Here" '. (Not the single quote: apostrophes make its count meaningless.)"""
        if char != '"':
            return False
        cursor = self.editor.textCursor()
        return text_before(cursor, cursor.block().position()).count('"') % 2 == 1

    def _newline_after_word(self) -> bool:
        """Enter right after an auto-inserted space takes its place: "much " + Enter -> "much\\n", no trailing space.

        insertBlock() replaces the selected space in one undo step: Ctrl+Z gives back "much ", as it was before Enter.
        """
        cursor = self._after_auto_space()
        if cursor is None:
            return False
        cursor.insertBlock()
        self.editor.setTextCursor(cursor)
        self.typed_keys += 1
        self.typed_chars += 1
        if self._space_is_ours:
            self._count_edit(-1, accepts=0)  # the space the newline replaced
        return True

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress:
            return False
        assert isinstance(event, QKeyEvent)
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        handler = self._keys.get((event.key(), modifiers))
        if handler is not None and handler():
            return True
        text = "" if is_shortcut(modifiers) else event.text()
        if len(text) == 1 and text in WORD_JOINERS and self._join_word(text):
            return True
        if len(text) == 1 and (text in SMART_PUNCTUATION or self._closes_quote(text)) and self._smart_punctuation(text):
            return True
        if text == SPACE and self._absorb_space():
            return True
        if text and (text.isprintable() or text == "\r"):  # Return types a newline
            self.typed_keys += 1
            self.typed_chars += len(text)
        return False

    # ------------------------------------------------------------ internals

    def _count_edit(self, chars: int, accepts: int) -> None:
        """Count what the edit just made added to the accepted text (or took back), and remember it for Undo."""
        self._change_counts(chars, accepts)
        self._done_edits.append(CountedEdit(self.editor.document().availableUndoSteps(), chars, accepts))

    def _change_counts(self, chars: int, accepts: int) -> None:
        self.accepted_chars += chars
        self.accepts += accepts
        self.stats_changed.emit()

    def _follow_undo_stack(self) -> None:
        """Undo of an acceptance (or of its Backspace) takes back what it counted; Redo counts it again.

        PySide6 cannot put an item of ours on the document's undo stack, but the stack's depth tells enough: an
        edit is undone once the depth is below what it was right after the edit, and redone once it is back there
        (undo and redo go strictly in order). A new edit empties the redo side (undoCommandAdded). A depth below an
        edit with nothing to redo is a cleared stack (another document): the edit stays counted, as typing does.
        A stack cleared without an edit (clearUndoRedoStacks) would be noticed only at the next edit: the app
        clears it only by replacing the text.
        """
        document = self.editor.document()
        depth = document.availableUndoSteps()
        while self._done_edits and self._done_edits[-1].undo_steps > depth:
            edit = self._done_edits.pop()
            if document.isRedoAvailable():
                self._change_counts(-edit.chars, -edit.accepts)
                self._undone_edits.append(edit)
        while self._undone_edits and self._undone_edits[-1].undo_steps <= depth:
            edit = self._undone_edits.pop()
            self._change_counts(edit.chars, edit.accepts)
            self._done_edits.append(edit)

    def _on_edit(self) -> None:
        if not self._inserting:
            self._acceptance = self._auto_space_end = None
        self._hidden = False
        self._fresh = False
        self.seq += 1  # from now on, answers to requests sent before this edit are stale
        self.editor.set_ghost_text("")  # it would be drawn at the wrong place until the answer comes
        self._request_timer.start()

    def _on_suggestions(self, seq: int, suggestions: list, latency_ms: float) -> None:
        if seq != self.seq:
            return  # an answer for text that has changed since
        self.latency_ms = latency_ms
        self.stats_changed.emit()
        self.show([] if self._hidden else suggestions)

    def _ghost_text(self) -> str:
        """The rest of the top suggestion, drawn only where it covers nothing: no text after the cursor,
        and no placeholder ("Start typing...", shown while the document is empty); and only where Tab types it:
        not at the start of a line, where Tab indents. (With a selection there are no suggestions.)"""
        cursor = self.editor.textCursor()
        if not (self.settings.ghost_text and self.suggestions) or not cursor.atBlockEnd():
            return ""
        if self._tab_indents() or self.suggestions[0].retyped:  # the empty document (and its placeholder) too; "w"
            return ""  # then grey "hat" would read "what", where accepting writes "What"
        return self.suggestions[0].insert.rstrip(" ")

    def _before_word_character(self, cursor: QTextCursor) -> bool:
        """The cursor is inside a word or right before one: suggesting there would split or push the word."""
        after = self._char_after(cursor)
        if after in WORD_JOINERS and after:  # "ca|'s" is inside a word; "'the ca|'" ends a quotation
            after = self.editor.document().characterAt(cursor.position() + 1)
        return after.isalnum()

    def _typing_a_new_word(self, cursor: QTextCursor) -> bool:
        """Right before a word, whether the cursor is where a new word is being typed in front of it ("the |meeting",
        "the bi|meeting" -> "the big meeting"), not inside a word ("carefu|lly").

        Where typing in front of a word begins (after a space or at a line's start), two marks are set: the new
        text's start, which stays, and the next word's start, which moves as text goes in before it. The cursor
        is in a new word while it sits on the second mark with the word's letters all after the first: typed,
        accepted, or accepted and taken back there. Moved into a word, it is on no mark.
        """
        position = cursor.position()
        typed = self._characters_since_space(cursor)
        new_text_start, next_word_start = self._new_word_start.position(), self._next_word_start.position()
        if typed == 0:
            if position != next_word_start and not self._at_a_new_word(position, new_text_start, next_word_start):
                self._new_word_start.setPosition(position)  # a new place to type at
                self._next_word_start.setPosition(position)
            return True
        return position == next_word_start and new_text_start <= position - typed

    def _characters_since_space(self, cursor: QTextCursor) -> int:
        """The characters between the last whitespace (or the line's start) and the cursor, read back one by one:
        copying the line's text would cost a keystroke in a long paragraph time proportional to it."""
        document, start, position = self.editor.document(), cursor.block().position(), cursor.position()
        typed = 0
        while position - typed > start and not document.characterAt(position - typed - 1).isspace():
            typed += 1
        return typed

    def _at_a_new_word(self, position: int, new_text_start: int, next_word_start: int) -> bool:
        """At the start of a word being typed in front of another ("the |bi" of "the bimeeting"): the marks stay, so
        that back at its end it is still a new word."""
        document = self.editor.document()
        return (position == new_text_start and 0 < next_word_start - position <= MAX_NEW_WORD
                and not any(document.characterAt(i).isspace() for i in range(position, next_word_start)))

    def _char_after(self, cursor: QTextCursor) -> str:
        """The character after the cursor on its line; "" at a line's end, where a space is still wanted."""
        c = self.editor.document().characterAt(cursor.position())
        return "" if c in ("\u2029", "\u2028") else c

    @contextmanager
    def _own_edit(self) -> Iterator[None]:
        """While the controller edits, the edit and cursor signals do not clear the acceptance state."""
        self._inserting = True
        try:
            yield
        finally:
            self._inserting = False
