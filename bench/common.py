"""What every benchmark shares: a scratch PostgreSQL database, a server process, results."""

from __future__ import annotations

import asyncio
import os
import platform as host
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from roadwatch.platform.auth.tokens import TokenCodec
from roadwatch.platform.migrations import upgrade

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
JWT_SECRET = "bench-secret-" + "x" * 40
RESULTS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
# url -> pid of each server() running, for benchmarks that read its memory
SERVER_PIDS: dict[str, int] = {}


def pg_url(name: str, driver: str = "postgresql+asyncpg") -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].split("://", 1)[1]
    return f"{driver}://{base}/{name}"


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A migrated PostgreSQL database of its own, dropped afterwards; yields its name."""
    name = f"rw_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        await asyncio.to_thread(upgrade, pg_url(name))
        yield name
    finally:
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(database: str, services: str, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """`roadwatch serve` on the database, as deployed (no auto-migrate); yields its URL."""
    port = free_port()
    var_dir = tempfile.mkdtemp(prefix="rw-bench-")
    env = {
        **os.environ,
        "ROADWATCH_DATABASE_URL": pg_url(database),
        "ROADWATCH_AUTH__JWT_SECRET": JWT_SECRET,
        "ROADWATCH_RATE_LIMITS__ENABLED": "false",
        "ROADWATCH_LOG_LEVEL": "WARNING",
        "ROADWATCH_VAR_DIR": var_dir,
        **(extra_env or {}),
    }
    log = open(Path(var_dir) / "server.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "roadwatch", "serve", "--services", services, "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    SERVER_PIDS[url] = process.pid
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(Path(var_dir, "server.log").read_text())
            try:
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("server did not become ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def admin_headers() -> dict[str, str]:
    token = TokenCodec("k1", JWT_SECRET).issue(
        "bench-admin", timedelta(hours=1), typ="access", role="administrator"
    )
    return {"Authorization": f"Bearer {token}"}


def machine() -> str:
    cores = os.cpu_count()
    return f"{host.machine()}, {cores} cores, Python {host.python_version()}"


def record(section: str, lines: list[str]) -> None:
    """Replace `## section` in docs/benchmarks.md with these lines (adding it if absent)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = [f"## {section}", "", f"Measured {stamp} on {machine()}.", "", *lines, ""]
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n\n"
    head, marker, rest = text.partition(f"## {section}\n")
    if marker:
        following = rest.find("\n## ")
        rest = rest[following + 1 :] if following >= 0 else ""
        text = head + "\n".join(block) + "\n" + rest
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(block) + "\n"
    RESULTS.write_text(text)
