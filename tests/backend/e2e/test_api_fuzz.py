"""Every operation of /api/v1/openapi.json fuzzed with schemathesis, as a logged-in demo user,
against the real backend on a real port: no 5xx, and every answer matches the spec (status
documented, content type, body schema, headers), with data the spec allows and data it
forbids (which must be refused).

Bounded for CI: ``EXAMPLES`` cases per operation and mode, derandomized (the same cases on
every run), no shrinking. One check is left out, ``positive_data_acceptance``: a body the
spec allows may still be refused with 400, because an application's form, its approvers and
a decision's opinion follow the matter's own schema, which OpenAPI cannot describe.

schemathesis sends with ``requests`` (blocking), so the backend — built by ``create_app`` like
in the other e2e tests — serves from its own event loop in a thread.
"""
from __future__ import annotations

import asyncio
import re
import threading
from contextlib import contextmanager
from typing import Any, Iterator

import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from backend.config import Settings
from backend.db.database import Database
from backend.web.app import create_app
from backend.workflow.engine import Workflow

from tests.support import databases

EXAMPLES = 20
USER = "t2001"
FAILURE = re.compile(r"- (ST\d+ [^\n]+)")
REPRODUCE = re.compile(r"(curl [^\n]+)")


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """The app on 127.0.0.1 (a free port), runtime tables wiped before and after; yields the base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(create_app(settings, Workflow(settings.timezone)))

    async def wipe() -> None:
        database = Database(settings.database_url)
        await databases.wipe_runtime(database)
        await database.dispose()

    async def start() -> str:
        await wipe()
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    thread = threading.Thread(target=loop.run_forever, name="fuzzed-backend", daemon=True)
    thread.start()
    try:
        yield asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=60)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=60)
        asyncio.run_coroutine_threadsafe(wipe(), loop).result(timeout=60)  # the next test starts clean
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def login(base_url: str) -> dict[str, str]:
    answer = requests.post(f"{base_url}/api/v1/auth/login", timeout=30,
                           json={"username": USER, "password": databases.DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def fuzz(operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]) -> dict[tuple, str]:
    """What failed, once per distinct set of failed checks: (operation, mode, checks) → how to reproduce."""
    found: dict[tuple, str] = {}

    @hypothesis_settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        try:
            case.call_and_validate(base_url=f"{base_url}/api/v1", headers=headers, timeout=30,
                                   excluded_checks=[positive_data_acceptance])
        except (AssertionError, BaseExceptionGroup) as failure:  # each failure is kept, the run goes on
            text = str(failure)
            key = (operation.label, mode.value, tuple(sorted(set(FAILURE.findall(text)))) or (text[:120],))
            reproduce = REPRODUCE.search(text)
            found.setdefault(key, reproduce.group(1)[:600] if reproduce else text[:600])

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (GET /health has no input)
        assert mode == GenerationMode.NEGATIVE
    return found


def test_every_operation_answers_as_its_spec_says_without_server_errors(settings: Settings) -> None:
    with served(settings) as base_url:
        headers = login(base_url)
        schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
        schema.config.generation.update(allow_x00=False)  # JSON text with NUL: refused, tested in test_bad_input
        failures: dict[tuple, str] = {}
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                failures.update(fuzz(operation, mode, base_url, headers))
    assert len(operations) > 20  # result.ok() raised for any operation the spec could not describe
    assert not failures, "\n".join(f"{op} [{mode}] {', '.join(checks)}\n    {how}"
                                   for (op, mode, checks), how in failures.items())
