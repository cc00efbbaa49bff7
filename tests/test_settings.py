"""Settings shared by two running copies of the app, and the settings dialog's keys."""

from __future__ import annotations

import json

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QCheckBox, QFontDialog, QLabel, QPushButton

from foretype.app.settings import MAX_RECENT_FILES, Settings
from foretype.app.settings_dialog import SettingsDialog


def test_a_save_keeps_the_fields_another_copy_changed_meanwhile(tmp_path):
    # copy A chose 5 suggestions; copy B then zoomed, and its save put "suggestions": 3 back
    path = tmp_path / "settings.json"
    Settings().save(path)
    copy_a, copy_b = Settings.load(path), Settings.load(path)
    copy_a.suggestions = 5
    copy_a.save(path)
    copy_b.font = "Sans,14"
    copy_b.save(path)
    saved = Settings.load(path)
    assert (saved.suggestions, saved.font) == (5, "Sans,14")
    copy_b.suggestions = 2  # a field changed in both: the later save wins
    copy_b.save(path)
    copy_a.ghost_text = False
    copy_a.save(path)
    saved = Settings.load(path)
    assert (saved.suggestions, saved.font, saved.ghost_text) == (2, "Sans,14", False)


def test_recent_files_of_two_copies_are_merged_newest_first_without_those_taken_off(tmp_path):
    path = tmp_path / "settings.json"
    Settings(recent_files=["a", "b"]).save(path)
    copy_a, copy_b = Settings.load(path), Settings.load(path)
    copy_a.add_recent_file("c")
    copy_a.save(path)
    copy_b.font = "Sans,14"  # a save that leaves the recent files alone keeps the file's list
    copy_b.save(path)
    assert Settings.load(path).recent_files == ["c", "a", "b"]
    copy_b.add_recent_file("d")
    copy_b.remove_recent_file("a")  # found gone
    copy_b.save(path)
    assert Settings.load(path).recent_files == ["d", "c", "b"]
    assert copy_b.recent_files == ["d", "c", "b"]  # its Recent menu shows the other copy's file too


def test_a_recent_file_another_copy_took_off_stays_off_when_this_copy_opens_one(tmp_path):
    path = tmp_path / "settings.json"
    Settings(recent_files=["/x", "/y", "/z"]).save(path)
    copy_a, copy_b = Settings.load(path), Settings.load(path)
    copy_a.remove_recent_file("/x")
    copy_a.save(path)
    copy_b.add_recent_file("/new")  # its own list still holds "/x"
    copy_b.save(path)
    assert Settings.load(path).recent_files == ["/new", "/y", "/z"]


def test_merged_recent_files_are_capped(tmp_path):
    path = tmp_path / "settings.json"
    copy_a, copy_b = Settings.load(path), Settings.load(path)
    for i in range(MAX_RECENT_FILES):
        copy_a.add_recent_file(f"a{i}")
    copy_a.save(path)
    copy_b.add_recent_file("b")
    copy_b.save(path)
    on_disk = json.loads(path.read_text(encoding="utf-8"))["recent_files"]
    assert on_disk == ["b"] + [f"a{i}" for i in reversed(range(1, MAX_RECENT_FILES))]


def test_settings_dialog_is_titled_settings_and_each_field_has_its_own_alt_key(qtbot):
    dialog = SettingsDialog(Settings(), QFont())
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Settings"  # Qt adds the app's name: "Foretype Settings — Foretype" said it twice
    texts = [widget.text() for kind in (QLabel, QCheckBox, QPushButton) for widget in dialog.findChildren(kind)]
    keyed = [text for text in texts if "&" in text]
    assert {dialog.ghost_text.text(), dialog.auto_space.text()} <= set(keyed)
    assert any(text.replace("&", "") == "Browse…" for text in keyed)
    letters = [text[text.index("&") + 1].lower() for text in keyed]
    assert len(set(letters)) == len(letters)


def test_settings_ok_keeps_another_copys_zoom_unless_a_font_is_chosen(qtbot, tmp_path, monkeypatch):
    # copy B zoomed; copy A, showing the system font (settings.font ""), changed only the ghost text in Settings
    path = tmp_path / "settings.json"
    Settings().save(path)
    copy_a, copy_b = Settings.load(path), Settings.load(path)
    copy_b.zoom = 3
    copy_b.save(path)
    dialog = SettingsDialog(copy_a, QFont("Sans Serif", 12))
    qtbot.addWidget(dialog)
    dialog.ghost_text.setChecked(False)
    dialog.apply_to(copy_a)
    copy_a.save(path)
    saved = Settings.load(path)
    assert (saved.font, saved.zoom, saved.ghost_text) == ("", 3, False)
    chosen = QFont("Serif", 14)
    monkeypatch.setattr(QFontDialog, "getFont", lambda initial, parent: (True, chosen))
    dialog.font_button.click()
    dialog.apply_to(copy_a)
    assert (copy_a.font, copy_a.zoom) == (chosen.toString(), 0)


def test_a_setting_of_the_wrong_type_is_left_out_even_a_boolean_for_a_number(tmp_path):
    # true passed for a number (bool is an int in Python): "zoom": true zoomed by 1, "suggestions": true showed 1 slot
    path = tmp_path / "settings.json"
    path.write_text('{"zoom": true, "suggestions": true, "ghost_text": false, "font": 12}')
    loaded = Settings.load(path)
    assert (loaded.zoom, loaded.suggestions, loaded.ghost_text, loaded.font) == (0, 3, False, "")
