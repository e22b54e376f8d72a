"""Liveness and readiness: ready means every configured dependency answers right now."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from roadwatch.platform.metrics import DEPENDENCY_UP

Check = Callable[[], Awaitable[None]]
CHECK_TIMEOUT_S = 2.0


class HealthChecks:
    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        self._checks[name] = check

    async def run(self) -> dict[str, str]:
        async def one(name: str, check: Check) -> tuple[str, str]:
            try:
                async with asyncio.timeout(CHECK_TIMEOUT_S):
                    await check()
            except TimeoutError:
                return name, f"down: no answer within {CHECK_TIMEOUT_S:g}s"
            except Exception as exc:
                return name, f"down: {type(exc).__name__}: {exc}"[:300]
            return name, "up"

        results = dict(await asyncio.gather(*(one(n, c) for n, c in self._checks.items())))
        for name, status in results.items():
            DEPENDENCY_UP.labels(name).set(1 if status == "up" else 0)
        return results


router = APIRouter(tags=["health"])


@router.get("/health/live", operation_id="health_live")
async def live() -> dict[str, str]:
    """The process is running and serving requests."""
    return {"status": "live"}


@router.get("/health/ready", operation_id="health_ready")
async def ready(request: Request) -> JSONResponse:
    """Every configured dependency answers; 503 names the ones that do not."""
    checks: HealthChecks = request.app.state.platform.health
    results = await checks.run()
    down = sorted(name for name, status in results.items() if status != "up")
    if down:
        return JSONResponse(
            {"status": "not ready", "down": down, "checks": results},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ready", "checks": results})
