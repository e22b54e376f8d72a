"""Reading a station's E1 loops through TraCI, as a detector controller would report them.

Count and mean speed come from SUMO's last completed interval (vehicles that have passed the
loop). Occupancy does not: SUMO counts a vehicle's time on a loop only once it has left it,
so a queue standing still over the loop would read 0 % where its own E1 output file says
100 %. Occupancy is therefore sampled every simulated second (a subscription, one round
trip per step) and averaged over the interval: the share of time the loop was covered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import traci.constants as tc  # type: ignore[import-untyped]

from roadwatch.simulation.sumo.network import Station


@dataclass
class LoopReader:
    stations: tuple[Station, ...]
    _occupied: dict[str, float] = field(default_factory=dict)
    _seconds: int = 0

    def subscribe(self, conn: Any) -> None:
        for station in self.stations:
            for loop in station.loops:
                conn.inductionloop.subscribe(loop, [tc.LAST_STEP_OCCUPANCY])
                self._occupied[loop] = 0.0

    def sample(self, conn: Any) -> None:
        """Add the step just simulated (one second) to every loop's occupancy."""
        for loop, result in conn.inductionloop.getAllSubscriptionResults().items():
            if loop in self._occupied:
                self._occupied[loop] += float(result[tc.LAST_STEP_OCCUPANCY])
        self._seconds += 1

    def reset(self) -> None:
        for loop in self._occupied:
            self._occupied[loop] = 0.0
        self._seconds = 0

    def occupancy(self, loop: str) -> float:
        return self._occupied[loop] / self._seconds if self._seconds else 0.0

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
