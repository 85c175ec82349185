"""WeCom callback benchmark: how fast callbacks are acknowledged while the bot is busy.

  .venv/rasa/bin/python -m bench.wecom_bench [--concurrency 50 --rounds 10 --load 10]

Starts the whole stack in WeCom mode (devtools/stack.py: simulator, callback gateway,
backend, actions, Rasa), keeps the bot busy with ``--load`` REST users talking non-stop, then fires
``--rounds`` bursts of ``--concurrency`` simultaneous callbacks — encrypted and signed
exactly as WeCom sends them, each a distinct message (「我有什么待办」, a backend turn) —
at the callback gateway's /webhooks/wecom/webhook (the URL WeCom calls; it forwards to
Rasa's channel), timing each until its HTTP 200 (what WeCom waits for: no answer within
5 s means a retry). Goal: p99 < 100 ms. Afterwards it waits until every callback's reply
has reached the simulator, so the turns really ran.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import yaml

from bench.stats import percentile, report
from devtools.stack import ROOT, Stack
from devtools.wecom_simulator.callback import CallbackClient, MessageFactory
from devtools.wecom_simulator.config import SimulatorConfig

RESULTS = ROOT / "bench" / "results"
GOAL_P99_MS = 100.0
WECOM_TIMEOUT_S = 5.0


async def keep_busy(session: aiohttp.ClientSession, url: str, sender: str, stop: asyncio.Event,
                    turns: list[int]) -> None:
    for text in itertools.cycle(["我有什么待办", "你好", "我的申请", "加签是什么意思"]):
        if stop.is_set():
            return
        async with session.post(url, json={"sender": sender, "message": text}) as response:
            await response.read()
        turns[0] += 1


async def one_callback(session: aiohttp.ClientSession, url: str, sealer: CallbackClient, factory: MessageFactory,
                       userid: str) -> tuple[float, int]:
    plaintext, _ = factory.text(userid, "我有什么待办")
    params, body = sealer.seal(plaintext)
    began = time.perf_counter()
    async with session.post(url, params=params, data=body.encode(),
                            timeout=aiohttp.ClientTimeout(total=WECOM_TIMEOUT_S)) as response:
        await response.read()
    return (time.perf_counter() - began) * 1000, response.status


async def sent_count(session: aiohttp.ClientSession, stack: Stack) -> int:
    async with session.get(f"http://127.0.0.1:{stack.ports['simulator']}/_sim/stats") as response:
        return (await response.json())["messages"]


async def run(stack: Stack, wecom_users: list[str], web_users: list[str], args: argparse.Namespace) -> dict:
    config = SimulatorConfig.from_env(stack.env)
    factory = MessageFactory(config)
    callback_url = f"http://127.0.0.1:{stack.ports['gateway']}/webhooks/wecom/webhook"  # what WeCom calls
    rest_url = f"http://127.0.0.1:{stack.ports['rasa']}/webhooks/rest/webhook"
    stop, background_turns = asyncio.Event(), [0]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sealer = CallbackClient(config, session)
        sent_before = await sent_count(session, stack)
        load = [asyncio.create_task(keep_busy(session, rest_url, f"web:{u}", stop, background_turns))
                for u in web_users[:args.load]]
        await asyncio.sleep(3)  # let the load build up
        timings, failures = [], 0
        users = itertools.cycle(wecom_users)
        load_began = time.perf_counter()
        for round_number in range(1, args.rounds + 1):
            burst = await asyncio.gather(*[one_callback(session, callback_url, sealer, factory, next(users))
                                           for _ in range(args.concurrency)], return_exceptions=True)
            ok = [b for b in burst if not isinstance(b, BaseException) and b[1] == 200]
            failures += len(burst) - len(ok)
            # A callback not answered within WeCom's 5 s counts as 5 s (WeCom would retry it).
            timings += [WECOM_TIMEOUT_S * 1000] * (len(burst) - len(ok))
            why = {type(b).__name__ if isinstance(b, BaseException) else f"HTTP {b[1]}"
                   for b in burst if isinstance(b, BaseException) or b[1] != 200}
            timings += [ms for ms, _ in ok]
            print(f"  · round {round_number}/{args.rounds}: {len(ok)}/{len(burst)} acknowledged, "
                  f"max {max((ms for ms, _ in ok), default=0):.0f} ms, bot busy with "
                  f"{background_turns[0]} background turns so far" + (f"; failed: {', '.join(why)}" if why else ""),
                  flush=True)
            await asyncio.sleep(args.pause)
        stop.set()
        busy_seconds = time.perf_counter() - load_began
        await asyncio.gather(*load, return_exceptions=True)
        expected = args.rounds * args.concurrency - failures
        print(f"  · waiting for the {expected} replies to reach the simulator …", flush=True)
        began_drain, replies = time.perf_counter(), 0
        while time.perf_counter() - began_drain < args.drain_timeout:
            replies = await sent_count(session, stack) - sent_before
            if replies >= expected:
                break
            await asyncio.sleep(1)
        drained = time.perf_counter() - began_drain
    return {"samples": len(timings), "failures": failures, "p50": statistics.median(timings),
            "p90": percentile(timings, 0.90), "p99": percentile(timings, 0.99), "max": max(timings),
            "background_turns": background_turns[0], "busy_seconds": busy_seconds,
            "replies": replies, "expected": expected, "drained": drained}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=50, help="simultaneous callbacks per burst")
    parser.add_argument("--rounds", type=int, default=10, help="bursts")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between bursts")
    parser.add_argument("--load", type=int, default=10, help="REST users keeping the bot busy")
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument("--results", type=Path, default=RESULTS / "wecom.md")
    args = parser.parse_args()
    org = yaml.safe_load((ROOT / "backend" / "demo_data" / "org.yml").read_text(encoding="utf-8"))
    wecom_users = [u["wecom_userid"] for u in org["users"] if u.get("wecom_userid")]
    web_users = [u["username"] for u in org["users"] if not u.get("wecom_userid")]
    with tempfile.TemporaryDirectory() as tmp:
        print("  · starting the stack in WeCom mode …", flush=True)
        stack = Stack(Path(tmp), wecom=True)
        try:  # a stack that failed half-way up is stopped too
            stack.up()
            for name in web_users[:2]:  # warm-up: first turns load models and caches
                stack.say(f"web:{name}", "你好")
                stack.say(f"web:{name}", "我有什么待办")
            row = asyncio.run(run(stack, wecom_users, web_users, args))
        finally:
            stack.down()
    verdict = "met" if row["p99"] < GOAL_P99_MS and not row["failures"] else "**not met**"
    delivered = "all delivered" if row["replies"] >= row["expected"] else "**some missing**"
    table = "\n".join([
        f"WeCom callback benchmark, {datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}: "
        f"{args.rounds} bursts of {args.concurrency} concurrent signed+encrypted callbacks while "
        f"{args.load} REST users keep the bot busy.",
        "",
        "| callbacks | concurrency | ack p50 | ack p90 | ack p99 | max | not acknowledged in 5 s (counted as 5 s) | "
        "background turns | replies sent / drained in |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {row['samples']} | {args.concurrency} | {row['p50']:.1f} ms | {row['p90']:.1f} ms | "
        f"{row['p99']:.1f} ms | {row['max']:.1f} ms | {row['failures']} | "
        f"{row['background_turns']} in {row['busy_seconds']:.0f} s | {row['replies']}/{row['expected']} "
        f"in {row['drained']:.0f} s |",
        "",
        f"Goal p99 < {GOAL_P99_MS:.0f} ms: {verdict}. Replies: {delivered}.",
    ])
    report(args.results, table)


if __name__ == "__main__":
    main()
