"""The WeCom gateway's Redis queue (bot/channels/wecom/queue.py) without Rasa: real simulator,
real gateway, real Redis. A callback is acknowledged only once it is in the queue, a WeCom
retry is not queued twice, and with Redis unreachable the gateway answers 503 (WeCom retries)
instead of acknowledging what it cannot keep."""
from __future__ import annotations

import os
import subprocess
import types
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import redis

from bot.channels.wecom.queue import PROCESSING_PREFIX, QUEUE_KEY, Queued
from devtools.stack import BACKEND_PYTHON, RASA_BIN, ROOT, free_port, http, stop_process, wait_for
from devtools.wecom_simulator.config import dev_credentials
from tests.support.wecom import text_message

# A database number of its own: the queue's keys have fixed names.
QUEUE_REDIS_URL = "redis://127.0.0.1:6379/10"
INSTANCE = "queue-test"


class Pair:
    """The simulator and one gateway whose forwards go nowhere (nothing listens there)."""

    def __init__(self, tmp: Path, redis_url: str):
        self.env = {**dev_credentials(), "WECOM_REDIS_URL": redis_url}
        self.ports = {"simulator": free_port(), "gateway": free_port()}
        self.processes: list[tuple[subprocess.Popen, Any]] = []
        self.tmp = tmp

    def start(self, name: str, args: list[str], health: str) -> None:
        log = open(self.tmp / f"{name}.log", "a")
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("WECOM_")}, **self.env}
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append((process, log))
        wait_for(health, process, self.tmp / f"{name}.log", 120)

    def up(self) -> "Pair":
        simulator, gateway = self.ports["simulator"], self.ports["gateway"]
        self.start("simulator", [str(BACKEND_PYTHON), "-m", "devtools.wecom_simulator", "--port", str(simulator),
                                 "--callback-url", f"http://127.0.0.1:{gateway}/webhooks/wecom/webhook"],
                   f"http://127.0.0.1:{simulator}/_sim/stats")
        self.start("gateway", [str(RASA_BIN / "python"), "-m", "bot.channels.wecom.gateway", "--port", str(gateway),
                               "--forward-url", f"http://127.0.0.1:{free_port()}/webhooks/wecom/webhook",
                               "--instance", INSTANCE], f"http://127.0.0.1:{gateway}/health")
        return self

    def down(self) -> None:
        for process, log in reversed(self.processes):
            stop_process(process, grace=5)
            log.close()

    def deliver(self, xml: str) -> dict[str, Any]:
        status, delivery = http("POST", f"http://127.0.0.1:{self.ports['simulator']}/_sim/deliver",
                                {"tries": 1, "xml": xml})
        assert status == 200, delivery
        return delivery

    def health(self) -> dict[str, Any]:
        status, health = http("GET", f"http://127.0.0.1:{self.ports['gateway']}/health")
        assert status == 200, health
        return health

    def message(self, userid: str, text: str, msgid: int) -> str:
        return text_message(types.SimpleNamespace(env=self.env), userid, text, msgid)


@pytest.fixture()
def queue_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(QUEUE_REDIS_URL, decode_responses=True, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable at {QUEUE_REDIS_URL}: {error}")
    clear_queue_keys(client)  # what a run stopped midway left behind must not count as this test's
    yield client
    clear_queue_keys(client)
    client.close()


def clear_queue_keys(client: redis.Redis) -> None:
    for key in client.scan_iter("wecom:*"):
        client.delete(key)


def test_an_acknowledged_callback_is_in_the_queue_and_a_retry_is_not_queued_again(tmp_path, queue_redis):
    pair = Pair(tmp_path, QUEUE_REDIS_URL).up()
    try:
        msgid = uuid.uuid4().int % 10**18
        xml = pair.message("zhangwei", "你好", msgid)
        assert pair.deliver(xml)["statuses"] == [200]
        assert pair.deliver(xml)["statuses"] == [200]  # WeCom's retry of the same message
        health = pair.health()
        assert (health["queue"], health["accepted"], health["duplicates"]) == ("redis", 1, 1)
        # Rasa is not there: the one callback stays queued or taken, never lost, never twice.
        held = queue_redis.lrange(QUEUE_KEY, 0, -1) + queue_redis.lrange(PROCESSING_PREFIX + INSTANCE, 0, -1)
        assert [(q.userid, q.dedupe_key) for q in map(Queued.loads, held)] == [("zhangwei", f"msg:{msgid}")]
    finally:
        pair.down()


def test_with_redis_unreachable_the_callback_gets_503_and_is_not_acknowledged(tmp_path):
    pair = Pair(tmp_path, f"redis://127.0.0.1:{free_port()}/0").up()  # nothing listens there
    try:
        delivery = pair.deliver(pair.message("zhangwei", "你好", uuid.uuid4().int % 10**18))
        assert delivery["statuses"] == [503] and not delivery["delivered"]
        health = pair.health()
        assert (health["accepted"], health["queue_errors"]) == (0, 1)
    finally:
        pair.down()
