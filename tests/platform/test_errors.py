"""How the platform answers errors that no service handled itself."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc

from roadwatch.platform.errors import install_error_handlers


async def test_a_constraint_refusing_a_racing_write_is_409_not_500() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    async def create() -> None:
        # what a commit raises when another request took the name a moment before
        raise sa_exc.IntegrityError("INSERT …", {}, Exception("duplicate key value"))

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.post("/things")
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"] == "https://roadwatch.dev/problems/conflict"
    assert "retry" in body["detail"]
