"""PeMS performance measures (VMT, VHT, delay, lost productivity) on hand-computed cases."""

from __future__ import annotations

import pytest

from roadwatch.traffic.measures.performance import (
    Performance,
    interval_performance,
    total,
)


def test_free_flowing_interval_has_vmt_and_vht_but_no_delay() -> None:
    # 1200 veh/h for 5 min (1/12 h) over 1.5 km at 70 km/h:
    # VMT = 1200 * 1/12 * 1.5 = 150 veh-km; VHT = 150 / 70 = 2.142857 veh-h
    p = interval_performance(
        flow_vph=1200, speed_kmh=70, length_m=1500, lanes=2, hours=1 / 12, threshold_kmh=60
    )
    assert p.vmt_veh_km == pytest.approx(150)
    assert p.vht_veh_h == pytest.approx(150 / 70)
    assert p.delay_veh_h == 0
    assert p.lost_productivity_lane_km_h == 0


def test_congested_interval_has_delay_and_lost_productivity() -> None:
    # 1800 veh/h (900 per lane) at 30 km/h for 1/12 h over 1.5 km, 2 lanes, capacity 1800/lane:
    # VMT = 1800 * 1/12 * 1.5 = 225 veh-km; VHT = 225 / 30 = 7.5 veh-h
    # delay = 1800 * 1/12 * (1.5/30 - 1.5/60) = 150 * 0.025 = 3.75 veh-h
    # lost productivity = (1 - 900/1800) * 2 lanes * 1.5 km * 1/12 h = 0.125 lane-km-h
    p = interval_performance(
        flow_vph=1800,
        speed_kmh=30,
        length_m=1500,
        lanes=2,
        hours=1 / 12,
        threshold_kmh=60,
        capacity_vphpl=1800,
    )
    assert p.vmt_veh_km == pytest.approx(225)
    assert p.vht_veh_h == pytest.approx(7.5)
    assert p.delay_veh_h == pytest.approx(3.75)
    assert p.lost_productivity_lane_km_h == pytest.approx(0.125)


def test_delay_threshold_is_configurable() -> None:
    # at 45 km/h: delay against 60 km/h, none against 40 km/h
    kwargs = {"flow_vph": 1000.0, "speed_kmh": 45.0, "length_m": 1000.0, "lanes": 2, "hours": 1.0}
    # 1000 * 1 * (1/45 - 1/60) = 5.5556 veh-h
    assert interval_performance(**kwargs, threshold_kmh=60).delay_veh_h == pytest.approx(
        1000 * (1 / 45 - 1 / 60)
    )
    assert interval_performance(**kwargs, threshold_kmh=40).delay_veh_h == 0


def test_lost_productivity_uses_the_pems_capacity_when_the_network_has_none() -> None:
    # (1 - 1038/2076) * 1 lane * 1 km * 1 h = 0.5
    p = interval_performance(
        flow_vph=1038, speed_kmh=20, length_m=1000, lanes=1, hours=1.0, threshold_kmh=60
    )
    assert p.lost_productivity_lane_km_h == pytest.approx(0.5)


def test_standstill_counts_as_crawling_not_infinity() -> None:
    # 120 veh/h at 0 km/h over 1 km for 1 h: VHT = 120 veh-km / 5 km/h = 24 veh-h
    p = interval_performance(flow_vph=120, speed_kmh=0, length_m=1000, lanes=1, hours=1.0)
    assert p.vht_veh_h == pytest.approx(24)


def test_measures_add_up_by_key() -> None:
    a = Performance(1, 2, 3, 4)
    b = Performance(10, 20, 30, 40)
    assert total([("N1", a), ("N1", b), ("S1", a)]) == {
        "N1": Performance(11, 22, 33, 44),
        "S1": a,
    }
