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
        "users:read",
        "users:write",
        "devices:read",
        "devices:write",
        "platform:admin",
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMINISTRATOR: PERMISSIONS,
    Role.DISPATCHER: frozenset({"devices:read"}),
    Role.PATROL_OFFICER: frozenset({"devices:read"}),
    Role.ANALYST: frozenset({"devices:read"}),
    Role.EDITOR: frozenset(),
    Role.AUDITOR: frozenset({"users:read", "devices:read"}),
    Role.CITIZEN: frozenset(),
}
