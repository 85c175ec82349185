"""The WeCom gateway's Redis queue: a callback acknowledged to WeCom survives the gateway.

Used when the gateway has WECOM_REDIS_URL (the replicas profile). A callback's dedupe mark and
its place in the queue are written by one Lua script before the gateway answers 200: either
both exist (it will be forwarded) or neither (no 200 was sent, WeCom retries, and the retry is
not taken for a duplicate). Each gateway instance moves what it forwards into a processing
list of its own (LMOVE, atomic) and removes it once forwarded; a restarted instance forwards
what its processing list still holds first. At least once: a forward in flight when the
gateway was killed is forwarded again, and the channel drops the double by MsgId (its own
dedupe marks, in the same Redis).

  wecom:gateway:queue                 callbacks not yet taken (LPUSH; oldest at the right)
  wecom:gateway:processing:<instance> taken by one gateway, not yet forwarded
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Optional

from .store import DEDUPE_TTL, PREFIX

QUEUE_KEY = PREFIX + "gateway:queue"
PROCESSING_PREFIX = PREFIX + "gateway:processing:"
TAKE_TIMEOUT_SECONDS = 1.0  # a blocking take wakes up this often (shutdown is noticed)

# KEYS: dedupe mark, queue. ARGV: mark TTL, item → 1 queued, 0 already seen.
PUT_FIRST_DELIVERY = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('LPUSH', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Queued:
    """A verified callback as WeCom sent it (forwarded byte for byte) and who sent it."""

    dedupe_key: str
    userid: str
    query_string: str
    body: str  # the XML body, ASCII (WeCom's ciphertext is base64)

    def dumps(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def loads(cls, raw: str) -> "Queued":
        return cls(**json.loads(raw))


class RedisCallbackQueue:
    def __init__(self, url: str, instance: str):
        import redis.asyncio as redis

        # Reads block up to TAKE_TIMEOUT_SECONDS; the socket waits longer than that.
        self._redis = redis.from_url(url, decode_responses=True, socket_timeout=TAKE_TIMEOUT_SECONDS + 5,
                                     socket_connect_timeout=2)
        self._put = self._redis.register_script(PUT_FIRST_DELIVERY)
        self.processing_key = PROCESSING_PREFIX + instance

    async def put_first_delivery(self, mark: str, item: Queued) -> bool:
        """Queues ``item`` unless ``mark`` was seen (a WeCom retry); False then."""
        return bool(await self._put(keys=[PREFIX + mark, QUEUE_KEY], args=[DEDUPE_TTL, item.dumps()]))

    async def unfinished(self) -> list[str]:
        """What this instance had taken and not finished when it stopped, oldest first."""
        return list(reversed(await self._redis.lrange(self.processing_key, 0, -1)))

    async def take(self) -> Optional[str]:
        """The oldest queued callback, moved to this instance's processing list; None after a quiet second."""
        return await self._redis.blmove(QUEUE_KEY, self.processing_key, TAKE_TIMEOUT_SECONDS, "RIGHT", "LEFT")

    async def done(self, raw: str) -> None:
        await self._redis.lrem(self.processing_key, 1, raw)

    async def waiting(self) -> int:
        return int(await self._redis.llen(QUEUE_KEY)) + int(await self._redis.llen(self.processing_key))

    async def close(self) -> None:
        await self._redis.close(close_connection_pool=True)
