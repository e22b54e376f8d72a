"""API keys as every process sees them: entries in the shared cache, kept by identity.

Only the identity service reads its tables; a service running in another process checks an
integration's key against the entry identity wrote to the cache (Redis when distributed),
and notes when the key was used for identity to record.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import orjson

from roadwatch.platform.auth.digests import secret_digest
from roadwatch.platform.auth.principal import Principal
from roadwatch.platform.cache import Cache

if TYPE_CHECKING:
    from roadwatch.platform.runtime import Platform

KEY_PREFIX = "rwk_"
ENTRY_KEY = "auth:api-key:{}"
USED_KEY = "auth:api-key-used:{}"
# how long a use is remembered for identity to copy into the key's last-used time
USED_TTL_S = 24 * 3600


# a 256-bit random secret: a fast hash is enough, and lookups stay cheap per request
api_key_digest = secret_digest


@dataclass(frozen=True)
class ApiKeyEntry:
    id: str
    scopes: tuple[str, ...]
    # epoch seconds, or None for a key that does not expire
    expires_at: float | None

    def principal(self) -> Principal:
        return Principal(kind="apikey", id=self.id, scopes=frozenset(self.scopes))


async def store_entry(cache: Cache, digest: str, entry: ApiKeyEntry) -> None:
    ttl = None if entry.expires_at is None else max(1.0, entry.expires_at - time.time())
    await cache.set(ENTRY_KEY.format(digest), orjson.dumps(asdict(entry)), ttl_s=ttl)


async def drop_entry(cache: Cache, digest: str) -> None:
    await cache.delete(ENTRY_KEY.format(digest))


async def last_used(cache: Cache, key_id: str) -> float | None:
    raw = await cache.get(USED_KEY.format(key_id))
    return float(raw) if raw is not None else None


async def principal_from_cached_key(platform: Platform, raw_key: str) -> Principal | None:
    """The default resolver of X-API-Key, for processes that do not run identity."""
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) > 200:
        return None
    raw = await platform.cache.get(ENTRY_KEY.format(api_key_digest(raw_key)))
    if raw is None:
        return None
    data = orjson.loads(raw)
    entry = ApiKeyEntry(data["id"], tuple(data["scopes"]), data["expires_at"])
    now = time.time()
    if entry.expires_at is not None and entry.expires_at <= now:
        return None
    await platform.cache.set(USED_KEY.format(entry.id), str(now).encode(), ttl_s=USED_TTL_S)
    return entry.principal()
