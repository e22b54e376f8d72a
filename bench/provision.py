"""Bulk provisioning throughput: devices created over HTTP in bulk requests, against raw COPY.

    .venv/bin/python -m bench.provision [--devices 20000] [--batch 5000] [--services ...]

Both sides write the same number of device rows into `devices_device` in transactions of
`--batch` rows. Ours goes through HTTP, validation, the name and token checks and writes each
device's two outbox events in the same transaction; COPY writes the bare rows. The ratio is
ours / COPY, measured in one run. By default the server runs the devices service alone, as
a distributed deployment would; with telemetry among `--services` (all-in-one) its event
consumer shares the process, and the run also times how long its directory, fed by those
events, takes to accept the last device's token.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import secrets
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import orjson

from bench.common import admin_headers, pg_url, record, scratch_database, server

COPY_COLUMNS = [
    "id",
    "name",
    "type",
    "label",
    "lon",
    "lat",
    "extra",
    "active",
    "token_hash",
    "credentials_changed_at",
    "created_at",
    "updated_at",
]


def fleet(prefix: str, start: int, count: int) -> list[dict[str, object]]:
    return [
        {
            "name": f"{prefix}-{n:06d}",
            "type": "induction_loop",
            "label": f"detector {n}",
            "location": {"lon": 30.0 + n / 100_000, "lat": 59.9},
        }
        for n in range(start, start + count)
    ]


async def provision(client: httpx.AsyncClient, devices: list[dict[str, object]]) -> list[str]:
    response = await client.post(
        "/api/v1/devices/bulk",
        content=orjson.dumps({"devices": devices}),
        headers={"content-type": "application/json"},
    )
    if response.status_code != 201:
        raise RuntimeError(f"bulk failed: {response.status_code} {response.text[:500]}")
    return [device["access_token"] for device in response.json()["devices"]]


async def run_http(url: str, total: int, batch: int) -> tuple[float, str]:
    """Seconds to provision `total` devices; the last device's token."""
    async with httpx.AsyncClient(base_url=url, headers=admin_headers(), timeout=300) as client:
        await provision(client, fleet("warm", 0, 100))  # connections, caches, first plans
        tokens: list[str] = []
        started = time.perf_counter()
        for start in range(0, total, batch):
            tokens += await provision(client, fleet("bench", start, min(batch, total - start)))
        return time.perf_counter() - started, tokens[-1]


async def until_known(url: str, token: str) -> float:
    """Seconds until the telemetry service accepts `token` (it learns devices from events)."""
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while time.perf_counter() - started < 600:
            probe = await client.post(f"/api/v1/{token}/telemetry", content=b"{}")
            if probe.status_code != 401:
                return time.perf_counter() - started
            await asyncio.sleep(0.1)
    raise RuntimeError("the telemetry service did not learn of the devices in 10 minutes")


async def run_copy(database: str, total: int, batch: int) -> float:
    """The reference: the same rows COPYed straight into the table, no HTTP, no checks."""
    connection = await asyncpg.connect(pg_url(database, driver="postgresql"))
    try:
        started = time.perf_counter()
        for start in range(0, total, batch):
            now = datetime.now(UTC)
            records = [
                (
                    str(uuid.uuid4()),
                    f"copy-{n:06d}",
                    "induction_loop",
                    f"detector {n}",
                    30.0 + n / 100_000,
                    59.9,
                    "{}",
                    True,
                    hashlib.sha256(secrets.token_urlsafe(15).encode()).hexdigest(),
                    now,
                    now,
                    now,
                )
                for n in range(start, min(start + batch, total))
            ]
            async with connection.transaction():
                await connection.copy_records_to_table(
                    "devices_device", records=records, columns=COPY_COLUMNS
                )
        return time.perf_counter() - started
    finally:
        await connection.close()


async def counts(database: str) -> tuple[int, int]:
    connection = await asyncpg.connect(pg_url(database, driver="postgresql"))
    try:
        devices = await connection.fetchval(
            "SELECT count(*) FROM devices_device WHERE name LIKE 'bench-%'"
        )
        events = await connection.fetchval(
            "SELECT count(*) FROM platform_outbox WHERE type LIKE 'devices.%'"
        )
        return int(devices), int(events)
    finally:
        await connection.close()


async def main(total: int, batch: int, services: str) -> None:
    known_s: float | None = None
    async with scratch_database() as database:
        with server(database, services) as url:
            http_s, last_token = await run_http(url, total, batch)
            if "telemetry" in services.split(","):
                known_s = await until_known(url, last_token)
        stored, events = await counts(database)
        if stored != total:
            raise RuntimeError(f"{total} devices acknowledged but {stored} stored")
        # the warm-up's 100 devices have their events too
        if events != 2 * (total + 100):
            raise RuntimeError(f"{2 * (total + 100)} events expected, {events} in the outbox")
        copy_s = await run_copy(database, total, batch)

    ours = total / http_s
    reference = total / copy_s
    lines = [
        f"`python -m bench.provision --devices {total} --batch {batch} --services {services}`: "
        f"{total:,} devices in bulk requests of {batch:,}, one after the other, to one server "
        f"process ({services}) on PostgreSQL; each request validated, checked for "
        "taken names and tokens, and committed with two outbox events per device before "
        "its answer.",
        "",
        "| path | devices/s | ratio to COPY |",
        "|---|---|---|",
        f"| HTTP `POST /api/v1/devices/bulk` (JSON) | {ours:,.0f} | {ours / reference:.2f} |",
        f"| raw `COPY` of the same rows into `devices_device`, same transactions | "
        f"{reference:,.0f} | 1.00 |",
    ]
    if known_s is not None:
        lines += [
            "",
            f"The telemetry service accepted the last device's token {known_s:.1f} s after "
            f"the last answer: its directory applies the {2 * total:,} events one at a time.",
        ]
    print("\n".join(lines))
    record("Bulk provisioning", lines)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--services", default="identity,devices")
    args = parser.parse_args()
    asyncio.run(main(args.devices, args.batch, args.services))


if __name__ == "__main__":
    cli()
