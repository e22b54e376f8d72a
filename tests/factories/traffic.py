"""Road networks, segments and patrol units made through the traffic API."""

from __future__ import annotations

from typing import Any

import httpx

from roadwatch.simulation.city import build_city, to_geojson

TRAFFIC = "/api/v1/traffic"


def city_geojson(prefix: str = "sim") -> dict[str, Any]:
    """The simulator's demo city as `roadwatch simulate --export-network` writes it."""
    network = build_city()
    names = {site.id: f"{prefix}-{site.id}" for site in network.detectors}
    return to_geojson(network, names)


async def import_network(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(f"{TRAFFIC}/network/import", json=body, headers=admin)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def create_road(
    client: httpx.AsyncClient, admin: dict[str, str], road_id: str = "main", **fields: Any
) -> dict[str, Any]:
    body = {"id": road_id, "name": "Main Street", "road_class": "arterial", **fields}
    response = await client.post(f"{TRAFFIC}/roads", json=body, headers=admin)
    assert response.status_code == 201, response.text
    road: dict[str, Any] = response.json()
    return road


def line(lon0: float, lat0: float, lon1: float, lat1: float) -> list[list[float]]:
    return [[lon0, lat0], [lon1, lat1]]


async def create_segment(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    segment_id: str,
    from_node: str,
    to_node: str,
    road_id: str = "main",
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "id": segment_id,
        "road_id": road_id,
        "from_node": from_node,
        "to_node": to_node,
        "geometry": line(12.0, 48.0, 12.0, 48.01),
        "lanes": 2,
        "speed_limit_kmh": 50,
        **fields,
    }
    response = await client.post(f"{TRAFFIC}/segments", json=body, headers=admin)
    assert response.status_code == 201, response.text
    segment: dict[str, Any] = response.json()
    return segment


async def create_patrol(
    client: httpx.AsyncClient, admin: dict[str, str], call_sign: str, **fields: Any
) -> dict[str, Any]:
    body = {"call_sign": call_sign, "vehicle": "VW Passat", "officers": ["Ann", "Bo"], **fields}
    response = await client.post(f"{TRAFFIC}/patrols", json=body, headers=admin)
    assert response.status_code == 201, response.text
    unit: dict[str, Any] = response.json()
    return unit
