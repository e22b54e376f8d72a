"""The rollup arithmetic on its own: buckets from raw points and coarse from fine equal a
brute-force computation, whatever the order and repetition of the points."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from roadwatch.analytics.aggregate import RESOLUTIONS, Buckets, combine, dedupe_last, minute_buckets
from tests.analytics.brute import WIDTHS, assert_bucket_equal, brute_rollups

BASE = 1_700_000_000_000
KEYS = ["flow", "speed", "occupancy"]

points_strategy = st.lists(
    st.tuples(
        st.integers(0, len(KEYS) - 1),
        st.integers(0, 3 * 3_600_000),
        st.one_of(
            st.integers(-1000, 1000).map(float),
            st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
        ),
    ),
    min_size=1,
    max_size=300,
)


def as_dict(b: Buckets) -> dict[tuple[str, int], dict[str, object]]:
    out = {}
    for i in range(len(b)):
        out[(KEYS[int(b.series[i])], int(b.bucket[i]))] = {
            "count": int(b.count[i]),
            "sum": float(b.sum[i]),
            "min": float(b.min[i]),
            "max": float(b.max[i]),
            "mean": float(b.mean[i]),
            "variance": float(b.variance[i]),
            "first_ts": int(b.first_ts[i]),
            "first": float(b.first[i]),
            "last_ts": int(b.last_ts[i]),
            "last": float(b.last[i]),
        }
    return out


@settings(max_examples=200, deadline=None)
@given(points_strategy)
def test_buckets_equal_brute_force_at_every_resolution(raw: list[tuple[int, int, float]]) -> None:
    series = np.array([p[0] for p in raw], np.int64)
    ts = np.array([BASE + p[1] for p in raw], np.int64)
    values = np.array([p[2] for p in raw], np.float64)
    s, t, v = dedupe_last(series, ts, values)
    latest = {(KEYS[k], BASE + off): value for k, off, value in raw}  # last one wins
    minutes = minute_buckets(s, t, v)
    computed = {"1m": minutes, **{n: combine(minutes, RESOLUTIONS[n]) for n in ("5m", "1h")}}
    for name, width in WIDTHS.items():
        got, want = as_dict(computed[name]), brute_rollups(latest, width)
        assert got.keys() == want.keys()
        for bucket, expected in want.items():
            assert_bucket_equal(got[bucket], expected, (name, bucket))


@settings(max_examples=100, deadline=None)
@given(points_strategy, st.randoms(use_true_random=False))
def test_buckets_do_not_depend_on_the_order_points_came_in(raw, rnd) -> None:  # type: ignore[no-untyped-def]
    # unique (series, ts) so that "last wins" does not depend on order either
    unique = list({(k, off): (k, off, v) for k, off, v in raw}.values())
    shuffled = unique[:]
    rnd.shuffle(shuffled)

    def compute(points: list[tuple[int, int, float]]) -> dict[str, np.ndarray]:
        b = minute_buckets(
            np.array([p[0] for p in points], np.int64),
            np.array([BASE + p[1] for p in points], np.int64),
            np.array([p[2] for p in points], np.float64),
        )
        hour = combine(b, RESOLUTIONS["1h"])
        return {"m_sum": b.sum, "m_m2": b.m2, "h_sum": hour.sum, "h_m2": hour.m2}

    first, second = compute(unique), compute(shuffled)
    for name in first:
        assert first[name].tobytes() == second[name].tobytes(), name
