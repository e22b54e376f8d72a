"""Detector health diagnostics, as Caltrans PeMS diagnoses a detector over a day, plus a
rolling version over a detector's latest samples for live exclusion.

Daily (PeMS tests 1-6, first failing test wins, over the samples inside the day window,
05:00-22:00 local by default, when the roads are busy enough to tell):

| status | rule (defaults) |
|---|---|
| no_data | no sample at all |
| insufficient_data | fewer samples than 60 % of those expected |
| card_off | more than 50 % of expected samples with occupancy 0 |
| high_value | more than 20 % of expected samples with occupancy > 70 % or flow > 3000 veh/h/lane |
| intermittent | more than 20 % of expected samples with count 0 and occupancy > 0 |
| constant | occupancy non-zero and unchanged over 4 hours of consecutive samples |
| good | none of the above |

Rolling (the last samples of one detector, used by the live pipeline so a detector that
went bad today is excluded today): `stuck` when the last `stuck_samples` (6) readings are
identical and non-zero (a frozen controller repeats its reading exactly; real counts and
occupancies vary), `card_off` when the last `zero_samples` (5) read count 0 and occupancy 0
while the neighbouring stations carry traffic, `high_value` when the latest is implausible.
A missing sample is not a fault here: the interval simply has no reading to use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Health(StrEnum):
    GOOD = "good"
    NO_DATA = "no_data"
    INSUFFICIENT_DATA = "insufficient_data"
    CARD_OFF = "card_off"
    HIGH_VALUE = "high_value"
    INTERMITTENT = "intermittent"
    CONSTANT = "constant"
    STUCK = "stuck"


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of one station (all its lanes)."""

    ts: int
    count: float | None
    occupancy_pct: float | None
    speed_kmh: float | None = None
    # seconds the reading covers (the device's interval)
    interval_s: int = 60
    lanes: int = 1

    @property
    def flow_vphpl(self) -> float | None:
        if self.count is None:
            return None
        return self.count * 3600.0 / self.interval_s / max(self.lanes, 1)


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    insufficient_share: float = 0.6
    card_off_share: float = 0.5
    high_occupancy_pct: float = 70.0
    high_flow_vphpl: float = 3000.0
    high_share: float = 0.2
    intermittent_share: float = 0.2
    constant_s: int = 4 * 3600
    # rolling
    stuck_samples: int = 6
    # a standing queue over a loop reads the same (no vehicle passing, occupancy high) minute
    # after minute: that is congestion, so it counts as stuck only after this many readings
    # (PeMS's daily constant-occupancy rule catches a loop stuck in that state for hours)
    standstill_occupancy_pct: float = 30.0
    standstill_stuck_samples: int = 30
    zero_samples: int = 5
    # neighbours carrying at least this (veh/h/lane) make a silent detector suspect
    neighbour_flow_vphpl: float = 200.0


@dataclass(frozen=True, slots=True)
class Diagnosis:
    status: Health
    samples: int
    expected: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return self.status is Health.GOOD


def _longest_constant_s(samples: Sequence[Sample]) -> int:
    """The longest span (s) of consecutive samples with one unchanged, non-zero occupancy."""
    longest = 0
    run_start: Sample | None = None
    previous: Sample | None = None
    for s in samples:
        same = (
            previous is not None
            and s.occupancy_pct is not None
            and s.occupancy_pct > 0
            and s.occupancy_pct == previous.occupancy_pct
            and s.ts - previous.ts <= previous.interval_s * 1000
        )
        if same and run_start is not None:
            longest = max(longest, (s.ts - run_start.ts) // 1000 + run_start.interval_s)
        else:
            run_start = s
        previous = s
    return longest


def diagnose_day(
    samples: Sequence[Sample], expected: int, thresholds: HealthThresholds = HealthThresholds()
) -> Diagnosis:
    """One detector's day: `samples` inside the day window, in time order; `expected` how many
    the window should hold at the detector's interval (so far, for today)."""
    ordered = sorted(samples, key=lambda s: s.ts)
    n = len(ordered)
    zero_occ = sum(1 for s in ordered if s.occupancy_pct == 0)
    high = sum(
        1
        for s in ordered
        if (s.occupancy_pct or 0) > thresholds.high_occupancy_pct
        or (s.flow_vphpl or 0) > thresholds.high_flow_vphpl
    )
    intermittent = sum(1 for s in ordered if s.count == 0 and (s.occupancy_pct or 0) > 0)
    constant_s = _longest_constant_s(ordered)
    counts = {
        "zero_occupancy": zero_occ,
        "high_values": high,
        "zero_flow_with_occupancy": intermittent,
        "longest_constant_s": constant_s,
    }
    base = max(expected, 1)
    status = Health.GOOD
    if n == 0:
        status = Health.NO_DATA
    elif n < thresholds.insufficient_share * expected:
        status = Health.INSUFFICIENT_DATA
    elif zero_occ > thresholds.card_off_share * base:
        status = Health.CARD_OFF
    elif high > thresholds.high_share * base:
        status = Health.HIGH_VALUE
    elif intermittent > thresholds.intermittent_share * base:
        status = Health.INTERMITTENT
    elif constant_s >= thresholds.constant_s:
        status = Health.CONSTANT
    return Diagnosis(status, n, expected, counts)


def diagnose_recent(
    recent: Sequence[Sample],
    *,
    neighbour_flow_vphpl: float | None = None,
    thresholds: HealthThresholds = HealthThresholds(),
) -> Health:
    """A detector's live health from its latest samples (time order, the newest last)."""
    if not recent:
        return Health.NO_DATA
    latest = recent[-1]
    if (latest.occupancy_pct or 0) > 100 or (latest.flow_vphpl or 0) > thresholds.high_flow_vphpl:
        return Health.HIGH_VALUE
    standstill = latest.count == 0 and (
        (latest.occupancy_pct or 0) >= thresholds.standstill_occupancy_pct
    )
    needed = thresholds.standstill_stuck_samples if standstill else thresholds.stuck_samples
    tail = recent[-needed:]
    if (
        len(tail) == needed
        and all(
            (s.count, s.occupancy_pct, s.speed_kmh)
            == (latest.count, latest.occupancy_pct, latest.speed_kmh)
            for s in tail
        )
        and (latest.occupancy_pct or 0) > 0
    ):
        return Health.STUCK
    zeros = recent[-thresholds.zero_samples :]
    if (
        len(zeros) == thresholds.zero_samples
        and all(s.count == 0 and s.occupancy_pct == 0 for s in zeros)
        and neighbour_flow_vphpl is not None
        and neighbour_flow_vphpl >= thresholds.neighbour_flow_vphpl
    ):
        return Health.CARD_OFF
    return Health.GOOD
