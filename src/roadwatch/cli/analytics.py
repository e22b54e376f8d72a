"""`roadwatch analytics ...`: operator tasks of the analytics service."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import typer

from roadwatch.analytics.service.rebuild import Rebuilt, rebuild
from roadwatch.cli.common import fail, settings_or_exit
from roadwatch.config import Settings
from roadwatch.platform.db import Database
from roadwatch.platform.logging import configure_logging

analytics = typer.Typer(no_args_is_help=True, help="Rollups and anomaly rules.")


def parse_time(value: str, option: str) -> int:
    """Milliseconds since 1970, from an ISO 8601 time (UTC unless it says) or from ms."""
    if value.isdigit():
        return int(value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is neither an ISO 8601 time nor milliseconds since 1970")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


async def _rebuild(settings: Settings, start: int, end: int, devices: list[str]) -> Rebuilt:
    db = Database(settings.database_url)
    try:
        return await rebuild(db, start, end, devices or None)
    finally:
        await db.dispose()


@analytics.command("rebuild")
def rebuild_command(
    start: str = typer.Option(..., "--from", help="ISO 8601 time or ms; rounded down to the hour"),
    end: str = typer.Option(..., "--to", help="ISO 8601 time or ms; rounded up to the hour"),
    device: list[str] = typer.Option(
        [], "--device", help="only this device (repeatable); all devices with points otherwise"
    ),
) -> None:
    """Recompute the 1m, 5m and 1h rollups of [--from, --to) from the stored points."""
    settings = settings_or_exit()
    configure_logging("WARNING", settings.log_json)
    start_ts, end_ts = parse_time(start, "--from"), parse_time(end, "--to")
    if end_ts <= start_ts:
        fail("--to: must be after --from")
    done = asyncio.run(_rebuild(settings, start_ts, end_ts, device))
    typer.echo(
        f"rebuilt rollups of {done.devices} device(s) from {done.points} point(s) in "
        f"[{done.start_ts}, {done.end_ts})"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(analytics, name="analytics")
