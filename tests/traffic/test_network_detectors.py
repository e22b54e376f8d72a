"""Detectors and cameras on segments: placed explicitly (PUT by device id), from the
registry's device events (a loop whose `extra` names its segment, as the simulator's
devices do), and from an imported network that names devices not yet registered."""

from __future__ import annotations

import copy
from typing import Any

from tests.factories.devices import create_device
from tests.factories.traffic import (
    TRAFFIC,
    city_geojson,
    create_road,
    create_segment,
    import_network,
)
from tests.fixtures.app import RunningApp
from tests.support.waiting import eventually


async def detector(running: RunningApp, admin: dict[str, str], device_id: str) -> Any:
    response = await running.client.get(f"{TRAFFIC}/detectors/{device_id}", headers=admin)
    return response.json() if response.status_code == 200 else None


async def test_a_detector_is_placed_moved_listed_per_segment_and_removed(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    await create_road(client, admin)
    await create_segment(client, admin, "A-B", "A", "B", length_m=800)
    await create_segment(client, admin, "B-C", "B", "C", length_m=500)
    body = {"segment_id": "A-B", "offset_m": 600, "kind": "single_loop"}
    placed = await client.put(f"{TRAFFIC}/detectors/loop-1", json=body, headers=admin)
    assert placed.status_code == 201, placed.text
    assert placed.json()["lanes"] == 2 and placed.json()["lane"] is None  # across the segment
    lane = {"segment_id": "A-B", "offset_m": 200, "lane": 1}
    assert (await client.put(f"{TRAFFIC}/detectors/loop-2", json=lane, headers=admin)).json()[
        "lanes"
    ] == 1
    on_a_b = await client.get(f"{TRAFFIC}/segments/A-B/detectors", headers=admin)
    # upstream first
    assert [d["device_id"] for d in on_a_b.json()] == ["loop-2", "loop-1"]

    moved = await client.put(
        f"{TRAFFIC}/detectors/loop-1", json={"segment_id": "B-C", "offset_m": 100}, headers=admin
    )
    assert moved.status_code == 200 and moved.json()["segment_id"] == "B-C"
    listed = await client.get(f"{TRAFFIC}/detectors?segment=B-C", headers=admin)
    assert [d["device_id"] for d in listed.json()["items"]] == ["loop-1"]

    # a segment with detectors on it cannot go, nor shrink below them
    busy = await client.delete(f"{TRAFFIC}/segments/B-C", headers=admin)
    assert busy.status_code == 409 and "loop-1" in busy.json()["detail"]
    shrink = await client.patch(f"{TRAFFIC}/segments/B-C", json={"length_m": 50}, headers=admin)
    assert shrink.status_code == 422 and "loop-1" in shrink.json()["detail"]

    assert (await client.delete(f"{TRAFFIC}/detectors/loop-1", headers=admin)).status_code == 204
    assert (await client.get(f"{TRAFFIC}/detectors/loop-1", headers=admin)).status_code == 404
    assert (await client.delete(f"{TRAFFIC}/segments/B-C", headers=admin)).status_code == 204


async def test_placements_that_do_not_fit_are_422_naming_the_field(
    running: RunningApp, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    client = running.client
    await create_road(client, admin)
    await create_segment(client, admin, "A-B", "A", "B", length_m=800)
    cases = [
        ({"segment_id": "nowhere", "offset_m": 1}, "segment_id"),
        ({"segment_id": "A-B", "offset_m": 801}, "offset_m"),
        ({"segment_id": "A-B", "offset_m": 10, "lane": 3}, "lane"),
        ({"segment_id": "A-B", "offset_m": -1}, "offset_m"),
        ({"segment_id": "A-B", "offset_m": 1, "kind": "ouija"}, "kind"),
    ]
    for body, field in cases:
        response = await client.put(f"{TRAFFIC}/detectors/d-1", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == field
    camera = await client.put(
        f"{TRAFFIC}/cameras/cam-1",
        json={"segment_id": "A-B", "offset_m": 900, "heading_deg": 10},
        headers=admin,
    )
    assert camera.status_code == 422 and camera.json()["errors"][0]["field"] == "offset_m"
    heading = await client.put(
        f"{TRAFFIC}/cameras/cam-1",
        json={"segment_id": "A-B", "offset_m": 9, "heading_deg": 360},
        headers=admin,
    )
    assert heading.status_code == 422
    forbidden = await client.put(
        f"{TRAFFIC}/detectors/d-1", json={"segment_id": "A-B", "offset_m": 1}, headers=analyst
    )
    assert forbidden.status_code == 403


async def test_a_camera_is_placed_with_its_viewing_direction(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    await create_road(client, admin)
    await create_segment(client, admin, "A-B", "A", "B", length_m=800)
    body = {"segment_id": "A-B", "offset_m": 400, "heading_deg": 180.5, "name": "Gate cam"}
    placed = await client.put(f"{TRAFFIC}/cameras/cam-1", json=body, headers=admin)
    assert placed.status_code == 201, placed.text
    again = await client.put(f"{TRAFFIC}/cameras/cam-1", json=body, headers=admin)
    assert again.status_code == 200
    listed = await client.get(f"{TRAFFIC}/cameras?segment=A-B", headers=admin)
    assert [(c["device_id"], c["heading_deg"]) for c in listed.json()["items"]] == [
        ("cam-1", 180.5)
    ]
    export = (await client.get(f"{TRAFFIC}/network.geojson", headers=admin)).json()
    cams = [f for f in export["features"] if f["properties"]["kind"] == "camera"]
    assert cams[0]["geometry"]["type"] == "Point"
    # the export, cameras and all, imports again unchanged
    report = await client.post(f"{TRAFFIC}/network/import", json=export, headers=admin)
    assert report.status_code == 200, report.text
    assert report.json()["updated"] == {"roads": 0, "segments": 0, "detectors": 0, "cameras": 0}
    moved = copy.deepcopy(export)
    next(f for f in moved["features"] if f["id"] == "cam-1")["properties"]["heading_deg"] = 90
    report = await client.post(f"{TRAFFIC}/network/import", json=moved, headers=admin)
    assert report.json()["updated"]["cameras"] == 1
    camera = await client.get(f"{TRAFFIC}/cameras/cam-1", headers=admin)
    assert camera.json()["heading_deg"] == 90
    assert (await client.delete(f"{TRAFFIC}/cameras/cam-1", headers=admin)).status_code == 204
    assert (await client.get(f"{TRAFFIC}/cameras/cam-1", headers=admin)).status_code == 404


async def test_a_loop_device_naming_its_segment_is_placed_and_removed_with_the_device(
    running: RunningApp, admin: dict[str, str]
) -> None:
    await import_network(running.client, admin, city_geojson())
    extra = {"segment_id": "N1-C", "offset_m": 600.0, "lanes": 2, "detector_kind": "dual_loop"}
    device = await create_device(running.client, admin, name="loop-x", extra=extra)

    async def placed() -> bool:
        return await detector(running, admin, device["id"]) is not None

    await eventually(placed)
    row = await detector(running, admin, device["id"])
    assert row["segment_id"] == "N1-C" and row["offset_m"] == 600.0
    assert row["kind"] == "dual_loop" and row["name"] == "loop-x"

    deleted = await running.client.delete(f"/api/v1/devices/{device['id']}", headers=admin)
    assert deleted.status_code == 204

    async def removed() -> bool:
        return await detector(running, admin, device["id"]) is None

    await eventually(removed)


async def test_an_import_naming_devices_places_them_whenever_they_register(
    running: RunningApp, admin: dict[str, str]
) -> None:
    # one device exists before the import (without a segment in its extra) ...
    early = await create_device(running.client, admin, name="demo-loop-N1-C", extra={})

    async def known() -> bool:
        report = await running.client.post(
            f"{TRAFFIC}/network/import", json=city_geojson("demo"), headers=admin
        )
        return "demo-loop-N1-C" not in report.json()["pending_detectors"]

    await eventually(known)
    row = await detector(running, admin, early["id"])
    assert row["segment_id"] == "N1-C" and row["offset_m"] == 600.0

    # ... another registers after it: placed then
    late = await create_device(running.client, admin, name="demo-loop-S1-C", extra={})

    async def placed() -> bool:
        return await detector(running, admin, late["id"]) is not None

    await eventually(placed)
    assert (await detector(running, admin, late["id"]))["segment_id"] == "S1-C"
