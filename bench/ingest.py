"""Ingest throughput: HTTP batches of 1,000 points, durable, against raw COPY of the same rows.

    .venv/bin/python -m bench.ingest [--points 300000] [--concurrency 8]

Both sides write the same number of rows into the same `telemetry_ts` table (with its
(device, key, ts) primary key) in batches of 1,000, each batch its own committed transaction,
with the same number of concurrent writers. The ratio is ours / COPY, measured in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import asyncpg
import httpx
import orjson

from bench.common import admin_headers, pg_url, record, scratch_database, server
from bench.loadgen import Connection

BATCH = 1000
KEYS = [f"k{i}" for i in range(10)]


def batch_body(start_ts: int) -> bytes:
    # 100 timestamps x 10 keys: the shape a roadside controller sends once a second
    rows = [
        {"ts": start_ts + i, "values": {key: (i * 7 + n) * 0.5 for n, key in enumerate(KEYS)}}
        for i in range(BATCH // len(KEYS))
    ]
    return orjson.dumps(rows)


async def make_devices(url: str, count: int) -> list[str]:
    tokens = []
    async with httpx.AsyncClient(base_url=url, headers=admin_headers(), timeout=30) as client:
        for n in range(count):
            created = await client.post(
                "/api/v1/devices", json={"name": f"bench-{n}-{uuid.uuid4().hex[:6]}"}
            )
            created.raise_for_status()
            tokens.append(created.json()["access_token"])
        for token in tokens:  # the telemetry service learns of devices from events
            for _ in range(200):
                probe = await client.post(f"/api/v1/{token}/telemetry", content=b"{}")
                if probe.status_code != 401:
                    break
                await asyncio.sleep(0.05)
    return tokens


async def run_http(url: str, tokens: list[str], batches: int, concurrency: int) -> float:
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    base_ts = int(time.time() * 1000) - 3_600_000
    for n in range(batches):
        token = tokens[n % len(tokens)]
        queue.put_nowait((token, batch_body(base_ts + (n // len(tokens)) * (BATCH // len(KEYS)))))

    async def worker() -> None:
        connection = await Connection.open(url)
        try:
            while not queue.empty():
                token, body = queue.get_nowait()
                status, answer = await connection.post(f"/api/v1/{token}/telemetry", body)
                if status != 200:
                    raise RuntimeError(f"ingest failed: {status} {answer.decode()}")
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def run_copy(database: str, batches: int, concurrency: int) -> float:
    """The reference: the same rows COPYed straight into the table, no HTTP, no parsing."""
    dsn = pg_url(database, driver="postgresql")
    base_ts = int(time.time() * 1000) - 3_600_000
    device_ids = [str(uuid.uuid4()) for _ in range(concurrency)]
    pending = list(range(batches))

    def rows(n: int, device_id: str) -> list[tuple[object, ...]]:
        start = base_ts + n * (BATCH // len(KEYS))
        return [
            (device_id, key, start + i, None, None, (i * 7 + k) * 0.5, None, None)
            for i in range(BATCH // len(KEYS))
            for k, key in enumerate(KEYS)
        ]

    async def worker(device_id: str) -> None:
        connection = await asyncpg.connect(dsn)
        try:
            while pending:
                n = pending.pop()
                async with connection.transaction():
                    await connection.copy_records_to_table(
                        "telemetry_ts",
                        records=rows(n, device_id),
                        columns=[
                            "device_id",
                            "key",
                            "ts",
                            "bool_v",
                            "long_v",
                            "dbl_v",
                            "str_v",
                            "json_v",
                        ],
                    )
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(d) for d in device_ids))
    return time.perf_counter() - started


async def count_points(database: str) -> int:
    connection = await asyncpg.connect(pg_url(database, driver="postgresql"))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM telemetry_ts"))
    finally:
        await connection.close()


async def main(points: int, concurrency: int, devices: int) -> None:
    batches = points // BATCH
    async with scratch_database() as database:
        with server(database, "identity,devices,telemetry") as url:
            tokens = await make_devices(url, devices)
            await run_http(url, tokens, 20, concurrency)  # warm-up: connections, caches
            warm = await count_points(database)
            http_s = await run_http(url, tokens, batches, concurrency)
            stored = await count_points(database) - warm
        if stored != batches * BATCH:
            raise RuntimeError(f"{batches * BATCH} points acknowledged but {stored} stored")
        copy_s = await run_copy(database, batches, concurrency)

    ours = stored / http_s
    reference = stored / copy_s
    lines = [
        f"`python -m bench.ingest --points {points} --concurrency {concurrency}`: "
        f"{stored:,} points in batches of {BATCH} over {devices} devices, "
        f"{concurrency} concurrent writers, PostgreSQL, every batch committed before its answer.",
        "",
        "| path | points/s | ratio to COPY |",
        "|---|---|---|",
        f"| HTTP `POST /api/v1/{{token}}/telemetry` (one server process) | {ours:,.0f} | "
        f"{ours / reference:.2f} |",
        f"| raw `COPY` of the same rows, same table, same batches | {reference:,.0f} | 1.00 |",
    ]
    print("\n".join(lines))
    record("Telemetry ingest over HTTP", lines)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=300_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--devices", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.points, args.concurrency, args.devices))


if __name__ == "__main__":
    cli()
