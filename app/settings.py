"""The app's settings and user files: one JSON file in the user config dir, drafts and models in the data dir.

No Qt here, so the settings can be read and tested without a display.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import platformdirs

from foretype.model.files import atomic_write_text

log = logging.getLogger(__name__)

APP_NAME = "Foretype"
MODEL_CHOICES = ("default", "personal", "file")
MAX_RECENT_FILES = 8


def config_dir() -> Path:
    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def personal_model_path() -> Path:
    """Where `foretype finetune` output is installed for the app to find."""
    return data_dir() / "personal.pt"


def _draft_name(slot: int) -> str:
    """Each running copy of the app holds a draft slot of its own: draft, draft-2, draft-3..."""
    return "draft" if slot == 1 else f"draft-{slot}"


def draft_path(slot: int = 1) -> Path:
    """The autosaved unsaved text of the session that holds ``slot``."""
    return data_dir() / f"{_draft_name(slot)}.json"


def previous_draft_path(slot: int = 1) -> Path:
    """A draft left by a session that ended without saving, kept until the user restores or discards it."""
    return data_dir() / f"{_draft_name(slot)}-previous.json"


def draft_lock_path(slot: int = 1) -> Path:
    """Locked by the running copy that holds ``slot``."""
    return data_dir() / f"{_draft_name(slot)}.lock"


def draft_slots_on_disk() -> list[int]:
    """The slots that have a draft or a previous draft, in order."""
    names = (re.fullmatch(r"draft(?:-(\d+))?(?:-previous)?\.json", path.name) for path in data_dir().glob("draft*.json"))
    return sorted({int(name[1] or 1) for name in names if name})


@dataclass
class Settings:
    suggestions: int = 3  # slots in the suggestion bar, 1-5
    ghost_text: bool = True
    auto_space: bool = True  # add a space after an accepted word
    model: str = "personal"  # "personal" falls back to the bundled model until one is made
    model_file: str = ""  # used when model == "file"
    font: str = ""  # QFont.toString(); empty: the system font
    recent_files: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Read the settings file; a missing, broken or partly invalid one gives defaults for what is wrong."""
        path = path or config_dir() / "settings.json"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as e:
            log.warning("ignoring unreadable settings %s: %s", path, e)
            return cls()
        settings = cls()
        if not isinstance(raw, dict):
            return settings
        for f in fields(cls):
            value = raw.get(f.name)
            if isinstance(value, type(getattr(settings, f.name))):
                setattr(settings, f.name, value)
        settings.suggestions = min(5, max(1, settings.suggestions))
        if settings.model not in MODEL_CHOICES:
            settings.model = "personal"
        settings.recent_files = [p for p in settings.recent_files if isinstance(p, str)][:MAX_RECENT_FILES]
        return settings

    def save(self, path: Path | None = None) -> None:
        atomic_write_text(path or config_dir() / "settings.json", json.dumps(asdict(self), indent=2) + "\n")

    def model_path(self, override: str | None = None) -> Path | None:
        """The model file to load; None means the bundled default.

        A personal model that does not exist yet is not an error: the user simply has not made one.
        """
        if override:
            return Path(override)
        if self.model == "file" and self.model_file:
            return Path(self.model_file)
        if self.model == "personal" and personal_model_path().is_file():
            return personal_model_path()
        return None

    def add_recent_file(self, path: str) -> None:
        self.recent_files = [path] + [p for p in self.recent_files if p != path][: MAX_RECENT_FILES - 1]

    def remove_recent_file(self, path: str) -> None:
        self.recent_files = [p for p in self.recent_files if p != path]
