"""The transactional outbox, its relay and the consumers' inbox: nothing committed is lost,
nothing is applied twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.platform.events import Event, new_event
from roadwatch.platform.events.bus import BusUnavailable, Subscription, create_bus
from roadwatch.platform.events.inbox import idempotent
from tests.fixtures.app import RunningApp, run_app
from tests.fixtures.backends import Backend
from tests.fixtures.tcp_proxy import TcpProxy
from tests.support.waiting import eventually, with_port


def recorder(seen: list[Event]) -> Callable[[Event, AsyncSession], Awaitable[None]]:
    async def handle(event: Event, session: AsyncSession) -> None:
        seen.append(event)

    return handle


async def create_devices(running: RunningApp, admin: dict[str, str], count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response = await running.client.post(
            "/api/v1/devices", json={"name": f"d-{uuid.uuid4().hex[:8]}"}, headers=admin
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def test_events_committed_while_the_bus_is_cut_are_delivered_when_it_returns(
    distributed_backend: Backend, tcp_proxy: type[TcpProxy]
) -> None:
    backend = distributed_backend
    proxy = tcp_proxy("127.0.0.1", 5672)
    await proxy.start()
    settings = backend.settings(bus_url=with_port(backend.bus_url, proxy.port))
    seen: list[Event] = []
    group = "test-cut-consumer"
    backend.extra_groups.append(group)
    # the consumer connects directly, so only the publishing side loses its connection
    consumer = create_bus(backend.bus_url, backend.bus.exchange, backend.bus.queue_prefix)
    async with run_app(settings) as running:
        consumer.subscribe(
            Subscription(
                group, ("devices.device.*",), idempotent(running.platform.db, group, recorder(seen))
            )
        )
        await consumer.start()
        try:
            admin = running.as_role_headers_admin()
            await proxy.cut()
            ids = await create_devices(running, admin, 5)
            # each device: its credentials, then its creation
            assert await running.platform.relay.pending() == 10
            ready = await running.client.get("/health/ready")
            assert ready.status_code == 503
            assert "bus" in ready.json()["down"]
            await proxy.restore()
            await eventually(lambda: len(seen) >= 5)
            assert sorted(e.entity_id for e in seen) == sorted(ids)
            assert await running.platform.relay.pending() == 0
            await eventually(lambda: _ready(running))
        finally:
            await consumer.close()


async def _ready(running: RunningApp) -> bool:
    return (await running.client.get("/health/ready")).status_code == 200


async def test_an_event_delivered_twice_is_applied_once(
    backend: Backend, running: RunningApp
) -> None:
    seen: list[Event] = []
    group = "test-dedupe"
    backend.extra_groups.append(group)
    bus = create_bus(backend.bus_url, backend.bus.exchange, backend.bus.queue_prefix)
    bus.subscribe(
        Subscription(group, ("tests.#",), idempotent(running.platform.db, group, recorder(seen)))
    )
    await bus.start()
    try:
        event = new_event("tests.thing.happened", "thing", "t1", {"n": 1})
        other = new_event("tests.thing.happened", "thing", "t2", {"n": 2})
        await bus.publish([event, event, other])
        await bus.publish([event])
        await eventually(lambda: len(seen) >= 2)
        await asyncio.sleep(0.3)  # room for a wrong third delivery to show up
        assert [e.entity_id for e in seen] == ["t1", "t2"]
    finally:
        await bus.close()


async def test_a_failing_in_process_consumer_leaves_the_event_in_the_outbox_until_it_succeeds(
    embedded_backend: Backend,
) -> None:
    # (over RabbitMQ the broker holds the message instead; the consumer nacks and retries)
    backend = embedded_backend
    attempts: list[str] = []
    failing = {"on": True}

    async def flaky(event: Event, session: AsyncSession) -> None:
        attempts.append(event.id)
        if failing["on"]:
            raise RuntimeError("downstream not ready")

    async with run_app(backend.settings()) as running:
        running.platform.bus.subscribe(
            Subscription(
                "test-flaky",
                ("devices.device.*",),
                idempotent(running.platform.db, "test-flaky", flaky),
            )
        )
        await create_devices(running, running.as_role_headers_admin(), 1)
        await eventually(lambda: len(attempts) >= 2)
        # the device's credentials event came in the same batch and waits with it (its other
        # consumers drop the repeat through their inbox)
        assert await running.platform.relay.pending() == 2
        failing["on"] = False
        await eventually(lambda: _no_pending(running))
        # it was applied exactly once: every attempt before success rolled back its inbox row
        assert len(set(attempts)) == 1


async def _no_pending(running: RunningApp) -> bool:
    return await running.platform.relay.pending() == 0


async def test_one_event_that_cannot_be_handled_holds_up_only_itself_and_those_after_it(
    backend: Backend, running: RunningApp
) -> None:
    handled: list[str] = []
    group = "test-poison"
    backend.extra_groups.append(group)

    async def picky(event: Event, session: AsyncSession) -> None:
        if event.payload["n"] == 3:
            raise RuntimeError("cannot handle n=3")
        handled.append(event.entity_id)

    bus = create_bus(backend.bus_url, backend.bus.exchange, backend.bus.queue_prefix)
    bus.subscribe(Subscription(group, ("tests.#",), idempotent(running.platform.db, group, picky)))
    await bus.start()
    try:
        events = [new_event("tests.thing.happened", "thing", f"t{n}", {"n": n}) for n in range(6)]
        try:
            await bus.publish(events)
        except BusUnavailable:
            pass  # in-process: the failure comes back to the publisher
        # delivered together, they fell back to one by one: t0..t2 are in, t3 never
        await eventually(lambda: handled[:3] == ["t0", "t1", "t2"])
        await asyncio.sleep(0.3)
        assert "t3" not in handled
    finally:
        await bus.close()
