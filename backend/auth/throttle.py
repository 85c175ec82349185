"""Failed logins limited per account and per client address.

``Limits``: at most ``account_failures`` failures per account and ``address_failures``
per client address within ``window_seconds``; one more attempt is refused (429) until
the oldest counted failure leaves the window — without verifying the password, so a
refused guess costs no hash. A successful login clears its account's count (not its
address's: one valid account must not reset an address's guessing budget).

Two stores of the failures, both shared by every worker process (``serve --workers``)
and every machine: Redis (``RedisFailures``, when BACKEND_REDIS_URL is set) or, without it, the
audit table the failures are written to anyway (``backend.db.audit.DatabaseFailures``).
An in-process counter would let each worker allow its own five.
"""
from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass
from typing import Optional, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    account_failures: int = 5
    address_failures: int = 20
    window_seconds: int = 15 * 60


class FailureStore(Protocol):
    limits: Limits

    async def retry_after(self, username: str, address: str, now: float) -> Optional[int]:
        """Seconds until another attempt is allowed, or None when it is allowed now."""

    async def failed(self, username: str, address: str, now: float) -> None: ...

    async def succeeded(self, username: str, now: float) -> None: ...

    async def close(self) -> None: ...


def seconds_until(oldest_counted: float, window_seconds: int, now: float) -> int:
    return max(1, math.ceil(oldest_counted + window_seconds - now))


class RedisFailures:
    """One sorted set per account and per address (score: the failure's time), trimmed to
    the window and expiring with it. If Redis is unreachable, the ``fallback`` store decides
    (the audit table, which records every failure anyway), so an outage never lifts the limit;
    without one, logins are not throttled (logged)."""

    def __init__(self, client, limits: Limits = Limits(), prefix: str = "campus",  # redis.asyncio.Redis
                 fallback: Optional[FailureStore] = None):
        self.client, self.limits, self.prefix, self.fallback = client, limits, prefix, fallback

    @classmethod
    def from_url(cls, url: str, limits: Limits = Limits(), prefix: str = "campus",
                 fallback: Optional[FailureStore] = None) -> "RedisFailures":
        import redis.asyncio as redis

        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), limits, prefix, fallback)

    def _keys(self, username: str, address: str) -> tuple[str, str]:
        return f"{self.prefix}:login-failures:account:{username}", f"{self.prefix}:login-failures:address:{address}"

    async def retry_after(self, username: str, address: str, now: float) -> Optional[int]:
        import redis

        account, by_address = self._keys(username, address)
        window = self.limits.window_seconds
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, limit in ((account, self.limits.account_failures), (by_address, self.limits.address_failures)):
                    pipe.zremrangebyscore(key, "-inf", now - window)
                    pipe.zrevrange(key, limit - 1, limit - 1, withscores=True)
                results = await pipe.execute()
        except redis.RedisError as error:
            if self.fallback is None:
                log.warning("login throttle: Redis unavailable (%s); not throttling", error)
                return None
            log.warning("login throttle: Redis unavailable (%s); counting from the audit table", error)
            return await self.fallback.retry_after(username, address, now)
        waits = [seconds_until(found[0][1], window, now) for found in results[1::2] if found]
        return max(waits) if waits else None

    async def failed(self, username: str, address: str, now: float) -> None:
        import redis

        member = f"{now:.6f}:{secrets.token_hex(4)}"
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key in self._keys(username, address):
                    pipe.zadd(key, {member: now})
                    pipe.expire(key, self.limits.window_seconds)
                await pipe.execute()
        except redis.RedisError as error:
            log.warning("login throttle: Redis unavailable (%s); failure not counted", error)

    async def succeeded(self, username: str, now: float) -> None:
        import redis

        try:
            await self.client.delete(self._keys(username, "")[0])
        except redis.RedisError as error:
            log.warning("login throttle: Redis unavailable (%s)", error)

    async def close(self) -> None:
        await self.client.aclose()
