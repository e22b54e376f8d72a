"""The event store: every service's events recorded with their envelope, once each, and
found again by entity, actor, type, service, correlation id and time."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import orjson

from roadwatch.platform.auth import Role
from roadwatch.platform.events import new_event
from tests.factories import devices
from tests.factories import identity as accounts
from tests.factories.audit import AUDIT, events, until_recorded
from tests.fixtures.app import RunningApp


async def test_a_request_s_events_are_recorded_with_their_envelope(
    audited: RunningApp, administrator: dict[str, str], auditor: dict[str, str]
) -> None:
    client = audited.client
    request_id = f"req-{uuid.uuid4().hex}"
    before = datetime.now(UTC)
    created = await client.post(
        "/api/v1/devices",
        json={"name": f"loop-{uuid.uuid4().hex[:6]}", "type": "induction_loop"},
        headers={**administrator, "X-Request-ID": request_id},
    )
    assert created.status_code == 201, created.text
    device = created.json()

    found = await until_recorded(client, auditor, 2, correlation_id=request_id)
    assert [e["type"] for e in found] == ["devices.credentials.changed", "devices.device.created"]
    record = found[1]
    assert record["actor"] == "user:test-administrator"
    assert record["source"] == "devices"
    assert (record["entity_type"], record["entity_id"]) == ("device", device["id"])
    assert record["payload"]["state"]["name"] == device["name"]
    assert (
        before
        <= datetime.fromisoformat(record["occurred_at"])
        <= datetime.fromisoformat(record["recorded_at"])
    )
    # consecutive links of one chain
    assert record["seq"] == found[0]["seq"] + 1
    assert record["prev_hash"] == found[0]["hash"]
    one = await client.get(f"{AUDIT}/events/{record['id']}", headers=auditor)
    assert one.json() == record


async def test_an_event_delivered_twice_is_stored_once(
    audited: RunningApp, auditor: dict[str, str]
) -> None:
    # a type no other service consumes, so only the store sees the repeat
    event = new_event("identity.user.updated", "user", uuid.uuid4(), {"state": {"n": 1}})
    await audited.platform.bus.publish([event])
    await audited.platform.bus.publish([event])
    await until_recorded(audited.client, auditor, 1, entity_id=event.entity_id)
    marker = new_event("identity.user.updated", "user", event.entity_id, {"state": {"n": 2}})
    await audited.platform.bus.publish([marker])
    # the marker came after the repeat on the same queue: once it is in, so is the repeat
    found = await until_recorded(audited.client, auditor, 2, entity_id=event.entity_id)
    assert [e["id"] for e in found] == [event.id, marker.id]


async def test_telemetry_batches_are_recorded_without_their_points(
    audited: RunningApp, administrator: dict[str, str], auditor: dict[str, str]
) -> None:
    client = audited.client
    device = await devices.create_device(client, administrator)
    sent = await client.post(
        f"/api/v1/{device['access_token']}/telemetry",
        json=[
            {"ts": 1_700_000_000_000 + i, "values": {"speed": i, "flow": 2 * i}} for i in range(50)
        ],
    )
    assert sent.status_code == 200, sent.text
    [batch] = await until_recorded(
        client, auditor, 1, type="telemetry.batch_ingested", entity_id=device["id"]
    )
    assert "points" not in batch["payload"]
    assert batch["payload"]["count"] == 100
    assert batch["payload"]["keys"] == ["flow", "speed"]
    assert batch["payload"]["min_ts"] == 1_700_000_000_000
    assert batch["actor"] == f"device:{device['id']}"


async def test_queries_filter_page_and_export(
    audited: RunningApp, administrator: dict[str, str], auditor: dict[str, str]
) -> None:
    client = audited.client
    account = await accounts.create_user(client, administrator, Role.DISPATCHER)
    for n in range(3):
        changed = await client.patch(
            f"/api/v1/users/{account.id}", json={"full_name": f"Name {n}"}, headers=administrator
        )
        assert changed.status_code == 200, changed.text
    login = await accounts.tokens_for(client, account)
    assert login["access_token"]
    # the login is keyed by the address typed, and found under the user it names
    mine = await until_recorded(client, auditor, 5, entity_type="user", entity_id=account.id)
    assert [e["type"] for e in mine] == [
        "identity.user.created",
        *["identity.user.updated"] * 3,
        "identity.login.succeeded",
    ]
    assert mine[-1]["entity_type"] == "login"

    updates = await events(
        client, auditor, entity_id=account.id, type="identity.user.updated", source="identity"
    )
    assert len(updates) == 3
    by_actor = await events(client, auditor, actor=f"user:{account.id}")
    assert [e["type"] for e in by_actor] == ["identity.login.succeeded"]

    page = await client.get(
        f"{AUDIT}/events",
        params={"entity_id": account.id, "limit": 2, "offset": 1, "sort": "-seq"},
        headers=auditor,
    )
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 5
    assert [e["seq"] for e in body["items"]] == sorted((e["seq"] for e in mine), reverse=True)[1:3]

    window = await events(
        client,
        auditor,
        entity_id=account.id,
        **{"from": mine[1]["occurred_at"], "to": mine[2]["occurred_at"]},
    )
    assert [e["id"] for e in window] == [mine[1]["id"], mine[2]["id"]]

    jsonl = await client.get(
        f"{AUDIT}/events/export",
        params={"entity_type": "user", "entity_id": account.id},
        headers=auditor,
    )
    assert jsonl.status_code == 200, jsonl.text
    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    lines = [orjson.loads(line) for line in jsonl.content.splitlines()]
    assert lines == mine

    as_csv = await client.get(
        f"{AUDIT}/events/export",
        params={"entity_type": "user", "entity_id": account.id, "format": "csv"},
        headers=auditor,
    )
    assert as_csv.status_code == 200, as_csv.text
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["id"] for r in rows] == [e["id"] for e in mine]
    assert orjson.loads(rows[0]["payload"]) == mine[0]["payload"]


async def test_bad_queries_are_4xx_naming_the_problem(
    audited: RunningApp, auditor: dict[str, str]
) -> None:
    client = audited.client
    cases = [
        (f"{AUDIT}/events", {"from": "yesterday"}, 422, "from"),
        (f"{AUDIT}/events", {"limit": 0}, 422, "limit"),
        (f"{AUDIT}/events", {"sort": "payload"}, 422, "sort"),
        (
            f"{AUDIT}/events",
            {
                "from": datetime.now(UTC).isoformat(),
                "to": (datetime.now(UTC) - timedelta(1)).isoformat(),
            },
            422,
            "from",
        ),
        (f"{AUDIT}/events/export", {"format": "xml"}, 422, "format"),
        (f"{AUDIT}/entities/user/x/state", {"at": "soon"}, 422, "at"),
        (f"{AUDIT}/entities/spaceship/x/state", {}, 404, "entity_type"),
        (f"{AUDIT}/events/{uuid.uuid4()}", {}, 404, "not found"),
    ]
    for path, params, status, named in cases:
        response = await client.get(path, params=params, headers=auditor)
        assert response.status_code == status, (path, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert named in response.json()["detail"], (path, params, response.text)


async def test_auditors_and_administrators_read_everything_others_only_their_own_account(
    audited: RunningApp, administrator: dict[str, str], auditor: dict[str, str]
) -> None:
    client = audited.client
    citizen = await accounts.create_user(client, administrator, Role.CITIZEN)
    other = await accounts.create_user(client, administrator, Role.DISPATCHER)
    as_citizen = accounts.bearer(await accounts.tokens_for(client, citizen))
    await until_recorded(client, auditor, 2, entity_type="user", entity_id=citizen.id)

    for part in ("state", "history", "events"):
        own = await client.get(f"{AUDIT}/entities/user/{citizen.id}/{part}", headers=as_citizen)
        assert own.status_code == 200, own.text
        theirs = await client.get(f"{AUDIT}/entities/user/{other.id}/{part}", headers=as_citizen)
        assert theirs.status_code == 403, theirs.text
        for reader in (auditor, administrator):
            seen = await client.get(f"{AUDIT}/entities/user/{citizen.id}/{part}", headers=reader)
            assert seen.status_code == 200, seen.text
    assert (await client.get(f"{AUDIT}/events", headers=as_citizen)).status_code == 403
    dispatcher = audited.as_role(Role.DISPATCHER)
    assert (await client.get(f"{AUDIT}/events", headers=dispatcher)).status_code == 403
    assert (await client.get(f"{AUDIT}/events")).status_code == 401
    nobody = await client.get(f"{AUDIT}/entities/user/nobody/state", headers=auditor)
    assert (nobody.json()["state"], nobody.json()["version"]) == (None, 0)
    state = (
        await client.get(f"{AUDIT}/entities/user/{citizen.id}/state", headers=as_citizen)
    ).json()
    assert state["state"]["email"] == citizen.email
    assert state["state"]["last_login_at"] is not None


async def test_history_lists_each_change_with_what_it_changed(
    audited: RunningApp, administrator: dict[str, str], auditor: dict[str, str]
) -> None:
    client = audited.client
    device = await devices.create_device(client, administrator)
    changed = await client.patch(
        f"/api/v1/devices/{device['id']}",
        json={"label": "A1 km 12", "location": {"lon": 24.1, "lat": 56.9}},
        headers=administrator,
    )
    assert changed.status_code == 200, changed.text
    await client.post(
        f"/api/v1/telemetry/{device['id']}/attributes/shared",
        json={"mode": "eco", "lanes": 3},
        headers=administrator,
    )
    await client.delete(
        f"/api/v1/telemetry/{device['id']}/attributes/shared",
        params={"keys": "mode"},
        headers=administrator,
    )
    await until_recorded(client, auditor, 5, entity_id=device["id"])

    response = await client.get(f"{AUDIT}/entities/device/{device['id']}/history", headers=auditor)
    assert response.status_code == 200, response.text
    history = response.json()["items"]
    assert [h["type"] for h in history] == [
        "devices.credentials.changed",
        "devices.device.created",
        "devices.device.updated",
    ]
    update = {c["path"]: (c["before"], c["after"]) for c in history[2]["changes"]}
    assert update["label"] == ("", "A1 km 12")
    assert update["location"] == (None, {"lon": 24.1, "lat": 56.9})
    assert set(update) == {"label", "location", "updated_at"}
    assert history[2]["actor"] == "user:test-administrator"

    attributes = (
        await client.get(
            f"{AUDIT}/entities/device_attributes/{device['id']}/history", headers=auditor
        )
    ).json()["items"]
    assert [a["changes"] for a in attributes] == [
        [
            {"path": "shared.lanes", "before": None, "after": 3},
            {"path": "shared.mode", "before": None, "after": "eco"},
        ],
        [{"path": "shared.mode", "before": "eco", "after": None}],
    ]
    # state before the deletion, by time
    at = attributes[1]["occurred_at"]
    just_before = (datetime.fromisoformat(at) - timedelta(microseconds=1)).isoformat()
    then = await client.get(
        f"{AUDIT}/entities/device_attributes/{device['id']}/state",
        params={"at": just_before},
        headers=auditor,
    )
    assert then.json()["state"]["shared"] == {"mode": "eco", "lanes": 3}
    assert then.json()["version"] == 1


async def test_times_without_a_zone_are_taken_as_utc(
    audited: RunningApp, administrator: dict[str, str], auditor: dict[str, str]
) -> None:
    client = audited.client
    account = await accounts.create_user(client, administrator, Role.EDITOR)
    [created] = await until_recorded(client, auditor, 1, entity_id=account.id)
    naive = datetime.fromisoformat(created["occurred_at"]).replace(tzinfo=None).isoformat()
    found = await events(client, auditor, entity_id=account.id, **{"from": naive, "to": naive})
    assert [e["id"] for e in found] == [created["id"]]
    then = await client.get(
        f"{AUDIT}/entities/user/{account.id}/state", params={"at": naive}, headers=auditor
    )
    assert then.status_code == 200, then.text
    assert then.json()["state"]["email"] == account.email
