"""Reducers: for each entity type whose service declares complete events, how the entity's
events fold into its state. The contract they rely on is docs/events.md.

A reducer names the event types it folds, how to find the entity an event is about (usually
the event's own entity), and a pure function (state before, event) -> state after.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from roadwatch.analytics import events as analytics
from roadwatch.devices import events as devices
from roadwatch.identity import events as identity
from roadwatch.telemetry import events as telemetry

State = dict[str, Any] | None

# names of telemetry events defined beside their code rather than in telemetry/events.py
ATTRIBUTES_UPDATED = "telemetry.attributes.updated"
ATTRIBUTES_DELETED = "telemetry.attributes.deleted"
STATUS_CHANGED = "telemetry.device.status_changed"


@dataclass(frozen=True)
class Fact:
    """What a reducer sees of a stored event."""

    type: str
    entity_type: str
    entity_id: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Reducer:
    entity_type: str
    owner: str
    event_types: frozenset[str]
    apply: Callable[[State, Fact], State]
    # the id of the entity of this type the event is about; None: none of ours
    subject: Callable[[Fact], str | None]
    description: str = ""

    def fold(self, facts: list[Fact]) -> State:
        state: State = None
        for fact in facts:
            state = self.apply(state, fact)
        return state


def _own_entity(entity_type: str) -> Callable[[Fact], str | None]:
    def subject(fact: Fact) -> str | None:
        return fact.entity_id if fact.entity_type == entity_type else None

    return subject


def _full_state(state: State, fact: Fact) -> State:
    # the event carries the whole state after the change
    new = fact.payload.get("state")
    return copy.deepcopy(dict(new)) if isinstance(new, Mapping) else state


# -- users --------------------------------------------------------------------------------------

USER_EVENTS = frozenset(
    {
        identity.USER_CREATED,
        identity.USER_UPDATED,
        identity.USER_ROLE_CHANGED,
        identity.USER_PASSWORD_CHANGED,
        identity.USER_DEACTIVATED,
        identity.USER_LOCKED_OUT,
        identity.LOGIN_SUCCEEDED,
        identity.LOGIN_FAILED,
    }
)


def _user_subject(fact: Fact) -> str | None:
    if fact.entity_type == identity.USER:
        return fact.entity_id
    # logins are keyed by the address typed; they name the account they concern
    user_id = fact.payload.get("user_id")
    return user_id if isinstance(user_id, str) else None


# -- devices ------------------------------------------------------------------------------------


def _device(state: State, fact: Fact) -> State:
    if fact.type == devices.CREDENTIALS_CHANGED and "state" not in fact.payload:
        # events from before credentials events carried the state: only the flag changes
        if state is None:
            return None
        return {**state, "has_credentials": fact.payload.get("token_hash") is not None}
    return _full_state(state, fact)


# -- device attributes --------------------------------------------------------------------------

SCOPES = ("client", "shared", "server")


def _attributes(state: State, fact: Fact) -> State:
    new: dict[str, Any] = copy.deepcopy(state) if state else {s: {} for s in SCOPES}
    scope = str(fact.payload.get("scope"))
    values = new.setdefault(scope, {})
    if fact.type == ATTRIBUTES_UPDATED:
        values.update(copy.deepcopy(dict(fact.payload.get("values") or {})))
    elif fact.type == ATTRIBUTES_DELETED:
        for key in fact.payload.get("keys") or ():
            values.pop(key, None)
    return new


def _status(state: State, fact: Fact) -> State:
    return {
        "online": bool(fact.payload.get("online")),
        "last_activity_ts": fact.payload.get("last_activity_ts"),
    }


REDUCERS: dict[str, Reducer] = {
    r.entity_type: r
    for r in (
        Reducer(
            "user",
            "identity",
            USER_EVENTS,
            _full_state,
            _user_subject,
            "an account as GET /api/v1/users/{id} shows it",
        ),
        Reducer(
            "api_key",
            "identity",
            frozenset({identity.API_KEY_CREATED, identity.API_KEY_REVOKED}),
            _full_state,
            _own_entity(identity.API_KEY),
            "an integration API key as GET /api/v1/api-keys/{id} shows it",
        ),
        Reducer(
            "device",
            "devices",
            frozenset(
                {
                    devices.DEVICE_CREATED,
                    devices.DEVICE_UPDATED,
                    devices.DEVICE_DELETED,
                    devices.CREDENTIALS_CHANGED,
                }
            ),
            _device,
            _own_entity(devices.ENTITY),
            "a device as GET /api/v1/devices/{id} shows it (`active: false` once deleted)",
        ),
        Reducer(
            "device_profile",
            "devices",
            frozenset({devices.PROFILE_CREATED, devices.PROFILE_UPDATED, devices.PROFILE_DELETED}),
            _full_state,
            _own_entity(devices.PROFILE_ENTITY),
            "a device profile as GET /api/v1/device-profiles/{id} shows it, with `active`",
        ),
        Reducer(
            "alarm",
            "analytics",
            frozenset(
                {
                    analytics.ALARM_CREATED,
                    analytics.ALARM_UPDATED,
                    analytics.ALARM_ACKNOWLEDGED,
                    analytics.ALARM_CLEARED,
                    analytics.ALARM_ASSIGNED,
                    analytics.ALARM_UNASSIGNED,
                    analytics.ALARM_COMMENTED,
                }
            ),
            _full_state,
            _own_entity("alarm"),
            "an alarm as GET /api/v1/analytics/alarms/{id} shows it",
        ),
        Reducer(
            "alarm_rule",
            "analytics",
            frozenset({analytics.RULE_CREATED, analytics.RULE_UPDATED, analytics.RULE_DELETED}),
            _full_state,
            _own_entity("rule"),
            "an anomaly rule as GET /api/v1/analytics/rules/{id} shows it",
        ),
        Reducer(
            "device_attributes",
            "telemetry",
            frozenset({ATTRIBUTES_UPDATED, ATTRIBUTES_DELETED}),
            _attributes,
            _own_entity("device"),
            "a device's attribute values by scope: {client: {...}, shared: {...}, server: {...}}",
        ),
        Reducer(
            "device_status",
            "telemetry",
            frozenset({STATUS_CHANGED}),
            _status,
            _own_entity("device"),
            "whether a device is online, and when it was last heard from (ms)",
        ),
    )
}

# telemetry's batch event is the one not kept whole (docs/events.md says why)
BATCH_INGESTED = telemetry.BATCH_INGESTED


def subjects(fact: Fact) -> list[tuple[str, str]]:
    """Every (entity type, id) with a reducer that this event changes or concerns."""
    found = []
    for reducer in REDUCERS.values():
        if fact.type in reducer.event_types:
            subject = reducer.subject(fact)
            if subject is not None:
                found.append((reducer.entity_type, subject))
    return found


def diff(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """The changes from one state to the next: one entry per leaf that differs (a key that
    appears or goes counts as None on the other side; objects are compared key by key)."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[dict[str, Any]] = []
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}" if path else str(key)
            old, new = before.get(key), after.get(key)
            if key not in before and isinstance(new, dict):
                old = {}
            elif key not in after and isinstance(old, dict):
                new = {}
            changes.extend(diff(old, new, where))
        return changes
    if before == after and type(before) is type(after):
        return []
    return [{"path": path or "$", "before": before, "after": after}]
