"""An integration's API key, made by identity, works on a service in another process."""

from __future__ import annotations

from pathlib import Path

import httpx

from roadwatch.identity.service.api_keys import sync_api_keys
from tests.fixtures.app import run_app
from tests.fixtures.backends import Backend
from tests.gateway.stack import devices_service
from tests.support.waiting import eventually


async def test_a_key_works_elsewhere_until_revoked_and_its_uses_are_recorded(
    distributed_backend: Backend, tmp_path: Path
) -> None:
    backend = distributed_backend
    async with run_app(backend.settings(), services=["identity"]) as identity:
        admin = identity.as_role_headers_admin()
        created = await identity.client.post(
            "/api/v1/api-keys",
            json={"name": "traffic-lights vendor", "scopes": ["devices:read"]},
            headers=admin,
        )
        assert created.status_code == 201, created.text
        key = created.json()
        with devices_service(backend, tmp_path) as devices:
            async with httpx.AsyncClient(base_url=devices.url, timeout=10) as client:
                integration = {"X-API-Key": key["key"]}
                assert (await client.get("/api/v1/devices", headers=integration)).status_code == 200
                refused = await client.post(
                    "/api/v1/devices", json={"name": "x"}, headers=integration
                )
                assert refused.status_code == 403

                # the use in the devices process reaches the key's record
                await sync_api_keys(identity.platform)
                record = await identity.client.get(f"/api/v1/api-keys/{key['id']}", headers=admin)
                assert record.json()["last_used_at"] is not None

                revoked = await identity.client.delete(
                    f"/api/v1/api-keys/{key['id']}", headers=admin
                )
                assert revoked.status_code == 204

                async def refused_now() -> bool:
                    response = await client.get("/api/v1/devices", headers=integration)
                    return response.status_code == 401

                await eventually(refused_now, timeout_s=5)
