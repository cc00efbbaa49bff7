"""The `foretype` command: one entry point, subcommands run lazily.

The command line lives in app/ because it is the user-facing layer that composes model/ and
training/. Parsing imports neither torch nor Qt, so `foretype` can show its window before
torch has loaded and `foretype --help` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import logging
import sys
from pathlib import Path

from foretype.model.files import os_error_text
from foretype.training.textfiles import TEXT_SUFFIXES

LOG_PREFIX = "foretype: "  # starts every log line, which the Learn dialog tells from an error's cause
# subcommand -> module with run(args) -> int
COMMANDS = {
    "app": "foretype.app.main",
    "suggest": "foretype.model.suggest",
    "prepare": "foretype.training.prepare",
    "train": "foretype.training.train",
    "export": "foretype.training.export",
    "finetune": "foretype.training.finetune",
    "eval": "foretype.training.evaluate",
    "bench": "foretype.model.bench",
}


def app_version() -> str:
    """The installed version; a source checkout that was never installed has none."""
    try:
        return importlib.metadata.version("foretype")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


class PrintVersion(argparse.Action):
    """--version, looked up only when asked: reading the installed package's metadata costs ~35 ms."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"foretype {app_version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foretype", description="Next-word suggestions as you type, from a small language model on your machine.")
    parser.add_argument("--version", action=PrintVersion)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("app", help="launch the desktop app (the default)")
    p.add_argument("--model", help="model file (default: your personal model if you made one, else the bundled model)")
    p.add_argument("file", nargs="?", help="text file to open")

    p = sub.add_parser("suggest", help="print the suggestions for TEXT as the text before the cursor")
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("-k", type=int, default=3, help="number of suggestions (default 3)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("text", type=argument_text, help="the text before the cursor: end it with a space to predict the next word; "
                                                   "without one the last word is completed")

    p = sub.add_parser("prepare", help="read text files, train the tokenizer, encode train/val token files")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders or globs of text")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--tokenizer", choices=["unigram", "char"], default="unigram")
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--val-fraction", type=float, default=0.01, help="share of documents held out for validation")

    p = sub.add_parser("train", help="train (or resume) a language model",
                       epilog="Any training option can be set with --key=value, e.g. --lr=1e-3 --max_steps=5000.")
    p.add_argument("--data", required=True, help="folder made by `foretype prepare`")
    p.add_argument("--out", required=True, help="run folder (resumed if it holds a checkpoint)")
    p.add_argument("--preset", help="tiny, small or base (default small; a resumed run keeps its own)")
    p.add_argument("--dry-run", action="store_true", help="train a new model for 3 steps in a temporary folder, to check the data and options; writes nothing to --out")

    p = sub.add_parser("export", help="write an inference model file from a run (or a model file again)")
    p.add_argument("run", help="run folder, checkpoint file or model file")
    p.add_argument("--out", required=True, help="model file to write")
    p.add_argument("--quantize", choices=["int8"], help="run the LSTM and output layer in int8 at inference")
    p.add_argument("--vocabulary", help="vocabulary.txt of the `foretype prepare` folder: only its words (and the user's) are offered")

    p = sub.add_parser("finetune", help="retrain a model on your own writing",
                       description="Fine-tune a model on your own plain-text files (the first 4 MB of them), holding "
                                   "out a slice to measure the gain; about 5-10 minutes for 1 MB on a 2-core machine. "
                                   "Use the result with `foretype app --model OUT`; the app's Model > Learn from My "
                                   "Writing does the same and keeps the result as your personal model.")
    p.add_argument("--base", help="model to start from (default: the bundled model)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="your files or folders of text")
    p.add_argument("--out", required=True, help="personal model file to write")
    p.add_argument("--progress", choices=["bar", "jsonl"], default="bar", help="progress as a bar or as JSON lines (for the app)")

    p = sub.add_parser("eval", help="bits/char, next-word accuracy, keystroke savings, latency")
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("texts", nargs="+", metavar="TEXT", help="text files, folders or globs to evaluate on")
    p.add_argument("-k", type=int, default=3, help="n of the next-word top-n column (default 3); keystroke savings are given at k = 1, 3 and 5")
    p.add_argument("--max-words", type=int, help="evaluate only the first N words of each file")
    p.add_argument("--rules", choices=["exact", "words"], default="exact",
                   help="keystroke savings by the engine's exact text to insert, or by whole words (default exact)")
    p.add_argument("--json", action="store_true", help="print every figure as JSON")

    p = sub.add_parser("bench", help="per-keystroke latency vs context length")
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("text", nargs="?", metavar="FILE", help="text file to type from, at least 2,000 characters (default: the bundled sample)")
    p.add_argument("--pause-ms", type=float, default=0.0, help="idle this long before each key, as between a person's keys (default 0)")
    p.add_argument("--app", action="store_true",
                   help="time the keystrokes in the app's editor (its own thread, and until suggestions show)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser


def argument_text(value: str) -> str:
    """A command-line argument as text: bytes that are not UTF-8, which Python keeps as lone surrogates (the
    tokenizer refused them with a traceback), read as U+FFFD."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def opens_a_file(argv: list[str]) -> bool:
    """`foretype letter.txt` means `foretype app letter.txt`, as `foretype` alone means `foretype app`.

    Only for an existing file or a text file's name, so that a mistyped command is still an error.
    """
    if not argv or argv[0] in COMMANDS or argv[0].startswith("-"):
        return False
    path = Path(argv[0])
    return path.is_file() or path.suffix.lower() in TEXT_SUFFIXES - {""}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if opens_a_file(argv):
        argv = ["app", *argv]
    args, extra = parser.parse_known_args(argv)
    command = args.command or "app"
    if command == "train":
        args.overrides = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if command == "app" and not args.command:
        args.model, args.file = None, None
    logging.basicConfig(level=logging.INFO, format=LOG_PREFIX + "%(message)s", stream=sys.stderr)
    module_name = "foretype.app.bench" if command == "bench" and args.app else COMMANDS[command]
    from foretype.model.errors import ForetypeError

    try:
        return importlib.import_module(module_name).run(args)
    except ForetypeError as e:
        print(f"foretype {command}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # a full disk, a permission denied: one line, not a traceback
        print(f"foretype {command}: error: {os_error_text(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: the commands that keep work (train, finetune) have said so already
        print(f"foretype {command}: interrupted", file=sys.stderr)
        return 130


def main_gui() -> int:
    """Entry point of the `foretype-app` gui-script (no console window on Windows)."""
    return main(["app", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
