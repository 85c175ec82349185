"""The NLU quality gates' measurement: Rasa's own evaluation of a model on the held-out split.

Used by `make test` (tests/bot/test_model_quality.py, which holds the bar) and by
`make bench-train` (bench/train_bench.py, which reports the scores next to the training time).
"""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devtools.stack import RASA_BIN, ROOT

HELD_OUT = ROOT / "tests" / "nlu" / "held_out.yml"
NOT_INTENTS = ("macro avg", "weighted avg", "micro avg", "accuracy")


@dataclass(frozen=True)
class HeldOutScores:
    intent_macro_f1: float
    faq_accuracy: float
    worst_intents: list[tuple[float, str]]  # the five lowest F1 scores, for a failing gate's message


def held_out_scores(model: Path, out: Path) -> HeldOutScores:
    """`rasa test nlu` on the held-out split (never trained on); its reports are left in ``out``."""
    run = subprocess.run([str(RASA_BIN / "rasa"), "test", "nlu", "--model", str(model), "--nlu", str(HELD_OUT),
                          "--out", str(out), "--no-plot"], cwd=ROOT, capture_output=True, text=True, timeout=1800,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    if run.returncode:
        raise RuntimeError(f"rasa test nlu failed ({run.returncode}):\n{run.stdout[-3000:]}{run.stderr[-3000:]}")
    intents = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    faq = json.loads((out / "response_selection_report.json").read_text(encoding="utf-8"))
    worst = sorted((v["f1-score"], k) for k, v in intents.items() if k not in NOT_INTENTS and isinstance(v, dict))
    return HeldOutScores(intents["macro avg"]["f1-score"],
                         faq.get("accuracy", faq.get("micro avg", {}).get("f1-score")), worst[:5])
