"""The telemetry service's own directory of devices, kept from the devices service's events.

Every message a device sends is checked against it, so it lives in our tables (one indexed
lookup) instead of asking the devices service, which may run in another process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.devices import events as device_events
from roadwatch.platform.auth.digests import secret_digest
from roadwatch.platform.coalesce import Coalescer
from roadwatch.platform.events import Event
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry.models import DirectoryDevice
from roadwatch.telemetry.profiles import on_profile_event, profile_timeout_ms


@dataclass(frozen=True, slots=True)
class DeviceRef:
    id: str
    name: str
    profile_id: str | None
    # may speak for other devices (ThingsBoard's gateway API)
    gateway: bool = False


# A device sends every few seconds or faster; looking its token up in the database each time
# cost a pooled connection, a ping and a query per request (the largest share of a small
# request's time). Hits are remembered for a few seconds, per platform; a directory change
# applied in this process forgets them all once committed, so in the embedded shape a
# rotated or revoked token is refused at once, and by another replica within the TTL.
_TOKENS = "telemetry.token-cache"
_LOOKUPS = "telemetry.token-lookups"
# bound parameters in one IN list (SQLite allows 32,766)
LOOKUPS_PER_QUERY = 1000
TOKEN_TTL_S = 5.0
TOKEN_CACHE_MAX = 100_000
_generation = 0


def _forget_tokens(*_: object) -> None:
    global _generation
    _generation += 1


async def device_for_token(platform: Platform, token: str) -> DeviceRef | None:
    """The active device holding this access token, or None."""
    if not token or len(token) > 64:
        return None
    cache: dict[str, tuple[int, float, DeviceRef]] = platform.extras.setdefault(_TOKENS, {})
    now = time.monotonic()
    hit = cache.get(token)
    if hit is not None and hit[0] == _generation and hit[1] > now:
        return hit[2]
    generation = _generation
    device = await _lookups(platform).submit(token)
    if device is None:
        # not remembered: a device registered a moment ago must be accepted as soon as the
        # directory has it
        return None
    if len(cache) >= TOKEN_CACHE_MAX:
        cache.clear()
    # read under `generation`: a change committed meanwhile makes this entry stale at once
    cache[token] = (generation, now + TOKEN_TTL_S, device)
    return device


def _lookups(platform: Platform) -> Coalescer[str, DeviceRef | None]:
    # a thousand devices connecting at once are one query, not a thousand pooled connections
    lookups: Coalescer[str, DeviceRef | None] | None = platform.extras.get(_LOOKUPS)
    if lookups is None:
        lookups = Coalescer(lambda tokens: _look_up(platform, tokens), LOOKUPS_PER_QUERY)
        platform.extras[_LOOKUPS] = lookups
    return lookups


async def _look_up(platform: Platform, tokens: list[str]) -> list[DeviceRef | None]:
    digests = {token: secret_digest(token) for token in tokens}
    async with platform.db.read_session() as session:
        rows = (
            await session.execute(
                select(
                    DirectoryDevice.token_hash,
                    DirectoryDevice.id,
                    DirectoryDevice.name,
                    DirectoryDevice.profile_id,
                    DirectoryDevice.gateway,
                ).where(
                    DirectoryDevice.token_hash.in_(set(digests.values())),
                    DirectoryDevice.active.is_(True),
                )
            )
        ).all()
    found = {
        row.token_hash: DeviceRef(row.id, row.name, row.profile_id, bool(row.gateway))
        for row in rows
    }
    return [found.get(digests[token]) for token in tokens]


async def _apply_device(session: AsyncSession, event: Event) -> None:
    state = event.payload["state"]
    row = await session.get(DirectoryDevice, event.entity_id)
    if row is None:
        row = DirectoryDevice(id=event.entity_id, token_hash=None)
        session.add(row)
    row.name = state["name"]
    row.type = state["type"]
    row.gateway = (state.get("extra") or {}).get("gateway") is True
    profile_id = state.get("profile_id")
    # a profile's own changes reach its devices through on_profile_event
    if profile_id != row.profile_id:
        row.profile_id = profile_id
        row.inactivity_timeout_ms = await profile_timeout_ms(session, profile_id)
    row.active = bool(state["active"]) and event.type != device_events.DEVICE_DELETED
    if not row.active:
        row.token_hash = None


async def _apply_credentials(session: AsyncSession, event: Event) -> None:
    token_hash = event.payload["token_hash"]
    if token_hash is not None:
        # a token moves only between devices through a revocation first, but events of two
        # devices may arrive out of order: the newest holder keeps it
        await session.execute(
            update(DirectoryDevice)
            .where(DirectoryDevice.token_hash == token_hash)
            .values(token_hash=None)
        )
    row = await session.get(DirectoryDevice, event.entity_id)
    if row is None:
        # credentials are set before the device's creation event is published
        row = DirectoryDevice(id=event.entity_id, name="", type="generic", active=True)
        session.add(row)
    row.token_hash = token_hash


async def on_device_event(event: Event, session: AsyncSession) -> None:
    # after the commit: a lookup racing this transaction must not re-remember the old state
    sa_event.listen(session.sync_session, "after_commit", _forget_tokens, once=True)
    if event.entity_type == device_events.PROFILE_ENTITY:
        await on_profile_event(event, session)
    elif event.type == device_events.CREDENTIALS_CHANGED:
        await _apply_credentials(session, event)
    else:
        await _apply_device(session, event)
    await session.flush()
