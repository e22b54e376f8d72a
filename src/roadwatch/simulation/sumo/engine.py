"""SUMO driven through TraCI on the simulator's clock: every `step()` advances 10 s (as the
synthetic city does) and returns the readings of the loop stations whose interval ended and
the patrol cars' fixes, with incidents staged and the ground truth kept.

SUMO's time 0 is `start - warmup_s` (epoch), so its detector intervals end on whole minutes
of the simulated day, and readings are stamped with their interval's end.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, tzinfo
from typing import Any

import traci  # type: ignore[import-untyped]

from roadwatch.simulation.sensors import Reading
from roadwatch.simulation.sumo.binaries import binary
from roadwatch.simulation.sumo.demand import write_routes
from roadwatch.simulation.sumo.incidents import (
    ActiveIncident,
    IncidentPlan,
    arrange,
    plan_incidents,
    release,
)
from roadwatch.simulation.sumo.loops import LoopReader
from roadwatch.simulation.sumo.patrols import SumoPatrols
from roadwatch.simulation.sumo.scenario import Scenario
from roadwatch.simulation.traffic import STEP_S
from roadwatch.simulation.truth import TruthEvent

# routes are written this far ahead when a run has no end (a week of the daily profile)
DEFAULT_HORIZON_S = 7 * 86400
_labels = itertools.count(1)


@dataclass(frozen=True)
class SumoSettings:
    seed: int = 1
    patrol_interval_s: int = 10
    patrols: int = 4
    # simulated before `start` without reporting, so roads are not empty at the first reading
    warmup_s: int = 900
    # simulated time after `start` the demand is written for; None: a week
    duration_s: int | None = None
    demand_scale: float = 1.0
    timezone: tzinfo = UTC
    incidents: tuple[IncidentPlan, ...] = ()

    def check(self, detector_interval_s: int) -> None:
        if self.patrol_interval_s <= 0 or self.patrol_interval_s % STEP_S:
            raise ValueError(f"patrol interval: a positive multiple of {STEP_S} s")
        if self.warmup_s < 0 or self.warmup_s % detector_interval_s:
            raise ValueError("the warm-up is a whole number of detector intervals")
        if self.patrols < 0 or not 0 < self.demand_scale <= 3:
            raise ValueError("patrols >= 0 and a demand scale in (0, 3]")


@dataclass
class SumoSimulation:
    """One SUMO run; `close()` ends the SUMO process (also on errors: use it as a context)."""

    scenario: Scenario
    settings: SumoSettings
    start: int
    now: int = 0
    truth: list[TruthEvent] = field(default_factory=list)
    incidents: list[ActiveIncident] = field(default_factory=list)

    def __post_init__(self) -> None:
        interval = self.scenario.spec.detector_interval_s
        self.settings.check(interval)
        if self.start % interval:
            raise ValueError("start must fall on a whole detector interval")
        self.origin = self.start - self.settings.warmup_s
        duration = self.settings.duration_s or DEFAULT_HORIZON_S
        routes = write_routes(
            self.scenario,
            self.origin,
            self.settings.warmup_s + duration + 3600,
            self.settings.timezone,
            self.settings.seed,
            self.settings.demand_scale,
        )
        self.label = f"roadwatch-sumo-{next(_labels)}"
        command = [
            binary("sumo"),
            "--net-file", str(self.scenario.net_path),
            "--route-files", str(routes),
            "--additional-files", str(self.scenario.detectors_path),
            "--begin", "0",
            "--step-length", "1",
            "--seed", str(self.settings.seed),
            "--time-to-teleport", str(self.scenario.time_to_teleport_s),
            "--ignore-route-errors", "true",
            "--no-step-log", "true",
            "--no-warnings", "true",
            "--duration-log.disable", "true",
        ]  # fmt: skip
        traci.start(command, label=self.label)
        self.conn: Any = traci.getConnection(self.label)
        rng = random.Random(self.settings.seed)
        self.patrols = SumoPatrols(
            self.scenario.sumo_net, self.settings.patrols, random.Random(rng.getrandbits(64))
        )
        self.incidents = [ActiveIncident(p) for p in self.settings.incidents]
        self.loops = LoopReader(self.scenario.sumo_net.stations, interval)
        self.now = self.origin
        try:
            self.patrols.keep_driving(self.conn)
            while self.now < self.start:
                self._advance()
        except BaseException:
            # nobody will call close() on an engine that failed to start: SUMO must not linger
            self.close()
            raise

    def __enter__(self) -> SumoSimulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.conn.close()
        except (traci.exceptions.FatalTraCIError, OSError):
            pass

    @property
    def sumo_time(self) -> int:
        return self.now - self.origin

    def _advance(self) -> None:
        """STEP_S seconds of SUMO: in one go, or second by second while vehicles are being
        chosen to stop for an incident (they must be chosen while they can still brake)."""
        interval = self.scenario.spec.detector_interval_s
        target = self.now + STEP_S
        while self.now < target:
            stop = target
            for incident in self.incidents:
                if incident.started is None:
                    due = incident.plan.start
                    stop = min(stop, self.now + 1 if due <= self.now + 1 else due)
                elif incident.ended is None and incident.end is not None:
                    stop = min(stop, max(self.now + 1, incident.end))
            self.conn.simulationStep(float(stop - self.origin))
            self.now = stop
            if self.now % interval == 0:
                self.loops.close_interval(self.conn, float(self.sumo_time))
            self._incidents()
        self.patrols.keep_driving(self.conn)

    def _incidents(self) -> None:
        for incident in self.incidents:
            due = incident.started is None and incident.plan.start <= self.now
            if due and arrange(self.conn, incident, self.now) and self.now >= self.start:
                self.truth.append(self._event("incident.started", incident))
            end = incident.end
            if incident.ended is None and end is not None and end <= self.now:
                release(self.conn, incident, self.now)
                if incident.started is not None and incident.started >= self.start:
                    self.truth.append(self._event("incident.ended", incident))

    def _event(self, kind: str, incident: ActiveIncident) -> TruthEvent:
        plan = incident.plan
        seg = self.scenario.sumo_net.network.segments[plan.edge]
        lon, lat, _ = seg.point_at(plan.pos_m)
        assert incident.started is not None and incident.end is not None
        at = incident.started if kind == "incident.started" else incident.end
        blocked = len(plan.lanes)
        return TruthEvent(
            kind,
            at * 1000,
            {
                "id": plan.id,
                "segment_id": plan.edge,
                "offset_m": plan.pos_m,
                "lon": lon,
                "lat": lat,
                "lanes_blocked": blocked,
                # lanes numbered as the detectors' are: 1 nearside
                "lanes": [lane + 1 for lane in plan.lanes],
                "capacity_factor": round((seg.lanes - blocked) / seg.lanes, 2),
                "start_ts": incident.started * 1000,
                "end_ts": incident.end * 1000,
            },
        )

    def step(self) -> list[Reading]:
        """Advance STEP_S seconds; the readings of every interval that ended at the new time."""
        self._advance()
        out: list[Reading] = []
        ts_ms = self.now * 1000
        if self.now % self.scenario.spec.detector_interval_s == 0:
            for station in self.scenario.sumo_net.stations:
                values = self.loops.values(self.conn, station)
                out.append(Reading(station.site.id, ts_ms, values))
        if self.now % self.settings.patrol_interval_s == 0:
            out += self.patrols.readings(self.conn, ts_ms)
        return out

    def drain_truth(self) -> list[TruthEvent]:
        events, self.truth = self.truth, []
        return events


def sumo_engine(
    scenario: Scenario,
    settings: SumoSettings,
    incidents: int = 0,
    incident_minutes: tuple[int, int] = (5, 15),
) -> Callable[[int], SumoSimulation]:
    """What the feeder needs: given the run's start, a running SUMO with `incidents` random
    incidents (all lanes blocked, `incident_minutes` long) spread over the run."""

    def make(start: int) -> SumoSimulation:
        span = settings.duration_s or 3600
        # none in the first five minutes, so the platform has a baseline before the first
        rng = random.Random(settings.seed * 7919 + 1)
        plans = plan_incidents(
            scenario.sumo_net,
            incidents,
            start + 300,
            max(60, span - 300 - incident_minutes[1] * 60),
            rng,
            (incident_minutes[0] * 60, incident_minutes[1] * 60),
            prefix=f"incident-{settings.seed}",
        )
        return SumoSimulation(scenario, replace(settings, incidents=tuple(plans)), start)

    return make
