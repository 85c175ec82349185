"""The replicas profile on one machine: N backends, N action servers and N Rasa replicas on one
PostgreSQL database and Redis (deploy/replicas/). Used by tests/scaleout and bench/replicas_bench.py.

Each ``Replicas`` creates two PostgreSQL databases of its own (the college, the conversations),
migrates and seeds the first, uses a Redis key prefix of its own for Rasa's lock store, and
drops / deletes all of it in ``down()``. Replica i is backend i ← action server i ← Rasa i;
every Rasa replica reads deploy/replicas/endpoints.yml (shared tracker store, our lock store).
Rasa talks through the REST channel of the development credentials, on loopback only.

``wecom=True`` adds the WeCom simulator and one callback gateway (forwarding to Rasa 0) with
WECOM_REDIS_URL (a Redis database of its own, WECOM_TEST_REDIS_URL): the gateway's queue and
the channel's dedupe and card state are in Redis, as in the profile.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

from devtools.stack import (BACKEND_PYTHON, DEMO_PASSWORD, MODEL, RASA_BIN, RASA_NICENESS, ROOT, free_port,
                            http, start_or_stop, stop_process, wait_for)

POSTGRES_ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# The WeCom keys have fixed names (wecom:…): a database number of their own, emptied of them after.
WECOM_REDIS_URL = os.environ.get("WECOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
GATEWAY_INSTANCE = "replicas-gateway"
ENDPOINTS = "deploy/replicas/endpoints.yml"  # REPLICAS_ENDPOINTS: another file, e.g. to compare lock stores


def postgres_admin(statement: str) -> None:
    """One statement on the server (CREATE/DROP DATABASE cannot run inside a transaction)."""
    import psycopg2  # in the Rasa venv (Rasa's SQL tracker store uses it)

    connection = psycopg2.connect(POSTGRES_ADMIN_DSN, connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def postgres_unavailable_reason() -> Optional[str]:
    try:
        postgres_admin("SELECT 1")
        return None
    except Exception as error:  # noqa: BLE001 — any failure means "not reachable"
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_DSN} ({type(error).__name__}: {error})"


class Replicas:
    def __init__(self, tmp: Path, count: int = 2, model: Optional[Path] = None, wecom: bool = False):
        self.tmp, self.count, self.wecom = tmp, count, wecom
        self.model = Path(model or os.environ.get("STACK_MODEL") or MODEL)
        name = f"campus_scale_{secrets.token_hex(4)}"
        self.databases = (name, f"{name}_trackers")
        self.lock_prefix = f"scale{secrets.token_hex(4)}"
        base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0]
        admin = urlsplit(POSTGRES_ADMIN_DSN)
        self.ports = [{service: free_port() for service in ("backend", "actions", "rasa")} for _ in range(count)]
        # What every process of the profile shares (in production: each gets only what it uses).
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("WECOM_")},
            "DATABASE_URL": f"{base}/{name}",
            "BACKEND_SECRET_KEY": secrets.token_urlsafe(48),
            "BACKEND_SERVICE_TOKEN": secrets.token_urlsafe(48),
            "DEMO_PASSWORD": DEMO_PASSWORD,
            "SANIC_HOST": "127.0.0.1",
            "WEBCHAT_TOKEN_SECRET": secrets.token_urlsafe(48),
            "ACTION_SERVER_TOKEN": secrets.token_urlsafe(32),
            "RASA_JWT_SECRET": secrets.token_urlsafe(32),
            "RASA_TRACKER_DB_HOST": admin.hostname or "127.0.0.1",
            "RASA_TRACKER_DB_PORT": str(admin.port or 5432),
            "RASA_TRACKER_DB": self.databases[1],
            "RASA_TRACKER_DB_USER": admin.username or "postgres",
            "RASA_TRACKER_DB_PASSWORD": admin.password or "",
            "RASA_LOCK_REDIS_URL": REDIS_URL,
            "RASA_LOCK_KEY_PREFIX": self.lock_prefix,
        }
        if wecom:
            from devtools.wecom_simulator.config import dev_credentials

            self.wecom_ports = {"simulator": free_port(), "gateway": free_port()}
            self.env.update({**dev_credentials(), "WECOM_REDIS_URL": WECOM_REDIS_URL,
                             "WECOM_API_BASE": f"http://127.0.0.1:{self.wecom_ports['simulator']}/cgi-bin/"})
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Any] = {}
        self.tokens: dict[str, str] = {}

    # ------------------------------------------------------------ processes
    def start(self, name: str, args: list[str], health: str, env: dict[str, str]) -> None:
        log_path = self.tmp / f"{name}.log"
        log = open(log_path, "a")
        niceness = RASA_NICENESS if name.startswith("rasa") else 0
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   preexec_fn=(lambda: os.nice(niceness)) if niceness else None)
        if name in self.logs:  # a restart: the old process is gone, so is its log's use
            self.logs[name].close()
        self.processes[name], self.logs[name] = process, log
        wait_for(health, process, log_path, float(os.environ.get("STACK_START_SECONDS", "420")))

    def up(self) -> "Replicas":
        start_or_stop(self._start_all, self.down)  # down() also drops the databases
        return self

    def _start_all(self) -> None:
        for database in self.databases:
            postgres_admin(f'CREATE DATABASE "{database}"')
        for command in (["migrate"], ["seed-demo"], ["import-faq"]):
            subprocess.run([str(BACKEND_PYTHON), "-m", "backend", *command], cwd=ROOT, env=self.env, check=True,
                           capture_output=True, timeout=300)
        for i, ports in enumerate(self.ports):
            backend_url = f"http://127.0.0.1:{ports['backend']}/api/v1"
            self.start(f"backend{i}", [str(BACKEND_PYTHON), "-m", "backend", "serve", "--port", str(ports["backend"]),
                                       "--quiet"], f"{backend_url}/health", self.env)
            self.start(f"actions{i}", [str(RASA_BIN / "python"), "-m", "actions.server", "--port", str(ports["actions"])],
                       f"http://127.0.0.1:{ports['actions']}/health", {**self.env, "BACKEND_URL": backend_url})
        if self.wecom:
            simulator, gateway = self.wecom_ports["simulator"], self.wecom_ports["gateway"]
            self.start("simulator", [str(BACKEND_PYTHON), "-m", "devtools.wecom_simulator", "--port", str(simulator),
                                     "--callback-url", f"http://127.0.0.1:{gateway}/webhooks/wecom/webhook"],
                       f"http://127.0.0.1:{simulator}/_sim/stats", self.env)
            self.start_gateway()
        # Both Rasa replicas load the model at once (about a minute each on a quiet machine).
        for i in range(self.count):
            self._spawn_rasa(i)
        for i in range(self.count):
            wait_for(self.rasa_url(i) + "/", self.processes[f"rasa{i}"], self.tmp / f"rasa{i}.log",
                     float(os.environ.get("STACK_START_SECONDS", "420")))

    def _spawn_rasa(self, i: int) -> None:
        name, ports = f"rasa{i}", self.ports[i]
        env = {**self.env, "ACTION_SERVER_URL": f"http://127.0.0.1:{ports['actions']}/webhook",
               "RASA_URL": self.rasa_url(i)}
        log = open(self.tmp / f"{name}.log", "a")
        self.processes[name] = subprocess.Popen(
            [str(RASA_BIN / "python"), "-m", "bot.server", "run", "--model", str(self.model), "--endpoints",
             os.environ.get("REPLICAS_ENDPOINTS", ENDPOINTS),
             "--credentials", "bot/credentials.dev.yml", "--interface", "127.0.0.1", "--port", str(ports["rasa"])],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=lambda: os.nice(RASA_NICENESS))
        self.logs[name] = log

    def start_gateway(self) -> None:
        gateway = self.wecom_ports["gateway"]
        self.start("gateway", [str(RASA_BIN / "python"), "-m", "bot.channels.wecom.gateway", "--port", str(gateway),
                               "--forward-url", f"{self.rasa_url(0)}/webhooks/wecom/webhook",
                               "--instance", GATEWAY_INSTANCE], f"http://127.0.0.1:{gateway}/health", self.env)

    def gateway_health(self) -> dict[str, Any]:
        status, health = http("GET", f"http://127.0.0.1:{self.wecom_ports['gateway']}/health")
        assert status == 200, health
        return health

    def kill(self, name: str) -> None:
        """kill -9: no goodbye, nothing flushed."""
        process = self.processes[name]
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def alive(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def down(self) -> None:
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                stop_process(process)
            self.logs[name].close()
        for database in self.databases:
            postgres_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{self.lock_prefix}:*"):
            client.delete(key)
        if self.wecom:
            client = redis.Redis.from_url(WECOM_REDIS_URL)
            for key in client.scan_iter("wecom:*"):
                client.delete(key)

    def memory_mb(self) -> dict[str, float]:
        """Resident memory of each process (MB), from /proc."""
        sizes = {}
        for name, process in self.processes.items():
            try:
                status = Path(f"/proc/{process.pid}/status").read_text()
            except FileNotFoundError:
                continue
            rss = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
            sizes[name] = int(rss.split()[1]) / 1024
        return sizes

    # ------------------------------------------------------------ talking
    def sim(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return http(method, f"http://127.0.0.1:{self.wecom_ports['simulator']}/_sim/{path}", body)

    def rasa_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i]['rasa']}"

    def say(self, i: int, sender: str, text: str, timeout: float = 120) -> list[dict[str, Any]]:
        status, replies = http("POST", f"{self.rasa_url(i)}/webhooks/rest/webhook", {"sender": sender, "message": text},
                               timeout=timeout)
        assert status == 200, replies
        return replies

    def rasa_api(self, i: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        import jwt

        token = jwt.encode({"user": {"username": "replicas", "role": "admin"}, "exp": int(time.time()) + 60},
                           self.env["RASA_JWT_SECRET"], algorithm="HS256")
        return http(method, f"{self.rasa_url(i)}{path}", body, {"Authorization": f"Bearer {token}"})

    def api(self, username: str, method: str, path: str, body: Any = None, i: int = 0) -> tuple[int, Any]:
        url = f"http://127.0.0.1:{self.ports[i]['backend']}/api/v1"
        if username not in self.tokens:
            status, answer = http("POST", f"{url}/auth/login", {"username": username, "password": DEMO_PASSWORD})
            assert status == 200, answer
            self.tokens[username] = answer["token"]
        return http(method, f"{url}{path}", body, {"Authorization": f"Bearer {self.tokens[username]}"})
