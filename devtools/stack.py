"""The whole system on free loopback ports: backend + action server + Rasa.

Used by the conversation tests and the assistant benchmark. Each Stack gets a fresh
SQLite database with the demo college, its own secrets, and talks to Rasa through the
REST channel of the development credentials (never exposed beyond loopback).
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]
BACKEND_PYTHON = ROOT / ".venv" / "backend" / "bin" / "python"
RASA_BIN = ROOT / ".venv" / "rasa" / "bin"
MODEL = ROOT / "models" / "campus.tar.gz"
DEMO_PASSWORD = "bot-test-demo-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: Any = None, headers: Optional[dict[str, str]] = None,
         timeout: float = 60) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {seconds} s:\n{log.read_text()[-3000:]}")


class Stack:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.ports = {name: free_port() for name in ("backend", "actions", "rasa")}
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp / 'bot.db'}",
            "BACKEND_SECRET_KEY": secrets.token_urlsafe(48),
            "BACKEND_SERVICE_TOKEN": secrets.token_urlsafe(48),
            "BACKEND_URL": f"http://127.0.0.1:{self.ports['backend']}/api/v1",
            "ACTION_SERVER_PORT": str(self.ports["actions"]),
            "DEMO_PASSWORD": DEMO_PASSWORD,
            "SANIC_HOST": "127.0.0.1",
        }
        self.processes: list[tuple[subprocess.Popen, Any]] = []
        self.tokens: dict[str, str] = {}

    def start(self, name: str, args: list[str], health: str) -> None:
        log_path = self.tmp / f"{name}.log"
        log = open(log_path, "w")
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append((process, log))
        wait_for(health, process, log_path)

    def up(self) -> "Stack":
        for command in (["migrate"], ["seed-demo"]):
            subprocess.run([str(BACKEND_PYTHON), "-m", "backend", *command], cwd=ROOT, env=self.env, check=True,
                           capture_output=True, timeout=300)
        backend = self.ports["backend"]
        self.start("backend", [str(BACKEND_PYTHON), "-m", "backend", "serve", "--port", str(backend), "--quiet"],
                   f"http://127.0.0.1:{backend}/api/v1/health")
        actions = self.ports["actions"]
        self.start("actions", [str(RASA_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions",
                               "--port", str(actions)], f"http://127.0.0.1:{actions}/health")
        rasa = self.ports["rasa"]
        self.start("rasa", [str(RASA_BIN / "rasa"), "run", "--model", str(MODEL), "--endpoints", "bot/endpoints.yml",
                            "--credentials", "bot/credentials.dev.yml", "--interface", "127.0.0.1",
                            "--port", str(rasa)], f"http://127.0.0.1:{rasa}/")
        return self

    def pid(self, name: str) -> int:
        order = ["backend", "actions", "rasa"]
        return self.processes[order.index(name)][0].pid

    def down(self) -> None:
        for process, log in reversed(self.processes):
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()

    # ------------------------------------------------------------ talking
    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        status, replies = http("POST", f"http://127.0.0.1:{self.ports['rasa']}/webhooks/rest/webhook",
                               {"sender": sender, "message": text})
        assert status == 200, replies
        return replies

    def api(self, username: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if username not in self.tokens:
            status, answer = http("POST", f"{self.env['BACKEND_URL']}/auth/login",
                                  {"username": username, "password": DEMO_PASSWORD})
            assert status == 200, answer
            self.tokens[username] = answer["token"]
        return http(method, f"{self.env['BACKEND_URL']}{path}", body,
                    {"Authorization": f"Bearer {self.tokens[username]}"})
