"""``python -m backend prune-files``: uploads never attached and older than the limit go (rows and
bytes); attached ones and recent ones stay."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from backend.config import ROOT
from backend.db.models import UploadedFile

from tests.support.files import PDF, PNG, upload
from tests.support.forms import staff_leave, submission

pytestmark = pytest.mark.processes  # starts processes of ours: make test, not make test-fast


async def test_old_unattached_uploads_are_removed_and_the_rest_kept(api, database, settings, database_url):
    old, recent = await upload(api, "t2001", ("旧草稿.pdf", PDF), ("新草稿.png", PNG))
    [attached] = await upload(api, "t2001", ("诊断证明.pdf", PDF))
    await api.post("/applications", "t2001", expect=201, json=submission(
        "staff_leave", staff_leave(leave_type="病假", proof=[attached["id"]])))
    long_ago = datetime.now(timezone.utc) - timedelta(days=30)
    async with database.write() as session:
        await session.execute(update(UploadedFile).where(UploadedFile.id.in_([old["id"], attached["id"]]))
                              .values(created_at=long_ago))
    directory = settings.files.directory
    assert len([p for p in directory.rglob("*") if p.is_file()]) == 3
    done = subprocess.run([sys.executable, "-m", "backend", "prune-files", "--older-than-days", "7"], cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url, "FILES_DIR": str(directory)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "removed 1 uploaded files" in done.stdout + done.stderr
    async with database.read() as session:
        assert sorted(await session.scalars(select(UploadedFile.id))) == sorted([recent["id"], attached["id"]])
    assert len([p for p in directory.rglob("*") if p.is_file()]) == 2
    status, body = await api.call("GET", f"/files/{attached['id']}", "t2001")
    assert status == 200
