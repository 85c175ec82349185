"""``python -m backend export-faq`` as an operator runs it, after the help desk answered questions
in the console: the training files it writes load, name consistent keys, keep faq.yml's comments,
and (with the Rasa venv) pass ``rasa data validate``."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from backend.catalog.faq import domain_answers, import_faq, replace_answer
from backend.db import faq as store
from backend.db.models import User
from devtools.stack import RASA_BIN

pytestmark = pytest.mark.processes  # starts processes of ours: make test, not make test-fast

ROOT = Path(__file__).resolve().parents[3]
NEW_TEXT = "食堂开放时间:早 6:30–8:30,午 11:00–13:00,晚 17:00–19:00。"
EDITED_TEXT = "在【我的申请】中找到被退回的申请,点【编辑并重新提交】,改好后提交即可。"


@pytest.fixture
def training(tmp_path) -> Path:
    """A copy of the training files to export into."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copytree(ROOT / "bot" / "domain", tmp_path / "domain")
    for learned in (tmp_path / "data" / "nlu" / "faq_learned.yml", tmp_path / "domain" / "faq_learned.yml"):
        learned.unlink(missing_ok=True)
    shutil.copy(ROOT / "config.yml", tmp_path / "config.yml")
    return tmp_path


async def taught(database, domain: Path) -> None:
    """What the console does: questions answered with an existing, a rewritten and a new answer."""
    now = datetime.now(timezone.utc)
    async with database.write() as session:
        await import_faq(session, domain / "faq.yml", now)
        asker = await session.scalar(select(User.id).where(User.username == "t2001"))
        staff = await session.scalar(select(User.id).where(User.username == "t1104"))

        async def asked(*texts):
            return [await store.record_question(session, text=t, kind="fallback", channel="web", user_id=asker,
                                                predicted_key=None, confidence=None, now=now) for t in texts]

        await store.write_answer(session, "faq/canteen_hours", NEW_TEXT, staff, now, must_exist=False)
        await store.answer_questions(session, await asked("食堂几点开门", "食堂几点开门", "食堂开放时间",
                                                          "[食堂](department)\n周末开吗"),
                                     "faq/canteen_hours", staff, now)
        await store.write_answer(session, "faq/returned_what_next", EDITED_TEXT, staff, now, must_exist=True)
        await store.answer_questions(session, await asked("被退回了还能改吗"), "faq/returned_what_next", staff, now)
        await store.answer_questions(session, await asked("网址是多少", "校务服务网怎么打开"), "faq/open_site", staff, now)
        await store.write_answer(session, "faq/no_question_yet", "还没有问题指向它。", staff, now, must_exist=False)
        await asked("这个还没答复")


def export(database_url: str, training: Path) -> str:
    env = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run([sys.executable, "-m", "backend", "export-faq", "--out", str(training / "data"),
                             "--domain", str(training / "domain")], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def test_export_writes_consistent_training_files(database, database_url, training):
    before = (training / "domain" / "faq.yml").read_text(encoding="utf-8")
    await taught(database, training / "domain")
    printed = export(database_url, training)
    assert "faq/canteen_hours" in printed and "Retrain" in printed and "faq/no_question_yet" in printed

    nlu = yaml.safe_load((training / "data" / "nlu" / "faq_learned.yml").read_text(encoding="utf-8"))["nlu"]
    examples = {item["intent"]: [line[2:] for line in item["examples"].splitlines()] for item in nlu}
    # 「校务服务网怎么打开」 is a training example already; the repeated question is written once.
    # One line each, and a question's brackets are not read as an entity annotation.
    assert examples == {"faq/canteen_hours": ["食堂几点开门", "食堂开放时间", "［食堂］(department) 周末开吗"],
                        "faq/open_site": ["网址是多少"], "faq/returned_what_next": ["被退回了还能改吗"]}

    learned = domain_answers(training / "domain" / "faq_learned.yml")
    assert learned == {"faq/canteen_hours": NEW_TEXT}
    in_domain = domain_answers(training / "domain" / "faq.yml")
    assert in_domain["faq/returned_what_next"] == EDITED_TEXT
    assert {k: v for k, v in in_domain.items() if k != "faq/returned_what_next"} == {
        k: v for k, v in domain_answers(ROOT / "bot" / "domain" / "faq.yml").items() if k != "faq/returned_what_next"}
    # Only that answer's lines changed: the file's comments and every other answer are as they were.
    expected = replace_answer(before, "faq/returned_what_next", EDITED_TEXT)
    assert (training / "domain" / "faq.yml").read_text(encoding="utf-8") == expected
    assert before.splitlines()[:12] == expected.splitlines()[:12]
    # Every intent exported has an answer the assistant can give.
    assert set(examples) <= set(in_domain) | set(learned)

    # A second export writes the same (nothing doubled).
    export(database_url, training)
    again = yaml.safe_load((training / "data" / "nlu" / "faq_learned.yml").read_text(encoding="utf-8"))["nlu"]
    assert again == nlu


@pytest.mark.skipif(not (RASA_BIN / "python").exists(), reason="the Rasa venv is not built")
async def test_the_exported_files_pass_rasa_data_validate(database, database_url, training):
    await taught(database, training / "domain")
    export(database_url, training)
    result = subprocess.run([str(RASA_BIN / "python"), "-m", "devtools.rasa_quiet", "data", "validate",
                             "--config", str(training / "config.yml"), "--domain", str(training / "domain"),
                             "--data", str(training / "data"), "--fail-on-warnings", "--quiet"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "faq_learned" not in result.stderr and "canteen_hours" not in result.stderr, result.stderr[-3000:]
