"""A SUMO network imported through the API (sumolib): edges become directed segments with
lanes, speed (m/s → km/h), length and class; connections become the topology; internal
edges and turnarounds are left out; the geometry lands in WGS 84."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.factories.traffic import TRAFFIC
from tests.fixtures.app import RunningApp

NET = (Path(__file__).parent / "data" / "three_edges.net.xml").read_bytes()
# the same net geo-referenced: UTM zone 33 with its origin moved near 12° E, 48° N
UTM_LOCATION = (
    b'<location netOffset="-276224.08,-5320655.79" convBoundary="0.00,0.00,400.00,0.00" '
    b'origBoundary="11.99,47.99,12.01,48.01" '
    b'projParameter="+proj=utm +zone=33 +ellps=WGS84 +datum=WGS84 +units=m +no_defs"/>'
)


def georeferenced() -> bytes:
    start = NET.index(b"<location")
    end = NET.index(b"/>", start) + 2
    return NET[:start] + UTM_LOCATION + NET[end:]


async def segments(running: RunningApp, admin: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = await running.client.get(f"{TRAFFIC}/segments", headers=admin)
    return {s["id"]: s for s in response.json()["items"]}


async def test_a_sumo_network_imports_as_segments_with_topology_around_an_origin(
    running: RunningApp, admin: dict[str, str]
) -> None:
    response = await running.client.post(
        f"{TRAFFIC}/network/import?origin_lon=12&origin_lat=48",
        content=NET,
        headers={**admin, "Content-Type": "application/xml"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["format"] == "sumo"
    assert report["created"] == {"roads": 2, "segments": 3, "detectors": 0, "cameras": 0}

    found = await segments(running, admin)
    assert sorted(found) == ["AB", "BA", "BC"]  # the internal edge :B_0 is not a segment
    ab = found["AB"]
    assert ab["road_id"] == "main-street" and ab["road_class"] == "primary"
    assert ab["lanes"] == 2 and ab["length_m"] == 197.5
    assert abs(ab["speed_limit_kmh"] - 50.0) < 0.01
    # connections are the topology; the turnaround onto BA is not a way on
    assert ab["downstream"] == ["BC"] and found["BC"]["upstream"] == ["AB"]
    assert found["BA"]["road_class"] == "local"  # no type, a low priority
    lon, lat = ab["geometry"][0]
    assert abs(lon - 12.0) < 1e-4 and abs(lat - 48.0) < 1e-4  # x east, y north of the origin
    assert ab["geometry"][1][0] > lon

    # the same file again (as a multipart upload this time) changes nothing
    again = await running.client.post(
        f"{TRAFFIC}/network/import?origin_lon=12&origin_lat=48",
        files={"file": ("city.net.xml", NET, "application/octet-stream")},
        headers=admin,
    )
    assert again.status_code == 200, again.text
    assert again.json()["created"]["segments"] == 0
    assert again.json()["updated"]["segments"] == 0


async def test_a_georeferenced_sumo_network_is_converted_with_its_projection(
    running: RunningApp, admin: dict[str, str]
) -> None:
    response = await running.client.post(
        f"{TRAFFIC}/network/import",
        files={"file": ("utm.net.xml", georeferenced(), "application/xml")},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    ab = (await segments(running, admin))["AB"]
    lon, lat = ab["geometry"][0]
    assert abs(lon - 12.0) < 0.001 and abs(lat - 48.0) < 0.001


async def test_a_file_that_is_not_a_sumo_network_is_a_422(
    running: RunningApp, admin: dict[str, str]
) -> None:
    response = await running.client.post(
        f"{TRAFFIC}/network/import",
        content=b"<net><edge id='x'",
        headers={**admin, "Content-Type": "application/xml"},
    )
    assert response.status_code == 422
    assert "not a readable SUMO network" in response.json()["detail"]
    no_file = await running.client.post(
        f"{TRAFFIC}/network/import", files={"other": ("a.txt", b"x")}, headers=admin
    )
    assert no_file.status_code == 422 and "file" in no_file.json()["detail"]
