"""Find and read the user's text files: folders, globs, skipping what is not plain text.

Every skipped file gets a one-line reason; nothing here raises on bad input.
"""

from __future__ import annotations

import glob
import logging
import os
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from foretype.model.files import NOT_REGULAR, TextFileError, decode_text, has_nul_bytes, without_a_cut_character

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst", ".text", ".org", ".tex", ".csv", ".tsv", ".html", ".htm", ".eml", ""}
MAX_FILE_BYTES = 512 * 1024 * 1024  # larger files are read only up to this many bytes


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path}: {self.reason}"


def plural(n: int, noun: str) -> str:
    """"1 file", "2 files", "1,024 files"."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def expand_inputs(inputs: Iterable[str | os.PathLike]) -> Iterator[Path | Skipped]:
    """Files named, files under folders (sorted, hidden ones left out), and glob matches; each file once, however
    it is reached (a file named twice, a folder and a file in it, a glob through a link back up the tree)."""
    seen: set[tuple[int, int]] = set()
    for path in _named_paths(inputs):
        if isinstance(path, Skipped):
            yield path
            continue
        try:
            st = path.stat()
        except OSError as e:  # a link to nowhere, a loop of links
            yield Skipped(path, "not found" if isinstance(e, FileNotFoundError) else f"cannot be read ({e.strerror or e})")
            continue
        if not stat.S_ISREG(st.st_mode):
            yield Skipped(path, NOT_REGULAR)  # reading /dev/zero never ends, a pipe waits for ever
        elif (st.st_dev, st.st_ino) not in seen:
            if st.st_ino:  # 0 on some Windows drives (network shares, sshfs-win): every file would be "the same"
                seen.add((st.st_dev, st.st_ino))
            yield path


def _named_paths(inputs: Iterable[str | os.PathLike]) -> Iterator[Path | Skipped]:
    for item in inputs:
        item = str(item)
        # a name that exists is itself, brackets and all: "notes [a].txt" chosen in the app read "notes a.txt"
        is_pattern = glob.has_magic(item) and not os.path.lexists(item)
        paths = [Path(p) for p in sorted(glob.glob(item, recursive=True))] if is_pattern else [Path(item)]
        if not paths:
            yield Skipped(Path(item), "no file matches")
        for path in paths:
            if path.is_dir():
                for root, dirs, files in os.walk(path):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                    for name in sorted(files):
                        if not name.startswith("."):
                            yield Path(root) / name
            else:
                yield path


def read_text_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str | Skipped:
    """The file's text, NFC-normalised with newlines as "\\n", or why it was skipped."""
    if path.suffix.lower() not in TEXT_SUFFIXES:
        return Skipped(path, f"not a plain-text file type ({path.suffix})")
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return Skipped(path, NOT_REGULAR)
        with open(path, "rb") as f:
            data = f.read(max_bytes)
    except OSError as e:
        return Skipped(path, f"cannot be read ({e.strerror or e})")
    if not data.strip():
        return Skipped(path, "empty")
    if has_nul_bytes(data[:65536]):
        return Skipped(path, "binary (contains NUL bytes)")
    if len(data) == max_bytes:
        data = without_a_cut_character(data)
    try:
        text, _ = decode_text(data)  # binary read as Windows-1252 is caught below
    except TextFileError as e:
        return Skipped(path, str(e))
    if sum(1 for c in text[:10000] if unicodedata.category(c) == "Cc" and c not in "\n\t") > 10:
        return Skipped(path, "binary (control characters)")
    return unicodedata.normalize("NFC", text)


def read_texts(inputs: Iterable[str | os.PathLike]) -> Iterator[tuple[Path, str] | Skipped]:
    for item in expand_inputs(inputs):
        if isinstance(item, Skipped):
            yield item
            continue
        text = read_text_file(item)
        yield text if isinstance(text, Skipped) else (item, text)


def nothing_read(skipped: list[Skipped]) -> str:
    """Why the inputs gave no text, in one line: there were no files (an empty folder), or the first reasons files were skipped."""
    if not skipped:
        return "no files in the input"
    examples = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:2])
    more = f"; and {len(skipped) - 2} more" if len(skipped) > 2 else ""
    n = len(skipped)
    return f"{'the only file' if n == 1 else f'all {n} files'} skipped ({examples}{more})"


def split_documents(text: str) -> list[str]:
    """Documents are separated by blank lines (as in the corpus); a file without any is one document per paragraph block."""
    docs = [d.strip("\n") for d in text.split("\n\n")]
    return [d for d in docs if d.strip()]
