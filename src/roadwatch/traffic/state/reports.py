"""Reports over the stored state: PeMS performance measures by segment, road or city per
hour or day, and each detector's daily health (PeMS diagnostics)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.config import TrafficSettings
from roadwatch.traffic.measures.health import HealthThresholds, diagnose_day
from roadwatch.traffic.measures.performance import Performance, interval_performance
from roadwatch.traffic.state.repository import StateRepository
from roadwatch.traffic.state.schemas import HealthRead, Level, PerformanceRead, Period

PERFORMANCE_INTERVAL_S = 300


def period_start(ts_ms: int, period: Period, zone: ZoneInfo) -> int:
    """The start (ms) of the local hour or day holding `ts_ms`."""
    local = datetime.fromtimestamp(ts_ms / 1000, zone)
    if period is Period.HOUR:
        start = local.replace(minute=0, second=0, microsecond=0)
    else:
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(start.timestamp() * 1000)


async def performance(
    session: AsyncSession,
    settings: TrafficSettings,
    level: Level,
    period: Period,
    start_ts: int,
    end_ts: int,
) -> list[PerformanceRead]:
    """Measures from the 5-minute states of intervals ending in (start, end]."""
    repo = StateRepository(session)
    topology = await repo.topology()
    zone = ZoneInfo(settings.timezone)
    key_of: Callable[[str], str] = {
        Level.SEGMENT: lambda s: s,
        Level.ROAD: lambda s: topology.segments[s].road_id,
        Level.CITY: lambda s: "city",
    }[level]
    sums: dict[tuple[str, int], tuple[Performance, int]] = {}
    hours = PERFORMANCE_INTERVAL_S / 3600
    for row in await repo.history(None, PERFORMANCE_INTERVAL_S, start_ts, end_ts):
        segment = topology.segments.get(row.segment_id)
        if segment is None or row.flow_vph is None or row.speed_kmh is None:
            continue
        perf = interval_performance(
            flow_vph=row.flow_vph,
            speed_kmh=row.speed_kmh,
            length_m=segment.length_m,
            lanes=segment.lanes,
            hours=hours,
            threshold_kmh=settings.delay_threshold_kmh,
            capacity_vphpl=segment.capacity_vphpl,
        )
        key = (key_of(row.segment_id), period_start(row.start_ts, period, zone))
        total, n = sums.get(key, (Performance(), 0))
        sums[key] = (total + perf, n + 1)
    return [
        PerformanceRead(
            level=level,
            id=key[0],
            period=period,
            start_ts=key[1],
            vmt_veh_km=perf.vmt_veh_km,
            vht_veh_h=perf.vht_veh_h,
            delay_veh_h=perf.delay_veh_h,
            lost_productivity_lane_km_h=perf.lost_productivity_lane_km_h,
            threshold_kmh=settings.delay_threshold_kmh,
            intervals=n,
        )
        for key, (perf, n) in sorted(sums.items(), key=lambda item: (item[0][1], item[0][0]))
    ]


async def detector_health(
    session: AsyncSession,
    settings: TrafficSettings,
    day: date,
    device_ids: list[str] | None = None,
    now_ms: int | None = None,
    thresholds: HealthThresholds = HealthThresholds(),
) -> list[HealthRead]:
    """Each placed detector's diagnosis for the local `day`, over the day window (so far,
    for today)."""
    repo = StateRepository(session)
    topology = await repo.topology()
    models = await repo.models()
    zone = ZoneInfo(settings.timezone)
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    window_start = int((midnight + timedelta(hours=settings.health_day_start_h)).timestamp() * 1000)
    window_end = int((midnight + timedelta(hours=settings.health_day_end_h)).timestamp() * 1000)
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    observed_end = max(window_start, min(window_end, now))
    wanted = sorted(topology.stations) if device_ids is None else device_ids
    lanes = {d: s.lanes for d, s in topology.stations.items()}
    # as PeMS: measured against the most samples any detector delivered in the window (a
    # detector that lost every other reading also looks like one reporting half as often),
    # or against what its own interval promises, whichever is more
    everyone = await repo.samples_between(window_start, window_end, lanes)
    most = max((len(v) for v in everyone.values()), default=0)
    found: list[HealthRead] = []
    for device_id in wanted:
        model = models.get(device_id)
        interval_s = model.interval_s if model else 60
        expected = max(most, (observed_end - window_start) // (interval_s * 1000))
        diagnosis = diagnose_day(everyone.get(device_id, []), int(expected), thresholds)
        station = topology.stations.get(device_id)
        found.append(
            HealthRead(
                device_id=device_id,
                segment_id=station.segment_id if station else None,
                day=day.isoformat(),
                status=diagnosis.status.value,
                healthy=diagnosis.healthy,
                samples=diagnosis.samples,
                expected=diagnosis.expected,
                counts=diagnosis.counts,
            )
        )
    return found
