"""The suggestion bar: a row of 1-5 flat buttons, best suggestion first, each with its key in small grey.

Best first (not in the middle as on phones): on a desktop the slots are picked with Alt+1..5,
and reading order matching the number keys is easier to learn than a centre-out order.
The buttons never take focus, so clicking one leaves the cursor in the editor.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject, QRect, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QStyle, QStyleOptionButton, QStylePainter, QWidget

# Alt+digit; on macOS the Control key (Qt calls it Meta there), since Option+digit types characters.
ACCEPT_MODIFIER = Qt.KeyboardModifier.MetaModifier if sys.platform == "darwin" else Qt.KeyboardModifier.AltModifier
ACCEPT_MODIFIER_NAME = "Ctrl" if sys.platform == "darwin" else "Alt"
# Ctrl+Space brings hidden suggestions back, as in code editors; on macOS the Control key too, as Cmd+Space is Spotlight.
SHOW_MODIFIER = Qt.KeyboardModifier.MetaModifier if sys.platform == "darwin" else Qt.KeyboardModifier.ControlModifier
HINT_SCALE = 0.8  # the key hint's size against the word's
HINT_GAP = "  "  # between a word and its key hint
# The bar's text follows the editor's size, but no larger than lets a word this long and its key fit a slot: at 36 pt
# in the default window the slots read "informa…", "informat…". Longer words may still be cut (their tooltip is whole).
FIT_WORD, FIT_HINT = "information", "Alt+3"
# Points the fitting never goes below: at usual sizes the bar keeps the text's size, as five slots in a narrow
# window would otherwise shrink it to an unreadable 8 pt; long words are cut there instead.
FIT_FLOOR = 12.0
# The share of a text colour kept in the hints and the ghost text: black on white gives 4.7:1 (at 0.45, 3.3:1,
# under the 4.5:1 that WCAG asks of text), and the ghost text still reads as lighter than the text typed.
MUTED_ALPHA = 0.55


def muted(color: QColor) -> QColor:
    """``color`` see-through: muted on any background. Not the palette's PlaceholderText, which dark-theme
    recipes often leave dark, so hints drawn in it vanish on a dark background."""
    result = QColor(color)
    result.setAlphaF(color.alphaF() * MUTED_ALPHA)
    return result


def hint_font(word_font: QFont) -> QFont:
    """The key hint's font beside a word in ``word_font``: smaller, and never bold."""
    font = QFont(word_font)
    font.setBold(False)
    font.setPointSizeF(word_font.pointSizeF() * HINT_SCALE)
    return font


def hint_width(word_font: QFont, hint: str) -> int:
    """The room ``hint`` takes after a word in ``word_font``, the gap before it included."""
    return QFontMetrics(hint_font(word_font)).horizontalAdvance(HINT_GAP + hint)


class MutedPlaceholder(QObject):
    """Keeps a text field's placeholder in muted(Text), as the hints are, whenever its palette changes: a dark
    palette that leaves PlaceholderText dark would hide it, and the editor's placeholder is the first-run instruction."""

    def __init__(self, text_field: QWidget):
        super().__init__(text_field)
        text_field.installEventFilter(self)
        self._mute(text_field)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.PaletteChange:
            self._mute(watched)
        return False

    @staticmethod
    def _mute(text_field: QWidget) -> None:
        palette = text_field.palette()
        color = muted(palette.color(QPalette.ColorRole.Text))
        if palette.color(QPalette.ColorRole.PlaceholderText) != color:  # else setPalette's PaletteChange would loop
            palette.setColor(QPalette.ColorRole.PlaceholderText, color)
            text_field.setPalette(palette)


class SlotButton(QPushButton):
    """One slot: its word is elided to the width the bar gives it, so a long word never widens the bar, nor the window.

    The width is ignored as a size hint: the slots share the bar equally, whatever their words. The key that
    accepts the word is drawn small and muted right after it ("book Tab"), so the keys are learned by looking,
    not from tooltips; word and hint are centred together. A slot too narrow for both shows only the word,
    elided where even it does not fit: the hint never cuts the word.
    """

    def __init__(self, keys: str, parent=None):
        super().__init__(parent)
        self._word, self._keys = "", keys  # the keys that accept it, for the tooltip
        self._hint = ""  # the key drawn after the word
        self._hint_shown = False
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def word(self) -> str:
        return self._word

    def mouseDoubleClickEvent(self, event) -> None:
        """Not a second press: a double-click accepted twice, the second time a word the bar showed after the first."""
        event.accept()

    def set_word(self, word: str, hint: str) -> None:
        self._word, self._hint = word, hint
        self._elide()

    def hint(self) -> str:
        """The key hint as drawn now: "" where there is no word or no room."""
        return self._hint if self._hint_shown else ""

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        """The word is elided to the whole room, never for the hint: the hint is shown only where both fit."""
        room = self._contents(self._style_option()).width()
        width = self.fontMetrics().horizontalAdvance(self._word) + self._hint_width()
        self._hint_shown = bool(self._word and self._hint) and width <= room
        shown = self.fontMetrics().elidedText(self._word, Qt.TextElideMode.ElideRight, room)
        self.setText(shown.replace("&", "&&"))  # drawn by the style, and read by screen readers, as the label
        self.setToolTip(self._keys if shown == self._word else f"{self._word} ({self._keys})")  # the whole word, when cut
        self.update()

    def _style_option(self) -> QStyleOptionButton:
        option = QStyleOptionButton()
        self.initStyleOption(option)
        return option

    def _contents(self, option: QStyleOptionButton) -> QRect:
        """Where the style draws the label: the room for word and hint."""
        return self.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, option, self)

    def _hint_width(self) -> int:
        return hint_width(self.font(), self._hint)

    def hint_color(self) -> QColor:
        return muted(self.palette().color(QPalette.ColorRole.ButtonText))

    def paintEvent(self, event) -> None:
        """With a hint, the button is drawn without its label, and word and hint are centred as one group:
        centring the word alone would need room for the hint on both sides."""
        if not self._hint_shown:
            super().paintEvent(event)
            return
        option = self._style_option()
        option.text = ""
        painter = QStylePainter(self)
        painter.drawControl(QStyle.ControlElement.CE_PushButton, option)
        contents = self._contents(option)
        metrics = self.fontMetrics()
        word_width = metrics.horizontalAdvance(self._word)
        left = contents.center().x() - (word_width + self._hint_width()) // 2
        baseline = contents.center().y() + (metrics.ascent() - metrics.descent()) // 2
        painter.setPen(self.palette().color(QPalette.ColorRole.ButtonText))
        painter.drawText(left, baseline, self._word)
        painter.setFont(hint_font(self.font()))
        painter.setPen(self.hint_color())
        painter.drawText(left + word_width, baseline, HINT_GAP + self._hint)


class SuggestionBar(QWidget):
    clicked = Signal(int)  # slot index

    def __init__(self, slots: int = 3, parent=None):
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(4, 2, 4, 2)
        self._buttons: list[SlotButton] = []
        self._tab_accepts = True
        self._text_size = self.font().pointSizeF()  # the editor's, which the bar follows as far as its slots allow
        self.setAccessibleName("Suggestions")
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
        self._fit_size()  # a slot's share changed

    def set_words(self, words: list[str], tab_accepts: bool = True) -> None:
        """Fill the slots left to right; slots without a word are blank and disabled.

        The first slot's hint is Tab, or Alt+1 where Tab indents instead (``tab_accepts`` False).
        """
        self._tab_accepts = tab_accepts
        for i, button in enumerate(self._buttons):
            word = words[i] if i < len(words) else ""
            font = QFont(self.font())  # the bar's size, which follows the editor's
            font.setBold(i == 0)
            button.setFont(font)  # before the word: it is elided in this font
            button.set_word(word, "Tab" if i == 0 and tab_accepts else f"{ACCEPT_MODIFIER_NAME}+{i + 1}")
            button.setEnabled(bool(word))
        shown = self.words()  # for screen readers: the slots never take focus, so moving the focus never reads them
        self.setAccessibleDescription(f"Suggestions: {', '.join(shown)}" if shown else "No suggestions")

    def set_text_size(self, points: float) -> None:
        """Follow the text's size, as far as a FIT_WORD and its key fit a slot."""
        self._text_size = points
        self._fit_size()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_size()

    def _fit_size(self) -> None:
        if not self._buttons:
            return
        size, floor = self._text_size, min(self._text_size, FIT_FLOOR)
        while size - 0.5 >= floor and self._label_width(size) > self._slot_room():
            size -= 0.5
        if size != self.font().pointSizeF():
            font = QFont(self.font())
            font.setPointSizeF(size)
            self.setFont(font)  # the slots take it up on FontChange

    def _label_width(self, points: float) -> int:
        """A FIT_WORD in bold and its key hint, at ``points``."""
        word = QFont(self.font())
        word.setPointSizeF(points)
        word.setBold(True)
        return QFontMetrics(word).horizontalAdvance(FIT_WORD) + hint_width(word, FIT_HINT)

    def _slot_room(self) -> int:
        """The width a slot's label gets: the bar's share less the button's own padding."""
        margins, slots = self._layout.contentsMargins(), len(self._buttons)
        share = (self.width() - margins.left() - margins.right() - self._layout.spacing() * (slots - 1)) // slots
        button = self._buttons[0]
        return share - (button.width() - button._contents(button._style_option()).width())

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # the slots' fonts are set one by one (the first is bold)
            self.set_words(self.words(), self._tab_accepts)

    def slots(self) -> int:
        return len(self._buttons)

    def words(self) -> list[str]:
        return [b.word() for b in self._buttons if b.isEnabled()]
