"""Device CRUD through a real gateway in front of a real devices service (distributed)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from roadwatch.platform.db import Database
from roadwatch.platform.events import Event
from roadwatch.platform.events.outbox import OutboxRow
from tests.fixtures.backends import DISTRIBUTED, Backend
from tests.fixtures.tokens import admin_headers
from tests.gateway.stack import devices_service, gateway

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("backend", [DISTRIBUTED], indirect=True),
]

LOOP = {"name": "loop-gw-1", "type": "induction_loop", "location": {"lon": 30.31, "lat": 59.94}}


async def _outbox_events(backend: Backend) -> list[Event]:
    db = Database(backend.database_url)
    try:
        async with db.session() as session:
            rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.seq))).all()
            return [Event.from_json(row.body) for row in rows]
    finally:
        await db.dispose()


async def test_device_crud_works_through_the_gateway(backend: Backend, tmp_path: Path) -> None:
    admin = admin_headers(backend)
    with (
        devices_service(backend, tmp_path) as upstream,
        gateway(tmp_path, backend, {"devices": upstream.url}) as gw,
    ):
        async with httpx.AsyncClient(base_url=gw.url, headers=admin, timeout=15) as client:
            created = await client.post(
                "/api/v1/devices", json=LOOP, headers={"X-Request-ID": "gw-create-1"}
            )
            assert created.status_code == 201, created.text
            device = created.json()
            # shown once, at creation; a read never returns it
            device.pop("access_token")
            assert created.headers["location"] == f"/api/v1/devices/{device['id']}"
            # the gateway answers with the id it forwarded, once
            assert created.headers.get_list("x-request-id") == ["gw-create-1"]

            fetched = await client.get(f"/api/v1/devices/{device['id']}")
            assert fetched.json() == device

            patched = await client.patch(
                f"/api/v1/devices/{device['id']}",
                json={"label": "north"},
                headers={"X-Request-ID": "gw-update-1"},
            )
            assert patched.status_code == 200, patched.text
            assert patched.json()["label"] == "north"

            listed = await client.get("/api/v1/devices", params={"q": "loop-gw"})
            assert [d["id"] for d in listed.json()["items"]] == [device["id"]]

            deleted = await client.delete(f"/api/v1/devices/{device['id']}")
            assert deleted.status_code == 204
            gone = await client.get(
                f"/api/v1/devices/{device['id']}", headers={"X-Request-ID": "gw-gone-1"}
            )
            # the upstream's own problem+json comes through unchanged
            assert gone.status_code == 404
            assert gone.headers["content-type"] == "application/problem+json"
            assert gone.json()["correlation_id"] == "gw-gone-1"

            anonymous = await client.get("/api/v1/devices", headers={"Authorization": ""})
            assert anonymous.status_code == 401

    # the correlation id crossed the gateway into the service's events
    events = {e.type: e for e in await _outbox_events(backend)}
    assert events["devices.device.created"].correlation_id == "gw-create-1"
    assert events["devices.device.updated"].correlation_id == "gw-update-1"


async def test_large_streamed_body_passes_both_ways(backend: Backend, tmp_path: Path) -> None:
    blob = hashlib.sha256(b"seed").hexdigest() * (4 * 1024 * 1024 // 64)  # 4 MiB of text
    payload = httpx.Request("POST", "/", json={**LOOP, "extra": {"blob": blob}}).content

    async def chunked() -> AsyncIterator[bytes]:
        # sent without Content-Length, as a stream of chunks
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start : start + 64 * 1024]

    admin = admin_headers(backend)
    with (
        devices_service(backend, tmp_path) as upstream,
        gateway(tmp_path, backend, {"devices": upstream.url}) as gw,
    ):
        async with httpx.AsyncClient(base_url=gw.url, headers=admin, timeout=30) as client:
            created = await client.post(
                "/api/v1/devices",
                content=chunked(),
                headers={"content-type": "application/json"},
            )
            assert created.status_code == 201, created.text[:500]
            fetched = await client.get(created.headers["location"])
            assert fetched.status_code == 200
            assert fetched.json()["extra"]["blob"] == blob
