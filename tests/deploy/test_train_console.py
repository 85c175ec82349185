"""`make train`'s console (devtools/train_console.py): Rasa's training output in; every line kept
in the log, the console shows each component's time, warnings about our data, the result."""
from __future__ import annotations

import io
import sys
from pathlib import Path

from devtools.train_console import TrainingConsole, run

SITE = "/work/main/.venv/rasa/lib/python3.10/site-packages"
YELLOW, RESET = "\x1b[93m", "\x1b[0m"
# (seconds since the start, line) as `rasa train` printed them in CI, shortened.
RASA_OUTPUT = [
    (0, f"{SITE}/pkg_resources/__init__.py:3117: DeprecationWarning: Deprecated call to `declare_namespace('ruamel')`."),
    (1, "2026-12-02 05:24:46 INFO     rasa.cli.train  - Started validating domain and training data..."),
    (2, f"{YELLOW}{SITE}/rasa/shared/utils/io.py:100: UserWarning: Issue found in 'data/stories.yml': "),
    (2, "Found intent 'thank_you' in stories which is not part of the domain."),
    (2, "  More info at https://rasa.com/docs/rasa/stories"),
    (2, f"{RESET}2026-12-02 05:24:57 INFO     rasa.engine.training.hooks  - Starting to train component 'JiebaTokenizer'."),
    (3, "2026-12-02 05:24:57 INFO     rasa.engine.training.hooks  - Finished training component 'JiebaTokenizer'."),
    (11, "2026-12-02 05:25:11 INFO     rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'."),
    (12, f"{YELLOW}{SITE}/rasa/shared/utils/io.py:100: UserWarning: Misaligned entity annotation in message "
         "'年假想休一下' with intent 'request_matter'. Make sure the start and end values …"),
    (12, "  1) entities include trailing whitespaces or punctuation"),
    (12, "  More info at https://rasa.com/docs/rasa/training-data-format#nlu-training-data"),
    (12, f"{RESET}{YELLOW}{SITE}/rasa/shared/utils/io.py:100: UserWarning: Misaligned entity annotation in message "
         f"'舞蹈系下周需要排练场地' with intent 'request_matter'.{RESET}"),
    (40, "Epochs:   8%|▊         | 1/12 [00:25<04:44, 25.85s/it]\rEpochs:  17%|█▋        | 2/12 [00:30<03:00]"),
    (71, "2026-12-02 05:26:57 INFO     rasa.engine.training.hooks  - Finished training component 'DIETClassifier'."),
    (72, "bot/handoff_policy.py:40: UserWarning: the handoff slot is missing"),
    (73, f"\x1b[92mYour Rasa model is trained and saved at 'models/campus.tar.gz'.{RESET}"),
]


def test_the_console_shows_times_warnings_about_our_data_and_the_result():
    out = io.StringIO()
    console = TrainingConsole(out=out)
    for seconds, text in RASA_OUTPUT:
        for part in text.split("\r"):
            console.line(part, now=float(seconds))
    console.done(Path("var/log/train.log"))
    assert out.getvalue().splitlines() == [
        "  ! Issue found in 'data/stories.yml': Found intent 'thank_you' in stories which is not part of the domain.",
        "  · JiebaTokenizer: 1 s",
        "  · DIETClassifier: 60 s",
        "  ! UserWarning: the handoff slot is missing (bot/handoff_policy.py)",
        "  (2 entity annotations do not fall on Jieba's word boundaries, so DIET does not learn those entities "
        "from them: var/log/train.log lists them)",
        "Your Rasa model is trained and saved at 'models/campus.tar.gz'.",
    ]


def test_every_line_is_logged_and_a_failure_shows_the_logs_end(tmp_path, capsys):
    script = "import sys\nfor n in range(100): print(f'line {n}')\nprint('Traceback: it broke', file=sys.stderr)\nsys.exit(3)"
    log = tmp_path / "log" / "train.log"
    assert run(log, [sys.executable, "-c", script]) == 3
    assert log.read_text(encoding="utf-8").splitlines()[:2] == ["line 0", "line 1"]
    assert "Traceback: it broke" in log.read_text(encoding="utf-8")
    shown = capsys.readouterr().out
    assert "line 99" in shown and "line 0\n" not in shown and "Traceback: it broke" in shown
    assert "Training failed (exit 3)" in shown and str(log) in shown


def test_a_training_that_succeeds_shows_no_log_lines(tmp_path, capsys):
    log = tmp_path / "train.log"
    assert run(log, [sys.executable, "-c", "print('2026-12-02 INFO something'); print('Your Rasa model is trained.')"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"    (Rasa's full output: {log})", "Your Rasa model is trained."]


def test_a_command_line_without_the_command_is_refused_with_its_usage(tmp_path, capsys):
    from devtools.train_console import main

    assert main([str(tmp_path / "train.log")]) == 2
    assert main([str(tmp_path / "train.log"), "rasa", "train"]) == 2  # the `--` before the command is missing
    assert "usage: python -m devtools.train_console LOG -- COMMAND" in capsys.readouterr().err
    assert not (tmp_path / "train.log").exists()
