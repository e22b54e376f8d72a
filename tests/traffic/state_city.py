"""A small corridor for the state tests, built through the traffic API: three 1 km arterial
segments A -> B -> C, two lanes, free flow 50 km/h, capacity 1800 veh/h/lane, one loop station
per segment at 600 m whose device is registered with the device registry and placed on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    client = running.client
    response = await client.post(
        "/api/v1/traffic/roads",
        json={"id": "R", "name": "Corridor Road", "road_class": "arterial"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    for i, s in enumerate(SEGMENTS):
        response = await client.post(
            "/api/v1/traffic/segments",
            json={
                "id": s,
                "road_id": "R",
                "name": f"Corridor {s}",
                "direction": "east",
                "from_node": f"n{i}",
                "to_node": f"n{i + 1}",
                "geometry": [[12.0 + i * 0.0134, 48.0], [12.0 + (i + 1) * 0.0134, 48.0]],
                "length_m": 1000.0,
                "lanes": 2,
                "speed_limit_kmh": 50.0,
                "free_flow_kmh": 50.0,
                "capacity_vphpl": 1800.0,
                "road_class": "arterial",
            },
            headers=admin,
        )
        assert response.status_code == 201, response.text
    devices = {s: await create_device(client, admin) for s in SEGMENTS}
    for s in SEGMENTS:
        response = await client.put(
            f"/api/v1/traffic/detectors/{devices[s]['id']}",
            json={"segment_id": s, "kind": kinds[s], "offset_m": 600.0, "lanes": 2},
            headers=admin,
        )
        assert response.status_code in (200, 201), response.text
    # the topology the state pipeline uses, as the network derived it from the nodes
    response = await client.get("/api/v1/traffic/segments/B", headers=admin)
    assert (response.json()["upstream"], response.json()["downstream"]) == (["A"], ["C"])
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
