"""Standard normal deviate (after Dudek, Messer & Nuckles, 1974) on one detector pair.

Dudek's test flags a station when its occupancy sits more than a critical number of standard
deviations above the mean of its own recent past. We apply it to the pair's OCCDF (upstream
minus downstream occupancy, percent) rather than one station's occupancy, so that a demand
rise which loads both stations (the morning peak) moves the baseline, not the deviate:

    SND(t) = (OCCDF(t) - mean) / max(sd, `snd_min_sd_pct`)
             mean and sd over the last `snd_window` clear intervals (not including t)
    clear      -> tentative  when SND >= `snd_critical` and OCCDF >= `snd_min_occdf_pct`
    tentative  -> confirmed  when that holds `snd_confirm_intervals` in a row (default 2,
                             Dudek's "two consecutive")
    confirmed  -> clear      when SND < `snd_clear` for `snd_clear_intervals` in a row

The baseline only learns from intervals judged clear: an incident does not teach the test
that the incident is normal. Until the window is full the test only learns (warm-up).
The sd floor keeps a very steady pair from alarming on a few percent of noise.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from roadwatch.traffic.aid.pair import PairBase, StationInterval
from roadwatch.traffic.aid.phases import Persistence, Phase, Verdict, excess_confidence
from roadwatch.traffic.aid.thresholds import Thresholds


class StandardNormalDeviate(PairBase):
    name = "snd"

    def __init__(self, thresholds: Thresholds) -> None:
        super().__init__()
        self.t = thresholds
        self.window: deque[float] = deque(maxlen=thresholds.snd_window)
        self.persistence = Persistence(
            thresholds.snd_confirm_intervals, thresholds.snd_clear_intervals
        )

    def readable(self, up: StationInterval, down: StationInterval) -> bool:
        return up.occupancy_pct is not None and down.occupancy_pct is not None

    def judge(self, up: StationInterval, down: StationInterval) -> Verdict:
        assert up.occupancy_pct is not None and down.occupancy_pct is not None
        occdf = up.occupancy_pct - down.occupancy_pct
        if len(self.window) < self.t.snd_window:
            self.window.append(occdf)
            return Verdict(Phase.CLEAR, 0.0, {"occdf_pct": round(occdf, 3), "warming_up": 1.0})
        mean = sum(self.window) / len(self.window)
        sd = math.sqrt(sum((x - mean) ** 2 for x in self.window) / (len(self.window) - 1))
        deviate = (occdf - mean) / max(sd, self.t.snd_min_sd_pct)
        exceeds = deviate >= self.t.snd_critical and occdf >= self.t.snd_min_occdf_pct
        phase = self.persistence.advance(exceeds, exceeds, deviate >= self.t.snd_clear)
        if phase is Phase.CLEAR:
            self.window.append(occdf)
        evidence = {
            "occdf_pct": round(occdf, 3),
            "baseline_mean_pct": round(mean, 3),
            "baseline_sd_pct": round(sd, 3),
            "snd": round(deviate, 3),
        }
        if phase is Phase.CLEAR:
            return Verdict(phase, 0.0, evidence)
        strength = excess_confidence(deviate / self.t.snd_critical)
        return Verdict(phase, round(strength * self.persistence.progress(), 4), evidence)

    def state(self) -> dict[str, Any]:
        return {"persistence": self.persistence.snapshot(), "window": list(self.window)}

    def load(self, state: dict[str, Any]) -> None:
        self.persistence.restore(state.get("persistence") or {})
        self.window = deque((float(x) for x in state.get("window") or []), maxlen=self.t.snd_window)
