"""Assistant benchmark: realistic conversations from many senders through the REST channel.

  make bench-bot
  .venv/rasa/bin/python -m bench.bot_bench --users 1,10,50 --turns 12

Starts the whole stack (devtools/stack.py), then for each concurrency level runs that
many users at once, each a distinct demo account, each alternating turns that are
answered by a plain response (greeting, how-to FAQ) with turns that call the backend
(pending tasks, my applications). Reports turns/s and p50/p95 for both kinds in the
same run, the (b)/(a) p95 ratio (goal ≤ 1.5), the training time of the current model
(re-measured with --train) and each process's resident memory.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import yaml

from bench.stats import percentile, report
from devtools.stack import RASA_BIN, ROOT, Stack

RESULTS = ROOT / "bench" / "results"
# (text, kind): "plain" turns are answered from the domain, "backend" turns call the API.
CONVERSATION = [
    ("你好", "plain"), ("我有什么待办", "backend"), ("怎么打开校务服务网", "plain"), ("我的申请", "backend"),
    ("加签是什么意思", "plain"), ("看看我的待办", "backend"),
]



def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (Rasa and Sanic fork helpers)."""
    total = 0
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(c) for c in children]
    except FileNotFoundError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


async def user(session: aiohttp.ClientSession, url: str, sender: str, turns: int,
               timings: dict[str, list[float]]) -> None:
    for i in range(turns):
        text, kind = CONVERSATION[i % len(CONVERSATION)]
        began = time.perf_counter()
        async with session.post(url, json={"sender": sender, "message": text}) as response:
            replies = await response.json()
            assert response.status == 200 and replies, (response.status, replies)
        timings[kind].append((time.perf_counter() - began) * 1000)


async def level(stack: Stack, usernames: list[str], users: int, turns: int) -> dict[str, float]:
    url = f"http://127.0.0.1:{stack.ports['rasa']}/webhooks/rest/webhook"
    timings: dict[str, list[float]] = {"plain": [], "backend": []}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=users)) as session:
        began = time.perf_counter()
        await asyncio.gather(*[user(session, url, f"web:{usernames[i % len(usernames)]}", turns, timings)
                               for i in range(users)])
        elapsed = time.perf_counter() - began
    row = {"users": users, "turns_per_s": (len(timings["plain"]) + len(timings["backend"])) / elapsed}
    for kind, values in timings.items():
        row[f"{kind}_p50"], row[f"{kind}_p95"] = statistics.median(values), percentile(values, 0.95)
    row["ratio"] = row["backend_p95"] / row["plain_p95"]
    print(f"  · {users} users: {row['turns_per_s']:.1f} turns/s; plain p50/p95 {row['plain_p50']:.0f}/"
          f"{row['plain_p95']:.0f} ms; backend p50/p95 {row['backend_p50']:.0f}/{row['backend_p95']:.0f} ms; "
          f"ratio {row['ratio']:.2f}", flush=True)
    return row


def training_seconds() -> float:
    with tempfile.TemporaryDirectory() as out:
        print("  · training a fresh model (this takes a few minutes) …", flush=True)
        began = time.perf_counter()
        subprocess.run([str(RASA_BIN / "rasa"), "train", "--config", "config.yml", "--domain", "bot/domain",
                        "--data", "data", "--out", out, "--force"], cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="1,10,50")
    parser.add_argument("--turns", type=int, default=12, help="turns per user per level")
    parser.add_argument("--train", action="store_true", help="also measure a full training run")
    parser.add_argument("--results", type=Path, default=RESULTS / "bot.md")
    args = parser.parse_args()
    trained = training_seconds() if args.train else None
    org = yaml.safe_load((ROOT / "backend" / "demo_data" / "org.yml").read_text(encoding="utf-8"))
    usernames = [u["username"] for u in org["users"]]
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp)).up()
        try:
            for name in usernames[:3]:  # warm-up: first turns load models and caches
                stack.say(f"web:{name}", "你好")
                stack.say(f"web:{name}", "我有什么待办")
            rows = [asyncio.run(level(stack, usernames, int(n), args.turns)) for n in args.users.split(",")]
            memory = {name: rss_mb(stack.pid(name)) for name in ("backend", "actions", "rasa")}
        finally:
            stack.down()
    lines = [
        f"Assistant benchmark, {datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}; REST channel, "
        f"{args.turns} turns per user, half plain responses (a), half backend calls (b).",
        "",
        "| users | turns/s | (a) plain p50 / p95 | (b) backend p50 / p95 | (b)/(a) p95 |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['users']} | {r['turns_per_s']:.1f} | {r['plain_p50']:.0f} / {r['plain_p95']:.0f} ms "
                     f"| {r['backend_p50']:.0f} / {r['backend_p95']:.0f} ms | {r['ratio']:.2f} |")
    lines.append("")
    lines.append("Resident memory: " + ", ".join(f"{k} {v:.0f} MB" for k, v in memory.items())
                 + (f"; training time {trained:.0f} s." if trained else "."))
    table = "\n".join(lines)
    report(args.results, table)


if __name__ == "__main__":
    main()
