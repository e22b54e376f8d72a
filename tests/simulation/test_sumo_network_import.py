"""A SUMO scenario's network, exported as `roadwatch simulate --engine sumo --export-network`
writes it, imports cleanly into the traffic service: every edge a segment with its
topology, every station a detector waiting for its device."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from roadwatch.simulation.sumo.network import sumo_geojson
from roadwatch.simulation.sumo.scenario import ScenarioSpec, build_scenario
from tests.factories.traffic import TRAFFIC, import_network
from tests.fixtures.app import RunningApp


def corridor_geojson(directory: Path, prefix: str = "sumo") -> dict[str, Any]:
    scenario = build_scenario(ScenarioSpec(edges=4, edge_length_m=400.0), directory)
    names = {s.id: f"{prefix}-{s.id}" for s in scenario.sumo_net.network.detectors}
    return sumo_geojson(scenario.sumo_net, names, scenario.spec.loop_length_m)


async def test_the_sumo_corridor_imports_as_segments_with_topology_and_pending_detectors(
    running: RunningApp, admin: dict[str, str], tmp_path: Path
) -> None:
    body = corridor_geojson(tmp_path)
    report = await import_network(running.client, admin, body)
    assert report["created"]["segments"] == 8
    assert report["created"]["roads"] == 1
    # the stations' devices are not registered yet: they are placed when they are
    assert sorted(report["pending_detectors"]) == sorted(
        f"sumo-loop-{a}-{b}" for a, b in (
            ("K0", "K1"), ("K1", "K2"), ("K2", "K3"), ("K3", "K4"),
            ("K1", "K0"), ("K2", "K1"), ("K3", "K2"), ("K4", "K3"),
        )
    )  # fmt: skip

    listed = await running.client.get(f"{TRAFFIC}/segments", headers=admin)
    segments = {s["id"]: s for s in listed.json()["items"]}
    k12 = segments["K1-K2"]
    assert k12["upstream"] == ["K0-K1"] and k12["downstream"] == ["K2-K3"]
    assert k12["lanes"] == 3 and k12["speed_limit_kmh"] == 100.0
    assert k12["road_class"] == "motorway" and k12["length_m"] == 400.0
    # drawn east of the demo city, the way back 3.2 m of lane offset to the side
    (lon0, lat0), (lon1, _) = k12["geometry"][0], k12["geometry"][-1]
    assert 12.09 < lon0 < lon1 < 12.12 and abs(lat0 - 48.0) < 0.001
    assert segments["K2-K1"]["downstream"] == ["K1-K0"]

    # importing the same file again changes nothing
    again = await import_network(running.client, admin, body)
    assert again["created"]["segments"] == 0 and again["updated"]["segments"] == 0
