"""Bulk provisioning: thousands of devices in one all-or-nothing transaction.

Every row is checked first (its fields, duplicates within the request, names and tokens
already in the registry) and every problem is reported at once; only a request without any
is written, with set-based queries and one insert per table instead of one per device.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.devices import events
from roadwatch.devices.repository import DeviceRepository, ProfileRepository
from roadwatch.devices.schemas import MAX_BULK_DEVICES, DeviceCreate
from roadwatch.devices.service import token_digest
from roadwatch.platform.db import utcnow
from roadwatch.platform.errors import Conflict, InvalidInput
from roadwatch.platform.events import Event
from roadwatch.platform.events.outbox import publish_many

# the report's detail quotes this many problems; `errors` lists all of them
_QUOTED = 5
_TIMESTAMP = TypeAdapter(datetime)


@dataclass(frozen=True, slots=True)
class RowError:
    # 1-based among the devices of the request (a CSV's header is not counted)
    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass(frozen=True, slots=True)
class Provisioned:
    id: str
    name: str
    access_token: str


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "row"


def _new_token() -> str:
    # as DeviceService does: 20 characters like ThingsBoard's, from 120 random bits
    return secrets.token_urlsafe(15)


class BulkProvisioning:
    def __init__(self, session: AsyncSession, actor: str) -> None:
        self.session = session
        self.repo = DeviceRepository(session)
        self.actor = actor

    async def provision(
        self,
        rows: Sequence[Any],
        *,
        found: Sequence[RowError] = (),
        field_names: Mapping[str, str] | None = None,
        numbering: str = "rows count the devices of the list from 1",
    ) -> list[Provisioned]:
        """Create every device of `rows` (each in DeviceCreate's shape) or none of them.

        `found` are problems the caller's parser already saw; `field_names` renames
        DeviceCreate's fields in the report to what the caller sent (a CSV's columns);
        `numbering` tells the reader of a report what the row numbers count.
        """
        if not rows:
            raise InvalidInput("devices: give at least one device", field="devices")
        if len(rows) > MAX_BULK_DEVICES:
            raise InvalidInput(
                f"devices: at most {MAX_BULK_DEVICES} per request, {len(rows)} given",
                field="devices",
            )
        errors = list(found)
        unreadable = {e.row for e in found}
        valid: list[tuple[int, DeviceCreate]] = []
        for number, raw in enumerate(rows, start=1):
            if number in unreadable:
                continue
            try:
                valid.append((number, DeviceCreate.model_validate(raw)))
            except ValidationError as exc:
                errors += [RowError(number, _field(e["loc"]), e["msg"]) for e in exc.errors()]
        errors += self._duplicates(valid)
        errors += await self._taken(valid)
        if errors:
            self._reject(errors, len(rows), field_names or {}, numbering)
        return await self._create([data for _, data in valid])

    @staticmethod
    def _duplicates(valid: list[tuple[int, DeviceCreate]]) -> list[RowError]:
        errors: list[RowError] = []
        first_name: dict[str, int] = {}
        first_token: dict[str, int] = {}
        for number, data in valid:
            seen = first_name.setdefault(data.name, number)
            if seen != number:
                errors.append(RowError(number, "name", f"{data.name!r} is also on row {seen}"))
            if data.access_token is not None:
                seen = first_token.setdefault(data.access_token, number)
                if seen != number:
                    errors.append(
                        RowError(number, "access_token", f"the same token is on row {seen}")
                    )
        return errors

    async def _taken(self, valid: list[tuple[int, DeviceCreate]]) -> list[RowError]:
        names = await self.repo.names_taken({data.name for _, data in valid})
        # generated tokens carry 120 random bits; the unique index is their only check
        given: dict[str, int] = {}
        for number, data in valid:
            if data.access_token is not None:
                given.setdefault(token_digest(data.access_token), number)
        held = await self.repo.token_hashes_taken(given)
        errors = [
            RowError(number, "name", f"a device named {data.name!r} already exists")
            for number, data in valid
            if data.name in names
        ]
        errors += [
            RowError(number, "access_token", "another device has this token")
            for digest, number in given.items()
            if digest in held
        ]
        wanted = {data.profile_id for _, data in valid if data.profile_id is not None}
        profiles = await ProfileRepository(self.session).active_ids(wanted)
        errors += [
            RowError(number, "profile_id", f"no device profile {data.profile_id}")
            for number, data in valid
            if data.profile_id is not None and data.profile_id not in profiles
        ]
        return errors

    @staticmethod
    def _reject(
        errors: list[RowError], total: int, field_names: Mapping[str, str], numbering: str
    ) -> None:
        errors = sorted(
            (RowError(e.row, field_names.get(e.field, e.field), e.message) for e in errors),
            key=lambda e: e.row,
        )
        bad_rows = len({e.row for e in errors})
        quoted = "; ".join(f"row {e.row} {e.field}: {e.message}" for e in errors[:_QUOTED])
        more = f" (and {len(errors) - _QUOTED} more)" if len(errors) > _QUOTED else ""
        raise InvalidInput(
            f"{bad_rows} of {total} rows are wrong, nothing was created ({numbering}): "
            f"{quoted}{more}",
            errors=[e.as_dict() for e in errors],
        )

    async def _create(self, devices: list[DeviceCreate]) -> list[Provisioned]:
        now = utcnow()
        stamp = _TIMESTAMP.dump_python(now, mode="json")
        rows: list[dict[str, Any]] = []
        provisioned: list[Provisioned] = []
        published: list[Event] = []
        for data in devices:
            device_id = str(uuid.uuid4())
            token = data.access_token or _new_token()
            digest = token_digest(token)
            location = data.location.model_dump() if data.location else None
            rows.append(
                {
                    "id": device_id,
                    "name": data.name,
                    "type": data.type.value,
                    "label": data.label,
                    "lon": location["lon"] if location else None,
                    "lat": location["lat"] if location else None,
                    "extra": data.extra,
                    "profile_id": data.profile_id,
                    "token_hash": digest,
                }
            )
            # the state DeviceRead gives, built by hand: a pydantic round trip per device
            # would cost more than the inserts
            state = {
                "id": device_id,
                "name": data.name,
                "type": data.type.value,
                "label": data.label,
                "location": location,
                "extra": data.extra,
                "profile_id": data.profile_id,
                "active": True,
                "has_credentials": True,
                "created_at": stamp,
                "updated_at": stamp,
            }
            # the same pair, in the same order, as a device created on its own
            published.append(events.credentials_event(device_id, digest, self.actor, state))
            published.append(
                events.device_event(events.DEVICE_CREATED, device_id, state, self.actor)
            )
            provisioned.append(Provisioned(device_id, data.name, token))
        try:
            await self.repo.insert_many(rows, now)
        except sa_exc.IntegrityError:
            # another request took one of the names or tokens since they were checked
            raise Conflict(
                "a name or token of this request was taken meanwhile; nothing was created, "
                "send it again to see which"
            ) from None
        await publish_many(self.session, published)
        return provisioned


def json_rows(body: bytes) -> list[Any]:
    """The rows of a JSON request, `{"devices": [...]}`, each still to be validated."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body: malformed JSON ({exc})", field="body") from None
    if not isinstance(data, dict) or not isinstance(data.get("devices"), list):
        raise InvalidInput('body: expected {"devices": [...]}', field="devices")
    unknown = sorted(set(data) - {"devices"})
    if unknown:
        raise InvalidInput(f"body: unknown field(s) {', '.join(unknown)}", field=unknown[0])
    rows: list[Any] = data["devices"]
    return rows
