"""Scoring the algorithms on bench runs, offline: every algorithm steps through every
adjacent station pair's intervals as the live pipeline would, and its confirmed alarms are
held against the ground truth.

- An incident is detected by an algorithm when it confirms an alarm on the incident's own
  pair (the stations either side of the spot) or the pair just upstream of it (where the
  queue reaches first when the spot is close to the upstream station), between the
  incident's start and 5 minutes after its end. Time to detect: from the incident's start
  to the end of the interval the alarm was confirmed in.
- False alarms are counted on the incident-free runs: every pair's clear -> confirmed
  transitions; the rate per pair-interval is those over every pair-interval judged, and per
  monitored pair-hour the same over the pairs' hours.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from bench.aid.runs import RunResult
from roadwatch.traffic.aid import Phase, StationInterval, algorithms_for

# detections up to this long after an incident's end still count (the queue discharges)
AFTER_END_MS = 5 * 60_000


@dataclass
class AlgorithmScore:
    name: str
    incidents: int = 0
    detected: int = 0
    times_to_detect_s: list[float] = field(default_factory=list)
    false_alarms: int = 0
    pair_intervals: int = 0
    # where the false alarms were raised: (upstream station, downstream station) -> count
    false_alarm_pairs: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def detection_rate(self) -> float:
        return self.detected / self.incidents if self.incidents else 0.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.pair_intervals if self.pair_intervals else 0.0

    def false_alarms_per_pair_hour(self, interval_s: int) -> float:
        hours = self.pair_intervals * interval_s / 3600
        return self.false_alarms / hours if hours else 0.0

    @property
    def mean_time_to_detect_s(self) -> float | None:
        times = self.times_to_detect_s
        return sum(times) / len(times) if times else None


def _aligned(
    up: list[StationInterval], down: list[StationInterval]
) -> Iterator[tuple[StationInterval, StationInterval]]:
    downs = {d.end_ts: d for d in down}
    for u in up:
        d = downs.get(u.end_ts)
        if d is not None:
            yield u, d


def confirmations(run: RunResult, road_class: str) -> dict[str, dict[tuple[str, str], list[int]]]:
    """algorithm -> pair -> end_ts of each interval where a new alarm was confirmed."""
    out: dict[str, dict[tuple[str, str], list[int]]] = {}
    for pair in run.pairs:
        algorithms = algorithms_for(road_class)
        previous = {a.name: Phase.CLEAR for a in algorithms}
        for up, down in _aligned(run.series[pair[0]], run.series[pair[1]]):
            for algorithm in algorithms:
                phase = algorithm.step(up, down).phase
                if phase is Phase.CONFIRMED and previous[algorithm.name] is not Phase.CONFIRMED:
                    out.setdefault(algorithm.name, {}).setdefault(pair, []).append(up.end_ts)
                previous[algorithm.name] = phase
        for algorithm in algorithms:
            out.setdefault(algorithm.name, {})
    return out


def incident_pairs(run: RunResult) -> set[tuple[str, str]]:
    """The pair around the incident's spot, and the pair just upstream of that one."""
    assert run.truth is not None
    edge, offset = run.truth["segment_id"], float(run.truth["offset_m"])
    here = next(s for s, (e, _) in run.stations.items() if e == edge)
    station_offset = run.stations[here][1]
    if offset >= station_offset:
        around = {p for p in run.pairs if p[0] == here}
    else:
        around = {p for p in run.pairs if p[1] == here}
    upstream = {p for p in run.pairs for a in around if p[1] == a[0]}
    return around | upstream


def score(
    incident_runs: list[RunResult], quiet_runs: list[RunResult], road_class: str
) -> dict[str, AlgorithmScore]:
    scores: dict[str, AlgorithmScore] = {}

    def of(name: str) -> AlgorithmScore:
        return scores.setdefault(name, AlgorithmScore(name))

    for run in incident_runs:
        found = confirmations(run, road_class)
        if run.truth is None:
            # the incident could not be staged (no vehicle to stop): not scored
            continue
        start, end = int(run.truth["start_ts"]), int(run.truth["end_ts"])
        watched = incident_pairs(run)
        for name, by_pair in found.items():
            score_ = of(name)
            score_.incidents += 1
            hits = [
                ts
                for pair, stamps in by_pair.items()
                if pair in watched
                for ts in stamps
                if start < ts <= end + AFTER_END_MS
            ]
            if hits:
                score_.detected += 1
                score_.times_to_detect_s.append((min(hits) - start) / 1000)
    for run in quiet_runs:
        found = confirmations(run, road_class)
        judged = sum(len(list(_aligned(run.series[a], run.series[b]))) for a, b in run.pairs)
        for name, by_pair in found.items():
            score_ = of(name)
            score_.false_alarms += sum(len(stamps) for stamps in by_pair.values())
            for pair, stamps in by_pair.items():
                score_.false_alarm_pairs[pair] += len(stamps)
            score_.pair_intervals += judged
    return scores
