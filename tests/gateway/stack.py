"""Real processes for gateway tests: a devices service on the distributed backend and a
gateway in front of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fixtures.backends import Backend
from tests.fixtures.server import ServerProcess, roadwatch_process


@contextmanager
def devices_service(
    backend: Backend, log_dir: Path, port: int | None = None
) -> Iterator[ServerProcess]:
    with roadwatch_process(
        ["serve", "--services", "devices"], backend.env(), log_dir / "devices.log", port
    ) as server:
        yield server


@contextmanager
def gateway(
    log_dir: Path,
    upstreams: dict[str, str] | None = None,
    ready_path: str = "/health/ready",
    **settings: str,
) -> Iterator[ServerProcess]:
    """A `roadwatch gateway` process; `settings` are ROADWATCH_GATEWAY__<NAME> values."""
    env = {"ROADWATCH_GATEWAY__UPSTREAMS": json.dumps(upstreams or {})}
    env |= {f"ROADWATCH_GATEWAY__{name.upper()}": value for name, value in settings.items()}
    with roadwatch_process(
        ["gateway"], env, log_dir / "gateway.log", ready_path=ready_path
    ) as server:
        yield server
