from __future__ import annotations

import typer

from roadwatch import __version__


def register(app: typer.Typer) -> None:
    @app.command()
    def version() -> None:
        """Print the roadwatch version."""
        typer.echo(__version__)
