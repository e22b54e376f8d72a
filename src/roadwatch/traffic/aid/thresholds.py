"""The thresholds of every algorithm, per road class, with the defaults documented in
docs/traffic.md ("Incident detection"). Occupancy in percent, speed km/h, counts in
intervals (one interval = one minute: the algorithms run on the 60 s state).

Operators override them per road class (settings `traffic.aid_thresholds`); a class with no
entry of its own uses DEFAULT_CLASS's."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Thresholds:
    # California #7 and #8 (Payne & Tignor's T1..T5)
    occdf_pct: float = 8.0  # T1: OCCDF >= T1
    occrdf: float = 0.5  # T2: OCCRDF >= T2
    docc_pct: float = 20.0  # T3: DOCC < T3 (downstream still light: not a queue from below)
    docctd: float = 0.15  # #8: or DOCCTD >= this (downstream occupancy fell by 15 %)
    wave_docctd: float = -0.5  # T5 (#8): DOCCTD <= T5, downstream occupancy rose by 50 %
    wave_docc_pct: float = 20.0  # T4 (#8): and DOCC >= T4: a compression wave
    wave_suppress_intervals: int = 5  # #8 ignores onsets this long after a wave
    california_confirm_intervals: int = 2
    california_clear_intervals: int = 1
    # standard normal deviate of OCCDF against its own recent past
    snd_window: int = 10
    snd_critical: float = 3.0
    snd_clear: float = 1.5
    snd_min_sd_pct: float = 2.0
    snd_min_occdf_pct: float = 5.0
    snd_confirm_intervals: int = 2
    snd_clear_intervals: int = 2
    # speed drop: upstream slow, downstream faster by a margin, persisting
    speed_slow_kmh: float = 40.0
    speed_diff_kmh: float = 25.0
    speed_confirm_intervals: int = 3
    speed_clear_intervals: int = 2

    def __post_init__(self) -> None:
        problems = [
            f"{f.name} must be positive"
            for f in dataclasses.fields(self)
            if f.name not in _MAY_BE_NEGATIVE and getattr(self, f.name) <= 0
        ]
        if self.wave_docctd >= 0:
            problems.append("wave_docctd must be negative (a rise downstream)")
        if self.snd_window < 3:
            problems.append("snd_window must be at least 3")
        if self.snd_clear >= self.snd_critical:
            problems.append("snd_clear must be below snd_critical")
        if problems:
            raise ValueError("; ".join(problems))

    def with_overrides(self, overrides: Mapping[str, Any]) -> Thresholds:
        """A copy with `overrides` applied; an unknown name or a bad value is a ValueError
        naming it."""
        known = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ValueError(f"unknown threshold(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for key, value in overrides.items():
            kind = int if known[key].type in ("int", int) else float
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{key} must be a number")
            if kind is int and float(value) != int(value):
                raise ValueError(f"{key} must be a whole number of intervals")
            values[key] = kind(value)
        return dataclasses.replace(self, **values)

    def as_dict(self) -> dict[str, float | int]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


_MAY_BE_NEGATIVE = frozenset({"wave_docctd"})

DEFAULT_CLASS = "arterial"

# Freeways keep the values the California algorithms were calibrated with on 1-minute
# percent occupancy; urban roads have signal platoons and side-street inflow, so their
# occupancy differences are noisier (higher T1) and their speeds lower (PeMS's bottleneck
# rule, 40 mph upstream and a 20 mph difference, scaled to urban speeds).
DEFAULTS: dict[str, Thresholds] = {
    "motorway": Thresholds(speed_slow_kmh=64.0, speed_diff_kmh=32.0),
    "trunk": Thresholds(speed_slow_kmh=55.0, speed_diff_kmh=30.0),
    # urban SND floors: on the demo city's model a 10 % floor cut SND's false alarms by
    # three quarters for 14 % fewer detections (junction queues make OCCDF swing)
    "ring": Thresholds(
        occdf_pct=10.0, snd_min_occdf_pct=10.0, speed_slow_kmh=40.0, speed_diff_kmh=25.0
    ),
    "arterial": Thresholds(
        occdf_pct=12.0,
        docc_pct=25.0,
        snd_min_occdf_pct=10.0,
        speed_slow_kmh=30.0,
        speed_diff_kmh=20.0,
    ),
    "collector": Thresholds(
        occdf_pct=15.0,
        docc_pct=25.0,
        snd_min_occdf_pct=12.0,
        speed_slow_kmh=25.0,
        speed_diff_kmh=18.0,
    ),
    "local": Thresholds(
        occdf_pct=15.0,
        docc_pct=30.0,
        snd_min_occdf_pct=12.0,
        speed_slow_kmh=20.0,
        speed_diff_kmh=15.0,
    ),
}


class ThresholdTable:
    """Thresholds per road class: the defaults above with operator overrides laid on top
    (overrides for a class not in DEFAULTS start from DEFAULT_CLASS's)."""

    def __init__(self, overrides: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        table = dict(DEFAULTS)
        for road_class, values in (overrides or {}).items():
            base = table.get(road_class, DEFAULTS[DEFAULT_CLASS])
            try:
                table[road_class] = base.with_overrides(values)
            except ValueError as exc:
                raise ValueError(f"traffic.aid_thresholds.{road_class}: {exc}") from None
        self.by_class = table

    def for_class(self, road_class: str | None) -> Thresholds:
        if road_class is not None and road_class in self.by_class:
            return self.by_class[road_class]
        return self.by_class[DEFAULT_CLASS]
