"""One adjacent detector pair as the algorithms see it: a reading per station per interval,
and the shape every algorithm has (stateful, stepped once per interval, resumable)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from roadwatch.traffic.aid.phases import CLEAR_VERDICT, Phase, Verdict


@dataclass(frozen=True, slots=True)
class StationInterval:
    """One station's reading for one interval (the interval's end, epoch ms); occupancy in
    percent (0-100), flow veh/h, speed km/h. None is missing data."""

    end_ts: int
    flow_vph: float | None
    occupancy_pct: float | None
    speed_kmh: float | None


@runtime_checkable
class PairAlgorithm(Protocol):
    """One algorithm on one upstream/downstream pair. `step` is called once per interval in
    increasing `end_ts` order; `snapshot`/`restore` carry its state across a restart."""

    name: str

    def step(self, up: StationInterval, down: StationInterval) -> Verdict: ...

    def snapshot(self) -> dict[str, Any]: ...

    def restore(self, state: dict[str, Any]) -> None: ...


class PairBase(ABC):
    """What every algorithm here shares: intervals are judged once and in order (a repeated
    or older interval returns the last verdict, marked held), and an interval missing what
    the algorithm reads neither raises nor clears anything: it holds the phase."""

    name: str = ""

    def __init__(self) -> None:
        self.last_ts: int | None = None
        self.last: Verdict = CLEAR_VERDICT

    @property
    def phase(self) -> Phase:
        return self.last.phase

    def step(self, up: StationInterval, down: StationInterval) -> Verdict:
        ts = max(up.end_ts, down.end_ts)
        if self.last_ts is not None and ts <= self.last_ts:
            return _held(self.last)
        self.last_ts = ts
        if not self.readable(up, down):
            self.last = _held(self.last)
            return self.last
        self.last = self.judge(up, down)
        return self.last

    @abstractmethod
    def readable(self, up: StationInterval, down: StationInterval) -> bool:
        """Whether both readings hold what the algorithm needs."""

    @abstractmethod
    def judge(self, up: StationInterval, down: StationInterval) -> Verdict:
        """The verdict for a new, readable interval (updates the algorithm's state)."""

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """The algorithm's own state, JSON-serialisable."""

    @abstractmethod
    def load(self, state: dict[str, Any]) -> None:
        """Restore what `state` returned."""

    def snapshot(self) -> dict[str, Any]:
        return {
            "last_ts": self.last_ts,
            "last": {
                "phase": self.last.phase.value,
                "confidence": self.last.confidence,
                "evidence": dict(self.last.evidence),
            },
            "state": self.state(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        last_ts = state.get("last_ts")
        self.last_ts = int(last_ts) if last_ts is not None else None
        last = state.get("last") or {}
        self.last = Verdict(
            Phase(last.get("phase", Phase.CLEAR.value)),
            float(last.get("confidence", 0.0)),
            {str(k): float(v) for k, v in (last.get("evidence") or {}).items()},
        )
        self.load(state.get("state") or {})


def _held(verdict: Verdict) -> Verdict:
    return Verdict(verdict.phase, verdict.confidence, verdict.evidence, held=True)
