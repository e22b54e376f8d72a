"""Ending login sessions, in the database and for the access tokens already handed out.

Access tokens are checked without a database read, so revocation also writes the cache keys
the platform's verifier reads (platform/auth/dependencies.py). They live as long as an access
token can, after which the token would be refused as expired anyway.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.identity import events
from roadwatch.identity.models import LoginSession
from roadwatch.identity.repository import SessionRepository
from roadwatch.platform.auth.dependencies import REVOKED_SESSION_KEY, USER_VALID_AFTER_KEY
from roadwatch.platform.db import utcnow
from roadwatch.platform.events import publish
from roadwatch.platform.runtime import Platform


def session_state(row: LoginSession) -> dict[str, object]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": row.id,
        "user_id": row.user_id,
        "client": row.client,
        "created_at": iso(row.created_at),
        "expires_at": iso(row.expires_at),
        "revoked_at": iso(row.revoked_at),
        "revoked_reason": row.revoked_reason,
    }


class Revoker:
    def __init__(self, platform: Platform, session: AsyncSession, actor: str) -> None:
        self.platform = platform
        self.session = session
        self.actor = actor
        self.repo = SessionRepository(session)

    @property
    def _token_ttl_s(self) -> int:
        # a few seconds more than a token lives, for clocks that disagree slightly
        return self.platform.settings.auth.access_token_ttl_s + 30

    async def revoke(self, row: LoginSession, reason: str) -> None:
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            row.revoked_reason = reason
            await self.session.flush()
            publish(
                self.session,
                events.session_event(
                    events.SESSION_REVOKED, row.id, {"state": session_state(row)}, self.actor
                ),
            )
        await self.platform.cache.set(
            REVOKED_SESSION_KEY.format(row.id), b"1", ttl_s=self._token_ttl_s
        )

    async def revoke_all(self, user_id: str, reason: str) -> None:
        """End every session of a user, and every access token issued to them until now."""
        for row in await self.repo.live_for_user(user_id):
            await self.revoke(row, reason)
        await self.platform.cache.set(
            USER_VALID_AFTER_KEY.format(user_id),
            str(int(time.time())).encode(),
            ttl_s=self._token_ttl_s,
        )
