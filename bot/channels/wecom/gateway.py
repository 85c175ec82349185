"""The WeCom callback gateway: the URL WeCom calls, answering at once while Rasa may be busy.

  .venv/rasa/bin/python -m bot.channels.wecom.gateway --port 5006 \\
      --forward-url http://127.0.0.1:5005/webhooks/wecom/webhook

Why a separate process: Rasa 3.6 runs NLU and policies synchronously on the event loop that
also answers callbacks, so under load a callback waits seconds for its 200 and WeCom (5 s
rule) retries. This small aiohttp server does only the protocol part: ``GET`` URL
verification; ``POST`` signature, decryption, CorpID and shape checks (callback.py,
the channel's own code — same 403/400/413 answers, nothing forwarded), dedupe of WeCom's
retries, an empty 200, and then — in the background — the original query string and body,
unchanged, to Rasa's ``wecom`` channel, which verifies them again and runs the turn. A
forward is retried with backoff until the channel answers 200, for at most
FORWARD_GIVE_UP_SECONDS (well inside the replay window, so the channel still accepts it);
a 400/403/413 from the channel is final; giving up is logged. One member's callbacks are
forwarded in the order they arrived (ordering.py), and at most FORWARDS_IN_FLIGHT are in flight
at once.

FORWARDS_IN_FLIGHT is not a limit on turns: the channel answers a forward as soon as it has
checked it, before the turn runs, and Rasa's turn queue (bot/turn_queue.py) is the one limit
on turns. It paces the forwarding, so that a burst is acknowledged first and forwarded after,
and bounds what waits on a stalled Rasa (tests/wecom/test_gateway.py stops Rasa). Measured with
bench-wecom on 2026-12-01, 50-callback bursts, ack p99 with 4 in flight: 68, 71, 64, 56 ms; with
64 (no bound): 107, 52, 71 ms (and 341 ms with other benchmarks running): no clear difference on
this shared machine, so it stays as it was measured in (README, WeCom callback benchmark).

With WECOM_REDIS_URL (several machines, deploy/replicas/) an acknowledged callback is first
put in a Redis queue (queue.py) and forwarded from there: killing the gateway right
after its 200 loses nothing; the restarted gateway (same ``--instance``) forwards what it
had taken, and other instances share the queue. Without it, the queue is this process's memory.

``GET /health`` → {"status": "ok", "pending" (not yet forwarded), "in_flight" (being
forwarded), counters}; serve on loopback behind the proxy that exposes only
/webhooks/wecom/webhook. Settings: the channel's WECOM_* (wecom_api/config.py).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
import time
from collections import Counter
from contextlib import suppress
from typing import Optional

import aiohttp
import uvloop
from aiohttp import web
from yarl import URL

from wecom_api import WeComConfig, WeComConfigError

from .callback import MAX_BODY_BYTES, CallbackCrypto, Inbound, Rejected
from .ordering import MemberOrder
from .queue import Queued, RedisCallbackQueue
from .store import Store, first_delivery, store_for

logger = logging.getLogger("wecom_gateway")

WEBHOOK = "/webhooks/wecom/webhook"
FORWARD_ATTEMPT_TIMEOUT = 30.0    # a busy Rasa may take seconds to answer its channel's callback
FORWARD_GIVE_UP_SECONDS = 600.0   # < REPLAY_WINDOW_SECONDS: a late forward must still be accepted
# Forwards in flight at once (see above): a burst of 50 callbacks forwarded at once only takes CPU
# from the acknowledgements WeCom is waiting for.
FORWARDS_IN_FLIGHT = 4
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 30.0
SHUTDOWN_GRACE_SECONDS = 10.0
REFUSED = {"HTTP 400", "HTTP 403", "HTTP 413"}  # the channel's own verdicts (e.g. its WECOM_* differ)
# Dedupe marks of the gateway live under their own key ("gateway:…", in Redis "wecom:gateway:…"),
# apart from the channel's ("seen:…"): the channel must still accept the one delivery the gateway
# forwards, and keeps dropping the doubles a forward retry may cause (a timed-out try that Rasa
# did receive). With no WECOM_REDIS_URL each process has its own in-process store anyway.
DEDUPE_PREFIX = "gateway:"


class QueueUnavailable(Exception):
    """The Redis queue could not take a callback: no 200, so WeCom sends it again."""


class Gateway:
    """Checks callbacks, dedupes them and forwards first deliveries to Rasa in the background."""

    def __init__(self, config: WeComConfig, forward_url: str, store: Store, session: aiohttp.ClientSession,
                 queue: Optional[RedisCallbackQueue] = None):
        self.crypto = CallbackCrypto(config.token, config.aes_key, config.corp_id)
        self.forward_url, self.store, self.session, self.queue = forward_url, store, session, queue
        self.dispatcher: Optional[asyncio.Task] = None
        self.counts: Counter[str] = Counter()
        self.tasks: set[asyncio.Task] = set()
        self.in_order = MemberOrder()
        self._forward_slots = asyncio.Semaphore(FORWARDS_IN_FLIGHT)
        self.in_flight = 0

    async def accept(self, query_string: str, query: dict[str, str], body: bytes) -> None:
        """Raises Rejected for a callback to refuse; otherwise it is (or was) on its way to Rasa."""
        try:
            inbound = self.crypto.open(query, body)
        except Rejected:
            self.counts["rejected"] += 1
            raise
        if self.queue is not None:
            await self._put_in_queue(inbound, query_string, body)
            return
        if not await first_delivery(self.store, DEDUPE_PREFIX + inbound.dedupe_key):
            self.counts["duplicates"] += 1
            logger.info("WeCom callback %s already received, not forwarded again", inbound.dedupe_key)
            return
        self.counts["accepted"] += 1
        self._spawn(self._forward_in_order(inbound.userid, inbound.dedupe_key, query_string, body))

    def _spawn(self, work) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)  # a reference, or the loop may drop the task mid-way
        task.add_done_callback(self.tasks.discard)

    # ------------------------------------------------------------ the Redis queue
    async def _put_in_queue(self, inbound: Inbound, query_string: str, body: bytes) -> None:
        item = Queued(inbound.dedupe_key, inbound.userid, query_string, body.decode("ascii", "replace"))
        try:
            queued = await self.queue.put_first_delivery(DEDUPE_PREFIX + inbound.dedupe_key, item)
        except Exception as error:  # noqa: BLE001 — any Redis failure: refuse, WeCom retries
            self.counts["queue_errors"] += 1
            logger.error("WeCom callback %s not queued (%s); answered 503 for WeCom to retry",
                         inbound.dedupe_key, error)
            raise QueueUnavailable() from error
        if queued:
            self.counts["accepted"] += 1
        else:
            self.counts["duplicates"] += 1
            logger.info("WeCom callback %s already received, not queued again", inbound.dedupe_key)

    def start_dispatching(self) -> None:
        if self.queue is not None:
            self.dispatcher = asyncio.ensure_future(self._dispatch())

    async def _dispatch(self) -> None:
        """Takes queued callbacks one at a time, in order, and forwards each (per member in order):
        first those this instance had taken before it stopped, then new ones."""
        for raw in await self.queue.unfinished():
            self._dispatch_one(raw)
        while True:
            try:
                raw = await self.queue.take()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 — Redis away for a moment: the queue keeps the callbacks
                logger.exception("WeCom callback queue unavailable; trying again")
                await asyncio.sleep(1)
                continue
            if raw is not None:
                self._dispatch_one(raw)

    def _dispatch_one(self, raw: str) -> None:
        item = Queued.loads(raw)

        async def forward_then_done() -> None:
            await self._forward_in_order(item.userid, item.dedupe_key, item.query_string, item.body.encode())
            await self.queue.done(raw)  # forwarded or given up (logged): off the processing list

        self._spawn(forward_then_done())

    # ------------------------------------------------------------ forwarding
    async def _forward_in_order(self, member: str, dedupe_key: str, query_string: str, body: bytes) -> None:
        async with self.in_order.of(member):
            await self._forward(member, dedupe_key, query_string, body)

    async def _forward(self, member: str, dedupe_key: str, query_string: str, body: bytes) -> None:
        url = URL(f"{self.forward_url}?{query_string}", encoded=True)  # byte for byte what WeCom signed
        timeout = aiohttp.ClientTimeout(total=FORWARD_ATTEMPT_TIMEOUT)
        began, delay, attempt = time.monotonic(), BACKOFF_FIRST, 0
        while True:
            attempt += 1
            try:
                async with self._forward_slots:  # a slot per attempt: a backoff sleep holds none
                    self.in_flight += 1
                    try:
                        async with self.session.post(url, data=body, timeout=timeout,
                                                     headers={"Content-Type": "text/xml; charset=utf-8"}) as answer:
                            await answer.read()
                            outcome = f"HTTP {answer.status}"
                    finally:
                        self.in_flight -= 1
                if answer.status == 200:
                    self.counts["forwarded"] += 1
                    return
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                outcome = type(error).__name__
            refused = outcome in REFUSED  # the channel checked it and said no: trying again changes nothing
            if refused or time.monotonic() - began + delay > FORWARD_GIVE_UP_SECONDS:
                self.counts["given_up"] += 1
                logger.error("WeCom callback %s from %s not forwarded after %d attempts (last: %s); given up",
                             dedupe_key, member, attempt, outcome)
                return
            logger.warning("forwarding WeCom callback %s failed (%s), retry in %.1f s",
                           dedupe_key, outcome, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def drain(self) -> None:
        """On shutdown: let forwards in flight finish for a moment, then say what is lost (with
        the Redis queue: what is left for the next start of this instance)."""
        if self.dispatcher is not None:
            self.dispatcher.cancel()
            with suppress(asyncio.CancelledError):
                await self.dispatcher
        if self.tasks:
            _, pending = await asyncio.wait(set(self.tasks), timeout=SHUTDOWN_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            if pending and self.queue is not None:
                logger.warning("%d WeCom callback(s) left in the queue for the next start", len(pending))
            elif pending:
                logger.error("%d WeCom callback(s) not forwarded at shutdown", len(pending))

    def health(self) -> dict[str, object]:
        return {"status": "ok", "queue": "redis" if self.queue is not None else "memory",
                "pending": len(self.tasks), "in_flight": self.in_flight,
                **{name: self.counts[name] for name in ("accepted", "forwarded", "duplicates", "rejected",
                                                         "given_up", "queue_errors")}}


GATEWAY = web.AppKey("gateway", Gateway)


# ------------------------------------------------------------------ HTTP (thin handlers)


async def verify_url(request: web.Request) -> web.Response:
    try:
        return web.Response(text=request.app[GATEWAY].crypto.verify_url(request.query))
    except Rejected as rejected:
        logger.info("WeCom URL verification rejected: %s", rejected.reason)
        return web.Response(text=rejected.reason, status=rejected.status)


async def receive(request: web.Request) -> web.Response:
    try:
        body = await request.read()  # over client_max_size → 413 from aiohttp, nothing read further
        await request.app[GATEWAY].accept(request.query_string, dict(request.query), body)
    except Rejected as rejected:
        logger.info("WeCom callback rejected (%s): %s", rejected.status, rejected.reason)
        return web.Response(text=rejected.reason, status=rejected.status)
    except QueueUnavailable:
        return web.Response(text="queue unavailable", status=503)
    return web.Response(text="")


async def health(request: web.Request) -> web.Response:
    return web.json_response(request.app[GATEWAY].health())


def create_app(config: WeComConfig, forward_url: str, instance: str = "") -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)

    async def lifecycle(app: web.Application):
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
        store = store_for(config.redis_url)
        queue = RedisCallbackQueue(config.redis_url, instance or socket.gethostname()) if config.redis_url else None
        app[GATEWAY] = Gateway(config, forward_url, store, session, queue)
        app[GATEWAY].start_dispatching()
        yield
        await app[GATEWAY].drain()
        await session.close()
        await store.close()
        if queue is not None:
            await queue.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get(WEBHOOK, verify_url)
    app.router.add_post(WEBHOOK, receive)
    app.router.add_get("/health", health)
    return app


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.channels.wecom.gateway", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5006)
    parser.add_argument("--forward-url", required=True,
                        help="Rasa's wecom channel, e.g. http://127.0.0.1:5005/webhooks/wecom/webhook")
    parser.add_argument("--instance", default="",
                        help="with WECOM_REDIS_URL: this gateway's name for its processing list (default: the host "
                             "name and port); a restarted gateway must keep it to forward what it had taken")
    args = parser.parse_args(argv)
    try:
        config = WeComConfig.from_env(api=False)  # it only receives callbacks: no app secret
    except WeComConfigError as error:
        print(f"wecom-gateway: {error}; not started", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    print(f"WeCom callback gateway on http://{args.host}:{args.port}{WEBHOOK} → {args.forward_url}", flush=True)
    uvloop.install()  # libuv's loop: the acknowledgement path is mostly socket work
    instance = args.instance or f"{socket.gethostname()}:{args.port}"
    web.run_app(create_app(config, args.forward_url, instance), host=args.host, port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
