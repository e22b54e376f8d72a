"""Abuse protection of the sign-in: lock-out after failed logins, rate limits shared by
replicas, answers that do not tell which addresses have accounts, and the password policy."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from roadwatch.config import Settings
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
    new_email,
    problem_apart_from_request,
    register,
    tokens_for,
)
from tests.fixtures.app import RunningApp, run_app
from tests.fixtures.backends import Backend
from tests.fixtures.server import roadwatch_process
from tests.fixtures.tokens import admin_headers
from tests.support.waiting import eventually

WRONG = "not-the-password-at-all"
NO_RATE_LIMITS = {"enabled": False}


def _settings(
    backend: Backend, rate_limits: dict[str, Any] | None = None, **auth: object
) -> Settings:
    # Backend.settings sets `auth` itself (the JWT secret); keep it and change the rest
    base = backend.settings().auth.model_dump()
    return backend.settings(auth={**base, **auth}, rate_limits=rate_limits or {})


def _headers_apart_from_request(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k != "x-request-id"}


def _retry_after(response: httpx.Response) -> int:
    return int(response.headers["retry-after"])


async def _attempts(client: httpx.AsyncClient, email: str, passwords: list[str]) -> list[int]:
    return [(await login(client, email, password)).status_code for password in passwords]


async def _citizen(running: RunningApp) -> Account:
    return await create_user(running.client, running.as_role_headers_admin(), Role.CITIZEN)


async def _events(running: RunningApp) -> list[Event]:
    async with running.platform.db.session() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.seq))).all()
    return [Event.from_json(row.body) for row in rows]


# --- lock-out -------------------------------------------------------------------------------


async def test_repeated_failed_logins_lock_the_address_out_even_for_the_right_password(
    backend: Backend,
) -> None:
    # rate limits off, so every 429 here is the lock-out's
    settings = _settings(backend, NO_RATE_LIMITS, lockout_threshold=3, lockout_s=120)
    async with run_app(settings) as running:
        account = await _citizen(running)
        bystander = await _citizen(running)
        client = running.client

        # the address is counted however it is spelt, so changing its case gains nothing
        assert await _attempts(client, account.email, [WRONG]) == [401]
        assert await _attempts(client, f" {account.email.upper()}", [WRONG]) == [401]
        third = await login(client, account.email.title(), WRONG)
        assert third.status_code == 429
        assert 1 <= _retry_after(third) <= 120
        right = await login(client, account.email, PASSWORD)
        assert right.status_code == 429, right.text
        assert 1 <= _retry_after(right) <= 120
        assert right.headers["content-type"] == "application/problem+json"
        assert "too many failed logins" in right.json()["detail"]
        assert "access_token" not in right.text
        # the lock is the address's, not the client's or everyone's
        assert (await login(client, bystander.email, PASSWORD)).status_code == 200

        locked = [e for e in await _events(running) if e.type == events.USER_LOCKED_OUT]
        assert [e.entity_id for e in locked] == [account.id]
        assert locked[0].payload["locked_for_s"] == 120


async def test_an_unknown_address_locks_out_exactly_like_a_known_one(backend: Backend) -> None:
    settings = _settings(backend, NO_RATE_LIMITS, lockout_threshold=3, lockout_s=120)
    async with run_app(settings) as running:
        account = await _citizen(running)
        nobody = new_email("nobody")
        tries = [WRONG, WRONG, WRONG, PASSWORD]
        known = [await login(running.client, account.email, p) for p in tries]
        unknown = [await login(running.client, nobody, p) for p in tries]

        assert [r.status_code for r in known] == [r.status_code for r in unknown]
        assert [r.status_code for r in unknown] == [401, 401, 429, 429]
        for ours, theirs in zip(known, unknown, strict=True):
            assert problem_apart_from_request(ours) == problem_apart_from_request(theirs)
            assert ("retry-after" in ours.headers) == ("retry-after" in theirs.headers)
        # the same lock length, give or take the second that passed between the two runs
        assert abs(_retry_after(known[-1]) - _retry_after(unknown[-1])) <= 1


async def test_a_successful_login_clears_the_count_of_failures(backend: Backend) -> None:
    settings = _settings(backend, NO_RATE_LIMITS, lockout_threshold=3)
    async with run_app(settings) as running:
        account = await _citizen(running)
        tries = [WRONG, WRONG, PASSWORD, WRONG, WRONG]
        assert await _attempts(running.client, account.email, tries) == [401, 401, 200, 401, 401]


async def test_the_lock_out_ends_by_itself(backend: Backend) -> None:
    settings = _settings(backend, NO_RATE_LIMITS, lockout_threshold=2, lockout_s=1)
    async with run_app(settings) as running:
        account = await _citizen(running)
        assert await _attempts(running.client, account.email, [WRONG, WRONG]) == [401, 429]

        # the lock lives in the cache with a TTL; no clock of ours can move it, so poll
        async def signs_in() -> bool:
            return (await login(running.client, account.email, PASSWORD)).status_code == 200

        await eventually(signs_in, timeout_s=10)


# --- rate limits ----------------------------------------------------------------------------


@pytest.mark.slow
async def test_the_login_limit_holds_across_two_processes_sharing_redis(
    distributed_backend: Backend, tmp_path: Path
) -> None:
    backend = distributed_backend
    env = backend.env() | {
        "ROADWATCH_RATE_LIMITS__LOGIN__REQUESTS": "4",
        "ROADWATCH_RATE_LIMITS__LOGIN__WINDOW_S": "60",
    }
    args = ["serve", "--services", "identity"]
    with (
        roadwatch_process(args, env, tmp_path / "a.log") as one,
        roadwatch_process(args, env, tmp_path / "b.log") as two,
    ):
        async with (
            httpx.AsyncClient(base_url=one.url, timeout=15) as a,
            httpx.AsyncClient(base_url=two.url, timeout=15) as b,
        ):
            account = await create_user(a, admin_headers(backend), Role.CITIZEN)
            # right passwords only, so no 429 below can be the lock-out's
            for client in (a, b, a, b):
                assert (await login(client, account.email, PASSWORD)).status_code == 200
            # each process has seen two logins, half its own allowance: only a shared count
            # can refuse the fifth, whichever process it reaches
            for client in (a, b):
                refused = await login(client, account.email, PASSWORD)
                assert refused.status_code == 429, refused.text
                assert 1 <= _retry_after(refused) <= 60
                assert "rate limit for login" in refused.json()["detail"]


async def test_the_writes_limit_counts_posts_but_not_reads(backend: Backend) -> None:
    settings = _settings(backend, {"writes": {"requests": 3, "window_s": 60}})
    async with run_app(settings) as running:
        admin = running.as_role_headers_admin()
        key = {"name": "counting", "scopes": ["devices:read"]}
        for _ in range(3):
            created = await running.client.post("/api/v1/api-keys", json=key, headers=admin)
            assert created.status_code == 201, created.text
        refused = await running.client.post("/api/v1/api-keys", json=key, headers=admin)
        assert refused.status_code == 429
        assert 1 <= _retry_after(refused) <= 60
        assert "writes" in refused.json()["detail"]
        # reads of the same client stay open, before and after the writes ran out
        for _ in range(10):
            listed = await running.client.get("/api/v1/api-keys", headers=admin)
            assert listed.status_code == 200, listed.text
        assert listed.json()["total"] == 3


async def test_the_public_limit_bounds_sign_ups(backend: Backend) -> None:
    settings = _settings(backend, {"public": {"requests": 2, "window_s": 60}})
    async with run_app(settings) as running:
        first_email = new_email("citizen")
        assert (await register(running.client, first_email)).status_code == 201
        assert (await register(running.client)).status_code == 201
        refused = await register(running.client)
        assert refused.status_code == 429
        assert 1 <= _retry_after(refused) <= 60
        assert "public" in refused.json()["detail"]
        # signing in is another class with its own allowance
        assert (await login(running.client, first_email, PASSWORD)).status_code == 200


# --- no user enumeration --------------------------------------------------------------------


async def test_an_unknown_address_and_a_wrong_password_look_and_take_the_same(
    backend: Backend,
) -> None:
    settings = _settings(backend, NO_RATE_LIMITS, lockout_threshold=1000)
    async with run_app(settings) as running:
        account = await _citizen(running)
        nobody = new_email("nobody")

        async def timed(email: str) -> tuple[httpx.Response, float]:
            started = time.perf_counter()
            response = await login(running.client, email, WRONG)
            return response, time.perf_counter() - started

        await timed(nobody)  # warm up the hashing thread pool and the connections
        await timed(account.email)
        known: list[float] = []
        unknown: list[float] = []
        for _ in range(15):
            # alternated, so a burst of load on the machine hits both series alike
            wrong_password, known_s = await timed(account.email)
            no_account, unknown_s = await timed(nobody)
            known.append(known_s)
            unknown.append(unknown_s)
            assert wrong_password.status_code == no_account.status_code == 401
            assert problem_apart_from_request(wrong_password) == problem_apart_from_request(
                no_account
            )
            assert _headers_apart_from_request(wrong_password) == _headers_apart_from_request(
                no_account
            )

        # Argon2 verification (tens of ms) dominates both; were it skipped for unknown
        # addresses those would answer in a few ms, far outside this bound, while noise on a
        # loaded machine moves both medians alike and stays well inside it.
        known_median, unknown_median = statistics.median(known), statistics.median(unknown)
        slower = max(known_median, unknown_median)
        assert abs(known_median - unknown_median) < 0.5 * slower, (
            f"median wrong password {known_median * 1000:.1f} ms, "
            f"unknown address {unknown_median * 1000:.1f} ms"
        )


async def test_signing_up_with_a_taken_address_is_a_conflict(running: RunningApp) -> None:
    # This does tell that the address has an account, and has to: a sign-up form cannot
    # create the account nor pretend to without lying to its rightful owner, and every
    # sign-up form on the web answers alike. What keeps it from being a cheap oracle is the
    # `public` rate limit on this route (test above), not an ambiguous answer.
    email = new_email("citizen")
    assert (await register(running.client, email)).status_code == 201
    again = await register(running.client, email.upper(), "some-other-long-passphrase")
    assert again.status_code == 409
    assert again.json()["field"] == "email"


# --- password policy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-pw", "at least 10 characters"),
        ("Password123", "commonly used"),
        ("LetMeIn123", "commonly used"),
        ("1234567890", "commonly used"),
    ],
)
async def test_a_weak_password_is_refused_at_sign_up_naming_the_field(
    running: RunningApp, password: str, why: str
) -> None:
    email = new_email("citizen")
    response = await register(running.client, email, password)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "password"
    assert why in response.json()["detail"]
    # nothing was created: the address is still free
    assert (await register(running.client, email)).status_code == 201


async def test_the_address_itself_is_not_a_password(running: RunningApp) -> None:
    email = new_email("citizen")
    response = await register(running.client, email, email.upper())
    assert response.status_code == 422
    assert response.json()["field"] == "password"


async def test_a_weak_new_password_is_refused_naming_the_field(
    running: RunningApp, admin: dict[str, str]
) -> None:
    account = await create_user(running.client, admin, Role.CITIZEN)
    tokens = await tokens_for(running.client, account)
    response = await running.client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "password1234"},
        headers=bearer(tokens),
    )
    assert response.status_code == 422
    assert response.json()["field"] == "new_password"
    # the refused change ended nothing
    me = await running.client.get("/api/v1/users/me", headers=bearer(tokens))
    assert me.status_code == 200
