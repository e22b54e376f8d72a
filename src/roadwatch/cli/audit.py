"""`roadwatch audit ...`: verify the hash chain, sign checkpoints, export, prune, rebuild."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import typer
from sqlalchemy import exc as sa_exc

from roadwatch.audit.chain import BadCheckpoint, check_checkpoint
from roadwatch.audit.repository import EventFilter
from roadwatch.audit.schemas import ExportFormat
from roadwatch.audit.service import AuditQueries, Integrity
from roadwatch.cli.common import fail, settings_or_exit
from roadwatch.config import Settings
from roadwatch.platform.db import Database, utcnow
from roadwatch.platform.errors import DomainError
from roadwatch.platform.logging import configure_logging
from roadwatch.platform.migrations import current_revision, head_revision
from roadwatch.platform.storage import create_object_store

audit = typer.Typer(no_args_is_help=True, help="The audit trail: verify, export, retention.")
T = TypeVar("T")


class Projection(StrEnum):
    DEVICE_BOARD = "device-board"


def _settings() -> Settings:
    settings = settings_or_exit()
    configure_logging("ERROR", settings.log_json)
    return settings


@asynccontextmanager
async def _integrity(settings: Settings) -> AsyncIterator[Integrity]:
    # the database and object store only: no bus, no consumers in this process
    db = Database(settings.resolved_database_url, pool_size=2)
    store = create_object_store(settings.resolved_object_store_url)
    try:
        found, wanted = await current_revision(db.engine), head_revision()
        if found != wanted:
            fail(
                f"ROADWATCH_DATABASE_URL: schema is at revision {found or 'none'}, this "
                f"release needs {wanted}; run `roadwatch migrate` first"
            )
        yield Integrity(db, store)
    finally:
        await store.close()
        await db.dispose()


def _run(settings: Settings, work: Callable[[Integrity], Awaitable[T]]) -> T:
    async def main() -> T:
        async with _integrity(settings) as integrity:
            return await work(integrity)

    try:
        return asyncio.run(main())
    except DomainError as exc:
        fail(exc.detail)
    except (OSError, sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        fail(f"ROADWATCH_DATABASE_URL: cannot use the database ({str(exc).splitlines()[0]})")


def _key(settings: Settings) -> str:
    if not settings.audit.checkpoint_key:
        fail("ROADWATCH_AUDIT__CHECKPOINT_KEY: required to sign or check checkpoints")
    return settings.audit.checkpoint_key


@audit.command()
def verify(
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="a signed checkpoint file: the chain must still hold it"
    ),
    archives: bool = typer.Option(
        False, "--archives", help="also fetch and walk the archived segments"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Walk the hash chain; exit 1 and name the first broken link if there is one."""
    settings = _settings()
    anchor = None
    if checkpoint is not None:
        try:
            anchor = check_checkpoint(_key(settings), json.loads(checkpoint.read_text()))
        except (OSError, ValueError) as exc:
            fail(f"--checkpoint: {exc}")
        except BadCheckpoint as exc:
            fail(f"--checkpoint: {exc}")
    report = _run(settings, lambda i: i.verify(anchor, archives=archives))
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
    elif report.broken is None:
        typer.echo(
            f"ok: {report.checked} events checked"
            + (f" (+{report.archived_checked} archived)" if archives else "")
            + f"; head is event {report.head_seq} {report.head_hash}"
        )
    else:
        typer.echo(
            f"BROKEN at event {report.broken.seq}: {report.broken.reason} "
            f"({report.checked} events before it are intact)"
        )
    if report.broken is not None:
        raise typer.Exit(code=1)


@audit.command()
def checkpoint(
    out: Path | None = typer.Option(None, "--out", help="write it here instead of stdout"),
) -> None:
    """Sign the chain's head now; keep the file where the database's admins cannot reach."""
    settings = _settings()
    key = _key(settings)
    signed = _run(settings, lambda i: i.checkpoint(key))
    text = json.dumps(signed, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        typer.echo(f"checkpoint of event {signed['seq']} written to {out}")


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: not an ISO 8601 time: {value!r}")
    if parsed.tzinfo is None:
        fail(f"{option}: give a time zone, e.g. {value}Z or {value}+00:00")
    return parsed


@audit.command()
def export(
    format: ExportFormat = typer.Option(ExportFormat.JSONL, "--format", help="jsonl or csv"),
    out: Path | None = typer.Option(None, "--out", help="write here instead of stdout"),
    entity_type: str | None = typer.Option(None, "--entity-type"),
    entity_id: str | None = typer.Option(None, "--entity-id"),
    actor: str | None = typer.Option(None, "--actor", help="user:<id>, device:<id>, system…"),
    type: str | None = typer.Option(None, "--type", help="event type"),
    source: str | None = typer.Option(None, "--source", help="publishing service"),
    correlation_id: str | None = typer.Option(None, "--correlation-id"),
    since: str | None = typer.Option(None, "--from", help="occurred at or after (ISO 8601)"),
    until: str | None = typer.Option(None, "--to", help="occurred at or before (ISO 8601)"),
) -> None:
    """Export matching events in chain order as JSON lines or CSV."""
    settings = _settings()
    f = EventFilter(
        entity_type,
        entity_id,
        actor,
        type,
        source,
        correlation_id,
        _when(since, "--from"),
        _when(until, "--to"),
    )

    async def work(integrity: Integrity) -> int:
        count = 0
        sink = out.open("wb") if out is not None else sys.stdout.buffer
        try:
            async with integrity.db.read_session() as session:
                async for chunk in AuditQueries(session).export(f, format):
                    sink.write(chunk)
                    count += 1
        finally:
            if out is not None:
                sink.close()
            else:
                sink.flush()
        return count

    written = _run(settings, work)
    if out is not None:
        lines = written - 1 if format is ExportFormat.CSV else written
        typer.echo(f"{lines} events written to {out}", err=True)


@audit.command()
def prune(
    older_than_days: int | None = typer.Option(
        None, "--older-than-days", min=1, help="default: ROADWATCH_AUDIT__RETENTION_DAYS"
    ),
    before: str | None = typer.Option(
        None, "--before", help="instead of a number of days: recorded before this ISO 8601 time"
    ),
) -> None:
    """Archive events older than the retention period to the object store, then delete them
    from the database. The chain stays verifiable (`verify --archives` walks the archives)."""
    settings = _settings()
    cutoff = _when(before, "--before")
    if cutoff is None:
        days = older_than_days or settings.audit.retention_days
        if not days:
            fail(
                "--older-than-days: give a number of days, or --before, "
                "or set ROADWATCH_AUDIT__RETENTION_DAYS"
            )
        cutoff = utcnow() - timedelta(days=days)
    elif older_than_days is not None:
        fail("--before: give either --before or --older-than-days, not both")
    when = cutoff
    try:
        segments = _run(settings, lambda i: i.prune(when))
    except ValueError as exc:
        fail(str(exc))
    if not segments:
        typer.echo(f"nothing recorded before {when.isoformat()} is left to archive")
    for s in segments:
        typer.echo(f"archived events {s.first_seq}..{s.last_seq} to {s.object_key}, pruned")


@audit.command()
def rebuild(
    projection: Projection = typer.Argument(..., help="the read model to rebuild"),
) -> None:
    """Replay the event store (archives included) to rebuild a read model from scratch."""
    settings = _settings()
    rows = _run(settings, lambda i: i.rebuild_board())
    typer.echo(f"{projection.value} rebuilt from the event store: {rows} devices")


def register(app: typer.Typer) -> None:
    app.add_typer(audit, name="audit")
