"""The user's text files: read in the encodings they come in, written atomically (a crash, a kill or a full disk
never leaves a half-written file)."""

from __future__ import annotations

import codecs
import encodings.cp1252
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import ForetypeError


TEMPORARY_SUFFIX = ".tmp"
NOT_REGULAR = "not a regular file (a device, a pipe or a socket)"  # reading /dev/zero never ends, a pipe waits for ever


def refused_folder(e: OSError) -> Path | None:
    """The folder that refused atomic_write's temporary file (".notes.txt.k2j4x9.tmp"), where ``e`` is about that file:
    said as such, not as an error about the temporary file, nor about the target ("no such file" in /proc)."""
    if e.filename is None or e.filename2 is not None:
        return None
    path = Path(e.filename)
    return path.parent if path.name.startswith(".") and path.name.endswith(TEMPORARY_SUFFIX) else None


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None], mode: int | None = None) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync it, then rename it over ``path``.

    On any error (a full disk included) the temporary file is removed and ``path`` is untouched.
    ``mode`` sets the file's permissions (e.g. 0o600 for the user's personal model).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent)
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


def os_error_text(e: OSError) -> str:
    """One line for an OSError, naming the user's file: not the temporary file that atomic_write writes first."""
    reason = e.strerror or str(e)
    if e.filename2 is not None:  # renaming the temporary file over the target failed
        return f"{reason}: {e.filename2}"
    folder = refused_folder(e)
    if folder is not None:
        return f"cannot create files in {folder} ({reason})"
    return f"{reason}: {e.filename}" if e.filename is not None else reason


def usual_file_mode() -> int:
    """The permissions a new file gets under the user's umask (0o644 with the usual 022), for files to share (an
    exported model, a document): atomic_write's temporary file is readable only by the user unless told otherwise."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(path: str | os.PathLike, text: str, mode: int | None = None) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")), mode=mode)


UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # Notepad's "Unicode"

# Windows-1252 as Windows reads it: the five bytes the standard leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) are the
# control characters of the same number, as in Latin-1: a file with one of them keeps its curly quotes
WINDOWS_1252 = "".join(chr(byte) if char == "\ufffe" else char
                       for byte, char in enumerate(encodings.cp1252.decoding_table))


class TextFileError(ForetypeError):
    """A file's bytes are not text in the encoding they are marked with; the message follows "Could not open FILE: "."""


@dataclass(frozen=True)
class TextFormat:
    """How a file stored its text: saving keeps its line endings and UTF-8 BOM, as the user's other tools expect."""

    encoding: str = "UTF-8"
    newline: str = "\n"
    bom: bool = False

    @classmethod
    def from_dict(cls, values: dict) -> "TextFormat":
        """The format `dataclasses.asdict` wrote (a draft's); ValueError for anything else."""
        text_format = cls(**values)
        if not (isinstance(text_format.encoding, str) and text_format.newline in ("\n", "\r\n", "\r") and isinstance(text_format.bom, bool)):
            raise ValueError(f"not a text format: {values!r}")
        return text_format

    def file_text(self, text: str) -> str:
        """``text`` (newlines as "\\n") as the file holds it, to be written as UTF-8 whatever it was read as."""
        return ("\ufeff" if self.bom else "") + text.replace("\n", self.newline)


def most_common_newline(text: str) -> str:
    """The line ending most of ``text``'s lines have ("\\n" on a tie or none): one stray CR must not set the style."""
    crlf = text.count("\r\n")
    counts = {"\n": text.count("\n") - crlf, "\r\n": crlf, "\r": text.count("\r") - crlf}
    return max(counts, key=counts.__getitem__)


def without_a_cut_character(data: bytes) -> bytes:
    """A read that stopped at a limit may end inside a UTF-8 character: without its first bytes the text is still UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start >= len(data) - 4:
            return data[: e.start]
    return data


def has_nul_bytes(data: bytes) -> bool:
    """Binary data, unless it is UTF-16 text (which `decode_text` reads)."""
    return b"\0" in data and not data.startswith(UTF16_BOMS)


def decode_text(data: bytes) -> tuple[str, TextFormat]:
    """The text of a file's bytes, newlines as "\\n" and without a BOM, and how the file stored it.

    Text that is not UTF-8 is most often Windows "ANSI" text, Windows-1252 in the Americas and Western Europe:
    its curly quotes and euro signs are control characters when read as Latin-1. Every byte is Windows-1252 text,
    so only a file marked as UTF-16 can fail to decode: TextFileError.
    """
    if data.startswith(UTF16_BOMS):
        try:
            encoding, text = "UTF-16", data.decode("utf-16")
        except UnicodeDecodeError as e:  # an odd number of bytes, or half of a surrogate pair
            raise TextFileError(f"it is marked as UTF-16 text but is not valid UTF-16 at byte {e.start}") from e
    else:
        try:
            encoding, text = "UTF-8", data.decode("utf-8")
        except UnicodeDecodeError:
            encoding, text = "Windows-1252", codecs.charmap_decode(data, "strict", WINDOWS_1252)[0]
    text_format = TextFormat(encoding, most_common_newline(text), text.startswith("\ufeff"))
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n"), text_format


def decode_text_file(data: bytes) -> tuple[str, TextFormat]:
    """`decode_text` for a file the user asked for: binary data is refused with a TextFileError, not read as Windows-1252."""
    if has_nul_bytes(data):
        raise TextFileError("it is not a text file (it has NUL bytes)")
    return decode_text(data)
