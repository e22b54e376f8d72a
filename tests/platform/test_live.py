"""The live WebSocket (`/api/v1/ws`): who may follow which channel, and events reaching the
clients that subscribed, from whichever process published them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from roadwatch.app import create_app
from roadwatch.modules import ALL
from roadwatch.platform.auth import ROLE_PERMISSIONS, Principal, Role
from roadwatch.platform.events import Event
from roadwatch.platform.live import Channel, LiveHub
from roadwatch.platform.live.hub import CLIENT_QUEUE
from tests.factories.devices import create_device
from tests.fixtures.backends import DISTRIBUTED, Backend
from tests.fixtures.server import free_port
from tests.fixtures.tokens import access_token

CHANNELS = {c.pattern: c.permission for m in ALL for c in m.live_channels}


@asynccontextmanager
async def serving(backend: Backend, services: list[str] | None = None) -> AsyncIterator[str]:
    """The application on a real port in this process; yields its base URL."""
    port = free_port()
    app = create_app(backend.settings(), services)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def receive(ws: ClientConnection, timeout_s: float = 20) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
    return message


async def ask(ws: ClientConnection, message: dict[str, Any] | str) -> dict[str, Any]:
    await ws.send(message if isinstance(message, str) else json.dumps(message))
    return await receive(ws)


async def test_a_connection_without_valid_credentials_is_closed_4401(backend: Backend) -> None:
    async with serving(backend) as host:
        for suffix in ("", "?access_token=not-a-token", "?api_key=rw_nope"):
            async with connect(f"ws://{host}/api/v1/ws{suffix}") as ws:
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4401


async def test_each_role_is_offered_and_may_follow_only_the_channels_its_permissions_cover(
    embedded_backend: Backend,
) -> None:
    backend = embedded_backend
    async with serving(backend) as host:
        for role in Role:
            token = access_token(backend, role=role.value)
            allowed = {p for p, perm in CHANNELS.items() if perm in ROLE_PERMISSIONS[role]}
            # browsers cannot set headers: the token in the query is accepted too
            async with connect(f"ws://{host}/api/v1/ws?access_token={token}") as ws:
                welcome = await receive(ws)
                assert welcome["type"] == "welcome"
                assert {c["channel"] for c in welcome["channels"]} == allowed, role
                for pattern, permission in CHANNELS.items():
                    answer = await ask(ws, {"type": "subscribe", "channel": pattern})
                    if pattern in allowed:
                        assert answer["type"] == "subscribed", (role, answer)
                    else:
                        assert answer["error"] == "forbidden", (role, answer)
                        assert permission in answer["detail"]


async def test_bad_messages_are_answered_with_what_is_wrong_and_the_connection_stays(
    embedded_backend: Backend,
) -> None:
    token = access_token(embedded_backend)
    async with (
        serving(embedded_backend) as host,
        connect(
            f"ws://{host}/api/v1/ws", additional_headers={"Authorization": f"Bearer {token}"}
        ) as ws,
    ):
        await receive(ws)
        cases: list[tuple[dict[str, Any] | str, str, str]] = [
            ("{not json", "bad-message", "not JSON"),
            ("[1, 2]", "bad-message", "JSON object"),
            ({"type": "dance"}, "bad-message", "subscribe, unsubscribe or ping"),
            ({"type": "subscribe"}, "bad-message", "channel"),
            ({"type": "subscribe", "channel": "telemetry.#"}, "unknown-channel", "known:"),
            (
                {"type": "subscribe", "channel": "analytics.alarm.*", "entity_ids": "a"},
                "bad-message",
                "entity_ids",
            ),
        ]
        for message, error, detail in cases:
            answer = await ask(ws, message)
            assert answer["type"] == "error"
            assert answer["error"] == error, answer
            assert detail in answer["detail"], answer
        assert await ask(ws, {"type": "ping"}) == {"type": "pong"}


async def test_telemetry_reaches_a_client_subscribed_to_that_device_only(
    backend: Backend,
) -> None:
    admin = {"Authorization": f"Bearer {access_token(backend)}"}
    # distributed: the device talks to one process, the client listens on another
    ingest_services = ["devices", "telemetry"] if backend.profile == DISTRIBUTED else None
    listen_services = ["identity"] if backend.profile == DISTRIBUTED else None
    async with (
        serving(backend, ingest_services) as ingest_host,
        httpx.AsyncClient(base_url=f"http://{ingest_host}", timeout=15) as client,
    ):
        watched = await create_device(client, admin)
        other = await create_device(client, admin)
        listen = serving(backend, listen_services) if listen_services else _same(ingest_host)
        async with (
            listen as listen_host,
            connect(f"ws://{listen_host}/api/v1/ws", additional_headers=admin) as ws,
        ):
            await receive(ws)
            subscribed = await ask(
                ws,
                {
                    "type": "subscribe",
                    "channel": "telemetry.batch_ingested",
                    "entity_ids": [watched["id"]],
                },
            )
            assert subscribed["type"] == "subscribed"
            for device, speed in ((other, 10.0), (watched, 42.5)):
                sent = await client.post(
                    f"/api/v1/{device['access_token']}/telemetry",
                    json={"ts": 1_700_000_000_000, "values": {"speed": speed}},
                )
                assert sent.status_code == 200, sent.text
            message = await receive(ws)
    assert message["type"] == "event"
    assert message["channel"] == "telemetry.batch_ingested"
    event = message["event"]
    assert event["entity_id"] == watched["id"]
    assert event["type"] == "telemetry.batch_ingested"
    assert "42.5" in json.dumps(event["payload"])


@asynccontextmanager
async def _same(host: str) -> AsyncIterator[str]:
    yield host


async def test_a_client_that_cannot_keep_up_is_marked_to_be_disconnected() -> None:
    hub = LiveHub([Channel("things.*", "devices:read")])
    reader = hub.connect(Principal(kind="user", id="u", role=Role.ADMINISTRATOR))
    hub.subscribe(reader, "things.*", None)
    events = [
        Event(type="things.moved", entity_type="thing", entity_id=str(n), payload={}, actor="x")
        for n in range(CLIENT_QUEUE + 1)
    ]
    await hub.deliver(events[:CLIENT_QUEUE])
    assert not reader.lagging.is_set()
    assert reader.queue.qsize() == CLIENT_QUEUE
    # one more than it may have waiting: not dropped silently, the client is told to go
    await hub.deliver(events[CLIENT_QUEUE:])
    assert reader.lagging.is_set()
