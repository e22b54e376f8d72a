"""`roadwatch serve --demo` (what ./run.sh starts): the demo city registers itself with a key
that may only provision devices and hand over its road network, streams live, its segments,
placed detectors and patrol units are in the traffic service, and after a restart it
carries on with the same devices."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.backends import Backend
from tests.fixtures.server import roadwatch_process
from tests.fixtures.tokens import access_token
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


async def _demo_devices(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    answer = await client.get("/api/v1/devices", params={"q": "demo-", "limit": 100}, headers=admin)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


async def _latest_ts(client: httpx.AsyncClient, admin: dict[str, str], device_id: str) -> int:
    latest = (await client.get(f"/api/v1/telemetry/{device_id}/latest", headers=admin)).json()
    return int(latest["latitude"]["ts"]) if "latitude" in latest else 0


async def _streams(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    async def all_registered() -> bool:
        return (await _demo_devices(client, admin))["total"] == 44

    await eventually(all_registered, timeout_s=60)
    page = await _demo_devices(client, admin)
    patrol = next(d for d in page["items"] if d["name"] == "demo-patrol-1")
    seen: set[int] = set()

    async def moving() -> bool:
        # the patrol car's latest fix keeps changing: the city is live
        seen.add(await _latest_ts(client, admin, patrol["id"]))
        return len(seen - {0}) >= 3

    await eventually(moving, timeout_s=90)


async def _in_traffic_service(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    async def total(path: str) -> int:
        answer = await client.get(f"/api/v1/traffic/{path}", headers=admin)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["total"])

    async def network_and_detectors() -> bool:
        return await total("segments") == 40 and await total("detectors") == 40

    await eventually(network_and_detectors, timeout_s=60)
    stations = await client.get("/api/v1/traffic/segments/N1-C/detectors", headers=admin)
    [station] = stations.json()
    assert station["name"] == "demo-loop-N1-C" and station["offset_m"] == 600.0

    async def patrol_units() -> bool:
        return await total("patrols") == 4

    await eventually(patrol_units, timeout_s=30)


async def _live_state(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """The readings become traffic state and a congestion map, and both move on."""
    seen: set[int] = set()

    async def state_moves_on() -> bool:
        answer = await client.get("/api/v1/traffic/state", headers=admin)
        assert answer.status_code == 200, answer.text
        rows = answer.json()
        measured = [r for r in rows if r["flow_vph"] is not None and r["los"] is not None]
        if len(measured) >= 30:
            seen.add(max(r["end_ts"] for r in measured))
        return len(seen) >= 2

    await eventually(state_moves_on, timeout_s=150)
    geojson = (await client.get("/api/v1/traffic/congestion.geojson", headers=admin)).json()
    assert geojson["type"] == "FeatureCollection"
    coloured = [f for f in geojson["features"] if f["properties"].get("los")]
    assert len(geojson["features"]) == 40 and len(coloured) >= 30


async def test_the_demo_city_registers_streams_and_survives_a_restart(
    embedded_backend: Backend, tmp_path: Path
) -> None:
    backend = embedded_backend
    admin = {"Authorization": f"Bearer {access_token(backend)}"}
    for run in ("first", "second"):
        with roadwatch_process(
            ["serve", "--demo"], backend.env(), tmp_path / f"{run}.log"
        ) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                await _streams(client, admin)
                await _in_traffic_service(client, admin)
                if run == "first":
                    await _live_state(client, admin)
                keys = (await client.get("/api/v1/api-keys", headers=admin)).json()["items"]
                # one key, allowed to register devices and upload the network and nothing
                # else, reused on restart
                assert [(k["name"], k["scopes"]) for k in keys] == [
                    ("demo city simulator", ["devices:read", "devices:write", "traffic:write"])
                ]
                assert (await _demo_devices(client, admin))["total"] == 44
        demo = backend.var_dir / "demo"
        for secret in ("api-key", "devices.json"):
            assert stat.S_IMODE((demo / secret).stat().st_mode) == 0o600
        assert (demo / "truth.jsonl").read_text().startswith('{"event":"run.started"')
    log = (tmp_path / "second.log").read_text()
    assert "0 created, 44 reused" in log


async def test_a_plain_serve_has_no_demo_city(embedded_backend: Backend, tmp_path: Path) -> None:
    backend = embedded_backend
    admin = {"Authorization": f"Bearer {access_token(backend)}"}
    with roadwatch_process(["serve"], backend.env(), tmp_path / "server.log") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            assert (await _demo_devices(client, admin))["total"] == 0
            keys = (await client.get("/api/v1/api-keys", headers=admin)).json()
            assert keys["total"] == 0
    assert not (backend.var_dir / "demo").exists()
