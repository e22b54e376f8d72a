"""The California algorithms' variables, computed from one pair's occupancies (percent).

OCCDF   = OCC(up, t) - OCC(down, t)                  spatial difference
OCCRDF  = OCCDF / OCC(up, t)                          relative spatial difference
DOCC    = OCC(down, t)                                downstream occupancy
DOCCTD  = (OCC(down, t-2) - OCC(down, t)) / max(OCC(down, t-2), 1)
                                                      relative temporal difference downstream
                                                      (positive when downstream occupancy fell)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Variables:
    occdf: float
    occrdf: float
    docc: float
    # None until two earlier downstream readings are known
    docctd: float | None

    def evidence(self, up_occ: float) -> dict[str, float]:
        out = {
            "occ_up_pct": up_occ,
            "occdf_pct": round(self.occdf, 3),
            "occrdf": round(self.occrdf, 4),
            "docc_pct": round(self.docc, 3),
        }
        if self.docctd is not None:
            out["docctd"] = round(self.docctd, 4)
        return out


class DownstreamHistory:
    """The downstream occupancies of the last two judged intervals (DOCCTD looks two
    readings back; a missing interval is not a reading, so a gap stretches the look-back)."""

    def __init__(self, values: list[float] | None = None) -> None:
        self.values: deque[float] = deque(values or [], maxlen=2)

    def variables(self, up_occ: float, down_occ: float) -> Variables:
        occdf = up_occ - down_occ
        # with an empty upstream loop there is no relative difference to speak of
        occrdf = occdf / up_occ if up_occ > 0 else 0.0
        docctd: float | None = None
        if len(self.values) == 2:
            before = self.values[0]
            # a 1 % floor keeps a rise from an empty loop finite (0 -> 30 % reads as -30)
            docctd = (before - down_occ) / max(before, 1.0)
        self.values.append(down_occ)
        return Variables(occdf, occrdf, down_occ, docctd)
