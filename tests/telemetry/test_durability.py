"""What the device API acknowledged survives the server being killed in the middle of ingest."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import select, tuple_

from roadwatch.platform.db import Database
from roadwatch.telemetry.models import TsPoint
from tests.fixtures.backends import Backend
from tests.fixtures.server import roadwatch_process
from tests.fixtures.tokens import admin_headers
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

SENDERS = 4
POINTS_PER_BATCH = 100


async def register_device(url: str, backend: Backend) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=url, headers=admin_headers(backend)) as client:
        created = await client.post("/api/v1/devices", json={"name": "loop-crash-1"})
        assert created.status_code == 201, created.text
        device = created.json()

        async def known() -> bool:
            probe = await client.post(f"/api/v1/{device['access_token']}/telemetry", content=b"{}")
            return probe.status_code != 401

        await eventually(known, timeout_s=20)
    return device["id"], device["access_token"]


async def send_until_refused(
    url: str, token: str, sender: int, acknowledged: set[tuple[str, int]], stop: asyncio.Event
) -> None:
    """Post batches with fresh timestamps; remember each point only once it is answered 200."""
    base = int(time.time() * 1000) - 3_600_000 + sender * 10_000_000
    batch = 0
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        while not stop.is_set():
            start = base + batch * POINTS_PER_BATCH
            body = [
                {"ts": start + i, "values": {f"lane{sender}": i}} for i in range(POINTS_PER_BATCH)
            ]
            try:
                response = await client.post(
                    f"/api/v1/{token}/telemetry",
                    content=orjson.dumps(body),
                    headers={"content-type": "application/json"},
                )
            except httpx.HTTPError:
                return  # the server is gone: what was not answered is not promised
            if response.status_code == 200:
                acknowledged.update((f"lane{sender}", start + i) for i in range(POINTS_PER_BATCH))
            batch += 1


async def test_acknowledged_points_survive_kill_minus_9(backend: Backend, tmp_path: Path) -> None:
    acknowledged: set[tuple[str, int]] = set()
    stop = asyncio.Event()
    with roadwatch_process(["serve"], backend.env(), tmp_path / "first.log") as server:
        device_id, token = await register_device(server.url, backend)
        senders = [
            asyncio.create_task(send_until_refused(server.url, token, n, acknowledged, stop))
            for n in range(SENDERS)
        ]
        await eventually(lambda: len(acknowledged) >= 20 * POINTS_PER_BATCH, timeout_s=60)
        # no shutdown code runs: whatever was only in memory is lost
        await asyncio.to_thread(server.kill)
        await asyncio.wait_for(asyncio.gather(*senders), timeout=30)

    with roadwatch_process(["serve"], backend.env(), tmp_path / "second.log"):
        db = Database(backend.database_url)
        try:
            async with db.session() as session:
                found: set[tuple[str, int]] = set()
                wanted = sorted(acknowledged)
                for start in range(0, len(wanted), 500):
                    chunk = wanted[start : start + 500]
                    rows = await session.execute(
                        select(TsPoint.key, TsPoint.ts).where(
                            TsPoint.device_id == device_id,
                            tuple_(TsPoint.key, TsPoint.ts).in_(chunk),
                        )
                    )
                    found.update((key, ts) for key, ts in rows)
        finally:
            await db.dispose()
    missing = acknowledged - found
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged points lost"
