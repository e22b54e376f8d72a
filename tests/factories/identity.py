"""Accounts and logins made through the identity API, for tests of any service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from roadwatch.platform.auth import Role

PASSWORD = "a-long-enough-test-passphrase"


@dataclass
class Account:
    id: str
    email: str
    password: str
    role: Role
    body: dict[str, Any]


def new_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@city.example"


async def create_user(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    role: Role,
    email: str | None = None,
    password: str = PASSWORD,
    **profile: Any,
) -> Account:
    """A staff (or citizen) account made by an administrator."""
    email = email or new_email(role.value)
    response = await client.post(
        "/api/v1/users",
        json={"email": email, "password": password, "role": role.value, **profile},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(body["id"], email, password, role, body)


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/token", data={"username": email, "password": password})


async def tokens_for(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    response = await login(client, account.email, account.password)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


async def register(
    client: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD
) -> httpx.Response:
    """A citizen's self sign-up, answered as it comes (the caller checks the status)."""
    return await client.post(
        "/api/v1/users/register",
        json={"email": email or new_email("citizen"), "password": password},
    )


def problem_apart_from_request(response: httpx.Response) -> dict[str, Any]:
    """A problem+json body without what names the request itself, so two answers compare."""
    body: dict[str, Any] = response.json()
    return {k: v for k, v in body.items() if k not in ("correlation_id", "instance")}
