"""`make run`'s console (devtools/console.py): honcho's lines in; every line kept in var/log/,
the console shows what starts and what needs attention, not third-party chatter."""
from __future__ import annotations

import io
from pathlib import Path

from devtools.console import Console

SITE = "/work/main/.venv/rasa/lib/python3.10/site-packages"
HONCHO_OUTPUT = f"""\
07:45:05 system            | rasa.1 started (pid=961)
07:45:05 system            | actions.1 started (pid=972)
07:45:21 rasa.1            | {SITE}/apscheduler/__init__.py:1: DeprecationWarning: pkg_resources is deprecated as an API.
07:45:21 rasa.1            |   from pkg_resources import get_distribution, DistributionNotFound
07:45:21 rasa.1            | {SITE}/pkg_resources/__init__.py:3117: DeprecationWarning: Deprecated call to `declare_namespace('ruamel')`.
07:45:21 rasa.1            | Implementing implicit namespace packages (as specified in PEP 420) is preferred.
07:45:21 rasa.1            |   declare_namespace(pkg)
07:45:22 rasa.1            | 2026-12-01 07:45:22 INFO     root  - Starting Rasa server on http://127.0.0.1:5005
07:45:35 rasa.1            | Building prefix dict from the default dictionary ...
07:45:37 rasa.1            | Loading model cost 1.223 seconds.
07:45:40 rasa.1            | bot/channels/wecom.py:12: UserWarning: something of ours
07:45:40 rasa.1            |   warnings.warn("something of ours")
07:46:00 rasa.1            | 2026-12-01 07:46:00 WARNING  rasa.core.agent  - the tracker store is slow
07:46:01 rasa.1            | \x1b[93m{SITE}/rasa/shared/utils/io.py:100: UserWarning: 'evaluate_every_number_of_epochs=20' is greater than 'epochs=12'.
07:46:01 rasa.1            | \x1b[0m2026-12-01 07:46:01 INFO     root  - Rasa server is up and running.
07:46:01 actions.1         | 2026-12-01 07:46:01 ERROR    asyncio  - Unclosed client session
07:46:01 actions.1         | client_session: <aiohttp.client.ClientSession object at 0x7fb6ab317f10>
07:46:02 actions.1         | 2026-12-01 07:46:02 INFO     __main__  - fine
07:46:03 actions.1         | Traceback (most recent call last):
07:46:03 actions.1         |   File "actions/base.py", line 3, in run
07:46:03 actions.1         | ValueError: broken
07:46:03 actions.1         | and then ordinary output again
07:48:57 system            | SIGINT received
07:48:57 system            | sending SIGTERM to rasa.1 (pid 961)
07:48:57 system            | rasa.1 stopped (rc=-15)
"""


def run_console(lines: str, log_dir: Path) -> str:
    out = io.StringIO()
    console = Console({}, log_dir, out)
    for line in lines.splitlines():
        console.line(line)
    console.close()
    return out.getvalue()


def test_the_console_shows_starts_problems_and_our_own_warnings_and_keeps_every_line_in_the_logs(tmp_path):
    shown = run_console(HONCHO_OUTPUT, tmp_path)
    assert "rasa             starting: the assistant (Rasa) (pid 961)" in shown
    for wanted in ["UserWarning: something of ours", f"{SITE}/rasa/shared/utils/io.py:100: UserWarning: 'evaluate", 'warnings.warn("something of ours")', "tracker store is slow",
                   "Unclosed client session", "client_session: <aiohttp", "Traceback", 'File "actions/base.py"',
                   "ValueError: broken", "stopping everything", "All stopped"]:
        assert wanted in shown, wanted
    for unwanted in ["pkg_resources", "declare_namespace", "PEP 420", "Starting Rasa server", "prefix dict",
                     "Loading model cost", "up and running", "\x1b[", "__main__  - fine", "ordinary output", "sending SIGTERM", "rc=-15"]:
        assert unwanted not in shown, unwanted
    rasa_log = (tmp_path / "rasa.log").read_text()
    assert "declare_namespace(pkg)" in rasa_log and "Loading model cost" in rasa_log
    assert "and then ordinary output again" in (tmp_path / "actions.log").read_text()


def test_a_process_that_exits_on_its_own_is_shown_with_its_last_lines(tmp_path):
    (tmp_path / "actions.log").write_text("the run before\n")
    shown = run_console("07:00:00 system | actions.1 started (pid=5)\n"
                        "07:00:01 actions.1 | ACTION_SERVER_TOKEN is not set.\n"
                        "07:00:01 system | actions.1 stopped (rc=2)\n", tmp_path)
    assert "actions          exited (status 2), so everything stops" in shown
    assert "ACTION_SERVER_TOKEN is not set." in shown  # its last lines, although no log level
    assert (tmp_path / "actions.log.1").read_text() == "the run before\n"


def test_the_ports_come_from_the_env_files_as_honcho_reads_them(tmp_path, monkeypatch):
    from devtools import console

    monkeypatch.setattr(console, "ROOT", tmp_path)
    (tmp_path / ".env").write_text("# secrets\nBACKEND_PORT=9090\nRASA_PORT='6006'\n")
    (tmp_path / "sim.env").write_text("WECOM_SIMULATOR_PORT=9191\nBACKEND_PORT=9292\n")  # a later file wins
    env = console.read_env(".env,sim.env,missing.env")
    ports = Console(env, tmp_path, io.StringIO()).ports
    assert (ports["backend"], ports["rasa"], ports["wecom_simulator"]) == (9292, 6006, 9191)
    assert ports["actions"] == int(env.get("ACTION_SERVER_PORT") or 5055)
