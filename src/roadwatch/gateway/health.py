"""The gateway's own liveness and readiness: ready means every configured upstream is live
and the cache holding the revocation list answers."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from roadwatch.platform.health import CHECK_TIMEOUT_S, HealthChecks

router = APIRouter(tags=["health"])


async def _upstream_live(client: httpx.AsyncClient, base_url: str) -> None:
    response = await client.get(f"{base_url.rstrip('/')}/health/live", timeout=CHECK_TIMEOUT_S)
    response.raise_for_status()


def upstream_checks(client: httpx.AsyncClient, upstreams: Mapping[str, str]) -> HealthChecks:
    checks = HealthChecks()
    for name, url in upstreams.items():
        checks.add(f"upstream:{name}", partial(_upstream_live, client, url))
    return checks


@router.get("/health/live", operation_id="gateway_health_live")
async def live() -> dict[str, str]:
    """The gateway process is running and serving requests."""
    return {"status": "live"}


@router.get("/health/ready", operation_id="gateway_health_ready")
async def ready(request: Request) -> JSONResponse:
    """Every configured upstream answers its liveness probe and the cache answers; 503 names
    the ones that do not."""
    checks: HealthChecks = request.app.state.gateway.health
    results = await checks.run()
    down = sorted(name for name, status in results.items() if status != "up")
    if down:
        return JSONResponse(
            {"status": "not ready", "down": down, "checks": results},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ready", "checks": results})
