"""Route dependencies that authenticate the caller and check one named permission.

Every route declares either `authorize(permission)`, `authenticated()` or `public()`;
tests/identity walk the routes and fail on one that declares none.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from roadwatch.platform.auth.principal import Principal
from roadwatch.platform.auth.roles import PERMISSIONS

# the revocation keys stay importable from here, where identity has always found them
from roadwatch.platform.auth.verification import REVOKED_SESSION_KEY as REVOKED_SESSION_KEY
from roadwatch.platform.auth.verification import USER_VALID_AFTER_KEY as USER_VALID_AFTER_KEY
from roadwatch.platform.auth.verification import principal_from_access_token
from roadwatch.platform.errors import Forbidden, Unauthenticated
from roadwatch.platform.runtime import Platform, get_platform

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


async def _resolve(
    request: Request,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal | None:
    return await resolve_credentials(get_platform(request), token, api_key)


async def resolve_credentials(
    platform: Platform, token: str | None, api_key: str | None
) -> Principal | None:
    """The caller a bearer access token or an API key stands for (None when neither came)."""
    if token:
        return await principal_from_access_token(platform.tokens, platform.cache, token)
    if api_key:
        principal = None
        if platform.api_key_resolver is not None:
            principal = await platform.api_key_resolver(platform, api_key)
        if principal is None:
            raise Unauthenticated("invalid API key")
        return principal
    return None


class Authorize:
    """Require an authenticated caller holding `permission` (or any caller if None)."""

    def __init__(self, permission: str | None) -> None:
        if permission is not None and permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}; add it to auth/roles.py")
        self.permission = permission

    async def __call__(
        self, principal: Annotated[Principal | None, Depends(_resolve)]
    ) -> Principal:
        if principal is None:
            raise Unauthenticated("authentication required")
        if self.permission is not None and not principal.can(self.permission):
            raise Forbidden(f"missing permission {self.permission}")
        return principal


class Public:
    """Marks a route open to anyone; the caller is still identified when credentials come."""

    async def __call__(
        self, principal: Annotated[Principal | None, Depends(_resolve)]
    ) -> Principal | None:
        return principal


def authorize(permission: str) -> Any:
    return Depends(Authorize(permission))


def authenticated() -> Any:
    return Depends(Authorize(None))


def public() -> Any:
    return Depends(Public())


CurrentPrincipal = Annotated[Principal, Depends(Authorize(None))]
OptionalPrincipal = Annotated[Principal | None, Depends(Public())]
