"""Who is calling and what they may do: token verification, principals, route permissions."""

from roadwatch.platform.auth.dependencies import (
    Authorize,
    CurrentPrincipal,
    OptionalPrincipal,
    Public,
    authenticated,
    authorize,
    public,
)
from roadwatch.platform.auth.ownership import may_act_on, owner_scope, owns, require_owner_or
from roadwatch.platform.auth.principal import Principal
from roadwatch.platform.auth.roles import PERMISSIONS, ROLE_PERMISSIONS, Role
from roadwatch.platform.auth.tokens import TokenCodec

__all__ = [
    "PERMISSIONS",
    "ROLE_PERMISSIONS",
    "Authorize",
    "CurrentPrincipal",
    "OptionalPrincipal",
    "Principal",
    "Public",
    "Role",
    "TokenCodec",
    "authenticated",
    "authorize",
    "may_act_on",
    "owner_scope",
    "owns",
    "public",
    "require_owner_or",
]
