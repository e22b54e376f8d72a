"""Events the traffic service publishes: its asynchronous public contract.

Network and patrol events carry the entity's full state after the change (`state`), so the
audit service can rebuild it from its events alone. The state and aid parts of the service
add their event names below.
"""

from __future__ import annotations

from typing import Any

from roadwatch.platform.events import Event, new_event

ROAD_CREATED = "traffic.road.created"
ROAD_UPDATED = "traffic.road.updated"
ROAD_DELETED = "traffic.road.deleted"

SEGMENT_CREATED = "traffic.segment.created"
SEGMENT_UPDATED = "traffic.segment.updated"
SEGMENT_DELETED = "traffic.segment.deleted"
# one per import, naming what it created and updated (each segment also has its own event)
NETWORK_IMPORTED = "traffic.network.imported"

DETECTOR_PLACED = "traffic.detector.placed"
DETECTOR_REMOVED = "traffic.detector.removed"
CAMERA_PLACED = "traffic.camera.placed"
CAMERA_REMOVED = "traffic.camera.removed"

PATROL_CREATED = "traffic.patrol.created"
PATROL_UPDATED = "traffic.patrol.updated"
PATROL_DELETED = "traffic.patrol.deleted"
PATROL_STATUS_CHANGED = "traffic.patrol.status_changed"

# incident detection (traffic.detection): a detection confirmed / cleared is what the
# incidents service consumes (payload in docs/traffic.md); the others complete its history
INCIDENT_DETECTED = "traffic.incident.detected"
INCIDENT_CLEARED = "traffic.incident.cleared"
DETECTION_OPENED = "traffic.detection.opened"
DETECTION_DROPPED = "traffic.detection.dropped"
DETECTION_DISMISSED = "traffic.detection.dismissed"


def entity_event(
    type: str, entity_type: str, entity_id: str, state: dict[str, Any], actor: str, **extra: Any
) -> Event:
    return new_event(type, entity_type, entity_id, {"state": state, **extra}, actor=actor)


# the state part: one per computed interval, again (same entity id) when late data changes it
STATE_COMPUTED = "traffic.state.computed"


def state_computed(
    interval_s: int, start_ts: int, end_ts: int, segments: list[dict[str, Any]]
) -> Event:
    return new_event(
        STATE_COMPUTED,
        "traffic_interval",
        f"{interval_s}:{end_ts}",
        {"interval_s": interval_s, "start_ts": start_ts, "end_ts": end_ts, "segments": segments},
    )
