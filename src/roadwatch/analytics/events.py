"""Events the analytics service publishes: its asynchronous public contract.

Every alarm event carries the alarm's full state after the change (`state`), so the audit
service can rebuild any alarm at any time from its events alone, and notifications need no
call back. Rule events carry the rule's state likewise.
"""

from __future__ import annotations

from typing import Any

from roadwatch.platform.events import Event, new_event

ALARM_CREATED = "analytics.alarm.created"
# still active and its condition still holds: end_ts moved, or severity or details changed
ALARM_UPDATED = "analytics.alarm.updated"
ALARM_ACKNOWLEDGED = "analytics.alarm.acknowledged"
ALARM_CLEARED = "analytics.alarm.cleared"
ALARM_ASSIGNED = "analytics.alarm.assigned"
ALARM_UNASSIGNED = "analytics.alarm.unassigned"
ALARM_COMMENTED = "analytics.alarm.commented"

RULE_CREATED = "analytics.rule.created"
RULE_UPDATED = "analytics.rule.updated"
RULE_DELETED = "analytics.rule.deleted"


def alarm_event(type: str, alarm_id: str, state: dict[str, Any], actor: str, **extra: Any) -> Event:
    return new_event(type, "alarm", alarm_id, {"state": state, **extra}, actor=actor)


def rule_event(type: str, rule_id: str, state: dict[str, Any], actor: str) -> Event:
    return new_event(type, "rule", rule_id, {"state": state}, actor=actor)
