"""Login sessions: token pairs, refresh-token rotation and re-use detection, and every way a
session ends (logout, password change, role change, deactivation), on every backend."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from roadwatch.identity import events
from roadwatch.platform.auth import Role
from roadwatch.platform.events import Event
from roadwatch.platform.events.outbox import OutboxRow
from tests.factories.identity import (
    PASSWORD,
    Account,
    bearer,
    create_user,
    login,
    problem_apart_from_request,
    refresh,
    tokens_for,
)
from tests.fixtures.app import RunningApp

NEW_PASSWORD = "another-long-test-passphrase"


async def _identity_events(running: RunningApp) -> list[Event]:
    async with running.platform.db.session() as session:
        rows = (
            await session.scalars(
                select(OutboxRow).where(OutboxRow.type.like("identity.%")).order_by(OutboxRow.seq)
            )
        ).all()
    return [Event.from_json(row.body) for row in rows]


async def _me(running: RunningApp, tokens: dict[str, Any]) -> int:
    return (await running.client.get("/api/v1/users/me", headers=bearer(tokens))).status_code


async def _citizen(running: RunningApp, admin: dict[str, str]) -> Account:
    return await create_user(running.client, admin, Role.CITIZEN)


async def test_login_gives_a_token_pair_whose_access_token_identifies_the_user(
    running: RunningApp, admin: dict[str, str]
) -> None:
    account = await _citizen(running, admin)
    response = await login(running.client, account.email.upper(), PASSWORD)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["access_token"] and tokens["refresh_token"]
    assert 0 < tokens["expires_in"] < tokens["refresh_expires_in"]

    me = await running.client.get("/api/v1/users/me", headers=bearer(tokens))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == account.id
    assert me.json()["last_login_at"] is not None
    # the refresh token is not an access token and opens nothing
    assert await _me(running, {"access_token": tokens["refresh_token"]}) == 401

    sessions = await running.client.get("/api/v1/users/me/sessions", headers=bearer(tokens))
    assert [s["revoked_at"] for s in sessions.json()] == [None]
    succeeded = [e for e in await _identity_events(running) if e.type == events.LOGIN_SUCCEEDED]
    assert len(succeeded) == 1
    assert succeeded[0].actor == f"user:{account.id}"
    assert succeeded[0].payload["user_id"] == account.id
    assert succeeded[0].payload["session_id"] == sessions.json()[0]["id"]
    assert "password" not in str(succeeded[0].payload).lower()


async def test_refresh_rotates_the_pair_within_the_same_session(
    running: RunningApp, admin: dict[str, str]
) -> None:
    account = await _citizen(running, admin)
    first = await tokens_for(running.client, account)
    rotated = await refresh(running.client, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert await _me(running, second) == 200
    # the new refresh token rotates in turn: a chain, one live link at a time
    third = await refresh(running.client, second["refresh_token"])
    assert third.status_code == 200, third.text
    assert await _me(running, third.json()) == 200

    sessions = (
        await running.client.get("/api/v1/users/me/sessions", headers=bearer(third.json()))
    ).json()
    assert len(sessions) == 1
    assert sessions[0]["last_refreshed_at"] is not None


async def test_reusing_a_rotated_refresh_token_ends_the_whole_session(
    running: RunningApp, admin: dict[str, str]
) -> None:
    account = await _citizen(running, admin)
    other_device = await tokens_for(running.client, account)
    stolen = await tokens_for(running.client, account)
    rotated = (await refresh(running.client, stolen["refresh_token"])).json()

    # one of the two holders of the family replays the used-up token
    replay = await refresh(running.client, stolen["refresh_token"])
    assert replay.status_code == 401
    assert replay.headers["content-type"] == "application/problem+json"
    assert "already used" in replay.json()["detail"]
    # so neither may go on: the token issued by the rotation is dead too ...
    after = await refresh(running.client, rotated["refresh_token"])
    assert after.status_code == 401
    # ... and so are the session's access tokens, old and new
    assert await _me(running, stolen) == 401
    assert await _me(running, rotated) == 401
    # the account's other session is a different family and goes on
    assert await _me(running, other_device) == 200
    assert (await refresh(running.client, other_device["refresh_token"])).status_code == 200

    revoked = [e for e in await _identity_events(running) if e.type == events.SESSION_REVOKED]
    assert len(revoked) == 1
    assert revoked[0].actor == "system"
    assert revoked[0].payload["state"]["revoked_reason"] == "refresh_token_reused"
    assert revoked[0].payload["state"]["user_id"] == account.id


async def test_one_refresh_token_exchanged_twice_at_once_yields_at_most_one_pair(
    running: RunningApp, admin: dict[str, str]
) -> None:
    account = await _citizen(running, admin)
    tokens = await tokens_for(running.client, account)
    answers = await asyncio.gather(
        *(refresh(running.client, tokens["refresh_token"]) for _ in range(3))
    )
    codes = sorted(a.status_code for a in answers)
    # the claim on a refresh token is one conditional update: racing requests cannot both
    # win, on either database; the losers count as a re-use
    assert codes in ([200, 401, 401], [401, 401, 401]), [a.text for a in answers]
    assert any("already used" in a.json()["detail"] for a in answers if a.status_code == 401)


async def test_an_unknown_refresh_token_is_refused(running: RunningApp) -> None:
    response = await refresh(running.client, "rwr_not-a-token-anyone-was-given")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_logout_ends_the_session_and_only_it(
    running: RunningApp, admin: dict[str, str]
) -> None:
    account = await _citizen(running, admin)
    kept = await tokens_for(running.client, account)
    ended = await tokens_for(running.client, account)
    out = await running.client.post("/api/v1/auth/logout", headers=bearer(ended))
    assert out.status_code == 204, out.text
    assert await _me(running, ended) == 401
    assert (await refresh(running.client, ended["refresh_token"])).status_code == 401
    assert await _me(running, kept) == 200
    assert (await running.client.post("/api/v1/auth/logout")).status_code == 401

    revoked = [e for e in await _identity_events(running) if e.type == events.SESSION_REVOKED]
    assert [e.payload["state"]["revoked_reason"] for e in revoked] == ["logout"]
    assert revoked[0].actor == f"user:{account.id}"


async def test_changing_the_password_ends_every_session_of_the_account(
    running: RunningApp, admin: dict[str, str]
) -> None:
    account = await _citizen(running, admin)
    phone = await tokens_for(running.client, account)
    laptop = await tokens_for(running.client, account)
    url = "/api/v1/users/me/password"

    wrong = await running.client.post(
        url,
        json={"current_password": "not-the-password-at-all", "new_password": NEW_PASSWORD},
        headers=bearer(phone),
    )
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "current_password"
    assert await _me(running, laptop) == 200  # a refused change ends nothing

    changed = await running.client.post(
        url,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(phone),
    )
    assert changed.status_code == 204, changed.text
    for tokens in (phone, laptop):
        assert await _me(running, tokens) == 401
        assert (await refresh(running.client, tokens["refresh_token"])).status_code == 401
    assert (await login(running.client, account.email, PASSWORD)).status_code == 401
    fresh = await login(running.client, account.email, NEW_PASSWORD)
    assert fresh.status_code == 200, fresh.text
    assert await _me(running, fresh.json()) == 200

    recorded = await _identity_events(running)
    changes = [e for e in recorded if e.type == events.USER_PASSWORD_CHANGED]
    assert len(changes) == 1
    assert changes[0].entity_id == account.id
    assert changes[0].actor == f"user:{account.id}"
    assert "hash" not in str(changes[0].payload).lower()
    reasons = [
        e.payload["state"]["revoked_reason"] for e in recorded if e.type == events.SESSION_REVOKED
    ]
    assert reasons == ["password_changed", "password_changed"]


async def test_an_administrator_changing_the_role_ends_the_users_sessions(
    running: RunningApp, admin: dict[str, str]
) -> None:
    account = await create_user(running.client, admin, Role.DISPATCHER)
    before = await tokens_for(running.client, account)
    changed = await running.client.put(
        f"/api/v1/users/{account.id}/role", json={"role": "analyst"}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "analyst"
    # the old tokens carry the old role: they must not outlive the change
    assert await _me(running, before) == 401
    assert (await refresh(running.client, before["refresh_token"])).status_code == 401
    after = await tokens_for(running.client, account)
    me = await running.client.get("/api/v1/users/me", headers=bearer(after))
    assert me.json()["role"] == "analyst"

    recorded = await _identity_events(running)
    role_changes = [e for e in recorded if e.type == events.USER_ROLE_CHANGED]
    assert len(role_changes) == 1
    assert role_changes[0].payload["previous_role"] == "dispatcher"
    assert role_changes[0].payload["state"]["role"] == "analyst"
    assert role_changes[0].actor == "user:test-administrator"
    revoked = [e for e in recorded if e.type == events.SESSION_REVOKED]
    assert [e.payload["state"]["revoked_reason"] for e in revoked] == ["role_changed"]


async def test_a_deactivated_user_is_refused_exactly_like_a_wrong_password(
    running: RunningApp, admin: dict[str, str]
) -> None:
    account = await _citizen(running, admin)
    bystander = await _citizen(running, admin)
    tokens = await tokens_for(running.client, account)
    removed = await running.client.delete(f"/api/v1/users/{account.id}", headers=admin)
    assert removed.status_code == 204, removed.text
    assert await _me(running, tokens) == 401
    assert (await refresh(running.client, tokens["refresh_token"])).status_code == 401

    inactive = await login(running.client, account.email, PASSWORD)
    wrong = await login(running.client, bystander.email, "not-the-password-at-all")
    assert inactive.status_code == wrong.status_code == 401
    assert problem_apart_from_request(inactive) == problem_apart_from_request(wrong)
    assert inactive.headers["www-authenticate"] == wrong.headers["www-authenticate"]

    recorded = await _identity_events(running)
    deactivated = [e for e in recorded if e.type == events.USER_DEACTIVATED]
    assert [e.entity_id for e in deactivated] == [account.id]
    assert deactivated[0].payload["state"]["active"] is False
    failed = {e.entity_id: e for e in recorded if e.type == events.LOGIN_FAILED}
    # only the audit trail, never the caller, learns why a login was refused
    assert failed[account.email].payload["reason"] == "inactive"
    assert failed[account.email].payload["user_id"] == account.id
    assert failed[bystander.email].payload["reason"] == "bad_password"
