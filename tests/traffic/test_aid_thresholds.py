"""Thresholds per road class: documented defaults, overrides, and bad overrides named."""

from __future__ import annotations

import pytest

from roadwatch.traffic.aid import DEFAULTS, Thresholds, ThresholdTable, algorithms_for


def test_every_algorithm_runs_for_a_pair() -> None:
    names = [a.name for a in algorithms_for("motorway")]
    assert names == ["california7", "california8", "snd", "speed_drop"]


def test_an_unknown_road_class_uses_the_arterial_defaults() -> None:
    assert ThresholdTable().for_class("boulevard") == DEFAULTS["arterial"]
    assert ThresholdTable().for_class(None) == DEFAULTS["arterial"]


def test_overrides_apply_per_class_on_top_of_its_defaults() -> None:
    table = ThresholdTable({"ring": {"occdf_pct": 14, "speed_confirm_intervals": 4}})
    ring = table.for_class("ring")
    assert ring.occdf_pct == 14.0 and ring.speed_confirm_intervals == 4
    assert ring.speed_slow_kmh == DEFAULTS["ring"].speed_slow_kmh
    assert table.for_class("motorway") == DEFAULTS["motorway"]


def test_given_thresholds_win_over_the_class_defaults() -> None:
    custom = Thresholds(occdf_pct=3.0)
    assert all(a.t.occdf_pct == 3.0 for a in algorithms_for("motorway", custom))  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"occdf": 5}, "unknown threshold(s): occdf"),
        ({"occdf_pct": "high"}, "occdf_pct must be a number"),
        ({"occdf_pct": -1}, "occdf_pct must be positive"),
        ({"snd_window": 2.5}, "snd_window must be a whole number"),
        ({"wave_docctd": 0.5}, "wave_docctd must be negative"),
        ({"snd_clear": 4}, "snd_clear must be below snd_critical"),
    ],
)
def test_a_bad_override_names_the_class_and_the_threshold(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=r"traffic\.aid_thresholds\.ring: ") as caught:
        ThresholdTable({"ring": overrides})
    assert message in str(caught.value)
