"""One interval's state from the stations' samples: station readings (measured, estimated,
or imputed when the station is bad or silent), then each segment lane-weighted from its
stations. Pure: the pipeline loads the inputs and stores the result.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from roadwatch.traffic.measures import quantities
from roadwatch.traffic.measures.gfactor import GFactor, GFactorSettings, station_speed
from roadwatch.traffic.measures.health import Health, HealthThresholds, Sample, diagnose_recent
from roadwatch.traffic.measures.imputation import Ratios, Reading, impute
from roadwatch.traffic.measures.los import is_congested, level_of_service
from roadwatch.traffic.state.topology import SegmentInfo, StationInfo, Topology

# a station's reading for an interval needs samples covering at least half of it
MIN_COVERAGE = 0.5
# how many of a station's latest samples the rolling health check looks at
RECENT_SAMPLES = 10


class StationSamples:
    """One station's samples in time order, with their times for binary search: a catch-up
    computes many intervals from one load, and scanning every sample for each would be
    quadratic."""

    __slots__ = ("samples", "ts")

    def __init__(self, samples: Sequence[Sample]) -> None:
        self.samples = list(samples)
        self.ts = [s.ts for s in self.samples]

    def window(self, start_ts: int, end_ts: int) -> list[Sample]:
        """Samples stamped in (start, end]."""
        return self.samples[bisect_right(self.ts, start_ts) : bisect_right(self.ts, end_ts)]

    def recent(self, end_ts: int, n: int) -> list[Sample]:
        """The last `n` samples stamped up to `end`."""
        stop = bisect_right(self.ts, end_ts)
        return self.samples[max(0, stop - n) : stop]


def index(samples: Mapping[str, Sequence[Sample]]) -> dict[str, StationSamples]:
    return {d: StationSamples(v) for d, v in samples.items()}


@dataclass(slots=True)
class Learnt:
    """What the pipeline knows of one station beyond its samples."""

    g: GFactor = field(default_factory=GFactor)
    ratios: dict[str, Ratios] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StationResult:
    device_id: str
    offset_m: float
    lanes: int
    flow_vph: float | None
    occupancy_pct: float | None
    speed_kmh: float | None
    speed_estimated: bool
    healthy: bool
    imputed: bool
    health: Health
    # the reading as measured, before any imputation (what learning uses)
    measured: Reading | None

    @property
    def flow_vphpl(self) -> float | None:
        return None if self.flow_vph is None else self.flow_vph / max(self.lanes, 1)

    def payload(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "offset_m": self.offset_m,
            "flow_vph": self.flow_vph,
            "occupancy_pct": self.occupancy_pct,
            "speed_kmh": self.speed_kmh,
            "speed_estimated": self.speed_estimated,
            "healthy": self.healthy,
            "imputed": self.imputed,
        }


@dataclass(frozen=True, slots=True)
class SegmentResult:
    segment: SegmentInfo
    flow_vph: float | None
    speed_kmh: float | None
    speed_estimated: bool
    occupancy_pct: float | None
    density_vpkm: float | None
    los: str | None
    congested: bool
    travel_time_s: float | None
    tti: float | None
    imputed: bool
    stations: list[StationResult]

    def payload(self) -> dict[str, Any]:
        s = self.segment
        return {
            "segment_id": s.id,
            "road_class": s.road_class,
            "lanes": s.lanes,
            "length_m": s.length_m,
            "upstream": list(s.upstream),
            "downstream": list(s.downstream),
            "flow_vph": self.flow_vph,
            "speed_kmh": self.speed_kmh,
            "speed_estimated": self.speed_estimated,
            "occupancy_pct": self.occupancy_pct,
            "density_vpkm": self.density_vpkm,
            "los": self.los,
            "congested": self.congested,
            "travel_time_s": self.travel_time_s,
            "tti": self.tti,
            "imputed": self.imputed,
            "stations": [st.payload() for st in self.stations],
        }


def aggregate(inside: Sequence[Sample], start_ts: int, end_ts: int) -> Reading | None:
    """A station's samples stamped in (start, end] as one reading (flow per lane); None when
    they cover less than half the interval."""
    span_s = (end_ts - start_ts) / 1000
    covered = sum(min(s.interval_s, span_s) for s in inside if s.count is not None)
    if not inside or covered < MIN_COVERAGE * span_s:
        return None
    lanes = max(inside[0].lanes, 1)
    count = sum(s.count or 0.0 for s in inside if s.count is not None)
    occupancies = [(s.occupancy_pct, s.interval_s) for s in inside if s.occupancy_pct is not None]
    occupancy = (
        sum(o * w for o, w in occupancies) / sum(w for _, w in occupancies) if occupancies else None
    )
    speeds = [(s.speed_kmh, s.count or 0.0) for s in inside if s.speed_kmh is not None]
    speed_weight = sum(w for _, w in speeds)
    speed: float | None = None
    if speeds:
        speed = (
            sum(v * w for v, w in speeds) / speed_weight
            if speed_weight > 0
            else fmean(v for v, _ in speeds)
        )
    return Reading(
        flow_vphpl=quantities.flow_vph(count, covered) / lanes,
        occupancy_pct=occupancy,
        speed_kmh=speed,
    )


def compute_interval(
    topology: Topology,
    samples: Mapping[str, StationSamples],
    learnt: Mapping[str, Learnt],
    interval_s: int,
    end_ts: int,
    *,
    gfactor: GFactorSettings = GFactorSettings(),
    health: HealthThresholds = HealthThresholds(),
) -> list[SegmentResult]:
    """Every segment's state over (end - interval, end]. `samples` per station (`index`),
    reaching back far enough for the rolling health check."""
    start_ts = end_ts - interval_s * 1000
    none = StationSamples(())
    measured: dict[str, Reading | None] = {
        d: aggregate(samples.get(d, none).window(start_ts, end_ts), start_ts, end_ts)
        for d in topology.stations
    }

    def neighbour_flow(device_id: str) -> float | None:
        flows = [
            r.flow_vphpl
            for n in topology.neighbours(device_id)
            if (r := measured.get(n)) is not None and r.flow_vphpl is not None
        ]
        return fmean(flows) if flows else None

    statuses: dict[str, Health] = {}
    for device_id in topology.stations:
        recent = samples.get(device_id, none).recent(end_ts, RECENT_SAMPLES)
        if measured[device_id] is None:
            statuses[device_id] = Health.NO_DATA
        else:
            statuses[device_id] = diagnose_recent(
                recent, neighbour_flow_vphpl=neighbour_flow(device_id), thresholds=health
            )

    results: dict[str, StationResult] = {}
    for device_id, station in topology.stations.items():
        segment = topology.segments.get(station.segment_id)
        if segment is None:
            continue
        reading = measured[device_id]
        known = learnt.get(device_id, Learnt())
        healthy = statuses[device_id] is Health.GOOD and reading is not None
        imputed = False
        if not healthy:
            reading = impute(
                [
                    (r, known.ratios.get(n, Ratios()))
                    for n in topology.neighbours(device_id)
                    if statuses.get(n) is Health.GOOD and (r := measured.get(n)) is not None
                ]
            )
            imputed = reading is not None
        results[device_id] = _station_result(
            station,
            segment,
            reading,
            measured[device_id],
            known,
            healthy,
            imputed,
            statuses[device_id],
            gfactor,
        )

    return [
        _segment_result(
            segment,
            [
                results[s.device_id]
                for s in topology.by_segment.get(segment.id, [])
                if s.device_id in results
            ],
            learnt,
        )
        for segment in topology.segments.values()
    ]


def _station_result(
    station: StationInfo,
    segment: SegmentInfo,
    reading: Reading | None,
    measured: Reading | None,
    known: Learnt,
    healthy: bool,
    imputed: bool,
    status: Health,
    gfactor: GFactorSettings,
) -> StationResult:
    if reading is None:
        return StationResult(
            station.device_id,
            station.offset_m,
            station.lanes,
            None,
            None,
            None,
            False,
            healthy,
            False,
            status,
            measured,
        )
    if imputed:
        speed, estimated = reading.speed_kmh, True
    else:
        s = station_speed(
            flow_vphpl=reading.flow_vphpl,
            occupancy_pct=reading.occupancy_pct,
            measured_kmh=reading.speed_kmh,
            g_m=known.g.g_m,
            free_flow_kmh=segment.free_flow_kmh,
            settings=gfactor,
        )
        speed, estimated = s.kmh, s.estimated
    flow = None if reading.flow_vphpl is None else reading.flow_vphpl * station.lanes
    return StationResult(
        station.device_id,
        station.offset_m,
        station.lanes,
        flow,
        reading.occupancy_pct,
        speed,
        estimated,
        healthy,
        imputed,
        status,
        measured,
    )


def _segment_result(
    segment: SegmentInfo, stations: list[StationResult], learnt: Mapping[str, Learnt]
) -> SegmentResult:
    """Lane-weighted over the stations with a reading: flow per lane and occupancy weighted by
    the lanes each station spans, speed by the flow it carries (a space-mean estimate)."""
    usable = [s for s in stations if s.flow_vph is not None]
    if not usable:
        return SegmentResult(
            segment, None, None, False, None, None, None, False, None, None, False, stations
        )
    weights = [max(s.lanes, 1) for s in usable]
    flow_pl = sum((s.flow_vphpl or 0.0) * w for s, w in zip(usable, weights, strict=True)) / sum(
        weights
    )
    occ = [
        (s.occupancy_pct, w)
        for s, w in zip(usable, weights, strict=True)
        if s.occupancy_pct is not None
    ]
    occupancy = sum(o * w for o, w in occ) / sum(w for _, w in occ) if occ else None
    with_speed = [s for s in usable if s.speed_kmh is not None]
    speed: float | None = None
    if with_speed:
        total = sum(s.flow_vph or 0.0 for s in with_speed)
        speed = (
            sum((s.speed_kmh or 0.0) * (s.flow_vph or 0.0) for s in with_speed) / total
            if total > 0
            else fmean(s.speed_kmh or 0.0 for s in with_speed)
        )
    g_values = [learnt[s.device_id].g.g_m for s in usable if s.device_id in learnt]
    g_m = fmean(g_values) if g_values else GFactor().g_m
    density_pl = quantities.density_vpkm(flow_pl, speed, occupancy, g_m)
    density = None if density_pl is None else density_pl * segment.lanes
    los = level_of_service(
        segment.road_class,
        density_vpkmpl=density_pl,
        speed_kmh=speed,
        free_flow_kmh=segment.free_flow_kmh,
    )
    return SegmentResult(
        segment=segment,
        flow_vph=flow_pl * segment.lanes,
        speed_kmh=speed,
        speed_estimated=any(s.speed_estimated for s in with_speed),
        occupancy_pct=occupancy,
        density_vpkm=density,
        los=los,
        congested=is_congested(los),
        travel_time_s=quantities.travel_time_s(segment.length_m, speed),
        tti=quantities.travel_time_index(segment.length_m, speed, segment.free_flow_kmh),
        imputed=any(s.imputed for s in usable),
        stations=stations,
    )


def learn(
    topology: Topology,
    segments: Sequence[SegmentResult],
    learnt: Mapping[str, Learnt],
    gfactor: GFactorSettings = GFactorSettings(),
) -> dict[str, Learnt]:
    """What one closed interval teaches: single loops' g from their free-flow readings, and
    the ratios between healthy neighbours."""
    by_id = {st.device_id: st for seg in segments for st in seg.stations}
    updated: dict[str, Learnt] = {}
    for device_id, st in by_id.items():
        station = topology.stations[device_id]
        segment = topology.segments[station.segment_id]
        known = learnt.get(device_id, Learnt())
        own = st.measured
        if not st.healthy or own is None:
            continue
        g = known.g
        if own.speed_kmh is None and own.flow_vphpl is not None and own.occupancy_pct is not None:
            g = g.learn(own.flow_vphpl, own.occupancy_pct, segment.free_flow_kmh, gfactor)
        ratios = dict(known.ratios)
        own_reading = Reading(own.flow_vphpl, own.occupancy_pct, st.speed_kmh)
        for n in topology.neighbours(device_id):
            other = by_id.get(n)
            if other is None or not other.healthy or other.measured is None:
                continue
            ratios[n] = ratios.get(n, Ratios()).learn(
                own_reading,
                Reading(other.measured.flow_vphpl, other.measured.occupancy_pct, other.speed_kmh),
            )
        updated[device_id] = Learnt(g=g, ratios=ratios)
    return updated
