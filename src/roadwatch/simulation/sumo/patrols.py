"""Patrol cars in SUMO: vehicles of their own type that drive from one edge of the network
to another and, on arriving, turn round and set off for another exit; their GPS fixes are
their positions as TraCI reports them, in WGS 84."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from roadwatch.simulation.sensors import Reading
from roadwatch.simulation.sumo.incidents import PATROL_PREFIX
from roadwatch.simulation.sumo.network import SumoNetwork


@dataclass
class SumoPatrols:
    sumo_net: SumoNetwork
    count: int
    rng: random.Random
    _routes: int = 0
    # the edge each car set off from last (its next trip starts from that edge's reverse)
    _last_exit: dict[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [f"{PATROL_PREFIX}{n}" for n in range(1, self.count + 1)]

    def _entries_exits(self) -> tuple[list[str], list[str]]:
        segs = self.sumo_net.network.segments
        entries = sorted(s.id for s in segs.values() if not s.upstream)
        exits = sorted(s.id for s in segs.values() if not s.downstream)
        return entries or sorted(segs), exits or sorted(segs)

    def _reverse(self, edge: str) -> str | None:
        segs = self.sumo_net.network.segments
        seg = segs[edge]
        for other in segs.values():
            if other.from_node == seg.to_node and other.to_node == seg.from_node:
                return other.id
        return None

    def _dispatch(self, conn: Any, car: str) -> None:
        entries, exits = self._entries_exits()
        last = self._last_exit.get(car)
        origin = (self._reverse(last) if last else None) or self.rng.choice(entries)
        for _ in range(10):
            goal = self.rng.choice(exits)
            if goal == origin or goal == self._reverse(origin):
                continue
            route = conn.simulation.findRoute(origin, goal)
            if route.edges:
                self._routes += 1
                route_id = f"{car}.trip{self._routes}"
                conn.route.add(route_id, list(route.edges))
                conn.vehicle.add(
                    car, route_id, typeID="patrol", depart="now", departLane="best",
                    departSpeed="max",
                )  # fmt: skip
                self._last_exit[car] = goal
                return

    def keep_driving(self, conn: Any) -> None:
        """Send off every car that is not on the road nor waiting to enter it."""
        driving = set(conn.vehicle.getIDList())
        waiting = set(conn.simulation.getPendingVehicles())
        for car in self.ids:
            if car not in driving and car not in waiting:
                self._dispatch(conn, car)

    def readings(self, conn: Any, ts_ms: int) -> list[Reading]:
        driving = set(conn.vehicle.getIDList())
        out: list[Reading] = []
        for car in self.ids:
            if car not in driving:
                continue
            x, y = conn.vehicle.getPosition(car)
            lon, lat = self.sumo_net.to_lonlat(x, y)
            values = {
                "latitude": lat,
                "longitude": lon,
                "speed": round(conn.vehicle.getSpeed(car) * 3.6, 1),
                # SUMO's angle is already clockwise from north
                "heading": round(conn.vehicle.getAngle(car) % 360.0, 1),
            }
            out.append(Reading(car, ts_ms, values))
        return out
