"""In the distributed shape an event leaves the service's process through RabbitMQ."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx

from roadwatch.platform.events import Event
from roadwatch.platform.events.bus import Subscription, create_bus
from tests.fixtures.backends import Backend
from tests.fixtures.tokens import admin_headers
from tests.gateway.stack import devices_service
from tests.support.waiting import eventually


async def test_a_device_created_in_one_process_is_consumed_in_another(
    distributed_backend: Backend, tmp_path: Path
) -> None:
    backend = distributed_backend
    group = "test-cross-process"
    backend.extra_groups.append(group)
    seen: list[Event] = []

    async def record(events: Sequence[Event]) -> None:
        seen.extend(events)

    # this test process is the consumer; the devices service runs in its own process
    consumer = create_bus(backend.bus_url, backend.bus.exchange, backend.bus.queue_prefix)
    consumer.subscribe(Subscription(group, ("devices.device.*",), record))
    await consumer.start()
    try:
        with devices_service(backend, tmp_path) as service:
            async with httpx.AsyncClient(base_url=service.url, timeout=15) as client:
                created = await client.post(
                    "/api/v1/devices",
                    json={"name": "cam-x-1", "type": "camera"},
                    headers={**admin_headers(backend), "X-Request-ID": "xp-1"},
                )
                assert created.status_code == 201, created.text
            await eventually(lambda: len(seen) == 1, timeout_s=20)
    finally:
        await consumer.close()

    event = seen[0]
    assert event.type == "devices.device.created"
    assert event.correlation_id == "xp-1"
    assert event.entity_id == created.json()["id"]
    assert event.payload["state"]["name"] == "cam-x-1"
    assert event.actor == "user:test-administrator"
