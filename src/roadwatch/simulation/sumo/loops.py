"""Reading a station's E1 loops through TraCI, as a detector controller would report them.

Count and mean speed are SUMO's for the last completed interval (vehicles that have passed
the loop). So is occupancy, with one correction: over TraCI SUMO counts a vehicle's time on
a loop only once it has left it, so a queue standing over the loop would read 0 % where
SUMO's own E1 file says 100 %. At each interval's end the time of the vehicles still on a
loop (since they entered it, or since the interval began) is added, as the E1 file does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from roadwatch.simulation.sumo.network import Station


@dataclass
class LoopReader:
    stations: tuple[Station, ...]
    interval_s: int
    _occupancy: dict[str, float] = field(default_factory=dict)

    def close_interval(self, conn: Any, sumo_time: float) -> None:
        """An interval ended at `sumo_time`: fix every loop's occupancy (%) for it."""
        begin = sumo_time - self.interval_s
        for station in self.stations:
            for loop in station.loops:
                occupancy = float(conn.inductionloop.getLastIntervalOccupancy(loop))
                for _veh, _length, entry, leave, _type in conn.inductionloop.getVehicleData(loop):
                    if leave < 0:
                        # still on the loop: SUMO has not counted it yet
                        occupancy += 100.0 * (sumo_time - max(entry, begin)) / self.interval_s
                self._occupancy[loop] = min(100.0, occupancy)

    def occupancy(self, loop: str) -> float:
        """Share (%) of the interval closed last that the loop was covered."""
        return self._occupancy.get(loop, 0.0)

    def values(self, conn: Any, station: Station) -> dict[str, Any]:
        """The station's reading for the interval that just ended: count, occupancy (%) and
        count-weighted mean speed (km/h) over its lanes, and each lane's own."""
        values: dict[str, Any] = {}
        total = 0
        occupancy_sum = 0.0
        speed_weighted = 0.0
        for lane, loop in enumerate(station.loops, start=1):
            count = int(conn.inductionloop.getLastIntervalVehicleNumber(loop))
            occupancy = min(100.0, self.occupancy(loop))
            speed_ms = float(conn.inductionloop.getLastIntervalMeanSpeed(loop))
            values[f"count_l{lane}"] = count
            values[f"occupancy_l{lane}"] = round(occupancy, 1)
            # SUMO says -1 when no vehicle passed: a loop measures speed only from vehicles
            if count > 0 and speed_ms >= 0:
                values[f"speed_l{lane}"] = round(speed_ms * 3.6, 1)
                speed_weighted += speed_ms * 3.6 * count
            total += count
            occupancy_sum += occupancy
        values["count"] = total
        values["occupancy"] = round(occupancy_sum / len(station.loops), 1)
        if total > 0:
            values["speed"] = round(speed_weighted / total, 1)
        return values
