"""API keys for integrations: made by an administrator, shown once, kept only as a hash."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.identity import events
from roadwatch.identity.models import ApiKey
from roadwatch.identity.repository import ApiKeyRepository
from roadwatch.identity.schemas import ApiKeyCreate, ApiKeyRead
from roadwatch.platform.auth import Principal
from roadwatch.platform.auth.api_keys import (
    KEY_PREFIX,
    ApiKeyEntry,
    api_key_digest,
    drop_entry,
    last_used,
    store_entry,
)
from roadwatch.platform.db import utcnow
from roadwatch.platform.errors import Forbidden, InvalidInput, NotFound
from roadwatch.platform.events import publish
from roadwatch.platform.pagination import PageParams, paginate
from roadwatch.platform.runtime import Platform

# last-used is a convenience for people auditing keys: write it at most this often, not on
# every request a busy integration makes
LAST_USED_RESOLUTION = timedelta(minutes=1)


def to_read(key: ApiKey) -> ApiKeyRead:
    return ApiKeyRead.model_validate(key)


def key_state(key: ApiKey) -> dict[str, Any]:
    return to_read(key).model_dump(mode="json")


def _entry(key: ApiKey) -> ApiKeyEntry:
    expires = key.expires_at.timestamp() if key.expires_at else None
    return ApiKeyEntry(key.id, tuple(key.scopes), expires)


class ApiKeyService:
    def __init__(self, platform: Platform, session: AsyncSession, actor: str) -> None:
        self.platform = platform
        self.session = session
        self.actor = actor
        self.repo = ApiKeyRepository(session)

    async def get(self, key_id: str) -> ApiKey:
        key = await self.repo.get(key_id)
        if key is None:
            raise NotFound(f"API key {key_id} not found")
        return key

    async def list(self, params: PageParams, include_revoked: bool) -> tuple[list[ApiKey], int]:
        return await paginate(
            self.session,
            self.repo.query(include_revoked),
            params,
            self.repo.sortable,
            tiebreak=ApiKey.id,
            default_sort="-created_at",
        )

    async def create(self, data: ApiKeyCreate, creator: Principal) -> tuple[ApiKey, str]:
        """The key and its secret; the secret is not stored and cannot be shown again."""
        beyond = sorted(set(data.scopes) - creator.permissions)
        if beyond:
            # a key never holds more than whoever made it, or keys could mint stronger keys
            raise Forbidden(
                f"scopes: you cannot grant what you do not hold: {', '.join(beyond)}",
                field="scopes",
            )
        if data.expires_at is not None and data.expires_at <= utcnow():
            raise InvalidInput("expires_at: must be in the future", field="expires_at")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            name=data.name,
            prefix=secret[:12],
            key_hash=api_key_digest(secret),
            scopes=sorted(set(data.scopes)),
            created_by=self.actor,
            expires_at=data.expires_at,
        )
        self.repo.add(key)
        await self.session.flush()
        await self.session.refresh(key)
        publish(
            self.session,
            events.api_key_event(events.API_KEY_CREATED, key.id, key_state(key), self.actor),
        )
        # before the commit: should it fail, the secret was never shown, so the entry is inert
        await store_entry(self.platform.cache, key.key_hash, _entry(key))
        return key, secret

    async def revoke(self, key_id: str) -> None:
        key = await self.get(key_id)
        if key.revoked_at is not None:
            return
        key.revoked_at = utcnow()
        await self.session.flush()
        # at once for every process; should the commit fail, the next sync restores it
        await drop_entry(self.platform.cache, key.key_hash)
        publish(
            self.session,
            events.api_key_event(events.API_KEY_REVOKED, key.id, key_state(key), self.actor),
        )


async def resolve_api_key(platform: Platform, raw_key: str) -> Principal | None:
    """The platform's API key hook: the integration principal for a live key, else None."""
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) > 200:
        return None
    # looked up by the hash of a 256-bit secret: equality on the digest leaks nothing usable
    async with platform.db.session() as session:
        key = await ApiKeyRepository(session).by_hash(api_key_digest(raw_key))
        now = utcnow()
        if key is None or key.revoked_at is not None:
            return None
        if key.expires_at is not None and key.expires_at <= now:
            return None
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
            key.last_used_at = now
        return Principal(kind="apikey", id=key.id, scopes=frozenset(key.scopes))


async def sync_api_keys(platform: Platform) -> None:
    """Write every live key to the cache and copy uses seen elsewhere into last-used.

    Run at start and periodically, so a cache that lost its contents (a Redis restart)
    is refilled, and other processes' uses of a key reach its record.
    """
    async with platform.db.session() as session:
        repo = ApiKeyRepository(session)
        now = utcnow()
        for key in (await session.scalars(repo.query())).all():
            if key.expires_at is not None and key.expires_at <= now:
                continue
            await store_entry(platform.cache, key.key_hash, _entry(key))
            used = await last_used(platform.cache, key.id)
            if used is not None:
                seen = datetime.fromtimestamp(used, UTC)
                if key.last_used_at is None or seen > key.last_used_at:
                    key.last_used_at = seen
