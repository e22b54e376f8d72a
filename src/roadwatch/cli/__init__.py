"""The `roadwatch` command."""

from __future__ import annotations

import typer

from roadwatch.cli import analytics, audit, db, gateway, serve, simulate, users, version

app = typer.Typer(no_args_is_help=True, add_completion=False, help="roadwatch traffic platform")
serve.register(app)
gateway.register(app)
db.register(app)
users.register(app)
simulate.register(app)
audit.register(app)
version.register(app)
analytics.register(app)


def main() -> None:
    app()
