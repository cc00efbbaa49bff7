"""The suggestion bar: a row of 1-5 flat buttons, best suggestion first.

Best first (not in the middle as on phones): on a desktop the slots are picked with Alt+1..5,
and reading order matching the number keys is easier to learn than a centre-out order.
The buttons never take focus, so clicking one leaves the cursor in the editor.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QStyle, QStyleOptionButton, QWidget

# Alt+digit; on macOS the Control key (Qt calls it Meta there), since Option+digit types characters.
ACCEPT_MODIFIER = Qt.KeyboardModifier.MetaModifier if sys.platform == "darwin" else Qt.KeyboardModifier.AltModifier
ACCEPT_MODIFIER_NAME = "Ctrl" if sys.platform == "darwin" else "Alt"


class SlotButton(QPushButton):
    """One slot: its word is elided to the width the bar gives it, so a long word never widens the bar, nor the window.

    The width is ignored as a size hint: the slots share the bar equally, whatever their words.
    """

    def __init__(self, keys: str, parent=None):
        super().__init__(parent)
        self._word, self._keys = "", keys  # the keys that accept it, for the tooltip
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def word(self) -> str:
        return self._word

    def set_word(self, word: str) -> None:
        self._word = word
        self._elide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        option = QStyleOptionButton()
        self.initStyleOption(option)
        room = self.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, option, self).width()
        shown = self.fontMetrics().elidedText(self._word, Qt.TextElideMode.ElideRight, room)
        self.setText(shown.replace("&", "&&"))
        self.setToolTip(self._keys if shown == self._word else f"{self._word} ({self._keys})")  # the whole word, when cut


class SuggestionBar(QWidget):
    clicked = Signal(int)  # slot index

    def __init__(self, slots: int = 3, parent=None):
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(4, 2, 4, 2)
        self._buttons: list[SlotButton] = []
        self.set_slots(slots)

    def set_slots(self, slots: int) -> None:
        for button in self._buttons:
            self._layout.removeWidget(button)
            button.deleteLater()
        self._buttons = []
        for i in range(slots):
            button = SlotButton(f"{ACCEPT_MODIFIER_NAME}+{i + 1}" + (" or Tab" if i == 0 else ""), self)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setFlat(True)
            button.clicked.connect(lambda _=False, i=i: self.clicked.emit(i))
            self._layout.addWidget(button)
            self._buttons.append(button)
        self.set_words([])

    def set_words(self, words: list[str]) -> None:
        """Fill the slots left to right; slots without a word are blank and disabled."""
        for i, button in enumerate(self._buttons):
            word = words[i] if i < len(words) else ""
            font = button.font()
            font.setBold(i == 0)
            button.setFont(font)  # before the word: it is elided in this font
            button.set_word(word)
            button.setEnabled(bool(word))

    def slots(self) -> int:
        return len(self._buttons)

    def words(self) -> list[str]:
        return [b.word() for b in self._buttons if b.isEnabled()]
