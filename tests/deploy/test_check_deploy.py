"""`python -m backend check-deploy` on a good and on a badly configured installation."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from backend.db import migrate

from tests.support import databases
from tests.support.installation import ROOT, UNITS, env_files, write_env_files

DEMO_USERS = yaml.safe_load((ROOT / "backend/demo_data/org.yml").read_text(encoding="utf-8"))["users"]


def check_deploy(env_dir: Path, units_dir: Path, app_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backend", "check-deploy", "--env-dir", str(env_dir),
                           "--units-dir", str(units_dir), "--app-dir", str(app_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def app_dir(tmp_path: Path) -> Path:
    """The files the Rasa unit names, as a release checkout has them (and no .env)."""
    app = tmp_path / "app"
    for relative in ("bot/credentials.yml", "deploy/endpoints.yml"):
        (app / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, app / relative)
    return app


@pytest.mark.postgres
def test_a_good_installation_passes(tmp_path, fresh_postgres_url):
    migrate.upgrade(fresh_postgres_url)
    env_dir = write_env_files(tmp_path / "etc", env_files(fresh_postgres_url))
    result = check_deploy(env_dir, UNITS, app_dir(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nothing misconfigured" in result.stdout


def test_a_bad_installation_is_told_what_is_wrong(tmp_path):
    demo_database = f"sqlite:///{tmp_path / 'demo.db'}"
    databases.prepare(demo_database)  # the demo college, demo password and all
    files = env_files(demo_database)
    files["backend.env"]["BACKEND_SECRET_KEY"] = "too-short"
    del files["backend.env"]["TRUSTED_PROXIES"]
    files["backend.env"].update(BACKEND_PUBLIC_URL="http://hall.example.edu.cn", CAS_SERVER_URL="http://cas.example.edu.cn/cas")
    files["actions.env"]["ACTION_SERVER_TOKEN"] = "x" * 48  # not the one Rasa sends
    files["notify.env"]["BACKEND_SECRET_KEY"] = files["backend.env"]["BACKEND_SECRET_KEY"]
    env_dir = write_env_files(tmp_path / "etc", files)
    (env_dir / "rasa.env").chmod(0o644)

    units = tmp_path / "units"
    shutil.copytree(UNITS, units)
    rasa_unit = units / "campus-rasa.service"
    rasa_unit.write_text(rasa_unit.read_text().replace("--interface 127.0.0.1", "--interface 0.0.0.0"))
    actions_unit = units / "campus-actions.service"
    actions_unit.write_text(actions_unit.read_text().replace("SANIC_HOST=127.0.0.1 ", ""))

    app = app_dir(tmp_path)
    (app / "bot/credentials.yml").write_text((ROOT / "bot/credentials.dev.yml").read_text(encoding="utf-8"))
    (app / ".env").write_text("BACKEND_SECRET_KEY=left-over\n")

    result = check_deploy(env_dir, units, app)
    assert result.returncode == 1, result.stdout + result.stderr
    told = result.stdout
    for expected in (
        "database.env: DATABASE_URL is SQLite",
        "backend.env: BACKEND_SECRET_KEY is only 9 characters long",
        "backend.env: TRUSTED_PROXIES is not set",
        "backend.env: BACKEND_PUBLIC_URL=http://hall.example.edu.cn is not https",
        "backend.env: CAS_SERVER_URL=http://cas.example.edu.cn/cas is not https",
        "ACTION_SERVER_TOKEN: differs between actions.env, rasa.env",
        "notify.env: holds BACKEND_SECRET_KEY, which campus-notify.service does not use",
        "rasa.env: others can read it",
        "campus-rasa.service: Rasa listens on 0.0.0.0 (--interface)",
        "campus-actions.service: SANIC_HOST is not set, so the action server listens on every interface",
        "credentials.yml: enables the 'rest' channel",
        "a development .env in the application directory",
        f"database: {len(DEMO_USERS)} demo accounts",
    ):
        assert expected in told, f"{expected!r} not in:\n{told}"
