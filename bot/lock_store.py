"""A conversation lock on Redis that is correct between several Rasa replicas.

  lock_store:
    type: bot.lock_store.AtomicRedisLockStore
    url: ${RASA_LOCK_REDIS_URL}        # redis://host:6379/2 (a password goes in the URL's user info)
    key_prefix: campus                 # optional, [A-Za-z0-9_-]
    lifetime_seconds: 20               # optional: how long a silent ticket holder is believed alive
    poll_seconds: 0.05                 # optional: how often a waiter looks again

Rasa's open-source ``RedisLockStore`` reads the whole lock, adds a ticket and writes it back
(get → last + 1 → set; RasaHQ/rasa#11256, the atomic fix reverted in #11428): two replicas
receiving one sender's messages at once can draw the same ticket and run both turns at once,
and the SQL tracker store then silently drops one turn's events. Its other updates (expiry,
release) are read-modify-write too and can erase a ticket just issued elsewhere.

Here every change of a conversation's lock is one Lua script, so Redis runs it atomically:
tickets come from INCR, the queue is a sorted set (lowest ticket is served), expiries are
kept in Redis's own clock (``TIME``, so replicas' clocks do not matter). A ticket expires
only when its process stops renewing it: a waiter renews its ticket on every look, the
holder every lifetime/4 from a background task. So a slow turn is never overtaken, and a
killed replica's tickets free the conversation after ``lifetime_seconds`` (Rasa's 60 s
lifetime, counted from issue, did both wrongly: a long queue expired waiters, and a dead
holder blocked for a minute). Waiters look again every ``poll_seconds`` (Rasa: 1 s, which
adds up to a second to every message that had to wait).
"""
from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from contextlib import asynccontextmanager, suppress
from typing import Any, AsyncGenerator, Optional

import redis
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_LIFETIME_SECONDS = 20.0
DEFAULT_POLL_SECONDS = 0.05
DEFAULT_KEY_PREFIX = "rasa"
KEY_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SOCKET_TIMEOUT_SECONDS = 5.0

# KEYS: counter, queue (sorted set: ticket → ticket), expiries (hash: ticket → ms, Redis clock).
# Every script first drops the tickets whose holder stopped renewing them.
_PURGE = """
local now_ms = (function() local t = redis.call('TIME'); return t[1] * 1000 + math.floor(t[2] / 1000) end)()
for _, ticket in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local expires = tonumber(redis.call('HGET', KEYS[3], ticket) or '0')
  if expires <= now_ms then
    redis.call('ZREM', KEYS[2], ticket)
    redis.call('HDEL', KEYS[3], ticket)
  end
end
local function keep_keys(ttl_ms)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl_ms) end
end
"""

# ARGV: lifetime ms → the new ticket's number.
ISSUE = _PURGE + """
local ticket = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('HSET', KEYS[3], ticket, now_ms + tonumber(ARGV[1]))
keep_keys(2 * tonumber(ARGV[1]))
return ticket
"""

# ARGV: ticket, lifetime ms → 1 served now, 0 still waiting, -1 the ticket expired.
# Looking renews the ticket: its process is alive.
TRY_ACQUIRE = _PURGE + """
if not redis.call('HGET', KEYS[3], ARGV[1]) then return -1 end
redis.call('HSET', KEYS[3], ARGV[1], now_ms + tonumber(ARGV[2]))
keep_keys(2 * tonumber(ARGV[2]))
local first = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if first == ARGV[1] then return 1 end
return 0
"""

# ARGV: ticket, lifetime ms → 1 renewed, 0 the ticket had expired.
RENEW = _PURGE + """
if not redis.call('HGET', KEYS[3], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], now_ms + tonumber(ARGV[2]))
keep_keys(2 * tonumber(ARGV[2]))
return 1
"""

# ARGV: ticket → 1 released, 0 it had expired. The last ticket out removes the lock, counter
# included: nobody holds a number of it any more.
RELEASE = _PURGE + """
local removed = redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return removed
"""

# → the queue as [ticket, expires (s since the epoch, Redis clock)] pairs, oldest first.
READ = _PURGE + """
local out = {}
for _, ticket in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  table.insert(out, {tonumber(ticket), tostring(tonumber(redis.call('HGET', KEYS[3], ticket)) / 1000)})
end
return out
"""


class AtomicRedisLockStore(LockStore):
    """Ticket locks whose every update is one atomic Redis script (see the module docstring)."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, *, url: Optional[str] = None,
                 key_prefix: Optional[str] = None, lifetime_seconds: Optional[float] = None,
                 poll_seconds: Optional[float] = None, client: Optional[redis.Redis] = None) -> None:
        settings: dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        url = url or (endpoint_config.url if endpoint_config else None)
        key_prefix = str(key_prefix or settings.get("key_prefix") or DEFAULT_KEY_PREFIX)
        if not KEY_PREFIX_PATTERN.match(key_prefix):
            raise ValueError(f"lock_store key_prefix must be 1-64 of A-Z a-z 0-9 _ -, not {key_prefix!r}")
        self.lifetime = float(lifetime_seconds or settings.get("lifetime_seconds") or DEFAULT_LIFETIME_SECONDS)
        self.poll = float(poll_seconds or settings.get("poll_seconds") or DEFAULT_POLL_SECONDS)
        if not 1 <= self.lifetime <= 3600 or not 0.001 <= self.poll <= self.lifetime / 4:
            raise ValueError(f"lock_store needs 1 ≤ lifetime_seconds ≤ 3600 and 0.001 ≤ poll_seconds ≤ "
                             f"lifetime/4, not {self.lifetime} and {self.poll}")
        if client is None:
            if not url or not url.startswith(("redis://", "rediss://", "unix://")):
                raise ValueError(f"lock_store url must be a redis:// URL (e.g. redis://127.0.0.1:6379/2), not {url!r}")
            client = redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_SECONDS,
                                          socket_connect_timeout=SOCKET_TIMEOUT_SECONDS)
        self.red = client
        self.key_prefix = f"{key_prefix}:lock:"
        self._issue, self._try, self._renew, self._release, self._read = (
            client.register_script(s) for s in (ISSUE, TRY_ACQUIRE, RENEW, RELEASE, READ))
        super().__init__()

    # ------------------------------------------------------------ keys
    def _keys(self, conversation_id: str) -> list[str]:
        base = f"{self.key_prefix}{{{conversation_id}}}"  # a hash tag: one Redis Cluster slot
        return [f"{base}:counter", f"{base}:queue", f"{base}:expires"]

    def _lifetime_ms(self, lifetime: Optional[float] = None) -> int:
        return int(1000 * (lifetime or self.lifetime))

    # ------------------------------------------------------------ what Rasa calls
    def issue_ticket(self, conversation_id: str, lock_lifetime: float = 0) -> int:
        """A new ticket, atomically: never the number of another one, whichever replica asks."""
        try:
            return int(self._issue(keys=self._keys(conversation_id), args=[self._lifetime_ms()]))
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = 0,
                   wait_time_in_seconds: float = 0) -> AsyncGenerator[TicketLock, None]:
        """The conversation to this caller alone, in ticket order. Rasa's lifetime and wait
        arguments are its defaults at every call site; this store's own settings are used."""
        ticket = self.issue_ticket(conversation_id)
        renewing: Optional[asyncio.Task] = None
        try:
            await self._wait_for_turn(conversation_id, ticket)
            renewing = asyncio.ensure_future(self._keep_renewing(conversation_id, ticket))
            yield self.get_lock(conversation_id) or TicketLock(conversation_id)
        finally:
            if renewing is not None:
                renewing.cancel()
                with suppress(asyncio.CancelledError):
                    await renewing
            self.cleanup(conversation_id, ticket)

    async def _wait_for_turn(self, conversation_id: str, ticket: int) -> None:
        while True:
            state = int(self._try(keys=self._keys(conversation_id), args=[ticket, self._lifetime_ms()]))
            if state == 1:
                return
            if state == -1:  # this process did not look for a whole lifetime (a stalled loop)
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}': "
                                f"ticket {ticket} expired while waiting.")
            await asyncio.sleep(self.poll)

    async def _keep_renewing(self, conversation_id: str, ticket: int) -> None:
        while True:
            await asyncio.sleep(self.lifetime / 4)
            try:
                if not self._renew(keys=self._keys(conversation_id), args=[ticket, self._lifetime_ms()]):
                    logger.error("Lock of conversation %s expired while its turn ran (ticket %s): the event "
                                 "loop was blocked for over %.0f s", conversation_id, ticket, self.lifetime)
                    return
            except redis.RedisError:  # the next renewal tries again; the turn itself goes on
                logger.exception("Could not renew the lock of conversation %s", conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self.finish_serving(conversation_id, ticket_number)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        try:
            if not self._release(keys=self._keys(conversation_id), args=[ticket_number]):
                logger.warning("Ticket %s of conversation %s had expired before it was released",
                               ticket_number, conversation_id)
        except redis.RedisError:  # the ticket then expires after the lifetime on its own
            logger.exception("Could not release ticket %s of conversation %s", ticket_number, conversation_id)

    def update_lock(self, conversation_id: str) -> None:
        """Expired tickets are dropped by every script; nothing to do apart."""

    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        """A snapshot of the queue (for inspection; the lock is never written back from one)."""
        pairs = self._read(keys=self._keys(conversation_id))
        if not pairs:
            return None
        return TicketLock(conversation_id, deque(Ticket(int(n), float(e)) for n, e in pairs))

    def is_someone_waiting(self, conversation_id: str) -> bool:
        return self.get_lock(conversation_id) is not None

    def delete_lock(self, conversation_id: str) -> None:
        self.red.delete(*self._keys(conversation_id))

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError("AtomicRedisLockStore never writes a whole lock: that is the race it avoids")
