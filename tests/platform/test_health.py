"""Readiness follows the dependencies: a cut one is named, and the service recovers alone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from roadwatch.platform.auth import Role
from tests.fixtures.app import RunningApp, run_app
from tests.fixtures.backends import Backend
from tests.fixtures.services import PG_PORT
from tests.fixtures.tcp_proxy import TcpProxy
from tests.support.waiting import eventually, with_port


async def test_ready_lists_every_configured_dependency(running: RunningApp) -> None:
    live = await running.client.get("/health/live")
    assert live.status_code == 200
    ready = await running.client.get("/health/ready")
    assert ready.status_code == 200
    assert set(ready.json()["checks"]) == {"database", "bus", "cache", "object_store", "mqtt"}


async def test_openapi_lists_the_api(running: RunningApp) -> None:
    spec = (await running.client.get("/openapi.json")).json()
    assert "/api/v1/devices" in spec["paths"]
    assert (await running.client.get("/docs")).status_code == 200


async def test_metrics_count_requests_by_route_template(
    running: RunningApp, admin: dict[str, str]
) -> None:
    await running.client.get("/api/v1/devices/some-id", headers=admin)
    text = (await running.client.get("/metrics")).text
    assert 'route="/api/v1/devices/{device_id}"' in text
    assert "roadwatch_outbox_pending" in text


async def _not(check: Callable[[], Awaitable[bool]]) -> bool:
    return not await check()


async def test_each_cut_dependency_is_reported_and_recovers(
    distributed_backend: Backend, tcp_proxy: type[TcpProxy]
) -> None:
    backend = distributed_backend
    proxies = {
        "database": tcp_proxy("127.0.0.1", PG_PORT),
        "cache": tcp_proxy("127.0.0.1", 6379),
        "bus": tcp_proxy("127.0.0.1", 5672),
    }
    for proxy in proxies.values():
        await proxy.start()
    settings = backend.settings(
        database_url=with_port(backend.database_url, proxies["database"].port),
        cache_url=with_port(backend.cache_url, proxies["cache"].port),
        bus_url=with_port(backend.bus_url, proxies["bus"].port),
    )
    async with run_app(settings) as running:
        admin = running.as_role(Role.ADMINISTRATOR)

        async def ready() -> bool:
            return (await running.client.get("/health/ready")).status_code == 200

        assert await ready()
        for name, proxy in proxies.items():
            await proxy.cut()
            # a cut is noticed at the next round trip to that dependency
            await eventually(lambda: _not(ready))
            response = await running.client.get("/health/ready")
            assert response.status_code == 503, name
            assert response.json()["down"] == [name]
            assert response.headers["retry-after"]
            if name == "database":
                write = await running.client.post(
                    "/api/v1/devices", json={"name": "while-down"}, headers=admin
                )
                assert write.status_code == 503
                assert write.headers["retry-after"]
                assert write.headers["content-type"] == "application/problem+json"
            await proxy.restore()
            await eventually(ready)
        created = await running.client.post(
            "/api/v1/devices", json={"name": "after-recovery"}, headers=admin
        )
        assert created.status_code == 201
