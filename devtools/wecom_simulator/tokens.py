"""access_token issuing, expiry and early revocation, as WeCom does it per app."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable, Optional

from .errors import WeComApiError


@dataclass
class _Token:
    value: str
    expires_at: float
    revoked: bool = False


class TokenStore:
    def __init__(self, ttl: int, clock: Callable[[], float]):
        self.ttl = ttl
        self.clock = clock
        self._tokens: dict[str, _Token] = {}
        self._current: Optional[_Token] = None
        self.issued = 0          # how many distinct tokens were handed out
        self.gettoken_calls = 0

    def get(self) -> tuple[str, int]:
        """The valid token and its remaining lifetime; WeCom repeats it until it expires."""
        self.gettoken_calls += 1
        now = self.clock()
        current = self._current
        if current is None or current.revoked or current.expires_at <= now:
            current = _Token(secrets.token_urlsafe(96), now + self.ttl)
            self._tokens[current.value] = current
            self._current = current
            self.issued += 1
        return current.value, max(1, int(current.expires_at - now))

    def check(self, value: Optional[str]) -> None:
        if not value:
            raise WeComApiError(41001)
        token = self._tokens.get(value)
        if token is None:
            raise WeComApiError(40014)
        if token.revoked or token.expires_at <= self.clock():
            raise WeComApiError(42001)

    def revoke_all(self) -> int:
        live = [t for t in self._tokens.values() if not t.revoked]
        for token in live:
            token.revoked = True
        return len(live)
