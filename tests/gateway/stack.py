"""Real processes for gateway tests (a devices service on the distributed backend and a
gateway in front of it), and the shape of the problems they answer with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.fixtures.backends import Backend
from tests.fixtures.server import ServerProcess, free_port, roadwatch_process

PROBLEM_JSON = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["type"] == f"https://roadwatch.dev/problems/{kind}"
    return body


@contextmanager
def service(
    name: str, backend: Backend, log_dir: Path, port: int | None = None
) -> Iterator[ServerProcess]:
    """`roadwatch serve --services <name>` on the distributed backend."""
    with roadwatch_process(
        ["serve", "--services", name], backend.env(), log_dir / f"{name}.log", port
    ) as server:
        yield server


@contextmanager
def devices_service(
    backend: Backend, log_dir: Path, port: int | None = None
) -> Iterator[ServerProcess]:
    with service("devices", backend, log_dir, port) as server:
        yield server


def gateway_env(backend: Backend, **overrides: str) -> dict[str, str]:
    """What the gateway shares with the services of `backend`: the JWT secret it verifies
    tokens with, and the cache (URL and namespace) holding the revocation list."""
    env = backend.env()
    shared = {
        name: env[name]
        for name in (
            "ROADWATCH_AUTH__JWT_SECRET",
            "ROADWATCH_CACHE_URL",
            "ROADWATCH_BUS_QUEUE_PREFIX",
        )
    }
    return shared | overrides


@contextmanager
def gateway(
    log_dir: Path,
    backend: Backend,
    upstreams: dict[str, str] | None = None,
    ready_path: str = "/health/ready",
    env: dict[str, str] | None = None,
    **settings: str,
) -> Iterator[ServerProcess]:
    """A `roadwatch gateway` process in front of `backend`'s services; `settings` are
    ROADWATCH_GATEWAY__<NAME> values, `env` overrides anything else."""
    full_env = gateway_env(backend, **(env or {}))
    full_env["ROADWATCH_GATEWAY__UPSTREAMS"] = json.dumps(upstreams or {})
    full_env |= {f"ROADWATCH_GATEWAY__{name.upper()}": value for name, value in settings.items()}
    with roadwatch_process(
        ["gateway"], full_env, log_dir / "gateway.log", ready_path=ready_path
    ) as server:
        yield server


def run_gateway(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`roadwatch gateway` run to its end, for start-up failures."""
    return subprocess.run(
        [sys.executable, "-m", "roadwatch", "gateway", "--port", str(free_port())],
        env={**os.environ, "ROADWATCH_LOG_JSON": "true", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
