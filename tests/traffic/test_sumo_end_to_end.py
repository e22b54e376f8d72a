"""End to end with Eclipse SUMO: `roadwatch simulate --engine sumo` feeds a running platform
through the device API; roadwatch computes every segment's state from the loops' readings,
detects the incident SUMO staged and publishes `traffic.incident.detected`; its per-segment
flow and speed agree with SUMO's own detector output (E1 file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from roadwatch.simulation.sumo.e1_output import read_e1
from roadwatch.simulation.sumo.network import read_network
from roadwatch.simulation.truth import read_truth
from tests.fixtures.backends import Backend
from tests.fixtures.server import roadwatch_process
from tests.fixtures.tokens import access_token

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# a weekday morning, busy but flowing; the engine's warm-up before it is silent
START = "2026-11-18T07:30:00+00:00"
WARMUP_S = 900
TRAFFIC = "/api/v1/traffic"
# roadwatch's segment flow (veh/h) is the station's count over the interval: it may differ
# from SUMO's by rounding only; speeds are means of means rounded to 0.1 km/h
FLOW_TOLERANCE_VPH = 1.0
SPEED_TOLERANCE_KMH = 0.5


def simulate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roadwatch", "simulate", "--engine", "sumo", *args],
        env={**os.environ, "ROADWATCH_LOG_JSON": "false"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=400,
    )


def eventually(check: Any, timeout_s: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(1.0)


def diagnosis(client: httpx.Client, admin: dict[str, str], incident: dict[str, Any]) -> str:
    """What roadwatch made of the run, for a failure message."""
    segment = incident["segment_id"]
    found = client.get(f"{TRAFFIC}/detections", params={"limit": 20}, headers=admin).json()
    detectors = client.get(f"{TRAFFIC}/detectors", params={"limit": 50}, headers=admin)
    states = client.get(
        f"{TRAFFIC}/segments/{segment}/state",
        params={"from": incident["start_ts"] - 300_000, "to": incident["end_ts"], "interval": 60},
        headers=admin,
    )
    return (
        f"no detection near {incident}\ndetections: {found}\ndetectors: "
        f"{detectors.status_code} {detectors.text[:600]}\nstate of {segment}: "
        f"{[(s['end_ts'], s['flow_vph'], s['occupancy_pct']) for s in states.json()]}"
    )


def test_sumo_feeds_roadwatch_which_detects_the_staged_incident_and_agrees_on_flow(
    embedded_backend: Backend, tmp_path: Path
) -> None:
    backend = embedded_backend
    # the run takes minutes: a token that outlives it
    admin = {"Authorization": f"Bearer {access_token(backend, ttl=timedelta(minutes=30))}"}
    sumo_dir = tmp_path / "sumo"
    with (
        roadwatch_process(["serve"], backend.env(), tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        made = client.post(
            "/api/v1/api-keys",
            json={"name": "sumo", "scopes": ["devices:read", "devices:write"]},
            headers=admin,
        )
        assert made.status_code == 201, made.text
        key = made.json()["key"]

        # the scenario's network, imported first: its stations wait for their devices
        exported = simulate(
            "--prefix", "e2e", "--sumo-dir", str(sumo_dir),
            "--export-network", str(tmp_path / "net.geojson"), cwd=tmp_path,
        )  # fmt: skip
        assert exported.returncode == 0, exported.stderr
        imported = client.post(
            f"{TRAFFIC}/network/import",
            content=(tmp_path / "net.geojson").read_bytes(),
            headers={**admin, "Content-Type": "application/geo+json"},
        )
        assert imported.status_code == 200, imported.text
        assert imported.json()["created"]["segments"] == 16

        run = simulate(
            "--url", server.url, "--api-key", key, "--prefix", "e2e", "--seed", "3",
            # replayed at 30x, every station's minute sent together as live detectors do
            # (as fast as possible, each device would send its whole run in one request,
            # station after station, and the state would close minutes without the others)
            "--start", START, "--duration", "35m", "--speed", "30",
            "--requests-per-minute", "0", "--patrols", "2", "--incidents", "1",
            "--truth", str(tmp_path / "truth.jsonl"), "--sumo-dir", str(sumo_dir),
            cwd=tmp_path,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert "refused 0" in run.stdout
        truth = read_truth(tmp_path / "truth.jsonl")
        incident = next(e for e in truth if e["event"] == "incident.started")
        net = read_network(next(sumo_dir.glob("*.net.xml")))
        segment = net.network.segments[incident["segment_id"]]
        # the stations either side of the spot: this segment's and the one before or after
        watched = {segment.id, *segment.upstream, *segment.downstream}

        def detections() -> list[dict[str, Any]]:
            found = client.get(
                f"{TRAFFIC}/detections", params={"limit": 100}, headers=admin
            ).json()["items"]
            return [d for d in found if d["segment_id"] in watched and d["confirmed_ts"]]

        detected = eventually(detections)
        if not detected:
            pytest.fail(diagnosis(client, admin, incident))
        confirmed = min(d["confirmed_ts"] for d in detected)
        assert incident["start_ts"] < confirmed <= incident["end_ts"] + 300_000

        def published() -> list[dict[str, Any]]:
            events = client.get(
                "/api/v1/audit/events",
                params={"type": "traffic.incident.detected", "limit": 50},
                headers=admin,
            ).json()["items"]
            return list(events)

        assert eventually(published), "traffic.incident.detected was not published"

        # flow and speed per segment and minute, against SUMO's own E1 file
        start_ms = int(datetime.fromisoformat(START).timestamp() * 1000)
        origin = start_ms // 1000 - WARMUP_S
        sumo = {
            (i.station.removeprefix("loop-"), i.end * 1000): i
            for i in read_e1(sumo_dir / "e1.xml", net.stations, origin)
        }
        compared = 0
        for seg_id in ("K1-K2", "K3-K4", "K6-K5"):
            history = client.get(
                f"{TRAFFIC}/segments/{seg_id}/state",
                params={"from": start_ms, "to": start_ms + 35 * 60_000, "interval": 60},
                headers=admin,
            )
            assert history.status_code == 200, history.text
            for state in history.json():
                own = sumo.get((seg_id, state["end_ts"]))
                if own is None or state["imputed"]:
                    continue
                compared += 1
                assert state["flow_vph"] == pytest.approx(own.flow_vph, abs=FLOW_TOLERANCE_VPH)
                if own.speed_kmh is not None and not state["speed_estimated"]:
                    assert state["speed_kmh"] == pytest.approx(
                        own.speed_kmh, abs=SPEED_TOLERANCE_KMH
                    )
        assert compared >= 60, json.dumps(history.json()[:2])
