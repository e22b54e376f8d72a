"""The gateway verifies bearer access tokens itself: a bad or revoked one is refused there
and never reaches a service."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

# imported from where identity imports them, to write the keys exactly as it does
from roadwatch.platform.auth.dependencies import REVOKED_SESSION_KEY, USER_VALID_AFTER_KEY
from roadwatch.platform.cache import Cache, create_cache
from tests.fixtures.backends import Backend
from tests.fixtures.server import free_port
from tests.fixtures.tcp_proxy import TcpProxy
from tests.fixtures.tokens import access_token, bearer, foreign_token, unsigned_token
from tests.gateway.stack import assert_problem, devices_service, gateway, run_gateway
from tests.support.waiting import eventually, with_port

pytestmark = pytest.mark.slow

# long enough for any test here, short enough that a key left behind goes by itself
REVOCATION_TTL_S = 600


@asynccontextmanager
async def services_cache(backend: Backend) -> AsyncIterator[Cache]:
    """The cache as the services see it: same URL, same namespace."""
    cache = create_cache(backend.cache_url, namespace=f"{backend.bus.queue_prefix}:")
    try:
        yield cache
    finally:
        await cache.close()


async def revoke_session(backend: Backend, session_id: str) -> None:
    async with services_cache(backend) as cache:
        await cache.set(REVOKED_SESSION_KEY.format(session_id), b"1", REVOCATION_TTL_S)


async def revoke_user_until_now(backend: Backend, user_id: str) -> None:
    # a minute ahead, so a token issued within this second is surely older
    valid_after = str(int(time.time()) + 60).encode()
    async with services_cache(backend) as cache:
        await cache.set(USER_VALID_AFTER_KEY.format(user_id), valid_after, REVOCATION_TTL_S)


def assert_refused(response: httpx.Response, reason: str) -> None:
    problem = assert_problem(response, 401, "unauthenticated")
    assert problem["detail"] == f"invalid access token: {reason}"
    assert response.headers["www-authenticate"] == "Bearer"


def devices_requests(metrics: str) -> dict[str, float]:
    """status -> requests a service counted on its device routes, from its /metrics."""
    counts: dict[str, float] = {}
    for line in metrics.splitlines():
        if line.startswith("roadwatch_http_requests_total{") and 'route="/api/v1/devices' in line:
            labels, value = line.rsplit(" ", 1)
            status = labels.split('status="', 1)[1].split('"', 1)[0]
            counts[status] = counts.get(status, 0) + float(value)
    return counts


async def test_bad_tokens_are_refused_before_any_upstream(
    distributed_backend: Backend, tmp_path: Path
) -> None:
    backend = distributed_backend
    await revoke_session(backend, "session-revoked")
    await revoke_user_until_now(backend, "user-signed-out-everywhere")
    refused = {
        "expired": (access_token(backend, ttl=timedelta(minutes=-1)), "token expired"),
        "signed with another key": (foreign_token(), "invalid token"),
        "alg none": (unsigned_token(), "invalid token"),
        "revoked session": (access_token(backend, sid="session-revoked"), "session revoked"),
        "revoked user": (
            access_token(backend, subject="user-signed-out-everywhere", sid="session-other"),
            "session revoked",
        ),
    }
    # nothing listens upstream: whatever the gateway lets through ends as 502
    dead = f"http://127.0.0.1:{free_port()}"
    with gateway(tmp_path, backend, {"devices": dead}, ready_path="/health/live") as gw:
        async with httpx.AsyncClient(base_url=gw.url, timeout=15) as client:
            for case, (token, reason) in refused.items():
                response = await client.get("/api/v1/devices", headers=bearer(token))
                assert response.status_code == 401, f"{case}: {response.text}"
                assert_refused(response, reason)

            passed = {
                "a valid token": bearer(access_token(backend, sid="session-live")),
                "no credentials": {},
                "an API key": {"X-API-Key": "rw_some-integration-key"},
                "another scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
            }
            for case, headers in passed.items():
                response = await client.get("/api/v1/devices", headers=headers)
                assert response.status_code == 502, f"{case}: {response.text}"
                assert_problem(response, 502, "bad-gateway")


async def test_valid_token_reaches_the_service_and_a_revoked_one_does_not(
    distributed_backend: Backend, tmp_path: Path
) -> None:
    backend = distributed_backend
    token = access_token(backend, sid="session-to-end")
    with (
        devices_service(backend, tmp_path) as upstream,
        gateway(tmp_path, backend, {"devices": upstream.url}) as gw,
    ):
        async with httpx.AsyncClient(timeout=15) as client:
            # the service itself accepts it: the token crossed the gateway unchanged
            ok = await client.get(f"{gw.url}/api/v1/devices", headers=bearer(token))
            assert ok.status_code == 200, ok.text

            await revoke_session(backend, "session-to-end")
            refused = await client.get(f"{gw.url}/api/v1/devices", headers=bearer(token))
            assert_refused(refused, "session revoked")

            upstream_metrics = (await client.get(f"{upstream.url}/metrics")).text
    assert devices_requests(upstream_metrics) == {"200": 1.0}


async def test_cache_outage_is_503_and_the_gateway_recovers(
    distributed_backend: Backend, tmp_path: Path, tcp_proxy: type[TcpProxy]
) -> None:
    backend = distributed_backend
    redis = tcp_proxy("127.0.0.1", 6379)
    await redis.start()
    token = bearer(access_token(backend))
    with devices_service(backend, tmp_path) as upstream, ExitStack() as stack:
        gateway_process = gateway(
            tmp_path,
            backend,
            {"devices": upstream.url},
            env={"ROADWATCH_CACHE_URL": with_port(backend.cache_url, redis.port)},
        )
        # started from a thread: waiting for it blocks, and the proxy it reaches Redis
        # through runs on this event loop
        gw = await asyncio.to_thread(stack.enter_context, gateway_process)
        async with httpx.AsyncClient(base_url=gw.url, timeout=15) as client:
            assert (await client.get("/api/v1/devices", headers=token)).status_code == 200

            await redis.cut()
            down = await client.get("/api/v1/devices", headers=token)
            assert_problem(down, 503, "unavailable")
            assert down.headers["retry-after"]
            ready = await client.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["down"] == ["cache"]
            # without a bearer token there is nothing to look up: the service answers
            anonymous = await client.get("/api/v1/devices")
            assert assert_problem(anonymous, 401, "unauthenticated")["detail"] == (
                "authentication required"
            )

            await redis.restore()

            async def served() -> bool:
                response = await client.get("/api/v1/devices", headers=token)
                return response.status_code == 200

            await eventually(served)
            assert (await client.get("/health/ready")).status_code == 200


def test_gateway_without_a_jwt_secret_exits_with_one_line() -> None:
    result = run_gateway({"ROADWATCH_AUTH__JWT_SECRET": ""})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("roadwatch: ROADWATCH_AUTH__JWT_SECRET: required by the gateway")


def test_gateway_with_an_unreachable_cache_exits_with_one_line() -> None:
    result = run_gateway(
        {
            "ROADWATCH_AUTH__JWT_SECRET": "s" * 40,
            "ROADWATCH_CACHE_URL": f"redis://127.0.0.1:{free_port()}/0",
        }
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("roadwatch: ROADWATCH_CACHE_URL: cannot reach redis://127.0.0.1:")
