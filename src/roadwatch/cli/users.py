"""`roadwatch users ...`: account tasks for the operator, e.g. the first administrator."""

from __future__ import annotations

import asyncio
import sys

import typer

from roadwatch.cli.common import fail, settings_or_exit
from roadwatch.config import ConfigError, Settings
from roadwatch.identity import module as identity
from roadwatch.identity.schemas import UserCreate
from roadwatch.identity.service.users import UserService
from roadwatch.platform.auth import Role
from roadwatch.platform.bootstrap import build_platform, close_platform
from roadwatch.platform.errors import DomainError
from roadwatch.platform.logging import configure_logging

users = typer.Typer(no_args_is_help=True, help="Manage user accounts.")


async def _create_admin(settings: Settings, data: UserCreate) -> str:
    platform = await build_platform(settings, [identity])
    try:
        async with platform.db.session() as session:
            user = await UserService(platform, session, "system").create(data)
            return user.id
    finally:
        await close_platform(platform)


@users.command("create-admin")
def create_admin(
    email: str = typer.Option(..., "--email", help="the administrator's sign-in address"),
    full_name: str = typer.Option("", "--name", help="shown to colleagues"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from standard input (for scripts)"
    ),
) -> None:
    """Create an administrator account; asks for its password (never prints one)."""
    settings = settings_or_exit()
    configure_logging("CRITICAL", settings.log_json)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = UserCreate(
            email=email, password=password, role=Role.ADMINISTRATOR, full_name=full_name
        )
    except ValueError as exc:
        fail(f"--email: {str(exc).splitlines()[-1].strip()}")
    try:
        user_id = asyncio.run(_create_admin(settings, data))
    except ConfigError as exc:
        fail(str(exc))
    except DomainError as exc:
        fail(exc.detail)
    typer.echo(f"administrator {data.email} created (id {user_id})")


def register(app: typer.Typer) -> None:
    app.add_typer(users, name="users")
