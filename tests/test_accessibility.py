"""Readable placeholders on a dark palette, and names and descriptions for screen readers."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QWidget

from foretype.app.editor import Editor
from foretype.app.learn import LearnDialog
from foretype.app.window import FindBar, InfoBar
from foretype.app.settings import Settings
from foretype.app.settings_dialog import SettingsDialog
from foretype.app.suggestion_bar import SuggestionBar, muted

Role = QPalette.ColorRole


def dark_palette(text: str, base: str) -> QPalette:
    """A hand-made dark palette as recipes make it: Text and Base set, PlaceholderText left as the light theme's dark grey."""
    palette = QPalette()
    palette.setColor(Role.Text, QColor(text))
    palette.setColor(Role.Base, QColor(base))
    palette.setColor(Role.Window, QColor(base))
    return palette


def contrast(over: QColor, under: QColor) -> float:
    """The WCAG contrast of ``over`` (which may be see-through) drawn on ``under``."""
    alpha = over.alphaF()

    def luminance(channels) -> float:
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    drawn = [alpha * a + (1 - alpha) * b for a, b in zip(over.getRgbF()[:3], under.getRgbF()[:3])]
    lighter, darker = sorted((luminance(drawn), luminance(under.getRgbF()[:3])), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_placeholders_are_muted_text_on_a_dark_palette_and_follow_a_new_one(qtbot):
    # the editor's placeholder is the only first-run instruction: it was dark grey on dark grey (1.2:1)
    window = QWidget()
    editor = Editor(window)
    dialog = SettingsDialog(Settings(), QFont())  # a window of its own: it has its own palette
    for top, field in ((window, editor), (dialog, dialog.model_file)):
        qtbot.addWidget(top)
        top.setPalette(dark_palette("white", "#202020"))
        assert field.palette().color(Role.PlaceholderText) == muted(QColor("white"))
        assert contrast(field.palette().color(Role.PlaceholderText), field.palette().color(Role.Base)) >= 4.5
        top.setPalette(dark_palette("#ffffcc", "#000040"))  # a theme switched while the app runs
        assert field.palette().color(Role.PlaceholderText) == muted(QColor("#ffffcc"))
        assert field.palette().color(Role.Base) == QColor("#000040")  # the other colours still come from the window


def test_the_find_field_the_message_bar_and_the_learn_list_have_names(qtbot):
    editor = Editor()
    find, info, learn = FindBar(editor), InfoBar(), LearnDialog(lambda: None)
    for widget in (editor, find, info, learn):
        qtbot.addWidget(widget)
    info.show_message("Could not save note.txt: disk full")
    assert find.field.accessibleName() == "Find" and learn.path_list.accessibleName() == "Folders and files to learn from"
    assert info.accessibleName() == "Message" and info.accessibleDescription() == "Could not save note.txt: disk full"
    find.setPalette(dark_palette("white", "#202020"))
    assert find.field.palette().color(Role.PlaceholderText) == muted(QColor("white"))


@pytest.mark.parametrize("text, background", [("black", "white"), ("black", "#efefef"), ("white", "#1e1e1e")])
def test_key_hints_and_ghost_text_have_the_contrast_asked_of_text(text, background):
    # at 45% of the text colour the hints read at 3.3:1 on white
    assert contrast(muted(QColor(text)), QColor(background)) >= 4.5


def test_screen_readers_get_names_for_the_text_and_the_suggestions_and_hear_the_words(qtbot):
    editor, bar = Editor(), SuggestionBar(3)
    qtbot.addWidget(editor)
    qtbot.addWidget(bar)
    assert editor.accessibleName() == "Text"
    assert bar.accessibleName() == "Suggestions" and bar.accessibleDescription() == "No suggestions"
    bar.set_words(["help", "helps"])
    assert bar.accessibleDescription() == "Suggestions: help, helps"
    bar.set_words([])
    assert bar.accessibleDescription() == "No suggestions"
