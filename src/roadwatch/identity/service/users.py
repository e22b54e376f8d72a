"""Accounts: sign-up, staff accounts, profiles, roles, passwords, deactivation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.identity import events
from roadwatch.identity.models import User
from roadwatch.identity.passwords import check_policy, hash_password, verify_password
from roadwatch.identity.repository import UserRepository
from roadwatch.identity.schemas import Profile, UserCreate, UserRead, UserRegister, UserUpdate
from roadwatch.identity.service.revocation import Revoker
from roadwatch.platform.auth import Principal, Role
from roadwatch.platform.db import utcnow
from roadwatch.platform.errors import Conflict, Forbidden, InvalidInput, NotFound
from roadwatch.platform.events import publish
from roadwatch.platform.pagination import PageParams, paginate
from roadwatch.platform.runtime import Platform

# profile fields only staff managers may set: they place an officer in the force
MANAGED_FIELDS = ("unit", "badge")


def to_read(user: User) -> UserRead:
    return UserRead.model_validate(user)


def user_state(user: User) -> dict[str, Any]:
    # the read model is the full state an audit needs; it never holds the password hash
    return to_read(user).model_dump(mode="json")


class UserService:
    def __init__(self, platform: Platform, session: AsyncSession, actor: str) -> None:
        self.platform = platform
        self.session = session
        self.actor = actor
        self.repo = UserRepository(session)

    def _publish(self, type: str, user: User, **extra: Any) -> None:
        publish(
            self.session, events.user_event(type, user.id, user_state(user), self.actor, **extra)
        )

    async def get(self, user_id: str) -> User:
        user = await self.repo.get(user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        return user

    async def list(
        self,
        params: PageParams,
        role: str | None,
        active: bool | None,
        unit: str | None,
        search: str | None,
    ) -> tuple[list[User], int]:
        return await paginate(
            self.session,
            self.repo.query(role=role, active=active, unit=unit, search=search),
            params,
            self.repo.sortable,
            tiebreak=User.id,
            default_sort="email",
        )

    async def _ensure_email_free(self, email: str, own_id: str | None = None) -> None:
        existing = await self.repo.by_email(email)
        if existing is not None and existing.id != own_id:
            # deactivated accounts keep their address: their history stays attributable
            raise Conflict(f"email: an account with {email!r} already exists", field="email")

    async def _new(self, email: str, password: str, role: Role, profile: Profile) -> User:
        check_policy(password, "password", email)
        await self._ensure_email_free(email)
        user = User(
            email=email,
            password_hash=await hash_password(password),
            role=role.value,
            full_name=profile.full_name,
            phone=profile.phone,
            language=profile.language,
            unit=profile.unit,
            badge=profile.badge,
        )
        self.repo.add(user)
        await self.session.flush()
        await self.session.refresh(user)
        return user

    async def register(self, data: UserRegister) -> User:
        """A citizen signs up; unit and badge are for staff and are not taken from strangers."""
        if data.unit is not None or data.badge is not None:
            field = "unit" if data.unit is not None else "badge"
            raise InvalidInput(f"{field}: only staff accounts have one", field=field)
        user = await self._new(data.email, data.password, Role.CITIZEN, data)
        self.actor = f"user:{user.id}"
        self._publish(events.USER_CREATED, user)
        return user

    async def create(self, data: UserCreate) -> User:
        user = await self._new(data.email, data.password, data.role, data)
        self._publish(events.USER_CREATED, user)
        return user

    async def update(self, user_id: str, data: UserUpdate, principal: Principal) -> User:
        user = await self.get(user_id)
        changes = data.model_dump(exclude_unset=True)
        for field in MANAGED_FIELDS:
            if field in changes and not principal.can("users:write"):
                raise Forbidden(f"{field}: only a holder of users:write may change it", field=field)
        if changes.get("email") is not None:
            await self._ensure_email_free(changes["email"], own_id=user.id)
        for field, value in changes.items():
            if value is None and field not in MANAGED_FIELDS:
                continue  # null clears only the optional fields; the others keep their value
            setattr(user, field, value)
        await self.session.flush()
        await self.session.refresh(user)
        self._publish(events.USER_UPDATED, user)
        return user

    async def _ensure_not_last_admin(self, user: User) -> None:
        if user.role != Role.ADMINISTRATOR or not user.active:
            return
        others = self.repo.query(role=Role.ADMINISTRATOR.value).where(User.id != user.id)
        if (await self.session.scalars(others.limit(1))).first() is None:
            raise Conflict("the last active administrator cannot be removed", field="role")

    async def change_role(self, user_id: str, role: Role) -> User:
        user = await self.get(user_id)
        if user.role == role.value:
            return user
        if role != Role.ADMINISTRATOR:
            await self._ensure_not_last_admin(user)
        previous = user.role
        user.role = role.value
        await self.session.flush()
        await self.session.refresh(user)
        # tokens carry the role: end the sessions so the new role applies at once
        await Revoker(self.platform, self.session, self.actor).revoke_all(user.id, "role_changed")
        self._publish(events.USER_ROLE_CHANGED, user, previous_role=previous)
        return user

    async def change_password(self, user_id: str, current: str, new: str) -> None:
        user = await self.get(user_id)
        if not await verify_password(user.password_hash, current):
            raise InvalidInput(
                "current_password: does not match the account's password",
                field="current_password",
            )
        await self.set_password(user, new)

    async def set_password(self, user: User, new: str) -> None:
        check_policy(new, "new_password", user.email)
        user.password_hash = await hash_password(new)
        user.password_changed_at = utcnow()
        await self.session.flush()
        await self.session.refresh(user)
        # whoever held the old password may hold a session too: end them all
        await Revoker(self.platform, self.session, self.actor).revoke_all(
            user.id, "password_changed"
        )
        self._publish(events.USER_PASSWORD_CHANGED, user)

    async def deactivate(self, user_id: str) -> None:
        user = await self.get(user_id)
        if not user.active:
            return
        await self._ensure_not_last_admin(user)
        user.active = False
        user.deactivated_at = utcnow()
        await self.session.flush()
        await self.session.refresh(user)
        await Revoker(self.platform, self.session, self.actor).revoke_all(user.id, "deactivated")
        self._publish(events.USER_DEACTIVATED, user)
