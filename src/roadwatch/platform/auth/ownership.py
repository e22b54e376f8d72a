"""Ownership: the one rule "you may act on what is yours, or on anything with a permission".

Services use it for a user's own profile, a citizen's own appeals, an officer's own shifts:
`require_owner_or(principal, appeal.author_id, "appeals:read")` for one item, and
`owner_scope(principal, "appeals:read")` to narrow a list query to the caller's own items.
"""

from __future__ import annotations

from roadwatch.platform.auth.principal import Principal
from roadwatch.platform.errors import Forbidden


def owns(principal: Principal, owner_id: str | None) -> bool:
    # only people own things; an API key or a device never "is" a user
    return principal.kind == "user" and owner_id is not None and principal.id == owner_id


def may_act_on(principal: Principal, owner_id: str | None, permission: str) -> bool:
    return principal.can(permission) or owns(principal, owner_id)


def require_owner_or(principal: Principal, owner_id: str | None, permission: str) -> None:
    """Raise Forbidden unless the caller owns the item or holds `permission` for anyone's."""
    if not may_act_on(principal, owner_id, permission):
        raise Forbidden(f"only the owner or a holder of {permission} may do this")


def owner_scope(principal: Principal, permission: str) -> str | None:
    """None when the caller may see everyone's items; else the owner id to filter by."""
    return None if principal.can(permission) else principal.id
