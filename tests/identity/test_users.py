"""Accounts: citizens sign up, administrators manage staff, everyone keeps their own profile."""

from __future__ import annotations

from roadwatch.platform.auth import Role
from tests.factories.identity import PASSWORD, bearer, create_user, new_email, tokens_for
from tests.fixtures.app import RunningApp


async def test_a_citizen_registers_and_signs_in(running: RunningApp) -> None:
    client = running.client
    email = new_email("citizen")
    registered = await client.post(
        "/api/v1/users/register",
        json={"email": email.upper(), "password": PASSWORD, "full_name": "Ann Lee"},
    )
    assert registered.status_code == 201, registered.text
    body = registered.json()
    assert body["role"] == "citizen"
    assert body["email"] == email  # addresses are kept lower-cased
    assert "password" not in str(body).lower()
    assert registered.headers["location"] == f"/api/v1/users/{body['id']}"

    login = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    me = await client.get("/api/v1/users/me", headers=bearer(login.json()))
    assert me.json()["full_name"] == "Ann Lee"


async def test_sign_up_cannot_choose_a_role_or_a_badge(running: RunningApp) -> None:
    client = running.client
    with_role = await client.post(
        "/api/v1/users/register",
        json={"email": new_email(), "password": PASSWORD, "role": "administrator"},
    )
    assert with_role.status_code == 422
    assert with_role.json()["errors"][0]["field"] == "role"
    with_badge = await client.post(
        "/api/v1/users/register", json={"email": new_email(), "password": PASSWORD, "badge": "7"}
    )
    assert with_badge.status_code == 422
    assert with_badge.json()["field"] == "badge"


async def test_an_address_belongs_to_one_account(
    running: RunningApp, admin: dict[str, str]
) -> None:
    first = await create_user(running.client, admin, Role.ANALYST)
    again = await running.client.post(
        "/api/v1/users",
        json={"email": first.email.upper(), "password": PASSWORD, "role": "editor"},
        headers=admin,
    )
    assert again.status_code == 409
    assert again.json()["field"] == "email"


async def test_bad_profile_fields_are_named(running: RunningApp, admin: dict[str, str]) -> None:
    response = await running.client.post(
        "/api/v1/users",
        json={"email": "not-an-address", "password": PASSWORD, "role": "pilot", "language": "x"},
        headers=admin,
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"email", "role", "language"}


async def test_administrators_list_staff_by_role_unit_and_text(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    north = await create_user(
        client, admin, Role.PATROL_OFFICER, full_name="Ivan North", unit="P-12", badge="1001"
    )
    await create_user(client, admin, Role.PATROL_OFFICER, full_name="Olga South", unit="P-7")
    await create_user(client, admin, Role.DISPATCHER, full_name="Dmitry North")

    officers = await client.get(
        "/api/v1/users", params={"role": "patrol_officer", "sort": "full_name"}, headers=admin
    )
    assert [u["full_name"] for u in officers.json()["items"]] == ["Ivan North", "Olga South"]
    in_unit = await client.get("/api/v1/users", params={"unit": "P-12"}, headers=admin)
    assert [u["id"] for u in in_unit.json()["items"]] == [north.id]
    named = await client.get("/api/v1/users", params={"q": "north"}, headers=admin)
    assert {u["full_name"] for u in named.json()["items"]} == {"Ivan North", "Dmitry North"}
    # dispatchers look officers up to assign them; they cannot change anyone
    dispatcher = running.as_role(Role.DISPATCHER)
    assert (await client.get("/api/v1/users", headers=dispatcher)).status_code == 200
    assert (
        await client.put(
            f"/api/v1/users/{north.id}/role", json={"role": "analyst"}, headers=dispatcher
        )
    ).status_code == 403


async def test_people_edit_their_own_profile_but_not_their_placement(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    officer = await create_user(client, admin, Role.PATROL_OFFICER, unit="P-3")
    own = bearer(await tokens_for(client, officer))

    updated = await client.patch(
        "/api/v1/users/me", json={"phone": "+7 812 000-00-00", "language": "ru"}, headers=own
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["phone"] == "+7 812 000-00-00"
    moved = await client.patch("/api/v1/users/me", json={"unit": "P-99"}, headers=own)
    assert moved.status_code == 403
    assert moved.json()["field"] == "unit"
    by_admin = await client.patch(
        f"/api/v1/users/{officer.id}", json={"unit": "P-99"}, headers=admin
    )
    assert by_admin.json()["unit"] == "P-99"
    empty = await client.patch("/api/v1/users/me", json={}, headers=own)
    assert empty.status_code == 422


async def test_a_citizen_sees_only_their_own_account(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    ann = await create_user(client, admin, Role.CITIZEN)
    bob = await create_user(client, admin, Role.CITIZEN)
    as_ann = bearer(await tokens_for(client, ann))

    assert (await client.get(f"/api/v1/users/{ann.id}", headers=as_ann)).status_code == 200
    assert (await client.get(f"/api/v1/users/{bob.id}", headers=as_ann)).status_code == 403
    assert (
        await client.patch(f"/api/v1/users/{bob.id}", json={"full_name": "x"}, headers=as_ann)
    ).status_code == 403
    assert (await client.get("/api/v1/users", headers=as_ann)).status_code == 403


async def test_deactivation_keeps_the_account_and_its_address(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    editor = await create_user(client, admin, Role.EDITOR)
    assert (await client.delete(f"/api/v1/users/{editor.id}", headers=admin)).status_code == 204

    kept = await client.get(f"/api/v1/users/{editor.id}", headers=admin)
    assert kept.json()["active"] is False
    assert kept.json()["deactivated_at"] is not None
    active_only = await client.get("/api/v1/users", params={"q": editor.email}, headers=admin)
    assert active_only.json()["total"] == 0
    both = await client.get(
        "/api/v1/users", params={"q": editor.email, "active": "false"}, headers=admin
    )
    assert both.json()["total"] == 1
    reused = await client.post(
        "/api/v1/users",
        json={"email": editor.email, "password": PASSWORD, "role": "editor"},
        headers=admin,
    )
    assert reused.status_code == 409


async def test_the_last_administrator_cannot_be_removed(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    only = await create_user(client, admin, Role.ADMINISTRATOR)
    as_only = bearer(await tokens_for(client, only))
    demoted = await client.put(
        f"/api/v1/users/{only.id}/role", json={"role": "analyst"}, headers=as_only
    )
    assert demoted.status_code == 409
    assert (await client.delete(f"/api/v1/users/{only.id}", headers=as_only)).status_code == 409

    second = await create_user(client, admin, Role.ADMINISTRATOR)
    assert (
        await client.put(f"/api/v1/users/{only.id}/role", json={"role": "analyst"}, headers=as_only)
    ).status_code == 200
    assert (await client.get(f"/api/v1/users/{second.id}", headers=admin)).json()["active"]


async def test_an_api_key_is_shown_once_and_works_within_its_scopes(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    created = await client.post(
        "/api/v1/api-keys",
        json={"name": "city GIS import", "scopes": ["devices:read"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    key = created.json()
    secret = key["key"]
    assert secret.startswith("rwk_") and key["prefix"] == secret[:12]

    fetched = await client.get(f"/api/v1/api-keys/{key['id']}", headers=admin)
    assert "key" not in fetched.json()
    assert fetched.json()["last_used_at"] is None

    integration = {"X-API-Key": secret}
    assert (await client.get("/api/v1/devices", headers=integration)).status_code == 200
    write = await client.post("/api/v1/devices", json={"name": "x"}, headers=integration)
    assert write.status_code == 403
    assert (await client.get("/api/v1/users/me", headers=integration)).status_code == 403
    used = await client.get(f"/api/v1/api-keys/{key['id']}", headers=admin)
    assert used.json()["last_used_at"] is not None

    assert (await client.delete(f"/api/v1/api-keys/{key['id']}", headers=admin)).status_code == 204
    revoked = await client.get("/api/v1/devices", headers=integration)
    assert revoked.status_code == 401
    listed = await client.get("/api/v1/api-keys", headers=admin)
    assert key["id"] not in [k["id"] for k in listed.json()["items"]]
    assert (
        await client.get("/api/v1/devices", headers={"X-API-Key": "rwk_guess"})
    ).status_code == 401


async def test_api_keys_need_known_scopes_and_a_future_expiry(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    unknown = await client.post(
        "/api/v1/api-keys", json={"name": "k", "scopes": ["devices:fly"]}, headers=admin
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "scopes.0"
    past = await client.post(
        "/api/v1/api-keys",
        json={"name": "k", "scopes": ["devices:read"], "expires_at": "2020-01-01T00:00:00Z"},
        headers=admin,
    )
    assert past.status_code == 422
    assert past.json()["field"] == "expires_at"


async def test_swagger_authorize_uses_the_token_endpoint(running: RunningApp) -> None:
    spec = (await running.client.get("/openapi.json")).json()
    flows = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"


async def test_a_key_cannot_grant_more_than_its_maker_holds(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    maker = await client.post(
        "/api/v1/api-keys",
        json={"name": "provisioning robot", "scopes": ["api_keys:write", "devices:read"]},
        headers=admin,
    )
    robot = {"X-API-Key": maker.json()["key"]}
    stronger = await client.post(
        "/api/v1/api-keys", json={"name": "x", "scopes": ["platform:admin"]}, headers=robot
    )
    assert stronger.status_code == 403
    assert stronger.json()["field"] == "scopes"
    same = await client.post(
        "/api/v1/api-keys", json={"name": "y", "scopes": ["devices:read"]}, headers=robot
    )
    assert same.status_code == 201
