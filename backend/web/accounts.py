"""Logging in with a password and changing one: what the login page, the JSON login and
both change-password endpoints share — throttling, bounded hashing, the policy, the audit.

The client address is ``request.remote`` after ``forwarded_middleware``: X-Forwarded-For
counts only from TRUSTED_PROXIES, so a client cannot pick the address it is throttled by.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import AsyncIterator, Optional

from aiohttp import web

from ..auth.passwords import HashingBusy, HashingPool
from ..auth.policy import policy_problem
from ..auth.throttle import FailureStore, Limits, RedisFailures
from ..db import accounts, audit
from ..db.audit import DatabaseFailures
from ..db.models import User
from ..db.org import active_user
from ..errors import AppError, InvalidInput, NotAuthenticated
from .keys import DATABASE, SETTINGS

HASHING = web.AppKey("hashing_pool", HashingPool)
FAILURES = web.AppKey("login_failures", FailureStore)


class TooManyAttempts(AppError):
    status = 429

    def __init__(self, retry_after: int):
        minutes = max(1, round(retry_after / 60))
        super().__init__("too_many_attempts", f"登录失败次数过多,请 {minutes} 分钟后再试", {"retry_after": retry_after})
        self.retry_after = retry_after


class LoginBusy(AppError):
    status = 503

    def __init__(self) -> None:
        super().__init__("login_busy", "登录的人较多,请稍后几秒再试", {"retry_after": 2})
        self.retry_after = 2


def setup_accounts(app: web.Application) -> None:
    settings = app[SETTINGS]

    async def resources(app: web.Application) -> AsyncIterator[None]:
        app[HASHING] = HashingPool(settings.login_hash_concurrency, settings.login_hash_queue)
        limits = Limits(settings.login_account_failures, settings.login_address_failures,
                        settings.login_window_seconds)
        audited = DatabaseFailures(app[DATABASE], limits)  # every failure is an audit row anyway
        app[FAILURES] = (RedisFailures.from_url(settings.redis_url, limits, fallback=audited) if settings.redis_url
                         else audited)
        yield
        await app[FAILURES].close()
        app[HASHING].close()

    app.cleanup_ctx.append(resources)


@dataclass(frozen=True)
class Caller:
    channel: str  # web | api
    address: str
    user_agent: str

    @classmethod
    def of(cls, request: web.Request, channel: str) -> "Caller":
        return cls(channel, request.remote or "", request.headers.get("User-Agent", ""))


async def _record(request: web.Request, event: str, caller: Caller, username: str,
                  user: Optional[User], target: Optional[str] = None) -> None:
    await audit.record(request.app[DATABASE], event, caller.channel, user_id=user.id if user else None,
                       username=username, address=caller.address, user_agent=caller.user_agent, target=target)


async def _check_throttle(request: web.Request, caller: Caller, username: str, user: Optional[User]) -> None:
    wait = await request.app[FAILURES].retry_after(username, caller.address, time.time())
    if wait is not None:
        await _record(request, "login_throttled", caller, username, user)
        raise TooManyAttempts(wait)


async def _verify(request: web.Request, password_hash: Optional[str], password: str) -> bool:
    try:
        return await request.app[HASHING].verify(password_hash, password)
    except HashingBusy:
        raise LoginBusy() from None


async def _failed(request: web.Request, caller: Caller, username: str, user: Optional[User],
                  target: Optional[str] = None) -> None:
    await _record(request, audit.LOGIN_FAILED, caller, username, user, target)
    await request.app[FAILURES].failed(username, caller.address, time.time())


async def log_in_with_password(request: web.Request, username: str, password: str, channel: str) -> User:
    """The active user with these credentials; raises 401, 429 or 503. The account is read
    on a connection released before hashing: a login flood holds no database connection."""
    username = username.strip()[:64]  # as the audit row keeps it, so the throttle counts what was stored
    caller = Caller.of(request, channel)
    await _check_throttle(request, caller, username, None)
    user = await active_user(request.app[DATABASE], User.username == username)
    if not await _verify(request, user.password_hash if user else None, password) or user is None:
        await _failed(request, caller, username, user)
        raise NotAuthenticated("login_failed", "用户名或密码错误")
    await _record(request, audit.LOGIN_SUCCEEDED, caller, username, user)
    await request.app[FAILURES].succeeded(username, time.time())
    return user


async def change_password(request: web.Request, user: User, current: str, new: str, channel: str,
                          keep_cookie: Optional[str] = None) -> int:
    """The person's own change: current password required, the policy applied; their other
    sessions and tokens end. Returns the new credentials version (for a fresh token)."""
    caller = Caller.of(request, channel)
    await _check_throttle(request, caller, user.username, user)
    if not await _verify(request, user.password_hash, current):
        await _failed(request, caller, user.username, user, target="password_change")
        raise InvalidInput("current_password_wrong", "当前密码不正确")
    problem = policy_problem(new, user.username, current)
    if problem:
        raise InvalidInput("password_policy", problem)
    try:
        new_hash = await request.app[HASHING].hash(new)
    except HashingBusy:
        raise LoginBusy() from None
    async with request.app[DATABASE].write() as session:
        version = await accounts.set_password(session, user.id, new_hash, must_change=False, keep_cookie=keep_cookie)
    await _record(request, "password_changed", caller, user.username, user)
    return version


def with_retry_after(response: web.StreamResponse, error: AppError) -> web.StreamResponse:
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response
