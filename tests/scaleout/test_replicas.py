"""Two Rasa replicas, two action servers and two backends on one PostgreSQL database and Redis
(devtools/replicas.py, deploy/replicas/endpoints.yml): one conversation's messages are handled
one at a time and in order whichever replica receives them, nothing is lost or doubled, and
when a replica is killed its users go on with the other.

The Rasa replicas are booted once for the module (each loads the model: ~1.8 GB, a minute or more).
"""
from __future__ import annotations

import time
import urllib.error
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPException
from typing import Iterator

import pytest
import redis

from bot.channels.wecom.queue import PROCESSING_PREFIX, QUEUE_KEY
from devtools.replicas import GATEWAY_INSTANCE, REDIS_URL, WECOM_REDIS_URL, Replicas, postgres_unavailable_reason
from devtools.stack import MODEL
from tests.support.dates import tomorrow

USERS = ["t2101", "t2102", "t2001", "t2103", "t2201", "t2202", "t2301", "t2302", "t3101", "t3102",
         "t3103", "t3201", "t3202", "t3203", "t3204", "t3301", "t3302", "t3303", "t3401", "t3402"]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {error}")
    running = Replicas(tmp_path_factory.mktemp("replicas"), count=2, wecom=True)
    try:
        yield running.up()
    finally:
        running.down()


def seal_form_turns(number: int) -> list[str]:
    """Ten turns ending in one seal application whose document name is the user's own."""
    return ["你好", "我要盖章", "学校公章", document_name(number), "一份", "明天", f"签订第{number}号演出合作协议",
            "合作协议.pdf", "沈立群", "/affirm"]


def document_name(number: int) -> str:
    return f"合作协议第{number}号"


def events_of(replicas: Replicas, sender: str, replica: int = 0) -> list[dict]:
    status, tracker = replicas.rasa_api(replica, "GET", f"/conversations/{sender}/tracker?include_events=ALL")
    assert status == 200, tracker
    events = tracker["events"]
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps), f"{sender}: events out of order"
    return events


def user_texts(replicas: Replicas, sender: str, replica: int = 0) -> list[str]:
    return [e["text"] for e in events_of(replicas, sender, replica) if e["event"] == "user"]


def turns_of(events: list[dict]) -> list[list[str]]:
    """The events after each user message, up to the next one: "action_listen" ends a whole turn."""
    turns: list[list[str]] = []
    for event in events:
        if event["event"] == "user":
            turns.append([])
        elif event["event"] == "action" and turns:
            turns[-1].append(event["name"])
    return turns


def applications_of(replicas: Replicas, username: str) -> list[dict]:
    status, body = replicas.api(username, "GET", "/applications?mine=1&limit=50", i=1)
    assert status == 200, body
    details = []
    for item in body["items"]:
        status, detail = replicas.api(username, "GET", f"/applications/{item['id']}")
        assert status == 200, detail
        details.append(detail)
    return details


def expected_form(number: int) -> dict:
    return {"seal_type": "学校公章", "document_name": document_name(number), "copies": 1, "use_date": tomorrow(),
            "purpose": f"签订第{number}号演出合作协议", "document": "合作协议.pdf"}


def lock_queue_length(replicas: Replicas, sender: str) -> int:
    return redis.Redis.from_url(REDIS_URL).zcard(f"{replicas.lock_prefix}:lock:{{{sender}}}:queue")


def test_twenty_users_on_both_replicas_at_once_each_get_exactly_their_application(replicas):
    """Each user's turns go alternately to the two replicas, and the next turn is sent while the
    one before is still being handled on the other replica (as soon as that one holds its
    ticket): two replicas receive one sender's messages at the same time, all the time."""

    def converse(u: int) -> list[str]:
        sender, turns = f"web:{USERS[u]}", seal_form_turns(u + 1)
        with ThreadPoolExecutor(2) as pool:
            previous = None
            for k, text in enumerate(turns):
                replica = (u + k) % 2
                if previous is not None:
                    # Turn k-1 is the only one in flight: a ticket in the queue is its ticket.
                    while not previous.done() and lock_queue_length(replicas, sender) == 0:
                        time.sleep(0.01)
                current = pool.submit(replicas.say, replica, sender, text)
                if previous is not None:
                    assert previous.result() is not None
                previous = current
            previous.result()
        return turns

    with ThreadPoolExecutor(len(USERS)) as users:
        sent = list(users.map(converse, range(len(USERS))))

    for u, username in enumerate(USERS):
        assert user_texts(replicas, f"web:{username}", replica=u % 2) == sent[u]  # each once, in order
        applications = applications_of(replicas, username)
        assert [a["form"] for a in applications] == [expected_form(u + 1)], username


def test_messages_of_one_sender_reaching_both_replicas_at_once_are_handled_one_after_the_other(replicas):
    """Four messages of each user at the same moment, two to each replica: the shared lock lets one
    turn at a time read and write the conversation. Without it, turns read the same tracker and
    the SQL tracker store keeps only part of what each wrote (turns lost, turns mixed)."""
    burst = ["你好"] * 4

    def burst_of(u: int) -> None:
        sender = f"web:{USERS[u]}"
        with ThreadPoolExecutor(len(burst)) as pool:
            for replies in pool.map(lambda k: replicas.say(k % 2, sender, burst[k]), range(len(burst))):
                assert replies, "every message answered"

    before = {u: len(events_of(replicas, f"web:{u}")) for u in USERS}
    with ThreadPoolExecutor(len(USERS)) as users:
        list(users.map(burst_of, range(len(USERS))))
    for username in USERS:
        new = events_of(replicas, f"web:{username}")[before[username]:]
        assert [e["text"] for e in new if e["event"] == "user"] == burst, username
        turns = turns_of(new)
        assert all(turn[-1:] == ["action_listen"] and len(turn) >= 2 for turn in turns), (username, turns)
        assert all(turn == turns[0] for turn in turns), (username, turns)  # each turn whole and alike


def wecom_user_texts(replicas: Replicas, userid: str) -> list[str]:
    status, tracker = replicas.rasa_api(0, "GET", f"/conversations/wecom:{userid}/tracker?include_events=ALL")
    assert status == 200, tracker
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def gateway_backlog() -> int:
    """Callbacks the gateway acknowledged and has not forwarded yet (its Redis queue)."""
    client = redis.Redis.from_url(WECOM_REDIS_URL)
    return client.llen(QUEUE_KEY) + client.llen(PROCESSING_PREFIX + GATEWAY_INSTANCE)


def test_callbacks_the_gateway_acknowledged_survive_its_kill_and_are_handled_once(replicas):
    status, answer = replicas.sim("GET", "users")
    assert status == 200, answer
    members = [u["userid"] for u in answer["users"]][:20]
    texts = {userid: f"你好,我是{userid}" for userid in members}

    def say(userid: str) -> dict:
        status, delivery = replicas.sim("POST", "say", {"userid": userid, "text": texts[userid]})
        assert status == 200, delivery
        return delivery

    with ThreadPoolExecutor(len(members)) as pool:
        deliveries = list(pool.map(say, members))
    replicas.kill("gateway")  # right after the last 200
    assert all(d["delivered"] and d["attempts"] == 1 for d in deliveries), deliveries
    left = gateway_backlog()
    assert left > 0  # acknowledged but not forwarded when it died: the case under test

    replicas.start_gateway()
    deadline = time.monotonic() + 300
    while (gateway_backlog() or replicas.gateway_health()["pending"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gateway_backlog() == 0 and replicas.gateway_health()["pending"] == 0
    # Forwarded is taken by the channel, not yet a turn in the tracker. A greeting after each: a
    # conversation's turns run in order, so a doubled forward would be in the tracker by the greeting.
    with ThreadPoolExecutor(len(members)) as pool:
        list(pool.map(lambda userid: replicas.sim("POST", "say", {"userid": userid, "text": "你好"}), members))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not all(
            {texts[userid], "你好"} <= set(wecom_user_texts(replicas, userid)) for userid in members):
        time.sleep(0.5)
    for userid in members:  # each exactly once
        assert sorted(wecom_user_texts(replicas, userid)) == sorted([texts[userid], "你好"]), userid


def test_a_replica_killed_mid_run_loses_and_doubles_nothing(replicas):
    """A second application each; replica 1 is killed with kill -9 while turns run on it. A
    turn whose answer never came is sent to replica 0 unless replica 0's tracker shows it
    arrived; a killed replica's tickets free its conversations after the lock's lifetime."""
    killed_after, turns_done, rerouted = 40, [0], [0]

    def say_surviving(u: int, sender: str, k: int, text: str) -> None:
        replica = (u + k) % 2
        if replica == 1 and replicas.alive("rasa1"):
            try:
                replicas.say(1, sender, text)
                return
            except (urllib.error.URLError, HTTPException, ConnectionError, TimeoutError, AssertionError):
                pass  # killed meanwhile: did the turn arrive? (below)
        if replica == 1:
            rerouted[0] += 1
        already = user_texts(replicas, sender)[len(expected_before[u]):]
        if len(already) == k:  # the turn did not arrive (or was never sent): replica 0 gets it
            replicas.say(0, sender, text)
        else:
            assert already == seal_form_turns(100 + u + 1)[:k + 1]

    def converse(u: int) -> None:
        sender = f"web:{USERS[u]}"
        for k, text in enumerate(seal_form_turns(100 + u + 1)):
            say_surviving(u, sender, k, text)
            turns_done[0] += 1

    expected_before = [user_texts(replicas, f"web:{username}") for username in USERS]
    with ThreadPoolExecutor(len(USERS)) as users:
        running = [users.submit(converse, u) for u in range(len(USERS))]
        while turns_done[0] < killed_after and not all(f.done() for f in running):
            time.sleep(0.05)
        replicas.kill("rasa1")
        for conversation in running:
            conversation.result()

    assert not replicas.alive("rasa1") and turns_done[0] == len(USERS) * 10
    assert rerouted[0] >= 50  # replica 1's users did go on with replica 0
    for u, username in enumerate(USERS):
        assert user_texts(replicas, f"web:{username}") == expected_before[u] + seal_form_turns(100 + u + 1)
        forms = sorted((a["form"] for a in applications_of(replicas, username)), key=lambda f: f["purpose"])
        assert forms == sorted([expected_form(u + 1), expected_form(100 + u + 1)], key=lambda f: f["purpose"])
