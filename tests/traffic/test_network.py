"""The road network through the API: the simulator's city imported as GeoJSON (idempotent,
exported back the same), roads and segments edited one by one with their topology kept
consistent both ways, and an import refused whole with a report naming each feature."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from roadwatch.platform.events.outbox import OutboxRow
from tests.factories.traffic import (
    TRAFFIC,
    city_geojson,
    create_road,
    create_segment,
    import_network,
    line,
)
from tests.fixtures.app import RunningApp


async def all_segments(running: RunningApp, admin: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = await running.client.get(f"{TRAFFIC}/segments?limit=1000", headers=admin)
    assert response.status_code == 200, response.text
    return {s["id"]: s for s in response.json()["items"]}


async def test_the_simulators_city_imports_with_its_topology_and_again_changes_nothing(
    running: RunningApp, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    city = city_geojson()
    report = await import_network(running.client, admin, city)
    assert report["format"] == "geojson"
    assert report["created"] == {"roads": 5, "segments": 40, "detectors": 0, "cameras": 0}
    # no device of those names exists yet: they wait for the registry
    assert len(report["pending_detectors"]) == 40

    segments = await all_segments(running, analyst)
    assert len(segments) == 40
    n3 = segments["N3-N2"]
    assert n3["road_id"] == "north-avenue"
    assert n3["name"] == "North Avenue"
    assert n3["lanes"] == 2 and n3["speed_limit_kmh"] == 70 and n3["free_flow_kmh"] == 70
    assert n3["length_m"] == 1500.0 and n3["capacity_vphpl"] == 1800
    assert n3["downstream"] == ["N2-N1", "N2-NE", "N2-NW"]
    # stored both ways: every downstream link is the other segment's upstream link
    for sid, seg in segments.items():
        for down in seg["downstream"]:
            assert sid in segments[down]["upstream"]
        for up in seg["upstream"]:
            assert sid in segments[up]["downstream"]

    again = await import_network(running.client, admin, city)
    assert again["created"] == {"roads": 0, "segments": 0, "detectors": 0, "cameras": 0}
    assert again["updated"] == {"roads": 0, "segments": 0, "detectors": 0, "cameras": 0}
    assert await all_segments(running, analyst) == segments

    # a changed file updates what changed only
    changed = copy.deepcopy(city)
    feature = next(f for f in changed["features"] if f["id"] == "N3-N2")
    feature["properties"]["lanes"] = 3
    third = await import_network(running.client, admin, changed)
    assert third["updated"]["segments"] == 1 and third["created"]["segments"] == 0


async def test_filters_pages_and_the_geojson_export(
    running: RunningApp, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    await import_network(running.client, admin, city_geojson())
    ring = await running.client.get(f"{TRAFFIC}/segments?class=ring&limit=5", headers=analyst)
    body = ring.json()
    assert body["total"] == 16 and len(body["items"]) == 5
    assert {s["road_class"] for s in body["items"]} == {"ring"}
    second = await running.client.get(
        f"{TRAFFIC}/segments?class=ring&limit=5&offset=5&sort=id", headers=analyst
    )
    first = await running.client.get(
        f"{TRAFFIC}/segments?class=ring&limit=5&sort=id", headers=analyst
    )
    assert not {s["id"] for s in first.json()["items"]} & {s["id"] for s in second.json()["items"]}
    north = await running.client.get(f"{TRAFFIC}/segments?road=north-avenue", headers=analyst)
    assert north.json()["total"] == 6

    closed = await running.client.patch(
        f"{TRAFFIC}/segments/N1-C", json={"status": "closed"}, headers=admin
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    only_closed = await running.client.get(f"{TRAFFIC}/segments?status=closed", headers=analyst)
    assert [s["id"] for s in only_closed.json()["items"]] == ["N1-C"]

    roads = await running.client.get(f"{TRAFFIC}/roads?class=ring", headers=analyst)
    assert [r["id"] for r in roads.json()["items"]] == ["ring-road"]

    export = await running.client.get(f"{TRAFFIC}/network.geojson", headers=analyst)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/geo+json")
    features = export.json()["features"]
    assert len([f for f in features if f["properties"]["kind"] == "segment"]) == 40
    # what we export imports again as the same network
    report = await import_network(running.client, admin, export.json())
    assert report["created"]["segments"] == 0 and report["updated"]["segments"] == 0


async def test_a_segment_without_links_gets_them_from_its_nodes_and_its_neighbours_learn_it(
    running: RunningApp, admin: dict[str, str]
) -> None:
    await create_road(running.client, admin)
    await create_segment(running.client, admin, "A-B", "A", "B")
    await create_segment(running.client, admin, "B-A", "B", "A")
    b_c = await create_segment(running.client, admin, "B-C", "B", "C")
    # the U-turn B-A is not a way on from A-B
    assert b_c["upstream"] == ["A-B"]
    segments = await all_segments(running, admin)
    assert segments["A-B"]["downstream"] == ["B-C"]
    assert segments["A-B"]["length_m"] > 1100  # 0.01° of latitude, measured on the sphere

    # explicit links replace derived ones, and the neighbours follow
    changed = await running.client.patch(
        f"{TRAFFIC}/segments/B-C", json={"upstream": []}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["upstream"] == []
    assert (await all_segments(running, admin))["A-B"]["downstream"] == []

    relinked = await running.client.patch(
        f"{TRAFFIC}/segments/A-B", json={"downstream": ["B-C"]}, headers=admin
    )
    assert relinked.json()["downstream"] == ["B-C"]
    assert (await all_segments(running, admin))["B-C"]["upstream"] == ["A-B"]

    deleted = await running.client.delete(f"{TRAFFIC}/segments/B-C", headers=admin)
    assert deleted.status_code == 204
    assert (await all_segments(running, admin))["A-B"]["downstream"] == []

    async with running.platform.db.session() as session:
        types = (await session.scalars(select(OutboxRow.type))).all()
    assert {"traffic.segment.created", "traffic.segment.updated", "traffic.segment.deleted"} <= set(
        types
    )


async def test_every_bad_edit_is_a_4xx_naming_what_is_wrong(
    running: RunningApp, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    client = running.client
    await create_road(client, admin)
    no_road = await client.post(
        f"{TRAFFIC}/segments",
        json={"id": "X", "road_id": "nowhere", "from_node": "a", "to_node": "b",
              "geometry": line(0, 0, 0, 0.01), "lanes": 1, "speed_limit_kmh": 50},
        headers=admin,
    )  # fmt: skip
    assert no_road.status_code == 422
    assert no_road.headers["content-type"] == "application/problem+json"
    assert "road nowhere" in no_road.json()["detail"]

    unknown_link = await client.post(
        f"{TRAFFIC}/segments",
        json={"id": "X", "road_id": "main", "from_node": "a", "to_node": "b",
              "geometry": line(0, 0, 0, 0.01), "lanes": 1, "speed_limit_kmh": 50,
              "downstream": ["ghost"]},
        headers=admin,
    )  # fmt: skip
    assert unknown_link.status_code == 422 and "segment ghost" in unknown_link.json()["detail"]

    await create_segment(client, admin, "A-B", "A", "B")
    again = await client.post(
        f"{TRAFFIC}/segments",
        json={"id": "A-B", "road_id": "main", "from_node": "A", "to_node": "B",
              "geometry": line(0, 0, 0, 0.01), "lanes": 1, "speed_limit_kmh": 50},
        headers=admin,
    )  # fmt: skip
    assert again.status_code == 409

    bad_status = await client.patch(
        f"{TRAFFIC}/segments/A-B", json={"status": "flooded"}, headers=admin
    )
    assert bad_status.status_code == 422 and bad_status.json()["errors"][0]["field"] == "status"
    one_point = await client.patch(
        f"{TRAFFIC}/segments/A-B", json={"geometry": [[0, 0]]}, headers=admin
    )
    assert one_point.status_code == 422
    null_lanes = await client.patch(f"{TRAFFIC}/segments/A-B", json={"lanes": None}, headers=admin)
    assert null_lanes.status_code == 422

    busy_road = await client.delete(f"{TRAFFIC}/roads/main", headers=admin)
    assert busy_road.status_code == 409 and "A-B" in busy_road.json()["detail"]
    assert (await client.get(f"{TRAFFIC}/segments/nope", headers=admin)).status_code == 404
    assert (await client.get(f"{TRAFFIC}/roads/nope", headers=admin)).status_code == 404
    bad_sort = await client.get(f"{TRAFFIC}/segments?sort=colour", headers=admin)
    assert bad_sort.status_code == 422

    # reading is for every staff role; changing the network for administrators
    forbidden = await client.patch(
        f"{TRAFFIC}/segments/A-B", json={"status": "closed"}, headers=analyst
    )
    assert forbidden.status_code == 403
    assert (await client.get(f"{TRAFFIC}/segments", headers=analyst)).status_code == 200


async def test_an_import_with_any_bad_feature_is_refused_whole_naming_each(
    running: RunningApp, admin: dict[str, str]
) -> None:
    city = city_geojson()
    features = city["features"]
    by_id = {f["id"]: f for f in features}
    by_id["N3-N2"]["properties"]["lanes"] = 0
    by_id["E3-E2"]["properties"]["downstream"] = ["E2-NOWHERE"]
    by_id["loop-S3-S2"]["properties"]["offset_m"] = 99_999
    by_id["W3-W2"]["geometry"] = {"type": "Point", "coordinates": [12, 48]}
    response = await running.client.post(f"{TRAFFIC}/network/import", json=city, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = {(e["feature"].split(" ")[-1], e["field"]) for e in response.json()["errors"]}
    assert errors == {
        ("(N3-N2)", "properties.lanes"),
        ("(E3-E2)", "properties.downstream"),
        ("(loop-S3-S2)", "properties.offset_m"),
        ("(W3-W2)", "geometry.type"),
    }
    # nothing of the file was stored
    listed = await running.client.get(f"{TRAFFIC}/segments", headers=admin)
    assert listed.json()["total"] == 0

    not_collection = await running.client.post(
        f"{TRAFFIC}/network/import", json={"type": "Feature"}, headers=admin
    )
    assert not_collection.status_code == 422
    assert "FeatureCollection" in not_collection.json()["detail"]
    not_json = await running.client.post(
        f"{TRAFFIC}/network/import",
        content=b"{oops",
        headers={**admin, "Content-Type": "application/json"},
    )
    assert not_json.status_code == 422
    wrong_type = await running.client.post(
        f"{TRAFFIC}/network/import",
        content=b"a,b\n1,2",
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert wrong_type.status_code == 415
    assert wrong_type.json()["type"].endswith("/unsupported-media-type")
    empty = await running.client.post(
        f"{TRAFFIC}/network/import",
        json={"type": "FeatureCollection", "features": []},
        headers=admin,
    )
    assert empty.status_code == 422
