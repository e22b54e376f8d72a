"""What every command shares: loading settings and turning a ConfigError into one line."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from roadwatch.config import ConfigError, Settings, load_settings


def fail(message: str) -> NoReturn:
    typer.echo(f"roadwatch: {message}", err=True)
    raise typer.Exit(code=2)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        fail(str(exc))


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()
