"""Pushing shared-attribute changes and queued RPC calls to devices connected over MQTT.

Each process pushes only to the devices whose MQTT session it holds (its session registry),
so replicas need no signalling between them: every process reads the database, on a change
made here at once (wakeup.py), else every POLL_INTERVAL_S (200 ms). That interval, plus a
query, is the delivery latency for a change made on another replica.

Shared changes are read in history-id order through one process-wide cursor. On PostgreSQL
ids are handed out before commit, so a smaller id may appear after a larger one: ids
skipped over are looked for again for GAP_WAIT_S before they count as rolled back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict

import orjson
from sqlalchemy import select

from roadwatch.platform.runtime import Platform
from roadwatch.telemetry import rpc
from roadwatch.telemetry.attributes import Scope, last_change_id, merge_changes
from roadwatch.telemetry.models import AttributeChange, RpcCall
from roadwatch.telemetry.mqtt.registry import SessionRegistry, registry_for
from roadwatch.telemetry.rpc_states import RpcStatus
from roadwatch.telemetry.wakeup import POLL_INTERVAL_S, wakeup_for

log = logging.getLogger(__name__)

ATTRIBUTES_TOPIC = "v1/devices/me/attributes"
RPC_REQUEST_TOPIC = "v1/devices/me/rpc/request/"
GAP_WAIT_S = 5.0
MAX_ROWS = 5000


def rpc_request_payload(call: RpcCall) -> bytes:
    """The call as ThingsBoard sends it: `{"method": ..., "params": ...}` (MQTT; the id is in
    the topic) — the HTTP long-poll adds `"id"`."""
    return orjson.dumps({"method": call.method, "params": orjson.loads(call.params)})


class _ChangeCursor:
    """Which shared-attribute history rows this process has already pushed."""

    def __init__(self, floor: int) -> None:
        # every id up to `floor` is handled; `seen` are handled ids above it
        self.floor = floor
        self.seen: set[int] = set()
        self.gap_since: float | None = None

    def advance(self, now: float) -> None:
        while self.floor + 1 in self.seen:
            self.floor += 1
            self.seen.discard(self.floor)
        if not self.seen:
            self.gap_since = None
            return
        if self.gap_since is None:
            self.gap_since = now
        elif now - self.gap_since > GAP_WAIT_S:
            # what never appeared was rolled back
            self.floor = min(self.seen) - 1
            self.gap_since = None
            self.advance(now)


class MqttPusher:
    def __init__(self, platform: Platform, registry: SessionRegistry) -> None:
        self.platform = platform
        self.registry = registry
        self.cursor: _ChangeCursor | None = None
        # devices with a push under way (a QoS 1 push waits for its PUBACK)
        self.busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def tick(self) -> None:
        if self.cursor is None:
            async with self.platform.db.session() as session:
                # changes made before this process started are not replayed
                self.cursor = _ChangeCursor(await last_change_id(session))
        updates = await self._new_shared_changes(self.cursor)
        if not len(self.registry):
            return
        calls = await self._queued_calls(self.registry.connected_ids())
        for device_id in set(updates) | set(calls):
            if device_id in self.busy:
                continue
            self.busy.add(device_id)
            task = asyncio.create_task(
                self._push(device_id, updates.get(device_id, []), calls.get(device_id, []))
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _new_shared_changes(self, cursor: _ChangeCursor) -> dict[str, list[bytes]]:
        async with self.platform.db.session() as session:
            rows = list(
                await session.scalars(
                    select(AttributeChange)
                    .where(AttributeChange.id > cursor.floor)
                    .order_by(AttributeChange.id)
                    .limit(MAX_ROWS)
                )
            )
        fresh = [r for r in rows if r.id not in cursor.seen]
        cursor.seen.update(r.id for r in fresh)
        cursor.advance(time.monotonic())
        by_device: dict[str, list[AttributeChange]] = defaultdict(list)
        for row in fresh:
            if row.scope == Scope.SHARED.value and self.registry.is_connected(row.device_id):
                by_device[row.device_id].append(row)
        out: dict[str, list[bytes]] = {}
        for device_id, changes in by_device.items():
            update = merge_changes(changes)
            if update is not None:
                out[device_id] = [orjson.dumps(update.payload())]
        return out

    async def _queued_calls(self, connected: set[str]) -> dict[str, list[RpcCall]]:
        # queued calls are few (they end within their timeout): one indexed query for all
        async with self.platform.db.session() as session:
            rows = await session.scalars(
                select(RpcCall)
                .where(RpcCall.status == RpcStatus.QUEUED.value, RpcCall.expires_ts > rpc.now_ms())
                .order_by(RpcCall.created_ts, RpcCall.request_id)
            )
            calls: dict[str, list[RpcCall]] = defaultdict(list)
            for call in rows:
                if call.device_id in connected:
                    calls[call.device_id].append(call)
        return calls

    async def _push(self, device_id: str, updates: list[bytes], calls: list[RpcCall]) -> None:
        try:
            for payload in updates:
                await self.registry.publish_to_device(device_id, ATTRIBUTES_TOPIC, payload)
            for call in calls:
                await self._push_call(device_id, call)
        except Exception:
            log.exception("pushing to device %s failed", device_id)
        finally:
            self.busy.discard(device_id)

    async def _push_call(self, device_id: str, call: RpcCall) -> None:
        topic = f"{RPC_REQUEST_TOPIC}{call.request_id}"
        qos = self.registry.granted_qos(device_id, topic)
        if qos is None:
            return  # not subscribed to RPC requests: the call waits (an HTTP poll may take it)
        if not await rpc.claim_for_push(self.platform, call):
            return
        if not await self.registry.publish_to_device(device_id, topic, rpc_request_payload(call)):
            await rpc.requeue(self.platform, call)
        elif qos >= 1:
            await rpc.mark_delivered(self.platform, call)


async def push_to_mqtt_devices(platform: Platform) -> None:
    """The telemetry module's task: push to the devices connected to this process."""
    pusher = MqttPusher(platform, registry_for(platform))
    wakeup = wakeup_for(platform)

    async def nothing() -> None:
        return None

    while True:
        await pusher.tick()
        # sleeps until a change is made here, or POLL_INTERVAL_S
        await wakeup.poll(nothing, POLL_INTERVAL_S)
