"""Automatic incident detection: pure algorithms on adjacent detector pairs (no I/O).

The live pipeline (traffic.detection) and the SUMO evaluation bench both drive them the
same way: one `PairAlgorithm` per algorithm per pair, stepped once per interval with the two
stations' readings, each returning a `Verdict` (clear, tentative or confirmed).
"""

from __future__ import annotations

from roadwatch.traffic.aid.california7 import California7
from roadwatch.traffic.aid.california8 import California8
from roadwatch.traffic.aid.pair import PairAlgorithm, StationInterval
from roadwatch.traffic.aid.phases import Phase, Verdict
from roadwatch.traffic.aid.snd import StandardNormalDeviate
from roadwatch.traffic.aid.speed_drop import SpeedDrop
from roadwatch.traffic.aid.thresholds import DEFAULTS, Thresholds, ThresholdTable

ALGORITHMS: dict[str, type[California7 | California8 | StandardNormalDeviate | SpeedDrop]] = {
    California7.name: California7,
    California8.name: California8,
    StandardNormalDeviate.name: StandardNormalDeviate,
    SpeedDrop.name: SpeedDrop,
}


def algorithms_for(road_class: str, thresholds: Thresholds | None = None) -> list[PairAlgorithm]:
    """A fresh instance of every algorithm for a pair on a road of `road_class`, with that
    class's default thresholds unless `thresholds` are given."""
    chosen = thresholds if thresholds is not None else ThresholdTable().for_class(road_class)
    return [kind(chosen) for kind in ALGORITHMS.values()]


__all__ = [
    "ALGORITHMS",
    "DEFAULTS",
    "PairAlgorithm",
    "Phase",
    "StationInterval",
    "ThresholdTable",
    "Thresholds",
    "Verdict",
    "algorithms_for",
]
