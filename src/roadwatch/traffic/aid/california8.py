"""California algorithm #8 (Payne & Tignor, 1978): #7's incident test with a
compression-wave filter, on one detector pair.

A compression wave (a stop-and-go shock travelling upstream in heavy traffic) reaches the
downstream station first and then the upstream one; when it sits on the upstream station
alone the pair looks exactly like an incident. So:

    wave       when DOCCTD <= T5 and DOCC >= T4 (downstream occupancy jumped and is high):
               onsets are ignored for `wave_suppress_intervals` (default 5, i.e. 5 minutes)
    clear      -> tentative  when OCCDF >= T1 and OCCRDF >= T2 and
                             (DOCC < T3 or DOCCTD >= `docctd`), outside a suppression
    tentative  -> confirmed  when OCCRDF >= T2 has held `california_confirm_intervals`
    tentative  -> clear      when OCCRDF < T2 before that, or a wave arrives
    confirmed  -> clear      when OCCRDF < T2 for `california_clear_intervals`

The DOCCTD alternative catches an incident whose downstream station is still busy but
emptying (occupancy fell by at least 15 % over two intervals).
"""

from __future__ import annotations

from typing import Any

from roadwatch.traffic.aid.california7 import verdict
from roadwatch.traffic.aid.occupancy import DownstreamHistory, Variables
from roadwatch.traffic.aid.pair import PairBase, StationInterval
from roadwatch.traffic.aid.phases import Persistence, Phase, Verdict
from roadwatch.traffic.aid.thresholds import Thresholds


class California8(PairBase):
    name = "california8"

    def __init__(self, thresholds: Thresholds) -> None:
        super().__init__()
        self.t = thresholds
        self.history = DownstreamHistory()
        self.persistence = Persistence(
            thresholds.california_confirm_intervals, thresholds.california_clear_intervals
        )
        # intervals of suppression left after a compression wave
        self.suppressed = 0

    def readable(self, up: StationInterval, down: StationInterval) -> bool:
        return up.occupancy_pct is not None and down.occupancy_pct is not None

    def wave(self, v: Variables) -> bool:
        return (
            v.docctd is not None
            and v.docctd <= self.t.wave_docctd
            and v.docc >= self.t.wave_docc_pct
        )

    def onset(self, v: Variables) -> bool:
        downstream_light = v.docc < self.t.docc_pct or (
            v.docctd is not None and v.docctd >= self.t.docctd
        )
        return v.occdf >= self.t.occdf_pct and v.occrdf >= self.t.occrdf and downstream_light

    def judge(self, up: StationInterval, down: StationInterval) -> Verdict:
        assert up.occupancy_pct is not None and down.occupancy_pct is not None
        v = self.history.variables(up.occupancy_pct, down.occupancy_pct)
        wave = self.wave(v)
        if wave:
            self.suppressed = self.t.wave_suppress_intervals
        elif self.suppressed > 0:
            self.suppressed -= 1
        holds = v.occrdf >= self.t.occrdf
        if self.persistence.phase is Phase.CONFIRMED:
            # a confirmed incident is judged on its own continuation, wave or not
            phase = self.persistence.advance(False, holds, holds)
        else:
            quiet = self.suppressed == 0
            phase = self.persistence.advance(quiet and self.onset(v), quiet and holds, holds)
        out = verdict(phase, self.persistence, v, self.t, up.occupancy_pct)
        out.evidence["compression_wave"] = 1.0 if wave else 0.0
        out.evidence["suppressed_intervals"] = float(self.suppressed)
        return out

    def state(self) -> dict[str, Any]:
        return {
            "persistence": self.persistence.snapshot(),
            "docc": list(self.history.values),
            "suppressed": self.suppressed,
        }

    def load(self, state: dict[str, Any]) -> None:
        self.persistence.restore(state.get("persistence") or {})
        self.history = DownstreamHistory([float(x) for x in state.get("docc") or []])
        self.suppressed = int(state.get("suppressed", 0))
