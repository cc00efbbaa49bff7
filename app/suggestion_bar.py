"""The suggestion bar: a row of 1-5 flat buttons, best suggestion first.

Best first (not in the middle as on phones): on a desktop the slots are picked with Alt+1..5,
and reading order matching the number keys is easier to learn than a centre-out order.
The buttons never take focus, so clicking one leaves the cursor in the editor.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QWidget

# Alt+digit; on macOS the Control key (Qt calls it Meta there), since Option+digit types characters.
ACCEPT_MODIFIER = Qt.KeyboardModifier.MetaModifier if sys.platform == "darwin" else Qt.KeyboardModifier.AltModifier
ACCEPT_MODIFIER_NAME = "Ctrl" if sys.platform == "darwin" else "Alt"


class SuggestionBar(QWidget):
    clicked = Signal(int)  # slot index

    def __init__(self, slots: int = 3, parent=None):
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(4, 2, 4, 2)
        self._buttons: list[QPushButton] = []
        self.set_slots(slots)

    def set_slots(self, slots: int) -> None:
        for button in self._buttons:
            self._layout.removeWidget(button)
            button.deleteLater()
        self._buttons = []
        for i in range(slots):
            button = QPushButton(self)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setFlat(True)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setToolTip(f"{ACCEPT_MODIFIER_NAME}+{i + 1}" + (" or Tab" if i == 0 else ""))
            button.clicked.connect(lambda _=False, i=i: self.clicked.emit(i))
            self._layout.addWidget(button)
            self._buttons.append(button)
        self.set_words([])

    def set_words(self, words: list[str]) -> None:
        """Fill the slots left to right; slots without a word are blank and disabled."""
        for i, button in enumerate(self._buttons):
            word = words[i] if i < len(words) else ""
            button.setText(word.replace("&", "&&"))
            button.setEnabled(bool(word))
            font = button.font()
            font.setBold(i == 0)
            button.setFont(font)

    def slots(self) -> int:
        return len(self._buttons)

    def words(self) -> list[str]:
        return [b.text().replace("&&", "&") for b in self._buttons if b.isEnabled()]
