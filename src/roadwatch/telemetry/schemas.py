"""Request and response shapes of the telemetry query API: ThingsBoard's, plus our additions.

Values come back with their own JSON types (ThingsBoard's `useStrictDataTypes=true`): an
integer stays an integer, a flag a flag, a JSON object an object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from roadwatch.platform.errors import InvalidInput
from roadwatch.telemetry.points import MAX_KEY_LENGTH

# the bounds that keep one request's work and answer a reasonable size
MAX_KEYS = 50
MAX_DEVICES = 1000
MAX_LIMIT = 10_000
MAX_BUCKETS = 10_000
DEFAULT_LIMIT = 100
MAX_TS = 2**63 - 1


class Aggregation(StrEnum):
    NONE = "NONE"
    AVG = "AVG"
    MIN = "MIN"
    MAX = "MAX"
    SUM = "SUM"
    COUNT = "COUNT"
    # ours, not ThingsBoard's: sample standard deviation, and a percentile chosen by
    # the `percentile` parameter (continuous, as PostgreSQL's percentile_cont)
    STDDEV = "STDDEV"
    PERCENTILE = "PERCENTILE"


class Order(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class TsValue(TypedDict):
    # a TypedDict rather than a model: answers hold up to hundreds of thousands of these, and
    # the queries build them as plain dicts that FastAPI validates and serializes in one pass
    ts: int
    # None only for the STDDEV of a bucket holding a single number
    value: bool | int | float | str | dict[str, Any] | list[Any] | None


Key = Annotated[str, Field(min_length=1, max_length=MAX_KEY_LENGTH)]
DeviceId = Annotated[str, Field(min_length=1, max_length=64)]


class LatestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_ids: list[DeviceId] = Field(min_length=1, max_length=MAX_DEVICES)
    # all keys of each device when absent
    keys: list[Key] | None = Field(default=None, min_length=1, max_length=MAX_KEYS)


def parse_keys(raw: str | None, field: str = "keys") -> list[str]:
    """`a,b` as ThingsBoard sends keys: trimmed, empty parts dropped, repeats once."""
    keys = list(dict.fromkeys(k.strip() for k in (raw or "").split(",") if k.strip()))
    if len(keys) > MAX_KEYS:
        raise InvalidInput(f"{field}: {len(keys)} keys; at most {MAX_KEYS}", field=field)
    for key in keys:
        if len(key) > MAX_KEY_LENGTH:
            raise InvalidInput(
                f"{field}: a key is longer than {MAX_KEY_LENGTH} characters", field=field
            )
    return keys


def check_range(start_ts: int, end_ts: int) -> None:
    if end_ts < start_ts:
        raise InvalidInput(
            f"endTs: {end_ts} is before startTs {start_ts}; the range is [startTs, endTs)",
            field="endTs",
        )


@dataclass(frozen=True, slots=True)
class TimeseriesQuery:
    """A checked time-series query: points in [start_ts, end_ts), raw or in buckets."""

    keys: tuple[str, ...]
    start_ts: int
    end_ts: int
    agg: Aggregation
    # bucket width in ms; 0 for raw points
    interval: int
    # 0..100, for PERCENTILE only
    percentile: float | None
    limit: int
    order: Order

    @classmethod
    def build(
        cls,
        keys: str,
        start_ts: int,
        end_ts: int,
        agg: Aggregation,
        interval: int | None,
        percentile: float | None,
        limit: int,
        order: Order | None,
    ) -> TimeseriesQuery:
        """Check what the parameters' own types cannot, naming the parameter at fault."""
        names = parse_keys(keys)
        if not names:
            raise InvalidInput("keys: name at least one key, e.g. keys=speed,flow", field="keys")
        check_range(start_ts, end_ts)
        if agg is Aggregation.NONE:
            # ThingsBoard ignores the interval of a raw query, and so do we
            interval = 0
        elif interval is None or interval <= 0:
            raise InvalidInput(
                f"interval: agg={agg} needs a positive interval in milliseconds", field="interval"
            )
        else:
            buckets = math.ceil((end_ts - start_ts) / interval)
            if buckets > MAX_BUCKETS:
                raise InvalidInput(
                    f"interval: {interval} ms over [startTs, endTs) makes {buckets} buckets; "
                    f"at most {MAX_BUCKETS}: widen the interval or narrow the range",
                    field="interval",
                )
        if agg is Aggregation.PERCENTILE and percentile is None:
            raise InvalidInput(
                "percentile: agg=PERCENTILE needs percentile=0..100, e.g. 95", field="percentile"
            )
        if agg is not Aggregation.PERCENTILE and percentile is not None:
            raise InvalidInput(
                f"percentile: only with agg=PERCENTILE, not agg={agg}", field="percentile"
            )
        if order is None:
            # ThingsBoard's defaults: newest raw points first, buckets in time order
            order = Order.DESC if agg is Aggregation.NONE else Order.ASC
        return cls(tuple(names), start_ts, end_ts, agg, interval, percentile, limit, order)

    def bucket_ts(self, bucket: int) -> int:
        """A bucket's timestamp: its middle, the last bucket cut at end_ts (ThingsBoard's)."""
        start = self.start_ts + bucket * self.interval
        end = min(start + self.interval, self.end_ts)
        return start + (end - start) // 2
