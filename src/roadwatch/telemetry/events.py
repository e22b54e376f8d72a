"""Events the telemetry service publishes: its asynchronous public contract.

One event per stored batch, never one per point; it carries the points themselves
(`[key, ts, value]`), so analytics can keep its rollups without reading our tables.
"""

from __future__ import annotations

from roadwatch.platform.events import Event, new_event
from roadwatch.telemetry.points import Point

BATCH_INGESTED = "telemetry.batch_ingested"


def batch_ingested(device_id: str, points: list[Point], source: str) -> Event:
    return new_event(
        BATCH_INGESTED,
        "device",
        device_id,
        {
            "source": source,
            "count": len(points),
            "min_ts": min(p.ts for p in points),
            "max_ts": max(p.ts for p in points),
            "points": [[p.key, p.ts, p.value] for p in points],
        },
        actor=f"device:{device_id}",
    )
