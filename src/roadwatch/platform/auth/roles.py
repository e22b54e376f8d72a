"""The role → permission matrix: the single source every route checks (docs/security.md)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    DISPATCHER = "dispatcher"
    PATROL_OFFICER = "patrol_officer"
    ANALYST = "analyst"
    EDITOR = "editor"
    AUDITOR = "auditor"
    CITIZEN = "citizen"


# Every permission a route may require. Adding a route with a permission not listed here
# fails at start-up, so the matrix and the routes cannot drift apart.
PERMISSIONS: frozenset[str] = frozenset(
    {
        # every user's profile, sessions and role (one's own needs no permission: ownership)
        "users:read",
        "users:write",
        # integration API keys
        "api_keys:read",
        "api_keys:write",
        "devices:read",
        "devices:write",
        # time-series reads; writing is for integrations back-filling data in bulk
        "telemetry:read",
        "telemetry:write",
        # rollups and historical analytics; writing is configuring anomaly rules
        "analytics:read",
        "analytics:write",
        # alarms: reading them; acknowledging, clearing, assigning and commenting
        "alarms:read",
        "alarms:write",
        # the audit trail: every recorded event, entity state and history, the device board
        "audit:read",
        # the road network, detectors and traffic state; writing is editing the network and
        # placing detectors and cameras
        "traffic:read",
        "traffic:write",
        # patrol units and their positions; writing is managing units and their status
        "patrols:read",
        "patrols:write",
        "platform:admin",
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMINISTRATOR: PERMISSIONS,
    # dispatchers assign patrol officers, so they look people up (name, unit, badge)
    # dispatchers handle alarms (acknowledge, clear, assign to an officer)
    Role.DISPATCHER: frozenset(
        {
            "users:read",
            "devices:read",
            "telemetry:read",
            "analytics:read",
            "alarms:read",
            "alarms:write",
            "traffic:read",
            "patrols:read",
            "patrols:write",
        }
    ),
    Role.PATROL_OFFICER: frozenset(
        {"devices:read", "telemetry:read", "alarms:read", "traffic:read", "patrols:read"}
    ),
    Role.ANALYST: frozenset(
        {
            "devices:read",
            "telemetry:read",
            "analytics:read",
            "alarms:read",
            "traffic:read",
            "patrols:read",
        }
    ),
    Role.EDITOR: frozenset(),
    Role.AUDITOR: frozenset(
        {
            "users:read",
            "api_keys:read",
            "devices:read",
            "telemetry:read",
            "analytics:read",
            "alarms:read",
            "audit:read",
            "traffic:read",
            "patrols:read",
        }
    ),
    Role.CITIZEN: frozenset(),
}
