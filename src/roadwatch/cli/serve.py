"""`roadwatch serve`: every service in one process (the default) or a chosen subset."""

from __future__ import annotations

import asyncio

import typer
import uvicorn

from roadwatch.cli.common import fail, settings_or_exit
from roadwatch.cli.demo import ensure_demo_key, serve_with_demo
from roadwatch.config import ConfigError, Settings
from roadwatch.modules import UnknownService, select
from roadwatch.platform.bootstrap import build_platform, close_platform
from roadwatch.platform.heap import settle_heap
from roadwatch.platform.logging import configure_logging


async def _preflight(settings: Settings, services: list[str] | None) -> None:
    # Reach every dependency once before uvicorn starts, so a bad setting is one line.
    platform = await build_platform(settings, select(services))
    await close_platform(platform)


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        services: str = typer.Option(
            "", "--services", help="comma-separated services to run (default: all)"
        ),
        host: str | None = typer.Option(None, "--host", help="ROADWATCH_HOST"),
        port: int | None = typer.Option(None, "--port", help="ROADWATCH_PORT"),
        demo: bool = typer.Option(
            False,
            "--demo/--no-demo",
            help="also stream the demo city into it (embedded shape; what ./run.sh does)",
        ),
    ) -> None:
        """Run the platform: all services in one process unless --services names some."""
        settings = settings_or_exit(host=host, port=port)
        # quiet while checking, so a failure is the only line printed
        configure_logging("CRITICAL", settings.log_json)
        chosen = [s.strip() for s in services.split(",") if s.strip()] or None
        if demo and (chosen or not settings.embedded):
            # ./run.sh asks for the demo; a distributed setting or a subset of services is a
            # deliberate choice that should still start, just without the guest
            typer.echo(
                "roadwatch: no demo city: it runs with every service on the embedded shape "
                "(point `roadwatch simulate` at other set-ups)",
                err=True,
            )
            demo = False
        try:
            asyncio.run(_preflight(settings, chosen))
            demo_key = asyncio.run(ensure_demo_key(settings)) if demo else None
        except (ConfigError, UnknownService) as exc:
            fail(str(exc))
        configure_logging(settings.log_level, settings.log_json)
        from roadwatch.app import create_app

        app = create_app(settings, chosen)
        settle_heap()
        if demo_key is not None:
            asyncio.run(serve_with_demo(app, settings, demo_key))
            return
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            proxy_headers=True,
        )
