"""How the simulator delivers: nothing held back by the platform's write limit, and MQTT as well
as HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fixtures.backends import Backend
from tests.fixtures.server import free_port, roadwatch_process
from tests.fixtures.tokens import access_token
from tests.simulation.test_feeding_a_platform import START_MS, provisioning_key, simulate

pytestmark = pytest.mark.slow

MINUTE_MS = 60_000


def _count_series(client: httpx.Client, admin: dict[str, str], name: str) -> list[int]:
    device = client.get("/api/v1/devices", params={"q": name}, headers=admin).json()["items"][0]
    series = client.get(
        f"/api/v1/telemetry/{device['id']}/timeseries",
        params={"keys": "count", "startTs": START_MS, "endTs": START_MS + 3_600_000,
                "orderBy": "ASC"},
        headers=admin,
    ).json()  # fmt: skip
    return [p["ts"] for p in series.get("count", [])]


def test_a_strict_write_limit_does_not_hold_back_device_telemetry(
    embedded_backend: Backend, tmp_path: Path
) -> None:
    backend = embedded_backend
    admin = {"Authorization": f"Bearer {access_token(backend)}"}
    # a platform far stricter than the default: 15 writes per 2 s for one address; the
    # device API is not counted (a whole site of devices may share one address), so the
    # simulator, sending as fast as it can, is never throttled and loses nothing
    env = {
        **backend.env(),
        "ROADWATCH_RATE_LIMITS__WRITES__REQUESTS": "15",
        "ROADWATCH_RATE_LIMITS__WRITES__WINDOW_S": "2",
    }
    with (
        roadwatch_process(["serve"], env, tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        key = provisioning_key(client, admin)
        done = simulate(
            "--url", server.url, "--api-key", key, "--prefix", "slow", "--speed", "0",
            "--requests-per-minute", "0", "--start", "2026-11-20T06:00Z", "--duration", "5m",
            "--fault-rate", "0", cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "refused 0" in done.stdout
        assert "throttled 0," in done.stdout
        for name in ("slow-loop-N1-C", "slow-loop-S2-SE", "slow-loop-W2-W3"):
            assert _count_series(client, admin, name) == [
                START_MS + n * MINUTE_MS for n in range(1, 6)
            ]


def test_devices_can_send_over_mqtt(embedded_backend: Backend, tmp_path: Path) -> None:
    backend = embedded_backend
    admin = {"Authorization": f"Bearer {access_token(backend)}"}
    mqtt_port = free_port()
    env = {**backend.env(), "ROADWATCH_MQTT__PORT": str(mqtt_port)}
    with (
        roadwatch_process(["serve"], env, tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        key = provisioning_key(client, admin)
        done = simulate(
            "--url", server.url, "--api-key", key, "--prefix", "mq", "--speed", "0",
            "--transport", "mqtt", "--mqtt-port", str(mqtt_port),
            "--start", "2026-11-20T06:00Z", "--duration", "3m", "--fault-rate", "0",
            cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert _count_series(client, admin, "mq-loop-N1-C") == [
            START_MS + n * MINUTE_MS for n in range(1, 4)
        ]
