"""bot/tracker_store.py: the SQL tracker store that keeps trackers between turns hands back only
what the database holds — after another replica wrote, after a turn failed half-way, after a
prune — and writes every turn's events as Rasa's own store does. On SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import warnings
from typing import Iterator

import pytest

from tests.support.postgres import fresh_database


def stores(endpoint: dict, count: int, cache_size: int | None = None) -> list:
    """``count`` stores on one database: replicas, each with its own memory."""
    with warnings.catch_warnings():  # Rasa's SQLAlchemy 1.4 models warn about 2.0 on import
        warnings.simplefilter("ignore")
        from rasa.shared.core.domain import Domain

        from bot.tracker_store import CachedSQLTrackerStore

        domain = Domain.from_dict({"slots": {"topic": {"type": "text", "mappings": [{"type": "custom"}]}}})
        return [CachedSQLTrackerStore(domain, cache_size=cache_size, **endpoint) for _ in range(count)]


@pytest.fixture(params=["sqlite", "postgresql"])
def endpoint(request, tmp_path) -> Iterator[dict]:
    if request.param == "sqlite":
        yield {"dialect": "sqlite", "db": str(tmp_path / "trackers.db")}
        return
    with fresh_database() as url:
        yield {"dialect": "postgresql", "host": url.host, "port": url.port, "db": url.database,
               "username": url.username, "password": url.password}


def run(coroutine):
    return asyncio.run(coroutine)


def said(tracker) -> list[str]:
    from rasa.shared.core.events import UserUttered

    return [event.text for event in tracker.events if isinstance(event, UserUttered)]


def turn(store, sender: str, text: str, topic: str | None = None):
    """One turn as Rasa's processor does it: retrieve (or create), add events, save."""
    from rasa.shared.core.events import SlotSet, UserUttered

    tracker = run(store.get_or_create_tracker(sender))
    tracker.update(UserUttered(text))
    if topic is not None:
        tracker.update(SlotSet("topic", topic))
    run(store.save(tracker))
    return tracker


def stored_texts(store, sender: str) -> list[str]:
    import json

    with store.session_scope() as session:
        rows = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).order_by(store.SQLEvent.id)
        return [json.loads(row.data).get("text") for row in rows if row.type_name == "user"]


def test_a_kept_tracker_is_handed_back_and_every_turn_is_written(endpoint):
    [store] = stores(endpoint, 1)
    first = turn(store, "web:t1001", "你好")
    second = turn(store, "web:t1001", "我的待办", topic="tasks")
    third = run(store.retrieve("web:t1001"))
    assert third is second  # kept: not rebuilt from the database
    assert said(third) == ["你好", "我的待办"] and third.get_slot("topic") == "tasks"
    assert stored_texts(store, "web:t1001") == ["你好", "我的待办"]  # nothing written twice
    assert first is not second  # the new conversation's tracker was not kept: loaded once, then kept
    fresh = stores(endpoint, 1)[0]  # a restart: everything from the database
    reloaded = run(fresh.retrieve("web:t1001"))
    assert said(reloaded) == ["你好", "我的待办"] and reloaded.get_slot("topic") == "tasks"


def test_a_turn_written_by_another_replica_is_read_from_the_database(endpoint):
    here, there = stores(endpoint, 2)
    turn(here, "wecom:zhang", "你好")
    kept = run(here.retrieve("wecom:zhang"))
    turn(there, "wecom:zhang", "请假", topic="leave")  # the next turn went to the other replica
    current = run(here.retrieve("wecom:zhang"))
    assert current is not kept
    assert said(current) == ["你好", "请假"] and current.get_slot("topic") == "leave"
    turn(here, "wecom:zhang", "谢谢")
    assert stored_texts(here, "wecom:zhang") == ["你好", "请假", "谢谢"]


def test_a_turn_that_failed_before_saving_leaves_no_trace(endpoint):
    from rasa.shared.core.events import UserUttered

    [store] = stores(endpoint, 1)
    turn(store, "web:t1002", "你好")
    half = run(store.retrieve("web:t1002"))
    half.update(UserUttered("这一轮出错了"))  # changed, never saved
    again = run(store.retrieve("web:t1002"))
    assert said(again) == ["你好"]
    turn(store, "web:t1002", "再试一次")
    assert stored_texts(store, "web:t1002") == ["你好", "再试一次"]


def test_a_pruned_conversation_is_gone_from_memory_too(endpoint):
    [store] = stores(endpoint, 1)
    turn(store, "web:t1003", "你好")
    turn(store, "web:t1003", "我的申请")
    with store.session_scope() as session:  # what bot.prune_trackers does to an idle conversation
        session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == "web:t1003").delete()
        session.commit()
    assert run(store.retrieve("web:t1003")) is None


def test_memory_holds_at_most_the_configured_number_of_conversations(endpoint):
    [store] = stores(endpoint, 1, cache_size=2)
    for sender in ("web:a", "web:b", "web:c"):
        turn(store, sender, "你好")
        turn(store, sender, "再见")
    assert list(store.kept) == ["web:b", "web:c"]
    assert said(run(store.retrieve("web:a"))) == ["你好", "再见"]  # dropped from memory, not from the database
    assert list(store.kept) == ["web:c", "web:a"]
    [nothing_kept] = stores(endpoint, 1, cache_size=0)
    turn(nothing_kept, "web:d", "你好")
    turn(nothing_kept, "web:d", "再见")
    assert not nothing_kept.kept and stored_texts(nothing_kept, "web:d") == ["你好", "再见"]


def test_a_sqlite_file_is_connected_to_once_not_for_every_query(tmp_path):
    from sqlalchemy import event

    [store] = stores({"dialect": "sqlite", "db": str(tmp_path / "trackers.db")}, 1)
    connects = []
    event.listen(store.engine, "connect", lambda *_: connects.append(1))
    for text in ("你好", "我的待办", "我的申请"):
        turn(store, "web:t1004", text)
    assert len(connects) == 1  # each turn's queries reuse it (a new one checkpointed the log on close)
    assert stored_texts(store, "web:t1004") == ["你好", "我的待办", "我的申请"]
