"""The demo's API key: kept while it holds the scopes the demo needs; an older demo's key
without one (before the road network upload needed `traffic:write`) is revoked and
replaced."""

from __future__ import annotations

from roadwatch.cli.demo import DEMO_SCOPES, DemoFiles, ensure_demo_key
from roadwatch.platform.auth import Role
from tests.fixtures.app import run_app
from tests.fixtures.backends import Backend


async def test_an_older_demo_key_without_traffic_write_is_revoked_and_replaced(
    embedded_backend: Backend,
) -> None:
    settings = embedded_backend.settings()
    async with run_app(settings) as running:
        admin = running.as_role(Role.ADMINISTRATOR)
        made = await running.client.post(
            "/api/v1/api-keys",
            json={"name": "demo city simulator", "scopes": ["devices:read", "devices:write"]},
            headers=admin,
        )
        assert made.status_code == 201, made.text
        files = DemoFiles.of(settings)
        files.root.mkdir(parents=True, exist_ok=True)
        files.api_key.write_text(made.json()["key"])

        replaced = await ensure_demo_key(settings)
        assert replaced != made.json()["key"]
        assert await ensure_demo_key(settings) == replaced  # kept from now on

        keys = (
            await running.client.get("/api/v1/api-keys?include_revoked=true", headers=admin)
        ).json()["items"]
        by_id = {k["id"]: k for k in keys}
        assert by_id[made.json()["id"]]["revoked_at"] is not None
        [live] = [k for k in keys if k["revoked_at"] is None]
        assert live["scopes"] == DEMO_SCOPES
