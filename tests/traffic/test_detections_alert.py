"""Confirmed detections exported as NGSI-LD Alert entities (FIWARE dataModel.Alert)."""

from __future__ import annotations

from typing import Any

import pytest

from roadwatch.platform.auth import Role
from tests.fixtures.app import RunningApp
from tests.traffic.detections_state import build_stretch, feed, interval

ALERTS = "/api/v1/traffic/ngsi-ld/Alert"
FREE = (10.0, 95.0)


async def alerts(running: RunningApp, **params: Any) -> list[dict[str, Any]]:
    response = await running.client.get(
        ALERTS, params=params, headers=running.as_role(Role.AUDITOR)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    body: list[dict[str, Any]] = response.json()
    return body


async def test_incidents_in_progress_are_alerts(running: RunningApp) -> None:
    await build_stretch(running)
    await feed(
        running,
        interval(0, FREE, FREE),
        interval(1, (25.0, 50.0), (8.0, 95.0)),
    )
    # tentative only: no incident in progress yet, but listed on request
    assert await alerts(running) == []
    tentative = await alerts(running, phase="tentative", options="keyValues")
    assert {a["severity"] for a in tentative} == {"informational"}

    await feed(running, interval(2, (30.0, 40.0), (6.0, 95.0)))
    found = {a["data"]["value"]["algorithm"]: a for a in await alerts(running)}
    assert set(found) == {"california7", "california8"}
    c7 = found["california7"]
    assert c7["type"] == "Alert" and c7["id"].startswith("urn:ngsi-ld:Alert:")
    assert c7["category"] == {"type": "Property", "value": "traffic"}
    assert c7["subCategory"]["value"] == "hazardOnRoad"
    # confidence 0.9 (see test_detections): high
    assert c7["severity"]["value"] == "high"
    assert c7["location"]["type"] == "GeoProperty"
    lon, lat = c7["location"]["value"]["coordinates"]
    assert lon == pytest.approx(12.0067, abs=1e-4) and lat == pytest.approx(48.0)
    assert c7["validFrom"]["value"] == "2026-11-20T06:01:00Z"
    assert c7["dateIssued"]["value"] == "2026-11-20T06:03:00Z"
    assert "validTo" not in c7
    assert c7["data"]["value"]["refRoadSegment"] == "urn:ngsi-ld:RoadSegment:A"
    assert c7["alertSource"]["value"] == "urn:ngsi-ld:Device:a1"

    plain = {a["data"]["algorithm"]: a for a in await alerts(running, options="keyValues")}
    assert plain["california8"]["category"] == "traffic"
    assert plain["california8"]["location"]["type"] == "Point"
    assert any("dataModel.Alert" in c for c in plain["california8"]["@context"])

    await feed(running, interval(3, (12.0, 95.0), (11.0, 100.0)))
    assert await alerts(running) == []
    ended = await alerts(running, phase="cleared", options="keyValues")
    assert {a["validTo"] for a in ended} == {"2026-11-20T06:04:00Z"}
