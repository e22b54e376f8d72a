"""Verifying a user's bearer access token: its signature and claims, then the revocation list.

The services' auth dependencies and the gateway both call this, so the gateway refuses
exactly the tokens a service would.
"""

from __future__ import annotations

import logging
from typing import Any

from roadwatch.platform.auth.principal import Principal
from roadwatch.platform.auth.roles import Role
from roadwatch.platform.auth.tokens import InvalidToken, TokenCodec
from roadwatch.platform.cache import Cache
from roadwatch.platform.errors import Unauthenticated, Unavailable

# Written by identity when it ends a session or all of a user's sessions; an access token
# is checked without a database read, so these cache keys are how revocation reaches it.
REVOKED_SESSION_KEY = "auth:revoked-session:{}"
USER_VALID_AFTER_KEY = "auth:user-valid-after:{}"

log = logging.getLogger(__name__)


async def _revoked(cache: Cache, claims: dict[str, Any]) -> bool:
    session_id = claims.get("sid")
    try:
        if session_id and await cache.get(REVOKED_SESSION_KEY.format(session_id)):
            return True
        valid_after = await cache.get(USER_VALID_AFTER_KEY.format(claims["sub"]))
    except Exception as exc:
        # Whatever the adapter raises, an unanswered revocation check must neither let the
        # token through nor look like a bug: the caller is told to retry (503).
        log.warning("revocation list unreachable: %s: %s", type(exc).__name__, exc)
        raise Unavailable("cannot check whether the access token was revoked; retry") from exc
    return valid_after is not None and int(claims["iat"]) < int(valid_after)


async def principal_from_access_token(tokens: TokenCodec, cache: Cache, token: str) -> Principal:
    """The user a bearer access token stands for.

    Raises Unauthenticated when the token is malformed, badly signed, expired, not an access
    token, of an unknown role or revoked; Unavailable when the revocation list cannot be read.
    """
    try:
        claims = tokens.verify(token)
    except InvalidToken as exc:
        raise Unauthenticated(f"invalid access token: {exc}") from None
    if claims.get("typ") != "access":
        raise Unauthenticated("invalid access token: not an access token")
    try:
        role = Role(claims.get("role", ""))
    except ValueError:
        raise Unauthenticated("invalid access token: unknown role") from None
    if await _revoked(cache, claims):
        raise Unauthenticated("invalid access token: session revoked")
    return Principal(
        kind="user",
        id=claims["sub"],
        role=role,
        session_id=claims.get("sid"),
        unit=claims.get("unit"),
    )
