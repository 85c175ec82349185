"""`make run`'s console: honcho's output in, what a person needs out.

  honcho start --no-colour … 2>&1 | python -m devtools.console --env .env,var/wecom-simulator.env

Every line of every process goes to var/log/<process>.log (the run before's to <process>.log.1).
The console shows what starts, when each service answers and where to open it, and what needs
attention: log records at WARNING or above, tracebacks, a process that exits, Python warnings
raised in our own code or about how we use a library, notifications that failed. Third-party
chatter (Rasa's and Sanic's INFO, jieba, the deprecations libraries raise about their own
dependencies) stays in the log files. Ctrl-C reaches honcho,
which stops everything; this reads on until honcho's output ends.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, TextIO

import honcho.environ

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Service:
    what: str
    port_variable: str = ""
    default_port: int = 0
    health_path: str = ""
    open_hint: str = ""  # formatted with the ports by process name
    starting_hint: str = ""


SERVICES = {
    "backend": Service("API and web pages", "BACKEND_PORT", 8080, "/api/v1/health",
                       "service hall (办事大厅) http://127.0.0.1:{backend}/ · demo login t2001 / Demo@2026"),
    "actions": Service("action server", "ACTION_SERVER_PORT", 5055, "/health"),
    "rasa": Service("the assistant (Rasa)", "RASA_PORT", 5005, "/",
                    "web chat: the 校务助手 panel on every page of http://127.0.0.1:{backend}/",
                    "loading the model takes a minute or two"),
    "notify": Service("notifier (outbox → chats)"),
    "wecom_gateway": Service("WeCom callback gateway", "WECOM_GATEWAY_PORT", 5006, "/health"),
    "wecom_simulator": Service("WeCom simulator", "WECOM_SIMULATOR_PORT", 8090, "/_sim/stats",
                               "WeCom simulator http://127.0.0.1:{wecom_simulator}/_sim/ · chat as a WeCom member"),
}

HONCHO_LINE = re.compile(r"^(\d\d:\d\d:\d\d) (\S+?)(?:\.\d+)?\s*\| ?(.*)$")
STARTED = re.compile(r"^(\S+?)\.\d+ started \(pid=(\d+)\)$")
STOPPED = re.compile(r"^(\S+?)\.\d+ stopped \(rc=(-?\d+)\)$")
LEVEL = re.compile(r"(?:^|[\s\[])(WARNING|WARN|ERROR|CRITICAL|FATAL)(?:[\]\s:]|$)")
NATIVE_ERROR = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [EF] ")  # TensorFlow's C++ log
PY_WARNING = re.compile(r"^(?P<path>\S+\.py):\d+: (?P<category>\w*Warning): ")
# What a library warns about how we use it (Rasa: our config and data) is ours to read; the
# deprecations of its own dependencies are not.
THIRD_PARTY_SHOWN = {"UserWarning", "RuntimeWarning"}
COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # Rasa colours its warnings even into a pipe
NEW_RECORD = re.compile(r"^\[?\d{4}-\d\d-\d\d")
TRACEBACK = ("Traceback (most recent call last):", "During handling of the above exception",
             "The above exception was the direct cause")
# The notifier reports plainly: every row it could not deliver (it retries) is worth a look.
ALSO_SHOWN = {"notify": re.compile(r" notify: outbox \d+ .*(?<!: sent)$")}
CONTINUATION_LINES = 15


def read_env(files: str) -> dict[str, str]:
    """The environment honcho gives the processes: ours, overridden by the env files, read as honcho reads them."""
    env = dict(os.environ)
    for name in filter(None, files.split(",")):
        path = ROOT / name
        if path.exists():
            env.update(honcho.environ.parse(path.read_text()))
    return env


def is_shown(warning: re.Match) -> bool:
    path = warning["path"]
    own = not os.path.isabs(path) or (path.startswith(str(ROOT)) and "/.venv/" not in path)
    return own or warning["category"] in THIRD_PARTY_SHOWN


class Noise:
    """Decides, line by line, what of one process's output the console shows."""

    def __init__(self, process: str):
        self.also = ALSO_SHOWN.get(process)
        self.in_traceback = False
        # Lines after a record (a message's second line, a warning's source line) share its fate.
        self.following, self.left, self.until_indented = False, 0, False

    def shows(self, text: str) -> bool:
        if self.in_traceback:
            self.in_traceback = text[:1].isspace() or text.startswith(TRACEBACK)
            return True  # the frames, then the exception's own line
        if text.startswith(TRACEBACK):
            self.in_traceback = True
            return True
        warning = PY_WARNING.match(text)
        if warning:
            return self._record(is_shown(warning), until_indented=True)
        if LEVEL.search(text) or NATIVE_ERROR.match(text) or (self.also and self.also.search(text)):
            return self._record(True, until_indented=False)
        if self.left and not NEW_RECORD.match(text):
            self.left -= 1
            if self.until_indented and text.startswith("  "):
                self.left = 0  # the source line a warning points at is its last
            return self.following
        self.left = 0
        return False

    def _record(self, shown: bool, until_indented: bool) -> bool:
        self.following, self.left, self.until_indented = shown, CONTINUATION_LINES, until_indented
        return shown


class Console:
    def __init__(self, env: dict[str, str], log_dir: Path, out: TextIO = sys.stdout):
        self.log_dir, self.out = log_dir, out
        self.ports = {name: int(env.get(s.port_variable) or s.default_port)
                      for name, s in SERVICES.items() if s.port_variable}
        self.logs: dict[str, TextIO] = {}
        self.noise: dict[str, Noise] = {}
        self.started: dict[str, float] = {}
        self.ready: set[str] = set()
        self.stopped: set[str] = set()
        self.stopping = False
        self.summarized = False
        self.began = time.monotonic()
        self.lock = threading.Lock()

    # ------------------------------------------------------------ output
    def say(self, clock: str, process: str, text: str) -> None:
        with self.lock:
            print(f"{clock} {process:<16} {text}", file=self.out, flush=True)

    def log(self, process: str, clock: str, text: str) -> None:
        if process not in self.logs:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            path = self.log_dir / f"{process}.log"
            if path.exists():
                path.replace(path.with_name(path.name + ".1"))
            self.logs[process] = open(path, "w", buffering=1, encoding="utf-8")
            self.noise[process] = Noise(process)
        self.logs[process].write(f"{clock} {text}\n")

    def hint(self, name: str, field: str) -> str:
        text = getattr(SERVICES[name], field) if name in SERVICES else ""
        return text.format(**self.ports) if text else ""

    # ------------------------------------------------------------ honcho's lines
    def line(self, raw: str) -> None:
        raw = COLOUR.sub("", raw)
        match = HONCHO_LINE.match(raw)
        if not match:  # honcho's own complaints (no Procfile, bad env file …)
            with self.lock:
                print(raw, file=self.out, flush=True)
            return
        clock, process, text = match.groups()
        if process == "system":
            self.system(clock, text)
            return
        self.log(process, clock, text)
        if self.noise[process].shows(text):
            self.say(clock, process, text)

    def system(self, clock: str, text: str) -> None:
        started, stopped = STARTED.match(text), STOPPED.match(text)
        if started:
            name = started[1]
            self.started[name] = time.monotonic()
            self.log(name, clock, f"[make run] started, pid {started[2]}")
            what = SERVICES[name].what if name in SERVICES else ""
            self.say(clock, name, f"starting: {what} (pid {started[2]})" + (
                f" — {self.hint(name, 'starting_hint')}" if self.hint(name, "starting_hint") else ""))
        elif stopped:
            name, rc = stopped[1], stopped[2]
            self.stopped.add(name)
            self.log(name, clock, f"[make run] stopped, exit status {rc}")
            if not self.stopping:
                self.stopping = True  # honcho stops the others now
                self.say(clock, name, f"exited (status {rc}), so everything stops. Its last lines "
                                      f"(all of it: {self.relative(name)}):")
                self.tail(name)
        elif text.endswith("received"):  # SIGINT / SIGTERM: Ctrl-C
            self.stopping = True
            self.say(clock, "system", "stopping everything …")
        elif not text.startswith("sending SIG"):
            self.say(clock, "system", text)

    def relative(self, name: str) -> str:
        return f"{self.relative_dir()}/{name}.log"

    def tail(self, name: str, count: int = 15) -> None:
        self.logs[name].flush()
        for text in (self.log_dir / f"{name}.log").read_text(encoding="utf-8").splitlines()[-count:]:
            with self.lock:
                print(f"    {text}", file=self.out, flush=True)

    # ------------------------------------------------------------ readiness
    def watch(self) -> None:
        """Polls the started services' health URLs; says when each answers and when all do."""
        reminded = time.monotonic()
        while True:
            for name in self.waiting():
                if self.answers(name):
                    self.ready.add(name)
                    hint = self.hint(name, "open_hint")
                    self.say(time.strftime("%H:%M:%S"), name, "ready" + (f" — {hint}" if hint else ""))
            waiting = self.waiting()
            if self.started and not waiting and not self.summarized and not self.stopping:
                self.summarized = True
                self.summary()
            if waiting and time.monotonic() - reminded > 60 and not self.stopping:
                reminded = time.monotonic()
                self.say(time.strftime("%H:%M:%S"), "system", "still starting: " + ", ".join(
                    f"{n} (its output: {self.relative(n)})" for n in waiting))
            time.sleep(0.5)

    def waiting(self) -> list[str]:
        return [n for n in list(self.started) if n in self.ports and n not in self.ready | self.stopped]

    def answers(self, name: str) -> bool:
        url = f"http://127.0.0.1:{self.ports[name]}{SERVICES[name].health_path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status < 500
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def summary(self) -> None:
        took = time.monotonic() - self.began
        lines = [f"Everything is up ({took:.0f} s). Open:"]
        lines += [f"  {self.hint(n, 'open_hint')}" for n in SERVICES if n in self.started and self.hint(n, "open_hint")]
        lines += [f"Each process's full output: {self.relative_dir()}/<process>.log · Ctrl-C stops everything."]
        with self.lock:
            print("\n".join(lines), file=self.out, flush=True)

    def relative_dir(self) -> str:
        return str(self.log_dir.relative_to(ROOT)) if self.log_dir.is_relative_to(ROOT) else str(self.log_dir)

    def close(self) -> None:
        for log in self.logs.values():
            log.close()
        with self.lock:
            print(f"All stopped. Each process's full output: {self.relative_dir()}/<process>.log "
                  "(the run before: <process>.log.1)", file=self.out, flush=True)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.console", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=".env", help="the env files honcho loads (-e), comma-separated")
    parser.add_argument("--logs", type=Path, default=ROOT / "var" / "log")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is honcho's to handle; we show how it ends
    console = Console(read_env(args.env), args.logs.resolve())
    threading.Thread(target=console.watch, daemon=True).start()
    for raw in sys.stdin:
        console.line(raw.rstrip("\n"))
    console.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
