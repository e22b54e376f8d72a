"""A device's telemetry through the gateway, with devices and telemetry in two processes:
the telemetry service learns of the device over RabbitMQ and takes its data."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fixtures.backends import DISTRIBUTED, Backend
from tests.fixtures.tokens import admin_headers
from tests.gateway.stack import gateway, service
from tests.support.waiting import eventually

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("backend", [DISTRIBUTED], indirect=True),
]


async def test_telemetry_sent_through_the_gateway_is_queryable(
    backend: Backend, tmp_path: Path
) -> None:
    with (
        service("devices", backend, tmp_path) as devices,
        service("telemetry", backend, tmp_path) as telemetry,
        gateway(tmp_path, backend, {"devices": devices.url, "telemetry": telemetry.url}) as gw,
    ):
        async with httpx.AsyncClient(base_url=gw.url, timeout=15) as client:
            admin = admin_headers(backend)
            created = await client.post(
                "/api/v1/devices", json={"name": "loop-gw-t1"}, headers=admin
            )
            assert created.status_code == 201, created.text
            device = created.json()
            url = f"/api/v1/{device['access_token']}/telemetry"

            async def accepted() -> bool:
                answer = await client.post(
                    url, json={"ts": 1_700_000_000_000, "values": {"speed": 42}}
                )
                return answer.status_code == 200

            await eventually(accepted, timeout_s=20)
            bad = await client.post(
                url, content=b"{nope", headers={"content-type": "application/json"}
            )
            assert bad.status_code == 400

            latest = await client.get(f"/api/v1/telemetry/{device['id']}/latest", headers=admin)
            assert latest.status_code == 200, latest.text
            assert latest.json() == {"speed": {"ts": 1_700_000_000_000, "value": 42}}
