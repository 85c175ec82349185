"""Replicas benchmark: 1 vs 2 Rasa replicas (each with its action server and backend) on one
PostgreSQL database and Redis (devtools/replicas.py, deploy/replicas/endpoints.yml).

  make bench-replicas
  .venv/rasa/bin/python -m bench.replicas_bench --replicas 1,2 --users 10,50 --turns 12

For each replica count and each concurrency level, that many users talk at once, each a
distinct demo account, with the assistant benchmark's conversation (half plain responses,
half backend calls). With 2 replicas a user's turns go alternately to both, as a balancer
without sender routing would send them: every turn takes the shared conversation lock.
Reports turns/s, p50/p95 and the resident memory of every process, plus the load average
before the run (the machine's state: 2 cores shared with whatever else runs).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import yaml

from bench.bot_bench import CONVERSATION, rss_mb
from bench.stats import percentile, report
from devtools.replicas import Replicas
from devtools.stack import ROOT

RESULTS = ROOT / "bench" / "results"


async def user(session: aiohttp.ClientSession, urls: list[str], index: int, sender: str, turns: int,
               timings: list[float]) -> None:
    for k in range(turns):
        text, _ = CONVERSATION[k % len(CONVERSATION)]
        url = urls[(index + k) % len(urls)]
        began = time.perf_counter()
        async with session.post(url, json={"sender": sender, "message": text}) as response:
            replies = await response.json()
            assert response.status == 200 and replies, (response.status, replies)
        timings.append((time.perf_counter() - began) * 1000)


async def level(replicas: Replicas, usernames: list[str], users: int, turns: int) -> dict[str, float]:
    urls = [f"{replicas.rasa_url(i)}/webhooks/rest/webhook" for i in range(replicas.count)]
    timings: list[float] = []
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=users), timeout=timeout) as session:
        began = time.perf_counter()
        await asyncio.gather(*[user(session, urls, i, f"web:{usernames[i % len(usernames)]}", turns, timings)
                               for i in range(users)])
        elapsed = time.perf_counter() - began
    row = {"replicas": replicas.count, "users": users, "turns_per_s": len(timings) / elapsed,
           "p50": statistics.median(timings), "p95": percentile(timings, 0.95)}
    print(f"  · {replicas.count} replica(s), {users} users: {row['turns_per_s']:.1f} turns/s; "
          f"p50/p95 {row['p50']:.0f}/{row['p95']:.0f} ms", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", default="1,2")
    parser.add_argument("--users", default="10,50")
    parser.add_argument("--turns", type=int, default=12, help="turns per user per level")
    parser.add_argument("--results", type=Path, default=RESULTS / "replicas.md")
    args = parser.parse_args()
    org = yaml.safe_load((ROOT / "backend" / "demo_data" / "org.yml").read_text(encoding="utf-8"))
    usernames = [u["username"] for u in org["users"]]
    load_before = os.getloadavg()
    rows, memory = [], {}
    for count in (int(n) for n in args.replicas.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            replicas = Replicas(Path(tmp), count=count).up()
            try:
                for i in range(count):  # warm-up: first turns load models and caches
                    for name in usernames[:2]:
                        replicas.say(i, f"web:{name}", "你好")
                        replicas.say(i, f"web:{name}", "我有什么待办")
                rows += [asyncio.run(level(replicas, usernames, int(n), args.turns)) for n in args.users.split(",")]
                memory[count] = {name: rss_mb(process.pid) for name, process in replicas.processes.items()}
            finally:
                replicas.down()
    lines = [
        f"Replicas benchmark, {datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}, {os.cpu_count()} cores, "
        f"load average before {load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f}; REST channel, "
        f"{args.turns} turns per user, PostgreSQL tracker store, AtomicRedisLockStore.",
        "",
        "| Rasa replicas | users | turns/s | p50 / p95 |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['replicas']} | {r['users']} | {r['turns_per_s']:.1f} | {r['p50']:.0f} / {r['p95']:.0f} ms |")
    lines.append("")
    for count, sizes in memory.items():
        lines.append(f"Resident memory with {count} replica(s): "
                     + ", ".join(f"{name} {mb:.0f} MB" for name, mb in sizes.items()) + ".")
    table = "\n".join(lines)
    report(args.results, table)


if __name__ == "__main__":
    main()
