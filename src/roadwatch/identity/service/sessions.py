"""Logging in, rotating refresh tokens, logging out, and the lock-out after failed logins.

Failures are outcomes, not exceptions: a failed login or a re-used refresh token must still
commit its event (and a revoked family), which an exception would roll back. The route
commits, then turns the failure into a response.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.identity import events
from roadwatch.identity.models import LoginSession, RefreshToken, User
from roadwatch.identity.passwords import hash_password, needs_rehash, verify_password
from roadwatch.identity.repository import SessionRepository, UserRepository
from roadwatch.identity.schemas import TokenPair
from roadwatch.identity.service.revocation import Revoker, session_state
from roadwatch.identity.service.users import user_state
from roadwatch.platform.auth.digests import secret_digest
from roadwatch.platform.db import utcnow
from roadwatch.platform.errors import NotFound
from roadwatch.platform.events import publish
from roadwatch.platform.runtime import Platform

FAILURES_KEY = "identity:login-failures:{}"
LOCKED_KEY = "identity:locked:{}"
# one message for every refused login, whatever the reason, so none can be told apart
BAD_CREDENTIALS = "incorrect email or password"


def _account_key(email: str) -> str:
    # counters are kept per address typed, whether or not an account has it, so a lock-out
    # reveals nothing about which addresses exist
    return secret_digest(email.strip().lower())[:32]


@dataclass(frozen=True)
class Refused:
    reason: str
    detail: str
    # set when the refusal is a lock-out or throttle: seconds until a retry may succeed
    retry_after_s: int | None = None


@dataclass(frozen=True)
class Client:
    address: str
    user_agent: str


class AuthService:
    def __init__(self, platform: Platform, session: AsyncSession) -> None:
        self.platform = platform
        self.session = session
        self.users = UserRepository(session)
        self.sessions = SessionRepository(session)
        self.settings = platform.settings.auth

    async def _locked_for(self, account: str) -> int | None:
        until = await self.platform.cache.get(LOCKED_KEY.format(account))
        if until is None:
            return None
        return max(1, int(float(until) - time.time()) + 1)

    async def _count_failure(self, account: str, user: User | None) -> int | None:
        """Record a failed attempt; lock the address out (returning for how long) at the limit."""
        s = self.settings
        failures = await self.platform.cache.incr(FAILURES_KEY.format(account), s.lockout_window_s)
        if failures < s.lockout_threshold:
            return None
        until = time.time() + s.lockout_s
        await self.platform.cache.set(LOCKED_KEY.format(account), str(until).encode(), s.lockout_s)
        if user is not None:
            publish(
                self.session,
                events.user_event(
                    events.USER_LOCKED_OUT,
                    user.id,
                    user_state(user),
                    "system",
                    failures=failures,
                    locked_for_s=s.lockout_s,
                ),
            )
        return s.lockout_s

    def _failed(self, email: str, user: User | None, reason: str, client: Client) -> None:
        payload = {"user_id": user.id if user else None, "reason": reason, "client": client.address}
        publish(self.session, events.login_event(events.LOGIN_FAILED, email, payload, "system"))

    async def login(self, email: str, password: str, client: Client) -> TokenPair | Refused:
        email = email.strip().lower()
        account = _account_key(email)
        locked = await self._locked_for(account)
        if locked is not None:
            self._failed(email, None, "locked_out", client)
            return Refused("locked_out", "too many failed logins; try again later", locked)
        user = await self.users.by_email(email)
        # the hash is checked even for unknown or inactive accounts, so every refusal costs
        # the same time as a wrong password
        matches = await verify_password(user.password_hash if user else None, password)
        if not matches or user is None or not user.active:
            reason = (
                "unknown_email" if user is None else ("inactive" if matches else "bad_password")
            )
            self._failed(email, user, reason, client)
            lock = await self._count_failure(account, user)
            if lock is not None:
                return Refused("locked_out", "too many failed logins; try again later", lock)
            return Refused(reason, BAD_CREDENTIALS)
        await self.platform.cache.delete(FAILURES_KEY.format(account))
        if needs_rehash(user.password_hash):
            user.password_hash = await hash_password(password)
        user.last_login_at = utcnow()
        row = LoginSession(
            user_id=user.id,
            client=client.address[:100],
            user_agent=client.user_agent[:300],
            expires_at=utcnow() + timedelta(seconds=self.settings.refresh_token_ttl_s),
        )
        self.sessions.add(row)
        await self.session.flush()
        pair = await self._issue(user, row)
        publish(
            self.session,
            events.login_event(
                events.LOGIN_SUCCEEDED,
                email,
                {
                    "user_id": user.id,
                    "session_id": row.id,
                    "client": client.address,
                    "state": user_state(user),
                },
                f"user:{user.id}",
            ),
        )
        return pair

    async def _issue(self, user: User, row: LoginSession) -> TokenPair:
        s = self.settings
        refresh = "rwr_" + secrets.token_urlsafe(32)
        expires_at = utcnow() + timedelta(seconds=s.refresh_token_ttl_s)
        row.expires_at = expires_at
        self.sessions.add(
            RefreshToken(
                session_id=row.id, token_hash=secret_digest(refresh), expires_at=expires_at
            )
        )
        await self.session.flush()
        access = self.platform.tokens.issue(
            user.id,
            timedelta(seconds=s.access_token_ttl_s),
            typ="access",
            role=user.role,
            sid=row.id,
            unit=user.unit,
        )
        return TokenPair(
            access_token=access,
            expires_in=s.access_token_ttl_s,
            refresh_token=refresh,
            refresh_expires_in=s.refresh_token_ttl_s,
        )

    async def refresh(self, token: str) -> TokenPair | Refused:
        invalid = Refused("invalid_refresh_token", "invalid or expired refresh token")
        stored = await self.sessions.refresh_token(secret_digest(token))
        if stored is None:
            return invalid
        row = await self.sessions.get(stored.session_id)
        now = utcnow()
        if row is None or row.revoked_at is not None:
            return invalid
        if not await self.sessions.mark_used(stored.id, now):
            # the token was already exchanged: two parties hold the family, one of them a
            # thief; end the whole session so neither can go on
            await Revoker(self.platform, self.session, "system").revoke(row, "refresh_token_reused")
            return Refused("refresh_token_reused", "refresh token already used; session ended")
        if _expired(stored.expires_at, now) or _expired(row.expires_at, now):
            return invalid
        user = await self.users.get(row.user_id)
        if user is None or not user.active:
            return invalid
        row.last_refreshed_at = now
        return await self._issue(user, row)

    async def logout(self, user_id: str, session_id: str | None) -> None:
        if session_id is None:
            return  # a token from outside a login session: nothing to end
        row = await self.sessions.get(session_id)
        if row is not None and row.user_id == user_id:
            await Revoker(self.platform, self.session, f"user:{user_id}").revoke(row, "logout")

    async def list_sessions(self, user_id: str) -> list[LoginSession]:
        return await self.sessions.for_user(user_id)

    async def revoke_session(self, user_id: str, session_id: str, actor: str) -> None:
        row = await self.sessions.get(session_id)
        if row is None or row.user_id != user_id:
            raise NotFound(f"session {session_id} not found")
        await Revoker(self.platform, self.session, actor).revoke(row, "revoked")


def _expired(at: datetime, now: datetime) -> bool:
    return at <= now


__all__ = ["BAD_CREDENTIALS", "AuthService", "Client", "Refused", "session_state"]
