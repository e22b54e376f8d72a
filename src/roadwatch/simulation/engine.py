"""One simulated city over time: the traffic model, its detectors and patrol cars, random
incidents and faults, stepped on a simulated clock that knows nothing of wall time.

Given the same network, settings, seed and start it produces the same readings and the same
ground truth, whatever speed it is later replayed at.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from roadwatch.simulation.city import Network
from roadwatch.simulation.sensors import DetectorModel, Fault, PatrolModel, Reading
from roadwatch.simulation.traffic import STEP_S, Incident, TrafficModel, TrafficState
from roadwatch.simulation.truth import TruthEvent


@dataclass(frozen=True)
class SimulationSettings:
    seed: int = 1
    detector_interval_s: int = 60
    patrol_interval_s: int = 10
    patrols: int = 4
    # faults starting per detector per hour (0.02: one detector in 50 each hour)
    fault_rate_per_h: float = 0.02
    # incidents starting per hour somewhere in the network
    incident_rate_per_h: float = 0.5
    noise: bool = True
    # simulated before `start` without reporting, so roads are not empty at the first reading
    warmup_s: int = 1800
    timezone: tzinfo = UTC
    # incidents to stage besides the random ones (tests, exercises)
    incidents: tuple[Incident, ...] = ()

    def check(self) -> None:
        for name in ("detector_interval_s", "patrol_interval_s"):
            value = getattr(self, name)
            if value <= 0 or value % STEP_S:
                raise ValueError(f"{name}: must be a positive multiple of {STEP_S} s")
        if self.patrols < 0 or self.fault_rate_per_h < 0 or self.incident_rate_per_h < 0:
            raise ValueError("patrols, fault and incident rates cannot be negative")


def aligned_start(t: float, interval_s: int) -> int:
    """`t` rounded down to a whole interval, as real detectors report on the minute."""
    return int(t // interval_s * interval_s)


@dataclass
class CitySimulation:
    network: Network
    settings: SimulationSettings
    start: int
    now: int = 0
    state: TrafficState = field(init=False)
    incidents: list[Incident] = field(default_factory=list)
    truth: list[TruthEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.settings.check()
        if self.start % self.settings.detector_interval_s:
            raise ValueError("start must fall on a whole detector interval")
        seeds = random.Random(self.settings.seed)
        # independent streams: what one part draws never shifts another's numbers
        noise, faults, events, patrols = (random.Random(seeds.getrandbits(64)) for _ in range(4))
        self.traffic = TrafficModel(self.network)
        self.state = self.traffic.initial_state()
        self.detectors = DetectorModel(
            self.network,
            self.traffic,
            self.settings.detector_interval_s,
            noise,
            faults,
            self.settings.fault_rate_per_h,
            self.settings.noise,
        )
        self.patrols = PatrolModel.place(self.network, self.traffic, patrols, self.settings.patrols)
        self._events = events
        self.incidents = list(self.settings.incidents)
        self._announced: set[str] = set()
        self._incident_count = 0
        self.now = self.start - self.settings.warmup_s
        while self.now < self.start:
            self.traffic.step(self.state, self.now, self._local(self.now), self.incidents)
            self.now += STEP_S

    def _local(self, t: float) -> datetime:
        return datetime.fromtimestamp(t, self.settings.timezone)

    def step(self) -> list[Reading]:
        """Advance STEP_S seconds; the readings of every interval that ended at the new time."""
        t = self.now
        self._random_incident(t)
        self._announce_incidents(t)
        self.traffic.step(self.state, t, self._local(t), self.incidents)
        self.detectors.observe(self.state)
        self.patrols.step(self.state, t)
        self.now = t + STEP_S
        out: list[Reading] = []
        if self.now % self.settings.detector_interval_s == 0:
            readings, started, ended = self.detectors.readings(self.state, self.now)
            out += readings
            self._record_faults(started, ended)
        if self.now % self.settings.patrol_interval_s == 0:
            out += self.patrols.readings(self.now)
        return out

    def _random_incident(self, t: float) -> None:
        # four draws every step, whether or not an incident begins
        u, which, length, severity = (self._events.random() for _ in range(4))
        if u >= self.settings.incident_rate_per_h * STEP_S / 3600:
            return
        busy = {i.segment_id for i in self.incidents if i.active(t)}
        free = [s for s in sorted(self.network.segments) if s not in busy]
        if not free:
            return
        seg = self.network.segments[free[int(which * len(free)) % len(free)]]
        self._incident_count += 1
        blocked = seg.lanes if severity > 0.8 else 1
        # capacity falls by more than the blocked share: drivers merge and slow past it
        factor = (
            0.1 if blocked == seg.lanes else max(0.15, (seg.lanes - blocked) / seg.lanes - 0.15)
        )
        self.incidents.append(
            Incident(
                id=f"incident-{self.settings.seed}-{self._incident_count}",
                segment_id=seg.id,
                start=t,
                end=t + 600 + int(length * 30) * 60,
                capacity_factor=round(factor, 2),
                lanes_blocked=blocked,
                offset_m=round(seg.length_m * (0.3 + 0.6 * which), 1),
            )
        )

    def _announce_incidents(self, t: float) -> None:
        for incident in self.incidents:
            if incident.start <= t and incident.id not in self._announced:
                if incident.end <= self.start:
                    continue
                self._announced.add(incident.id)
                self.truth.append(
                    self._incident_event("incident.started", incident, incident.start)
                )
            if incident.id in self._announced and t <= incident.end < t + STEP_S:
                self.truth.append(self._incident_event("incident.ended", incident, incident.end))

    def _incident_event(self, kind: str, incident: Incident, at: float) -> TruthEvent:
        seg = self.network.segments[incident.segment_id]
        lon, lat, _ = seg.point_at(incident.offset_m)
        return TruthEvent(
            kind,
            int(at * 1000),
            {
                "id": incident.id,
                "segment_id": incident.segment_id,
                "offset_m": incident.offset_m,
                "lon": lon,
                "lat": lat,
                "lanes_blocked": incident.lanes_blocked,
                "capacity_factor": incident.capacity_factor,
                "start_ts": int(incident.start * 1000),
                "end_ts": int(incident.end * 1000),
            },
        )

    def _record_faults(self, started: list[Fault], ended: list[Fault]) -> None:
        for kind, faults in (("fault.started", started), ("fault.ended", ended)):
            for fault in faults:
                self.truth.append(
                    TruthEvent(
                        kind,
                        int((fault.start if kind == "fault.started" else fault.end) * 1000),
                        {
                            "detector": fault.site_id,
                            "fault": fault.kind,
                            "start_ts": int(fault.start * 1000),
                            "end_ts": int(fault.end * 1000),
                        },
                    )
                )

    def drain_truth(self) -> list[TruthEvent]:
        events, self.truth = self.truth, []
        return events
