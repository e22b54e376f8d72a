"""`roadwatch gateway`: the entry point of the distributed shape, routing to the services."""

from __future__ import annotations

import asyncio

import typer
import uvicorn

from roadwatch.cli.common import fail, settings_or_exit
from roadwatch.config import ConfigError
from roadwatch.platform.logging import configure_logging


def register(app: typer.Typer) -> None:
    @app.command()
    def gateway(
        host: str | None = typer.Option(None, "--host", help="ROADWATCH_HOST"),
        port: int | None = typer.Option(None, "--port", help="ROADWATCH_PORT"),
    ) -> None:
        """Route requests by URL prefix to the upstreams in ROADWATCH_GATEWAY__UPSTREAMS."""
        settings = settings_or_exit(host=host, port=port)
        # quiet while checking, so a failure is the only line printed
        configure_logging("CRITICAL", settings.log_json)
        from roadwatch.gateway import create_gateway_app, require_cache

        try:
            gateway_app = create_gateway_app(settings)
            # the revocation list lives there: without it no bearer token can be checked
            asyncio.run(require_cache(settings))
        except ConfigError as exc:
            fail(str(exc))
        configure_logging(settings.log_level, settings.log_json)
        uvicorn.run(
            gateway_app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            # the gateway appends the peer it sees to X-Forwarded-For itself, so uvicorn
            # must leave the peer address as the real TCP peer
            proxy_headers=False,
        )
