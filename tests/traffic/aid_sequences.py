"""Drive a pair algorithm through a hand-written sequence of readings, one a minute."""

from __future__ import annotations

from roadwatch.traffic.aid import PairAlgorithm, Phase, StationInterval, Verdict

MINUTE = 60_000
T0 = 1_795_000_000_000

# an interval with no reading from one station
Reading = tuple[float | None, float | None]


def station(i: int, occupancy: float | None = None, speed: float | None = None) -> StationInterval:
    return StationInterval(T0 + i * MINUTE, None, occupancy, speed)


def run_occupancy(
    algorithm: PairAlgorithm, readings: list[Reading], start: int = 0
) -> list[Verdict]:
    """(upstream occupancy %, downstream occupancy %) per minute."""
    return [
        algorithm.step(station(start + i, occupancy=up), station(start + i, occupancy=down))
        for i, (up, down) in enumerate(readings)
    ]


def run_speed(algorithm: PairAlgorithm, readings: list[Reading], start: int = 0) -> list[Verdict]:
    """(upstream speed, downstream speed) km/h per minute."""
    return [
        algorithm.step(station(start + i, speed=up), station(start + i, speed=down))
        for i, (up, down) in enumerate(readings)
    ]


def phases(verdicts: list[Verdict]) -> list[str]:
    return [v.phase.value for v in verdicts]


C, T, K = Phase.CLEAR.value, Phase.TENTATIVE.value, Phase.CONFIRMED.value
