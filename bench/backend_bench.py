"""Backend benchmark: 100k applications, then read latency and approval throughput.

  make bench                                   # SQLite and PostgreSQL, 100k applications
  .venv/backend/bin/python -m bench.backend_bench --backends sqlite --applications 5000

For each database: a fresh schema (Alembic), the demo college, N applications with
their tasks and flow records (bulk insert), then the real server in its own process,
measured over real HTTP:
  - p50/p95 of "my pending tasks", "my applications" and "application detail"
    (one client, one request at a time);
  - approvals per second with 20 concurrent clients (each approval runs the real
    engine: lock, decide, record, notify, start the next node).
Results: a Markdown table on stdout and in bench/results/backend.md.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
from argon2 import PasswordHasher
from sqlalchemy import insert, select

from backend.auth.passwords import hash_password
from backend.catalog.loader import DEMO_DIR, import_catalog, import_org, read_yaml
from backend.db import migrate
from backend.db.database import Database
from backend.db.models import Application, DailyCounter, FlowRecord, Matter, Task, User
from backend.db.org import OrgDirectory
from backend.workflow.approvers import approvers_for_node, candidates_for, is_applicant_choice
from bench.stats import percentile, report

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PASSWORD = "bench-only-password"
POSTGRES_ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
MATTERS = ["staff_leave", "seal_usage", "venue_booking", "official_car", "business_trip", "reimbursement_precheck"]
STATUS_MIX = [("approved", 0.70), ("running", 0.15), ("returned", 0.07), ("terminated", 0.08)]
FORM = {"note": "基准测试数据", "reason": "按计划开展工作"}
BATCH = 5000


def say(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------- seeding

async def seed(url: str, applications: int, approvals: int, rng: random.Random) -> None:
    database = Database(url)
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    async with database.write() as session:
        await import_org(session, read_yaml(DEMO_DIR / "org.yml"), lambda p: hash_password(p, fast), PASSWORD)
        await import_catalog(session, read_yaml(DEMO_DIR / "matters.yml"))
        users = list(await session.scalars(select(User).where(User.kind == "staff")))
        matters = {m.code: m for m in await session.scalars(select(Matter).where(Matter.code.in_(MATTERS)))}
        org = OrgDirectory(session)
        paths: dict[tuple[int, str], tuple[dict[str, str], list[list[int]]]] = {}
        for user in users:
            for code, matter in matters.items():
                chosen = {}
                for node in matter.process:
                    if is_applicant_choice(node):
                        chosen[node["key"]] = (await candidates_for(node["approvers"], user, org))[0].username
                try:
                    people = [[p.id for p in await approvers_for_node(n, user, chosen, org)] for n in matter.process]
                except Exception:  # noqa: BLE001 - a user with no approver for this matter is skipped
                    continue
                paths[(user.id, code)] = (chosen, people)
    say(f"  · demo college loaded; {len(paths)} applicant/matter paths")

    start = datetime.now(timezone.utc) - timedelta(days=365)
    combos = list(paths)
    next_ids = {"app": 1, "task": 1, "record": 1}
    rows: dict[str, list[dict[str, Any]]] = {"app": [], "task": [], "record": []}
    # The last `approvals` applications are left at their first node for the approval run.
    total = applications + approvals

    async def flush() -> None:
        async with database.write() as session:
            for model, key in ((Application, "app"), (Task, "task"), (FlowRecord, "record")):
                if rows[key]:
                    await session.execute(insert(model), rows[key])
                    rows[key] = []

    for index in range(total):
        applicant_id, code = combos[rng.randrange(len(combos))]
        chosen, people = paths[(applicant_id, code)]
        matter = matters[code]
        if index >= applications:
            status = "running"
        else:
            roll, status = rng.random(), "approved"
            for name, share in STATUS_MIX:
                roll -= share
                if roll < 0:
                    status = name
                    break
        created = start + timedelta(seconds=index * 365 * 86400 / total)
        app_id = next_ids["app"]
        next_ids["app"] += 1
        nodes = len(matter.process)
        reached = nodes if status == "approved" else (0 if index >= applications else rng.randrange(nodes))
        app = {"id": app_id, "number": f"SB{created:%Y%m%d}-{app_id:06d}", "matter_id": matter.id,
               "applicant_id": applicant_id, "form": FORM, "process": matter.process, "chosen_approvers": chosen,
               "status": status, "current_node": reached if status == "running" else None, "round": 1,
               "created_at": created, "updated_at": created,
               "finished_at": created if status in ("approved", "terminated") else None, "version": 1}
        rows["app"].append(app)

        def record(action: str, actor: int, node: int | None, task_id: int | None) -> None:
            rows["record"].append({
                "id": next_ids["record"], "application_id": app_id, "task_id": task_id, "round": 1,
                "node_key": matter.process[node]["key"] if node is not None else None,
                "node_name": matter.process[node]["name"] if node is not None else "发起申请", "actor_id": actor,
                "action": action, "opinion": None, "detail": {}, "created_at": created})
            next_ids["record"] += 1

        record("submit", applicant_id, None, None)
        for node in range(min(reached + 1, nodes)):
            approver = people[node][0]
            task_id = next_ids["task"]
            next_ids["task"] += 1
            if node < reached:
                task_status, decision = "done", "approve"
            elif status == "running":
                task_status, decision = "pending", None
            elif status == "returned":
                task_status, decision = "done", "return"
            else:
                task_status, decision = "cancelled", None
            rows["task"].append({
                "id": task_id, "application_id": app_id, "round": 1, "node_index": node,
                "node_key": matter.process[node]["key"], "assignee_id": approver, "kind": "approval",
                "parent_task_id": None, "status": task_status, "decision": decision, "opinion": None,
                "created_at": created, "decided_at": created if task_status == "done" else None, "version": 1})
            if decision:
                record(decision, approver, node, task_id)
        if status == "terminated":
            record("terminate", applicant_id, None, None)
        if len(rows["app"]) >= BATCH:
            await flush()
            done = index + 1
            if done % (BATCH * 4) == 0 or done == total:
                say(f"  · seeded {done:,}/{total:,} applications")
    await flush()
    async with database.write() as session:
        await session.execute(insert(DailyCounter), [{"day": "19700101", "last": 0}])
    if not database.is_sqlite:  # bulk inserts with explicit ids leave the sequences behind
        async with database.write() as session:
            from sqlalchemy import text
            for table in ("applications", "tasks", "flow_records"):
                await session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
            await session.execute(text("ANALYZE"))
    else:
        async with database.write() as session:
            from sqlalchemy import text
            await session.execute(text("ANALYZE"))
    say(f"  · {next_ids['app'] - 1:,} applications, {next_ids['task'] - 1:,} tasks, "
        f"{next_ids['record'] - 1:,} flow records")
    await database.dispose()


# ---------------------------------------------------------------- measuring


async def login(client: aiohttp.ClientSession, base: str, username: str) -> dict[str, str]:
    async with client.post(f"{base}/auth/login", json={"username": username, "password": PASSWORD}) as r:
        body = await r.json()
        assert r.status == 200, body
        return {"Authorization": f"Bearer {body['token']}"}


async def measure_reads(base: str, url: str, requests: int) -> dict[str, tuple[float, float]]:
    database = Database(url)
    async with database.read() as session:
        from sqlalchemy import func
        busiest_approver = (await session.execute(
            select(User.username).join(Task, Task.assignee_id == User.id).where(Task.status == "pending")
            .group_by(User.username).order_by(func.count().desc()).limit(1))).scalar_one()
        busiest_applicant, applicant_id = (await session.execute(
            select(User.username, User.id).join(Application, Application.applicant_id == User.id)
            .group_by(User.username, User.id).order_by(func.count().desc()).limit(1))).one()
        app_ids = list(await session.scalars(
            select(Application.id).where(Application.applicant_id == applicant_id).limit(requests)))
    await database.dispose()
    results = {}
    async with aiohttp.ClientSession() as client:
        approver = await login(client, base, busiest_approver)
        applicant = await login(client, base, busiest_applicant)
        cases = {
            "my pending tasks": lambda i: (f"{base}/tasks?status=pending", approver),
            "my applications": lambda i: (f"{base}/applications?mine=1", applicant),
            "application detail": lambda i: (f"{base}/applications/{app_ids[i % len(app_ids)]}", applicant),
        }
        for name, make in cases.items():
            timings = []
            for i in range(requests + 20):
                target, headers = make(i)
                began = time.perf_counter()
                async with client.get(target, headers=headers) as r:
                    await r.read()
                    assert r.status == 200, await r.text()
                if i >= 20:  # warm-up excluded
                    timings.append((time.perf_counter() - began) * 1000)
            results[name] = (statistics.median(timings), percentile(timings, 0.95))
            say(f"  · {name}: p50 {results[name][0]:.1f} ms, p95 {results[name][1]:.1f} ms")
    return results


async def measure_approvals(base: str, url: str, approvals: int, clients: int) -> tuple[float, float, float]:
    database = Database(url)
    async with database.read() as session:
        rows = (await session.execute(
            select(Task.id, User.username).join(User, User.id == Task.assignee_id)
            .where(Task.status == "pending", Task.node_index == 0).order_by(Task.id.desc()).limit(approvals))).all()
    await database.dispose()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as client:
        tokens = {name: await login(client, base, name) for name in {username for _, username in rows}}
        queue: asyncio.Queue = asyncio.Queue()
        for row in rows:
            queue.put_nowait(row)
        timings: list[float] = []
        failures = 0

        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                task_id, username = queue.get_nowait()
                began = time.perf_counter()
                async with client.post(f"{base}/tasks/{task_id}/approve", json={"opinion": "同意"},
                                       headers=tokens[username]) as r:
                    await r.read()
                    failures += r.status != 200
                timings.append((time.perf_counter() - began) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(clients)])
        elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{failures} approvals failed")
    rate = len(rows) / elapsed
    say(f"  · {len(rows)} approvals by {clients} clients in {elapsed:.1f} s: {rate:.0f}/s, "
        f"p50 {statistics.median(timings):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms")
    return rate, statistics.median(timings), percentile(timings, 0.95)


def server_cpu_seconds(pid: int) -> float:
    """CPU time used so far by the server process and its workers (Linux /proc): what an
    approval costs the server, whatever else the machine is busy with."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that ended while we looked
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_until_up(base: str) -> None:
    async with aiohttp.ClientSession() as client:
        for _ in range(200):
            try:
                async with client.get(f"{base}/health") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the backend did not start")


def server_profiler(path: Path, backend: str) -> list[str]:
    """Arguments that run the server under a profiler; it writes its file when the server
    exits cleanly (aiohttp stops gracefully on SIGTERM). ``.prof``: cProfile's pstats;
    anything else (.html, .txt, .pyisession): pyinstrument, which must be importable."""
    out = str(path.with_name(f"{path.stem}.{backend}{path.suffix}"))
    return ["-m", "cProfile", "-o", out] if path.suffix == ".prof" else ["-m", "pyinstrument", "-o", out]


def run_backend(backend: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    say(f"\n== {backend}")
    dropper = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        name = f"campus_bench_{secrets.token_hex(4)}"

        async def admin(sql: str) -> None:
            connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
            await connection.execute(sql)
            await connection.close()

        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        dropper = lambda: asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # noqa: E731
        url = f"{POSTGRES_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    try:
        migrate.upgrade(url)
        began = time.perf_counter()
        asyncio.run(seed(url, args.applications, args.approvals, random.Random(7)))
        seeded = time.perf_counter() - began
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "BACKEND_SECRET_KEY": secrets.token_urlsafe(48)}
        profiler = server_profiler(args.profile, backend) if args.profile else []
        with subprocess.Popen([sys.executable, *profiler, "-m", "backend", "serve", "--port", str(port), "--quiet",
                               "--workers", str(1 if backend == "sqlite" else args.server_workers)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as server:
            try:
                base = f"http://127.0.0.1:{port}/api/v1"
                asyncio.run(wait_until_up(base))
                reads = asyncio.run(measure_reads(base, url, args.requests))
                cpu_before = server_cpu_seconds(server.pid)
                approvals = asyncio.run(measure_approvals(base, url, args.approvals, args.clients))
                say(f"  · server CPU {(server_cpu_seconds(server.pid) - cpu_before) * 1000 / args.approvals:.1f} ms "
                    "per approval (login and lookups included)")
            finally:
                server.terminate()
        return {"backend": backend, "seed_s": seeded, "reads": reads, "approvals": approvals}
    finally:
        if dropper:
            dropper()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300, help="requests per read case")
    parser.add_argument("--approvals", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--results", type=Path, default=RESULTS / "backend.md", help="where the table goes")
    parser.add_argument("--server-workers", type=int, default=2,
                        help="backend processes on PostgreSQL (SQLite always runs one: one writer at a time)")
    parser.add_argument("--profile", type=Path,
                        help="run the server under a profiler, output in NAME.<database>.EXT: cProfile for .prof, "
                             "pyinstrument otherwise (use --server-workers 1: only one process is profiled)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [run_backend(b, args, Path(tmp)) for b in args.backends.split(",")]
    lines = [
        f"Backend benchmark, {datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}, {os.cpu_count()} cores, "
        f"{args.applications:,} applications; reads: 1 client, {args.requests} requests each; "
        f"approvals: {args.clients} concurrent clients, {args.approvals} approvals; "
        f"server: 1 process on SQLite, {args.server_workers} on PostgreSQL; load generator on the same machine.",
        "",
        "| database | seed | my pending tasks p50/p95 | my applications p50/p95 | application detail p50/p95 "
        "| approvals/s | approval p50/p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        reads = r["reads"]
        cells = [f"{reads[k][0]:.1f} / {reads[k][1]:.1f} ms" for k in
                 ("my pending tasks", "my applications", "application detail")]
        rate, p50, p95 = r["approvals"]
        lines.append(f"| {r['backend']} | {r['seed_s']:.0f} s | " + " | ".join(cells)
                     + f" | {rate:.0f} | {p50:.0f} / {p95:.0f} ms |")
    table = "\n".join(lines)
    report(args.results, table, say)


if __name__ == "__main__":
    main()
