"""`roadwatch simulate` against a real server: devices registered through the public API,
readings stored with the simulated timestamps, readable through the query API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from roadwatch.simulation.truth import read_truth
from tests.fixtures.backends import Backend
from tests.fixtures.server import roadwatch_process
from tests.fixtures.tokens import access_token

pytestmark = pytest.mark.slow

START = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
START_MS = int(START.timestamp() * 1000)
MINUTE_MS = 60_000


def simulate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roadwatch", "simulate", *args],
        env={**os.environ, "ROADWATCH_LOG_JSON": "false"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


def provisioning_key(client: httpx.Client, admin: dict[str, str]) -> str:
    made = client.post(
        "/api/v1/api-keys",
        json={"name": "simulator", "scopes": ["devices:read", "devices:write"]},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    key: str = made.json()["key"]
    return key


def test_a_sped_up_back_dated_morning_arrives_with_its_own_timestamps(
    embedded_backend: Backend, tmp_path: Path
) -> None:
    backend = embedded_backend
    admin = {"Authorization": f"Bearer {access_token(backend)}"}
    with (
        roadwatch_process(["serve"], backend.env(), tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        key = provisioning_key(client, admin)
        common = ["--url", server.url, "--api-key", key, "--prefix", "e2e", "--speed", "0"]
        common += ["--incident-rate", "0", "--fault-rate", "0", "--seed", "5"]
        truth = tmp_path / "truth.jsonl"
        state = tmp_path / "devices.json"
        first = simulate(
            *common, "--start", "2026-11-20T06:00Z", "--duration", "10m",
            "--truth", str(truth), "--state", str(state), cwd=tmp_path,
        )  # fmt: skip
        assert first.returncode == 0, first.stderr
        assert "44 created" in first.stderr
        assert "refused 0" in first.stdout

        devices = client.get("/api/v1/devices", params={"q": "e2e-", "limit": 100}, headers=admin)
        items = {d["name"]: d for d in devices.json()["items"]}
        assert devices.json()["total"] == 44
        assert sum(d["type"] == "induction_loop" for d in items.values()) == 40
        assert sum(d["type"] == "patrol_gps" for d in items.values()) == 4
        loop = items["e2e-loop-N1-C"]
        assert loop["extra"]["segment_id"] == "N1-C"
        assert loop["extra"]["measures"] == ["count", "occupancy", "speed"]
        assert loop["location"] is not None

        # ten one-minute readings, stamped 06:01 .. 06:10 of the simulated morning
        series = client.get(
            f"/api/v1/telemetry/{loop['id']}/timeseries",
            params={"keys": "count,occupancy,speed", "startTs": START_MS - 3_600_000,
                    "endTs": START_MS + 3_600_000, "orderBy": "ASC"},
            headers=admin,
        ).json()  # fmt: skip
        assert [p["ts"] for p in series["count"]] == [
            START_MS + n * MINUTE_MS for n in range(1, 11)
        ]
        assert all(p["value"] > 0 for p in series["count"])
        assert all(0 < p["value"] <= 100 for p in series["occupancy"])
        assert all(10 < p["value"] < 70 for p in series["speed"])

        patrol = items["e2e-patrol-1"]
        latest = client.get(f"/api/v1/telemetry/{patrol['id']}/latest", headers=admin).json()
        assert set(latest) == {"latitude", "longitude", "speed", "heading"}
        assert latest["latitude"]["ts"] == START_MS + 10 * MINUTE_MS
        assert 47.9 < latest["latitude"]["value"] < 48.1
        fixes = client.get(
            f"/api/v1/telemetry/{patrol['id']}/timeseries",
            params={"keys": "latitude", "startTs": START_MS, "endTs": START_MS + 3_600_000,
                    "limit": 1000},
            headers=admin,
        ).json()  # fmt: skip
        assert len(fixes["latitude"]) == 60

        events = read_truth(truth)
        assert events[0]["event"] == "run.started"
        assert events[0]["start"] == START.timestamp()
        assert events[0]["devices"]["loop-N1-C"] == "e2e-loop-N1-C"

        # a second run reuses the devices and their remembered tokens, and goes on later
        second = simulate(
            *common, "--start", "2026-11-20T07:00Z", "--duration", "2m",
            "--state", str(state), cwd=tmp_path,
        )  # fmt: skip
        assert second.returncode == 0, second.stderr
        assert "0 created, 44 reused" in second.stderr
        again = client.get("/api/v1/devices", params={"q": "e2e-"}, headers=admin).json()
        assert again["total"] == 44
        latest = client.get(f"/api/v1/telemetry/{loop['id']}/latest", headers=admin).json()
        assert latest["count"]["ts"] == START_MS + 62 * MINUTE_MS


def test_the_network_exports_as_geojson(tmp_path: Path) -> None:
    out = tmp_path / "city.geojson"
    done = simulate("--export-network", str(out), "--prefix", "demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    city = json.loads(out.read_text())
    segments = [f for f in city["features"] if f["properties"]["kind"] == "segment"]
    detectors = [f for f in city["features"] if f["properties"]["kind"] == "detector"]
    assert len(segments) == 40 and len(detectors) == 40
    ids = {f["properties"]["segment_id"] for f in segments}
    for feature in segments:
        props = feature["properties"]
        assert feature["geometry"]["type"] == "LineString"
        assert len(feature["geometry"]["coordinates"]) >= 2
        assert set(props["downstream"]) <= ids and set(props["upstream"]) <= ids
        assert props["lanes"] >= 1 and props["speed_limit_kmh"] > 0 and props["length_m"] > 0
    assert {f["properties"]["device_name"] for f in detectors} == {f"demo-loop-{s}" for s in ids}


def test_a_start_in_the_future_or_a_bad_duration_is_one_line(tmp_path: Path) -> None:
    future = simulate("--start", "2099-01-01T00:00Z", "--api-key", "x", cwd=tmp_path)
    assert future.returncode == 2
    assert future.stderr == "roadwatch: --start: the city cannot report from the future\n"
    bad = simulate("--duration", "soon", "--api-key", "x", cwd=tmp_path)
    assert bad.returncode == 2
    assert "is not a duration" in bad.stderr
