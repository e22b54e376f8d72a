"""What telemetry enforces of a device's profile: valid ranges of numeric keys, the device
API protocols allowed, the inactivity timeout (see status.py).

Kept in our own table from the devices service's events. Every message needs its device's
rules, so each process holds them for a few seconds: a profile change takes effect within
RULES_TTL_S everywhere, without a query per message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.devices import events as device_events
from roadwatch.platform.errors import Forbidden
from roadwatch.platform.events import Event
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry.models import DirectoryDevice, DirectoryProfile
from roadwatch.telemetry.points import InvalidPayload, Point

RULES_TTL_S = 5.0
ALL_PROTOCOLS = frozenset({"http", "mqtt"})
_CACHE = "telemetry.profile-rules"


class ValueOutOfRange(InvalidPayload):
    title = "Value outside the profile's range"
    kind = "value-out-of-range"


class ProtocolNotAllowed(Forbidden):
    kind = "protocol-not-allowed"


@dataclass(frozen=True, slots=True)
class ProfileRules:
    name: str
    ranges: dict[str, tuple[float | None, float | None]]
    protocols: frozenset[str]

    def check_protocol(self, protocol: str) -> None:
        if protocol not in self.protocols:
            raise ProtocolNotAllowed(
                f"device profile {self.name!r} allows only {', '.join(sorted(self.protocols))}"
            )

    def check(self, points: list[Point]) -> None:
        """Raises ValueOutOfRange naming the first point outside its key's range."""
        if not self.ranges:
            return
        ranges = self.ranges
        for point in points:
            bounds = ranges.get(point.key)
            if bounds is None:
                continue
            value = point.value
            kind = type(value)
            if kind is not int and kind is not float:
                raise ValueOutOfRange(
                    f"{point.key}: expected a number (device profile {self.name!r} gives "
                    f"it a range), got {kind.__name__}",
                    key=point.key,
                )
            low, high = bounds
            if (low is not None and value < low) or (high is not None and value > high):  # type: ignore[operator]
                shown = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
                raise ValueOutOfRange(
                    f"{point.key}: {value} at ts {point.ts} is outside {shown}, the range "
                    f"device profile {self.name!r} allows",
                    key=point.key,
                    ts=point.ts,
                )


NO_PROFILE = ProfileRules("", {}, ALL_PROTOCOLS)


def _rules(row: DirectoryProfile) -> ProfileRules:
    return ProfileRules(
        row.name,
        {key: (bounds[0], bounds[1]) for key, bounds in row.ranges.items()},
        frozenset(row.protocols) if row.protocols else ALL_PROTOCOLS,
    )


async def rules_for(platform: Platform, profile_id: str | None) -> ProfileRules:
    if profile_id is None:
        return NO_PROFILE
    cache: dict[str, tuple[float, ProfileRules]] = platform.extras.setdefault(_CACHE, {})
    now = time.monotonic()
    held = cache.get(profile_id)
    if held is not None and now - held[0] < RULES_TTL_S:
        return held[1]
    async with platform.db.read_session() as session:
        row = await session.get(DirectoryProfile, profile_id)
    if row is None:
        # its event is still on the way: not remembered, so it applies as soon as it lands
        return NO_PROFILE
    rules = _rules(row) if row.active else NO_PROFILE
    cache[profile_id] = (now, rules)
    return rules


async def on_profile_event(event: Event, session: AsyncSession) -> None:
    state = event.payload["state"]
    row = await session.get(DirectoryProfile, event.entity_id)
    if row is None:
        row = DirectoryProfile(id=event.entity_id)
        session.add(row)
    row.name = state["name"]
    row.ranges = {
        k["key"]: [k.get("min"), k.get("max")]
        for k in state.get("telemetry_keys", [])
        if k.get("min") is not None or k.get("max") is not None
    }
    row.protocols = list(state.get("transport", {}).get("protocols", sorted(ALL_PROTOCOLS)))
    timeout_s = state.get("inactivity_timeout_s")
    row.inactivity_timeout_ms = timeout_s * 1000 if timeout_s is not None else None
    row.active = bool(state.get("active", True)) and event.type != device_events.PROFILE_DELETED
    await session.execute(
        update(DirectoryDevice)
        .where(DirectoryDevice.profile_id == event.entity_id)
        .values(inactivity_timeout_ms=row.inactivity_timeout_ms)
    )


async def profile_timeout_ms(session: AsyncSession, profile_id: str | None) -> int | None:
    if profile_id is None:
        return None
    row = await session.get(DirectoryProfile, profile_id)
    return row.inactivity_timeout_ms if row is not None else None
