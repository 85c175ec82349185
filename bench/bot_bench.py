"""Assistant benchmark: realistic conversations from many senders through the REST channel.

  make bench-bot
  .venv/rasa/bin/python -m bench.bot_bench --users 1,10,50 --turns 12

Starts the whole stack (devtools/stack.py), then for each concurrency level runs that
many users at once, each a distinct demo account (a level has at least MIN_TURNS_PER_LEVEL
turns: with few users, each holds several conversations in turn), each alternating turns that are
answered by a plain response (greeting, what it can do, thanks) with turns that call the
backend (pending tasks, my applications, a how-to answered with the backend's text).
Reports turns/s and p50/p95 for both kinds in the same run, the (b)/(a) p95 ratio (goal ≤ 1.2), the training time of the current model
(re-measured with --train) and each process's resident memory, Rasa's after the warm-up
and after every level (≥ 1,000 turns with the defaults).

Then the bare-Rasa baseline in the same run: the same model served by plain `rasa run`
(REST channel, in-memory tracker store, no action server), plain turns only, so what our
fixes (bot/server.py), the SQL tracker store and our actions cost is visible side by side.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import yaml

from bench.stats import percentile, report
from bench.train_bench import timed_training
from devtools.stack import RASA_BIN, ROOT, Stack, free_port, http

RESULTS = ROOT / "bench" / "results"
# (text, kind): "plain" turns are answered from the domain, "backend" turns call the API — a how-to
# question too, since its answer text comes from the backend (actions/faq.py).
CONVERSATION = [
    ("你好", "plain"), ("我有什么待办", "backend"), ("你能做什么", "plain"), ("我的申请", "backend"),
    ("谢谢", "plain"), ("加签是什么意思", "backend"),
]



def with_children(pid: int) -> list[int]:
    """The process and its children (Rasa and Sanic fork helpers)."""
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(c) for c in children]
    except FileNotFoundError:
        pass
    return pids


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and its children have used so far: per turn, a measure
    that holds on a busy machine too, where turns/s does not."""
    ticks = 0
    for p in with_children(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (Rasa and Sanic fork helpers)."""
    total = 0
    for p in with_children(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


PLAIN_CONVERSATION = [turn for turn in CONVERSATION if turn[1] == "plain"]


async def user(session: aiohttp.ClientSession, url: str, sender: str, turns: int,
               timings: dict[str, list[float]], conversation: list[tuple[str, str]],
               by_message: dict[str, list[float]]) -> None:
    for i in range(turns):
        text, kind = conversation[i % len(conversation)]
        began = time.perf_counter()
        async with session.post(url, json={"sender": sender, "message": text}) as response:
            replies = await response.json()
            assert response.status == 200 and replies, (response.status, replies)
        took = (time.perf_counter() - began) * 1000
        timings[kind].append(took)
        # A conversation's first message also starts its session (a look-up in the backend).
        by_message["(first) " + text if i == 0 else text].append(took)


# A p95 needs samples: a level has at least this many turns. With fewer users than that needs, each
# user holds several conversations of --turns turns one after the other, each with another demo person
# (at 1 user: 15 conversations of 20 turns, not one conversation's 10 turns of each kind).
MIN_TURNS_PER_LEVEL = 300


async def level(port: int, usernames: list[str], users: int, turns: int,
                conversation: list[tuple[str, str]] = CONVERSATION, rasa_pid: int | None = None) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    cpu_before = cpu_seconds(rasa_pid) if rasa_pid else 0.0
    timings: dict[str, list[float]] = {kind: [] for _, kind in conversation}
    by_message: dict[str, list[float]] = defaultdict(list)
    rounds = -(-MIN_TURNS_PER_LEVEL // (users * turns))  # conversations per user, at least one

    async def one_user(i: int) -> None:
        for k in range(rounds):
            sender = f"web:{usernames[(i + k * users) % len(usernames)]}"
            await user(session, url, sender, turns, timings, conversation, by_message)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=users)) as session:
        began = time.perf_counter()
        await asyncio.gather(*[one_user(i) for i in range(users)])
        elapsed = time.perf_counter() - began
    turns_done = sum(map(len, timings.values()))
    row = {"users": users, "turns": turns_done, "turns_per_s": turns_done / elapsed,
           "rasa_cpu_ms": (cpu_seconds(rasa_pid) - cpu_before) * 1000 / turns_done if rasa_pid else 0.0}
    for kind, values in timings.items():
        row[f"{kind}_p50"], row[f"{kind}_p95"] = statistics.median(values), percentile(values, 0.95)
    shown = "; ".join(f"{kind} p50/p95 {row[kind + '_p50']:.0f}/{row[kind + '_p95']:.0f} ms" for kind in timings)
    if "backend" in timings:
        row["ratio"] = row["backend_p95"] / row["plain_p95"]
        shown += f"; ratio {row['ratio']:.2f}"
    print(f"  · {users} users: {row['turns_per_s']:.1f} turns/s; {shown}; Rasa CPU {row['rasa_cpu_ms']:.1f} ms/turn",
          flush=True)
    print("    by message, p50/p95: " + "; ".join(
        f"{text} {statistics.median(values):.0f}/{percentile(values, 0.95):.0f} ms"
        for text, values in by_message.items()), flush=True)
    return row


def bare_rasa_levels(stack: Stack, usernames: list[str], levels: list[int], turns: int) -> list[dict[str, float]]:
    """The same model under plain `rasa run`: REST channel, in-memory trackers, plain turns. Its only
    custom action is a conversation's session start (actions/helpdesk.py), for which it reaches the
    stack's action server."""
    print("Bare Rasa (plain `rasa run`, plain turns only):", flush=True)
    port = free_port()
    endpoints = stack.tmp / "bare-endpoints.yml"
    endpoints.write_text(yaml.safe_dump({"action_endpoint": {
        "url": f"http://127.0.0.1:{stack.ports['actions']}/webhook",
        "headers": {"Authorization": f"Bearer {stack.env['ACTION_SERVER_TOKEN']}"},
        "enable_selective_domain": True}}), encoding="utf-8")
    stack.start("bare_rasa", [str(RASA_BIN / "rasa"), "run", "--model", str(stack.model), "--connector", "rest",
                              "--endpoints", str(endpoints), "--interface", "127.0.0.1", "--port", str(port)],
                f"http://127.0.0.1:{port}/")
    try:
        for name in usernames[:3]:
            http("POST", f"http://127.0.0.1:{port}/webhooks/rest/webhook", {"sender": f"web:{name}", "message": "你好"})
        return [asyncio.run(level(port, usernames, n, turns, PLAIN_CONVERSATION, stack.pid("bare_rasa"))) for n in levels]
    finally:
        stack.stop("bare_rasa")


def training_seconds() -> float:
    """A full training from scratch, as `make bench-train` does it (empty cache)."""
    print("Training a fresh model (a few minutes) …", flush=True)
    with tempfile.TemporaryDirectory() as out:
        total, _ = timed_training(ROOT / "config.yml", Path(out))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="1,10,50")
    parser.add_argument("--turns", type=int, default=20, help="turns per conversation")
    parser.add_argument("--train", action="store_true", help="also measure a full training run")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare-Rasa baseline")
    parser.add_argument("--results", type=Path, default=RESULTS / "bot.md")
    args = parser.parse_args()
    trained = training_seconds() if args.train else None
    org = yaml.safe_load((ROOT / "backend" / "demo_data" / "org.yml").read_text(encoding="utf-8"))
    usernames = [u["username"] for u in org["users"]]
    levels = [int(n) for n in args.users.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp)).up()
        try:
            for name in usernames[:3]:  # warm-up: first turns load models and caches
                stack.say(f"web:{name}", "你好")
                stack.say(f"web:{name}", "我有什么待办")
            rasa_rss = [("after the warm-up", rss_mb(stack.pid("rasa")))]
            rows = []
            for n in levels:
                rows.append(asyncio.run(level(stack.ports["rasa"], usernames, n, args.turns,
                                              rasa_pid=stack.pid("rasa"))))
                rasa_rss.append((f"after {sum(r['turns'] for r in rows):,} turns", rss_mb(stack.pid("rasa"))))
            memory = {name: rss_mb(stack.pid(name)) for name in ("backend", "actions", "rasa")}
            stack.stop("rasa")  # the baseline has the machine to itself, as ours had
            bare = [] if args.no_bare else bare_rasa_levels(stack, usernames, levels, args.turns)
        finally:
            stack.down()
    load = os.getloadavg()
    lines = [
        f"Assistant benchmark, {datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}; REST channel, "
        f"conversations of {args.turns} turns, at least {MIN_TURNS_PER_LEVEL} turns per level, half plain "
        f"responses (a), half backend calls (b); load average at the end "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}.",
        "",
        "| users | turns/s | (a) plain p50 / p95 | (b) backend p50 / p95 | (b)/(a) p95 | Rasa CPU per turn "
        "| bare Rasa: turns/s | bare p50 / p95 | bare CPU per turn |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r, b in zip(rows, bare or [None] * len(rows)):
        baseline = (f"{b['turns_per_s']:.1f} | {b['plain_p50']:.0f} / {b['plain_p95']:.0f} ms | {b['rasa_cpu_ms']:.1f} ms"
                    if b else "– | – | –")
        lines.append(f"| {r['users']} | {r['turns_per_s']:.1f} | {r['plain_p50']:.0f} / {r['plain_p95']:.0f} ms "
                     f"| {r['backend_p50']:.0f} / {r['backend_p95']:.0f} ms | {r['ratio']:.2f} | {r['rasa_cpu_ms']:.1f} ms "
                     f"| {baseline} |")
    lines.append("")
    lines.append("Resident memory: " + ", ".join(f"{k} {v:.0f} MB" for k, v in memory.items())
                 + "; Rasa " + ", ".join(f"{v:.0f} MB {k}" for k, v in rasa_rss)
                 + (f"; training time {trained:.0f} s." if trained else "."))
    table = "\n".join(lines)
    report(args.results, table)


if __name__ == "__main__":
    main()
