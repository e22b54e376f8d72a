"""Tamper evidence: `roadwatch audit verify` finds an edited or deleted event, a signed
checkpoint finds a chain rewritten from scratch, PostgreSQL refuses edits outright, and
archived segments keep the chain verifiable after pruning."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from roadwatch.audit.chain import GENESIS, link_hash
from roadwatch.platform.auth import Role
from tests.factories import devices
from tests.factories import identity as accounts
from tests.factories.audit import AUDIT, events, until_recorded
from tests.fixtures.app import RunningApp
from tests.fixtures.backends import Backend
from tests.support.cli import roadwatch

KEY = "checkpoint-key-kept-by-the-auditors"


def cli_env(backend: Backend) -> dict[str, str]:
    return {**backend.env(), "ROADWATCH_AUDIT__CHECKPOINT_KEY": KEY}


@asynccontextmanager
async def behind_the_app(backend: Backend) -> AsyncIterator[AsyncConnection]:
    """A connection straight to the database, as someone with its password would have; on
    PostgreSQL with triggers off (a superuser's `session_replication_role = replica`), so an
    edit gets as far as the chain itself."""
    engine = create_async_engine(backend.database_url)
    try:
        async with engine.begin() as connection:
            if backend.profile == "distributed":
                await connection.execute(text("SET session_replication_role = replica"))
            yield connection
    finally:
        await engine.dispose()


async def some_history(running: RunningApp, auditor: dict[str, str]) -> list[dict[str, object]]:
    admin = running.as_role(Role.ADMINISTRATOR)
    await accounts.create_user(running.client, admin, Role.ANALYST)
    device = await devices.create_device(running.client, admin)
    for n in range(3):
        changed = await running.client.patch(
            f"/api/v1/devices/{device['id']}", json={"label": f"km {n}"}, headers=admin
        )
        assert changed.status_code == 200, changed.text
    return await until_recorded(running.client, auditor, 5, entity_id=device["id"])


def verify(backend: Backend, *args: str) -> tuple[int, str]:
    done = roadwatch("audit", "verify", *args, env=cli_env(backend))
    assert not done.stderr or done.returncode, done.stderr
    return done.returncode, done.stdout + done.stderr


async def test_an_edited_or_deleted_event_is_found_by_verify(
    backend: Backend, audited: RunningApp, auditor: dict[str, str]
) -> None:
    recorded = await some_history(audited, auditor)
    code, said = verify(backend)
    assert code == 0, said
    assert said.startswith("ok: ")

    edited, deleted = recorded[2]["seq"], recorded[3]["seq"]
    async with behind_the_app(backend) as db:
        original = await db.scalar(
            text("SELECT payload FROM audit_event WHERE seq = :s"), {"s": edited}
        )
        await db.execute(
            text("UPDATE audit_event SET payload = :p WHERE seq = :s"),
            {"p": original.replace("km 0", "km 9"), "s": edited},
        )
        await db.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": deleted})
    code, said = verify(backend)
    assert code == 1
    assert f"BROKEN at event {edited}: content does not match its hash (edited)" in said

    # put the edit back: the deletion further on is what is broken now
    async with behind_the_app(backend) as db:
        await db.execute(
            text("UPDATE audit_event SET payload = :p WHERE seq = :s"),
            {"p": original, "s": edited},
        )
    code, said = verify(backend, "--json")
    assert code == 1
    report = json.loads(said)
    assert report["ok"] is False
    assert report["first_broken"] == {"seq": deleted, "reason": f"event(s) {deleted} missing"}
    assert report["checked"] == deleted - 1


async def test_removing_the_newest_events_is_found_against_the_chain_head(
    backend: Backend, audited: RunningApp, auditor: dict[str, str]
) -> None:
    await some_history(audited, auditor)
    async with behind_the_app(backend) as db:
        last = await db.scalar(text("SELECT max(seq) FROM audit_event"))
        await db.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": last})
    code, said = verify(backend)
    assert code == 1
    assert f"the chain ends at event {last - 1} but its head is event {last}" in said


async def test_a_signed_checkpoint_exposes_a_chain_rewritten_from_scratch(
    backend: Backend, audited: RunningApp, auditor: dict[str, str], tmp_path: Path
) -> None:
    recorded = await some_history(audited, auditor)
    saved = tmp_path / "checkpoint.json"
    made = roadwatch("audit", "checkpoint", "--out", str(saved), env=cli_env(backend))
    assert made.returncode == 0, made.stderr
    checkpoint = json.loads(saved.read_text())
    assert checkpoint["seq"] >= recorded[-1]["seq"]
    assert verify(backend, "--checkpoint", str(saved))[0] == 0

    # someone with the database rewrites an event and recomputes every hash after it, and
    # the head: the chain alone looks intact again
    target = recorded[2]["seq"]
    async with behind_the_app(backend) as db:
        rows = (await db.execute(text("SELECT * FROM audit_event ORDER BY seq"))).mappings().all()
        prev = GENESIS
        for row in rows:
            link = SimpleNamespace(**row)
            for stamp in ("occurred_at", "recorded_at"):
                value = getattr(link, stamp)
                if isinstance(value, str):  # SQLite hands back text
                    value = datetime.fromisoformat(value)
                setattr(link, stamp, value if value.tzinfo else value.replace(tzinfo=UTC))
            if link.seq == target:
                link.payload = link.payload.replace("km", "mile")
            link.prev_hash = prev
            link.hash = link_hash(prev, link)
            await db.execute(
                text("UPDATE audit_event SET payload=:p, prev_hash=:ph, hash=:h WHERE seq=:s"),
                {"p": link.payload, "ph": link.prev_hash, "h": link.hash, "s": link.seq},
            )
            prev = link.hash
        await db.execute(
            text("UPDATE audit_chain_head SET hash = :h, seq = :s"), {"h": prev, "s": rows[-1].seq}
        )
    assert verify(backend)[0] == 0
    code, said = verify(backend, "--checkpoint", str(saved))
    assert code == 1
    assert "differs from the checkpoint: the chain was rewritten" in said

    forged = {**checkpoint, "hash": "f" * 64}
    saved.write_text(json.dumps(forged))
    code, said = verify(backend, "--checkpoint", str(saved))
    assert code == 2
    assert "signature is not valid" in said


async def test_the_application_role_cannot_edit_or_delete_events_on_postgresql(
    distributed_backend: Backend,
) -> None:
    from tests.fixtures.app import run_app

    backend = distributed_backend
    async with run_app(backend.settings()) as running:
        auditor = running.as_role(Role.AUDITOR)
        await some_history(running, auditor)
    # the role and password the application itself connects with
    engine = create_async_engine(backend.database_url)
    try:
        for statement in (
            "UPDATE audit_event SET actor = 'system' WHERE seq = 1",
            "DELETE FROM audit_event WHERE seq = 1",
            "DELETE FROM audit_event",
            "TRUNCATE audit_event",
            "TRUNCATE audit_event CASCADE",
        ):
            async with engine.begin() as connection:
                with pytest.raises(DBAPIError, match="append-only"):
                    await connection.execute(text(statement))
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM audit_event")) >= 6
    finally:
        await engine.dispose()


async def test_pruned_events_are_archived_and_the_chain_still_verifies(
    backend: Backend, audited: RunningApp, auditor: dict[str, str]
) -> None:
    recorded = await some_history(audited, auditor)
    cutoff = datetime.now(UTC).isoformat()
    pruned = roadwatch("audit", "prune", "--before", cutoff, env=cli_env(backend))
    assert pruned.returncode == 0, pruned.stderr
    assert "archived events 1.." in pruned.stdout

    left = await events(audited.client, auditor, entity_id=recorded[0]["entity_id"])
    assert left == []
    head = (await audited.client.get(f"{AUDIT}/chain", headers=auditor)).json()
    assert head["archived_through"] >= recorded[-1]["seq"]

    # new events link on to the archived ones
    await accounts.create_user(audited.client, audited.as_role(Role.ADMINISTRATOR), Role.EDITOR)
    await until_recorded(audited.client, auditor, 1, type="identity.user.created")
    code, said = verify(backend, "--archives")
    assert code == 0, said
    assert "archived)" in said

    [archive] = list((backend.var_dir / "objects" / "audit" / "segments").iterdir())
    archive.write_text(archive.read_text().replace("km 1", "km 7"))
    code, said = verify(backend, "--archives")
    assert code == 1
    assert "does not match its recorded SHA-256" in said
    # without the archives, the events still in the database verify on their own
    assert verify(backend)[0] == 0
