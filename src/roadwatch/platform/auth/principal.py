"""The authenticated caller, whatever kind it is."""

from __future__ import annotations

from dataclasses import dataclass, field

from roadwatch.platform.auth.roles import ROLE_PERMISSIONS, Role


@dataclass(frozen=True)
class Principal:
    # "user", "apikey" or "device"
    kind: str
    id: str
    role: Role | None = None
    # an API key's scopes; a user's come from the role
    scopes: frozenset[str] = field(default_factory=frozenset)
    # the login session (refresh-token family) a user token belongs to
    session_id: str | None = None
    unit: str | None = None

    @property
    def permissions(self) -> frozenset[str]:
        if self.kind == "user" and self.role is not None:
            return ROLE_PERMISSIONS[self.role]
        return self.scopes

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def actor(self) -> str:
        """How events name this principal as their actor."""
        return f"{self.kind}:{self.id}"
