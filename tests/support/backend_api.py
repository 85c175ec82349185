"""The backend under test over real HTTP: the secrets its test settings use, its JSON API as one
or another demo user, and the pending task an approver holds for an application."""
from __future__ import annotations

import secrets
from typing import Any, Optional

from .databases import DEMO_PASSWORD

SECRET = secrets.token_urlsafe(48)
SERVICE_TOKEN = secrets.token_urlsafe(48)


class Api:
    """Real HTTP to the backend, as one or another demo user."""

    _tokens: dict[tuple[str, str], str] = {}  # (database, username) -> token, reused across tests

    def __init__(self, client: Any, database_url: str):
        self.client = client
        self.database_url = database_url

    async def token(self, username: str) -> str:
        key = (self.database_url, username)
        if key not in self._tokens:
            response = await self.client.post(
                "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
            )
            assert response.status == 200, await response.text()
            self._tokens[key] = (await response.json())["token"]
        return self._tokens[key]

    async def call(self, method: str, path: str, user: Optional[str] = None, *, expect: Optional[int] = None,
                   headers: Optional[dict[str, str]] = None, **kwargs: Any) -> tuple[int, Any]:
        headers = dict(headers or {})
        if user is not None:
            headers["Authorization"] = f"Bearer {await self.token(user)}"
        response = await self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)
        body = await response.json() if response.content_type == "application/json" else await response.text()
        if expect is not None:
            assert response.status == expect, f"{method} {path} → {response.status}: {body}"
        return response.status, body

    async def get(self, path: str, user: Optional[str] = None, **kwargs: Any) -> Any:
        return (await self.call("GET", path, user, expect=kwargs.pop("expect", 200), **kwargs))[1]

    async def post(self, path: str, user: Optional[str] = None, **kwargs: Any) -> Any:
        return (await self.call("POST", path, user, expect=kwargs.pop("expect", 200), **kwargs))[1]


async def pending_task(api: Api, username: str, number: str) -> dict[str, Any]:
    """``username``'s pending task on the application numbered ``number``."""
    tasks = (await api.get("/tasks?status=pending", username))["items"]
    return next(t for t in tasks if t["number"] == number)
