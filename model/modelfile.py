"""One file per model: weights, config and tokenizer, loadable with torch.load(weights_only=True).

Nothing in it is code: a plain dict of tensors, numbers, strings and bytes (as a uint8 tensor).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .errors import ForetypeError
from .files import NOT_REGULAR, atomic_write
from .lstm import LSTMConfig, LSTMLanguageModel
from .recency import Lexicon
from .tokenizer import Tokenizer
from .vocabulary import Vocabulary

FORMAT = "foretype-model"
FORMAT_VERSION = 1
QUANTIZE = ("", "int8")  # as stored: none, or int8 dynamic quantization at load
ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive


class ModelFileError(ForetypeError):
    """A model file that cannot be used; the message is one line meant for the user."""


@dataclass
class LoadedModel:
    model: LSTMLanguageModel
    tokenizer: Tokenizer
    quantize: str | None = None  # "int8": apply dynamic int8 quantization for inference
    tokenizer_kind: str = "unigram"
    summary: dict = field(default_factory=dict)
    base_sha256: str | None = None
    sha256: str = ""
    lexicon: Lexicon | None = None  # a fine-tuned model's counts of the user's own words
    vocabulary: Vocabulary | None = None  # the words of the training text: the words the engine may offer besides the user's own


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_model_file(
    path: str | os.PathLike,
    model: LSTMLanguageModel,
    tokenizer: Tokenizer,
    *,
    tokenizer_kind: str,
    quantize: str | None = None,
    dtype: torch.dtype = torch.float16,
    summary: dict | None = None,
    base_sha256: str | None = None,
    lexicon: Lexicon | None = None,
    vocabulary: Vocabulary | None = None,
    mode: int | None = None,
) -> None:
    """Write atomically. Weights are stored in ``dtype`` (fp16 halves the file; inference runs in fp32)."""
    check_model_output(path)
    state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).clone() for k, v in model.state_dict().items()}
    state.pop("output.weight", None)  # tied to embedding.weight
    payload = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "state_dict": state,
        "tokenizer": torch.frombuffer(bytearray(tokenizer.model_proto), dtype=torch.uint8),
        "tokenizer_kind": tokenizer_kind,
        "quantize": quantize or "",
        "summary": summary or {},
        "base_sha256": base_sha256 or "",
    }
    if lexicon:
        payload["lexicon"] = lexicon.to_payload()
    if vocabulary:
        payload["vocabulary"] = vocabulary.to_payload()
    data = io.BytesIO()  # torch.save into the file itself reported a full disk as a RuntimeError, not an OSError
    torch.save(payload, data)
    atomic_write(path, lambda f: f.write(data.getbuffer()), mode=mode)


def check_model_output(path: str | os.PathLike) -> None:
    """Refuse an output path that holds something else than a model: `--out notes.txt`, or an input named again,
    would replace the user's writing. Called before any work, and again when saving."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise ModelFileError(f"{path} is a folder: name a model file to write")
        if not stat.S_ISREG(mode):  # reading a pipe's first bytes would wait for ever
            raise ModelFileError(f"{path} is {NOT_REGULAR}: name a model file to write")
        with open(path, "rb") as f:
            head = f.read(len(ZIP_MAGIC))
    except FileNotFoundError:
        return
    except NotADirectoryError:
        file = next(p for p in path.parents if p.exists())  # the part of the path that is a file
        raise ModelFileError(f"{path} cannot be written: {file} is a file, not a folder") from None
    except OSError as e:
        raise ModelFileError(f"{path} cannot be checked before it is replaced ({e.strerror or e})") from None
    if head and head != ZIP_MAGIC:
        raise ModelFileError(f"{path} exists and is not a model file: it was left as it is (choose another output file)")


def load_model_file(path: str | os.PathLike) -> LoadedModel:
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file")
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise _unreadable(path, e) from None
    if _fails_its_checksums(path):  # torch.load does not check them: changed bytes gave wrong suggestions, no error
        raise ModelFileError(f"{path} is damaged: its contents do not match the checksums written with them")
    return model_from_payload(payload, path)


def _fails_its_checksums(path: Path) -> bool:
    """The zip archive torch.save wrote keeps a CRC-32 of each entry; reading them all costs ~12 ms for 13 MB."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is not None
    except (zipfile.BadZipFile, OSError):
        return True


def _unreadable(path: Path, error: Exception) -> ModelFileError:
    """Why torch.load failed, in the user's terms rather than the unpickler's."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(ZIP_MAGIC))
        names = zipfile.ZipFile(path).namelist() if head == ZIP_MAGIC else []
    except zipfile.BadZipFile:  # a zip cut short: a copy or a save that did not finish
        return ModelFileError(f"{path} is damaged or incomplete: it cannot be read as a model file")
    except OSError as e:
        return ModelFileError(f"{path} cannot be read ({e.strerror or e})")
    if not head:
        return ModelFileError(f"{path} is empty")
    if not any(name.endswith("/data.pkl") for name in names):  # not what torch.save writes: another kind of file
        return ModelFileError(f"{path} is not a Foretype model file")
    if isinstance(error, pickle.UnpicklingError):  # weights_only met a class or a call: never one of ours
        return ModelFileError(f"{path} is not a Foretype model file: it holds Python objects, which are not loaded")
    return ModelFileError(f"{path} is damaged or incomplete: it cannot be read as a model file")


def is_model_payload(payload) -> bool:
    return isinstance(payload, dict) and payload.get("format") == FORMAT


def model_from_payload(payload, path: Path) -> LoadedModel:
    """The model in a model file already read with torch.load(weights_only=True), checked."""
    name = str(path)
    if not is_model_payload(payload):
        raise ModelFileError(f"{name} is not a Foretype model file")
    if payload.get("version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{name} has model format version {payload.get('version')!r}; this Foretype reads version {FORMAT_VERSION}"
        )
    if payload.get("quantize", "") not in QUANTIZE:
        raise ModelFileError(f"{name} asks for {payload['quantize']!r} quantization; this Foretype knows only int8")
    try:
        config = LSTMConfig(**payload["config"])
        tokenizer = Tokenizer(payload["tokenizer"].numpy().tobytes())
    except Exception as e:
        raise ModelFileError(f"{name} has a broken config or tokenizer ({e})") from None
    if tokenizer.vocab_size != config.vocab_size:
        raise ModelFileError(f"{name}: tokenizer has {tokenizer.vocab_size} pieces but the model expects {config.vocab_size}")
    model = LSTMLanguageModel(config)
    state = payload["state_dict"]
    expected = {k: v for k, v in model.state_dict().items() if k != "output.weight"}
    for key, tensor in expected.items():
        if key not in state:
            raise ModelFileError(f"{name} lacks weights for {key}")
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise ModelFileError(f"{name}: {key} has shape {tuple(state[key].shape)}, expected {tuple(tensor.shape)}")
        if not state[key].is_floating_point():
            raise ModelFileError(f"{name}: {key} holds {state[key].dtype} numbers, not weights")
        if not torch.isfinite(state[key]).all():  # quantizing them failed with an error about min and max
            raise ModelFileError(f"{name} is damaged: {key} has weights that are not numbers (NaN or infinite)")
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, strict=False)
    try:
        lexicon = Lexicon.from_payload(payload["lexicon"]) if "lexicon" in payload else None
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"{name} has a broken list of the user's words ({type(e).__name__}: {e})") from None
    try:
        vocabulary = Vocabulary.from_payload(payload["vocabulary"]) if "vocabulary" in payload else None
    except ValueError as e:
        raise ModelFileError(f"{name} has a broken vocabulary ({e})") from None
    model.eval()
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        quantize=payload.get("quantize") or None,
        tokenizer_kind=payload.get("tokenizer_kind", "unigram"),
        summary=dict(payload.get("summary", {})),
        base_sha256=payload.get("base_sha256") or None,
        sha256=sha256_of(path),
        lexicon=lexicon,
        vocabulary=vocabulary,
    )


def default_model_path() -> Path:
    """The model shipped inside the package."""
    return Path(__file__).parent / "assets" / "default.pt"
