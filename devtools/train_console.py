"""`make train`'s console: Rasa's training output in, what a person needs out.

  python -m devtools.train_console var/log/train.log -- <python> -m devtools.rasa_quiet train …

Every line goes to the log file. The console shows each component as it finishes, with its time
(the long ones are DIET and the ResponseSelector), warnings about our data other than the ones
devtools/rasa_quiet.py explains, one line counting the entity annotations that do not fall on
Jieba's word boundaries (the log lists them), and the result. Rasa's INFO lines, progress bars,
and the deprecations libraries raise about their own dependencies stay in the log. When training
fails, the log's last lines are shown too. Runs in either venv: the standard library only.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, TextIO

STARTED = re.compile(r"Starting to train component '(\w+)'")
FINISHED = re.compile(r"Finished training component '(\w+)'")
# path:line: Category: message — Rasa's warnings about our data come coloured (\x1b[93m … \x1b[0m),
# a block that may span several lines; other Python warnings in the standard one-line format.
WARNING = re.compile(r"^(?P<path>\S+?):\d+: (?P<category>\w*Warning): (?P<message>.*)")
YELLOW, RESET = "\x1b[93m", "\x1b[0m"
MISALIGNED = "Misaligned entity annotation"
RESULT = "Your Rasa model is trained"
FAILED_LINES_SHOWN = 40


@dataclass
class TrainingConsole:
    """Reads Rasa's lines one at a time and says what a person needs on ``out``."""
    out: TextIO = field(default_factory=lambda: sys.stdout)  # (looked up when made: tests capture it)
    started: dict[str, float] = field(default_factory=dict)
    misaligned: int = 0
    warning: Optional[list[str]] = None  # the lines of a coloured warning being read
    result: str = ""

    def line(self, raw: str, now: Optional[float] = None) -> None:
        now = time.monotonic() if now is None else now
        if self.warning is not None:
            ended, _, rest = raw.partition(RESET)
            self.warning.append(ended)
            if not _:
                return
            self.warned(self.warning)
            self.warning, raw = None, rest
        if YELLOW in raw:
            before, _, block = raw.partition(YELLOW)
            ended, reset, rest = block.partition(RESET)
            self.warning = [ended]
            if reset:
                self.warned(self.warning)
                self.warning = None
                self.line(rest, now)
            return
        text = raw.rstrip()
        if found := STARTED.search(text):
            self.started[found.group(1)] = now
        elif found := FINISHED.search(text):
            began = self.started.pop(found.group(1), now)
            self.say(f"  · {found.group(1)}: {now - began:.0f} s")
        elif (found := WARNING.match(text)) and "site-packages" not in found.group("path"):
            self.say(f"  ! {found.group('category')}: {found.group('message')} ({found.group('path')})")
        elif RESULT in text:
            self.result = re.sub(r"\x1b\[\d+m", "", text).strip()

    def warned(self, lines: list[str]) -> None:
        """A coloured warning (Rasa's, about our data): counted if misaligned entities, else shown."""
        found = WARNING.match(lines[0].strip()) if lines else None
        if found is None:
            return
        if MISALIGNED in found.group("message"):
            self.misaligned += 1
            return
        said = [found.group("message").strip()] + [line.strip() for line in lines[1:]
                                                    if line.strip() and not line.strip().startswith("More info at")]
        self.say("  ! " + " ".join(part for part in said if part))

    def done(self, log: Path) -> None:
        if self.misaligned:
            self.say(f"  ({self.misaligned} entity annotations do not fall on Jieba's word boundaries, so "
                     f"DIET does not learn those entities from them: {log} lists them)")
        if self.result:
            self.say(self.result)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def run(log: Path, command: list[str]) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    console = TrainingConsole()
    console.say(f"    (Rasa's full output: {log})")
    with log.open("w", encoding="utf-8") as kept, subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
            errors="replace") as rasa:
        assert rasa.stdout is not None
        for text in rasa.stdout:
            kept.write(text)
            kept.flush()
            for part in text.split("\r"):  # progress bars redraw with carriage returns
                console.line(part)
    console.done(log)
    if rasa.returncode != 0:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        console.say("\n".join(lines[-FAILED_LINES_SHOWN:]))
        console.say(f"Training failed (exit {rasa.returncode}): the lines above are the end of {log}.")
    return rasa.returncode


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m devtools.train_console LOG -- COMMAND …", file=sys.stderr)
        return 2
    return run(Path(argv[0]), argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
