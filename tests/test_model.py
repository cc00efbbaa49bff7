"""The LSTM model, the tokenizer and the model file format."""

from __future__ import annotations

import errno
import os
import re
import zipfile

import pytest
import torch
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from foretype.model import files as files_module
from foretype.model.lstm import LSTMConfig, LSTMLanguageModel
from foretype.model.modelfile import FORMAT_VERSION, ModelFileError, load_model_file, save_model_file
from foretype.model.recency import Lexicon
from foretype.model.tokenizer import (GrowingModelText, Tokenizer, from_model_text, normalized_model_text, to_model_text,
                                      unescape_bytes)
from foretype.model.vocabulary import Vocabulary


@pytest.fixture(scope="module")
def tokenizer(corpus_dir):
    lines = (" " + line for line in (corpus_dir / "a.txt").read_text().splitlines() if line)
    return Tokenizer.train(lines, "unigram", 400)


def test_forward_all_at_once_equals_token_by_token():
    torch.manual_seed(0)
    model = LSTMLanguageModel(LSTMConfig(vocab_size=50, embed_dim=8, hidden_dim=16, n_layers=2, dropout=0.0)).eval()
    ids = torch.randint(0, 50, (2, 12))
    with torch.no_grad():
        all_logits, all_state = model(ids, model.init_state(2))
        state, step_logits = model.init_state(2), []
        for t in range(ids.shape[1]):
            logits, state = model(ids[:, t : t + 1], state)
            step_logits.append(logits)
    torch.testing.assert_close(torch.cat(step_logits, dim=1), all_logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(state[0], all_state[0], rtol=1e-5, atol=1e-5)
    with torch.no_grad():  # advance(): the same state without the logits
        advanced = model.advance(ids, model.init_state(2))
    torch.testing.assert_close(advanced[1], all_state[1], rtol=1e-5, atol=1e-5)


def test_output_layer_is_tied_to_embedding():
    model = LSTMLanguageModel(LSTMConfig(vocab_size=50, embed_dim=8, hidden_dim=16))
    assert model.output.weight is model.embedding.weight
    assert model.output.weight.data_ptr() == model.embedding.weight.data_ptr()


def test_state_is_not_stored_on_the_module():
    model = LSTMLanguageModel(LSTMConfig(vocab_size=20, embed_dim=4, hidden_dim=8, n_layers=1, dropout=0.0)).eval()
    ids = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        first, _ = model(ids)
        model(torch.tensor([[5, 6, 7]]))
        again, _ = model(ids)
    torch.testing.assert_close(first, again)


@given(st.text(alphabet="abc XYZ,.'\n-é☃", max_size=60))
@settings(max_examples=60, deadline=None)
def test_model_text_round_trips(text):
    assert from_model_text(to_model_text(text)) == text


EDITS = st.lists(st.one_of(st.text(alphabet="ab e\u0301\u0308\u0327c\n\u00e9\t\u00a0", max_size=6), st.integers(0, 40)), max_size=30)


@given(EDITS)
@example(["e x", 1, "\u0301"])  # the space after the head deleted, then an accent that composes with its last letter
@example(["a b", "  ", "\n", "\t"])  # a run of spaces the head must not end in: which of them the model reads depends on what follows
@settings(max_examples=200, deadline=None)
def test_the_growing_model_text_is_the_model_text_after_any_edits(edits):
    """Typing, backspacing into the head, combining accents typed after a space was deleted ("e" + "\u0301" is "\u00e9")."""
    growing, text = GrowingModelText(), ""
    for edit in edits:
        text = text[:edit] if isinstance(edit, int) else text + edit
        assert growing(text) == normalized_model_text(text)


@pytest.mark.parametrize("text, model_text", [("a  b", " a b"), ("a \n\tb", " a\n b"), ("a\n\nb", " a\n \n b"),
                                              ("a\n  \nb", " a\n \n b"), ("  a ", " a "), ("a\u00a0\u00a0", " a ")])
def test_the_model_reads_single_spaces_and_blank_lines_as_it_learned_them(text, model_text):
    assert normalized_model_text(text) == model_text


def test_tokenizer_round_trips_and_marks_word_starts(tokenizer):
    text = "Anna likes the book.\nI don't know, well-known café ☃ 1999!"
    assert tokenizer.decode(tokenizer.encode(text)) == text
    ids = tokenizer.encode("Anna likes the book")
    starts = [i for i in ids if i in tokenizer.word_start_ids]
    assert len(starts) == 4  # each word begins with a piece that starts with a space
    assert tokenizer.vocab_size > 256


@given(st.lists(st.sampled_from(["the", "book", "Anna", "likes", ",", ".", "don't", "\n", "xyz"]), max_size=12),
       st.sampled_from([" ", "\n"]), st.sampled_from(["book", "a", "Anna likes"]))
@settings(max_examples=60, deadline=None)
def test_text_before_whitespace_encodes_the_same_whatever_follows(tokenizer, words, space, rest):
    """The live engine relies on this: tokens never cross whitespace."""
    head = " ".join(words).rstrip()  # spaces at its end read as one with what follows
    assume(head)  # spaces at the document's start too
    assert tokenizer.encode(head + space + rest)[: len(tokenizer.encode(head))] == tokenizer.encode(head)


def _tiny(tokenizer):
    torch.manual_seed(0)
    return LSTMLanguageModel(LSTMConfig(tokenizer.vocab_size, embed_dim=8, hidden_dim=16, n_layers=1, dropout=0.0)).eval()


def test_byte_pieces_spell_the_characters_no_piece_holds(tokenizer):
    text = " caf\u00e9 Zo\u00eb na\u00efve \u2014 \U0001f600"  # one to four UTF-8 bytes
    escaped = tokenizer.escape_bytes(text)
    assert "".join(tokenizer.pieces[i] for i in tokenizer.encode_model_text(text)) == escaped
    assert escaped != text and unescape_bytes(escaped) == text
    assert unescape_bytes(escaped[:4]) == " caf" and unescape_bytes(escaped[:5]) is None  # "é" cut after its first byte


def test_a_letter_of_another_script_reads_as_x(tokenizer):
    # hundreds of byte tokens the model never learned put its state off its training text
    assert tokenizer.encode("\u0645\u0631\u062d\u0628\u0627 \u6771\u4eac. The \u03b1 caf\u00e9") == tokenizer.encode("xxxxx xx. The x caf\u00e9")


def test_model_file_round_trips(tmp_path, tokenizer):
    model = _tiny(tokenizer)
    path = tmp_path / "m.pt"
    save_model_file(path, model, tokenizer, tokenizer_kind="unigram", dtype=torch.float32, summary={"steps": 3})
    loaded = load_model_file(path)
    ids = torch.tensor([tokenizer.encode("Anna likes the book")])
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(ids)[0], model(ids)[0])
    assert loaded.tokenizer.model_proto == tokenizer.model_proto
    assert loaded.summary == {"steps": 3}
    assert len(loaded.sha256) == 64
    assert not list(tmp_path.glob("*.tmp"))


BROKEN_WORD_LISTS = {
    "counts cut short": lambda lexicon: {**lexicon, "word_counts": lexicon["word_counts"][:-1]},
    "not a dict": lambda lexicon: torch.zeros(3),
    "a pair counted zero times": lambda lexicon: {**lexicon, "pairs": lexicon["pairs"] * torch.tensor([1, 1, 0])},
    "a pair of unknown words": lambda lexicon: {**lexicon, "pairs": lexicon["pairs"] + 100},
}


@pytest.mark.parametrize("breakage", BROKEN_WORD_LISTS)
def test_a_personal_word_list_round_trips_and_a_broken_one_fails_clearly(tmp_path, tokenizer, breakage):
    path = tmp_path / "m.pt"
    lexicon = Lexicon.of_texts(["Anna Zorblax came home", "Anna Zorblax left"])
    save_model_file(path, _tiny(tokenizer), tokenizer, tokenizer_kind="unigram", lexicon=lexicon)
    loaded = load_model_file(path)
    assert loaded.lexicon._words == lexicon._words and loaded.lexicon._followers == lexicon._followers
    payload = torch.load(path, weights_only=True)
    payload["lexicon"] = BROKEN_WORD_LISTS[breakage](payload["lexicon"])
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match="broken list of the user's words"):
        load_model_file(path)


def test_a_vocabulary_round_trips_and_a_broken_one_fails_clearly(tmp_path, tokenizer):
    path = tmp_path / "m.pt"
    save_model_file(path, _tiny(tokenizer), tokenizer, tokenizer_kind="unigram", vocabulary=Vocabulary(["anna", "book"]))
    assert "Anna" in load_model_file(path).vocabulary and "zorblax" not in load_model_file(path).vocabulary
    payload = torch.load(path, weights_only=True)
    payload["vocabulary"] = torch.zeros(3)
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match="broken vocabulary"):
        load_model_file(path)


def test_truncated_model_file_fails_clearly(tmp_path, tokenizer):
    path = tmp_path / "m.pt"
    save_model_file(path, _tiny(tokenizer), tokenizer, tokenizer_kind="unigram")
    path.write_bytes(path.read_bytes()[:-500])
    with pytest.raises(ModelFileError, match="m.pt is damaged or incomplete"):
        load_model_file(path)


def test_wrong_version_fails_clearly(tmp_path, tokenizer):
    path = tmp_path / "m.pt"
    save_model_file(path, _tiny(tokenizer), tokenizer, tokenizer_kind="unigram")
    payload = torch.load(path, weights_only=True)
    payload["version"] = FORMAT_VERSION + 1
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match=f"version {FORMAT_VERSION + 1}"):
        load_model_file(path)


def test_changed_bytes_fail_their_checksums_clearly(tmp_path, tokenizer):
    # torch.load does not check the zip's checksums: a damaged default.pt gave wrong suggestions and no error
    path = tmp_path / "m.pt"
    save_model_file(path, _tiny(tokenizer), tokenizer, tokenizer_kind="unigram", dtype=torch.float32)
    data = bytearray(path.read_bytes())
    weights = data.find(b"PK", len(data) // 2)  # an entry in the second half: weights
    data[weights - 40 : weights - 20] = bytes(20)
    path.write_bytes(data)
    with pytest.raises(ModelFileError, match="m.pt is damaged: its contents do not match the checksums"):
        load_model_file(path)


@pytest.mark.parametrize("change, message", [
    (lambda p: p["state_dict"]["lstm.weight_hh_l0"].fill_(float("nan")), "weights that are not numbers"),
    (lambda p: p["state_dict"].update({"embedding.weight": p["state_dict"]["embedding.weight"].long()}), "holds torch.int64 numbers"),
    (lambda p: p.update(quantize="int4"), "asks for 'int4' quantization"),
    (lambda p: p.update(version=str(FORMAT_VERSION)), f"has model format version '{FORMAT_VERSION}'; this Foretype reads version"),
])
def test_weights_that_are_no_numbers_and_unknown_fields_fail_clearly(tmp_path, tokenizer, change, message):
    path = tmp_path / "m.pt"
    save_model_file(path, _tiny(tokenizer), tokenizer, tokenizer_kind="unigram")
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match=re.escape(message)):
        load_model_file(path)


def test_a_full_disk_while_saving_is_an_os_error_and_leaves_the_old_file(tmp_path, tokenizer, monkeypatch):
    # torch.save writing into the file reported ENOSPC as a RuntimeError: a traceback, and no "error" event for the app
    path = tmp_path / "m.pt"
    path.write_bytes(b"PK\x03\x04 an older model")
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, f):
            self.f, self.room = f, 2000

        def write(self, data):
            self.room -= len(data)
            if self.room < 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.f.write(data)

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(files_module.os, "fdopen", lambda fd, mode: FullDisk(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="No space left"):
        save_model_file(path, _tiny(tokenizer), tokenizer, tokenizer_kind="unigram")
    assert path.read_bytes() == b"PK\x03\x04 an older model" and os.listdir(tmp_path) == ["m.pt"]


def test_a_model_is_never_written_over_a_file_of_another_kind(tmp_path, tokenizer):
    notes = tmp_path / "notes.txt"
    notes.write_text("Dear Anna,")
    with pytest.raises(ModelFileError, match="notes.txt exists and is not a model file"):
        save_model_file(notes, _tiny(tokenizer), tokenizer, tokenizer_kind="unigram")
    assert notes.read_text() == "Dear Anna,"
    os.mkfifo(tmp_path / "pipe.pt")  # checking its first bytes waited for ever
    with pytest.raises(ModelFileError, match="pipe.pt is not a regular file"):
        save_model_file(tmp_path / "pipe.pt", _tiny(tokenizer), tokenizer, tokenizer_kind="unigram")
    for under_a_file in (notes / "model.pt", notes / "sub" / "model.pt"):
        with pytest.raises(ModelFileError, match=f"cannot be written: {re.escape(str(notes))} is a file, not a folder"):
            save_model_file(under_a_file, _tiny(tokenizer), tokenizer, tokenizer_kind="unigram")


def test_wrong_shapes_fail_clearly(tmp_path, tokenizer):
    path = tmp_path / "m.pt"
    save_model_file(path, _tiny(tokenizer), tokenizer, tokenizer_kind="unigram")
    payload = torch.load(path, weights_only=True)
    payload["config"]["hidden_dim"] = 32
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match="shape"):
        load_model_file(path)


class RunsCode:
    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_pickle_that_would_run_code_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "code-ran"
    evil = RunsCode()
    evil.marker = str(marker)
    path = tmp_path / "evil.pt"
    torch.save({"format": "foretype-model", "payload": evil}, path)
    with pytest.raises(ModelFileError, match="evil.pt is not a Foretype model file: it holds Python objects"):
        load_model_file(path)
    assert not marker.exists()


def test_missing_and_garbage_files_fail_clearly(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        load_model_file(tmp_path / "nope.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00\x01 not a model" * 100)
    with pytest.raises(ModelFileError, match=f"^{re.escape(str(garbage))} is not a Foretype model file$"):
        load_model_file(garbage)
    other_zip = tmp_path / "notes.docx"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(ModelFileError, match=f"^{re.escape(str(other_zip))} is not a Foretype model file$"):
        load_model_file(other_zip)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError, match=f"^{re.escape(str(empty))} is empty$"):
        load_model_file(empty)
    with pytest.raises(ModelFileError, match=f"^{re.escape(str(tmp_path))} is a folder, not a model file$"):
        load_model_file(tmp_path)
