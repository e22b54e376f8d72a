"""Audit store throughput: events published on RabbitMQ, appended to the hash chain by the
audit service, then the whole chain verified.

    .venv/bin/python -m bench.audit [--events 100000] [--batch 1000]

One server process runs the audit service alone (`serve --services audit`) on a scratch
PostgreSQL database, consuming its durable queue bound to every routing key. The bench
publishes `--events` domain events (device and user updates carrying full state, telemetry
batch summaries, logins: the mix a city sees) in confirmed batches of `--batch`, and times
from the first publish until the store holds them all. Each run of events the queue has at
hand (up to 500) is one transaction: inbox check, chain-head lock, the event rows with their
hashes, entity references, the board.
Then `Integrity.verify` (what `roadwatch audit verify` runs) walks the same chain.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aio_pika
import asyncpg

from bench.common import pg_url, record, scratch_database, server
from roadwatch.audit.service import Integrity
from roadwatch.platform.db import Database
from roadwatch.platform.events import Event
from roadwatch.platform.events.rabbitmq_bus import RabbitMQBus
from roadwatch.platform.storage import FolderStore

AMQP_URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def event(n: int, devices: list[str], users: list[str]) -> Event:
    now = datetime.now(UTC)
    kind = n % 4
    if kind == 0:
        device = devices[n % len(devices)]
        return Event(
            type="devices.device.updated",
            entity_type="device",
            entity_id=device,
            payload={
                "state": {
                    "id": device,
                    "name": f"loop-{device[:8]}",
                    "type": "induction_loop",
                    "label": f"A1 km {n % 300}",
                    "location": {"lon": 24.1 + n / 1e7, "lat": 56.9},
                    "extra": {"lanes": 3},
                    "active": True,
                    "has_credentials": True,
                    "created_at": "2026-11-23T10:00:00Z",
                    "updated_at": now.isoformat(),
                }
            },
            actor="user:bench-operator",
            occurred_at=now,
            correlation_id=uuid.uuid4().hex,
            source="devices",
        )
    if kind == 1:
        user = users[n % len(users)]
        return Event(
            type="identity.login.succeeded",
            entity_type="login",
            entity_id=f"{user}@city.example",
            payload={"email": f"{user}@city.example", "user_id": user, "client": "10.0.0.7"},
            actor=f"user:{user}",
            occurred_at=now,
            source="identity",
        )
    device = devices[n % len(devices)]
    return Event(
        type="telemetry.batch_ingested",
        entity_type="device",
        entity_id=device,
        payload={
            "source": "http",
            "count": 10,
            "min_ts": 1_700_000_000_000 + n,
            "max_ts": 1_700_000_000_009 + n,
            "points": [[f"k{i}", 1_700_000_000_000 + n + i, i * 0.5] for i in range(10)],
        },
        actor=f"device:{device}",
        occurred_at=now,
        source="telemetry",
    )


async def stored(database: str) -> int:
    connection = await asyncpg.connect(pg_url(database, driver="postgresql"))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM audit_event"))
    finally:
        await connection.close()


async def drop_bus_names(exchange: str, queue: str) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        await channel.queue_delete(queue)
        await channel.exchange_delete(exchange)
    finally:
        await connection.close()


async def main(total: int, batch: int) -> None:
    exchange, prefix = f"rw-bench-{uuid.uuid4().hex[:8]}", f"rwb{uuid.uuid4().hex[:8]}"
    env = {
        "ROADWATCH_BUS_URL": AMQP_URL,
        "ROADWATCH_BUS_EXCHANGE": exchange,
        "ROADWATCH_BUS_QUEUE_PREFIX": prefix,
    }
    devices = [str(uuid.uuid4()) for _ in range(500)]
    users = [str(uuid.uuid4()) for _ in range(200)]
    async with scratch_database() as database:
        try:
            with server(database, "audit", env):
                bus = RabbitMQBus(AMQP_URL, exchange, prefix)
                await bus.start()
                started = time.perf_counter()
                for offset in range(0, total, batch):
                    count = min(batch, total - offset)
                    await bus.publish([event(offset + i, devices, users) for i in range(count)])
                published = time.perf_counter() - started
                await bus.close()
                backlog = total - await stored(database)
                while (have := await stored(database)) < total:
                    print(f"  {have:,} / {total:,} stored", end="\r", flush=True)
                    await asyncio.sleep(0.2)
                elapsed = time.perf_counter() - started
                drained = elapsed - published
        finally:
            await drop_bus_names(exchange, f"{prefix}.audit.store")

        db = Database(pg_url(database), pool_size=2)
        try:
            started = time.perf_counter()
            # nothing is archived here: the store is never read
            report = await Integrity(db, FolderStore(Path(tempfile.mkdtemp()))).verify()
            verified = time.perf_counter() - started
        finally:
            await db.dispose()
    assert report.ok and report.checked == total, report.as_dict()

    lines = [
        f"`python -m bench.audit --events {total} --batch {batch}`: {total:,} domain events "
        f"(device updates with full state, logins, telemetry batch summaries) published on "
        f"RabbitMQ in confirmed batches of {batch:,}; one server process running the audit "
        "service alone appends each to the hash chain on PostgreSQL, one transaction per run "
        "of events the queue has at hand (up to 500: inbox, chain-head lock, event rows and "
        "hashes, entity references, device board).",
        "",
        "| step | time | events/s |",
        "|---|---|---|",
        f"| publish on RabbitMQ (confirmed) | {published:.1f} s | {total / published:,.0f} |",
        f"| from first publish until all {total:,} are in the store | {elapsed:.1f} s | "
        f"{total / elapsed:,.0f} |",
        f"| the backlog left when publishing ended ({backlog:,} events) | {drained:.1f} s | "
        f"{backlog / drained if drained else 0:,.0f} |",
        f"| `roadwatch audit verify` of the same chain ({report.checked:,} links) | "
        f"{verified:.1f} s | {total / verified:,.0f} |",
    ]
    print("\n".join(lines))
    record("Audit event store", lines)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.batch))


if __name__ == "__main__":
    cli()
