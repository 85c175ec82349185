"""``python -m backend`` as an operator runs it: real processes on a fresh database."""
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from devtools.stack import free_port
from tests.support.backend_api import SECRET

pytestmark = pytest.mark.processes  # starts processes of ours: make test, not make test-fast

ROOT = Path(__file__).resolve().parents[3]
DEMO_USERS = yaml.safe_load((ROOT / "backend/demo_data/org.yml").read_text(encoding="utf-8"))["users"]


def run(args, env, check=True):
    result = subprocess.run([sys.executable, "-m", "backend", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_migrate_seed_import_and_serve(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "BACKEND_SECRET_KEY": SECRET,
           "DEMO_PASSWORD": "cli-demo-pass"}
    assert "up to date" in run(["migrate"], env).stdout
    demo_users = len(DEMO_USERS)
    assert f"users: {demo_users} ({demo_users} new)" in run(["seed-demo", "--if-empty"], env).stdout
    assert "not loaded" in run(["seed-demo", "--if-empty"], env).stdout

    matters = tmp_path / "m.yml"
    matters.write_text(yaml.safe_dump({"centers": [{"code": "extra", "name": "新中心", "matters": [{
        "code": "new_one", "name": "新事项", "form": [{"key": "a", "label": "说明", "type": "text"}],
        "process": [{"key": "n", "name": "审核", "approvers": {"rule": "users", "users": ["t1001"]}}]}]}]},
        allow_unicode=True))
    assert "matters: 1" in run(["import-matters", str(matters)], env).stdout
    broken = tmp_path / "bad.yml"
    broken.write_text(yaml.safe_dump({"centers": [{"code": "x", "name": "x", "matters": [{
        "code": "b", "name": "b", "form": [{"key": "a", "label": "A", "type": "colour"}], "process": []}]}]}))
    failed = run(["import-matters", str(broken)], env, check=False)
    assert failed.returncode == 1 and "unknown type" in failed.stderr

    lookups = tmp_path / "lookups"
    names = {user["name"] for user in DEMO_USERS}  # one lookup entry per name: two people share one
    assert f"person {len(names)}," in run(["export-lookups", str(lookups)], env).stdout
    person = yaml.safe_load((lookups / "person.yml").read_text(encoding="utf-8"))
    assert person["nlu"][0]["lookup"] == "person" and "- 王丽华" in person["nlu"][0]["examples"]
    matter = (lookups / "matter.yml").read_text(encoding="utf-8")
    assert "- 新事项" in matter and "- 公章使用申请" in matter and "- 盖章" in matter
    assert "…" not in matter  # split keywords (请…假) are search patterns, not words

    port = free_port()
    with subprocess.Popen([sys.executable, "-m", "backend", "serve", "--port", str(port), "--quiet"], cwd=ROOT,
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as server:
        body = None
        for _ in range(100):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        server.terminate()
        assert body == b'{"status":"ok"}'


def test_serve_refuses_to_start_without_a_secret(tmp_path):
    # Set but empty: a developer's .env (written by `make run`) must not supply one (it never overrides).
    env = {**os.environ, "BACKEND_SECRET_KEY": "", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = run(["serve"], env, check=False)
    assert result.returncode == 2 and "BACKEND_SECRET_KEY" in result.stderr and "make env" in result.stderr
