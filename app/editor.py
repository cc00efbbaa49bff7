"""The text editor: a QPlainTextEdit that can draw ghost text (a suggestion's rest) after the cursor."""

from __future__ import annotations

import unicodedata

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QTextCursor, QTextFormat
from PySide6.QtWidgets import QPlainTextEdit

from .suggestion_bar import MutedPlaceholder, muted

# An invisible character property that alternates from word to word. Qt merges all contiguous typing
# into one undo step (Ctrl+Z removed a whole sentence); it never merges text of different formats.
UNDO_STEP = QTextFormat.Property.UserProperty + 1


class Editor(QPlainTextEdit):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._ghost_text = ""
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setTabChangesFocus(False)
        self.document().setDocumentMargin(10)
        # setting the margin is an undoable edit: a new window has no changes and nothing to undo
        self.document().clearUndoRedoStacks()
        self.document().setModified(False)
        self.setPlaceholderText("Start typing; suggestions appear below, each with the key that accepts it.")
        MutedPlaceholder(self)
        self.setAccessibleName("Text")
        self.setAccessibleDescription("Suggestions for the next word appear below the text.")

    def keyPressEvent(self, event) -> None:
        if self._starts_word(event.text()):
            self.start_undo_step()
        super().keyPressEvent(event)

    def start_undo_step(self) -> None:
        """What is typed from here on is undone on its own, not merged with the text before it."""
        before = QTextCursor(self.document())
        before.setPosition(self.textCursor().position())  # a plain cursor's format is the character before it
        char_format = self.currentCharFormat()
        char_format.setProperty(UNDO_STEP, not before.charFormat().boolProperty(UNDO_STEP))
        self.setCurrentCharFormat(char_format)

    def _starts_word(self, text: str) -> bool:
        """A printable character typed after whitespace (or at the start): Ctrl+Z then undoes word by word."""
        cursor = self.textCursor()
        if not text or text.isspace() or not text.isprintable() or cursor.hasSelection():
            return False  # typing over a selection is its own undo step already
        return cursor.position() == 0 or self.document().characterAt(cursor.position() - 1).isspace()

    def ghost_text(self) -> str:
        return self._ghost_text

    def set_ghost_text(self, text: str) -> None:
        """Show ``text`` muted right after the cursor; it is drawn, never part of the document."""
        if text != self._ghost_text:
            self._ghost_text = text
            self.viewport().update()

    def ghost_color(self) -> QColor:
        return muted(self.palette().color(QPalette.ColorRole.Text))

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        shown = self.visible_ghost_text()
        if not shown:
            return
        rect = self.cursorRect()
        painter = QPainter(self.viewport())
        painter.setFont(self.font())
        painter.setPen(self.ghost_color())
        painter.drawText(rect.left() + 1, rect.top() + self.fontMetrics().ascent(), shown)

    def visible_ghost_text(self) -> str:
        """The ghost text cut to the room left on the cursor's line, with an ellipsis: cut silently, it reads as a shorter word.

        None after right-to-left text: the cursor is then at the left of that text, which the ghost would cover.
        """
        if not self._ghost_text or self._after_right_to_left():
            return ""
        room = self.viewport().width() - int(self.document().documentMargin()) - self.cursorRect().left() - 1
        return self.fontMetrics().elidedText(self._ghost_text, Qt.TextElideMode.ElideRight, max(room, 0))

    def _after_right_to_left(self) -> bool:
        """The cursor's line is laid out right to left (Hebrew, Arabic), or the character before the cursor is such."""
        cursor = self.textCursor()
        if cursor.block().textDirection() == Qt.LayoutDirection.RightToLeft:
            return True
        before = self.document().characterAt(cursor.position() - 1)
        return bool(before) and unicodedata.bidirectional(before) in ("R", "AL")
