"""The RabbitMQ bus of the distributed shape (aio-pika).

A durable topic exchange keyed by event type; a durable queue per consumer group, so
replicas of one service share its work; persistent messages with publisher confirms; the
robust connection reconnects with back-off and re-declares what it declared.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from roadwatch.platform.events.bus import BusUnavailable, Subscription
from roadwatch.platform.events.envelope import Event

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 10.0
# also the most events a consumer is handed at once
CONSUMER_PREFETCH = 256


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
        await channel.set_qos(prefetch_count=CONSUMER_PREFETCH)
        exchange = await channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        if sub.transient:
            # server-named, exclusive to this connection, deleted with it
            queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        else:
            queue = await channel.declare_queue(self.queue_name(sub.group), durable=True)
        for pattern in sub.patterns:
            await queue.bind(exchange, routing_key=pattern)

        # Handled in queue order, as many at once as have arrived (up to the prefetch): events
        # about one entity stay in the order they were committed, and a burst costs its
        # consumer one transaction per batch rather than one per event.
        waiting: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        await queue.consume(waiting.put)
        self._consumers.append(asyncio.create_task(self._drain(waiting, sub)))

    async def _drain(
        self, waiting: asyncio.Queue[AbstractIncomingMessage], sub: Subscription
    ) -> None:
        while True:
            batch = [await waiting.get()]
            while len(batch) < CONSUMER_PREFETCH and not waiting.empty():
                batch.append(waiting.get_nowait())
            await self._handle(batch, sub)

    async def _handle(self, messages: list[AbstractIncomingMessage], sub: Subscription) -> None:
        events: list[Event] = []
        readable: list[AbstractIncomingMessage] = []
        for message in messages:
            try:
                events.append(Event.from_json(message.body))
                readable.append(message)
            except Exception:
                # not ours to understand: reject rather than loop on it
                log.exception("undecodable message rejected", extra={"group": sub.group})
                await message.reject(requeue=False)
        if not events:
            return
        try:
            await sub.deliver(events)
        except Exception:
            log.exception("consumer failed", extra={"group": sub.group, "event": events[0].id})
            # back off before the broker hands them out again, so a database that is down is
            # not hammered; the messages stay in the queue meanwhile (those the consumer
            # did take come back too, and its inbox drops them)
            await asyncio.sleep(1.0)
            for message in readable:
                await message.nack(requeue=True)
            return
        for message in readable:
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
