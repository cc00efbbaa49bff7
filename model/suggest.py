"""`foretype suggest`: the suggestions for a text, as the app would show them with the cursor at its end."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict

from .errors import ForetypeError
from .predictor import Predictor

log = logging.getLogger(__name__)


def probability_text(score: float) -> str:
    """Three significant digits: a completion's probability is that of the whole word, often under 0.001,
    which three decimals showed as "p=0.000" for the only sensible word ("See you tomor" -> tomorrow)."""
    return f"{math.exp(score):.3g}"


def run(args) -> int:
    if args.k < 1:
        raise ForetypeError(f"-k must be at least 1, not {args.k}")
    predictor = Predictor.load(args.model)
    predictor.set_text(args.text)
    suggestions = predictor.suggest(args.k)
    if args.json:
        print(json.dumps([asdict(s) for s in suggestions], ensure_ascii=False))
    else:
        for s in suggestions:
            retype = f"retype {s.retyped!r}, then " if s.retyped else ""  # "w" becomes "W", then "hat " goes in
            print(f"{s.word}\t{s.kind}\t{retype}insert {s.insert!r}\tp={probability_text(s.score)}")
        if not suggestions:  # an empty answer looked like a failure
            log.info("no suggestions for this text")
    return 0
