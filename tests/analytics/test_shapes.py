"""The analytics service in each shape: two replicas sharing the stream without double
counting (distributed), and the rebuild command as an operator runs it."""

from __future__ import annotations

import random
import time

from sqlalchemy import update

from roadwatch.analytics.models import Rollup
from roadwatch.platform.auth import Role
from tests.analytics.brute import WIDTHS, assert_bucket_equal, brute_rollups
from tests.analytics.test_rollups import random_batches, rollups, send, stored_rollups
from tests.factories.devices import create_device
from tests.fixtures.app import run_app
from tests.fixtures.backends import Backend
from tests.support.cli import roadwatch
from tests.support.waiting import eventually

HOUR = 3_600_000


async def test_two_replicas_share_the_batches_without_double_counting(
    distributed_backend: Backend,
) -> None:
    settings = distributed_backend.settings()
    async with run_app(settings) as first, run_app(settings, ["analytics"]) as second:
        admin = first.as_role(Role.ADMINISTRATOR)
        devices = [await create_device(first.client, admin) for _ in range(2)]
        stored_by_device = []
        for n, device in enumerate(devices):
            sent, stored = random_batches(random.Random(10 + n))
            for batch in sent:
                await send(first.client, device["access_token"], batch)
            stored_by_device.append(stored)

        async def all_folded() -> bool:
            for device, stored in zip(devices, stored_by_device, strict=True):
                hours = await rollups(first, device["id"], "speed", "1h")
                want = sum(1 for k, _ in stored if k == "speed")
                if sum(b["count"] for b in hours.values()) != want:
                    return False
            return True

        await eventually(all_folded, timeout_s=40)
        for device, stored in zip(devices, stored_by_device, strict=True):
            for key in ("flow", "speed"):
                for resolution, width in WIDTHS.items():
                    # read from the second replica: both see the one store
                    got = await rollups(second, device["id"], key, resolution)
                    want = {b: v for (k, b), v in brute_rollups(stored, width).items() if k == key}
                    assert got.keys() == want.keys()
                    for bucket, expected in want.items():
                        assert_bucket_equal(got[bucket], expected, (key, resolution, bucket))


async def test_the_rebuild_command_recomputes_a_range(embedded_backend: Backend) -> None:
    start = (int(time.time() * 1000) // HOUR - 5) * HOUR
    async with run_app(embedded_backend.settings()) as running:
        admin = running.as_role(Role.ADMINISTRATOR)
        device = await create_device(running.client, admin)
        points = [
            {"ts": start + i * 61_000, "values": {"speed": float(i % 17)}} for i in range(120)
        ]
        response = await running.client.post(
            f"/api/v1/{device['access_token']}/telemetry", json=points
        )
        assert response.status_code == 200

        async def folded() -> bool:
            return bool(await stored_rollups(running, device["id"]))

        await eventually(folded)
        before = await stored_rollups(running, device["id"])
        # as if the rollups had been lost or computed by an older, wrong version
        async with running.platform.db.session() as session:
            await session.execute(
                update(Rollup).where(Rollup.device_id == device["id"]).values(count=0, sum=-1.0)
            )

    env = embedded_backend.env()
    result = roadwatch(
        "analytics", "rebuild", "--from", str(start), "--to", str(start + 3 * HOUR), env=env
    )
    assert result.returncode == 0, result.stderr
    assert "rebuilt rollups of 1 device(s) from 120 point(s)" in result.stdout

    async with run_app(embedded_backend.settings()) as running:
        assert await stored_rollups(running, device["id"]) == before

    wrong = roadwatch("analytics", "rebuild", "--from", "yesterday", "--to", "1", env=env)
    assert wrong.returncode == 2
    assert "--from" in wrong.stderr
    backwards = roadwatch(
        "analytics", "rebuild", "--from", "2026-01-02", "--to", "2026-01-01", env=env
    )
    assert backwards.returncode == 2
    assert "--to: must be after --from" in backwards.stderr
