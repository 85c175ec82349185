"""``make test`` validates our data with devtools/rasa_quiet.py: Rasa's warnings about things the
assistant does on purpose are counted in one line, each with its reason in EXPECTED; any other
warning about our data still shows."""
from __future__ import annotations

import subprocess
import warnings

from devtools.stack import RASA_BIN, ROOT


def test_our_data_gives_exactly_the_expected_warnings_and_no_other():
    with warnings.catch_warnings():  # sanic's and Rasa's imports warn about their own dependencies
        warnings.simplefilter("ignore")
        from devtools import rasa_quiet
    result = subprocess.run([str(RASA_BIN / "python"), "-m", "devtools.rasa_quiet", "data", "validate", "--config",
                             "config.yml", "--domain", "bot/domain", "--data", "data", "--fail-on-warnings", "--quiet"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Warning" not in result.stderr + result.stdout, result.stderr[-3000:]
    # Every entry still happens: one Rasa (or our data) no longer gives must leave EXPECTED.
    assert f"({len(rasa_quiet.EXPECTED)} expected warnings about our data not shown" in result.stderr


def test_a_warning_not_expected_is_shown(monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from devtools import rasa_quiet
    shown = []
    monkeypatch.setattr(rasa_quiet, "_shown", lambda message, *rest: shown.append(str(message)))
    monkeypatch.setattr(rasa_quiet, "_expected_seen", [])
    expected = next(iter(rasa_quiet.EXPECTED))
    for message in (expected, "The utterance 'utter_new' is not used in any story or rule."):
        rasa_quiet.showing_unexpected(UserWarning(message), UserWarning, "io.py", 100)
    rasa_quiet.showing_unexpected(DeprecationWarning(expected), DeprecationWarning, "io.py", 100)
    assert shown == ["The utterance 'utter_new' is not used in any story or rule.", expected]
    assert rasa_quiet._expected_seen == [expected]
