"""The WeCom callback gateway: the URL WeCom calls, answering at once while Rasa may be busy.

  .venv/rasa/bin/python -m bot.channels.wecom_gateway --port 5006 \\
      --forward-url http://127.0.0.1:5005/webhooks/wecom/webhook

Why a separate process: Rasa 3.6 runs NLU and policies synchronously on the event loop that
also answers callbacks, so under load a callback waits seconds for its 200 and WeCom (5 s
rule) retries. This small aiohttp server does only the protocol part: ``GET`` URL
verification; ``POST`` signature, decryption, CorpID and shape checks (wecom_callback,
the channel's own code — same 403/400/413 answers, nothing forwarded), dedupe of WeCom's
retries, an empty 200, and then — in the background — the original query string and body,
unchanged, to Rasa's ``wecom`` channel, which verifies them again and runs the turn. A
forward is retried with backoff until the channel answers 200, for at most
FORWARD_GIVE_UP_SECONDS (well inside the replay window, so the channel still accepts it);
a 400/403/413 from the channel is final; giving up is logged. One member's callbacks are
forwarded in the order they arrived, and at most FORWARDS_IN_FLIGHT are in flight at once.

``GET /health`` → {"status": "ok", "pending" (not yet forwarded), "in_flight" (being
forwarded), counters}; serve on loopback behind the proxy that exposes only
/webhooks/wecom/webhook. Settings: the channel's WECOM_* (wecom/config.py).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections import Counter
from typing import Optional

import aiohttp
import uvloop
from aiohttp import web
from yarl import URL

from wecom import WeComConfig, WeComConfigError

from .wecom_callback import MAX_BODY_BYTES, CallbackCrypto, Inbound, Rejected
from .wecom_store import Store, first_delivery, store_for

logger = logging.getLogger("wecom_gateway")

WEBHOOK = "/webhooks/wecom/webhook"
FORWARD_ATTEMPT_TIMEOUT = 30.0    # a busy Rasa may take seconds to answer its channel's callback
FORWARD_GIVE_UP_SECONDS = 600.0   # < REPLAY_WINDOW_SECONDS: a late forward must still be accepted
# Forwards in flight at once. Rasa runs turns one after another anyway; a burst of 50 callbacks
# forwarded at once only takes CPU from the acknowledgements WeCom is waiting for.
FORWARDS_IN_FLIGHT = 4
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 30.0
SHUTDOWN_GRACE_SECONDS = 10.0
REFUSED = {"HTTP 400", "HTTP 403", "HTTP 413"}  # the channel's own verdicts (e.g. its WECOM_* differ)
# Dedupe marks of the gateway live under their own key ("gateway:…", in Redis "wecom:gateway:…"),
# apart from the channel's ("seen:…"): the channel must still accept the one delivery the gateway
# forwards, and keeps dropping the doubles a forward retry may cause (a timed-out try that Rasa
# did receive). With no WECOM_REDIS_URL each process has its own in-process store anyway.
DEDUPE_PREFIX = "gateway:"


class Gateway:
    """Checks callbacks, dedupes them and forwards first deliveries to Rasa in the background."""

    def __init__(self, config: WeComConfig, forward_url: str, store: Store, session: aiohttp.ClientSession):
        self.crypto = CallbackCrypto(config.token, config.aes_key, config.corp_id)
        self.forward_url, self.store, self.session = forward_url, store, session
        self.counts: Counter[str] = Counter()
        self.tasks: set[asyncio.Task] = set()
        self._member_locks: dict[str, asyncio.Lock] = {}
        self._member_waiting: Counter[str] = Counter()  # forwards queued per member, to forget idle locks
        self._forward_slots = asyncio.Semaphore(FORWARDS_IN_FLIGHT)
        self.in_flight = 0

    async def accept(self, query_string: str, query: dict[str, str], body: bytes) -> None:
        """Raises Rejected for a callback to refuse; otherwise it is (or was) on its way to Rasa."""
        try:
            inbound = self.crypto.open(query, body)
        except Rejected:
            self.counts["rejected"] += 1
            raise
        if not await first_delivery(self.store, DEDUPE_PREFIX + inbound.dedupe_key):
            self.counts["duplicates"] += 1
            logger.info("WeCom callback %s already received, not forwarded again", inbound.dedupe_key)
            return
        self.counts["accepted"] += 1
        task = asyncio.ensure_future(self._forward_in_order(inbound, query_string, body))
        self.tasks.add(task)  # a reference, or the loop may drop the task mid-way
        task.add_done_callback(self.tasks.discard)

    async def _forward_in_order(self, inbound: Inbound, query_string: str, body: bytes) -> None:
        member = inbound.userid
        lock = self._member_locks.setdefault(member, asyncio.Lock())
        self._member_waiting[member] += 1
        try:
            async with lock:
                await self._forward(inbound, query_string, body)
        finally:
            self._member_waiting[member] -= 1
            if not self._member_waiting[member]:
                del self._member_waiting[member], self._member_locks[member]

    async def _forward(self, inbound: Inbound, query_string: str, body: bytes) -> None:
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
                             inbound.dedupe_key, inbound.userid, attempt, outcome)
                return
            logger.warning("forwarding WeCom callback %s failed (%s), retry in %.1f s",
                           inbound.dedupe_key, outcome, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def drain(self) -> None:
        """On shutdown: let forwards in flight finish for a moment, then say what is lost."""
        if self.tasks:
            _, pending = await asyncio.wait(set(self.tasks), timeout=SHUTDOWN_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            if pending:
                logger.error("%d WeCom callback(s) not forwarded at shutdown", len(pending))

    def health(self) -> dict[str, object]:
        return {"status": "ok", "pending": len(self.tasks), "in_flight": self.in_flight,
                **{name: self.counts[name] for name in ("accepted", "forwarded", "duplicates", "rejected",
                                                         "given_up")}}


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
    return web.Response(text="")


async def health(request: web.Request) -> web.Response:
    return web.json_response(request.app[GATEWAY].health())


def create_app(config: WeComConfig, forward_url: str) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)

    async def lifecycle(app: web.Application):
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
        store = store_for(config.redis_url)
        app[GATEWAY] = Gateway(config, forward_url, store, session)
        yield
        await app[GATEWAY].drain()
        await session.close()
        await store.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get(WEBHOOK, verify_url)
    app.router.add_post(WEBHOOK, receive)
    app.router.add_get("/health", health)
    return app


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.channels.wecom_gateway", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5006)
    parser.add_argument("--forward-url", required=True,
                        help="Rasa's wecom channel, e.g. http://127.0.0.1:5005/webhooks/wecom/webhook")
    args = parser.parse_args(argv)
    try:
        config = WeComConfig.from_env()
    except WeComConfigError as error:
        print(f"wecom-gateway: {error}; not started", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    print(f"WeCom callback gateway on http://{args.host}:{args.port}{WEBHOOK} → {args.forward_url}", flush=True)
    uvloop.install()  # libuv's loop: the acknowledgement path is mostly socket work
    web.run_app(create_app(config, args.forward_url), host=args.host, port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
