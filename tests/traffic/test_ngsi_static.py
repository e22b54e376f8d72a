"""NGSI-LD export of Road, RoadSegment and Vehicle (FIWARE Smart Data Models): URN ids,
normalized attributes typed Property / GeoProperty / Relationship, or plain keyValues, with
the model's units (lengths in km, speeds in km/h)."""

from __future__ import annotations

import time

from tests.factories.devices import create_device
from tests.factories.traffic import TRAFFIC, city_geojson, create_patrol, import_network
from tests.fixtures.app import RunningApp
from tests.support.waiting import eventually

NGSI = f"{TRAFFIC}/ngsi-ld"
CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Transportation/master/"
    "context.jsonld"
)


async def test_road_segments_and_roads_as_normalized_and_key_value_entities(
    running: RunningApp, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    await import_network(running.client, admin, city_geojson())
    normalized = await running.client.get(f"{NGSI}/RoadSegment", headers=analyst)
    assert normalized.status_code == 200
    assert normalized.headers["content-type"].startswith("application/ld+json")
    entities = {e["id"]: e for e in normalized.json()}
    assert len(entities) == 40
    n1 = entities["urn:ngsi-ld:RoadSegment:N1-C"]
    assert n1["type"] == "RoadSegment" and CONTEXT in n1["@context"]
    assert n1["refRoad"] == {"type": "Relationship", "object": "urn:ngsi-ld:Road:north-avenue"}
    assert n1["location"]["type"] == "GeoProperty"
    assert n1["location"]["value"]["type"] == "LineString"
    assert n1["startPoint"]["value"]["type"] == "Point"
    assert n1["totalLaneNumber"] == {"type": "Property", "value": 2}
    assert n1["maximumAllowedSpeed"] == {"type": "Property", "value": 50.0}
    assert n1["length"]["value"] == 1.0  # the city's N1-C is 1 km long
    assert n1["status"]["value"] == "open"
    assert n1["allowedVehicleType"]["value"] == ["anyVehicle"]

    flat = await running.client.get(f"{NGSI}/RoadSegment?options=keyValues", headers=analyst)
    n1_flat = next(e for e in flat.json() if e["id"] == "urn:ngsi-ld:RoadSegment:N1-C")
    assert n1_flat["refRoad"] == "urn:ngsi-ld:Road:north-avenue"
    assert n1_flat["totalLaneNumber"] == 2 and n1_flat["location"]["type"] == "LineString"

    roads = await running.client.get(f"{NGSI}/Road?options=keyValues", headers=analyst)
    north = next(r for r in roads.json() if r["id"] == "urn:ngsi-ld:Road:north-avenue")
    assert north["type"] == "Road" and north["name"] == "North Avenue"
    assert north["roadClass"] == "primary"  # an arterial, in OpenStreetMap's classes
    assert len(north["refRoadSegment"]) == 6
    normalized_roads = await running.client.get(f"{NGSI}/Road", headers=analyst)
    assert normalized_roads.json()[0]["refRoadSegment"]["type"] == "Relationship"

    wrong = await running.client.get(f"{NGSI}/Road?options=sysAttrs", headers=analyst)
    assert wrong.status_code == 422


async def test_patrol_cars_as_vehicles_with_their_last_fix(
    running: RunningApp, admin: dict[str, str], dispatcher: dict[str, str]
) -> None:
    tracker = await create_device(running.client, admin, name="gps-1", type="patrol_gps")
    unit = await create_patrol(running.client, dispatcher, "P1", device_id=tracker["id"])
    ts = int(time.time() * 1000) - 5000
    values = {"latitude": 48.01, "longitude": 12.02, "speed": 42.0, "heading": 270.0}
    sent = await running.client.post(
        f"/api/v1/{tracker['access_token']}/telemetry", json={"ts": ts, "values": values}
    )
    assert sent.status_code == 200

    async def located() -> bool:
        body = await running.client.get(f"{TRAFFIC}/patrols/{unit['id']}", headers=dispatcher)
        return body.json()["position"] is not None

    await eventually(located)
    response = await running.client.get(f"{NGSI}/Vehicle?options=keyValues", headers=dispatcher)
    [vehicle] = response.json()
    assert vehicle["id"] == f"urn:ngsi-ld:Vehicle:{unit['id']}"
    assert vehicle["type"] == "Vehicle" and vehicle["vehicleType"] == "car"
    assert vehicle["location"] == {"type": "Point", "coordinates": [12.02, 48.01]}
    assert vehicle["speed"] == 42.0 and vehicle["heading"] == 270.0
    assert vehicle["serviceStatus"] == "outOfService"  # the unit is off duty
    assert vehicle["observationDateTime"].endswith("Z")
    normalized = await running.client.get(f"{NGSI}/Vehicle", headers=dispatcher)
    assert normalized.json()[0]["location"]["type"] == "GeoProperty"
    assert normalized.json()[0]["speed"] == {"type": "Property", "value": 42.0}
