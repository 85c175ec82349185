"""The backend's HTTP API, as the action server sees it.

Every call authenticates with the service token and names the user it acts for
(``X-On-Behalf-Of: wecom:<userid>`` / ``web:<username>``); the backend applies that
user's permissions. Calls are async and time-boxed so a slow backend never holds a
conversation's lock for long.
"""
from __future__ import annotations

import asyncio
import uuid
from typing import Any, Optional
from urllib.parse import quote

import aiohttp

from .settings import DEFAULT_BACKEND_URL, Settings

CONNECT_TIMEOUT_SECONDS = 2


class BackendUnavailable(Exception):
    """The backend did not answer (down, slow, or broken)."""


class BackendError(Exception):
    """The backend answered with an error it explains (validation, 404, 409 …)."""

    def __init__(self, status: int, code: str, message: str, details: Optional[dict[str, Any]] = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}


class BackendClient:
    """One per action-server process (one connection pool), made by actions/server.py."""

    def __init__(self, base_url: str = DEFAULT_BACKEND_URL, service_token: str = "", timeout_seconds: float = 8.0):
        self.base_url = base_url.rstrip("/")
        self.service_token = service_token
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS)
        self._session: Optional[aiohttp.ClientSession] = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "BackendClient":
        return cls(settings.backend_url, settings.backend_service_token, settings.backend_timeout_seconds)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(self, identity: str, method: str, path: str, body: Optional[dict[str, Any]] = None,
                      idempotent: bool = False, key: Optional[str] = None) -> Any:
        """``key``: the command's Idempotency-Key (the same for every try of one command);
        ``idempotent`` without a key: a fresh one, so at least a retry of this call is harmless."""
        headers = {"Authorization": f"Bearer {self.service_token}", "X-On-Behalf-Of": identity}
        if key or idempotent:
            headers["Idempotency-Key"] = key or uuid.uuid4().hex
        try:
            async with self._http().request(method, f"{self.base_url}{path}", json=body, headers=headers) as response:
                payload = await response.json(content_type=None)
        # asyncio.TimeoutError is not the builtin TimeoutError before Python 3.11 (Rasa's venv is 3.10).
        except (aiohttp.ClientError, asyncio.TimeoutError, TimeoutError, ValueError) as error:
            raise BackendUnavailable(str(error) or error.__class__.__name__) from error
        if response.status >= 500:
            raise BackendUnavailable(f"backend answered {response.status}")
        if response.status >= 400:
            error = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
            raise BackendError(response.status, error.get("code", "error"), error.get("message", "请求失败"),
                               error.get("details"))
        return payload

    # ---------------------------------------------------------------- reads
    async def me(self, who: str) -> dict[str, Any]:
        return await self.request(who, "GET", "/me")

    async def centers(self, who: str) -> list[dict[str, Any]]:
        return (await self.request(who, "GET", "/centers"))["items"]

    async def search_matters(self, who: str, q: str) -> list[dict[str, Any]]:
        return (await self.request(who, "GET", f"/matters?q={quote(q)}"))["items"]

    async def matter(self, who: str, code: str) -> dict[str, Any]:
        return await self.request(who, "GET", f"/matters/{quote(code)}")

    async def validate(self, who: str, code: str, form: dict[str, Any]) -> dict[str, Any]:
        body = {"form": form, "partial": True}
        return (await self.request(who, "POST", f"/matters/{quote(code)}/validate", body))["form"]

    async def applications(self, who: str, status: Optional[str] = None, limit: int = 10) -> list[dict[str, Any]]:
        query = f"?mine=1&limit={limit}" + (f"&status={status}" if status else "")
        return (await self.request(who, "GET", f"/applications{query}"))["items"]

    async def application(self, who: str, application_id: int) -> dict[str, Any]:
        return await self.request(who, "GET", f"/applications/{application_id}")

    async def tasks(self, who: str, status: str = "pending", limit: int = 20, **filters: str) -> list[dict[str, Any]]:
        """``filters``: matter, and for 已办 decision (approve,agree …), decided_from / decided_to (YYYY-MM-DD)."""
        query = "".join(f"&{name}={quote(value)}" for name, value in filters.items() if value)
        return (await self.request(who, "GET", f"/tasks?status={status}&limit={limit}{query}"))["items"]

    async def task(self, who: str, task_id: int) -> dict[str, Any]:
        return await self.request(who, "GET", f"/tasks/{task_id}")

    async def search_users(self, who: str, q: str, department: Optional[str] = None) -> list[dict[str, Any]]:
        query = f"?q={quote(q)}&limit=20" + (f"&department={quote(department)}" if department else "")
        return (await self.request(who, "GET", f"/org/users{query}"))["items"]

    async def departments(self, who: str) -> dict[str, Any]:
        return await self.request(who, "GET", "/org/departments")

    # ---------------------------------------------------------------- commands
    async def submit(self, who: str, matter: str, form: dict[str, Any], approvers: dict[str, str],
                     key: Optional[str] = None) -> dict[str, Any]:
        body = {"matter": matter, "form": form, "approvers": approvers}
        return await self.request(who, "POST", "/applications", body, idempotent=True, key=key)

    async def resubmit(self, who: str, application_id: int, form: dict[str, Any],
                       approvers: Optional[dict[str, str]] = None, key: Optional[str] = None) -> dict[str, Any]:
        body: dict[str, Any] = {"form": form}
        if approvers:
            body["approvers"] = approvers
        return await self.request(who, "POST", f"/applications/{application_id}/resubmit", body,
                                  idempotent=True, key=key)

    async def terminate(self, who: str, ids: list[int], reason: str = "") -> list[dict[str, Any]]:
        body = {"ids": ids, "reason": reason}
        return (await self.request(who, "POST", "/applications/terminate", body, idempotent=True))["items"]

    async def decide(self, who: str, task_id: int, move: str, body: dict[str, Any]) -> dict[str, Any]:
        """``move`` is approve, return, add-signers, sign, transfer, delegate or remove-signers."""
        return await self.request(who, "POST", f"/tasks/{task_id}/{move}", body, idempotent=True)

    # ---------------------------------------------------------------- the approval moves on an application
    async def withdraw(self, who: str, application_id: int) -> dict[str, Any]:
        return await self.request(who, "POST", f"/applications/{application_id}/withdraw", {}, idempotent=True)

    async def remind(self, who: str, application_id: int) -> dict[str, Any]:
        return await self.request(who, "POST", f"/applications/{application_id}/remind", {}, idempotent=True)

    async def comment(self, who: str, application_id: int, text: str) -> dict[str, Any]:
        return await self.request(who, "POST", f"/applications/{application_id}/comments", {"text": text},
                                  idempotent=True)

    async def cc(self, who: str, application_id: int, usernames: list[str]) -> dict[str, Any]:
        return await self.request(who, "POST", f"/applications/{application_id}/cc", {"users": usernames},
                                  idempotent=True)


    # ---------------------------------------------------------------- the FAQ loop
    async def faq_answer(self, who: str, key: str) -> dict[str, Any]:
        """The answer text the backend holds for ``faq/<name>`` (never cached: staff edits count at once)."""
        return await self.request(who, "GET", f"/faq/answers/{quote(key.removeprefix('faq/'))}")

    async def record_question(self, who: str, text: str, kind: str, predicted_key: Optional[str],
                              confidence: Optional[float]) -> dict[str, Any]:
        body = {"text": text, "kind": kind, "predicted_key": predicted_key, "confidence": confidence}
        return await self.request(who, "POST", "/faq/questions", body)

    # ---------------------------------------------------------------- the help desk (服务台)
    async def start_handoff(self, who: str, reason: str) -> dict[str, Any]:
        """Join the help desk's queue; outside service hours ``open`` is false and nothing joins."""
        return await self.request(who, "POST", "/helpdesk/handoffs", {"reason": reason})

    async def relay_to_helpdesk(self, who: str, text: str) -> dict[str, Any]:
        return await self.request(who, "POST", "/helpdesk/handoffs/messages", {"text": text})

    async def current_handoff(self, who: str) -> Optional[dict[str, Any]]:
        """The person's open conversation with the help desk (waiting or being helped), or None."""
        return (await self.request(who, "GET", "/helpdesk/handoffs/current"))["conversation"]

    async def withdraw_handoff(self, who: str) -> dict[str, Any]:
        """Leave the queue (to leave a message instead); 409 once the help desk took the conversation."""
        return await self.request(who, "POST", "/helpdesk/handoffs/withdraw")

    async def leave_ticket(self, who: str, text: str) -> dict[str, Any]:
        return await self.request(who, "POST", "/helpdesk/tickets", {"text": text})
