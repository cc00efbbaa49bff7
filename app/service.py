"""The prediction service: one long-lived worker thread owns the Predictor; the newest request wins.

Shaped like Qt for Python's threaded Mandelbrot example: the GUI thread stores the latest request
under a mutex and wakes the worker; the worker takes whatever is newest when it is free, so a
burst of keystrokes costs one prediction, not one per key. Results carry the request's sequence
number and reach the GUI thread as queued signals; the worker never touches a widget.
PyTorch is imported on this thread, when the first model loads, so the window is up before it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMutex, QMutexLocker, QThread, QWaitCondition, Signal

from foretype.model.errors import ForetypeError

log = logging.getLogger(__name__)

_NO_LOAD = object()  # no model load pending (None is a valid path: the bundled default)


def load_predictor(path: Path | None) -> Any:
    """Load a Predictor; importing here keeps torch off the GUI thread's start-up path."""
    from foretype.model.predictor import Predictor

    return Predictor.load(path)


@dataclass(frozen=True)
class Request:
    seq: int
    text: str  # the text before the cursor
    k: int
    capitalise: bool  # a word begun in lower case completed capitalised at a sentence's start and where it is a name


class PredictionService(QThread):
    model_loading = Signal(str)  # what is being loaded, for the status bar
    model_ready = Signal(str)  # the model's name
    model_failed = Signal(str)  # one line for the user
    suggestions_ready = Signal(int, list, float)  # seq, suggestions (best first), latency in ms

    def __init__(self, loader: Callable[[Path | None], Any] = load_predictor, parent=None):
        super().__init__(parent)
        self._loader = loader
        self._mutex = QMutex()
        self._wake = QWaitCondition()
        self._request: Request | None = None
        self._load: Any = _NO_LOAD
        self._abort = False
        self._predictor = None  # only touched on the worker thread
        self.model_path: Path | None = None  # the model in use or being loaded; None: the bundled one

    # ------------------------------------------------ called on the GUI thread

    def load_model(self, path: Path | None) -> None:
        """Load ``path`` (None: the bundled default) when the worker is free; it replaces the current model."""
        with QMutexLocker(self._mutex):
            self._load = self.model_path = path
            self._wake.wakeOne()

    def request(self, seq: int, text: str, k: int, capitalise: bool = True) -> None:
        """Ask for suggestions; replaces any request the worker has not started yet."""
        with QMutexLocker(self._mutex):
            self._request = Request(seq, text, k, capitalise)
            self._wake.wakeOne()

    def stop(self) -> None:
        """Ask the worker to finish and join it (it ends after the prediction or load it is running)."""
        with QMutexLocker(self._mutex):
            self._abort = True
            self._wake.wakeOne()
        self.wait()

    # ------------------------------------------------ the worker thread

    def run(self) -> None:
        while True:
            with QMutexLocker(self._mutex):
                while not self._abort and self._load is _NO_LOAD and self._request is None:
                    self._wake.wait(self._mutex)
                if self._abort:
                    return
                load, self._load = self._load, _NO_LOAD
                request = None
                if load is _NO_LOAD:  # a pending load goes first; the request waits for the new model
                    request, self._request = self._request, None
            if load is not _NO_LOAD:
                self._load_model(load)
            elif self._predictor is not None:
                self._predict(request)

    def _load_model(self, path: Path | None) -> None:
        """Load ``path``; if it fails, say why and load the bundled model; if that fails too, run without one."""
        failures: list[str] = []
        for candidate in (path, None) if path is not None else (None,):
            self.model_loading.emit(str(candidate) if candidate else "the default model")
            started = time.perf_counter()
            try:
                self._predictor = self._loader(candidate)
                self._predictor.suggest(1)  # first calls into torch are slow: pay for them now, not on a keystroke
            except Exception as e:
                self._predictor = None
                failures.append(str(e) if isinstance(e, ForetypeError) else f"{type(e).__name__}: {e}")
                log.warning("model %s failed to load: %s", candidate or "default", failures[-1])
                if candidate is not None:
                    with QMutexLocker(self._mutex):
                        if self._load is _NO_LOAD:  # a load asked for since has set model_path to its own file
                            self.model_path = None
                    self.model_failed.emit(f"{failures[-1]}. Falling back to the default model.")
                continue
            name = getattr(self._predictor, "name", "model")
            log.info("model %s loaded in %.2f s", name, time.perf_counter() - started)
            self.model_ready.emit(name)
            return
        self.model_failed.emit(". ".join(failures) + ". Suggestions are off until a model is chosen in Settings.")

    def _predict(self, request: Request) -> None:
        started = time.perf_counter()
        try:
            self._predictor.set_text(request.text)
            self._predictor.capitalise = request.capitalise
            suggestions = self._predictor.suggest(request.k)
        except Exception:  # a bug in the engine must not end the thread and silence the app
            log.exception("prediction failed")
            suggestions = []
        self.suggestions_ready.emit(request.seq, suggestions, (time.perf_counter() - started) * 1000)
