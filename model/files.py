"""The user's text files: read in the encodings they come in, written atomically (a crash, a kill or a full disk
never leaves a half-written file)."""

from __future__ import annotations

import codecs
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None], mode: int | None = None) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync it, then rename it over ``path``.

    On any error (a full disk included) the temporary file is removed and ``path`` is untouched.
    ``mode`` sets the file's permissions (e.g. 0o600 for the user's personal model).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str, mode: int | None = None) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")), mode=mode)


UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # Notepad's "Unicode"


def has_nul_bytes(data: bytes) -> bool:
    """Binary data, unless it is UTF-16 text (which `decode_text` reads)."""
    return b"\0" in data and not data.startswith(UTF16_BOMS)


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a file's bytes, newlines as "\\n" and without a UTF-8 BOM (saving writes none), and the encoding that read it.

    Text that is not UTF-8 is most often Windows "ANSI" text, Windows-1252 in the Americas and Western Europe:
    its curly quotes and euro signs are control characters when read as Latin-1.
    """
    if data.startswith(UTF16_BOMS):
        encoding, text = "UTF-16", data.decode("utf-16")
    else:
        for encoding in ("UTF-8", "Windows-1252"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                pass
        else:  # Latin-1 reads every byte, the five that Windows-1252 leaves undefined too
            encoding, text = "Latin-1", data.decode("latin-1")
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n"), encoding
