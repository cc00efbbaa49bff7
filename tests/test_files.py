"""Reading the user's text files: encodings, damaged UTF-16, line endings and BOM (the window's saving is in test_app.py)."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from foretype.model.files import TextFileError, TextFormat, decode_text
from foretype.training.textfiles import NOT_REGULAR, Skipped, expand_inputs, plural, read_text_file

BAD_UTF16 = {
    "odd length": codecs.BOM_UTF16_LE + "hi".encode("utf-16-le") + b"x",
    "lone high surrogate": codecs.BOM_UTF16_LE + b"\x00\xd8a\x00",
    "lone low surrogate": codecs.BOM_UTF16_BE + b"\xdc\x00\x00a",
    "cut pair": codecs.BOM_UTF16_LE + b"a\x00\x00\xd8",
}


@pytest.mark.parametrize("data", BAD_UTF16.values(), ids=BAD_UTF16.keys())
def test_damaged_utf16_is_a_one_line_error_not_a_unicode_error(data):
    with pytest.raises(TextFileError, match=r"^it is marked as UTF-16 text but is not valid UTF-16 at byte \d+$"):
        decode_text(data)


def test_learn_skips_damaged_utf16_with_a_reason(tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes(BAD_UTF16["odd length"])
    assert read_text_file(path) == Skipped(path, "it is marked as UTF-16 text but is not valid UTF-16 at byte 6")


def test_a_byte_windows_1252_leaves_undefined_keeps_the_rest_windows_1252():
    text, text_format = decode_text(b"\x93caf\xe9\x94 \x80 \x81\x8d\x8f\x90\x9d")
    assert text == "\u201ccaf\u00e9\u201d \u20ac \x81\x8d\x8f\x90\x9d"  # the five as Latin-1 reads them
    assert text_format.encoding == "Windows-1252"


@pytest.mark.parametrize("data, text, text_format", [
    (b"\xef\xbb\xbfone\r\ntwo\r\n", "one\ntwo\n", TextFormat("UTF-8", "\r\n", True)),
    (b"one\ntwo", "one\ntwo", TextFormat("UTF-8", "\n", False)),
    (b"one\rtwo\r", "one\ntwo\n", TextFormat("UTF-8", "\r", False)),
    (b"one\r\ntwo\r\nthree\n", "one\ntwo\nthree\n", TextFormat("UTF-8", "\r\n", False)),  # mixed: most lines'
    (b"total\r 5\nline two\nline three\n", "total\n 5\nline two\nline three\n", TextFormat("UTF-8", "\n", False)),  # a stray CR
    (b"no line break", "no line break", TextFormat("UTF-8", "\n", False)),
    ("caf\u00e9\r\n".encode("utf-16"), "caf\u00e9\n", TextFormat("UTF-16", "\r\n", False)),  # its BOM is not UTF-8's
    (b"caf\xe9\r\n", "caf\u00e9\n", TextFormat("Windows-1252", "\r\n", False)),
])
def test_decode_text_reports_line_endings_and_a_utf8_bom(data, text, text_format):
    assert decode_text(data) == (text, text_format)


def test_pipes_and_devices_are_skipped_not_read_and_each_file_is_read_once(tmp_path):
    # a pipe in a folder hung eval, prepare and finetune; "**" through a link back up the tree read one file 41 times
    folder = tmp_path / "writing"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "letter.txt").write_text("Dear Anna,\n")
    (folder / "sub" / "up").symlink_to("..")
    os.mkfifo(folder / "pipe.txt")
    found = list(expand_inputs([f"{folder}/**", str(folder), str(folder / "sub" / "letter.txt"), "/dev/zero"]))
    files = [item for item in found if not isinstance(item, Skipped)]
    assert files == [folder / "sub" / "letter.txt"]
    reasons = {item.path.name: item.reason for item in found if isinstance(item, Skipped)}
    assert reasons["pipe.txt"] == reasons["zero"] == NOT_REGULAR
    assert read_text_file(folder / "pipe.txt") == Skipped(folder / "pipe.txt", NOT_REGULAR)


def test_plural():
    assert [plural(n, "file") for n in (0, 1, 2, 1024)] == ["0 files", "1 file", "2 files", "1,024 files"]


def test_files_on_drives_without_inode_numbers_are_all_read(tmp_path, monkeypatch):
    # some Windows drives give every file inode 0: all but the first were dropped as "the same file"
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(name)
    real_stat = Path.stat

    def without_inodes(path, **kwargs):
        st = real_stat(path, **kwargs)
        return os.stat_result((st.st_mode, 0, *tuple(st)[2:]))

    monkeypatch.setattr(Path, "stat", without_inodes)
    assert [p.name for p in expand_inputs([str(tmp_path)])] == ["a.txt", "b.txt"]


def test_a_name_with_brackets_that_exists_is_read_as_itself_not_as_a_pattern(tmp_path):
    # the app's picker passed "notes [a].txt", which as a pattern matched "notes a.txt", a file never chosen;
    # "Letters [2024]" matched nothing
    (tmp_path / "notes [a].txt").write_text("mine")
    (tmp_path / "notes a.txt").write_text("another file")
    (tmp_path / "Letters [2024]").mkdir()
    (tmp_path / "Letters [2024]" / "b.txt").write_text("a letter")
    found = list(expand_inputs([str(tmp_path / "notes [a].txt"), str(tmp_path / "Letters [2024]")]))
    assert [p.name for p in found] == ["notes [a].txt", "b.txt"]
    assert [p.name for p in expand_inputs([str(tmp_path / "notes [ab].txt")])] == ["notes a.txt"]  # still a pattern
