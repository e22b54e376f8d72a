"""Signing and verifying access tokens (JWT, HS256, key id for rotation)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

ALGORITHM = "HS256"
ISSUER = "roadwatch"


class InvalidToken(Exception):
    pass


class TokenCodec:
    def __init__(
        self, key_id: str, secret: str, previous_keys: dict[str, str] | None = None
    ) -> None:
        if len(secret) < 32:
            raise ValueError("JWT secret must be at least 32 characters")
        self.key_id = key_id
        self._keys = {**(previous_keys or {}), key_id: secret}

    def issue(self, subject: str, ttl: timedelta, **claims: Any) -> str:
        now = datetime.now(UTC)
        payload = {
            "sub": subject,
            "iss": ISSUER,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(
            payload, self._keys[self.key_id], algorithm=ALGORITHM, headers={"kid": self.key_id}
        )

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        secret = self._keys.get(str(header.get("kid", "")))
        if secret is None:
            raise InvalidToken("unknown signing key")
        try:
            # the algorithm list is fixed: a token cannot pick "none" or another algorithm
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("invalid token") from exc
        return claims
