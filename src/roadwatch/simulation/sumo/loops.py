"""Reading a station's E1 loops through TraCI, as a detector controller would report them.

Count and mean speed come from SUMO's last completed interval (vehicles that have passed the
loop). Occupancy does not: SUMO's interval occupancy over TraCI counts a vehicle only once
it has left the loop, so a queue standing over it would read 0 % where SUMO's own E1 file
says 100 %. Instead every vehicle's time over each loop (entry and exit, to the fraction of
a second, from a subscription to the loops' vehicle data) is added up per interval,
counting a vehicle still on the loop up to the interval's end, as the E1 file does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import traci.constants as tc  # type: ignore[import-untyped]

from roadwatch.simulation.sumo.network import Station


@dataclass
class _Cover:
    """A vehicle's time over one loop: entered at `entry`, left at `leave` (None: still on)."""

    entry: float
    leave: float | None = None


@dataclass
class LoopReader:
    stations: tuple[Station, ...]
    _covers: dict[str, dict[str, _Cover]] = field(default_factory=dict)
    _occupied_s: dict[str, float] = field(default_factory=dict)
    # SUMO times: the open interval's start, the last step's end, the last closed length
    _begin: float = 0.0
    _end: float = 0.0
    _span: float = 0.0

    def subscribe(self, conn: Any) -> None:
        for station in self.stations:
            for loop in station.loops:
                conn.inductionloop.subscribe(loop, [tc.LAST_STEP_VEHICLE_DATA])
                self._covers[loop] = {}

    def sample(self, conn: Any, sumo_time: float) -> None:
        """Take the step that just ended at `sumo_time` into account."""
        for loop, result in conn.inductionloop.getAllSubscriptionResults().items():
            covers = self._covers.get(loop)
            if covers is None:
                continue
            for veh, _length, entry, leave, _type in result[tc.LAST_STEP_VEHICLE_DATA]:
                cover = covers.setdefault(veh, _Cover(float(entry)))
                if leave >= 0:
                    cover.leave = float(leave)
        self._end = sumo_time

    def close_interval(self) -> None:
        """The interval ends now: each loop's covered seconds in it are fixed, and only the
        vehicles still on a loop are carried into the next one."""
        for loop, covers in self._covers.items():
            occupied = 0.0
            for veh in list(covers):
                cover = covers[veh]
                upto = self._end if cover.leave is None else min(cover.leave, self._end)
                occupied += max(0.0, upto - max(cover.entry, self._begin))
                if cover.leave is not None:
                    del covers[veh]
            self._occupied_s[loop] = occupied
        self._span = self._end - self._begin
        self._begin = self._end

    def occupancy(self, loop: str) -> float:
        """Share (%) of the interval closed last that the loop was covered."""
        if not self._span:
            return 0.0
        return 100.0 * self._occupied_s.get(loop, 0.0) / self._span

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
