"""The gateway's check of bearer access tokens, before a request goes to any service.

It verifies with the services' own function, against the same key and revocation list, so
it refuses exactly what they would. A request without a bearer token passes untouched: API
keys, device tokens and public routes are for the service to judge.
"""

from __future__ import annotations

from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import Request

from roadwatch.config import ConfigError, Settings
from roadwatch.platform.auth.tokens import TokenCodec
from roadwatch.platform.auth.verification import principal_from_access_token
from roadwatch.platform.bootstrap import _require
from roadwatch.platform.cache import Cache, create_cache


def token_codec(settings: Settings) -> TokenCodec:
    """Raises ConfigError when the shared JWT secret is missing or unusable."""
    auth = settings.auth
    if not auth.jwt_secret:
        raise ConfigError(
            "ROADWATCH_AUTH__JWT_SECRET: required by the gateway, which verifies access "
            "tokens with the same key as the services"
        )
    try:
        return TokenCodec(auth.jwt_key_id, auth.jwt_secret, auth.jwt_previous_keys)
    except ValueError as exc:
        raise ConfigError(f"ROADWATCH_AUTH__JWT_SECRET: {exc}") from None


def revocation_cache(settings: Settings) -> Cache:
    # the namespace bootstrap gives the services' cache, so the gateway reads the very keys
    # identity writes when it revokes a session
    return create_cache(settings.cache_url, namespace=f"{settings.bus_queue_prefix}:")


async def require_cache(settings: Settings) -> None:
    """Raises ConfigError naming ROADWATCH_CACHE_URL when the cache cannot be reached."""
    cache = revocation_cache(settings)
    try:
        await _require("ROADWATCH_CACHE_URL", settings.cache_url, cache.check)
    finally:
        await cache.close()


def bearer_token(request: Request) -> str | None:
    # read exactly as the services' OAuth2PasswordBearer reads it (the first Authorization
    # header, scheme in any case), or the two could judge different credentials
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() != "bearer" or not token:
        return None
    return token


async def check_bearer(request: Request, tokens: TokenCodec, cache: Cache) -> None:
    """Raise Unauthenticated (401) for a bad bearer token, Unavailable (503) when the
    revocation list cannot be read; pass a request that carries no bearer token."""
    token = bearer_token(request)
    if token is not None:
        await principal_from_access_token(tokens, cache, token)
