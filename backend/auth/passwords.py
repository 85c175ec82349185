"""Password hashing with Argon2id (argon2-cffi's recommended parameters), bounded.

A verification costs about 0.2 s of CPU. Unbounded (one thread each from the default
pool), 40 logins a second starve the event loop and every other request waits behind them.
``HashingPool`` runs at most ``concurrency`` hashes at once per process, on its own
threads at a lower CPU priority (Linux: nice is per thread), and lets at most ``queue``
more wait; beyond that it refuses at once (``HashingBusy`` → 503 with Retry-After) instead
of queueing work nobody will wait for.
"""
from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")
_hasher = PasswordHasher()

# Verified when the username is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
HASHING_NICENESS = 10


def hash_password(password: str, hasher: PasswordHasher = _hasher) -> str:
    return hasher.hash(password)


def verify_password(password_hash: Optional[str], password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class HashingBusy(Exception):
    """More logins are waiting for a hash than the pool accepts."""


def _lower_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: still bounded, just not niced
        pass


class HashingPool:
    def __init__(self, concurrency: int = 1, queue: int = 8):
        self.concurrency, self.queue = concurrency, queue
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2",
                                            initializer=_lower_priority)
        self._admitted = 0  # running + waiting

    async def run(self, work: Callable[..., T], *args: object) -> T:
        if self._admitted >= self.concurrency + self.queue:
            raise HashingBusy()
        self._admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        finally:
            self._admitted -= 1

    async def verify(self, password_hash: Optional[str], password: str) -> bool:
        return await self.run(verify_password, password_hash, password)

    async def hash(self, password: str) -> str:
        return await self.run(hash_password, password)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
