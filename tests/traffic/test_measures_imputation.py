"""Imputation of a bad station from its neighbours by learnt ratios."""

from __future__ import annotations

import pytest

from roadwatch.traffic.measures.imputation import Ratios, Reading, impute


def test_without_learnt_ratios_the_estimate_is_the_neighbours_mean() -> None:
    up = Reading(flow_vphpl=800, occupancy_pct=8.0, speed_kmh=60)
    down = Reading(flow_vphpl=600, occupancy_pct=6.0, speed_kmh=70)
    est = impute([(up, Ratios()), (down, Ratios())])
    assert est == Reading(flow_vphpl=700, occupancy_pct=7.0, speed_kmh=65)


def test_learnt_ratios_scale_each_neighbour() -> None:
    # this station carries 1.2x its upstream neighbour's flow per lane (a side street joins)
    ratios = Ratios()
    for _ in range(200):
        ratios = ratios.learn(
            Reading(960, 9.0, 50), Reading(800, 10.0, 50)
        )  # flow 1.2, occupancy 0.9, speed 1.0
    assert ratios.flow == pytest.approx(1.2, abs=1e-3)
    assert ratios.occupancy == pytest.approx(0.9, abs=1e-3)
    est = impute([(Reading(500, 20.0, 30), ratios)])
    assert est is not None
    # 500 * 1.2 = 600; 20 * 0.9 = 18; 30 * 1.0 = 30
    assert est.flow_vphpl == pytest.approx(600, abs=0.5)
    assert est.occupancy_pct == pytest.approx(18, abs=0.05)
    assert est.speed_kmh == pytest.approx(30)


def test_near_empty_intervals_teach_nothing() -> None:
    ratios = Ratios().learn(Reading(30, 0.5, 50), Reading(10, 0.2, 50))
    assert (ratios.flow, ratios.occupancy) == (1.0, 1.0)


def test_no_healthy_neighbour_means_no_estimate() -> None:
    assert impute([]) is None
