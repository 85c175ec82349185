"""The morning digest (backend/notify/digest.py) on SQLite and PostgreSQL, with a settable
clock: nothing before the time, on a day off or when off; then one row per approver with
pending tasks (count and the oldest three), none for anyone else, never twice a day."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import select

from backend.config import DigestSchedule, NotifierSettings
from backend.db.models import OutboxMessage, User
from backend.notify import digest
from backend.notify.rasa import RasaTrigger
from backend.notify.worker import NotifyWorker
from backend.workflow.commands import Submit
from backend.workflow.engine import Workflow

from tests.support.dates import COLLEGE_TZ
from tests.support.forms import seal_usage
from tests.support.rasa_receiver import JWT_SECRET, RasaReceiver
from tests.support.workflow import handle

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKDAYS = DigestSchedule(8 * 60 + 30, frozenset(range(5)), SHANGHAI)  # 08:30 mon-fri
TUESDAY = datetime(2026, 12, 1, tzinfo=SHANGHAI)


def at(day: datetime, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return day.replace(hour=hours, minute=minutes).astimezone(timezone.utc)


async def submit_seal(database, clock, leader: str, applicant: str = "t2001") -> int:
    async with database.write() as session:
        actor = await session.scalar(select(User).where(User.username == applicant))
        application = await handle(Workflow(COLLEGE_TZ, now=clock), session, actor,
                                   Submit("seal_usage", seal_usage(), {"leader": leader}))
        return application.id


async def digests(database) -> list[tuple[str, str, dict]]:
    async with database.read() as session:
        found = await session.execute(
            select(User.username, OutboxMessage.dedupe_key, OutboxMessage.payload)
            .join(User, User.id == OutboxMessage.recipient_id)
            .where(OutboxMessage.event == digest.EVENT).order_by(OutboxMessage.id))
        return [tuple(row) for row in found]


async def user_id(database, username: str) -> int:
    async with database.read() as session:
        return await session.scalar(select(User.id).where(User.username == username))


@pytest.fixture
async def pending(database, clock) -> list[int]:
    """Four seal applications waiting for 沈立群 (t0002), submitted a day apart from Friday
    09:00, and one for 钱卫东 (t0003) on Monday; 郑国华 (t0001) has nothing waiting."""
    clock.value = at(datetime(2026, 11, 27, tzinfo=SHANGHAI), "09:00")
    ids = []
    for _ in range(4):
        ids.append(await submit_seal(database, clock, "t0002"))
        clock.advance(days=1)
    await submit_seal(database, clock, "t0003")
    return ids


async def test_nothing_before_the_time_then_one_row_per_approver_with_pending_tasks(database, clock, pending):
    clock.value = at(TUESDAY, "08:29")
    assert await digest.scan(database, clock(), WORKDAYS) == 0
    assert await digests(database) == []

    clock.value = at(TUESDAY, "08:30")
    assert await digest.scan(database, clock(), WORKDAYS) == 2
    found = await digests(database)
    assert [(name, key) for name, key, _ in found] == [
        ("t0002", f"approver_digest:{await user_id(database, 't0002')}:2026-12-01"),
        ("t0003", f"approver_digest:{await user_id(database, 't0003')}:2026-12-01")]
    lead, other = found[0][2], found[1][2]
    assert lead["pending_count"] == 4 and other["pending_count"] == 1
    # the oldest three, oldest first: Friday 09:00 → Tuesday 08:30 is 95 h
    assert [item["waited_hours"] for item in lead["oldest"]] == [95, 71, 47]
    assert {(item["matter"], item["applicant"]) for item in lead["oldest"]} == {("公章使用申请", "张伟")}
    assert all(item["number"].startswith("SW") for item in lead["oldest"])
    assert len(other["oldest"]) == 1


async def test_never_twice_the_same_day_whoever_scans_and_again_the_next_workday(database, clock, pending):
    clock.value = at(TUESDAY, "08:31")
    await digest.scan(database, clock(), WORKDAYS)
    clock.value = at(TUESDAY, "15:00")  # a restarted worker, and two workers at once
    assert await digest.scan(database, clock(), WORKDAYS) == 0
    assert await asyncio.gather(digest.scan(database, clock(), WORKDAYS),
                                digest.scan(database, clock(), WORKDAYS)) == [0, 0]
    assert len(await digests(database)) == 2

    clock.value = at(TUESDAY.replace(day=2), "08:29")
    assert await digest.scan(database, clock(), WORKDAYS) == 0
    clock.value = at(TUESDAY.replace(day=2), "08:30")
    assert await digest.scan(database, clock(), WORKDAYS) == 2
    assert [key.rsplit(":", 1)[1] for _, key, _ in await digests(database)] == [
        "2026-12-01", "2026-12-01", "2026-12-02", "2026-12-02"]


@pytest.mark.parametrize("when, schedule", [
    (at(datetime(2026, 12, 5, tzinfo=SHANGHAI), "09:00"), WORKDAYS),  # Saturday
    (at(datetime(2026, 12, 6, tzinfo=SHANGHAI), "23:59"), WORKDAYS),  # Sunday
    (at(TUESDAY, "10:00"), DigestSchedule(None, frozenset(), SHANGHAI)),  # DIGEST_TIME=off
    (at(TUESDAY, "10:00"), DigestSchedule(8 * 60, frozenset({0, 2}), SHANGHAI)),  # DIGEST_DAYS=mon,wed
    (at(TUESDAY, "00:10"), WORKDAYS),  # Monday 16:10 UTC is Tuesday in Shanghai, but before 08:30
])
async def test_no_digest_on_a_day_off_when_off_or_before_the_local_time(database, clock, pending, when, schedule):
    assert await digest.scan(database, when, schedule) == 0
    assert await digests(database) == []


async def test_none_for_approvers_whose_tasks_were_all_decided_or_who_are_inactive(database, clock, pending):
    async with database.write() as session:
        (await session.scalar(select(User).where(User.username == "t0003"))).active = False
    try:
        clock.value = at(TUESDAY, "09:00")
        await digest.scan(database, clock(), WORKDAYS)
    finally:
        async with database.write() as session:
            (await session.scalar(select(User).where(User.username == "t0003"))).active = True
    assert [name for name, _, _ in await digests(database)] == ["t0002"]


async def test_the_worker_queues_the_digest_and_delivers_count_and_oldest_to_the_bot(
        database, clock, pending, aiohttp_server):
    fake = RasaReceiver()
    url = str((await aiohttp_server(fake.app())).make_url("")).rstrip("/")
    settings = NotifierSettings(rasa_url=url, rasa_jwt_secret=JWT_SECRET, poll_seconds=0.05, request_timeout_seconds=2,
                                lease_seconds=30, digest=WORKDAYS)
    clock.value = at(TUESDAY, "08:45")
    async with aiohttp.ClientSession() as http:
        rasa = RasaTrigger(url, JWT_SECRET, http, 2)
        await NotifyWorker(database, settings, rasa, now=clock, report=lambda _: None).run_once()
        await NotifyWorker(database, settings, rasa, now=clock, report=lambda _: None).run_once()  # a restart
    calls = {c["conversation"]: c["body"]["entities"] for c in fake.calls
             if c["body"]["entities"]["notification_event"] == "approver_digest"}
    assert sorted(calls) == ["wecom:qianweidong", "wecom:shenliqun"]
    lead = calls["wecom:shenliqun"]
    assert lead["pending_count"] == "4"
    oldest = json.loads(lead["digest_oldest"])
    assert [item["waited_hours"] for item in oldest] == [95, 71, 47] and oldest[0]["number"].startswith("SW")
    async with database.read() as session:
        statuses = list(await session.scalars(select(OutboxMessage.status)
                                              .where(OutboxMessage.event == digest.EVENT)))
    assert statuses == ["sent", "sent"]


async def test_a_worker_groups_the_pending_tasks_once_a_day_not_at_every_reminder_scan(
        database, clock, pending, aiohttp_server, monkeypatch):
    fake = RasaReceiver()
    url = str((await aiohttp_server(fake.app())).make_url("")).rstrip("/")
    settings = NotifierSettings(rasa_url=url, rasa_jwt_secret=JWT_SECRET, poll_seconds=0.05, request_timeout_seconds=2,
                                lease_seconds=30, digest=WORKDAYS, reminder_scan_seconds=60)
    scans = []
    real_scan = digest.scan

    async def counted(*args):
        scans.append(args[1])
        return await real_scan(*args)

    monkeypatch.setattr(digest, "scan", counted)
    async with aiohttp.ClientSession() as http:
        worker = NotifyWorker(database, settings, RasaTrigger(url, JWT_SECRET, http, 2), now=clock,
                              report=lambda _: None)
        for hhmm in ("08:00", "08:45", "09:00", "15:00"):  # each past the reminder scan interval
            clock.value = at(TUESDAY, hhmm)
            await worker.run_once()
        clock.value = at(TUESDAY.replace(day=2), "08:40")
        await worker.run_once()
    assert scans == [at(TUESDAY, "08:45"), at(TUESDAY.replace(day=2), "08:40")]
    assert [key.rsplit(":", 1)[1] for _, key, _ in await digests(database)] == [
        "2026-12-01", "2026-12-01", "2026-12-02", "2026-12-02"]
