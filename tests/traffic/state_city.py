"""A small corridor for the state tests: three 1 km arterial segments A -> B -> C, two lanes,
free flow 50 km/h, one loop station per segment at 600 m whose device is registered through
the API. The network rows are written directly until the network part's import API lands in
this branch (it is the network part's to test); everything else goes through HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from roadwatch.traffic.models import Detector, Road, Segment
from tests.factories.devices import create_device
from tests.fixtures.app import RunningApp

MIN = 60_000
SEGMENTS = ("A", "B", "C")


@dataclass
class Corridor:
    # segment id -> the registered device (id, access_token)
    devices: dict[str, dict[str, Any]]

    def device_id(self, segment: str) -> str:
        return str(self.devices[segment]["id"])


async def build_corridor(
    running: RunningApp, admin: dict[str, str], kinds: dict[str, str] | None = None
) -> Corridor:
    kinds = kinds or {"A": "dual_loop", "B": "single_loop", "C": "dual_loop"}
    devices = {s: await create_device(running.client, admin) for s in SEGMENTS}
    async with running.platform.db.session() as session:
        session.add(Road(id="R", name="Corridor Road", road_class="arterial"))
        for i, s in enumerate(SEGMENTS):
            session.add(
                Segment(
                    id=s,
                    road_id="R",
                    name=f"Corridor {s}",
                    direction="east",
                    from_node=f"n{i}",
                    to_node=f"n{i + 1}",
                    geometry=[[12.0 + i * 0.0134, 48.0], [12.0 + (i + 1) * 0.0134, 48.0]],
                    length_m=1000.0,
                    lanes=2,
                    speed_limit_kmh=50.0,
                    free_flow_kmh=50.0,
                    capacity_vphpl=1800.0,
                    road_class="arterial",
                    status="open",
                    upstream=[SEGMENTS[i - 1]] if i > 0 else [],
                    downstream=[SEGMENTS[i + 1]] if i < len(SEGMENTS) - 1 else [],
                )
            )
            session.add(
                Detector(
                    device_id=devices[s]["id"],
                    name=f"loop-{s}",
                    kind=kinds[s],
                    segment_id=s,
                    lane=None,
                    offset_m=600.0,
                    lanes=2,
                )
            )
        await session.commit()
    return Corridor(devices)


async def send(
    running: RunningApp,
    corridor: Corridor,
    segment: str,
    readings: list[tuple[int, dict[str, Any]]],
) -> None:
    """Readings of one station: (end ts, values) as a ThingsBoard array."""
    token = corridor.devices[segment]["access_token"]
    body = [{"ts": ts, "values": values} for ts, values in readings]
    response = await running.client.post(f"/api/v1/{token}/telemetry", json=body)
    assert response.status_code == 200, response.text
