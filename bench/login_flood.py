"""Login flood: does a stream of logins slow everybody else's reads?

  make bench-login
  .venv/backend/bin/python -m bench.login_flood --rate 40 --seconds 20

A fresh SQLite database with the demo college, every password hashed at production cost
(Argon2id, argon2-cffi's defaults: what a real login verifies), the real server in its own
process. One client reads "my pending tasks" one request at a time, first alone (quiet),
then while logins arrive at ``--rate`` per second on a fixed schedule whatever the answers
(open loop: an attacker or a crowd does not wait). Reported: the reads' p50/p95/max in
both phases and what the logins got (200, 429, 503) with their p50/p95.
Results: a Markdown table on stdout and in bench/results/login_flood.md.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
from argon2 import PasswordHasher

from backend.catalog.loader import DEMO_DIR, import_catalog, import_org, read_yaml
from backend.db import migrate
from backend.db.database import Database
from bench.backend_bench import free_port, wait_until_up
from bench.stats import percentile, report

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PASSWORD = "bench-only-Passw0rd"
READER = "t0001"


def say(message: str) -> None:
    print(message, flush=True)


async def seed(url: str) -> list[str]:
    production_hash = PasswordHasher().hash(PASSWORD)  # one real-cost hash, shared: seeding stays fast
    database = Database(url)
    async with database.write() as session:
        await import_org(session, read_yaml(DEMO_DIR / "org.yml"), lambda _: production_hash, PASSWORD)
        await import_catalog(session, read_yaml(DEMO_DIR / "matters.yml"))
    await database.dispose()
    return [user["username"] for user in read_yaml(DEMO_DIR / "org.yml")["users"]]


async def read_loop(client: aiohttp.ClientSession, base: str, headers: dict[str, str], seconds: float,
                    failed: Counter) -> list[float]:
    """Latencies of the reads (failed ones included: a 5xx is slow too), failures counted by status."""
    timings: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        began = time.perf_counter()
        async with client.get(f"{base}/api/v1/tasks?status=pending", headers=headers) as response:
            await response.read()
            if response.status != 200:
                failed[str(response.status)] += 1
        timings.append((time.perf_counter() - began) * 1000)
        await asyncio.sleep(0.02)
    return timings


async def flood(base: str, usernames: list[str], rate: float, seconds: float,
                outcomes: Counter, timings: list[float]) -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=60)) as client:
        async def one(username: str) -> None:
            began = time.perf_counter()
            try:
                async with client.post(f"{base}/api/v1/auth/login",
                                       json={"username": username, "password": PASSWORD}) as response:
                    await response.read()
                    outcomes[str(response.status)] += 1
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                outcomes[type(error).__name__] += 1
            timings.append((time.perf_counter() - began) * 1000)

        started, tasks = time.perf_counter(), []
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(usernames[n % len(usernames)])))
        await asyncio.gather(*tasks)


def row(label: str, timings: list[float], failed: Counter) -> str:
    errors = ", ".join(f"{status}: {count}" for status, count in sorted(failed.items())) or "none"
    return (f"| {label} | {len(timings)} | {statistics.median(timings):.1f} | {percentile(timings, 0.95):.1f} "
            f"| {max(timings):.1f} | {errors} |")


async def measure(base: str, usernames: list[str], args: argparse.Namespace) -> str:
    async with aiohttp.ClientSession() as client:
        async with client.post(f"{base}/api/v1/auth/login", json={"username": READER, "password": PASSWORD}) as r:
            assert r.status == 200, await r.text()
            headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
        await read_loop(client, base, headers, 2, Counter())  # warm-up
        say(f"  · reads alone for {args.quiet_seconds:.0f} s …")
        quiet_failed: Counter = Counter()
        quiet = await read_loop(client, base, headers, args.quiet_seconds, quiet_failed)
        say(f"  · reads while {args.rate:.0f} logins/s arrive for {args.seconds:.0f} s …")
        outcomes: Counter = Counter()
        login_timings: list[float] = []
        flooding = asyncio.create_task(flood(base, usernames, args.rate, args.seconds, outcomes, login_timings))
        busy_failed: Counter = Counter()
        busy = await read_loop(client, base, headers, args.seconds, busy_failed)
        await flooding
    answered = ", ".join(f"{status}: {count}" for status, count in sorted(outcomes.items()))
    return "\n".join([
        f"Login flood: {args.rate:.0f} logins/s for {args.seconds:.0f} s (open loop, correct passwords, "
        f"Argon2id at argon2-cffi's defaults), {args.workers} server worker(s), SQLite, "
        f"{os.cpu_count()} cores shared with the load generator.",
        "",
        "| reads of my pending tasks | requests | p50 ms | p95 ms | max ms | failed |",
        "|---|---|---|---|---|---|",
        row("alone", quiet, quiet_failed),
        row(f"during {args.rate:.0f} logins/s", busy, busy_failed),
        "",
        f"Logins answered — {answered}; login p50 {statistics.median(login_timings):.0f} ms, "
        f"p95 {percentile(login_timings, 0.95):.0f} ms.",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=40.0, help="logins per second (default 40)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the flood lasts (default 20)")
    parser.add_argument("--quiet-seconds", type=float, default=10.0, help="reads alone first (default 10)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    parser.add_argument("--results", type=Path, default=RESULTS / "login_flood.md")
    parser.add_argument("--server-log", type=Path, help="keep the server's stderr here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'flood.db'}"
        say("== login flood: migrating and seeding a fresh SQLite database …")
        migrate.upgrade(url)
        usernames = asyncio.run(seed(url))
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "BACKEND_SECRET_KEY": secrets.token_urlsafe(48),
               "BACKEND_PORT": str(port)}
        env.pop("BACKEND_REDIS_URL", None)
        log = open(Path(tmp) / "server.log", "wb")
        with log, subprocess.Popen([sys.executable, "-m", "backend", "serve", "--port", str(port), "--quiet",
                               "--workers", str(args.workers)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log) as server:
            try:
                base = f"http://127.0.0.1:{port}"
                asyncio.run(wait_until_up(f"{base}/api/v1"))
                table = asyncio.run(measure(base, usernames, args))
            finally:
                server.terminate()
                server.wait(timeout=30)
                if args.server_log:
                    args.server_log.write_bytes((Path(tmp) / "server.log").read_bytes())
    report(args.results, table, say)


if __name__ == "__main__":
    main()
