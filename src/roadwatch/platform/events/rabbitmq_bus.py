"""The RabbitMQ bus of the distributed shape (aio-pika).

A durable topic exchange keyed by event type; a durable queue per consumer group, so
replicas of one service share its work; persistent messages with publisher confirms; the
robust connection reconnects with back-off and re-declares what it declared.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from roadwatch.platform.events.bus import MAX_BATCH, BusUnavailable, Subscription
from roadwatch.platform.events.envelope import Event

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 10.0
CONSUMER_PREFETCH = 64


class RabbitMQBus:
    def __init__(self, url: str, exchange: str, queue_prefix: str) -> None:
        self._url = url
        self._exchange_name = exchange
        self._queue_prefix = queue_prefix
        self._subscriptions: list[Subscription] = []
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: Any = None
        self._exchange: Any = None
        self._publish_lock = asyncio.Lock()
        self._consumers: list[asyncio.Task[None]] = []

    def subscribe(self, subscription: Subscription) -> None:
        self._subscriptions.append(subscription)

    def queue_name(self, group: str) -> str:
        return f"{self._queue_prefix}.{group}"

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(
            self._url, timeout=5, reconnect_interval=1, fail_fast="true"
        )
        self._publish_channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await self._publish_channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        for sub in self._subscriptions:
            await self._consume(sub)

    async def _consume(self, sub: Subscription) -> None:
        assert self._connection is not None
        channel = await self._connection.channel()
        batched = sub.deliver_many is not None
        await channel.set_qos(prefetch_count=MAX_BATCH if batched else CONSUMER_PREFETCH)
        exchange = await channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(self.queue_name(sub.group), durable=True)
        for pattern in sub.patterns:
            await queue.bind(exchange, routing_key=pattern)

        # One message at a time, in queue order: events about one entity stay in the order
        # they were committed (prefetch still batches the network traffic).
        drain = self._drain_batches if batched else self._drain
        self._consumers.append(asyncio.create_task(drain(queue, sub)))

    async def _drain(self, queue: Any, sub: Subscription) -> None:
        async with queue.iterator() as messages:
            async for message in messages:
                await self._handle(message, sub)

    async def _drain_batches(self, queue: Any, sub: Subscription) -> None:
        # what has arrived goes to the consumer together, still in queue order; nothing
        # waits for a batch to fill, so a quiet queue delivers one event at a time
        arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        tag = await queue.consume(arrived.put)
        try:
            while True:
                batch = [await arrived.get()]
                while len(batch) < MAX_BATCH and not arrived.empty():
                    batch.append(arrived.get_nowait())
                await self._handle_many(batch, sub)
        finally:
            with contextlib.suppress(Exception):
                await queue.cancel(tag)

    async def _handle_many(
        self, messages: list[AbstractIncomingMessage], sub: Subscription
    ) -> None:
        assert sub.deliver_many is not None
        events: list[Event] = []
        taken: list[AbstractIncomingMessage] = []
        for message in messages:
            try:
                events.append(Event.from_json(message.body))
                taken.append(message)
            except Exception:
                log.exception("undecodable message rejected", extra={"group": sub.group})
                await message.reject(requeue=False)
        if not events:
            return
        try:
            await sub.deliver_many(events)
        except Exception:
            log.exception("consumer failed", extra={"group": sub.group, "events": len(events)})
            await asyncio.sleep(1.0)
            for message in taken:
                await message.nack(requeue=True)
            return
        for message in taken:
            await message.ack()

    async def _handle(self, message: AbstractIncomingMessage, sub: Subscription) -> None:
        try:
            event = Event.from_json(message.body)
        except Exception:
            # not ours to understand: reject rather than loop on it
            log.exception("undecodable message rejected", extra={"group": sub.group})
            await message.reject(requeue=False)
            return
        try:
            await sub.deliver(event)
        except Exception:
            log.exception("consumer failed", extra={"group": sub.group, "event": event.id})
            # back off before the broker hands it out again, so a database that is down is
            # not hammered; the message stays in the queue meanwhile
            await asyncio.sleep(1.0)
            await message.nack(requeue=True)
            return
        await message.ack()

    async def publish(self, events: Sequence[Event]) -> None:
        if self._exchange is None or self._connection is None or self._connection.is_closed:
            raise BusUnavailable("not connected to RabbitMQ")
        async with self._publish_lock:
            try:
                confirmations = [
                    self._exchange.publish(
                        aio_pika.Message(
                            body=event.to_json(),
                            content_type="application/json",
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            message_id=event.id,
                            correlation_id=event.correlation_id or None,
                            type=event.type,
                        ),
                        routing_key=event.type,
                        timeout=PUBLISH_TIMEOUT_S,
                    )
                    for event in events
                ]
                await asyncio.gather(*confirmations)
            except Exception as exc:
                raise BusUnavailable(f"RabbitMQ did not confirm: {exc}") from exc

    async def check(self) -> None:
        if self._connection is None or self._connection.is_closed:
            raise ConnectionError("RabbitMQ connection is closed")
        if self._publish_channel is None or self._publish_channel.is_closed:
            raise ConnectionError("RabbitMQ channel is closed")
        # a round trip: a connection that died silently is noticed now, not at the next
        # heartbeat
        await self._publish_channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True, passive=True
        )

    async def close(self) -> None:
        for task in self._consumers:
            task.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)
        self._consumers.clear()
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
