"""Training benchmark: a full `rasa train` from scratch, timed component by component.

  make bench-train
  .venv/rasa/bin/python -m bench.train_bench [--config config.yml] [--no-evaluate]

Trains into a temporary directory with an empty cache of its own (RASA_CACHE_DIRECTORY),
so nothing is reused from an earlier training: this is what a clean clone (CI) pays.
Rasa logs "Starting/Finished training component 'X'" for every trained graph node; the
time between one component's end and the next one's start is Rasa processing the training
data for the next (tokenizing, featurizing) and is shown as such. Then the two quality
gates of `make test` on the held-out split (intent macro-F1, FAQ response selection).
Results: a Markdown table on stdout and in bench/results/train.md.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.stats import report
from devtools.held_out import held_out_scores
from devtools.stack import RASA_BIN, ROOT

RASA = RASA_BIN / "rasa"
RESULTS = ROOT / "bench" / "results"
HOOK = re.compile(r"(Starting to train|Finished training) component '(\w+)'")


def timed_training(config: Path, out: Path) -> tuple[float, list[tuple[str, float]]]:
    """Run `rasa train`; the wall time and (step, seconds) in the order Rasa ran them."""
    env = dict(os.environ, RASA_CACHE_DIRECTORY=str(out / "cache"), TF_CPP_MIN_LOG_LEVEL="2")
    command = [str(RASA), "train", "--config", str(config), "--domain", "bot/domain", "--data", "data",
               "--out", str(out), "--fixed-model-name", "model"]
    steps: list[tuple[str, float]] = []
    began = mark = time.perf_counter()
    log = (out / "train.log").open("w", encoding="utf-8")
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, encoding="utf-8", errors="replace") as rasa:
        for line in rasa.stdout:  # tqdm's bars end in \r, so they arrive with the next log line
            log.write(line)
            hook = HOOK.search(line)
            if not hook:
                continue
            now = time.perf_counter()
            kind, component = hook.groups()
            if kind.startswith("Starting"):
                steps.append((f"data for {component}" if steps else "reading and validating the data", now - mark))
            else:
                steps.append((component, now - mark))
                print(f"  · {component}: {now - mark:.1f} s", flush=True)
            mark = now
    log.close()
    if rasa.returncode:
        raise SystemExit(f"rasa train failed ({rasa.returncode}); its output is in {out / 'train.log'}")
    total = time.perf_counter() - began
    steps.append(("saving the model", total - (mark - began)))
    return total, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--no-evaluate", action="store_true", help="skip the held-out quality gates")
    parser.add_argument("--results", type=Path, default=RESULTS / "train.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"Training from scratch with {args.config.name} (load average {load:.2f}) …", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        total, steps = timed_training(args.config.resolve(), out)
        gates = None
        if not args.no_evaluate:
            print("  · evaluating on the held-out split …", flush=True)
            gates = held_out_scores(out / "model.tar.gz", out / "evaluation")
    lines = [
        f"Training benchmark, {datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}; {args.config.name}, "
        f"empty cache, load average {load:.2f} at the start.",
        "",
        "| step | seconds | share |",
        "|---|---|---|",
    ]
    lines += [f"| {step} | {seconds:.1f} | {seconds / total:.0%} |" for step, seconds in steps if seconds >= 0.05]
    lines.append(f"| **total** | **{total:.0f}** | |")
    if gates:
        lines += ["", f"Held-out split: intent macro-F1 {gates.intent_macro_f1:.3f}, FAQ response selection "
                      f"{gates.faq_accuracy:.3f} (gates 0.95)."]
    report(args.results, "\n".join(lines))


if __name__ == "__main__":
    main()
