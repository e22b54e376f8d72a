"""SUMO's own E1 detector output (`e1.xml`), summed per station and interval the way the
simulator's readings are, so what roadwatch computes can be checked against SUMO itself.

Per loop and interval SUMO writes `nVehContrib` (vehicles that passed), `flow` (veh/h),
`occupancy` (%) and `speed` (m/s, -1 without vehicles); a station's interval here has the
count over its lanes, flow (veh/h), mean occupancy (%) and count-weighted speed (km/h).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from roadwatch.simulation.sumo.network import Station


@dataclass(frozen=True, slots=True)
class StationInterval:
    station: str
    # epoch seconds of the interval's end (the readings' time stamp)
    end: int
    count: int
    flow_vph: float
    occupancy_pct: float
    speed_kmh: float | None


def read_e1(path: Path, stations: tuple[Station, ...], origin: int) -> list[StationInterval]:
    """Every station's intervals in SUMO's E1 output; `origin` is the epoch of SUMO time 0."""
    owner = {loop: s for s in stations for loop in s.loops}
    # (station id, end) -> [count, occupancy sum, speed x count, lanes seen, interval s]
    sums: dict[tuple[str, int], list[float]] = {}
    for element in ET.parse(path).getroot().iter("interval"):  # noqa: S314 (SUMO's own output file)
        station = owner.get(element.get("id", ""))
        if station is None:
            continue
        begin = float(element.get("begin", "0"))
        end = float(element.get("end", "0"))
        count = int(float(element.get("nVehContrib", "0")))
        speed = float(element.get("speed", "-1"))
        key = (station.site.id, origin + round(end))
        acc = sums.setdefault(key, [0.0, 0.0, 0.0, 0.0, end - begin])
        acc[0] += count
        acc[1] += float(element.get("occupancy", "0"))
        if count > 0 and speed >= 0:
            acc[2] += speed * 3.6 * count
        acc[3] += 1
    lanes = {s.site.id: len(s.loops) for s in stations}
    out = []
    for (station_id, stamp), (vehicles, occ, speed_sum, seen, span) in sorted(sums.items()):
        if seen < lanes[station_id]:
            # the file ends mid-write: an interval not every lane has reported is left out
            continue
        out.append(
            StationInterval(
                station=station_id,
                end=stamp,
                count=int(vehicles),
                flow_vph=vehicles * 3600.0 / span if span else 0.0,
                occupancy_pct=occ / lanes[station_id],
                speed_kmh=speed_sum / vehicles if vehicles else None,
            )
        )
    return out
