"""Adjacent station pairs from one computed interval (the `traffic.state.computed` payload):
the station downstream of a station is the next one further along its segment, else the
first station of each downstream segment (a junction gives one pair per exit).

Pure: the payload in, pairs with both stations' readings out.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from roadwatch.traffic.aid import StationInterval


@dataclass(frozen=True, slots=True)
class Station:
    device_id: str
    segment_id: str
    offset_m: float
    reading: StationInterval
    healthy: bool


@dataclass(frozen=True, slots=True)
class Pair:
    up: Station
    down: Station
    # the upstream station's segment: whose thresholds apply
    road_class: str
    # metres from the upstream station to the downstream one along the road
    gap_m: float
    # the upstream station's segment length (where a pair crosses a node)
    up_segment_length_m: float

    @property
    def id(self) -> str:
        return f"{self.up.device_id}>{self.down.device_id}"

    def midpoint(self) -> tuple[str, float]:
        """(segment id, offset m) of the point half-way between the stations."""
        half = self.gap_m / 2
        left_on_up = self.up_segment_length_m - self.up.offset_m
        if self.up.segment_id == self.down.segment_id or half <= left_on_up:
            return self.up.segment_id, self.up.offset_m + half
        return self.down.segment_id, half - left_on_up


def _reading(raw: dict[str, Any], end_ts: int) -> StationInterval:
    """A station's reading as the algorithms take it. A station the state pipeline judged
    unhealthy, or whose values it imputed from neighbours, reads as missing: an imputed value
    follows the neighbours, so it would hide an incident or invent one."""
    if not raw.get("healthy", True) or raw.get("imputed", False):
        return StationInterval(end_ts, None, None, None)

    def number(key: str) -> float | None:
        value = raw.get(key)
        return float(value) if isinstance(value, int | float) else None

    return StationInterval(end_ts, number("flow_vph"), number("occupancy_pct"), number("speed_kmh"))


@dataclass(frozen=True, slots=True)
class Interval:
    interval_s: int
    start_ts: int
    end_ts: int
    pairs: list[Pair]


def parse_interval(payload: dict[str, Any]) -> Interval:
    """A `traffic.state.computed` payload read; KeyError/TypeError/ValueError if it is not
    in the contract's shape."""
    interval_s = int(payload["interval_s"])
    end_ts = int(payload["end_ts"])
    start_ts = int(payload.get("start_ts") or end_ts - interval_s * 1000)
    return Interval(interval_s, start_ts, end_ts, pairs_of(payload))


def pairs_of(payload: dict[str, Any]) -> list[Pair]:
    """Every adjacent pair in a `traffic.state.computed` payload."""
    end_ts = int(payload["end_ts"])
    segments = {str(s["segment_id"]): s for s in payload.get("segments") or []}
    stations: dict[str, list[Station]] = {}
    for segment_id, segment in segments.items():
        found = [
            Station(
                str(raw["device_id"]),
                segment_id,
                float(raw.get("offset_m") or 0.0),
                _reading(raw, end_ts),
                bool(raw.get("healthy", True)),
            )
            for raw in segment.get("stations") or []
        ]
        stations[segment_id] = sorted(found, key=lambda s: (s.offset_m, s.device_id))
    out: list[Pair] = []
    for segment_id, segment in segments.items():
        length = float(segment.get("length_m") or 0.0)
        road_class = str(segment.get("road_class") or "")
        own = stations[segment_id]
        for up, down in itertools.pairwise(own):
            out.append(Pair(up, down, road_class, down.offset_m - up.offset_m, length))
        if not own:
            continue
        last = own[-1]
        for next_id in segment.get("downstream") or []:
            after = stations.get(str(next_id))
            if after:
                gap = max(length - last.offset_m, 0.0) + after[0].offset_m
                out.append(Pair(last, after[0], road_class, gap, length))
    return out
