"""deploy/ as shipped: production channels only, no development parts, no secret on a
command line, each process its own env files, units systemd accepts."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from backend.deploy_check import PROCESSES, read_unit

from tests.support.installation import ROOT, UNITS

DEPLOY = ROOT / "deploy"


def deploy_files() -> list[Path]:
    return [path for path in DEPLOY.rglob("*") if path.is_file() and "__pycache__" not in path.parts]


@pytest.mark.parametrize("word", ["credentials.dev", "seed-demo", "seed_demo", "simulator", "--auth-token",
                                  "--jwt-secret", "token="])
def test_deploy_never_mentions_development_parts_or_secrets_on_command_lines(word):
    mentions = [str(path.relative_to(ROOT)) for path in deploy_files()
                if word in path.read_text(encoding="utf-8")]
    assert mentions == [], f"{word!r} in {mentions}"


def test_every_process_has_a_unit_reading_only_its_own_env_files():
    for process in PROCESSES:
        unit = read_unit(UNITS / process.unit)
        assert sorted(Path(p).name for p in unit.env_files) == sorted(process.env_files), process.unit
        assert all(p.startswith("/etc/campus-assistant/") for p in unit.env_files)
        for name in process.env_files:
            assert (DEPLOY / "env" / f"{name}.example").is_file(), name


def test_rasa_runs_with_the_production_channels_on_loopback():
    rasa = read_unit(UNITS / "campus-rasa.service")
    assert rasa.option("--credentials") == "bot/credentials.yml"
    assert rasa.option("--endpoints") == "deploy/endpoints.yml"
    assert rasa.option("--interface") == "127.0.0.1"
    channels = yaml.safe_load((ROOT / "bot/credentials.yml").read_text(encoding="utf-8"))
    assert "rest" not in channels and "socketio" not in channels
    endpoints = yaml.safe_load((DEPLOY / "endpoints.yml").read_text(encoding="utf-8"))
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert "Authorization" in endpoints["action_endpoint"]["headers"]


def test_example_env_files_hold_no_secret_values():
    for example in (DEPLOY / "env").glob("*.example"):
        for line in example.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.partition("=")
                assert len(value) < 32 or "PASSWORD@" in value, f"{example.name}: {name} looks like a real value"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units():
    units = sorted(str(path) for path in UNITS.iterdir())
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True,
                            timeout=60)
    # The code is installed under /opt/campus-assistant on a real server, not here.
    complaints = [line for line in (result.stdout + result.stderr).splitlines()
                  if line.strip() and "/opt/campus-assistant/.venv/" not in line]
    assert complaints == []
