"""Device profiles: what devices of one kind share, and what the platform enforces of it
(valid ranges, allowed protocols, inactivity timeout) on every transport."""

from __future__ import annotations

import time
import uuid

from roadwatch.platform.auth import Role
from roadwatch.telemetry.status import sweep_offline
from tests.factories.devices import create_device, create_profile, until_token_accepted
from tests.fixtures.app import RunningApp
from tests.support.waiting import eventually


async def test_a_profile_is_created_read_listed_changed_and_deleted(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    profile = await create_profile(
        client,
        admin,
        inactivity_timeout_s=120,
        alarm_rules=[{"kind": "threshold", "key": "speed", "below": 10}],
    )
    assert profile["telemetry_keys"][0] == {"key": "speed", "unit": "km/h", "min": 0, "max": 250}
    assert profile["transport"] == {"protocols": ["http", "mqtt"]}
    assert profile["provision_strategy"] == "disabled"

    analyst = running.as_role(Role.ANALYST)
    got = await client.get(f"/api/v1/device-profiles/{profile['id']}", headers=analyst)
    assert got.json() == profile
    listed = await client.get(
        "/api/v1/device-profiles", params={"q": profile["name"]}, headers=analyst
    )
    assert [p["id"] for p in listed.json()["items"]] == [profile["id"]]

    changed = await client.patch(
        f"/api/v1/device-profiles/{profile['id']}",
        json={"inactivity_timeout_s": None, "description": "loops on arterials"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["inactivity_timeout_s"] is None
    assert changed.json()["description"] == "loops on arterials"

    assert (
        await client.patch(
            f"/api/v1/device-profiles/{profile['id']}", json={"name": "x"}, headers=analyst
        )
    ).status_code == 403
    deleted = await client.delete(f"/api/v1/device-profiles/{profile['id']}", headers=admin)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/v1/device-profiles/{profile['id']}", headers=admin)
    assert gone.status_code == 404


async def test_wrong_profiles_are_refused_naming_the_problem(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    url = "/api/v1/device-profiles"
    inverted = await client.post(
        url,
        json={"name": "p1", "telemetry_keys": [{"key": "speed", "min": 10, "max": 0}]},
        headers=admin,
    )
    assert inverted.status_code == 422
    assert "min 10.0 is above max 0.0" in inverted.json()["detail"]
    twice = await client.post(
        url, json={"name": "p2", "telemetry_keys": [{"key": "a"}, {"key": "a"}]}, headers=admin
    )
    assert twice.status_code == 422
    assert "a given more than once" in twice.json()["detail"]
    keyless = await client.post(
        url, json={"name": "p3", "provision_strategy": "allow_create_new"}, headers=admin
    )
    assert keyless.status_code == 422
    assert "needs a provision_key" in keyless.json()["detail"]
    too_quick = await client.post(
        url, json={"name": "p4", "inactivity_timeout_s": 1}, headers=admin
    )
    assert too_quick.status_code == 422
    assert too_quick.json()["errors"][0]["field"] == "inactivity_timeout_s"

    profile = await create_profile(client, admin)
    same_name = await client.post(url, json={"name": profile["name"]}, headers=admin)
    assert same_name.status_code == 409
    unknown = await client.post(
        "/api/v1/devices", json={"name": "d1", "profile_id": "nope"}, headers=admin
    )
    assert unknown.status_code == 422
    assert "no device profile nope" in unknown.json()["detail"]


async def test_a_profile_in_use_cannot_be_deleted(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    profile = await create_profile(client, admin)
    device = await create_device(client, admin, profile_id=profile["id"])
    assert device["profile_id"] == profile["id"]
    refused = await client.delete(f"/api/v1/device-profiles/{profile['id']}", headers=admin)
    assert refused.status_code == 409
    assert "1 device(s) use this profile" in refused.json()["detail"]
    moved = await client.patch(
        f"/api/v1/devices/{device['id']}", json={"profile_id": None}, headers=admin
    )
    assert moved.json()["profile_id"] is None
    deleted = await client.delete(f"/api/v1/device-profiles/{profile['id']}", headers=admin)
    assert deleted.status_code == 204


async def test_values_outside_the_profiles_range_are_refused_naming_key_and_range(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    profile = await create_profile(client, admin)
    device = await create_device(client, admin, profile_id=profile["id"])
    url = f"/api/v1/{device['access_token']}/telemetry"

    async def profile_applies() -> bool:
        return (await client.post(url, json={"speed": 251})).status_code == 400

    await eventually(profile_applies, timeout_s=15)
    refused = await client.post(url, json=[{"ts": 1_700_000_000_000, "values": {"speed": 300.5}}])
    assert refused.status_code == 400
    problem = refused.json()
    assert problem["key"] == "speed"
    assert "speed: 300.5 at ts 1700000000000 is outside [0.0, 250.0]" in problem["detail"]
    wrong_type = await client.post(url, json={"occupancy": "high"})
    assert wrong_type.status_code == 400
    assert "occupancy: expected a number" in wrong_type.json()["detail"]

    # keys without a range, and values inside it, are taken
    assert (
        await client.post(url, json={"speed": 250, "occupancy": 0, "count": -1})
    ).status_code == 200
    points = await client.get(
        f"/api/v1/telemetry/{device['id']}/timeseries",
        params={"keys": "speed", "startTs": 0, "endTs": int(time.time() * 1000) + 60_000},
        headers=admin,
    )
    assert [p["value"] for p in points.json()["speed"]] == [250]

    batch = await client.post(
        "/api/v1/telemetry/batch", json={device["id"]: {"occupancy": 140}}, headers=admin
    )
    assert batch.status_code == 422
    [error] = batch.json()["errors"]
    assert error["field"] == device["id"]
    assert error["message"].startswith("occupancy: 140 at ts ")
    assert error["message"].endswith(
        f"is outside [0.0, 100.0], the range device profile {profile['name']!r} allows"
    )


async def test_a_profile_change_applies_to_its_devices(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    profile = await create_profile(client, admin)
    device = await create_device(client, admin, profile_id=profile["id"])
    url = f"/api/v1/{device['access_token']}/telemetry"
    await client.patch(
        f"/api/v1/device-profiles/{profile['id']}",
        json={"telemetry_keys": [{"key": "speed", "min": 0, "max": 130}]},
        headers=admin,
    )

    async def narrowed() -> bool:
        return (await client.post(url, json={"speed": 140})).status_code == 400

    await eventually(narrowed, timeout_s=15)
    mqtt_only = await client.patch(
        f"/api/v1/device-profiles/{profile['id']}",
        json={"transport": {"protocols": ["mqtt"]}},
        headers=admin,
    )
    assert mqtt_only.status_code == 200, mqtt_only.text
    assert mqtt_only.json()["transport"] == {"protocols": ["mqtt"]}

    async def http_closed() -> bool:
        return (await client.post(url, json={"speed": 10})).status_code == 403

    await eventually(http_closed, timeout_s=15)
    refused = await client.post(url, json={"speed": 10})
    assert "allows only mqtt" in refused.json()["detail"]


async def test_a_device_goes_offline_after_its_profiles_timeout(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    quick = await create_profile(client, admin, inactivity_timeout_s=30)
    fast = await create_device(client, admin, profile_id=quick["id"])
    plain = await create_device(client, admin)
    before = int(time.time() * 1000)
    for device in (fast, plain):
        sent = await client.post(f"/api/v1/{device['access_token']}/telemetry", json={"a": 1})
        assert sent.status_code == 200
    default_ms = running.platform.settings.telemetry.inactivity_timeout_s * 1000
    assert default_ms > 60_000
    # 31 s later only the device whose profile says 30 s is offline
    assert await sweep_offline(running.platform, now_ms=before + 31_000 + 5_000) == [fast["id"]]
    later = before + default_ms + 10_000
    assert await sweep_offline(running.platform, now_ms=later) == [plain["id"]]


# -- self-provisioning ---------------------------------------------------------------------


async def test_a_device_provisions_itself_with_its_profiles_key_and_secret(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    key, secret = f"key-{uuid.uuid4().hex}", "s3cret-for-loops"
    profile = await create_profile(
        client,
        admin,
        provision_strategy="allow_create_new",
        provision_key=key,
        provision_secret=secret,
    )
    assert profile["has_provision_secret"] is True
    assert "provision_secret" not in profile
    request = {
        "deviceName": "loop-42-north",
        "provisionDeviceKey": key,
        "provisionDeviceSecret": secret,
    }
    answer = await client.post("/api/v1/provision", json=request)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "SUCCESS"
    assert body["credentialsType"] == "ACCESS_TOKEN"
    token = body["credentialsValue"]
    await until_token_accepted(client, token)
    assert (await client.post(f"/api/v1/{token}/telemetry", json={"speed": 40})).status_code == 200
    registered = await client.get(f"/api/v1/devices/{body['deviceId']}", headers=admin)
    assert registered.json()["name"] == "loop-42-north"
    assert registered.json()["profile_id"] == profile["id"]

    again = await client.post("/api/v1/provision", json=request)
    assert again.status_code == 409
    assert again.json()["errorMsg"] == "Device already provisioned"
    wrong = await client.post(
        "/api/v1/provision", json={**request, "deviceName": "x", "provisionDeviceSecret": "guess"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["errorMsg"] == "Provision data was not found!"
    unknown_key = await client.post(
        "/api/v1/provision", json={**request, "provisionDeviceKey": "nobody-has-this"}
    )
    assert unknown_key.status_code == 401
    assert unknown_key.json()["detail"] == wrong.json()["detail"]
    missing = await client.post("/api/v1/provision", json={"deviceName": "y"})
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {
        "provisionDeviceKey",
        "provisionDeviceSecret",
    }


async def test_only_pre_provisioned_devices_get_credentials_when_the_profile_says_so(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    key, secret = f"key-{uuid.uuid4().hex}", "another-secret"
    profile = await create_profile(
        client,
        admin,
        provision_strategy="check_pre_provisioned",
        provision_key=key,
        provision_secret=secret,
    )
    request = {"provisionDeviceKey": key, "provisionDeviceSecret": secret}
    stranger = await client.post("/api/v1/provision", json={**request, "deviceName": "stranger"})
    assert stranger.status_code == 401
    assert stranger.json()["errorMsg"] == "Device was not pre-provisioned"

    device = await create_device(client, admin, profile_id=profile["id"])
    answer = await client.post("/api/v1/provision", json={**request, "deviceName": device["name"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["deviceId"] == device["id"]
    new_token = answer.json()["credentialsValue"]
    await until_token_accepted(client, new_token)

    async def old_token_refused() -> bool:
        probe = await client.post(f"/api/v1/{device['access_token']}/telemetry", json={"a": 1})
        return probe.status_code == 401

    await eventually(old_token_refused)


async def test_bulk_rows_naming_an_unknown_profile_are_reported(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    profile = await create_profile(client, admin)
    body = {
        "devices": [
            {"name": f"b-{uuid.uuid4().hex[:6]}", "profile_id": profile["id"]},
            {"name": f"b-{uuid.uuid4().hex[:6]}", "profile_id": "missing"},
        ]
    }
    refused = await client.post("/api/v1/devices/bulk", json=body, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"row": 2, "field": "profile_id", "message": "no device profile missing"}
    ]
    body["devices"].pop()
    created = await client.post("/api/v1/devices/bulk", json=body, headers=admin)
    assert created.status_code == 201
    device_id = created.json()["devices"][0]["id"]
    read = await client.get(f"/api/v1/devices/{device_id}", headers=admin)
    assert read.json()["profile_id"] == profile["id"]
