"""Analytics: rollup + anomaly evaluation throughput, and a 30-day query over a big store.

    .venv/bin/python -m bench.analytics [--points 50000000] [--rounds 200]

1. Throughput on one core: batches of 1,000 and of 10,000 points drawn from 10,000
   devices (4 keys each) go through what the stream computes for each batch: last-wins
   de-duplication, 1-minute buckets from the points, 5-minute and 1-hour buckets from
   those, and a threshold rule (hysteresis, minimum duration) evaluated for every series
   with its state carried from the previous batch. The reference, in the same run over the
   same arrays, is a plain NumPy pass: one stable sort by series and a grouped sum, count,
   min and max (np.add/minimum/maximum.reduceat). Database I/O is not part of this number
   (the stream's reads and writes of stored buckets are measured in part 3).
2. A 30-day, 1-hour-resolution query of one device key (720 buckets) through the HTTP API
   of a `roadwatch serve --services analytics` process on PostgreSQL, over a store holding
   --points raw points (and their 1m/5m/1h rollups), median of --rounds requests.
3. The stream end to end: telemetry.batch_ingested events of one device folded into the
   PostgreSQL store by the real handler (reads of stored points, upserts, rule state).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import asyncpg
import httpx
import numpy as np

from bench.common import admin_headers, pg_url, record, scratch_database, server
from roadwatch.analytics.aggregate import RESOLUTIONS, combine, dedupe_last, minute_buckets
from roadwatch.analytics.handlers import on_batch
from roadwatch.analytics.rules.threshold import ThresholdParams, evaluate_segments
from roadwatch.analytics.service.rebuild import rebuild
from roadwatch.platform.db import Database
from roadwatch.telemetry.events import batch_ingested
from roadwatch.telemetry.points import Point

DEVICES = 10_000
KEYS = 4
HOUR = 3_600_000
DAY = 24 * HOUR


class Stream:
    """The per-batch computation, with rule state carried per series between batches."""

    def __init__(self) -> None:
        n = DEVICES * KEYS
        self.params = ThresholdParams(
            operator="above", threshold=90.0, hysteresis=5.0, min_duration_s=30
        )
        self.in_run = np.zeros(n, dtype=bool)
        self.run_start = np.zeros(n, dtype=np.int64)

    def batch(self, series: np.ndarray, ts: np.ndarray, values: np.ndarray) -> int:
        s, t, v = dedupe_last(series, ts, values)
        minutes = minute_buckets(s, t, v)
        combine(minutes, RESOLUTIONS["5m"])
        combine(minutes, RESOLUTIONS["1h"])
        first = np.ones(s.size, dtype=bool)
        first[1:] = s[1:] != s[:-1]
        result = evaluate_segments(self.params, first, t, v, self.in_run[s], self.run_start[s])
        last = np.ones(s.size, dtype=bool)
        last[:-1] = first[1:]
        self.in_run[s[last]] = result.in_run[last]
        self.run_start[s[last]] = result.run_start[last]
        return int(np.count_nonzero(result.active))


def plain_pass(series: np.ndarray, values: np.ndarray) -> None:
    order = np.argsort(series, kind="stable")
    s, v = series[order], values[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    np.add.reduceat(v, starts)
    np.minimum.reduceat(v, starts)
    np.maximum.reduceat(v, starts)
    np.diff(np.append(starts, s.size))


def make_batches(size: int, count: int, rng: np.random.Generator) -> list[tuple[np.ndarray, ...]]:
    batches = []
    ts0 = 1_700_000_000_000
    for n in range(count):
        series = rng.integers(0, DEVICES * KEYS, size, dtype=np.int64)
        # a few seconds of time per batch, some points late by up to two minutes
        ts = ts0 + n * 5_000 + rng.integers(-120_000, 5_000, size, dtype=np.int64)
        values = rng.normal(60, 12, size)
        values[rng.random(size) < 0.01] += 50
        batches.append((series, ts, values))
    return batches


def throughput(size: int, total_points: int) -> tuple[float, float]:
    rng = np.random.default_rng(size)
    batches = make_batches(size, max(1, total_points // size), rng)
    stream = Stream()
    stream.batch(*batches[0])  # warm-up
    started = time.perf_counter()
    for series, ts, values in batches:
        stream.batch(series, ts, values)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    for series, _ts, values in batches:
        plain_pass(series, values)
    plain = time.perf_counter() - started
    points = size * len(batches)
    return points / ours, points / plain


async def fill_store(database: str, points: int) -> tuple[str, int]:
    """`points` raw points of 30+ days, one every 10 s per device, with rollups at every
    resolution; returns one device's id and how many devices there are."""
    per_device = 31 * DAY // 10_000
    devices = max(1, points // per_device)
    start = (int(time.time() * 1000) // DAY - 31) * DAY
    conn = await asyncpg.connect(pg_url(database, "postgresql"))
    try:
        await conn.execute("ALTER TABLE analytics_point DROP CONSTRAINT pk_analytics_point")
        await conn.execute(
            """
            INSERT INTO analytics_point (device_id, key, ts, value)
            SELECT 'dev-' || lpad(d::text, 6, '0'), 'speed', t,
                   50 + 20 * sin(t / 3600000.0) + (d % 7)
            FROM generate_series(1, $1) AS d,
                 generate_series($2::bigint, $3::bigint, 10000::bigint) AS t
            """,
            devices,
            start,
            start + 31 * DAY - 1,
        )
        await conn.execute(
            "ALTER TABLE analytics_point ADD CONSTRAINT pk_analytics_point "
            "PRIMARY KEY (device_id, key, ts)"
        )
        await conn.execute("ALTER TABLE analytics_rollup DROP CONSTRAINT pk_analytics_rollup")
        for width in RESOLUTIONS.values():
            # the other devices' rollups by SQL (fast to build); the measured device's come
            # from our own rebuild below, which replaces these rows
            await conn.execute(
                """
                INSERT INTO analytics_rollup
                SELECT device_id, key, $1 / 1000, ts - ts % $1, count(*), sum(value),
                       min(value), max(value),
                       coalesce(var_pop(value), 0) * count(*),
                       min(ts), min(value), max(ts), max(value)
                FROM analytics_point GROUP BY device_id, key, ts - ts % $1
                """,
                width,
            )
        await conn.execute(
            "ALTER TABLE analytics_rollup ADD CONSTRAINT pk_analytics_rollup "
            "PRIMARY KEY (device_id, key, resolution_s, bucket_ts)"
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    device = "dev-" + str(devices // 2 + 1).zfill(6)
    db = Database(pg_url(database))
    try:
        await rebuild(db, start, start + 31 * DAY, [device])
    finally:
        await db.dispose()
    return device, devices


async def query_latency(url: str, device: str, rounds: int) -> float:
    end = (int(time.time() * 1000) // HOUR) * HOUR - DAY
    params = {"key": "speed", "resolution": "1h", "startTs": end - 30 * DAY, "endTs": end}
    timings = []
    async with httpx.AsyncClient(base_url=url, headers=admin_headers(), timeout=30) as client:
        for n in range(rounds + 5):
            started = time.perf_counter()
            response = await client.get(f"/api/v1/analytics/rollups/{device}", params=params)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.text
            assert len(response.json()) == 720, len(response.json())
            if n >= 5:
                timings.append(elapsed)
    return statistics.median(timings) * 1000


async def stream_end_to_end(database: str, batches: int, size: int) -> float:
    db = Database(pg_url(database))
    device = str(uuid.uuid4())
    ts0 = int(time.time() * 1000) - DAY
    rng = np.random.default_rng(7)
    events = []
    for n in range(batches):
        ts = ts0 + n * size * 100 + np.arange(size) * 100
        values = rng.normal(60, 12, size)
        events.append(
            batch_ingested(
                device,
                [Point("speed", int(t), float(v)) for t, v in zip(ts, values, strict=True)],
                "bench",
            )
        )
    try:
        started = time.perf_counter()
        for event in events:
            async with db.session() as session:
                await on_batch(event, session)
        elapsed = time.perf_counter() - started
    finally:
        await db.dispose()
    return batches * size / elapsed


async def main(points: int, rounds: int) -> None:
    lines = [
        f"`python -m bench.analytics --points {points} --rounds {rounds}`.",
        "",
        "Rollups (1m, 5m, 1h) + threshold rule per batch, one core, no database I/O; "
        "batches drawn from 10,000 devices x 4 keys, 1% spikes, points up to 2 min late. "
        "Reference: a plain NumPy pass over the same arrays (stable sort + grouped "
        "sum/count/min/max), same run.",
        "",
        "| batch | ours, points/s | plain NumPy, points/s | ratio |",
        "|---|---|---|---|",
    ]
    for size in (1_000, 10_000):
        ours, plain = throughput(size, 2_000_000)
        lines.append(f"| {size:,} points | {ours:,.0f} | {plain:,.0f} | {ours / plain:.2f} |")
        print(lines[-1], flush=True)
    async with scratch_database() as database:
        started = time.perf_counter()
        device, devices = await fill_store(database, points)
        built = time.perf_counter() - started
        print(f"store of {points:,} points built in {built:.0f} s", flush=True)
        with server(database, "analytics") as url:
            median = await query_latency(url, device, rounds)
        e2e = await stream_end_to_end(database, 20, 1_000)
    lines += [
        "",
        f"30-day query at 1-hour resolution (720 buckets) of one device key, HTTP "
        f"`GET /api/v1/analytics/rollups/{{device}}` to one `serve --services analytics` "
        f"process on PostgreSQL holding {points:,} raw points ({devices} devices, one point "
        f"per 10 s for 31 days) and their rollups: median of {rounds} requests "
        f"**{median:.1f} ms** (store built in {built:.0f} s: points by `generate_series`, "
        "the other devices' rollups by SQL `GROUP BY`, the measured device's by "
        "`rebuild`). The machine was shared with other work while measuring.",
        "",
        f"The stream end to end on that store (real handler, PostgreSQL, one device, 20 "
        f"batches of 1,000 new points, each its own transaction): {e2e:,.0f} points/s.",
    ]
    print("\n".join(lines[-3:]))
    record("Analytics", lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=50_000_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.points, args.rounds))
