"""Every route of the application answers every caller as the route declares.

The walk calls each API route of `create_app` with all services (every method) as each role,
as an integration API key, anonymously and with credentials that must be refused (expired,
foreign-signed and `alg=none` tokens, the token of a logged-out session, unknown and revoked
API keys). What a route should answer is read from its dependencies (`routes_walk.py`), so a
route that declares neither `authorize()`/`authenticated()` nor `public()` fails the walk by
name. The full walk runs on both backend profiles: it takes a few seconds on each.

docs/security.md shows the role → permission matrix; a test here keeps it equal to the code.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import APIRouter, FastAPI

from roadwatch.app import create_app
from roadwatch.config import Settings
from roadwatch.platform.auth import (
    PERMISSIONS,
    ROLE_PERMISSIONS,
    CurrentPrincipal,
    Principal,
    Role,
    authenticated,
    authorize,
    public,
)
from tests.factories import identity as accounts
from tests.fixtures import tokens
from tests.fixtures.app import RunningApp, run_app
from tests.fixtures.backends import Backend
from tests.identity.routes_walk import (
    Endpoint,
    RouteNotWalkable,
    endpoints,
    undeclared,
)

# no row has this id: a caller reaching a handler gets 404, never someone's data
NOBODYS_ID = "00000000-0000-4000-8000-000000000000"
API_KEY_SCOPES = ("devices:read", "users:read")
MY_PROFILE = "/api/v1/users/me"
ALLOWED = "allowed"
SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"

# Routes whose handler calls require_owner_or(principal, <id in the path>, permission): the
# dependencies declare only authenticated(), so the permission needed for somebody else's
# item is written here. The walk's ids are nobody's, so it needs the permission.
OWNER_OR: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/users/{user_id}"): "users:read",
    ("PATCH", "/api/v1/users/{user_id}"): "users:write",
    # the audit of one's own account (entity type `user`, one's own id)
    ("GET", "/api/v1/audit/entities/{entity_type}/{entity_id}/state"): "audit:read",
    ("GET", "/api/v1/audit/entities/{entity_type}/{entity_id}/history"): "audit:read",
    ("GET", "/api/v1/audit/entities/{entity_type}/{entity_id}/events"): "audit:read",
}

# Routes of the device API (ThingsBoard's): they declare public(), and the handler then
# authenticates the device by the access token in the path. The walk's token belongs to no
# device, so every caller gets 401 whatever else it presents.
DEVICE_TOKEN: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/api/v1/{token}/telemetry"),
        ("POST", "/api/v1/{token}/attributes"),
        ("GET", "/api/v1/{token}/attributes"),
        ("GET", "/api/v1/{token}/attributes/updates"),
        ("GET", "/api/v1/{token}/rpc"),
        ("POST", "/api/v1/{token}/rpc/{request_id}"),
        ("POST", "/api/v1/{token}/rpc"),
    }
)

# A missing body is refused (422) before the handler runs, so for routes whose rule is
# inside the handler (ownership, "only a signed-in user") the walk sends a valid one.
BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("PATCH", "/api/v1/users/{user_id}"): {"full_name": "Route Walk"},
    ("PATCH", MY_PROFILE): {"full_name": "Route Walk"},
    ("POST", f"{MY_PROFILE}/password"): {
        "current_password": accounts.PASSWORD,
        "new_password": "another-long-test-passphrase",
    },
}


@dataclass(frozen=True)
class Caller:
    name: str
    headers: dict[str, str]
    # "user" or "apikey"; None for a caller who is not identified
    kind: str | None
    permissions: frozenset[str] = frozenset()
    # presents a credential that must be refused wherever it is presented
    bad: bool = False


def owned_by(path: str, user_id: str) -> str:
    """The path of an OWNER_OR route naming the user's own item."""
    return (
        path.replace("{user_id}", user_id)
        .replace("{entity_type}", "user")
        .replace("{entity_id}", user_id)
    )


def refused(name: str, headers: dict[str, str]) -> Caller:
    return Caller(name, headers, kind=None, bad=True)


def is_my_profile(endpoint: Endpoint) -> bool:
    return endpoint.path == MY_PROFILE or endpoint.path.startswith(f"{MY_PROFILE}/")


def expected(caller: Caller, endpoint: Endpoint) -> int | str:
    access = endpoint.access
    assert access is not None
    if caller.bad:
        # a presented credential is always verified, on public routes too (Public resolves
        # the caller), so a client learns its token is bad instead of silently losing it
        return 401
    if endpoint.key in DEVICE_TOKEN:
        return 401
    if access.public:
        return ALLOWED
    if caller.kind is None:
        return 401
    needed = set(access.permissions)
    if endpoint.key in OWNER_OR:
        needed.add(OWNER_OR[endpoint.key])
    if not needed <= caller.permissions:
        return 403
    if is_my_profile(endpoint) and caller.kind != "user":
        return 403  # an integration has no profile
    return ALLOWED


def answered_as_expected(status: int, want: int | str) -> bool:
    if want == ALLOWED:
        # 404/422 are fine (dummy ids, empty bodies); a refusal or a crash is not
        return status not in (401, 403) and status < 500
    return status == want


async def walk(running: RunningApp, callers: list[Caller]) -> list[str]:
    """Call every route as every caller; one line per answer that is not what was declared."""
    problems: list[str] = []
    for endpoint in endpoints(running.app):
        if endpoint.access is None:
            problems.append(f"{endpoint}: declares no access (authorize, authenticated, public)")
            continue
        for caller in callers:
            want = expected(caller, endpoint)
            response = await running.client.request(
                endpoint.method,
                endpoint.url(NOBODYS_ID),
                headers=caller.headers,
                json=BODIES.get(endpoint.key),
            )
            if not answered_as_expected(response.status_code, want):
                problems.append(
                    f"{endpoint} as {caller.name} (declares {endpoint.access}): expected "
                    f"{want}, got {response.status_code} {response.text[:300]}"
                )
    return problems


@pytest.fixture
async def walked(backend: Backend) -> AsyncIterator[RunningApp]:
    # the walk sends hundreds of requests from one client address
    async with run_app(backend.settings(rate_limits={"enabled": False})) as running:
        yield running


async def create_api_key(running: RunningApp, scopes: tuple[str, ...]) -> dict[str, str]:
    response = await running.client.post(
        "/api/v1/api-keys",
        json={"name": "route walk", "scopes": list(scopes)},
        headers=running.as_role(Role.ADMINISTRATOR),
    )
    assert response.status_code == 201, response.text
    created: dict[str, str] = response.json()
    return created


async def test_every_role_and_an_api_key_get_what_each_route_declares(
    walked: RunningApp,
) -> None:
    # tokens as identity issues them, for users that do not exist: a handler that lets one
    # through answers 404 instead of changing a real account the rest of the walk relies on
    callers = [
        Caller(role.value, walked.as_role(role), "user", ROLE_PERMISSIONS[role]) for role in Role
    ]
    key = await create_api_key(walked, API_KEY_SCOPES)
    callers.append(
        Caller(
            f"API key {list(API_KEY_SCOPES)}",
            {"X-API-Key": key["key"]},
            "apikey",
            frozenset(API_KEY_SCOPES),
        )
    )
    problems = await walk(walked, callers)
    assert not problems, "\n".join(problems)


async def test_missing_and_bad_credentials_are_refused_on_every_route(
    walked: RunningApp, backend: Backend
) -> None:
    client = walked.client
    admin = walked.as_role(Role.ADMINISTRATOR)

    account = await accounts.create_user(client, admin, Role.DISPATCHER)
    logged_out = await accounts.tokens_for(client, account)
    assert (await client.get(MY_PROFILE, headers=accounts.bearer(logged_out))).status_code == 200
    ended = await client.post("/api/v1/auth/logout", headers=accounts.bearer(logged_out))
    assert ended.status_code == 204, ended.text

    revoked_key = await create_api_key(walked, API_KEY_SCOPES)
    gone = await client.delete(f"/api/v1/api-keys/{revoked_key['id']}", headers=admin)
    assert gone.status_code == 204, gone.text

    # the bad tokens claim the administrator role: only their verification stands in the way
    expired = tokens.access_token(backend, ttl=timedelta(minutes=-1))
    callers = [
        Caller("no credentials", {}, None),
        refused("an expired token", tokens.bearer(expired)),
        refused("a token signed with another key", tokens.bearer(tokens.foreign_token())),
        refused("a token with alg=none", tokens.bearer(tokens.unsigned_token())),
        refused("the token of a logged-out session", accounts.bearer(logged_out)),
        refused("an unknown API key", {"X-API-Key": "rwk_" + "x" * 43}),
        refused("a revoked API key", {"X-API-Key": revoked_key["key"]}),
    ]
    problems = await walk(walked, callers)
    assert not problems, "\n".join(problems)


async def test_an_owner_needs_no_permission_for_their_own_item(walked: RunningApp) -> None:
    client = walked.client
    admin = walked.as_role(Role.ADMINISTRATOR)
    owner = await accounts.create_user(client, admin, Role.CITIZEN)
    other = await accounts.create_user(client, admin, Role.CITIZEN)
    as_owner = accounts.bearer(await accounts.tokens_for(client, owner))
    for (method, path), permission in OWNER_OR.items():
        assert not ROLE_PERMISSIONS[Role.CITIZEN] & {permission}
        body = BODIES.get((method, path))
        own = await client.request(method, owned_by(path, owner.id), headers=as_owner, json=body)
        assert own.status_code == 200, f"{method} {path}: {own.text}"
        others = await client.request(method, owned_by(path, other.id), headers=as_owner, json=body)
        assert others.status_code == 403, f"{method} {path}: {others.text}"


def all_endpoints(tmp_path: Path) -> list[Endpoint]:
    # building the app starts nothing: no database or broker is touched before its lifespan
    return endpoints(create_app(Settings(var_dir=tmp_path)))


def test_every_route_declares_who_may_call_it(tmp_path: Path) -> None:
    found = all_endpoints(tmp_path)
    assert found, "the application has no API routes to walk"
    missing = undeclared(found)
    assert not missing, (
        "routes that declare neither authorize(...), authenticated() nor public(): "
        + ", ".join(missing)
    )


def test_the_route_tables_of_this_walk_name_routes_that_exist(tmp_path: Path) -> None:
    found = {endpoint.key: endpoint for endpoint in all_endpoints(tmp_path)}
    stale = sorted({*OWNER_OR, *DEVICE_TOKEN, *BODIES} - set(found))
    assert not stale, f"the tables name routes the application no longer has: {stale}"
    for rule, table in (
        ("require_owner_or", set(OWNER_OR)),
        ("authenticated_device", set(DEVICE_TOKEN)),
    ):
        unlisted = sorted(
            str(endpoint)
            for key, endpoint in found.items()
            if endpoint.calls(rule) and key not in table
        )
        assert not unlisted, f"handlers call {rule} but are not in the walk's table: {unlisted}"


def test_the_walk_tells_a_route_that_declares_nothing() -> None:
    router = APIRouter(prefix="/api/v1/things")

    @router.get("", dependencies=[public()])
    async def list_things() -> list[str]:
        return []

    @router.get("/mine")
    async def my_things(principal: CurrentPrincipal) -> list[str]:
        return [principal.id]

    @router.get("/{thing_id}")
    async def forgotten(thing_id: str) -> str:
        return thing_id

    @router.delete("/{thing_id}")
    async def delete_thing(
        thing_id: str, principal: Annotated[Principal, authorize("devices:write")]
    ) -> None:
        return None

    guarded = APIRouter(prefix="/api/v1/guarded")

    @guarded.post("")
    async def guarded_by_the_router() -> None:
        return None

    tiny = FastAPI()
    tiny.include_router(router)
    tiny.include_router(guarded, dependencies=[authenticated(), authorize("users:read")])
    declared = {str(e): str(e.access) if e.access else None for e in endpoints(tiny)}
    assert declared == {
        "GET /api/v1/things": "public()",
        "GET /api/v1/things/mine": "authenticated()",
        "GET /api/v1/things/{thing_id}": None,
        "DELETE /api/v1/things/{thing_id}": "authorize(devices:write)",
        "POST /api/v1/guarded": "authorize(users:read)",
    }
    assert undeclared(endpoints(tiny)) == ["GET /api/v1/things/{thing_id}"]

    @tiny.websocket("/api/v1/live")
    async def live() -> None:
        return None

    with pytest.raises(RouteNotWalkable, match="/api/v1/live"):
        endpoints(tiny)


def matrix_in_doc(text: str) -> tuple[list[str], dict[str, set[str]]]:
    """The permissions (rows, in order) and role → permissions (✓) of the doc's matrix."""
    lines = [line.strip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("| permission |"))

    def cells(line: str) -> list[str]:
        return [cell.strip() for cell in line.strip("|").split("|")]

    roles = [cell.strip("`") for cell in cells(lines[start])[1:]]
    permissions: list[str] = []
    granted: dict[str, set[str]] = {role: set() for role in roles}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        first, *marks = cells(line)
        named = re.match(r"`([^`]+)`", first)
        assert named, f"a matrix row must start with the permission in backticks: {line}"
        permissions.append(named.group(1))
        assert len(marks) == len(roles), f"row has {len(marks)} marks for {len(roles)}: {line}"
        for role, mark in zip(roles, marks, strict=True):
            assert mark in ("✓", ""), f"use ✓ or leave the cell empty: {line}"
            if mark:
                granted[role].add(named.group(1))
    return permissions, granted


def test_the_permission_matrix_in_the_security_doc_is_the_one_in_the_code() -> None:
    permissions, granted = matrix_in_doc(SECURITY_DOC.read_text(encoding="utf-8"))
    assert sorted(permissions) == sorted(PERMISSIONS)
    assert granted == {role.value: set(ROLE_PERMISSIONS[role]) for role in Role}
