"""bot/server.py refuses to start — one line saying what to do, exit status 2, Rasa not run and
not patched — on a Rasa its fixes were not written for, on one lacking a name they replace, and
on a bad setting. (Its handling of the API's secret: test_rasa_api_secret.py.)"""
from __future__ import annotations

import sys
import types

import pytest
import rasa
import rasa.cli.run
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor

from bot import server, settings


@pytest.fixture
def started(monkeypatch):
    """server.main with Rasa's own main replaced by a recorder, and the settings read afresh."""
    runs = []
    monkeypatch.setitem(sys.modules, "rasa.__main__", types.SimpleNamespace(main=lambda: runs.append(sys.argv)))
    monkeypatch.setattr(sys, "argv", ["bot.server", "run"])
    monkeypatch.setattr(rasa.cli.run, "run", rasa.cli.run.run)
    monkeypatch.setattr(MessageProcessor, "handle_message", MessageProcessor.handle_message)
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    settings.current.cache_clear()
    yield runs
    settings.current.cache_clear()


def refusal_of(capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        server.main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bot.server: not started.")
    return err


def test_on_another_rasa_version_the_server_refuses_to_start(started, capsys, monkeypatch):
    monkeypatch.setattr(rasa, "__version__", "3.7.2")
    handle_message, run = MessageProcessor.handle_message, rasa.cli.run.run
    err = refusal_of(capsys)
    assert "Rasa 3.7.2 is installed" in err and "requirements/rasa.txt" in err
    assert started == [] and MessageProcessor.handle_message is handle_message and rasa.cli.run.run is run


def test_when_a_patched_name_is_missing_the_server_refuses_to_start(started, capsys, monkeypatch):
    monkeypatch.delattr(MessageProcessor, "handle_message")
    err = refusal_of(capsys)
    assert "MessageProcessor.handle_message" in err and "port the fix" in err
    assert started == [] and not hasattr(MessageProcessor, "handle_message")


def test_with_a_bad_setting_the_server_refuses_to_start(started, capsys, monkeypatch):
    monkeypatch.setenv("RASA_TURNS_AT_ONCE", "many")
    err = refusal_of(capsys)
    assert "RASA_TURNS_AT_ONCE must be a whole number" in err
    assert started == []


def test_on_rasa_3_6_the_server_patches_rasa_and_runs_it(started, monkeypatch):
    monkeypatch.setattr("bot.rasa_patches.apply", lambda turns_at_once: applied.append(turns_at_once))
    monkeypatch.setenv("RASA_TURNS_AT_ONCE", "3")
    applied: list[int] = []
    server.main()
    assert applied == [3] and started == [["rasa", "run"]]
    assert rasa.cli.run.run.__wrapped__ is not None  # the API's secret is checked before `rasa run` runs
