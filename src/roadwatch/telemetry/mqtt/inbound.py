"""What a device publishes, handled in the order it came, each message acknowledged once done.

Telemetry queued up together is stored in one transaction, then its PUBACKs go out (MQTT
4.6: in order). The other ThingsBoard device topics (client attributes, attribute requests,
RPC) go to the telemetry service's `on_device_message` one at a time, and what it returns
is published back to the device.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from roadwatch.platform.context import correlation_id_var
from roadwatch.platform.errors import DomainError, is_unavailable
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry import device_messages, gateway_messages
from roadwatch.telemetry.attributes import InvalidAttributes
from roadwatch.telemetry.group_commit import group_commit
from roadwatch.telemetry.ingest import DeviceRef, InvalidPayload, Point, parse_points
from roadwatch.telemetry.mqtt import metrics, topics
from roadwatch.telemetry.mqtt.outbound import Hangup, Outbound
from roadwatch.telemetry.mqtt.packets import MQTT_5, PubAck, Publish, Reason
from roadwatch.telemetry.mqtt.registry import registry_for
from roadwatch.telemetry.profiles import ProfileRules, ValueOutOfRange, rules_for
from roadwatch.telemetry.status import note_activity

log = logging.getLogger(__name__)

# messages stored in one transaction at most
MAX_BATCH = 256


@dataclass(slots=True)
class Received:
    publish: Publish
    read_at: float
    now_ms: int


# a verdict on one message: a reason code, and what was wrong when it is not Success
Verdict = tuple[int, str]
Push = Callable[[str, bytes], Awaitable[bool]]


class Inbound:
    def __init__(
        self,
        platform: Platform,
        device: DeviceRef,
        out: Outbound,
        push: Push,
        log_fields: Callable[[], dict[str, Any]],
        capacity: int,
    ) -> None:
        self.platform = platform
        self.device = device
        self.device_id = device.id
        self.profile_id = device.profile_id
        self.out = out
        self.push = push
        self.log_fields = log_fields
        # None ends the loop once everything before it is handled
        self.queue: asyncio.Queue[Received | None] = asyncio.Queue(capacity)

    async def run(self) -> None:
        while True:
            first = await self.queue.get()
            if first is None:
                return
            batch = [first]
            ended = False
            while len(batch) < MAX_BATCH and not self.queue.empty():
                item = self.queue.get_nowait()
                if item is None:
                    ended = True
                    break
                batch.append(item)
            await self._handle(batch)
            if ended:
                return

    async def _handle(self, batch: list[Received]) -> None:
        telemetry: list[Received] = []
        for item in batch:
            topic = item.publish.topic
            if device_messages.handles(topic) or gateway_messages.handles(topic):
                # what came before is done (and acknowledged) first
                await self._store(telemetry)
                telemetry = []
                await self._device_message(item)
            else:
                telemetry.append(item)
        await self._store(telemetry)

    # -- telemetry --------------------------------------------------------------------------

    async def _store(self, batch: list[Received]) -> None:
        if not batch:
            return
        points: list[Point] = []
        rules = await rules_for(self.platform, self.profile_id)
        verdicts = [self._take(item, points, rules) for item in batch]
        if points:
            correlation_id_var.set(uuid.uuid4().hex)
            try:
                await group_commit(self.platform, "mqtt").store(self.device_id, points)
            except Exception as exc:
                taken = sum(1 for reason, _ in verdicts if reason == Reason.SUCCESS)
                metrics.REJECTED.labels("store_failed").inc(taken)
                raise self._failed("storing telemetry", exc) from exc
        # every answer of the run written at once, then one wait for the transport
        for item, verdict in zip(batch, verdicts, strict=True):
            self._ack(item, verdict)
        await self.out.flush()
        await self.note_activity()

    def _take(self, item: Received, points: list[Point], rules: ProfileRules) -> Verdict:
        """Add the message's points to the batch, or say why it is refused."""
        publish = item.publish
        if publish.topic != topics.TELEMETRY:
            return self._refused(
                "unsupported_topic",
                Reason.TOPIC_NAME_INVALID,
                f"topic {publish.topic!r} is not supported (yet)",
            )
        max_future_ms = self.platform.settings.telemetry.max_future_s * 1000
        try:
            taken = parse_points(publish.payload, item.now_ms, max_future_ms)
            rules.check(taken)
        except ValueOutOfRange as exc:
            return self._refused("out_of_range", Reason.PAYLOAD_FORMAT_INVALID, exc.detail)
        except InvalidPayload as exc:
            return self._refused("invalid_payload", Reason.PAYLOAD_FORMAT_INVALID, exc.detail)
        points.extend(taken)
        return Reason.SUCCESS, ""

    # -- attributes and RPC -----------------------------------------------------------------

    async def _device_message(self, item: Received) -> None:
        publish = item.publish
        correlation_id_var.set(uuid.uuid4().hex)
        try:
            if gateway_messages.handles(publish.topic):
                replies = await gateway_messages.on_gateway_message(
                    self.platform,
                    registry_for(self.platform),
                    self.device_id,
                    self.device.gateway,
                    publish.topic,
                    publish.payload,
                )
            else:
                replies = await device_messages.on_device_message(
                    self.platform, self.device_id, publish.topic, publish.payload
                )
        except (InvalidPayload, InvalidAttributes) as exc:
            verdict = self._refused("invalid_payload", Reason.PAYLOAD_FORMAT_INVALID, exc.detail)
            self._ack(item, verdict)
            await self.out.flush()
            return
        except DomainError as exc:
            # e.g. an RPC method the platform does not know, a reply to no call
            verdict = self._refused("refused", Reason.IMPLEMENTATION_SPECIFIC_ERROR, exc.detail)
            self._ack(item, verdict)
            await self.out.flush()
            return
        except Exception as exc:
            raise self._failed(f"handling a message on {publish.topic}", exc) from exc
        self._ack(item, (Reason.SUCCESS, ""))
        await self.out.flush()
        for topic, payload in replies:
            # delivered if the device subscribed to the reply's topic, as with any broker
            await self.push(topic, payload)

    # -- common -----------------------------------------------------------------------------

    def _refused(self, label: str, reason: int, detail: str) -> Verdict:
        metrics.REJECTED.labels(label).inc()
        log.warning("mqtt: message refused: %s", detail, extra=self.log_fields())
        return reason, detail

    def _failed(self, doing: str, exc: Exception) -> Hangup:
        # an unreachable database is expected now and then; anything else is a bug
        unavailable = is_unavailable(exc)
        log.log(
            logging.WARNING if unavailable else logging.ERROR,
            "mqtt: %s failed: %r",
            doing,
            exc,
            exc_info=not unavailable,
            extra=self.log_fields(),
        )
        # nothing is acknowledged: the device sends it again once reconnected
        return Hangup("store_failed", Reason.SERVER_BUSY, "cannot be stored now; retry")

    def _ack(self, item: Received, verdict: Verdict) -> None:
        """Write the PUBACK for a message (the caller flushes)."""
        publish = item.publish
        if publish.packet_id is None:
            return  # QoS 0
        reason, detail = verdict
        if reason == Reason.SUCCESS:
            self.out.write(PubAck(publish.packet_id))
            metrics.PUBACK_SECONDS.observe(time.perf_counter() - item.read_at)
        elif self.out.version == MQTT_5:
            props = self.out.reason_string(detail)
            self.out.write(PubAck(publish.packet_id, reason, props))
        # MQTT 3.1.1 has no negative PUBACK: the message stays unacknowledged (and logged)

    async def note_activity(self) -> None:
        # online status is a side matter: failing to record it never ends the connection
        try:
            await note_activity(self.platform, self.device_id)
        except Exception as exc:
            log.warning("mqtt: device activity not recorded: %r", exc, extra=self.log_fields())
