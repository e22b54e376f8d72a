"""Accounts: sign-up, staff management, one's own profile, password and sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from roadwatch.identity.schemas import (
    PasswordChange,
    RoleChange,
    SessionRead,
    UserCreate,
    UserRead,
    UserRegister,
    UserUpdate,
)
from roadwatch.identity.service.sessions import AuthService
from roadwatch.identity.service.users import UserService, to_read
from roadwatch.platform.auth import (
    CurrentPrincipal,
    Principal,
    Role,
    authorize,
    public,
    require_owner_or,
)
from roadwatch.platform.errors import Forbidden
from roadwatch.platform.pagination import Page, PageParamsDep
from roadwatch.platform.ratelimit import RateLimit
from roadwatch.platform.runtime import PlatformDep, SessionDep

router = APIRouter(prefix="/api/v1/users", tags=["users"])

CanRead = Annotated[Principal, authorize("users:read")]
CanWrite = Annotated[Principal, authorize("users:write")]


def _user_id(principal: Principal) -> str:
    # API keys and devices act for an integration, not a person: they have no profile
    if principal.kind != "user":
        raise Forbidden("only a signed-in user has a profile")
    return principal.id


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    operation_id="users_register",
    dependencies=[public(), Depends(RateLimit("public"))],
)
async def register(
    data: UserRegister, session: SessionDep, platform: PlatformDep, response: Response
) -> UserRead:
    """A citizen creates their own account (staff accounts are made by an administrator)."""
    user = await UserService(platform, session, "system").register(data)
    response.headers["Location"] = f"{router.prefix}/{user.id}"
    return to_read(user)


@router.post("", status_code=status.HTTP_201_CREATED, operation_id="users_create")
async def create_user(
    data: UserCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: CanWrite,
    response: Response,
) -> UserRead:
    user = await UserService(platform, session, principal.actor).create(data)
    response.headers["Location"] = f"{router.prefix}/{user.id}"
    return to_read(user)


@router.get("", operation_id="users_list")
async def list_users(
    session: SessionDep,
    platform: PlatformDep,
    principal: CanRead,
    page: PageParamsDep,
    role: Annotated[Role | None, Query(description="only users with this role")] = None,
    active: Annotated[bool | None, Query(description="omit for both")] = True,
    unit: Annotated[str | None, Query(max_length=60, description="patrol unit")] = None,
    q: Annotated[str | None, Query(max_length=200, description="search email and name")] = None,
) -> Page[UserRead]:
    items, total = await UserService(platform, session, principal.actor).list(
        page, role.value if role else None, active, unit, q
    )
    return Page(
        items=[to_read(u) for u in items], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/me", operation_id="users_me")
async def get_me(
    principal: CurrentPrincipal, session: SessionDep, platform: PlatformDep
) -> UserRead:
    service = UserService(platform, session, principal.actor)
    return to_read(await service.get(_user_id(principal)))


@router.patch("/me", operation_id="users_update_me")
async def update_me(
    data: UserUpdate, principal: CurrentPrincipal, session: SessionDep, platform: PlatformDep
) -> UserRead:
    service = UserService(platform, session, principal.actor)
    return to_read(await service.update(_user_id(principal), data, principal))


@router.post(
    "/me/password", status_code=status.HTTP_204_NO_CONTENT, operation_id="users_change_password"
)
async def change_password(
    data: PasswordChange, principal: CurrentPrincipal, session: SessionDep, platform: PlatformDep
) -> None:
    """Change one's own password; every session of the account ends, this one included."""
    service = UserService(platform, session, principal.actor)
    await service.change_password(_user_id(principal), data.current_password, data.new_password)


@router.get("/me/sessions", operation_id="users_my_sessions")
async def my_sessions(
    principal: CurrentPrincipal, session: SessionDep, platform: PlatformDep
) -> list[SessionRead]:
    rows = await AuthService(platform, session).list_sessions(_user_id(principal))
    return [SessionRead.model_validate(row) for row in rows]


@router.delete(
    "/me/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="users_revoke_my_session",
)
async def revoke_my_session(
    session_id: str, principal: CurrentPrincipal, session: SessionDep, platform: PlatformDep
) -> None:
    """Sign out another device: that session's tokens stop working."""
    await AuthService(platform, session).revoke_session(
        _user_id(principal), session_id, principal.actor
    )


@router.get("/{user_id}", operation_id="users_get")
async def get_user(
    user_id: str, principal: CurrentPrincipal, session: SessionDep, platform: PlatformDep
) -> UserRead:
    require_owner_or(principal, user_id, "users:read")
    return to_read(await UserService(platform, session, principal.actor).get(user_id))


@router.patch("/{user_id}", operation_id="users_update")
async def update_user(
    user_id: str,
    data: UserUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
    platform: PlatformDep,
) -> UserRead:
    require_owner_or(principal, user_id, "users:write")
    service = UserService(platform, session, principal.actor)
    return to_read(await service.update(user_id, data, principal))


@router.put("/{user_id}/role", operation_id="users_change_role")
async def change_role(
    user_id: str, data: RoleChange, principal: CanWrite, session: SessionDep, platform: PlatformDep
) -> UserRead:
    """Give a user another role; their sessions end so the new role applies at once."""
    service = UserService(platform, session, principal.actor)
    return to_read(await service.change_role(user_id, data.role))


@router.delete(
    "/{user_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="users_deactivate"
)
async def deactivate_user(
    user_id: str, principal: CanWrite, session: SessionDep, platform: PlatformDep
) -> None:
    """Deactivate (the account and its history stay; it can no longer sign in)."""
    await UserService(platform, session, principal.actor).deactivate(user_id)
