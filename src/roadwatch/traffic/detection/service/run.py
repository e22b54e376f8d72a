"""Running the AID algorithms on one computed interval: pair the stations, step every
algorithm of every pair (each interval once, in order), and move the detections along
their lifecycle, publishing each change.

One detection per algorithm per episode: the evaluation stays per algorithm. When several
algorithms are confirmed on one pair at once, each detection names the others in
`evidence.corroborating`, and a later one names the first confirmed in
`evidence.corroborates`, so a consumer can fold them into one incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.platform.events import Event, new_event, publish
from roadwatch.traffic import events
from roadwatch.traffic.aid import ALGORITHMS, Phase, ThresholdTable, Verdict
from roadwatch.traffic.detection.lifecycle import DetectionAction, DetectionPhase, transition
from roadwatch.traffic.detection.location import point_along
from roadwatch.traffic.detection.models import Detection, PairState
from roadwatch.traffic.detection.pairing import Interval, Pair
from roadwatch.traffic.detection.repository import DetectionRepository
from roadwatch.traffic.detection.service.reads import state_of

# the algorithms count in one-minute intervals (thresholds.py): the 5-minute state is not
# theirs to judge
AID_INTERVAL_S = 60

TRANSITIONS = Counter(
    "roadwatch_traffic_aid_transitions_total",
    "detections moved along their lifecycle by the AID algorithms",
    ["algorithm", "phase"],
)


@dataclass
class _Step:
    pair: Pair
    algorithm: str
    row: PairState
    before: Phase
    verdict: Verdict


class DetectionRun:
    def __init__(self, session: AsyncSession, table: ThresholdTable) -> None:
        self.session = session
        self.repo = DetectionRepository(session)
        self.table = table

    async def on_interval(self, interval: Interval) -> int:
        """Judge one interval; the number of detections that changed phase."""
        if interval.interval_s != AID_INTERVAL_S:
            return 0
        start_ts, end_ts, pairs = interval.start_ts, interval.end_ts, interval.pairs
        await self.repo.lock_run()
        states = await self.repo.states(p.id for p in pairs)
        steps: list[_Step] = []
        for pair in pairs:
            thresholds = self.table.for_class(pair.road_class)
            for name, kind in ALGORITHMS.items():
                row = states.get((pair.id, name))
                if row is not None and row.last_end_ts >= end_ts:
                    continue  # already judged (a republished interval) or older
                algorithm = kind(thresholds)
                if row is None:
                    row = PairState(pair_id=pair.id, algorithm=name, last_end_ts=end_ts)
                    self.session.add(row)
                else:
                    algorithm.restore(row.state)
                before = algorithm.phase
                verdict = algorithm.step(pair.up.reading, pair.down.reading)
                row.last_end_ts = end_ts
                row.state = algorithm.snapshot()
                steps.append(_Step(pair, name, row, before, verdict))
        changed = [s for s in steps if s.verdict.phase is not s.before]
        if not changed:
            await self.session.flush()
            return 0
        detections = await self.repo.detections(
            s.row.detection_id for s in changed if s.row.detection_id
        )
        confirmed_on = _confirmed_by_pair(steps, states)
        moved = 0
        for step in changed:
            moved += await self._apply(step, detections, confirmed_on, start_ts, end_ts)
        await self.session.flush()
        return moved

    async def _apply(
        self,
        step: _Step,
        detections: dict[str, Detection],
        confirmed_on: dict[str, list[str]],
        start_ts: int,
        end_ts: int,
    ) -> int:
        after = step.verdict.phase
        if after is step.before:
            return 0
        detection = detections.get(step.row.detection_id or "")
        moved = 0
        if step.before is Phase.CLEAR:
            detection = await self._open(step, start_ts)
            step.row.detection_id = detection.id
            moved += 1
            if after is Phase.CONFIRMED:
                moved += await self._confirm(step, detection, confirmed_on, end_ts)
        elif after is Phase.CONFIRMED and detection is not None:
            moved += await self._confirm(step, detection, confirmed_on, end_ts)
        elif after is Phase.CLEAR:
            step.row.detection_id = None
            if detection is not None and detection.phase != DetectionPhase.DISMISSED:
                action = (
                    DetectionAction.DROP
                    if detection.phase == DetectionPhase.TENTATIVE
                    else DetectionAction.CLEAR
                )
                await self._end(detection, action, end_ts)
                moved += 1
        return moved

    async def _open(self, step: _Step, start_ts: int) -> Detection:
        pair = step.pair
        segment_id, offset_m = pair.midpoint()
        geometry = (await self.repo.geometries([segment_id])).get(segment_id)
        point = point_along(geometry[0], offset_m, geometry[1]) if geometry else None
        detection = Detection(
            algorithm=step.algorithm,
            pair_id=pair.id,
            upstream_device_id=pair.up.device_id,
            downstream_device_id=pair.down.device_id,
            segment_id=segment_id,
            offset_m=round(offset_m, 1),
            lon=point[0] if point else None,
            lat=point[1] if point else None,
            road_class=pair.road_class,
            lanes=None,
            phase=DetectionPhase.TENTATIVE.value,
            onset_ts=start_ts,
            confidence=step.verdict.confidence,
            evidence={**step.verdict.evidence, "interval_s": AID_INTERVAL_S},
        )
        self.session.add(detection)
        await self._publish(events.DETECTION_OPENED, detection, step.algorithm)
        return detection

    async def _confirm(
        self,
        step: _Step,
        detection: Detection,
        confirmed_on: dict[str, list[str]],
        end_ts: int,
    ) -> int:
        if detection.phase != DetectionPhase.TENTATIVE:
            return 0  # dismissed while tentative: the dispatcher has spoken
        detection.phase = transition(detection.phase, DetectionAction.CONFIRM).value
        detection.confirmed_ts = end_ts
        detection.confidence = step.verdict.confidence
        others = [a for a in confirmed_on.get(step.pair.id, []) if a != step.algorithm]
        evidence: dict[str, Any] = {
            **step.verdict.evidence,
            "interval_s": AID_INTERVAL_S,
            "corroborating": sorted(others),
        }
        earlier = await self.repo.first_confirmed(step.pair.id, detection.id)
        if earlier is not None:
            evidence["corroborates"] = earlier.id
        detection.evidence = evidence
        await self._publish(events.INCIDENT_DETECTED, detection, step.algorithm)
        return 1

    async def _end(self, detection: Detection, action: DetectionAction, end_ts: int) -> None:
        detection.phase = transition(detection.phase, action).value
        detection.cleared_ts = end_ts
        cleared = action is DetectionAction.CLEAR
        kind = events.INCIDENT_CLEARED if cleared else events.DETECTION_DROPPED
        await self._publish(kind, detection, detection.algorithm)

    async def _publish(self, type: str, detection: Detection, algorithm: str) -> None:
        await self.session.flush()
        await self.session.refresh(detection)
        TRANSITIONS.labels(algorithm, detection.phase).inc()
        publish(self.session, detection_event(type, detection))


def detection_event(type: str, detection: Detection, actor: str = "system") -> Event:
    """The event of a detection's change: the contract's fields (docs/traffic.md) and the
    detection's full state for the audit trail."""
    location = (
        {"lon": detection.lon, "lat": detection.lat}
        if detection.lon is not None and detection.lat is not None
        else None
    )
    payload = {
        "detection_id": detection.id,
        "segment_id": detection.segment_id,
        "location": location,
        "lanes": detection.lanes,
        "algorithm": detection.algorithm,
        "confidence": detection.confidence,
        "evidence": detection.evidence,
        "detected_ts": detection.confirmed_ts,
        "onset_ts": detection.onset_ts,
        "cleared_ts": detection.cleared_ts,
        "pair_id": detection.pair_id,
        "state": state_of(detection),
    }
    return new_event(type, "traffic_detection", detection.id, payload, actor=actor)


def _confirmed_by_pair(
    steps: list[_Step], states: dict[tuple[str, str], PairState]
) -> dict[str, list[str]]:
    """Per pair, the algorithms confirmed after this interval (stepped now or earlier)."""
    out: dict[str, list[str]] = {}
    stepped = {(s.pair.id, s.algorithm) for s in steps}
    for s in steps:
        if s.verdict.phase is Phase.CONFIRMED:
            out.setdefault(s.pair.id, []).append(s.algorithm)
    for (pair_id, algorithm), row in states.items():
        if (pair_id, algorithm) in stepped:
            continue
        phase = ((row.state or {}).get("last") or {}).get("phase")
        if phase == Phase.CONFIRMED.value:
            out.setdefault(pair_id, []).append(algorithm)
    return out
