"""What the device API acknowledged survives the server being killed in the middle of ingest."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select, tuple_

from roadwatch.platform.db import Database
from roadwatch.telemetry.models import TsPoint
from tests.fixtures.backends import Backend
from tests.fixtures.server import free_port, roadwatch_process
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


async def stored_of(backend: Backend, device_id: str, wanted: set[tuple[str, int]]) -> set[Any]:
    """Which of these (key, ts) points of the device the database holds."""
    db = Database(backend.database_url)
    found: set[tuple[str, int]] = set()
    try:
        async with db.session() as session:
            ordered = sorted(wanted)
            for start in range(0, len(ordered), 500):
                chunk = ordered[start : start + 500]
                rows = await session.execute(
                    select(TsPoint.key, TsPoint.ts).where(
                        TsPoint.device_id == device_id,
                        tuple_(TsPoint.key, TsPoint.ts).in_(chunk),
                    )
                )
                found.update((key, ts) for key, ts in rows)
    finally:
        await db.dispose()
    return found


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
        found = await stored_of(backend, device_id, acknowledged)
    missing = acknowledged - found
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged points lost"


class AckedPublisher:
    """A paho device publishing QoS 1 telemetry, remembering each point once its PUBACK
    came back with success (paho's network loop runs in its own thread)."""

    def __init__(self, port: int, token: str, sender: int) -> None:
        self.sender = sender
        self.key = f"mqtt{sender}"
        self.pending: dict[int, list[int]] = {}
        self.acknowledged: set[tuple[str, int]] = set()
        self.lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        self.client.username_pw_set(token)
        self.client.on_publish = self._on_publish
        connected = threading.Event()
        self.client.on_connect = lambda *_: connected.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert connected.wait(15), "no CONNACK"

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        with self.lock:
            stamps = self.pending.pop(mid, [])
            if reason == 0:
                self.acknowledged.update((self.key, ts) for ts in stamps)

    def publish_batches(self, stop: threading.Event) -> None:
        base = int(time.time() * 1000) - 7_200_000 + self.sender * 10_000_000
        batch = 0
        while not stop.is_set() and self.client.is_connected():
            start = base + batch * POINTS_PER_BATCH
            stamps = [start + i for i in range(POINTS_PER_BATCH)]
            body = orjson.dumps([{"ts": ts, "values": {self.key: ts % 1000}} for ts in stamps])
            with self.lock:
                info = self.client.publish("v1/devices/me/telemetry", body, qos=1)
                self.pending[info.mid] = stamps
            batch += 1
            # a window of unacknowledged messages, as a device keeps
            while len(self.pending) > 20 and not stop.is_set():
                time.sleep(0.005)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


async def test_points_acknowledged_over_mqtt_survive_kill_minus_9(
    backend: Backend, tmp_path: Path
) -> None:
    mqtt_port = free_port()
    env = {**backend.env(), "ROADWATCH_MQTT__PORT": str(mqtt_port)}
    stop = threading.Event()
    with roadwatch_process(["serve"], env, tmp_path / "first.log") as server:
        device_id, token = await register_device(server.url, backend)
        publisher = AckedPublisher(mqtt_port, token, 0)
        sending = asyncio.create_task(asyncio.to_thread(publisher.publish_batches, stop))
        await eventually(lambda: len(publisher.acknowledged) >= 20 * POINTS_PER_BATCH, timeout_s=60)
        # no shutdown code runs: whatever was only in memory is lost
        await asyncio.to_thread(server.kill)
        stop.set()
        await asyncio.wait_for(sending, timeout=30)
        publisher.close()
    with publisher.lock:
        promised = set(publisher.acknowledged)
    # the device kept sending until the socket closed: unacknowledged points are not promised
    assert publisher.pending

    with roadwatch_process(["serve"], env, tmp_path / "second.log"):
        found = await stored_of(backend, device_id, promised)
    missing = promised - found
    assert not missing, f"{len(missing)} of {len(promised)} acknowledged points lost"
