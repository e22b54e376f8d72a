"""`roadwatch migrate`: apply the migrations (the distributed shape runs it before serving)."""

from __future__ import annotations

import asyncio

import typer

from roadwatch.cli.common import fail, settings_or_exit
from roadwatch.config import ConfigError
from roadwatch.platform.bootstrap import check_database
from roadwatch.platform.migrations import downgrade, upgrade


def register(app: typer.Typer) -> None:
    @app.command()
    def migrate(
        revision: str = typer.Argument("head", help="target revision"),
        down: bool = typer.Option(False, "--down", help="downgrade to the revision instead"),
    ) -> None:
        """Bring the database schema to a revision (default: the newest)."""
        settings = settings_or_exit()
        url = settings.resolved_database_url
        try:
            asyncio.run(check_database(url))
        except ConfigError as exc:
            fail(str(exc))
        (downgrade if down else upgrade)(url, revision)
        typer.echo(f"database at {'revision ' + revision if down else revision}")
