"""The text editor: a QPlainTextEdit that can draw ghost text (a suggestion's rest) after the cursor."""

from __future__ import annotations

from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QPlainTextEdit


class Editor(QPlainTextEdit):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._ghost_text = ""
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setTabChangesFocus(False)
        self.document().setDocumentMargin(10)
        self.document().setModified(False)  # setting the margin marks the document modified: a new window has no changes
        self.setPlaceholderText("Start typing; suggestions appear below. Tab accepts the first.")

    def ghost_text(self) -> str:
        return self._ghost_text

    def set_ghost_text(self, text: str) -> None:
        """Show ``text`` in the placeholder colour right after the cursor; it is drawn, never part of the document."""
        if text != self._ghost_text:
            self._ghost_text = text
            self.viewport().update()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._ghost_text:
            return
        rect = self.cursorRect()
        painter = QPainter(self.viewport())
        painter.setFont(self.font())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(rect.left() + 1, rect.top() + self.fontMetrics().ascent(), self._ghost_text)
