"""The outbox worker in-process against a recording stand-in for Rasa, on SQLite and
PostgreSQL: sent only after a 200, backoff and retries, skips, reminders (催办)."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator

import aiohttp
import jwt
import pytest
from sqlalchemy import select

from backend.config import NotifierSettings
from backend.db.models import OutboxMessage, Task, User, WebNotice
from backend.notify.rasa import RasaTrigger
from backend.notify.worker import NotifyWorker
from backend.workflow.commands import Approve, Submit
from backend.workflow.engine import Workflow

from tests.support.dates import COLLEGE_TZ
from tests.support.forms import seal_usage
from tests.support.outbox import queue
from tests.support.rasa_receiver import JWT_SECRET, RasaReceiver
from tests.support.workflow import handle

BACKOFF = 60


def settings_for(url: str, **override: Any) -> NotifierSettings:
    values = dict(rasa_url=url, rasa_jwt_secret=JWT_SECRET, poll_seconds=0.05, batch_size=10, request_timeout_seconds=2,
                  lease_seconds=30, max_attempts=3, backoff_base_seconds=BACKOFF, backoff_max_seconds=3600)
    return NotifierSettings(**{**values, **override})


@pytest.fixture
async def receiver(aiohttp_server) -> AsyncIterator[tuple[RasaReceiver, str]]:
    fake = RasaReceiver()
    server = await aiohttp_server(fake.app())
    yield fake, str(server.make_url("")).rstrip("/")


@pytest.fixture
async def make_worker(database, clock, receiver):
    sessions = []

    def make(url: str | None = None, **override: Any) -> NotifyWorker:
        http = aiohttp.ClientSession()
        sessions.append(http)
        config = settings_for(url or receiver[1], **override)
        rasa = RasaTrigger(config.rasa_url, config.rasa_jwt_secret, http, config.request_timeout_seconds)
        return NotifyWorker(database, config, rasa, now=clock, report=lambda _: None)

    yield make
    for http in sessions:
        await http.close()


async def rows(database, ids: list[int]) -> list[OutboxMessage]:
    async with database.read() as session:
        return list(await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                          .order_by(OutboxMessage.id)))


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


async def test_a_row_is_marked_sent_only_after_rasa_answers_200(database, receiver, make_worker):
    fake, _ = receiver
    ids = await queue(database, ["t0002", "t1203"])
    fake.gate = asyncio.Event()
    worker = make_worker()
    running = asyncio.create_task(worker.run_once())
    await fake.wait_for_calls(1)
    assert [(r.status, r.sent_at) for r in await rows(database, ids)] == [("pending", None), ("pending", None)]
    fake.gate.set()
    await running
    sent = await rows(database, ids)
    assert [(r.status, r.attempts) for r in sent] == [("sent", 1), ("sent", 1)]
    assert all(r.sent_at is not None for r in sent)

    first = fake.calls[0]
    assert first["conversation"] == "wecom:shenliqun"
    assert first["query"] == {"output_channel": "wecom"}  # no secret in the URL
    scheme, token = first["authorization"].split(" ")
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])  # fails unless signed with the secret
    assert scheme == "Bearer" and claims["user"] == {"username": "notifier", "role": "admin"}
    assert 0 < claims["exp"] - time.time() <= 60
    assert first["body"] == {"name": "EXTERNAL_notification", "entities": {
        "notification_event": "task_assigned", "outbox_id": str(ids[0]), "number": "SW20261128-0000",
        "opinion": "请补充附件", "node_name": "部门审核", "signers": "王丽华、李明"}}
    assert fake.outbox_ids() == ids

    await worker.run_once()  # nothing is due any more
    assert len(fake.calls) == 2


async def test_a_200_whose_tracker_does_not_hold_the_outbox_id_is_retried(database, receiver, make_worker, clock):
    """Rasa answers 200 when the action server or the backend failed the action: not delivered."""
    fake, _ = receiver
    [row_id] = await queue(database, ["t0002"])
    clock.value = datetime.now(timezone.utc)
    fake.unconfirmed = 1
    worker = make_worker()
    await worker.run_once()
    [row] = await rows(database, [row_id])
    assert (row.status, row.attempts) == ("pending", 1) and "did not confirm" in row.last_error
    clock.advance(seconds=BACKOFF)
    await worker.run_once()
    [row] = await rows(database, [row_id])
    assert (row.status, row.attempts) == ("sent", 2)
    assert fake.outbox_ids() == [row_id, row_id]


async def test_failures_back_off_and_retry_until_the_maximum(database, receiver, make_worker, clock):
    fake, _ = receiver
    [retried] = await queue(database, ["t0002"])
    clock.value = datetime.now(timezone.utc)  # rows are due from the moment they were written
    fake.statuses = [500, 503]
    worker = make_worker()

    await worker.run_once()
    [row] = await rows(database, [retried])
    assert (row.status, row.attempts) == ("pending", 1) and "HTTP 500" in row.last_error
    assert utc(row.next_attempt_at) == clock.value + timedelta(seconds=BACKOFF)

    await worker.run_once()  # not due yet: no call
    assert len(fake.calls) == 1

    clock.advance(seconds=BACKOFF)
    await worker.run_once()
    [row] = await rows(database, [retried])
    assert (row.status, row.attempts) == ("pending", 2) and "HTTP 503" in row.last_error
    assert utc(row.next_attempt_at) == clock.value + timedelta(seconds=2 * BACKOFF)

    clock.advance(seconds=2 * BACKOFF)
    await worker.run_once()
    [row] = await rows(database, [retried])
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert fake.outbox_ids() == [retried] * 3

    [doomed] = await queue(database, ["t1203"])
    fake.statuses = [500, 500, 500]
    for _ in range(3):
        await worker.run_once()
        clock.advance(hours=1)
    [row] = await rows(database, [doomed])
    assert (row.status, row.attempts) == ("failed", 3)
    await worker.run_once()
    assert fake.outbox_ids().count(doomed) == 3


async def test_an_unreachable_rasa_is_a_failed_try(database, make_worker, unused_tcp_port):
    [row_id] = await queue(database, ["t0002"])
    await make_worker(f"http://127.0.0.1:{unused_tcp_port}").run_once()
    [row] = await rows(database, [row_id])
    assert (row.status, row.attempts) == ("pending", 1) and "unreachable" in row.last_error


async def test_recipients_without_a_wecom_id_get_a_web_notice_once_and_inactive_ones_are_skipped(
        database, receiver, make_worker, clock):
    fake, _ = receiver
    ids = await queue(database, ["t1702", "t0002", "s20240102", "t2001"])
    await set_active(database, "t2001", False)
    try:
        await make_worker().run_once()
    finally:
        await set_active(database, "t2001", True)  # the demo college is shared by the module's tests
    assert [r.status for r in await rows(database, ids)] == ["sent", "sent", "sent", "skipped"]
    assert [c["conversation"] for c in fake.calls] == ["web:t1702", "wecom:shenliqun", "web:s20240102"]
    assert fake.calls[0]["query"] == {} and fake.calls[1]["query"] == {"output_channel": "wecom"}
    assert await notices(database) == [("t1702", ids[0], [{"text": f"通知 {ids[0]}",
                                                           "buttons": [{"title": "同意", "payload": "/approve"}]}]),
                                       ("s20240102", ids[2], [{"text": f"通知 {ids[2]}",
                                                               "buttons": [{"title": "同意", "payload": "/approve"}]}])]


async def test_a_web_notice_tried_again_after_the_notifier_died_is_kept_once(database, receiver, make_worker, clock):
    """The first try reached Rasa, but the row was not marked (a crash): the second try finds
    the bot silent (it remembers the id) and the words said the first time are kept, once."""
    fake, url = receiver
    [row_id] = await queue(database, ["t1702"])
    clock.value = datetime.now(timezone.utc)
    async with aiohttp.ClientSession() as http:
        await RasaTrigger(url, JWT_SECRET, http, 2).deliver(
            (await __import__("backend.notify.outbox", fromlist=["claim"]).claim(
                database, clock.value, 10, timedelta(seconds=1)))[0][0])  # delivered, never marked
    clock.advance(seconds=2)  # the lease is over
    await make_worker().run_once()
    [row] = await rows(database, [row_id])
    assert row.status == "sent" and fake.outbox_ids() == [row_id, row_id]
    assert await notices(database) == [("t1702", row_id, [{"text": f"通知 {row_id}",
                                                           "buttons": [{"title": "同意", "payload": "/approve"}]}])]


async def set_active(database, username: str, active: bool) -> None:
    async with database.write() as session:
        (await session.scalar(select(User).where(User.username == username))).active = active


async def notices(database) -> list[tuple[str, int, list]]:
    async with database.read() as session:
        found = await session.execute(select(User.username, WebNotice.outbox_id, WebNotice.messages)
                                      .join(User, User.id == WebNotice.user_id).order_by(WebNotice.id))
        return [tuple(row) for row in found]


async def submit_seal(database, clock, username: str = "t2001") -> int:
    async with database.write() as session:
        actor = await session.scalar(select(User).where(User.username == username))
        application = await handle(Workflow(COLLEGE_TZ, now=clock), session, actor,
                                   Submit("seal_usage", seal_usage(), {"leader": "t0002"}))
        return application.id


async def reminders(database) -> list[tuple[int, str]]:
    async with database.read() as session:
        found = await session.execute(select(OutboxMessage.task_id, OutboxMessage.dedupe_key)
                                      .where(OutboxMessage.event == "task_overdue").order_by(OutboxMessage.id))
        return [tuple(row) for row in found]


async def test_overdue_tasks_get_one_reminder_a_day(database, receiver, make_worker, clock):
    fake, _ = receiver
    clock.value = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)
    application_id = await submit_seal(database, clock)
    async with database.read() as session:
        [task] = list(await session.scalars(select(Task).where(Task.application_id == application_id)))

    clock.advance(hours=23)
    await make_worker().run_once()
    assert await reminders(database) == []

    clock.advance(hours=2)  # 25 h: overdue
    await make_worker().run_once()
    await make_worker().run_once()  # a restarted worker in the same day
    await asyncio.gather(make_worker().run_once(), make_worker().run_once())  # two workers at once
    assert await reminders(database) == [(task.id, f"task_overdue:{task.id}:0")]
    delivered = [c["body"]["entities"] for c in fake.calls if c["body"]["entities"]["notification_event"] == "task_overdue"]
    assert len(delivered) == 1 and delivered[0]["task_id"] == str(task.id)
    assert delivered[0]["node_name"] and delivered[0]["number"].startswith("SW")

    clock.advance(hours=22)  # 47 h: still the first day of being overdue
    await make_worker().run_once()
    assert len(await reminders(database)) == 1
    clock.advance(hours=2)  # 49 h: the next day
    await make_worker().run_once()
    assert await reminders(database) == [(task.id, f"task_overdue:{task.id}:0"), (task.id, f"task_overdue:{task.id}:1")]

    async with database.write() as session:
        approver = await session.scalar(select(User).where(User.username == "t0002"))
        await handle(Workflow(COLLEGE_TZ, now=clock), session, approver, Approve(task.id, "同意"))
    clock.advance(days=3)
    await make_worker().run_once()
    assert [task_id for task_id, _ in await reminders(database)].count(task.id) == 2  # decided: no more
