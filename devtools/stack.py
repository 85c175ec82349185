"""The whole system on free loopback ports: backend + action server + Rasa.

Used by the conversation tests and the assistant benchmark. Each Stack gets a fresh
SQLite database with the demo college, its own secrets, and talks to Rasa through the
REST channel of the development credentials (never exposed beyond loopback).

``Stack(tmp, wecom=True)`` adds the WeCom simulator (devtools/wecom_simulator) with a
fresh development corp, points Rasa's ``wecom`` channel at it (WECOM_* settings,
WECOM_API_BASE = the simulator), plays its callbacks to the WeCom callback gateway
(bot/channels/wecom/gateway.py, port ``ports["gateway"]``) in front of Rasa;
``notifier=True`` also runs the backend's outbox worker (``python -m backend notify``).
``model`` (or STACK_MODEL) runs another trained model than models/campus.tar.gz.
Rasa's HTTP API is on behind a JWT secret of the stack's own (``rasa_api`` calls it), the
action server wants the stack's token, and conversations live in the stack's own SQLite
tracker store (``tmp/trackers.db``), so ``restart("rasa")`` keeps them.
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
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parents[1]
BACKEND_PYTHON = ROOT / ".venv" / "backend" / "bin" / "python"
RASA_BIN = ROOT / ".venv" / "rasa" / "bin"
MODEL = ROOT / "models" / "campus.tar.gz"
DEMO_PASSWORD = "bot-test-demo-password"
RASA_NICENESS = 10


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


def wait_for_text(text: str, process: subprocess.Popen, log: Path, offset: int, seconds: float) -> None:
    """Until ``text`` shows up in ``log`` past byte ``offset`` (what this start of the process wrote)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text.encode() in log.read_bytes()[offset:]:
            return
        if process.poll() is not None:
            raise RuntimeError(f"{log.name} exited early:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    raise RuntimeError(f"no {text!r} in {log} after {seconds} s:\n{log.read_text()[-3000:]}")


def start_or_stop(start: Callable[[], None], stop: Callable[[], None]) -> None:
    """``start()``; if a part does not come up, ``stop()`` what did and re-raise: no process
    outlives a failed start (a leaked Rasa holds ~1 GB and a port until someone kills it)."""
    try:
        start()
    except BaseException:
        stop()
        raise


def stop_process(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM, then SIGKILL if it has not exited after ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Stack:
    def __init__(self, tmp: Path, wecom: bool = False, notifier: bool = False, model: Optional[Path] = None):
        self.tmp = tmp
        self.wecom, self.notifier = wecom or notifier, notifier
        self.model = Path(model or os.environ.get("STACK_MODEL") or MODEL)
        self.ports = {name: free_port() for name in ("backend", "actions", "rasa")
                      + (("simulator", "gateway") if self.wecom else ())}
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp / 'bot.db'}",
            "BACKEND_SECRET_KEY": secrets.token_urlsafe(48),
            "BACKEND_SERVICE_TOKEN": secrets.token_urlsafe(48),
            "BACKEND_URL": f"http://127.0.0.1:{self.ports['backend']}/api/v1",
            "ACTION_SERVER_PORT": str(self.ports["actions"]),
            "DEMO_PASSWORD": DEMO_PASSWORD,
            "SANIC_HOST": "127.0.0.1",
            # The web chat: backend and Rasa's webchat channel share the token secret;
            # the backend relays chat messages to Rasa.
            "WEBCHAT_TOKEN_SECRET": secrets.token_urlsafe(48),
            "RASA_URL": f"http://127.0.0.1:{self.ports['rasa']}",
            # Rasa → action server (bot/endpoints.yml sends it, actions/server.py checks it).
            "ACTION_SERVER_TOKEN": secrets.token_urlsafe(32),
            # Rasa's HTTP API (bot/server.py enables it behind JWT auth); the notifier signs with it too.
            "RASA_JWT_SECRET": secrets.token_urlsafe(32),
            "RASA_TRACKER_DB": str(tmp / "trackers.db"),
            "FILES_DIR": str(tmp / "files"),  # uploaded attachments
            # No morning digest from the stack's notifier (it would reach everyone with a pending
            # task whenever it starts); tests/wecom/test_digest_e2e.py turns it on for its time.
            "DIGEST_TIME": "off",
        }
        for name in [n for n in self.env if n.startswith("WECOM_")]:
            del self.env[name]  # the WeCom channel is on only in WeCom mode, whatever the shell has
        if self.wecom:
            self.env.update(self._wecom_env())
        self.processes: list[tuple[subprocess.Popen, Any]] = []
        self.names: list[str] = []
        self.commands: dict[str, tuple[list[str], Optional[str], Optional[str]]] = {}
        self.tokens: dict[str, str] = {}

    def _wecom_env(self) -> dict[str, str]:
        from devtools.wecom_simulator.config import dev_credentials  # imports in either venv

        return {
            **dev_credentials(),
            "WECOM_API_BASE": f"http://127.0.0.1:{self.ports['simulator']}/cgi-bin/",
            # Short notifier rounds so tests and benchmarks do not wait for the defaults.
            "NOTIFY_POLL_SECONDS": os.environ.get("NOTIFY_POLL_SECONDS", "0.5"),
            "NOTIFY_BACKOFF_SECONDS": os.environ.get("NOTIFY_BACKOFF_SECONDS", "1"),
        }

    def start(self, name: str, args: list[str], health: Optional[str], ready_text: Optional[str] = None) -> None:
        """Starts ``name`` and waits until its ``health`` URL answers, or (no HTTP side) until its
        log says ``ready_text``."""
        log_path = self.tmp / f"{name}.log"
        offset = log_path.stat().st_size if log_path.exists() else 0  # a restart appends
        log = open(log_path, "a")
        # Rasa at a lower CPU priority, as in the Procfile: its turns are CPU-bound, while the
        # gateway's acknowledgements and the API calls of actions are short and waited for.
        niceness = RASA_NICENESS if name == "rasa" else 0
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   preexec_fn=(lambda: os.nice(niceness)) if niceness else None)
        if name in self.names:  # a restart replaces the old entry
            self.processes[self.names.index(name)] = (process, log)
        else:
            self.names.append(name)
            self.processes.append((process, log))
        self.commands[name] = (args, health, ready_text)
        seconds = float(os.environ.get("STACK_START_SECONDS", "300"))  # Rasa loading its model can take minutes
        if health is not None:
            wait_for(health, process, log_path, seconds)
        elif ready_text is not None:
            wait_for_text(ready_text, process, log_path, offset, seconds)

    def stop(self, name: str) -> None:
        process, log = self.processes[self.names.index(name)]
        stop_process(process)
        log.close()

    def resume(self, name: str) -> None:
        """Start a stopped process again, as it was started first."""
        self.start(name, *self.commands[name])

    def restart(self, name: str) -> None:
        self.stop(name)
        self.resume(name)

    def up(self) -> "Stack":
        start_or_stop(self._start_all, self.down)
        return self

    def _start_all(self) -> None:
        for command in (["migrate"], ["seed-demo"], ["import-faq"]):
            subprocess.run([str(BACKEND_PYTHON), "-m", "backend", *command], cwd=ROOT, env=self.env, check=True,
                           capture_output=True, timeout=300)
        backend = self.ports["backend"]
        self.start("backend", [str(BACKEND_PYTHON), "-m", "backend", "serve", "--port", str(backend), "--quiet"],
                   f"http://127.0.0.1:{backend}/api/v1/health")
        actions = self.ports["actions"]
        self.start("actions", [str(RASA_BIN / "python"), "-m", "actions.server", "--port", str(actions)],
                   f"http://127.0.0.1:{actions}/health")
        rasa = self.ports["rasa"]
        if self.wecom:  # WeCom → simulator → gateway (answers at once) → Rasa's wecom channel
            simulator, gateway = self.ports["simulator"], self.ports["gateway"]
            self.start("simulator", [str(BACKEND_PYTHON), "-m", "devtools.wecom_simulator", "--port", str(simulator),
                                     "--callback-url", f"http://127.0.0.1:{gateway}/webhooks/wecom/webhook"],
                       f"http://127.0.0.1:{simulator}/_sim/stats")
            self.start("gateway", [str(RASA_BIN / "python"), "-m", "bot.channels.wecom.gateway", "--port", str(gateway),
                                   "--forward-url", f"http://127.0.0.1:{rasa}/webhooks/wecom/webhook"],
                       f"http://127.0.0.1:{gateway}/health")
        self.start("rasa", [str(RASA_BIN / "python"), "-m", "bot.server", "run", "--model", str(self.model),
                            "--endpoints", "bot/endpoints.yml", "--credentials", "bot/credentials.dev.yml",
                            "--interface", "127.0.0.1", "--port", str(rasa)], f"http://127.0.0.1:{rasa}/")
        if self.notifier:
            self.start_notifier()

    def start_notifier(self) -> None:
        """The backend's outbox worker (``python -m backend notify``); it says when it polls."""
        self.start("notifier", [str(BACKEND_PYTHON), "-m", "backend", "notify"], None, "notifier started")

    def pid(self, name: str) -> int:
        return self.processes[self.names.index(name)][0].pid

    def down(self) -> None:
        for name in reversed(self.names):
            self.stop(name)

    # ------------------------------------------------------------ talking
    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        status, replies = http("POST", f"http://127.0.0.1:{self.ports['rasa']}/webhooks/rest/webhook",
                               {"sender": sender, "message": text})
        assert status == 200, replies
        return replies

    def rasa_api(self, method: str, path: str, body: Any = None, role: str = "admin",
                 headers: Optional[dict[str, str]] = None) -> tuple[int, Any]:
        """Rasa's HTTP API (e.g. ``GET /conversations/web:t2001/tracker``) with a fresh JWT."""
        import jwt  # PyJWT, in both venvs

        token = jwt.encode({"user": {"username": "stack", "role": role}, "exp": int(time.time()) + 60},
                           self.env["RASA_JWT_SECRET"], algorithm="HS256")
        return http(method, f"http://127.0.0.1:{self.ports['rasa']}{path}", body,
                    {"Authorization": f"Bearer {token}", **(headers or {})})

    def api(self, username: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if username not in self.tokens:
            status, answer = http("POST", f"{self.env['BACKEND_URL']}/auth/login",
                                  {"username": username, "password": DEMO_PASSWORD})
            assert status == 200, answer
            self.tokens[username] = answer["token"]
        return http(method, f"{self.env['BACKEND_URL']}{path}", body,
                    {"Authorization": f"Bearer {self.tokens[username]}"})

    # ------------------------------------------------------------ the WeCom simulator
    def sim(self, method: str, path: str, body: Any = None, timeout: float = 60) -> tuple[int, Any]:
        """The simulator's control API, e.g. sim("POST", "say", {"userid": "zhangwei", "text": "你好"})."""
        return http(method, f"http://127.0.0.1:{self.ports['simulator']}/_sim/{path}", body, timeout=timeout)
