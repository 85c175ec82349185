"""An administrator's password commands as an operator runs them: ``set-password`` (from
stdin or generated, forcing a change at next login), imported people must change the initial
password while the demo's people need not, and ``audit`` lists what happened."""
import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from backend.auth.passwords import verify_password
from backend.catalog.loader import DEMO_DIR, read_yaml
from backend.db.database import Database
from backend.db.models import User
from tests.support.backend_api import SECRET

pytestmark = pytest.mark.processes  # starts processes of ours: make test, not make test-fast

ROOT = Path(__file__).resolve().parents[3]
ORG = {"departments": [{"code": "art", "name": "艺术学院"}],
       "users": [{"username": "t9001", "name": "李明", "department": "art"},
                 {"username": "t9002", "name": "王芳", "department": "art"}]}


def run(args, env, stdin="", check=True):
    result = subprocess.run([sys.executable, "-m", "backend", *args], cwd=ROOT, env=env, input=stdin,
                            capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def account(url, username):
    async def read():
        database = Database(url)
        async with database.read() as session:
            user = await session.scalar(select(User).where(User.username == username))
        await database.dispose()
        return user

    return asyncio.run(read())


@pytest.fixture
def college(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "DATABASE_URL": url, "BACKEND_SECRET_KEY": SECRET, "INITIAL_PASSWORD": "Welcome-2026"}
    run(["migrate"], env)
    org = tmp_path / "org.yml"
    org.write_text(yaml.safe_dump(ORG, allow_unicode=True), encoding="utf-8")
    assert "must change the initial password" in run(["import-org", str(org)], env).stdout
    return url, env


def test_imported_people_must_change_the_initial_password(college):
    url, _ = college
    user = account(url, "t9001")
    assert user.must_change_password and verify_password(user.password_hash, "Welcome-2026")


async def test_the_demo_college_is_loaded_without_a_forced_change(database):
    async with database.read() as session:  # the test set-up loads it the way seed-demo does
        demo = set(user["username"] for user in read_yaml(DEMO_DIR / "org.yml")["users"])
        forced = set(await session.scalars(select(User.username).where(User.must_change_password.is_(True))))
    assert demo and not demo & forced


def test_set_password_from_stdin_forces_a_change_and_ends_sessions(college):
    url, env = college
    before = account(url, "t9002").credentials_version
    out = run(["set-password", "t9002"], env, stdin="Reset-by-admin-7\n").stdout
    assert "must change it at their next login" in out and "Reset-by-admin-7" not in out
    user = account(url, "t9002")
    assert verify_password(user.password_hash, "Reset-by-admin-7") and user.must_change_password
    assert user.credentials_version == before + 1
    run(["set-password", "t9002", "--no-force-change"], env, stdin="Reset-by-admin-8\n")
    assert not account(url, "t9002").must_change_password


def test_set_password_generates_one_that_is_shown_once(college):
    url, env = college
    out = run(["set-password", "t9001", "--generate"], env).stdout
    password = out.split("(shown once): ", 1)[1].split()[0]
    assert len(password) == 16 and verify_password(account(url, "t9001").password_hash, password)


def test_set_password_refuses_a_weak_password_or_an_unknown_person(college):
    _, env = college
    weak = run(["set-password", "t9001"], env, stdin="12345678\n", check=False)
    assert weak.returncode == 1 and "不能全是数字" in weak.stderr and "nothing changed" in weak.stderr
    unknown = run(["set-password", "nobody"], env, stdin="Good-Password-1\n", check=False)
    assert unknown.returncode == 1 and "no user named 'nobody'" in unknown.stderr


def test_audit_lists_the_events_of_a_person(college):
    _, env = college
    run(["set-password", "t9001"], env, stdin="Reset-by-admin-7\n")
    listing = run(["audit", "--user", "t9001", "--since", "1h"], env)
    [line] = listing.stdout.splitlines()
    assert line.split("\t")[1:4] == ["password_set", "cli", "t9001"]
    assert "1 entries" in listing.stderr
    assert run(["audit", "--user", "t9002"], env).stdout == ""
    bad = run(["audit", "--since", "yesterday"], env, check=False)
    assert bad.returncode == 2 and "30m / 12h / 7d" in bad.stderr
