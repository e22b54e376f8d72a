"""The live state pipeline: store a detector's readings (the telemetry handler), then close
1- and 5-minute intervals by data time, compute every segment's state for each, keep its
history and latest state, and publish `traffic.state.computed` per interval, again (same
entity id) when late data changed a closed interval (the state task).

Storing and computing are apart so that each stays a short transaction, and an interval
that many late readings change (a replay, a detector back from a dropout) is computed again
once, not once per batch.

Closing by data time: an interval (end E) closes once every station that is still reporting
(its newest reading no more than `stale_s` behind the newest anywhere) has sent readings up to
E, and the newest reading anywhere is at least `grace_s` past E. A station silent for longer
does not hold the city's state back; its late readings reopen the intervals they fall in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.config import TrafficSettings
from roadwatch.platform.db import utcnow
from roadwatch.platform.events import publish
from roadwatch.traffic import events
from roadwatch.traffic.measures.gfactor import DEFAULT_G_M, GFactor
from roadwatch.traffic.measures.imputation import Ratios
from roadwatch.traffic.state.compute import (
    RECENT_SAMPLES,
    Learnt,
    SegmentResult,
    StationSamples,
    compute_interval,
    index,
    learn,
)
from roadwatch.traffic.state.models import IntervalCursor, StationModel, StationSample
from roadwatch.traffic.state.readings import Reading, device_interval_s, readings_from_points
from roadwatch.traffic.state.repository import StateRepository
from roadwatch.traffic.state.topology import Topology

INTERVALS_S = (60, 300)
DEFAULT_DEVICE_INTERVAL_S = 60
# intervals of one length computed per transaction: a replay far behind catches up in
# short transactions that let ingestion write in between
BATCH_INTERVALS = 60


def _merge(
    old: StationSample | None, new: Reading, interval_s: int, device_id: str
) -> dict[str, Any]:
    """The stored sample after a reading: a re-sent key overwrites, a key not re-sent stays."""
    lanes: dict[str, dict[str, float]] = {
        k: dict(v) for k, v in ((old.lanes or {}) if old else {}).items()
    }
    for lane, values in new.lanes.items():
        lanes.setdefault(lane, {}).update(values)
    return {
        "device_id": device_id,
        "end_ts": new.end_ts,
        "interval_s": interval_s,
        "count": new.count if new.count is not None else (old.count if old else None),
        "occupancy_pct": new.occupancy_pct
        if new.occupancy_pct is not None
        else (old.occupancy_pct if old else None),
        "speed_kmh": new.speed_kmh
        if new.speed_kmh is not None
        else (old.speed_kmh if old else None),
        "lanes": lanes or None,
    }


def _same(old: StationSample, row: dict[str, Any]) -> bool:
    return (old.interval_s, old.count, old.occupancy_pct, old.speed_kmh, old.lanes or None) == (
        row["interval_s"],
        row["count"],
        row["occupancy_pct"],
        row["speed_kmh"],
        row["lanes"],
    )


def _learnt(model: StationModel) -> Learnt:
    return Learnt(
        g=GFactor(model.g_m, model.g_samples),
        ratios={
            n: Ratios(flow=v[0], occupancy=v[1], speed=v[2], samples=int(v[3]))
            for n, v in (model.ratios or {}).items()
        },
    )


class StatePipeline:
    def __init__(self, session: AsyncSession, settings: TrafficSettings) -> None:
        self.session = session
        self.settings = settings
        self.repo = StateRepository(session)

    async def ingest(self, device_id: str, points: Sequence[Sequence[Any]]) -> int:
        """Store a placed detector's readings from a telemetry batch; returns how many were
        new or changed. Re-sent readings change nothing; changed ones mark the closed
        intervals they fall in to be computed again."""
        if await self.repo.detector(device_id) is None:
            return 0
        readings = readings_from_points(points)
        if not readings:
            return 0
        model = await self.session.get(StationModel, device_id)
        interval_s = device_interval_s(
            [r.end_ts for r in readings],
            model.interval_s if model else None,
            DEFAULT_DEVICE_INTERVAL_S,
        )
        stored = await self.repo.samples_at(device_id, [r.end_ts for r in readings])
        rows: list[dict[str, Any]] = []
        for reading in readings:
            old = stored.get(reading.end_ts)
            row = _merge(old, reading, interval_s, device_id)
            if old is None or not _same(old, row):
                rows.append(row)
        newest = readings[-1].end_ts
        if model is None:
            model = StationModel(
                device_id=device_id,
                g_m=DEFAULT_G_M,
                g_samples=0,
                ratios={},
                interval_s=interval_s,
                latest_ts=newest,
            )
            self.session.add(model)
        model.interval_s = interval_s
        model.latest_ts = max(model.latest_ts, newest)
        await self.repo.write_samples(rows)
        for length in INTERVALS_S:
            cursor = await self.repo.cursor(length)
            if cursor is None:
                continue
            width = length * 1000
            late = {math.ceil(r["end_ts"] / width) * width for r in rows}
            await self.repo.mark_dirty(length, [e for e in late if e <= cursor.closed_until_ts])
        await self.session.flush()
        return len(rows)

    async def advance(self, limit: int = BATCH_INTERVALS) -> int:
        """Compute up to `limit` intervals of each length: those the watermark has passed
        since the last call, and closed ones marked dirty. Returns how many."""
        topology = await self.repo.topology()
        models = await self.repo.models()
        reporting = [m.latest_ts for d, m in models.items() if d in topology.stations]
        if not reporting:
            return 0
        newest = max(reporting)
        active = [t for t in reporting if t >= newest - self.settings.stale_s * 1000]
        watermark = min(min(active), newest - self.settings.grace_s * 1000)
        learnt = {d: _learnt(m) for d, m in models.items()}
        computed = 0
        for interval_s in INTERVALS_S:
            width = interval_s * 1000
            target = watermark // width * width
            cursor = await self.repo.cursor(interval_s)
            if cursor is None:
                oldest = await self.repo.oldest_sample_ts(list(topology.stations))
                if oldest is None:
                    continue
                # the first interval is the one holding the oldest reading
                first_end = math.ceil(oldest / width) * width
                cursor = IntervalCursor(interval_s=interval_s, closed_until_ts=first_end - width)
                self.session.add(cursor)
            closed_until = cursor.closed_until_ts
            fresh = list(range(closed_until + width, target + 1, width))[:limit]
            dirty = [e for e in await self.repo.dirty(interval_s, limit) if e <= closed_until]
            ends = sorted(set(fresh) | set(dirty))
            if not ends:
                continue
            samples = await self._samples(topology, models, ends[0] - width, ends[-1])
            for end in ends:
                results = compute_interval(topology, samples, learnt, interval_s, end)
                await self._store(interval_s, end, results)
                if interval_s == INTERVALS_S[0] and end in fresh:
                    learnt.update(learn(topology, results, learnt))
                computed += 1
            await self.repo.clear_dirty(interval_s, dirty)
            if fresh:
                cursor.closed_until_ts = max(closed_until, fresh[-1])
        for device_id, known in learnt.items():
            model = models.get(device_id)
            if model is None:
                continue
            model.g_m = known.g.g_m
            model.g_samples = known.g.samples
            model.ratios = {
                n: [q.flow, q.occupancy, q.speed, float(q.samples)] for n, q in known.ratios.items()
            }
        await self.session.flush()
        return computed

    async def _samples(
        self, topology: Topology, models: dict[str, StationModel], start_ts: int, end_ts: int
    ) -> dict[str, StationSamples]:
        # reach back far enough for the rolling health check of the first interval
        longest = max((m.interval_s for m in models.values()), default=DEFAULT_DEVICE_INTERVAL_S)
        lanes = {d: s.lanes for d, s in topology.stations.items()}
        return index(
            await self.repo.samples_between(
                start_ts - RECENT_SAMPLES * longest * 1000, end_ts, lanes
            )
        )

    async def _store(self, interval_s: int, end_ts: int, results: list[SegmentResult]) -> None:
        start_ts = end_ts - interval_s * 1000
        now = utcnow()
        rows = [
            {
                "segment_id": r.segment.id,
                "interval_s": interval_s,
                "end_ts": end_ts,
                "start_ts": start_ts,
                "flow_vph": r.flow_vph,
                "speed_kmh": r.speed_kmh,
                "speed_estimated": r.speed_estimated,
                "occupancy_pct": r.occupancy_pct,
                "density_vpkm": r.density_vpkm,
                "los": r.los,
                "congested": r.congested,
                "travel_time_s": r.travel_time_s,
                "tti": r.tti,
                "imputed": r.imputed,
                "stations": [s.payload() for s in r.stations],
                "computed_at": now,
            }
            for r in results
        ]
        await self.repo.write_states(rows)
        await self.repo.write_latest(rows)
        publish(
            self.session,
            events.state_computed(interval_s, start_ts, end_ts, [r.payload() for r in results]),
        )
