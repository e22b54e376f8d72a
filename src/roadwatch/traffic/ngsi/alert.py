"""Alert (FIWARE Smart Data Models, dataModel.Alert) for incident detections.

category is always "traffic". subCategory comes from the model's list: the occupancy tests
(California #7/#8, SND) infer a blockage between two stations, an obstruction whose cause
they cannot see, so "hazardOnRoad"; the speed-drop test sees a persistent queue ahead of a
bottleneck, so "trafficJam". severity follows the phase and confidence: a tentative detection
is "informational"; a confirmed one "high" from confidence 0.85, "medium" from 0.6, else
"low". validFrom is the onset, validTo the clearing (absent while open).
"""

from __future__ import annotations

from typing import Any

from roadwatch.traffic.detection.lifecycle import DetectionPhase
from roadwatch.traffic.detection.models import Detection
from roadwatch.traffic.ngsi import Entity, iso, urn

# the Alert model's own terms (its context), beside the core context
ALERT_CONTEXT = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Alert/master/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
]

_SUB_CATEGORY = {"speed_drop": "trafficJam"}
_DEFAULT_SUB_CATEGORY = "hazardOnRoad"
_NAMES = {
    "california7": "California algorithm #7",
    "california8": "California algorithm #8",
    "snd": "Standard normal deviate",
    "speed_drop": "Speed drop",
}


def severity(detection: Detection) -> str:
    if detection.phase == DetectionPhase.TENTATIVE:
        return "informational"
    if detection.confidence >= 0.85:
        return "high"
    if detection.confidence >= 0.6:
        return "medium"
    return "low"


def alert_entity(detection: Detection) -> Entity:
    location = (
        {"type": "Point", "coordinates": [detection.lon, detection.lat]}
        if detection.lon is not None and detection.lat is not None
        else None
    )
    name = _NAMES.get(detection.algorithm, detection.algorithm)
    return Entity(
        id=urn("Alert", detection.id),
        type="Alert",
        attributes={
            "category": "traffic",
            "subCategory": _SUB_CATEGORY.get(detection.algorithm, _DEFAULT_SUB_CATEGORY),
            "severity": severity(detection),
            "description": (
                f"{name}: {detection.phase} incident between detectors "
                f"{detection.upstream_device_id} and {detection.downstream_device_id} on "
                f"segment {detection.segment_id} (confidence {detection.confidence:.2f})"
            ),
            "location": location,
            "alertSource": urn("Device", detection.upstream_device_id),
            "dateIssued": iso(detection.confirmed_ts or detection.onset_ts),
            "validFrom": iso(detection.onset_ts),
            "validTo": iso(detection.cleared_ts) if detection.cleared_ts is not None else None,
            "data": _data(detection),
            "dateCreated": iso(detection.created_at),
            "dateModified": iso(detection.updated_at),
        },
    )


def _data(detection: Detection) -> dict[str, Any]:
    return {
        "algorithm": detection.algorithm,
        "phase": detection.phase,
        "confidence": detection.confidence,
        "refRoadSegment": urn("RoadSegment", detection.segment_id),
        "pairId": detection.pair_id,
        "evidence": detection.evidence,
    }


def render_alert(entity: Entity, key_values: bool) -> dict[str, Any]:
    body = entity.render(key_values)
    body["@context"] = ALERT_CONTEXT
    return body
