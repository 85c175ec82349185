"""``python -m backend sync-wecom`` against the real WeCom simulator process, on a fresh
SQLite file and a fresh PostgreSQL database (it changes the org chart, so it never
touches the shared test databases)."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from backend.db.database import Database
from backend.db.models import Department, User

from devtools.stack import free_port
from tests.support import databases

pytestmark = pytest.mark.processes  # starts processes of ours: make test, not make test-fast

ROOT = Path(__file__).resolve().parents[3]
DEMO_ORG = ROOT / "backend" / "demo_data" / "org.yml"
WECOM = {"WECOM_CORP_ID": "wwsynctest0001", "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "sync-test-secret",
         "WECOM_TOKEN": "synctoken", "WECOM_AES_KEY": "a" * 43}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sync.db'}"
        databases.prepare(url)
        yield url
        return
    request.getfixturevalue("postgresql_url")  # skips with the reason when PostgreSQL is down
    name, url = databases.create_postgres_database()
    databases.prepare(url)
    yield url
    databases.drop_postgres_database(name)


class Simulator:
    def __init__(self, org: Path):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devtools.wecom_simulator", "--port", str(self.port), "--org", str(org)],
            cwd=ROOT, env={**os.environ, **WECOM}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.api_base}gettoken?corpid=x&corpsecret=y", timeout=1).read()
                return
            except OSError:
                assert self.process.poll() is None and time.monotonic() < deadline, "simulator did not start"
                time.sleep(0.2)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def sync(url: str, simulator: Simulator, *flags: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, **WECOM, "DATABASE_URL": url, "WECOM_API_BASE": simulator.api_base}
    result = subprocess.run([sys.executable, "-m", "backend", "sync-wecom", *flags], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def org_snapshot(url: str) -> tuple[dict, dict]:
    async def read():
        database = Database(url)
        async with database.read() as session:
            departments = {d.code: (d.name, d.parent_id, d.wecom_id) for d in await session.scalars(select(Department))}
            users = {u.username: (u.name, u.department_id, u.wecom_userid, u.mobile, u.active)
                     for u in await session.scalars(select(User))}
        await database.dispose()
        return departments, users

    return asyncio.run(read())


def changed_org(tmp_path: Path) -> Path:
    org = yaml.safe_load(DEMO_ORG.read_text(encoding="utf-8"))
    for department in org["departments"]:
        if department["code"] == "txzx":
            department["name"] = "图书信息中心"
    users = {u["username"]: u for u in org["users"]}
    users["t1003"]["department"] = "jwc"                 # 王芳 moved from 党政办公室 to 教务处
    users["t1702"]["wecom_userid"] = "xiejun"            # had no WeCom id; matched by mobile
    org["users"] = [u for u in org["users"] if u["username"] != "t1103"]  # 吴昊 left WeCom
    org["users"].append({"username": "x", "name": "赵新", "department": "yyx", "wecom_userid": "zhaoxin",
                         "mobile": "13900009001", "roles": []})
    path = tmp_path / "org-changed.yml"
    path.write_text(yaml.safe_dump(org, allow_unicode=True), encoding="utf-8")
    return path


def test_sync_links_then_follows_changes_and_dry_run_writes_nothing(fresh_url, tmp_path):
    before = org_snapshot(fresh_url)
    simulator = Simulator(DEMO_ORG)
    try:
        dry = sync(fresh_url, simulator, "--dry-run").stdout
        assert "Dry run, nothing written" in dry and "关联 WeCom 部门" in dry
        assert org_snapshot(fresh_url) == before

        first = sync(fresh_url, simulator).stdout
        assert "users: 0 new, 0 updated, 0 not in WeCom" in first, first
        departments, users = org_snapshot(fresh_url)
        assert all(wecom_id for _, _, wecom_id in departments.values())  # every department linked
        assert users == before[1]
    finally:
        simulator.stop()

    simulator = Simulator(changed_org(tmp_path))
    try:
        linked = org_snapshot(fresh_url)
        dry = sync(fresh_url, simulator, "--dry-run").stdout
        assert "users: 1 new, 2 updated, 1 not in WeCom (kept)" in dry, dry
        assert org_snapshot(fresh_url) == linked

        applied = sync(fresh_url, simulator).stdout
        assert "departments: 0 new, 1 updated; users: 1 new, 2 updated, 1 not in WeCom (kept)" in applied, applied
        departments, users = org_snapshot(fresh_url)
        ids = {code: (name, wecom_id) for code, (name, _, wecom_id) in departments.items()}
        assert ids["txzx"] == ("图书信息中心", linked[0]["txzx"][2])  # renamed in place, same row
        assert users["t1003"][1] == _id(fresh_url, "jwc")
        assert users["t1702"][2] == "xiejun" and users["t1702"][3] == "13732170218"
        assert users["t1103"] == linked[1]["t1103"]  # left WeCom: kept, still active
        assert users["zhaoxin"][:3] == ("赵新", _id(fresh_url, "yyx"), "zhaoxin")
        assert len(users) == len(linked[1]) + 1

        again = sync(fresh_url, simulator).stdout  # idempotent
        assert "departments: 0 new, 0 updated; users: 0 new, 0 updated" in again, again
    finally:
        simulator.stop()


async def _departments(url: str) -> list[Department]:
    database = Database(url)
    async with database.read() as session:
        found = list(await session.scalars(select(Department)))
    await database.dispose()
    return found


def _id(url: str, code: str) -> int:
    return next(d for d in asyncio.run(_departments(url)) if d.code == code).id


def test_sync_without_wecom_settings_says_what_to_set(tmp_path):
    # Empty, not absent, so that a developer's .env cannot fill them in.
    env = {**os.environ, **{name: "" for name in WECOM}, "WECOM_API_BASE": ""}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'none.db'}"
    result = subprocess.run([sys.executable, "-m", "backend", "sync-wecom"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "WECOM_CORP_ID" in result.stderr and "WECOM_SECRET" in result.stderr


def test_notify_without_rasa_settings_says_what_to_set(tmp_path):
    env = {**os.environ, "RASA_URL": "", "RASA_JWT_SECRET": ""}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'none.db'}"
    result = subprocess.run([sys.executable, "-m", "backend", "notify"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "RASA_URL" in result.stderr and "RASA_JWT_SECRET" in result.stderr
