"""The trained model's quality gates (Rasa's own evaluation tools).

Both gates are issue 3's target, 0.95, on the held-out split (949 examples, never trained
on). Measured 2026-11-28 after the data work of issue 3: intent macro-F1 0.967, FAQ
response selection 0.971 (before: 0.923 / 0.929, then 0.933 / 0.971). Training with the
fixed seeds is repeatable on this machine: a forced retrain gave the same numbers.
"""
from __future__ import annotations

import subprocess

from devtools.held_out import held_out_scores

from devtools.stack import MODEL, RASA_BIN, ROOT

TARGET = 0.95  # issue 3
MIN_INTENT_MACRO_F1 = TARGET
MIN_FAQ_ACCURACY = TARGET


def rasa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(RASA_BIN / "rasa"), *args], cwd=ROOT, capture_output=True, text=True, timeout=1800)


def test_nlu_on_the_held_out_split_meets_the_bar(tmp_path):
    scores = held_out_scores(MODEL, tmp_path)
    assert scores.intent_macro_f1 >= MIN_INTENT_MACRO_F1, (
        f"intent macro-F1 {scores.intent_macro_f1:.3f} < {MIN_INTENT_MACRO_F1}; worst: {scores.worst_intents}")
    assert scores.faq_accuracy is not None and scores.faq_accuracy >= MIN_FAQ_ACCURACY, (
        f"FAQ response selection accuracy {scores.faq_accuracy}")


def test_every_test_story_is_followed(tmp_path):
    run = rasa("test", "core", "--model", str(MODEL), "--stories", "tests/stories", "--out", str(tmp_path),
               "--fail-on-prediction-errors", "--no-plot")
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert run.returncode == 0, (run.stdout[-2000:] + run.stderr[-2000:] + details[-3000:])
