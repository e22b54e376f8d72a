"""The time-series query API: ThingsBoard's semantics, our additions, and what it refuses."""

from __future__ import annotations

import csv
import io
import math
import statistics
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roadwatch.platform.auth import Role
from roadwatch.telemetry import queries
from roadwatch.telemetry.points import Point
from roadwatch.telemetry.schemas import Aggregation, Order, TimeseriesQuery
from roadwatch.telemetry.store import store_points
from tests.factories.devices import create_device
from tests.fixtures.app import RunningApp, run_app
from tests.fixtures.backends import Backend

# 2023-11-14T22:13:20Z, on a whole minute
T0 = 1_700_000_000_000
MINUTE = 60_000
# three one-minute buckets from T0; the range ends half-way through the third
END = T0 + 150_000
SPEED = {
    T0 - 1: 1,  # before startTs: left out
    T0: 50,
    T0 + 10_000: 60,
    T0 + 20_000: 55.5,
    T0 + 30_000: "n/a",  # not a number: only COUNT sees it
    T0 + 60_000: 40,
    T0 + 70_000: 44,
    T0 + 120_000: 30,
    END: 999,  # at endTs: left out (the range is [startTs, endTs))
}
STATE = {T0 + 5_000: "free", T0 + 65_000: "dense", T0 + 66_000: "jam"}
BUCKET_TS = [T0 + 30_000, T0 + 90_000, T0 + 135_000]


def series(**keys: dict[int, Any]) -> list[dict[str, Any]]:
    return [
        {"ts": ts, "values": {key: value}}
        for key, points in keys.items()
        for ts, value in points.items()
    ]


async def post_telemetry(client: httpx.AsyncClient, token: str, payload: Any) -> None:
    response = await client.post(f"/api/v1/{token}/telemetry", json=payload)
    assert response.status_code == 200, response.text


@pytest.fixture
async def device(running: RunningApp, admin: dict[str, str]) -> dict[str, Any]:
    made = await create_device(running.client, admin)
    await post_telemetry(
        running.client,
        made["access_token"],
        [
            *series(speed=SPEED, state=STATE),
            {"ts": T0 + 1_000, "values": {"wet": True, "lanes": {"1": 3, "2": 4}}},
        ],
    )
    return made


@pytest.fixture
def analyst(running: RunningApp) -> dict[str, str]:
    return running.as_role(Role.ANALYST)


async def timeseries(
    running: RunningApp, device_id: str, headers: dict[str, str], **params: Any
) -> httpx.Response:
    return await running.client.get(
        f"/api/v1/telemetry/{device_id}/timeseries", params=params, headers=headers
    )


async def get_json(running: RunningApp, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = await running.client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def numbers_by_bucket() -> list[list[int | float]]:
    buckets: list[list[int | float]] = [[], [], []]
    for ts, value in SPEED.items():
        if T0 <= ts < END and isinstance(value, int | float):
            buckets[(ts - T0) // MINUTE].append(value)
    return buckets


async def test_keys_and_latest_values_of_a_device(
    running: RunningApp, device: dict[str, Any], analyst: dict[str, str]
) -> None:
    base = f"/api/v1/telemetry/{device['id']}"
    assert await get_json(running, f"{base}/keys", analyst) == ["lanes", "speed", "state", "wet"]
    assert await get_json(running, f"{base}/latest", analyst) == {
        "speed": {"ts": END, "value": 999},
        "state": {"ts": T0 + 66_000, "value": "jam"},
        "wet": {"ts": T0 + 1_000, "value": True},
        "lanes": {"ts": T0 + 1_000, "value": {"1": 3, "2": 4}},
    }
    # keys it never sent are left out, as in ThingsBoard
    assert await get_json(running, f"{base}/latest", analyst, keys="wet, nothing") == {
        "wet": {"ts": T0 + 1_000, "value": True}
    }


async def test_raw_points_come_newest_first_limited_per_key_in_a_half_open_range(
    running: RunningApp, device: dict[str, Any], analyst: dict[str, str]
) -> None:
    inside = sorted((ts, v) for ts, v in SPEED.items() if T0 <= ts < END)
    newest_first = [{"ts": ts, "value": v} for ts, v in reversed(inside)]
    response = await timeseries(
        running, device["id"], analyst, keys="speed,wet,lanes,nothing", startTs=T0, endTs=END
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "speed": newest_first,
        "wet": [{"ts": T0 + 1_000, "value": True}],
        "lanes": [{"ts": T0 + 1_000, "value": {"1": 3, "2": 4}}],
    }
    # values keep their kind: an integer stays an integer
    assert [type(p["value"]) for p in response.json()["speed"][-4:]] == [str, float, int, int]

    limited = await timeseries(
        running, device["id"], analyst, keys="speed,state", startTs=T0, endTs=END, limit=2
    )
    assert limited.json() == {
        "speed": newest_first[:2],
        "state": [{"ts": T0 + 66_000, "value": "jam"}, {"ts": T0 + 65_000, "value": "dense"}],
    }
    oldest = await timeseries(
        running, device["id"], analyst, keys="speed", startTs=T0, endTs=END, limit=2, orderBy="ASC"
    )
    assert oldest.json() == {"speed": [{"ts": T0, "value": 50}, {"ts": T0 + 10_000, "value": 60}]}


def expected_speed(agg: str) -> list[Any]:
    buckets = numbers_by_bucket()
    if agg == "AVG":
        return [sum(b) / len(b) for b in buckets]
    if agg == "MIN":
        return [min(b) for b in buckets]
    if agg == "MAX":
        return [max(b) for b in buckets]
    if agg == "SUM":
        return [sum(b) for b in buckets]
    if agg == "COUNT":
        # every value counts, numbers or not
        return [4, 2, 1]
    if agg == "STDDEV":
        return [statistics.stdev(b) if len(b) > 1 else None for b in buckets]
    assert agg == "PERCENTILE"
    # the 'inclusive' method interpolates between ranks as percentile_cont does
    return [
        statistics.quantiles(b, n=100, method="inclusive")[94] if len(b) > 1 else b[0]
        for b in buckets
    ]


def close(got: Any, want: Any) -> bool:
    if want is None or got is None:
        return got is want
    return bool(math.isclose(got, want, rel_tol=1e-9))


@pytest.mark.parametrize("agg", ["AVG", "MIN", "MAX", "SUM", "COUNT", "STDDEV", "PERCENTILE"])
async def test_each_aggregation_gives_one_value_per_bucket_stamped_with_its_middle(
    running: RunningApp, device: dict[str, Any], analyst: dict[str, str], agg: str
) -> None:
    params: dict[str, Any] = {"keys": "speed,state", "startTs": T0, "endTs": END, "agg": agg}
    params |= {"interval": MINUTE} | ({"percentile": 95} if agg == "PERCENTILE" else {})
    response = await timeseries(running, device["id"], analyst, **params)
    assert response.status_code == 200, response.text
    body = response.json()

    speed = body.pop("speed")
    # the last bucket is cut at endTs, so its middle is that of [T0+120s, T0+150s)
    assert [p["ts"] for p in speed] == BUCKET_TS
    got = [p["value"] for p in speed]
    assert all(close(g, w) for g, w in zip(got, expected_speed(agg), strict=True)), got
    if agg == "COUNT":
        # "state" holds only text: counted, but no number to average
        assert body == {
            "state": [{"ts": BUCKET_TS[0], "value": 1}, {"ts": BUCKET_TS[1], "value": 2}]
        }
    else:
        assert body == {}


async def test_sums_and_extremes_of_integers_stay_integers(
    running: RunningApp, device: dict[str, Any], analyst: dict[str, str]
) -> None:
    def values(agg: str) -> list[Any]:
        return [p["value"] for p in answers[agg].json()["speed"]]

    answers = {
        agg: await timeseries(
            running,
            device["id"],
            analyst,
            keys="speed",
            startTs=T0,
            endTs=END,
            agg=agg,
            interval=MINUTE,
        )
        for agg in ("SUM", "MIN", "MAX", "AVG")
    }
    # bucket 0 mixes 55.5 with integers; the others hold integers only
    assert [type(v) for v in values("SUM")] == [float, int, int]
    assert [type(v) for v in values("MIN")] == [int, int, int]
    assert [type(v) for v in values("AVG")] == [float, float, float]


async def test_buckets_follow_order_by_when_it_is_given(
    running: RunningApp, device: dict[str, Any], analyst: dict[str, str]
) -> None:
    response = await timeseries(
        running,
        device["id"],
        analyst,
        keys="speed",
        startTs=T0,
        endTs=END,
        agg="MAX",
        interval=MINUTE,
        orderBy="DESC",
    )
    assert response.json() == {
        "speed": [
            {"ts": ts, "value": v} for ts, v in zip(BUCKET_TS[::-1], [30, 44, 60], strict=True)
        ]
    }


async def test_latest_values_of_many_devices_at_once(
    running: RunningApp, admin: dict[str, str], device: dict[str, Any], analyst: dict[str, str]
) -> None:
    other = await create_device(running.client, admin)
    await post_telemetry(running.client, other["access_token"], {"ts": T0, "values": {"speed": 12}})
    nobody = str(uuid.uuid4())
    response = await running.client.post(
        "/api/v1/telemetry/latest",
        json={"device_ids": [device["id"], other["id"], nobody], "keys": ["speed", "wet"]},
        headers=analyst,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        device["id"]: {
            "speed": {"ts": END, "value": 999},
            "wet": {"ts": T0 + 1_000, "value": True},
        },
        other["id"]: {"speed": {"ts": T0, "value": 12}},
        nobody: {},
    }

    every_key = await running.client.post(
        "/api/v1/telemetry/latest", json={"device_ids": [other["id"]]}, headers=analyst
    )
    assert every_key.json() == {other["id"]: {"speed": {"ts": T0, "value": 12}}}

    too_many = await running.client.post(
        "/api/v1/telemetry/latest",
        json={"device_ids": [str(i) for i in range(1001)]},
        headers=analyst,
    )
    assert too_many.status_code == 422
    assert [e["field"] for e in too_many.json()["errors"]] == ["device_ids"]


async def test_csv_export_streams_every_point_in_ts_then_key_order(
    running: RunningApp,
    admin: dict[str, str],
    analyst: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pages of 100 points per key, so the export walks several pages of each
    monkeypatch.setattr(queries, "EXPORT_ROWS_IN_MEMORY", 200)
    made = await create_device(running.client, admin)
    flow = {T0 + i: i for i in range(250)}
    wet = {T0 + 2 * i: i % 3 == 0 for i in range(150)}
    await post_telemetry(running.client, made["access_token"], series(flow=flow, wet=wet))
    await post_telemetry(
        running.client,
        made["access_token"],
        {"ts": T0 + 7, "values": {"note": 'say "hi", then go', "lanes": {"1": 3}}},
    )

    response = await running.client.get(
        f"/api/v1/telemetry/{made['id']}/export.csv",
        params={"startTs": T0, "endTs": T0 + 250},
        headers=analyst,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["ts", "iso_time", "key", "value"]

    everything = {("flow", ts): str(v) for ts, v in flow.items()}
    everything |= {("wet", ts): "true" if v else "false" for ts, v in wet.items() if ts < T0 + 250}
    everything |= {("note", T0 + 7): 'say "hi", then go', ("lanes", T0 + 7): '{"1":3}'}
    assert [(int(ts), key, value) for ts, _, key, value in rows[1:]] == [
        (ts, key, everything[key, ts]) for key, ts in sorted(everything, key=lambda k: (k[1], k[0]))
    ]
    assert rows[1][1] == "2023-11-14T22:13:20.000Z"

    only_flow = await running.client.get(
        f"/api/v1/telemetry/{made['id']}/export.csv",
        params={"startTs": T0 + 248, "endTs": T0 + 1_000, "keys": "flow"},
        headers=analyst,
    )
    assert only_flow.text.splitlines()[1:] == [
        "1700000000248,2023-11-14T22:13:20.248Z,flow,248",
        "1700000000249,2023-11-14T22:13:20.249Z,flow,249",
    ]


async def test_an_unknown_device_has_empty_results(
    running: RunningApp, analyst: dict[str, str]
) -> None:
    base = f"/api/v1/telemetry/{uuid.uuid4()}"
    assert await get_json(running, f"{base}/keys", analyst) == []
    assert await get_json(running, f"{base}/latest", analyst) == {}
    window = {"startTs": T0, "endTs": END}
    assert await get_json(running, f"{base}/timeseries", analyst, keys="speed", **window) == {}
    assert (
        await get_json(
            running,
            f"{base}/timeseries",
            analyst,
            keys="speed",
            agg="PERCENTILE",
            percentile=50,
            interval=MINUTE,
            **window,
        )
        == {}
    )
    export = await running.client.get(f"{base}/export.csv", params=window, headers=analyst)
    assert export.text == "ts,iso_time,key,value\n"


WINDOW = {"keys": "speed", "startTs": T0, "endTs": END}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**WINDOW, "endTs": T0 - 1}, "endTs"),
        ({**WINDOW, "agg": "AVG"}, "interval"),
        ({**WINDOW, "agg": "SUM", "interval": 0}, "interval"),
        ({**WINDOW, "agg": "SUM", "interval": -60_000}, "interval"),
        ({**WINDOW, "agg": "COUNT", "interval": 10}, "interval"),  # 15,000 buckets
        ({**WINDOW, "agg": "MEDIAN", "interval": MINUTE}, "agg"),
        ({**WINDOW, "agg": "avg", "interval": MINUTE}, "agg"),
        ({**WINDOW, "limit": 0}, "limit"),
        ({**WINDOW, "limit": 10_001}, "limit"),
        ({**WINDOW, "orderBy": "NEWEST"}, "orderBy"),
        ({**WINDOW, "keys": " , "}, "keys"),
        ({**WINDOW, "keys": ",".join(f"k{i}" for i in range(51))}, "keys"),
        ({"startTs": T0, "endTs": END}, "keys"),
        ({**WINDOW, "startTs": -1}, "startTs"),
        ({**WINDOW, "startTs": "yesterday"}, "startTs"),
        ({"keys": "speed", "startTs": T0}, "endTs"),
        ({**WINDOW, "agg": "PERCENTILE", "interval": MINUTE}, "percentile"),
        ({**WINDOW, "agg": "PERCENTILE", "interval": MINUTE, "percentile": 101}, "percentile"),
        ({**WINDOW, "agg": "AVG", "interval": MINUTE, "percentile": 50}, "percentile"),
        ({**WINDOW, "agg": "AVG", "interval": MINUTE, "intervalType": "WEEK"}, "intervalType"),
    ],
    ids=[
        "end-before-start",
        "agg-without-interval",
        "zero-interval",
        "negative-interval",
        "too-many-buckets",
        "unknown-agg",
        "lowercase-agg",
        "zero-limit",
        "limit-too-big",
        "unknown-order",
        "blank-keys",
        "too-many-keys",
        "no-keys",
        "negative-start",
        "start-not-a-number",
        "no-end",
        "percentile-missing",
        "percentile-over-100",
        "percentile-without-its-agg",
        "calendar-interval",
    ],
)
async def test_a_bad_query_is_422_naming_the_parameter(
    running: RunningApp, analyst: dict[str, str], params: dict[str, Any], field: str
) -> None:
    response = await timeseries(running, str(uuid.uuid4()), analyst, **params)
    assert response.status_code == 422, response.text
    problem = response.json()
    named = {problem.get("field")} | {e["field"] for e in problem.get("errors", [])}
    assert field in named, problem
    assert problem["detail"].startswith(field), problem["detail"]


async def test_a_bad_export_range_is_422(running: RunningApp, analyst: dict[str, str]) -> None:
    response = await running.client.get(
        f"/api/v1/telemetry/{uuid.uuid4()}/export.csv",
        params={"startTs": END, "endTs": T0},
        headers=analyst,
    )
    assert response.status_code == 422
    assert response.json()["field"] == "endTs"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/{id}/keys"),
        ("GET", "/{id}/latest"),
        ("POST", "/latest"),
        ("GET", f"/{{id}}/timeseries?keys=speed&startTs={T0}&endTs={END}"),
        ("GET", f"/{{id}}/export.csv?startTs={T0}&endTs={END}"),
    ],
    ids=["keys", "latest", "latest-of-devices", "timeseries", "export"],
)
async def test_a_citizen_is_refused_and_a_patrol_officer_may_read(
    running: RunningApp, device: dict[str, Any], method: str, path: str
) -> None:
    url = "/api/v1/telemetry" + path.replace("{id}", device["id"])
    body = {"device_ids": [device["id"]]} if method == "POST" else None

    async def status(headers: dict[str, str] | None) -> int:
        response = await running.client.request(method, url, json=body, headers=headers)
        return response.status_code

    assert await status(running.as_role(Role.CITIZEN)) == 403
    assert await status(None) == 401
    assert await status(running.as_role(Role.PATROL_OFFICER)) == 200


# -- the SQL aggregation against a Python reference, on random points (SQLite) ----------


@pytest.fixture
async def embedded(embedded_backend: Backend) -> AsyncIterator[RunningApp]:
    async with run_app(embedded_backend.settings()) as running_app:
        yield running_app


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def reference(
    points: dict[int, Any], agg: Aggregation, start: int, end: int, interval: int
) -> list[tuple[int, float]]:
    buckets: dict[int, list[Any]] = {}
    for ts in sorted(points):
        value = points[ts]
        if start <= ts < end and (is_number(value) or agg is Aggregation.COUNT):
            buckets.setdefault((ts - start) // interval, []).append(value)
    answer = []
    for bucket, values in sorted(buckets.items()):
        bucket_start = start + bucket * interval
        middle = bucket_start + (min(bucket_start + interval, end) - bucket_start) // 2
        by_agg = {
            Aggregation.COUNT: lambda v: len(v),
            Aggregation.SUM: lambda v: math.fsum(v),
            Aggregation.AVG: lambda v: math.fsum(v) / len(v),
            Aggregation.MIN: min,
            Aggregation.MAX: max,
        }
        answer.append((middle, by_agg[agg](values)))
    return answer


VALUES = st.one_of(
    st.integers(min_value=-(2**62), max_value=2**62),
    st.integers(min_value=-1000, max_value=1000),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
    st.booleans(),
    st.text(max_size=3),
)


@settings(
    max_examples=25,
    deadline=None,
    # one application serves every example; each example writes its own key
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    points=st.dictionaries(st.integers(min_value=0, max_value=3_000), VALUES, max_size=60),
    start=st.integers(min_value=0, max_value=1_000),
    length=st.integers(min_value=0, max_value=2_500),
    interval=st.integers(min_value=1, max_value=1_000),
    agg=st.sampled_from(
        [Aggregation.AVG, Aggregation.MIN, Aggregation.MAX, Aggregation.SUM, Aggregation.COUNT]
    ),
)
async def test_sql_buckets_match_a_python_reference(
    embedded: RunningApp,
    points: dict[int, Any],
    start: int,
    length: int,
    interval: int,
    agg: Aggregation,
) -> None:
    key = uuid.uuid4().hex
    platform = embedded.platform
    await store_points(
        platform, "property-device", [Point(key, ts, v) for ts, v in points.items()], "test"
    )
    query = TimeseriesQuery((key,), start, start + length, agg, interval, None, 100, Order.ASC)
    async with platform.db.read_session() as session:
        found = await queries.aggregated(session, "property-device", query)

    got = [(p["ts"], p["value"]) for p in found.get(key, [])]
    want = reference(points, agg, start, start + length, interval)
    assert [ts for ts, _ in got] == [ts for ts, _ in want]
    for (_, value), (_, expected) in zip(got, want, strict=True):
        magnitude = math.fsum(abs(v) for v in points.values() if is_number(v))
        assert math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-9 * magnitude), (
            value,
            expected,
        )
