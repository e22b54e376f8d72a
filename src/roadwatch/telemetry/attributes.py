"""Device attributes in ThingsBoard's three scopes: `client` (reported by the device), `shared`
(set by the platform and pushed to the device), `server` (the platform's own, never shown to
the device). Every change is kept in the history with who made it; a value sent again
unchanged only refreshes `updated_ts`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.platform.errors import DomainError, NotFound
from roadwatch.platform.events import Event, new_event, publish
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry.models import Attribute, AttributeChange, DirectoryDevice
from roadwatch.telemetry.points import INT64, MAX_KEY_LENGTH, MAX_STRING_LENGTH, Value, decode
from roadwatch.telemetry.store import COLUMNS, columns_of, value_of
from roadwatch.telemetry.wakeup import wakeup_for

ATTRIBUTES_UPDATED = "telemetry.attributes.updated"
ATTRIBUTES_DELETED = "telemetry.attributes.deleted"
MAX_KEYS = 1000


class Scope(StrEnum):
    CLIENT = "client"
    SHARED = "shared"
    SERVER = "server"


class InvalidAttributes(DomainError):
    # ThingsBoard answers 400 to attributes it cannot take, and devices expect that
    status = 400
    title = "Invalid attributes"
    kind = "invalid-attributes"


@dataclass(frozen=True, slots=True)
class AttributeValue:
    key: str
    value: Value
    updated_ts: int


@dataclass(frozen=True, slots=True)
class SharedUpdate:
    """Shared-attribute changes as the device is told of them: `{k: v, "deleted": [...]}`."""

    last_id: int
    values: dict[str, Value]
    deleted: list[str]

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(self.values)
        if self.deleted:
            body["deleted"] = self.deleted
        return body


# -- input ------------------------------------------------------------------------------------


def _value(key: str, value: Any) -> Value:
    if value is None:
        raise InvalidAttributes(f"{key}: null is not a value (delete the attribute instead)")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidAttributes(f"{key}: not a finite number")
    if isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
        raise InvalidAttributes(f"{key}: integer outside the 64-bit range")
    if isinstance(value, str) and len(value) > MAX_STRING_LENGTH:
        raise InvalidAttributes(f"{key}: string longer than {MAX_STRING_LENGTH}")
    if not isinstance(value, bool | int | float | str | dict | list):
        raise InvalidAttributes(f"{key}: values of type {type(value).__name__} are not supported")
    return value


def attributes_from(data: Any) -> dict[str, Value]:
    """The attributes of a `{key: value}` object, checked as telemetry values are."""
    if not isinstance(data, dict) or not data:
        raise InvalidAttributes("expected a non-empty JSON object of key: value")
    if len(data) > MAX_KEYS:
        raise InvalidAttributes(f"at most {MAX_KEYS} attributes at once")
    for key in data:
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidAttributes(f"keys must have 1 to {MAX_KEY_LENGTH} characters")
    return {key: _value(key, value) for key, value in data.items()}


def parse_attributes(body: bytes) -> dict[str, Value]:
    return attributes_from(decode(body))


def parse_key_list(raw: str | None) -> list[str] | None:
    """`a,b,c` as keys, None when absent (all keys)."""
    if raw is None:
        return None
    keys = list(dict.fromkeys(k.strip() for k in raw.split(",") if k.strip()))
    if any(len(k) > MAX_KEY_LENGTH for k in keys):
        raise InvalidAttributes(f"keys must have 1 to {MAX_KEY_LENGTH} characters")
    return keys


# -- writing ----------------------------------------------------------------------------------


def _same(a: Value, b: Value) -> bool:
    # True == 1 in Python, not for a device
    return type(a) is type(b) and a == b


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def device_exists(session: AsyncSession, device_id: str) -> bool:
    return await session.get(DirectoryDevice, device_id) is not None


async def require_device(session: AsyncSession, device_id: str) -> None:
    if not await device_exists(session, device_id):
        raise NotFound(f"device {device_id} not found")


async def write_attributes(
    session: AsyncSession,
    device_id: str,
    scope: Scope,
    values: dict[str, Value],
    actor: str,
    now_ms: int,
) -> dict[str, Value]:
    """Store the attributes; returns those whose value changed (each now in the history)."""
    rows = await session.execute(
        select(Attribute).where(
            Attribute.device_id == device_id,
            Attribute.scope == scope.value,
            Attribute.key.in_(list(values)),
        )
    )
    before = {row.key: value_of(row) for row in rows.scalars()}
    changed = {k: v for k, v in values.items() if k not in before or not _same(before[k], v)}
    insert = _insert(session)
    statement = insert(Attribute)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["device_id", "scope", "key"],
            set_={c: statement.excluded[c] for c in ("updated_ts", *COLUMNS)},
        ),
        [
            {
                "device_id": device_id,
                "scope": scope.value,
                "key": key,
                "updated_ts": now_ms,
                **dict(zip(COLUMNS, columns_of(value), strict=True)),
            }
            for key, value in values.items()
        ],
    )
    if changed:
        session.add_all(
            AttributeChange(
                device_id=device_id,
                scope=scope.value,
                key=key,
                changed_ts=now_ms,
                deleted=False,
                actor=actor,
                **dict(zip(COLUMNS, columns_of(value), strict=True)),
            )
            for key, value in changed.items()
        )
        publish(session, _updated(device_id, scope, changed, actor))
    await session.flush()
    return changed


async def remove_attributes(
    session: AsyncSession, device_id: str, scope: Scope, keys: list[str], actor: str, now_ms: int
) -> list[str]:
    """Delete the attributes; returns the keys that existed (each now in the history)."""
    gone = list(
        (
            await session.scalars(
                delete(Attribute)
                .where(
                    Attribute.device_id == device_id,
                    Attribute.scope == scope.value,
                    Attribute.key.in_(keys),
                )
                .returning(Attribute.key)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    if gone:
        session.add_all(
            AttributeChange(
                device_id=device_id,
                scope=scope.value,
                key=key,
                changed_ts=now_ms,
                deleted=True,
                actor=actor,
            )
            for key in gone
        )
        publish(
            session,
            new_event(
                ATTRIBUTES_DELETED,
                "device",
                device_id,
                {"scope": scope.value, "keys": sorted(gone)},
                actor=actor,
            ),
        )
    await session.flush()
    return sorted(gone)


def _updated(device_id: str, scope: Scope, changed: dict[str, Value], actor: str) -> Event:
    return new_event(
        ATTRIBUTES_UPDATED, "device", device_id, {"scope": scope.value, "values": changed}, actor
    )


async def set_attributes(
    platform: Platform,
    device_id: str,
    scope: Scope,
    values: dict[str, Value],
    actor: str,
    now_ms: int,
) -> dict[str, Value]:
    """Set attributes in their own transaction; a shared change wakes whoever waits for it."""
    async with platform.db.session() as session:
        await require_device(session, device_id)
        changed = await write_attributes(session, device_id, scope, values, actor, now_ms)
    if changed and scope is Scope.SHARED:
        wakeup_for(platform).notify()
    return changed


async def delete_attributes(
    platform: Platform, device_id: str, scope: Scope, keys: list[str], actor: str, now_ms: int
) -> list[str]:
    async with platform.db.session() as session:
        await require_device(session, device_id)
        gone = await remove_attributes(session, device_id, scope, keys, actor, now_ms)
    if gone and scope is Scope.SHARED:
        wakeup_for(platform).notify()
    return gone


# -- reading ----------------------------------------------------------------------------------


async def read_attributes(
    session: AsyncSession, device_id: str, scope: Scope, keys: Sequence[str] | None = None
) -> list[AttributeValue]:
    """The attributes of one scope, by key; all of them when `keys` is None."""
    statement = select(Attribute).where(
        Attribute.device_id == device_id, Attribute.scope == scope.value
    )
    if keys is not None:
        if not keys:
            return []
        statement = statement.where(Attribute.key.in_(list(keys)))
    rows = await session.scalars(statement.order_by(Attribute.key))
    return [AttributeValue(r.key, value_of(r), r.updated_ts) for r in rows]


async def values_by_scope(
    session: AsyncSession, device_id: str, wanted: dict[Scope, list[str] | None]
) -> dict[str, dict[str, Value]]:
    """`{"client": {...}, "shared": {...}}` for the scopes asked for (None: every key)."""
    return {
        scope.value: {
            a.key: a.value for a in await read_attributes(session, device_id, scope, keys)
        }
        for scope, keys in wanted.items()
    }


def history_statement(device_id: str, scope: Scope, key: str) -> Select[Any]:
    return select(AttributeChange).where(
        AttributeChange.device_id == device_id,
        AttributeChange.scope == scope.value,
        AttributeChange.key == key,
    )


def change_value(row: AttributeChange) -> Value | None:
    return None if row.deleted else value_of(row)


# -- shared-attribute updates for the device --------------------------------------------------


async def last_change_id(session: AsyncSession, device_id: str | None = None) -> int:
    """The newest history id (of the device's shared attributes, if given); 0 if none."""
    statement = select(func.max(AttributeChange.id))
    if device_id is not None:
        statement = statement.where(
            AttributeChange.device_id == device_id, AttributeChange.scope == Scope.SHARED.value
        )
    return int(await session.scalar(statement) or 0)


def merge_changes(rows: Sequence[AttributeChange]) -> SharedUpdate | None:
    """One update from changes in id order: the last change of each key wins."""
    if not rows:
        return None
    values: dict[str, Value] = {}
    deleted: dict[str, None] = {}
    for row in rows:
        if row.deleted:
            values.pop(row.key, None)
            deleted[row.key] = None
        else:
            values[row.key] = value_of(row)
            deleted.pop(row.key, None)
    return SharedUpdate(max(r.id for r in rows), values, list(deleted))


async def shared_changes_after(
    session: AsyncSession, device_id: str, after_id: int
) -> SharedUpdate | None:
    rows = await session.scalars(
        select(AttributeChange)
        .where(
            AttributeChange.device_id == device_id,
            AttributeChange.scope == Scope.SHARED.value,
            AttributeChange.id > after_id,
        )
        .order_by(AttributeChange.id)
    )
    return merge_changes(list(rows))


async def wait_for_shared_update(
    platform: Platform, device_id: str, timeout_s: float
) -> SharedUpdate | None:
    """The device's next shared-attribute change(s) from now on, or None after `timeout_s`."""
    async with platform.db.session() as session:
        after = await last_change_id(session, device_id)

    async def check() -> SharedUpdate | None:
        # the primary, not a replica: a change must be seen as soon as it is committed
        async with platform.db.session() as session:
            return await shared_changes_after(session, device_id, after)

    return await wakeup_for(platform).poll(check, timeout_s)
