"""`foretype finetune`: adapt a model to the user's own writing, on the user's machine.

    foretype finetune [--base F] INPUT... --out F2 [--progress bar|jsonl]

What it does, in order:

1. Reads the user's files and folders with `textfiles` (plain text only; every skipped file gets a
   reason). Reading stops after `MAX_INPUT_BYTES` (4 MB) and says so: a folder of 10 GB is never
   read into memory, and training could not use more than that within the time budget anyway.
   A file written mostly in characters the base model's tokenizer does not know (another script)
   is skipped with a reason: the model would learn it byte by byte and never suggest it.
2. Holds out the last `HELD_OUT_FRACTION` (15%) of each file, cut at a paragraph, line or word
   boundary: "what you write next" is what the model will be used for, and every file, one or
   many, contributes to both sides. The tokenizer stays the base one (the model file carries it).
3. Measures the base model on the held-out text, then trains with truncated BPTT (`TokenStreams`
   of train.py) and evaluates the held-out bits/char `EVALS` times over the run, keeping the best
   weights and stopping early after `patience` evaluations without improvement. The best weights
   may be the base's own (step 0): the personal model is then never worse on the held-out text.
   Each evaluation also scores general English (the forgetting guard below); weights that forgot
   too much of it are never kept.
   Training also stops when its time budget (`train_seconds`, 7 minutes) is spent, so that a
   run takes at most about 10 minutes on a slow machine whatever the input.
4. Counts the words and word pairs of the user's text into a `Lexicon` saved in F2: the engine
   offers them as the recency cache offers the words of the text being typed, with smaller
   weights. Names and terms of the user's other writing are what a model already equipped with
   that cache gains most from (figures below). The held-out figures count only the training
   part's words; the saved lexicon has all of them. A personal model fine-tuned again keeps its
   lexicon and adds to it.
5. Measures the best weights with the lexicon on the held-out text, reports before/after
   (bits/char, next-word top-3, keystroke savings at k=3 under the exact rules, from `evaluate`,
   through the live engine), and writes F2 atomically, readable only by the user, with the sha256
   of the base file. The engine simulation costs ~20 ms a keystroke with a real model on one core, so the
   report covers the held-out lines that the base model gets through in `report_seconds` (at
   most `report_words`), the same lines before and after.

Forgetting general English is held off four ways, cheapest first:

- a small learning rate (peak 3e-4, a tenth of the base training's; cosine to 3e-5) and a cap on
  the training tokens (`max_train_tokens`, about 3 epochs of 1 MB): few, small steps;
- early stopping on the held-out personal text, which also stops overfitting a small input;
- a decoupled L2 pull toward the base weights (L2-SP, Li et al. 2018): after each optimizer step
  every weight moves ``lr * pull`` of the way back to its base value, so that weights the personal
  text does not push on drift back home, with no effect on Adam's moment estimates. With Adam's
  steps of about ``lr`` a weight pushed one way settles about ``1 / pull`` from its base value;
  ``pull = 10`` bounds that drift at 0.1 (embedding weights are ~0.05-0.3) and costs little.
- a guard that bounds it: before training, `sample_probe` has the base model write general English
  (32 samples of 256 tokens at temperature 1 from the engine's start state, seeded: the base's own
  mix of dialog, reviews, chat and fiction, with no text shipped). The fine-tuned model's bits/char
  on it minus the base's estimates KL(base || fine-tuned): what the base predicted that was lost.
  Each evaluation scores it too, and a checkpoint is kept only while its probe bits/char are at
  most ``1 + max_forgetting`` times the base's; one over the bound counts as no improvement for
  early stopping. A personal model fine-tuned again is bounded against the shipped default (its
  probe and its bits/char), so repeated runs cannot each lose another 8%. Without it a small,
  very repetitive text cost general English most, which the held-out text, as repetitive, does
  not show.

Why these defaults (measurements in docs/EXPERIMENTS.md, "The personal lexicon"): the probe follows
general English within one kind of writing, not across kinds, and ``max_forgetting = 0.08`` keeps the
978 KB wiki run's best step while cutting a repetitive text's cost on general English from +7.9% to
+2.0%; lr 3e-4 beat 1e-3 and 3e-3 on a converged base; the pull costs little and is insurance. On
wiki_wikitext2 as the personal text (first 80% learned, last 20% typed) the shipped default gains
1.3 points of keystroke savings (the lexicon 1.0, the weights 0.5) for +0.1% bits/char on
multigenre_gum, in about 6-8 minutes on 2 cores.

Cancelling: Ctrl-C and SIGTERM (what the app's Cancel sends) raise KeyboardInterrupt; nothing is
written before the final atomic replace, so cancelling or killing the process at any moment
leaves a previous F2 exactly as it was (a SIGKILL during the save may leave a hidden temporary
file beside it, never a broken F2). Exit status 130.

Threads: one torch thread on a machine with 2 or 3 cores (measured here: with another process
busy, 2 threads ran a training step 9x slower than 1), half the cores up to 4 otherwise; the
process also lowers its own priority so that typing in the app stays responsive.

Progress stream (``--progress jsonl``), for the app: one JSON object per line on stdout, flushed
as written. Log messages go to stderr, never into the stream. Every object has

    event    "start" | "progress" | "warning" | "done" | "error" | "cancelled"
    phase    "reading" | "evaluating-base" | "training" | "evaluating" | "saving" | "done"
    elapsed  seconds since the command started (float)

and by event:

    start      once, after reading: files (int, files read), skipped ([{"path", "reason"}], the
               first 100), skipped_total (int), truncated (bool: the input cap was hit),
               train_chars, held_out_chars (int), total (int: training steps at most), base, out
               (paths), base_sha256
    progress   step (training steps done, 0 before training), total (as in "start"), eta (seconds
               left for the whole command, null when unknown), fraction (0..1 of the whole
               command, from elapsed and eta; never less than before), metrics ({} outside training; while training
               "loss", "lr", and "held_out_bpc" and "general_bpc" (latest evaluation of the held-out
               text and of the general-English probe, the base's before the first) and "best_bpc");
               at most twice a second, and at once after a phase change or an evaluation
    warning    message (one line for the user, e.g. the input cap was hit)
    done       out, sha256 (of F2), before and after ({"bpc", "top3", "ksr", "chars",
               "general_bpc"}: bits per character, next-word top-3 accuracy and keystroke savings
               at k=3 under the exact rules as fractions, on the same held-out sample of "chars"
               characters; bits per character of the general-English probe, unquantized weights),
               steps (taken), best_step (the weights kept; 0 = the base's), held_back (bool: a
               checkpoint better on the held-out text was not kept because it forgot too much
               general English), stopped ("finished" | "early": no more held-out improvement within
               the forgetting bound | "time": the time budget was spent), seconds
    error      message (one line; also on stderr); exit status 1
    cancelled  message; exit status 130, F2 untouched

The first line is "start", "error" or "cancelled"; the last is "done", "error" or "cancelled"
unless the process was killed. Consumers should ignore fields and events they do not know.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from foretype.model.errors import ForetypeError
from foretype.model.files import os_error_text
from foretype.model.lstm import LSTMLanguageModel, repackage_state
from foretype.model.modelfile import (LoadedModel, check_model_output, default_model_path, load_model_file, save_model_file,
                                      sha256_of)
from foretype.model.predictor import Predictor
from foretype.model.recency import Lexicon
from foretype.model.tokenizer import Tokenizer
from foretype.model.vocabulary import Vocabulary

from .config import TrainConfig
from .evaluate import Totals, evaluate_text, first_words, text_bits
from .prepare import DOC_SEPARATOR, encode_stream
from .textfiles import Skipped, expand_inputs, nothing_read, plural, read_text_file, split_documents
from .train import TokenStreams, lr_at

log = logging.getLogger(__name__)

MAX_INPUT_BYTES = 4 * 2**20  # read at most this much of the user's text
MIN_CHARS = 2_000  # about a page: less cannot be split into something to learn and something to check
HELD_OUT_FRACTION = 0.15
MAX_UNKNOWN_SHARE = 0.3  # a file with more non-space characters unknown to the tokenizer is "another script"
SCRIPT_SAMPLE_CHARS = 100_000
MAX_SKIP_WARNINGS = 20  # a folder of thousands of images should not print thousands of lines
MAX_SKIPPED_LISTED = 100  # nor make a "start" line of megabytes
STOPPED = {"finished": "all", "early": "stopped early", "time": "time budget spent"}
TRAIN_COST = 1.0  # a training token costs about one held-out scoring token (1,870 vs 1,540 tokens/s on one core), for the first ETA


class FinetuneError(ForetypeError):
    pass


@dataclass(frozen=True)
class FinetuneConfig:
    lr: float = 3e-4
    min_lr: float = 3e-5
    warmup_steps: int = 10
    pull: float = 10.0  # decoupled L2 toward the base weights, per unit of learning rate
    max_epochs: int = 3
    max_train_tokens: int = 750_000  # about 3 epochs of 1 MB of English text: ~7 minutes on one core
    batch_size: int = 16
    seq_len: int = 64
    probe_streams: int = 32  # the general-English probe: samples of the base model,
    probe_tokens: int = 256  # of this many tokens each
    max_forgetting: float = 0.08  # keep weights only while their probe bits/char are at most (1 + this) x the base's (see above)
    grad_clip: float = 1.0
    evals: int = 8  # held-out evaluations over a full run
    patience: int = 2  # stop after this many evaluations without improvement
    eval_chars: int = 60_000  # held-out characters scored at each evaluation
    train_seconds: float = 420.0  # time budget of the training phase, held-out evaluations included
    report_words: int = 2_000  # held-out words typed by the KSR / top-3 simulation, before and after,
    report_seconds: float = 45.0  # or as many as the base model's simulation gets through in this time
    seed: int = 1337


# ---------------------------------------------------------------- the user's text

@dataclass
class PersonalText:
    train_docs: list[str] = field(default_factory=list)
    held_out_docs: list[str] = field(default_factory=list)
    files: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    truncated: bool = False

    @property
    def train_chars(self) -> int:
        return sum(len(d) for d in self.train_docs)

    @property
    def held_out_chars(self) -> int:
        return sum(len(d) for d in self.held_out_docs)


def personal_lexicons(text: PersonalText, base: Lexicon | None) -> tuple[Lexicon, Lexicon]:
    """The words of the user's writing: (the training text's, for the held-out figures; all of it, to keep).

    The figures must not count the words they are measured on; the saved model keeps the held-out
    text's words too, since the latest writing says most about what comes next. A personal model
    fine-tuned again keeps what its lexicon had. Known limit: fine-tuned again on the same files, it
    counts them twice, and its old lexicon already holds the held-out words (in both figures).
    """
    measured = Lexicon.of_texts(text.train_docs)
    if base:
        measured.add(base)
    kept = Lexicon.of_texts(text.held_out_docs)
    kept.add(measured)
    return measured, kept


def split_held_out(text: str, fraction: float = HELD_OUT_FRACTION) -> tuple[str, str]:
    """(text to learn from, held-out tail): the tail is about ``fraction`` of the text, cut at a paragraph, line or word boundary."""
    target = int(len(text) * (1 - fraction))
    slack = max(1, int(len(text) * fraction / 2))  # accept a boundary this far from the target
    for boundary in ("\n\n", "\n", " "):
        cuts = [c for c in (text.rfind(boundary, target - slack, target + len(boundary)), text.find(boundary, target, target + slack)) if c > 0]
        if cuts:
            cut = min(cuts, key=lambda c: abs(c - target))
            return text[:cut], text[cut + len(boundary) :]
    return text[:target], text[target:]


def foreign_script(text: str, known: frozenset[str]) -> str | None:
    """Why ``text`` is mostly in characters the tokenizer does not know, or None if it is not."""
    counts = Counter(text[:SCRIPT_SAMPLE_CHARS])
    total = sum(n for c, n in counts.items() if not c.isspace())
    unknown = {c: n for c, n in counts.items() if not c.isspace() and c not in known}
    if not total or sum(unknown.values()) / total <= MAX_UNKNOWN_SHARE:
        return None
    common = sorted(unknown, key=unknown.__getitem__, reverse=True)
    script = next((name.split()[0].title() for c in common if (name := unicodedata.name(c, ""))), "unknown")
    return f"mostly characters the model does not know ({script} script, e.g. {''.join(common[:5])!r})"


def read_personal_text(inputs: list[str], tokenizer: Tokenizer, max_bytes: int = MAX_INPUT_BYTES) -> PersonalText:
    """The user's text split into documents to learn from and held-out documents; at most ``max_bytes`` read."""
    known = frozenset("".join(tokenizer.pieces))
    out = PersonalText()
    remaining = max_bytes
    for item in expand_inputs(inputs):
        if isinstance(item, Skipped):
            out.skipped.append(item)
            continue
        if remaining <= 0:
            out.truncated = True
            break
        text = read_text_file(item, remaining)
        reason = text.reason if isinstance(text, Skipped) else foreign_script(text, known)
        if reason:
            out.skipped.append(Skipped(item, reason))
            continue
        size = item.stat().st_size
        out.truncated |= size > remaining
        remaining -= min(size, remaining)
        out.files += 1
        learn, held_out = split_held_out(text)
        out.train_docs.extend(split_documents(learn))
        out.held_out_docs.extend(split_documents(held_out))
    return out


def nothing_to_learn(text: PersonalText) -> str:
    """The one-line reason there is not enough usable text."""
    if text.files:
        chars = text.train_chars + text.held_out_chars
        return f"only {chars:,} characters of text in the input; give at least {MIN_CHARS:,} (about a page)"
    return f"nothing to learn from: {nothing_read(text.skipped)}"


# ---------------------------------------------------------------- progress

class Progress:
    """Progress for a person (a tqdm bar and log lines on stderr) or for the app (JSON lines on stdout, see the module docstring)."""

    MIN_INTERVAL = 0.5  # seconds between two "progress" lines

    def __init__(self, mode: str = "bar", stream=None):
        self.jsonl = mode == "jsonl"
        self.stream = stream or sys.stdout
        self.started = time.monotonic()
        self.phase = "reading"
        self.bar: tqdm | None = None
        self._last = -math.inf
        self._fraction = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def emit(self, event: str, **fields) -> None:
        if self.jsonl:
            record = {"event": event, "phase": self.phase, "elapsed": round(self.elapsed, 2), **fields}
            self.stream.write(json.dumps(record) + "\n")
            self.stream.flush()

    def warning(self, message: str) -> None:
        log.warning("%s", message)
        self.emit("warning", message=message)

    def set_phase(self, phase: str, message: str) -> None:
        self.phase = phase
        self._last = -math.inf  # the next update is shown at once
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        log.info("%s", message)

    def update(self, step: int, total: int, eta: float | None, metrics: dict, force: bool = False) -> None:
        if self.phase == "training" and not self.jsonl:
            if self.bar is None:
                self.bar = tqdm(total=total, desc="fine-tuning", unit="step", dynamic_ncols=True, mininterval=1.0)
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in metrics.items()}, refresh=False)
            self.bar.update(step - self.bar.n)
        if not force and time.monotonic() - self._last < self.MIN_INTERVAL:
            return
        self._last = time.monotonic()
        if eta is not None:  # a bar that moves back when the estimate grows looks broken: it waits instead
            self._fraction = max(self._fraction, self.elapsed / (self.elapsed + eta))
        self.emit("progress", step=step, total=total, eta=None if eta is None else round(eta, 1), fraction=round(self._fraction, 4),
                  metrics={k: round(v, 6) for k, v in metrics.items()})

    def measured(self, typed: int, chars: int) -> None:
        """A person's bar while the engine types the held-out text (up to a minute a model); the app has eta and fraction."""
        if self.jsonl:
            return
        if self.bar is None:
            self.bar = tqdm(total=chars, desc="measuring", unit="char", unit_scale=True, dynamic_ncols=True, mininterval=1.0)
        self.bar.update(typed - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# ---------------------------------------------------------------- evaluation

def first_chars(text: str, n: int) -> str:
    """About the first ``n`` characters of ``text``, cut at a word boundary."""
    cut = text.rfind(" ", 0, n + 1)
    return text if len(text) <= n else text[: cut if cut > 0 else n]


def held_out_bpc(model: LSTMLanguageModel, tokenizer: Tokenizer, text: str) -> tuple[float, int]:
    """Bits per character of ``text`` and its number of tokens, scored from the live engine's start state.

    Not train.py's `evaluate_bpc`: its streams start mid-text from a zero state, where a model can be
    far off (measured: 3.83 against 2.37 bits/char on the same held-out text, one stream at 18 nats a
    token), and early stopping would compare noise.
    """
    model.eval()
    bits, tokens = text_bits(model, tokenizer, text)
    model.train()
    return bits / len(text), tokens


def sample_probe(model: LSTMLanguageModel, tokenizer: Tokenizer, streams: int, tokens: int, seed: int) -> str:
    """General English as the base model writes it, to score with `held_out_bpc`: the forgetting guard's probe.

    ``streams`` samples of ``tokens`` tokens at temperature 1 from the engine's start state, drawn
    together, from a generator of their own: the same text for a seed, and training's random numbers
    are left as they were.
    """
    generator = torch.Generator().manual_seed(seed)
    model.eval()
    with torch.inference_mode():
        logits, state = model(torch.tensor([tokenizer.encode_model_text(DOC_SEPARATOR)] * streams))  # (S, T, V)
        sampled = []
        for _ in range(tokens):
            ids = torch.multinomial(torch.softmax(logits[:, -1], dim=-1), 1, generator=generator)  # (S, 1)
            sampled.append(ids)
            logits, state = model(ids, state)
    model.train()
    return DOC_SEPARATOR.join(tokenizer.decode(row) for row in torch.cat(sampled, dim=1).tolist())


def general_english_reference(base: LoadedModel) -> LoadedModel:
    """The model whose general English the forgetting guard bounds the loss of: the shipped default when the base
    is a fine-tune of it (the same tokenizer), so that fine-tuning a personal model again and again cannot lose
    another 8% each time; else the base itself."""
    if base.base_sha256 is None:
        return base
    default = load_model_file(default_model_path())
    return default if default.tokenizer.model_proto == base.tokenizer.model_proto else base


def newest_vocabulary(base: LoadedModel, reference: LoadedModel) -> Vocabulary | None:
    """The base's vocabulary, or the reference's (the shipped default's) where it has the same words: a personal model
    made before the default's vocabulary marked names (2026-11-30) gets them when fine-tuned again."""
    if reference is base or base.vocabulary is None or reference.vocabulary is None:
        return base.vocabulary
    return reference.vocabulary if reference.vocabulary.has_same_words(base.vocabulary) else base.vocabulary


def report_pieces(docs: list[str], max_words: int) -> list[str]:
    """The held-out lines the engine's figures are measured on, in order, up to ``max_words`` words in all."""
    pieces, words = [], 0
    for line in (line for doc in docs for line in doc.split("\n") if line.strip()):
        if words >= max_words:
            break
        pieces.append(first_words(line, max_words - words))
        words += len(pieces[-1].split())
    return pieces


def held_out_figures(model: LSTMLanguageModel, tokenizer: Tokenizer, pieces: list[str], quantize: str | None,
                     max_seconds: float = math.inf, on_chars=None, lexicon: Lexicon | None = None,
                     vocabulary: Vocabulary | None = None) -> tuple[dict, int]:
    """Bits/char, next-word top-3 and KSR (k=3, exact rules) by `evaluate` through the live engine as the app runs it.

    Measures the pieces in order until ``max_seconds`` have passed (at least one piece); returns the
    figures and how many pieces they cover, so that a second model can be measured on the same ones.
    ``on_chars(n)`` is told each time the simulation has typed n more characters.
    """
    threads = torch.get_num_threads()
    predictor = Predictor(model, tokenizer, quantize, lexicon=lexicon, vocabulary=vocabulary)  # sets one thread: right for the app, not for training
    totals, started, n = Totals(), time.monotonic(), 0
    for piece in pieces:
        totals.add(evaluate_text(predictor, piece, 3, on_chars))
        n += 1
        if time.monotonic() - started > max_seconds:
            break
    figures = totals.metrics()
    torch.set_num_threads(threads)
    model.train()  # Predictor put it in eval mode
    return {"bpc": figures["bpc"], "top3": figures["top3"], "ksr": figures["ksr"]["exact"]["3"], "chars": figures["chars"]}, n


# ---------------------------------------------------------------- fine-tuning

def pull_toward(params: list[torch.Tensor], base: list[torch.Tensor], amount: float) -> None:
    """Move every weight ``amount`` of the way back to its base value (decoupled L2-SP)."""
    with torch.no_grad():
        for p, p0 in zip(params, base):
            p.lerp_(p0, amount)


def check_writable(path: Path) -> None:
    check_model_output(path)  # --out notes.txt, or one of the inputs, would lose the user's writing
    folder = next((p for p in path.absolute().parents if p.exists()), Path("/"))
    if not os.access(folder, os.W_OK):
        raise FinetuneError(f"cannot write to {folder}")


def finetune(base_path: str | os.PathLike | None, inputs: list[str], out_path: str | os.PathLike,
             config: FinetuneConfig = FinetuneConfig(), progress: Progress | None = None) -> dict:
    """Fine-tune the base model on the user's files and write the personal model; returns the "done" record."""
    progress = progress or Progress()
    base_path, out_path = Path(base_path or default_model_path()), Path(out_path)
    check_writable(out_path)  # now, not after ten minutes of training
    base = load_model_file(base_path)
    model, tokenizer = base.model, base.tokenizer
    torch.manual_seed(config.seed)

    text = read_personal_text(inputs, tokenizer)
    for s in text.skipped[:MAX_SKIP_WARNINGS]:
        log.warning("%s", s)
    if len(text.skipped) > MAX_SKIP_WARNINGS:
        log.warning("... and %d more files skipped", len(text.skipped) - MAX_SKIP_WARNINGS)
    if text.train_chars + text.held_out_chars < MIN_CHARS or not text.held_out_docs:
        raise FinetuneError(nothing_to_learn(text))

    train_tokens = encode_stream(tokenizer, text.train_docs, "encoding")
    measured_lexicon, kept_lexicon = personal_lexicons(text, base.lexicon)
    held_out_sample = first_chars(DOC_SEPARATOR.join(text.held_out_docs), config.eval_chars)
    batch = max(1, min(config.batch_size, len(train_tokens) // (config.seq_len * 8)))
    streams = TokenStreams(train_tokens, batch, config.seq_len)
    steps_per_epoch = max(1, (streams.stream_len - 1) // config.seq_len)
    total = max(1, min(config.max_epochs * steps_per_epoch, config.max_train_tokens // (batch * config.seq_len)))
    eval_every = max(1, math.ceil(total / config.evals))
    schedule = TrainConfig(lr=config.lr, min_lr=config.min_lr, warmup_steps=min(config.warmup_steps, total // 4 + 1), max_steps=total)

    progress.emit("start", files=text.files, skipped=[{"path": str(s.path), "reason": s.reason} for s in text.skipped[:MAX_SKIPPED_LISTED]],
                  skipped_total=len(text.skipped), truncated=text.truncated, train_chars=text.train_chars, held_out_chars=text.held_out_chars, total=total,
                  base=str(base_path), out=str(out_path), base_sha256=base.sha256)
    if text.truncated:
        progress.warning(f"read only the first {MAX_INPUT_BYTES // 2**20} MB of the input; the rest was left out")
    log.info("%s: learning from %s characters, checking on %s held-out characters; at most %d steps of %d x %d tokens",
             plural(text.files, "file"), f"{text.train_chars:,}", f"{text.held_out_chars:,}",
             total, batch, config.seq_len)

    # before: the quick batched held-out bits/char (the early-stopping reference), the probe's, then the engine's figures
    t0 = time.monotonic()
    best_bpc, scored = held_out_bpc(model, tokenizer, held_out_sample)
    held_out_seconds = time.monotonic() - t0
    reference = general_english_reference(base)
    probe = sample_probe(reference.model, reference.tokenizer, config.probe_streams, config.probe_tokens, config.seed)
    t0 = time.monotonic()
    base_general, _ = held_out_bpc(model, tokenizer, probe)
    eval_seconds = held_out_seconds + time.monotonic() - t0
    reference_general = base_general if reference is base else held_out_bpc(reference.model, reference.tokenizer, probe)[0]
    general_limit, best_general, held_back = (1 + config.max_forgetting) * reference_general, base_general, False
    best_state, best_step = {k: v.clone() for k, v in model.state_dict().items()}, 0
    estimated_training = TRAIN_COST * total * batch * config.seq_len * held_out_seconds / scored + config.evals * eval_seconds
    pieces = report_pieces(text.held_out_docs, config.report_words)
    step = 0

    def report(phase: str, message: str, pieces: list[str], max_seconds: float, then: float,
               lexicon: Lexicon | None = None) -> tuple[dict, int, float]:
        """The engine's held-out figures for the current weights; ``then``: seconds of work expected after this one."""
        progress.set_phase(phase, message)
        t0, chars, typed = time.monotonic(), sum(map(len, pieces)), 0

        def on_chars(n: int) -> None:
            nonlocal typed
            typed += n
            elapsed = time.monotonic() - t0
            expected = min(elapsed / max(typed / chars, 0.01), max(max_seconds, elapsed))
            eta = expected - elapsed + then + (expected if phase == "evaluating-base" else 0.0)
            progress.update(step, total, eta, {})
            progress.measured(typed, chars)

        figures, n = held_out_figures(model, tokenizer, pieces, base.quantize, max_seconds, on_chars, lexicon, base.vocabulary)
        return figures, n, time.monotonic() - t0

    before, n_pieces, report_seconds = report("evaluating-base", "measuring the base model on the held-out text", pieces,
                                              config.report_seconds, min(estimated_training, config.train_seconds), base.lexicon)

    # training: until the step or time budget is spent, or the held-out text stops improving within the forgetting bound
    progress.set_phase("training", f"fine-tuning: at most {total} steps, held-out {best_bpc:.3f} bits/char before, "
                                   f"general English {base_general:.3f} (at most {general_limit:.3f} kept)")
    params = list(model.parameters())
    base_params = [p.detach().clone() for p in params]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0, betas=(0.9, 0.99))
    state = model.init_state(batch)
    model.train()
    started, train_seconds, bad_evals, stopped = time.monotonic(), 0.0, 0, "finished"
    metrics: dict = {"held_out_bpc": best_bpc, "general_bpc": base_general, "best_bpc": best_bpc}
    while step < total:
        t = time.monotonic()
        lr = lr_at(step, schedule)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y, new_epoch = streams.next_batch()
        if new_epoch:
            state = model.init_state(batch)
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        optimizer.step()
        pull_toward(params, base_params, lr * config.pull)
        state = repackage_state(state)
        step += 1
        train_seconds += time.monotonic() - t
        metrics.update(loss=loss.item(), lr=lr)

        out_of_time = time.monotonic() - started + eval_seconds > config.train_seconds
        evaluate_now = step % eval_every == 0 or step == total or out_of_time
        if evaluate_now:
            t = time.monotonic()
            bpc, _ = held_out_bpc(model, tokenizer, held_out_sample)
            general, _ = held_out_bpc(model, tokenizer, probe)
            eval_seconds = time.monotonic() - t
            held_back |= bpc < best_bpc and general > general_limit
            if bpc < best_bpc and general <= general_limit:
                best_bpc, best_general, best_step, bad_evals = bpc, general, step, 0
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            else:
                bad_evals += 1
            metrics.update(held_out_bpc=bpc, general_bpc=general, best_bpc=best_bpc)
            if progress.bar is not None:
                progress.bar.write(f"step {step}: held-out {bpc:.3f} bits/char (best {best_bpc:.3f} at step {best_step}), "
                                   f"general English {general:.3f}")
            if step < total:
                stopped = "time" if out_of_time else "early" if bad_evals >= config.patience else stopped
        left = (total - step) * train_seconds / step + (total - step) // eval_every * eval_seconds
        eta = min(left, config.train_seconds - (time.monotonic() - started)) + report_seconds
        progress.update(step, total, max(eta, report_seconds), metrics, force=evaluate_now)
        if stopped != "finished":
            break

    # after: the best weights, on the same held-out pieces as the base
    model.load_state_dict(best_state)
    after, _, _ = report("evaluating", f"measuring the personal model (step {best_step}) on the held-out text", pieces[:n_pieces],
                         math.inf, 0.0, measured_lexicon)
    before, after = {**before, "general_bpc": round(base_general, 4)}, {**after, "general_bpc": round(best_general, 4)}
    progress.set_phase("saving", f"writing {out_path}")
    progress.update(step, total, 0.0, {}, force=True)
    summary = {
        "finetuned": time.strftime("%Y-%m-%d"),
        "files": text.files,
        "train_chars": text.train_chars,
        "held_out_chars": text.held_out_chars,
        "steps": step,
        "best_step": best_step,
        "lexicon_words": len(kept_lexicon),
        "before": before,
        "after": after,
        "finetune_config": asdict(config),
    }
    save_model_file(out_path, model, tokenizer, tokenizer_kind=base.tokenizer_kind, quantize=base.quantize,
                    summary=summary, base_sha256=base.sha256, lexicon=kept_lexicon, vocabulary=newest_vocabulary(base, reference), mode=0o600)
    progress.set_phase("done", f"wrote {out_path}")
    result = {"out": str(out_path), "sha256": sha256_of(out_path), "before": before, "after": after, "steps": step,
              "best_step": best_step, "held_back": held_back, "stopped": stopped, "seconds": round(progress.elapsed, 1)}
    progress.emit("done", **result)
    return result


def threads_for(cores: int | None) -> int:
    """One thread up to 3 cores (the editor needs one, and oversubscription is ruinous), half the cores up to 4 beyond."""
    cores = cores or 1
    return 1 if cores < 4 else min(4, cores // 2)


def run(args) -> int:
    # Ctrl-C, and the SIGTERM of the app's Cancel, stop the run before anything is written
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    torch.set_num_threads(threads_for(os.cpu_count()))
    if hasattr(os, "nice"):
        os.nice(5)  # a background job: the app's typing comes first
    progress = Progress(args.progress)
    try:
        result = finetune(args.base, args.inputs, args.out, progress=progress)
    except KeyboardInterrupt:
        message = f"cancelled; {args.out} was left as it was"
        progress.emit("cancelled", message=message)
        log.info("%s", message)
        return 130
    except (ForetypeError, OSError) as e:  # the command line prints them on stderr
        progress.emit("error", message=os_error_text(e) if isinstance(e, OSError) else str(e))  # not "[Errno 28] ..."
        raise
    finally:
        progress.close()
    b, a = result["before"], result["after"]
    if progress.jsonl:
        return 0
    print(f"held-out text ({a['chars']:,} characters): keystroke savings {b['ksr']:.1%} -> {a['ksr']:.1%}, "
          f"next-word top-3 {b['top3']:.1%} -> {a['top3']:.1%}, {b['bpc']:.3f} -> {a['bpc']:.3f} bits/char; "
          f"{result['steps']} steps ({STOPPED[result['stopped']]}), "
          f"kept step {result['best_step']}, {result['seconds']:.0f} s -> {args.out}")
    print(f"general English (text the base model writes): {b['general_bpc']:.3f} -> {a['general_bpc']:.3f} bits/char"
          + ("; later steps that forgot more of it than allowed were not kept" if result["held_back"] else ""))
    print(f"use it with: foretype app --model {args.out}")
    return 0
