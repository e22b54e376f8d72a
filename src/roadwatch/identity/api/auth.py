"""Logging in (OAuth2 password flow), refreshing tokens, logging out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.identity.schemas import RefreshRequest, TokenPair
from roadwatch.identity.service.sessions import AuthService, Client, Refused
from roadwatch.platform.auth import CurrentPrincipal, public
from roadwatch.platform.errors import TooManyRequests, Unauthenticated
from roadwatch.platform.ratelimit import RateLimit, client_key
from roadwatch.platform.runtime import PlatformDep, SessionDep

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

LoginLimited = Depends(RateLimit("login"))


async def _refuse(session: AsyncSession, refused: Refused) -> None:
    # the refusal's events (login failed, family revoked) must be kept: commit, then answer
    await session.commit()
    if refused.retry_after_s is not None:
        raise TooManyRequests(refused.detail, retry_after_s=refused.retry_after_s)
    raise Unauthenticated(refused.detail)


@router.post(
    "/token",
    operation_id="auth_token",
    dependencies=[public(), LoginLimited],
    responses={401: {"description": "incorrect email or password"}},
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
) -> TokenPair:
    """Exchange email (as `username`) and password for an access and a refresh token."""
    client = Client(client_key(request), request.headers.get("user-agent", ""))
    outcome = await AuthService(platform, session).login(form.username, form.password, client)
    if isinstance(outcome, Refused):
        await _refuse(session, outcome)
    assert isinstance(outcome, TokenPair)
    return outcome


@router.post("/refresh", operation_id="auth_refresh", dependencies=[public(), LoginLimited])
async def refresh(data: RefreshRequest, session: SessionDep, platform: PlatformDep) -> TokenPair:
    """A new token pair for a refresh token, which is used up; re-using one ends its session."""
    outcome = await AuthService(platform, session).refresh(data.refresh_token)
    if isinstance(outcome, Refused):
        await _refuse(session, outcome)
    assert isinstance(outcome, TokenPair)
    return outcome


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, operation_id="auth_logout")
async def logout(principal: CurrentPrincipal, session: SessionDep, platform: PlatformDep) -> None:
    """End the caller's login session: its refresh token and access tokens stop working."""
    await AuthService(platform, session).logout(principal.id, principal.session_id)
