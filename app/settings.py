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


def forgotten_path() -> Path:
    """Rewritten by Forget My Data, so that the other running copies forget too: a run, a personal model loaded."""
    return data_dir() / "forgotten"


def forget_mark() -> str:
    """What Forget My Data last wrote (a random token), "" if it never ran: a new one means it ran again."""
    try:
        return forgotten_path().read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""


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


def waiting_draft_path(slot: int, place: int) -> Path:
    """The drafts that crashed sessions left in ``slot`` wait their turn to be offered, oldest first: the first in
    previous_draft_path, the next in draft-previous-2.json and so on. A new one queues behind those the user has not
    answered yet (typed on instead, and the app was killed again), so it never replaces their text."""
    first = previous_draft_path(slot)
    return first if place == 1 else first.with_name(f"{first.stem}-{place}.json")


def waiting_drafts(slot: int) -> list[Path]:
    """The waiting drafts of ``slot`` in their order, gaps (a move that failed halfway) skipped."""
    first = previous_draft_path(slot)
    places = {}
    for path in first.parent.glob(f"{first.stem}*.json"):
        m = re.fullmatch(rf"{re.escape(first.stem)}(?:-(\d+))?\.json", path.name)
        if m:
            places[int(m[1] or 1)] = path
    return [places[p] for p in sorted(places)]


def draft_slots_on_disk() -> list[int]:
    """The slots that have a draft or waiting drafts, in order."""
    names = (re.fullmatch(r"draft(?:-(\d+))?(?:-previous(?:-\d+)?)?\.json", path.name) for path in data_dir().glob("draft*.json"))
    return sorted({int(name[1] or 1) for name in names if name})


def settings_path() -> Path:
    return config_dir() / "settings.json"


@dataclass
class Settings:
    """What the user chose. Every running copy of the app holds one: a save writes only the fields this copy
    changed since it loaded or last saved, over the file as it is now, so it keeps other copies' changes."""

    suggestions: int = 3  # slots in the suggestion bar, 1-5
    ghost_text: bool = True
    auto_space: bool = True  # add a space after an accepted word
    capitalise: bool = True  # complete names and a sentence's first word capitalised when begun in lower case
    model: str = "personal"  # "personal" falls back to the bundled model until one is made
    model_file: str = ""  # used when model == "file"
    font: str = ""  # QFont.toString(), chosen in Settings; empty: the system font
    zoom: int = 0  # points added to the font's size by View › Larger / Smaller Text; Ctrl+0 takes it back to 0
    recent_files: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._mark_saved()

    def _mark_saved(self) -> None:
        """Take the values now as those on disk: a save writes only what changes after this."""
        self._saved = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "recent_files"}
        self._opened_files: list[str] = []  # recent files opened since, newest first
        self._removed_files: set[str] = set()  # and those taken off the list

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Read the settings file; a missing, broken or partly invalid one gives defaults for what is wrong."""
        return cls(**_read_valid_values(path or settings_path()))

    def save(self, path: Path | None = None) -> None:
        """Write this copy's changes into the file as it is now; other fields keep what the file says.

        The recent files this copy opened go first, then the file's list (this copy's where the file has none);
        those it took off stay off. The list here becomes the merged one, for the menu. The other fields here stay
        as this copy uses them.
        """
        path = path or settings_path()
        on_disk = _read_valid_values(path)
        values = asdict(self)
        for name, saved in self._saved.items():
            if getattr(self, name) == saved and name in on_disk:
                values[name] = on_disk[name]  # unchanged here: another copy may have changed it
        values["recent_files"] = self._merged_recent_files(on_disk.get("recent_files", self.recent_files))
        atomic_write_text(path, json.dumps(values, indent=2) + "\n")
        self.recent_files = values["recent_files"]
        self._mark_saved()

    def _merged_recent_files(self, listed: list[str]) -> list[str]:
        """Opened here (newest first), then ``listed``, less those taken off here: once each, capped.

        Only the file's list, not this copy's, speaks for the files this copy did not touch: this copy's may still
        hold a file another copy has taken off since.
        """
        candidates = self._opened_files + listed
        return list(dict.fromkeys(p for p in candidates if p not in self._removed_files))[:MAX_RECENT_FILES]

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

    def chose(self, *names: str) -> None:
        """The user chose these fields now: the next save writes them even where they equal what this copy loaded
        (another copy may have changed the file since: choosing the personal model again must stick)."""
        for name in names:
            self._saved.pop(name, None)

    def add_recent_file(self, path: str) -> None:
        self.recent_files = [path] + [p for p in self.recent_files if p != path][: MAX_RECENT_FILES - 1]
        self._opened_files = [path] + [p for p in self._opened_files if p != path]
        self._removed_files.discard(path)

    def remove_recent_file(self, path: str) -> None:
        self.recent_files = [p for p in self.recent_files if p != path]
        self._opened_files = [p for p in self._opened_files if p != path]
        self._removed_files.add(path)


def _read_valid_values(path: Path) -> dict[str, object]:
    """The valid values in the settings file, by field name; none from a missing or unreadable file, and a partly
    invalid one leaves out (or, for the number of suggestions, corrects) what is wrong."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        log.warning("ignoring unreadable settings %s: %s", path, e)
        return {}
    if not isinstance(raw, dict):
        return {}
    defaults = Settings()
    values = {f.name: raw[f.name] for f in fields(Settings) if type(raw.get(f.name)) is type(getattr(defaults, f.name))}  # not true as 1
    if "suggestions" in values:
        values["suggestions"] = min(5, max(1, values["suggestions"]))
    if "model" in values and values["model"] not in MODEL_CHOICES:
        del values["model"]
    if "recent_files" in values:
        values["recent_files"] = [p for p in values["recent_files"] if isinstance(p, str)][:MAX_RECENT_FILES]
    return values
