"""Arranging detection tests: a two-segment stretch of motorway with three loop stations,
and its 1-minute traffic state published as the state pipeline publishes it
(`traffic.state.computed`, through the outbox and the bus)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from roadwatch.platform.auth import Role
from roadwatch.platform.events import Event, new_event, publish
from roadwatch.platform.events.outbox import OutboxRow
from tests.factories.traffic import create_road, create_segment
from tests.fixtures.app import RunningApp

MINUTE = 60_000
# 2026-11-20 06:00 UTC
T0 = 1_795_154_400_000

# A (1000 m) flows into B (1000 m); stations a1 at 200 m and a2 at 800 m on A, b1 at 500 m
# on B: pairs a1>a2 (on A) and a2>b1 (across the node)
A_GEOMETRY = [[12.0, 48.0], [12.0134, 48.0]]
B_GEOMETRY = [[12.0134, 48.0], [12.0268, 48.0]]


async def build_stretch(running: RunningApp) -> None:
    """The stretch through the network API (the detectors need not be placed: the state
    pipeline names its stations in the payload)."""
    admin = running.as_role(Role.ADMINISTRATOR)
    await create_road(running.client, admin, "M1", name="Motorway 1", road_class="motorway")
    for segment_id, geometry, nodes in (
        ("A", A_GEOMETRY, ("n0", "n1")),
        ("B", B_GEOMETRY, ("n1", "n2")),
    ):
        await create_segment(
            running.client,
            admin,
            segment_id,
            *nodes,
            road_id="M1",
            geometry=geometry,
            length_m=1000.0,
            lanes=3,
            speed_limit_kmh=100.0,
        )


def station(
    device_id: str,
    offset_m: float,
    occupancy: float | None,
    speed: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "offset_m": offset_m,
        "flow_vph": 1200.0,
        "occupancy_pct": occupancy,
        "speed_kmh": speed,
        "speed_estimated": False,
        "healthy": True,
        "imputed": False,
        **extra,
    }


def segment(
    segment_id: str, stations: list[dict[str, Any]], up: list[str], down: list[str]
) -> dict[str, Any]:
    return {
        "segment_id": segment_id,
        "road_class": "motorway",
        "lanes": 3,
        "length_m": 1000.0,
        "upstream": up,
        "downstream": down,
        "flow_vph": 1200.0,
        "speed_kmh": None,
        "speed_estimated": False,
        "occupancy_pct": None,
        "density_vpkm": None,
        "los": None,
        "congested": False,
        "travel_time_s": None,
        "tti": None,
        "imputed": False,
        "stations": stations,
    }


Reading = tuple[float | None, float | None]


def interval(
    minute: int,
    a1: Reading,
    a2: Reading,
    b1: Reading = (10.0, 95.0),
    interval_s: int = 60,
) -> dict[str, Any]:
    """The state of minute `minute` (ending at T0 + (minute + 1) min); each station's
    (occupancy %, speed km/h)."""
    end = T0 + (minute + 1) * MINUTE
    return {
        "interval_s": interval_s,
        "start_ts": end - interval_s * 1000,
        "end_ts": end,
        "segments": [
            segment("A", [station("a1", 200, *a1), station("a2", 800, *a2)], [], ["B"]),
            segment("B", [station("b1", 500, *b1)], ["A"], []),
        ],
    }


async def publish_state(running: RunningApp, payload: dict[str, Any]) -> Event:
    event = new_event(
        "traffic.state.computed",
        "traffic_interval",
        f"{payload['interval_s']}:{payload['end_ts']}",
        payload,
    )
    async with running.platform.db.session() as session:
        publish(session, event)
    return event


async def outbox_events(running: RunningApp, prefix: str) -> list[Event]:
    async with running.platform.db.session() as session:
        rows = await session.scalars(
            select(OutboxRow).where(OutboxRow.type.like(f"{prefix}%")).order_by(OutboxRow.seq)
        )
        return [Event.from_json(r.body) for r in rows]


async def until_judged(running: RunningApp, event: Event) -> None:
    """Wait until incident detection has handled `event` (its inbox has the id)."""
    from roadwatch.platform.events.inbox import InboxRow
    from tests.support.waiting import eventually

    async def handled() -> bool:
        async with running.platform.db.session() as session:
            row = await session.get(InboxRow, ("traffic.aid", event.id))
            return row is not None

    await eventually(handled)


async def feed(running: RunningApp, *payloads: dict[str, Any]) -> None:
    """Publish intervals one after another, each judged before the next is sent."""
    for payload in payloads:
        await until_judged(running, await publish_state(running, payload))
