"""Telemetry payloads as devices send them (ThingsBoard's shapes) and the points they hold.

This is the hot path: payloads are decoded with orjson and checked by hand rather than
through pydantic models, which cost several times more per point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson

from roadwatch.platform.errors import DomainError

Value = bool | int | float | str | dict[str, Any] | list[Any]

MAX_KEY_LENGTH = 255
MAX_STRING_LENGTH = 64 * 1024
INT64 = 2**63


class InvalidPayload(DomainError):
    # ThingsBoard answers a payload it cannot take with 400, and devices expect that
    status = 400
    title = "Invalid telemetry payload"
    kind = "invalid-payload"


@dataclass(frozen=True, slots=True)
class Point:
    key: str
    ts: int
    value: Value


def _value(key: str, value: Any, where: str) -> Value:
    # dispatch on the exact type: isinstance against unions costs more than the rest here
    kind = type(value)
    if kind is float:
        if not math.isfinite(value):
            raise InvalidPayload(f"{where}.{key}: not a finite number")
        return value  # type: ignore[no-any-return]
    if kind is int:
        if not -INT64 <= value < INT64:
            raise InvalidPayload(f"{where}.{key}: integer outside the 64-bit range")
        return value  # type: ignore[no-any-return]
    if kind is str:
        if len(value) > MAX_STRING_LENGTH:
            raise InvalidPayload(f"{where}.{key}: string longer than {MAX_STRING_LENGTH}")
        return value  # type: ignore[no-any-return]
    if kind is bool or kind is dict or kind is list:
        return value  # type: ignore[no-any-return]
    if value is None:
        raise InvalidPayload(f"{where}.{key}: null is not a value")
    raise InvalidPayload(f"{where}.{key}: values of type {kind.__name__} are not supported")


def _values(values: Any, ts: int, where: str, out: list[Point], min_ts: int, max_ts: int) -> None:
    if not isinstance(values, dict) or not values:
        raise InvalidPayload(f"{where}: expected a non-empty object of key: value")
    if not min_ts <= ts <= max_ts:
        raise InvalidPayload(
            f"{where}.ts: {ts} is outside the accepted range [{min_ts}, {max_ts}] "
            "(milliseconds since 1970; not too far in the future)"
        )
    for key, value in values.items():
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidPayload(f"{where}: keys must have 1 to {MAX_KEY_LENGTH} characters")
        out.append(Point(key, ts, _value(key, value, where)))


def _entry(entry: Any, where: str, now_ms: int, out: list[Point], max_ts: int) -> None:
    if isinstance(entry, dict) and "ts" in entry and "values" in entry and len(entry) == 2:
        ts = entry["ts"]
        if isinstance(ts, bool) or not isinstance(ts, int):
            raise InvalidPayload(f"{where}.ts: must be an integer (milliseconds since 1970)")
        _values(entry["values"], ts, f"{where}.values", out, 0, max_ts)
    else:
        _values(entry, now_ms, where, out, 0, max_ts)


def decode(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidPayload(f"malformed JSON: {exc}") from None


def points_from(data: Any, now_ms: int, max_future_ms: int) -> list[Point]:
    """Points of one device's payload: `{k: v}`, `{"ts": ms, "values": {...}}` or a list."""
    out: list[Point] = []
    max_ts = now_ms + max_future_ms
    if isinstance(data, list):
        if not data:
            raise InvalidPayload("empty list: nothing to store")
        for index, entry in enumerate(data):
            _entry(entry, f"[{index}]", now_ms, out, max_ts)
    else:
        _entry(data, "body", now_ms, out, max_ts)
    return out


def parse_points(body: bytes, now_ms: int, max_future_ms: int = 24 * 3600 * 1000) -> list[Point]:
    return points_from(decode(body), now_ms, max_future_ms)
