"""The cache: an in-process adapter (embedded) and Redis (shared between replicas)."""

from __future__ import annotations

import time
from typing import Protocol
from urllib.parse import urlsplit

import redis.asyncio as aioredis


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl_s: float) -> int:
        """Add one and return the count; the key expires ttl_s after its first increment."""

    async def check(self) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    def __init__(self, max_entries: int = 100_000) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._max = max_entries

    def _live(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        return value

    def _evict(self) -> None:
        if len(self._data) < self._max:
            return
        now = time.monotonic()
        for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
            del self._data[key]
        while len(self._data) >= self._max:
            # dicts keep insertion order: drop the oldest entries first
            del self._data[next(iter(self._data))]

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        self._evict()
        self._data[key] = (value, time.monotonic() + ttl_s if ttl_s else None)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def incr(self, key: str, ttl_s: float) -> int:
        current = self._live(key)
        if current is None:
            self._evict()
            self._data[key] = (b"1", time.monotonic() + ttl_s)
            return 1
        count = int(current) + 1
        self._data[key] = (str(count).encode(), self._data[key][1])
        return count

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()


class RedisCache:
    def __init__(self, url: str, namespace: str = "roadwatch:") -> None:
        self._redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=2, retry_on_timeout=False
        )
        self._ns = namespace

    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(self._ns + key)
        return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        px = int(ttl_s * 1000) if ttl_s else None
        await self._redis.set(self._ns + key, value, px=px)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._ns + key)

    async def incr(self, key: str, ttl_s: float) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._ns + key)
            # NX: the window starts at the first hit and is not pushed back by later ones
            pipe.pexpire(self._ns + key, int(ttl_s * 1000), nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def check(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


def create_cache(url: str, namespace: str = "roadwatch:") -> Cache:
    if urlsplit(url).scheme == "memory":
        return MemoryCache()
    return RedisCache(url, namespace)
