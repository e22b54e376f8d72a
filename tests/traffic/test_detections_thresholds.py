"""AID thresholds per road class: readable through the API, overridden by configuration
(`traffic.aid_thresholds`), and a bad override stops start-up naming it."""

from __future__ import annotations

import pytest

from roadwatch.config import ConfigError
from roadwatch.platform.auth import Role
from roadwatch.traffic.aid import DEFAULTS
from tests.fixtures.app import RunningApp, run_app
from tests.fixtures.backends import Backend
from tests.traffic.detections_state import build_stretch, feed, interval

THRESHOLDS = "/api/v1/traffic/aid/thresholds"
FREE = (10.0, 95.0)


async def test_the_defaults_are_readable_per_road_class(running: RunningApp) -> None:
    response = await running.client.get(THRESHOLDS, headers=running.as_role(Role.ANALYST))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["algorithms"] == ["california7", "california8", "snd", "speed_drop"]
    assert body["interval_s"] == 60
    assert body["default_class"] == "arterial"
    assert body["by_class"]["motorway"] == DEFAULTS["motorway"].as_dict()
    assert set(body["by_class"]) == set(DEFAULTS)


async def test_an_override_changes_what_is_detected(backend: Backend) -> None:
    # OCCDF must reach 30 % on motorways now; the incident below peaks at 26 %
    settings = backend.settings(traffic={"aid_thresholds": {"motorway": {"occdf_pct": 30}}})
    async with run_app(settings) as running:
        shown = await running.client.get(THRESHOLDS, headers=running.as_role(Role.ANALYST))
        assert shown.json()["by_class"]["motorway"]["occdf_pct"] == 30
        assert shown.json()["by_class"]["motorway"]["occrdf"] == DEFAULTS["motorway"].occrdf
        await build_stretch(running)
        await feed(
            running,
            interval(0, FREE, FREE),
            interval(1, (30.0, 95.0), (6.0, 95.0)),
            interval(2, (32.0, 95.0), (6.0, 95.0)),
        )
        found = await running.client.get(
            "/api/v1/traffic/detections",
            params={"algorithm": ["california7", "california8"]},
            headers=running.as_role(Role.DISPATCHER),
        )
        assert found.json()["items"] == []


async def test_a_bad_override_stops_start_up(embedded_backend: Backend) -> None:
    settings = embedded_backend.settings(traffic={"aid_thresholds": {"ring": {"occdf": 5}}})
    with pytest.raises(ConfigError, match=r"traffic\.aid_thresholds\.ring: unknown threshold"):
        async with run_app(settings):
            pass
