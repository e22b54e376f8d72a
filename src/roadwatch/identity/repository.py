"""Every query of the identity service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.identity.models import ApiKey, LoginSession, RefreshToken, User


class UserRepository:
    sortable = {
        "email": User.email,
        "full_name": User.full_name,
        "role": User.role,
        "created_at": User.created_at,
        "updated_at": User.updated_at,
    }

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: str) -> User | None:
        return await self.session.get(User, user_id)

    async def by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.lower()))

    async def any_with_role(self, role: str) -> bool:
        found = await self.session.scalar(
            select(User.id).where(User.role == role, User.active.is_(True)).limit(1)
        )
        return found is not None

    def query(
        self,
        role: str | None = None,
        active: bool | None = True,
        unit: str | None = None,
        search: str | None = None,
    ) -> Select[Any]:
        statement = select(User)
        if active is not None:
            statement = statement.where(User.active.is_(active))
        if role:
            statement = statement.where(User.role == role)
        if unit:
            statement = statement.where(User.unit == unit)
        if search:
            pattern = f"%{search.lower()}%"
            statement = statement.where(
                or_(User.email.ilike(pattern), User.full_name.ilike(pattern))
            )
        return statement

    def add(self, user: User) -> None:
        self.session.add(user)


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, session_id: str) -> LoginSession | None:
        return await self.session.get(LoginSession, session_id)

    async def live_for_user(self, user_id: str) -> list[LoginSession]:
        rows = await self.session.scalars(
            select(LoginSession).where(
                LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None)
            )
        )
        return list(rows.all())

    async def for_user(self, user_id: str) -> list[LoginSession]:
        rows = await self.session.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user_id)
            .order_by(LoginSession.created_at.desc(), LoginSession.id)
        )
        return list(rows.all())

    async def refresh_token(self, token_hash: str) -> RefreshToken | None:
        return await self.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        )

    async def mark_used(self, token_id: str, now: datetime) -> bool:
        """Claim a refresh token for rotation; False when another request already did.

        A conditional UPDATE, so two concurrent refreshes cannot both succeed on any database.
        """
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def add(self, row: LoginSession | RefreshToken) -> None:
        self.session.add(row)


class ApiKeyRepository:
    sortable = {"name": ApiKey.name, "created_at": ApiKey.created_at}

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key_id: str) -> ApiKey | None:
        return await self.session.get(ApiKey, key_id)

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        return await self.session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))

    def query(self, include_revoked: bool = False) -> Select[Any]:
        statement = select(ApiKey)
        if not include_revoked:
            statement = statement.where(ApiKey.revoked_at.is_(None))
        return statement

    def add(self, key: ApiKey) -> None:
        self.session.add(key)
