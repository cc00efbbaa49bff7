"""The settings dialog: edits a copy of the values and writes them back only on OK."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFontDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
)

from .settings import MODEL_CHOICES, Settings, personal_model_path
from .suggestion_bar import MutedPlaceholder

MODEL_LABELS = {"default": "Default model (bundled)", "personal": "Personal model (if made, else the default)", "file": "Model file…"}


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, font: QFont, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")  # Qt adds " — Foretype"
        self.font_value = QFont(font)  # the chosen font, before zoom; settings.font may be empty (the system font)
        self.font_chosen = False  # the font dialog was accepted: even the same font is a choice (zoom back to 0)

        self.suggestions = QSpinBox(self, minimum=1, maximum=5, value=settings.suggestions)
        self.ghost_text = QCheckBox("Show the &rest of the first suggestion after the cursor", self, checked=settings.ghost_text)
        self.auto_space = QCheckBox("&Add a space after an accepted word", self, checked=settings.auto_space)
        self.capitalise = QCheckBox("Capitalise names and a sentence's first &word when typed in lower case", self, checked=settings.capitalise)
        self.model = QComboBox(self)
        for choice in MODEL_CHOICES:
            self.model.addItem(MODEL_LABELS[choice], choice)
        self.model.setCurrentIndex(MODEL_CHOICES.index(settings.model))
        self.model.setToolTip(f"The personal model is {personal_model_path()}")
        self.model_file = QLineEdit(settings.model_file, self, placeholderText="model file (.pt)")
        MutedPlaceholder(self.model_file)
        self.model_file.textEdited.connect(self._on_path_typed)
        browse = QPushButton("&Browse…", self)
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.model_file, 1)
        file_row.addWidget(browse)
        self.font_button = QPushButton(self)
        self.font_button.clicked.connect(self._choose_font)
        self._show_font()

        form = QFormLayout(self)
        form.addRow("&Suggestions:", self.suggestions)
        form.addRow("", self.ghost_text)
        form.addRow("", self.auto_space)
        form.addRow("", self.capitalise)
        form.addRow("&Model:", self.model)
        file_label = QLabel("Model f&ile:", self)
        file_label.setBuddy(self.model_file)  # a row of two widgets has no buddy of its own: the "&" would show
        form.addRow(file_label, file_row)
        form.addRow("&Font:", self.font_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.model.currentIndexChanged.connect(self._update_ok)
        self.model_file.textChanged.connect(self._update_ok)
        self._update_ok()

    def apply_to(self, settings: Settings) -> None:
        settings.suggestions = self.suggestions.value()
        settings.ghost_text = self.ghost_text.isChecked()
        settings.auto_space = self.auto_space.isChecked()
        settings.capitalise = self.capitalise.isChecked()
        settings.model = self.model.currentData()
        settings.model_file = self.model_file.text().strip()
        if self.font_chosen:  # else an OK would pin this copy's font over another copy's choice
            settings.font = self.font_value.toString()
            settings.zoom = 0  # the size chosen is the size shown
            settings.chose("font", "zoom")

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model file", self.model_file.text(), "Foretype models (*.pt);;All files (*)")
        if path:
            self.model_file.setText(path)
            self._choose_model_file()

    def _on_path_typed(self, text: str) -> None:
        """Typing a path means using it, as choosing one with Browse does; clearing the field chooses nothing."""
        if text.strip():
            self._choose_model_file()

    def _choose_model_file(self) -> None:
        self.model.setCurrentIndex(MODEL_CHOICES.index("file"))

    def _update_ok(self) -> None:
        """OK waits for a path while a model file is the choice: without one the default model would load, unsaid."""
        ready = self.model.currentData() != "file" or bool(self.model_file.text().strip())
        self.ok_button.setEnabled(ready)
        self.ok_button.setToolTip("" if ready else "Choose a model file, or another model")

    def _choose_font(self) -> None:
        ok, font = QFontDialog.getFont(self.font_value, self)
        if ok:
            self.font_value, self.font_chosen = font, True
            self._show_font()

    def _show_font(self) -> None:
        self.font_button.setText(f"{self.font_value.family()} {self.font_value.pointSize()} pt")
