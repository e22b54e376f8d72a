"""Speed drop (bottleneck) on one detector pair: the upstream station is slow while the
downstream one runs freely, and that persists.

An incident between two stations queues traffic back over the upstream one and releases
a thinned stream past the downstream one. The rule follows PeMS's bottleneck
identification (upstream below 40 mph with a 20 mph difference, sustained), per interval:

    drop       = upstream speed <= `speed_slow_kmh` and
                 downstream speed - upstream speed >= `speed_diff_kmh`
    clear      -> tentative  at the first interval with a drop
    tentative  -> confirmed  after `speed_confirm_intervals` consecutive drops (default 3)
    confirmed  -> clear      after `speed_clear_intervals` intervals without (default 2)

It sees any active bottleneck, an incident or a recurrent one (a lane drop, a junction that
is over capacity every evening), hence its lower confidence cap; recurrent congestion that
covers both stations (both slow) shows no difference and does not trigger. Speeds estimated
from occupancy (single loops) are used like measured ones.
"""

from __future__ import annotations

from typing import Any

from roadwatch.traffic.aid.pair import PairBase, StationInterval
from roadwatch.traffic.aid.phases import Persistence, Phase, Verdict, excess_confidence
from roadwatch.traffic.aid.thresholds import Thresholds

# a persistent speed difference alone cannot tell an incident from a daily bottleneck
CONFIDENCE_CAP = 0.8


class SpeedDrop(PairBase):
    name = "speed_drop"

    def __init__(self, thresholds: Thresholds) -> None:
        super().__init__()
        self.t = thresholds
        self.persistence = Persistence(
            thresholds.speed_confirm_intervals, thresholds.speed_clear_intervals
        )

    def readable(self, up: StationInterval, down: StationInterval) -> bool:
        return up.speed_kmh is not None and down.speed_kmh is not None

    def judge(self, up: StationInterval, down: StationInterval) -> Verdict:
        assert up.speed_kmh is not None and down.speed_kmh is not None
        difference = down.speed_kmh - up.speed_kmh
        drop = up.speed_kmh <= self.t.speed_slow_kmh and difference >= self.t.speed_diff_kmh
        phase = self.persistence.advance(drop, drop, drop)
        evidence = {
            "speed_up_kmh": round(up.speed_kmh, 2),
            "speed_down_kmh": round(down.speed_kmh, 2),
            "speed_diff_kmh": round(difference, 2),
        }
        if phase is Phase.CLEAR:
            return Verdict(phase, 0.0, evidence)
        slowness = self.t.speed_slow_kmh / max(up.speed_kmh, 1.0)
        strength = excess_confidence(max(difference, 0.0) / self.t.speed_diff_kmh, slowness)
        confidence = CONFIDENCE_CAP * strength * self.persistence.progress()
        return Verdict(phase, round(confidence, 4), evidence)

    def state(self) -> dict[str, Any]:
        return {"persistence": self.persistence.snapshot()}

    def load(self, state: dict[str, Any]) -> None:
        self.persistence.restore(state.get("persistence") or {})
