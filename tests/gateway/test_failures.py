"""What the gateway answers when it cannot route a request or its upstream fails."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.backends import DISTRIBUTED, Backend
from tests.fixtures.server import free_port
from tests.fixtures.tokens import admin_headers
from tests.gateway.stack import assert_problem, devices_service, gateway

pytestmark = pytest.mark.slow


@contextlib.asynccontextmanager
async def silent_upstream() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never answers; yields its port."""
    held: list[asyncio.StreamWriter] = []
    never = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await never.wait()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        never.set()
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("backend", [DISTRIBUTED], indirect=True)
async def test_upstream_that_goes_down_gives_502_and_comes_back(
    backend: Backend, tmp_path: Path
) -> None:
    port = free_port()
    admin = admin_headers(backend)
    upstream_url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(headers=admin, timeout=15) as client:
        with gateway(tmp_path, backend, {"devices": upstream_url}, ready_path="/health/live") as gw:
            with devices_service(backend, tmp_path, port=port):
                assert (await client.get(f"{gw.url}/health/ready")).status_code == 200
                assert (await client.get(f"{gw.url}/api/v1/devices")).status_code == 200

            down = await client.get(f"{gw.url}/api/v1/devices", headers={"X-Request-ID": "dn-1"})
            problem = assert_problem(down, 502, "bad-gateway")
            assert problem["service"] == "devices"
            assert problem["correlation_id"] == "dn-1"
            ready = await client.get(f"{gw.url}/health/ready")
            assert ready.status_code == 503
            assert ready.json()["down"] == ["upstream:devices"]

            # the same upstream back on its port is used again without restarting the gateway
            with devices_service(backend, tmp_path, port=port):
                assert (await client.get(f"{gw.url}/api/v1/devices")).status_code == 200


async def test_upstream_that_never_answers_gives_504(
    embedded_backend: Backend, tmp_path: Path
) -> None:
    async with silent_upstream() as port:
        with gateway(
            tmp_path,
            embedded_backend,
            {"devices": f"http://127.0.0.1:{port}"},
            ready_path="/health/live",
            read_timeout_s="1",
        ) as gw:
            async with httpx.AsyncClient(timeout=15) as client:
                started = time.monotonic()
                response = await client.get(f"{gw.url}/api/v1/devices/some-id")
                elapsed = time.monotonic() - started
    problem = assert_problem(response, 504, "gateway-timeout")
    assert problem["service"] == "devices"
    # the configured read timeout, not the client's 15 s, decided it
    assert 1 <= elapsed < 10


async def test_unknown_prefix_is_404_and_unconfigured_service_is_503(
    embedded_backend: Backend, tmp_path: Path
) -> None:
    with gateway(tmp_path, embedded_backend, upstreams={}) as gw:
        async with httpx.AsyncClient(base_url=gw.url, timeout=15) as client:
            unknown = await client.get("/api/v1/teleporters")
            assert "/api/v1/teleporters" in str(assert_problem(unknown, 404, "not-found")["detail"])
            # a prefix matches whole path segments only
            assert_problem(await client.get("/api/v1/devicesx"), 404, "not-found")

            unconfigured = await client.post("/api/v1/devices", json={"name": "x"})
            assert_problem(unconfigured, 503, "unavailable")
            assert unconfigured.headers["retry-after"] == "30"

            metrics = (await client.get("/metrics")).text
    # requests are counted per service prefix, not per raw path
    assert (
        'roadwatch_http_requests_total{method="POST",route="/api/v1/devices",status="503"} 1.0'
        in metrics
    )
