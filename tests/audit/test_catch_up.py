"""With the audit consumer stopped while the other services keep working, nothing is lost:
its RabbitMQ queue keeps every event, and the store catches up when it starts again."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from roadwatch.platform.auth import Role
from tests.factories import identity as accounts
from tests.factories.audit import (
    AUDIT,
    audit_state,
    comparable_device,
    device_now,
    until_recorded,
    user_now,
)
from tests.fixtures.app import run_app
from tests.fixtures.backends import Backend
from tests.support.cli import roadwatch
from tests.support.waiting import eventually


async def test_events_made_while_the_audit_consumer_is_stopped_are_recorded_when_it_returns(
    distributed_backend: Backend,
) -> None:
    backend = distributed_backend
    settings = backend.settings(rate_limits={"enabled": False})
    async with run_app(settings) as everything:
        # the audit consumer has run once: its durable queue is bound to every event
        admin = everything.as_role(Role.ADMINISTRATOR)
        first = await accounts.create_user(everything.client, admin, Role.ANALYST)
        await until_recorded(
            everything.client, everything.as_role(Role.AUDITOR), 1, entity_id=first.id
        )

    services = ["identity", "devices", "telemetry"]
    async with run_app(settings, services) as without_audit:
        client, admin = without_audit.client, without_audit.as_role(Role.ADMINISTRATOR)
        assert (await client.get(f"{AUDIT}/events", headers=admin)).status_code == 404
        users, devices = [], []
        for n in range(5):
            account = await accounts.create_user(client, admin, Role.PATROL_OFFICER)
            changed = await client.patch(
                f"/api/v1/users/{account.id}", json={"unit": f"P-{n}"}, headers=admin
            )
            assert changed.status_code == 200, changed.text
            users.append(account.id)
            made = await client.post(
                "/api/v1/devices", json={"name": f"cam-{uuid.uuid4().hex[:8]}"}, headers=admin
            )
            assert made.status_code == 201, made.text
            device = made.json()["id"]
            renamed = await client.patch(
                f"/api/v1/devices/{device}", json={"label": f"gantry {n}"}, headers=admin
            )
            assert renamed.status_code == 200, renamed.text
            devices.append(device)
        await client.delete(f"/api/v1/devices/{devices[0]}", headers=admin)
        expected = {("user", u): await user_now(client, admin, u) for u in users}
        expected |= {("device", d): await device_now(client, admin, d) for d in devices}

        async def all_published() -> bool:
            return await without_audit.platform.relay.pending() == 0

        await eventually(all_published)

    async with run_app(settings, ["audit"]) as audit_only:
        client, auditor = audit_only.client, audit_only.as_role(Role.AUDITOR)

        async def rebuilt() -> dict[tuple[str, str], object]:
            found: dict[tuple[str, str], object] = {}
            for kind, entity in expected:
                state = await audit_state(client, auditor, kind, entity)
                found[kind, entity] = comparable_device(state) if kind == "device" else state
            return found

        async def caught_up() -> bool:
            return await rebuilt() == expected

        await eventually(caught_up, timeout_s=30)

    # every event any service published is in the store, once
    engine = create_async_engine(backend.database_url)
    try:
        async with engine.connect() as db:
            published = set(await db.scalars(text("SELECT event_id FROM platform_outbox")))
            stored = list(await db.scalars(text("SELECT event_id FROM audit_event")))
    finally:
        await engine.dispose()
    assert published <= set(stored)
    assert len(stored) == len(set(stored))
    checked = roadwatch("audit", "verify", env=backend.env())
    assert checked.returncode == 0, checked.stdout + checked.stderr
