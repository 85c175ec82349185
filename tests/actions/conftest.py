"""The actions' unit tests: conversations as Rasa sends them, a backend in memory.

``data/trackers.json``: trackers in the shape Rasa 3.6 POSTs to the action server (its
``current_state``: sender, slots, latest message, the session's events), one per moment of
a conversation the tests run an action at. ``data/backend_answers.json``: the real
backend's answers, recorded over HTTP with the demo college on SQLite (张伟 t2001 submitted
two seal requests for 沈立群 t0002, who approved the first; the second was terminated).
``FakeBackend`` answers from those and records every command; it stands for our backend
only here — tests/bot and tests/backend talk to the real one.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable, Optional
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import matter_form
from actions.backend_client import BackendError
from actions.settings import Settings
from actions.wiring import Services

DATA = Path(__file__).parent / "data"
HELPDESK = "0571-12345678"  # not the default: a test that finds it proves the setting was used
SETTINGS = Settings(backend_url="http://backend.invalid/api/v1", helpdesk_phone=HELPDESK,
                    college_name="测试学院", college_tz=ZoneInfo("Asia/Shanghai"))


def answers() -> dict[str, Any]:
    return json.loads((DATA / "backend_answers.json").read_text(encoding="utf-8"))


class FakeBackend:
    """The methods of actions.backend_client.BackendClient that the tested actions call, in memory.

    Reads answer from the recorded state; commands change it like the backend would and are
    listed in ``commands``. ``fail[method] = error`` makes that method raise ``error``;
    ``field_errors`` are the backend's refusals of form answers (field key → message)."""

    def __init__(self, recorded: dict[str, Any]):
        self.applications_by_id = {a["id"]: a for a in recorded["applications"]}
        self.tasks_by_id = {t["id"]: t for t in recorded["tasks"]}
        self.matters = recorded["matters"]
        self.found_matters = recorded["search_matters"]
        self.decisions = {int(i): d for i, d in recorded["decisions"].items()}
        self.terminated = {a["id"]: a for a in recorded["terminated"]}
        self.commands: list[tuple[Any, ...]] = []
        self.task_queries: list[tuple[str, dict[str, str]]] = []
        self.fail: dict[str, Exception] = {}
        self.field_errors: dict[str, str] = {}

    def _check(self, method: str) -> None:
        if method in self.fail:
            raise self.fail[method]

    # ------------------------------------------------------------ reads
    async def applications(self, who: str, status: Optional[str] = None, limit: int = 10) -> list[dict[str, Any]]:
        """Newest first. Every recorded application is 张伟's, the user these tests speak as."""
        self._check("applications")
        mine = sorted(self.applications_by_id.values(), key=lambda a: -a["id"])
        return [a for a in mine if status in (None, a["status"])][:limit]

    async def application(self, who: str, application_id: int) -> dict[str, Any]:
        self._check("application")
        if application_id not in self.applications_by_id:
            raise BackendError(404, "not_found", "申请不存在")
        return self.applications_by_id[application_id]

    async def search_matters(self, who: str, q: str) -> list[dict[str, Any]]:
        self._check("search_matters")
        return next((found for word, found in self.found_matters.items() if word in q), [])

    async def matter(self, who: str, code: str) -> dict[str, Any]:
        self._check("matter")
        return self.matters[code]

    async def validate(self, who: str, code: str, form: dict[str, Any]) -> dict[str, Any]:
        self._check("validate")
        refused = {key: message for key, message in self.field_errors.items() if key in form}
        if refused:
            raise BackendError(400, "form_invalid", "表单填写有误:" + next(iter(refused.values())), {"fields": refused})
        return form

    async def tasks(self, who: str, status: str = "pending", limit: int = 20, **filters: str) -> list[dict[str, Any]]:
        """The backend's filters are tested over HTTP (tests/backend); here they are recorded."""
        self._check("tasks")
        self.task_queries.append((status, {k: v for k, v in filters.items() if v}))
        return [t for t in sorted(self.tasks_by_id.values(), key=lambda t: -t["id"]) if t["status"] == status][:limit]

    async def task(self, who: str, task_id: int) -> dict[str, Any]:
        self._check("task")
        if task_id not in self.tasks_by_id:
            raise BackendError(404, "not_found", "待办不存在")
        return self.tasks_by_id[task_id]

    # ------------------------------------------------------------ commands
    async def terminate(self, who: str, ids: list[int], reason: str = "") -> list[dict[str, Any]]:
        self._check("terminate")
        self.commands.append(("terminate", who, ids, reason))
        for application_id in ids:
            self.applications_by_id[application_id] = self.terminated[application_id]
        return [self.terminated[i] for i in ids]

    async def decide(self, who: str, task_id: int, move: str, body: dict[str, Any]) -> dict[str, Any]:
        self._check("decide")
        if self.tasks_by_id[task_id]["status"] != "pending":
            raise BackendError(409, "task_not_pending", "该待办已处理")
        self.commands.append(("decide", who, task_id, move, body))
        self.tasks_by_id[task_id] = {**self.tasks_by_id[task_id], "status": "done"}
        return self.decisions[task_id]


@pytest.fixture(autouse=True)
def no_cached_schemas():
    """matter_form caches schemas per process; each test starts without."""
    matter_form._schemas.clear()
    yield
    matter_form._schemas.clear()


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend(answers())


@pytest.fixture
def services(backend: FakeBackend) -> Services:
    return Services(SETTINGS, backend)


@pytest.fixture
def recorded() -> Callable[..., Tracker]:
    """``recorded("list_tasks", sender_id="wecom:x")``: a tracker from data/trackers.json, fields overridden."""
    trackers = json.loads((DATA / "trackers.json").read_text(encoding="utf-8"))

    def load(name: str, **override: Any) -> Tracker:
        return Tracker.from_dict({**copy.deepcopy(trackers[name]), **override})

    return load


class Run:
    """What one run of an action said and returned."""

    def __init__(self, messages: list[dict[str, Any]], events: list[dict[str, Any]]):
        self.messages, self.events = messages, events

    @property
    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages if m.get("text")]

    @property
    def slots(self) -> dict[str, Any]:
        """The slots the events set, the last value of each."""
        return {e["name"]: e["value"] for e in self.events if e["event"] == "slot"}


@pytest.fixture
def run(services: Services) -> Callable[..., Any]:
    """``await run(ActionX, tracker)``: the action made with the test's services, run on the tracker."""

    async def run_action(action: type[Action], tracker: Tracker, domain: Optional[dict[str, Any]] = None) -> Run:
        dispatcher = CollectingDispatcher()
        events = await action(services).run(dispatcher, tracker, domain or {})
        return Run(dispatcher.messages, events)

    return run_action

