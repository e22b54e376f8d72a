"""Incidents in SUMO through TraCI: vehicles stopped across the lanes of an edge at one
position for a few minutes, as a crash or a breakdown with its rescue vehicles would.

For each blocked lane the nearest vehicle upstream of the spot that can still brake in time
is told to stop there (and not to change lanes); the others queue behind it or, where a lane
is still open, squeeze past. When the incident ends the stopped vehicles drive on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from traci.exceptions import TraCIException  # type: ignore[import-untyped]

from roadwatch.simulation.sumo.network import SumoNetwork

# SUMO's default lane-change mode, restored when a stopped vehicle drives on
DEFAULT_LANE_CHANGE_MODE = 0b011001010101
# a vehicle chosen to stop must reach the spot with this much more room than it needs
BRAKING_MARGIN_M = 10.0
# patrol cars report their positions: they are never the ones told to stop
PATROL_PREFIX = "patrol-"
# incidents are spread over the span in slots at least this long
MIN_SPAN_S = 60


@dataclass(frozen=True, slots=True)
class IncidentPlan:
    """An incident to stage: `lanes` are SUMO lane indexes (0 = nearside); times are epoch s."""

    id: str
    edge: str
    pos_m: float
    lanes: tuple[int, ...]
    start: int
    duration_s: int


@dataclass
class ActiveIncident:
    plan: IncidentPlan
    blockers: dict[int, str] = field(default_factory=dict)
    # epoch s when every lane had its stopped vehicle; None while still arranging it
    started: int | None = None
    ended: int | None = None

    @property
    def end(self) -> int | None:
        return None if self.started is None else self.started + self.plan.duration_s


def plan_incidents(
    sumo_net: SumoNetwork,
    count: int,
    start: int,
    span_s: int,
    rng: random.Random,
    duration_s: tuple[int, int] = (300, 900),
    all_lanes: bool = True,
    prefix: str = "incident",
) -> list[IncidentPlan]:
    """`count` incidents on random edges with stations, at random spots, starting within
    [start, start + span_s), one at a time. Only edges with roads both before and after
    them: where traffic enters there is no station upstream to see the queue, and where it
    leaves none downstream to see the road empty."""
    segments = sumo_net.network.segments
    edges = sorted(
        s.edge_id
        for s in sumo_net.stations
        if segments[s.edge_id].upstream and segments[s.edge_id].downstream
    )
    if not edges or count <= 0:
        return []
    plans: list[IncidentPlan] = []
    slot = max(MIN_SPAN_S, span_s // count)
    for n in range(count):
        seg = sumo_net.network.segments[rng.choice(edges)]
        length = rng.randint(duration_s[0] // 10, duration_s[1] // 10) * 10
        begin = start + n * slot + rng.randrange(0, max(10, slot - length), 10)
        lanes = tuple(range(seg.lanes)) if all_lanes else (rng.randrange(seg.lanes),)
        pos = round(seg.length_m * rng.uniform(0.15, 0.85), 1)
        plans.append(IncidentPlan(f"{prefix}-{n + 1}", seg.id, pos, lanes, begin, length))
    return plans


def _pick_blocker(conn: Any, edge: str, lane: int, pos: float) -> str | None:
    """The vehicle on the lane nearest upstream of `pos` that can stop there in time."""
    best: tuple[float, str] | None = None
    for veh in conn.lane.getLastStepVehicleIDs(f"{edge}_{lane}"):
        if veh.startswith(PATROL_PREFIX):
            continue
        at = conn.vehicle.getLanePosition(veh)
        speed = conn.vehicle.getSpeed(veh)
        decel = conn.vehicle.getDecel(veh)
        needs = speed * speed / (2 * decel) + BRAKING_MARGIN_M
        if at + needs < pos and (best is None or at > best[0]):
            best = (at, veh)
    return None if best is None else best[1]


def arrange(conn: Any, incident: ActiveIncident, now: int) -> bool:
    """Tell a vehicle on every lane still missing one to stop; True once all lanes have one."""
    plan = incident.plan
    for lane in plan.lanes:
        if lane in incident.blockers:
            continue
        veh = _pick_blocker(conn, plan.edge, lane, plan.pos_m)
        if veh is None:
            continue
        try:
            conn.vehicle.setLaneChangeMode(veh, 0)
            # held until released explicitly; the duration only bounds a forgotten stop
            conn.vehicle.setStop(
                veh, plan.edge, pos=plan.pos_m, laneIndex=lane, duration=plan.duration_s * 4
            )
        except TraCIException:
            conn.vehicle.setLaneChangeMode(veh, DEFAULT_LANE_CHANGE_MODE)
            continue
        incident.blockers[lane] = veh
    if len(incident.blockers) == len(plan.lanes) and incident.started is None:
        incident.started = now
    return incident.started is not None


def release(conn: Any, incident: ActiveIncident, now: int) -> None:
    """The incident is over: its stopped vehicles drive on."""
    for veh in incident.blockers.values():
        try:
            conn.vehicle.resume(veh)
        except TraCIException:
            # not yet at the stop (it cannot be far): cancel the stop instead
            try:
                conn.vehicle.setStop(
                    veh, incident.plan.edge, pos=incident.plan.pos_m,
                    laneIndex=conn.vehicle.getLaneIndex(veh), duration=0,
                )  # fmt: skip
            except TraCIException:
                pass
        try:
            conn.vehicle.setLaneChangeMode(veh, DEFAULT_LANE_CHANGE_MODE)
        except TraCIException:
            pass
    incident.ended = now
