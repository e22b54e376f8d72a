"""The demo city: a small directed road network with geometry, and where its detectors sit.

Lindenfeld is fictional: four arterials meet in the centre and cross a ring road 2 km out.
Every directed segment carries one induction-loop detector station; the network exports as
GeoJSON so the traffic service can import it. Everything here is fixed data, no randomness.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from typing import Any

# the city's centre (lon, lat); ~111.32 km per degree of latitude
CENTRE = (12.0, 48.0)
KM_PER_DEG_LAT = 111.32
# each direction of a two-way road is drawn this far to the right of the centre line
LANE_OFFSET_KM = 0.006
RING_RADIUS_KM = 2.0
# effective length of a vehicle over a loop (vehicle + loop); occupancy = density x this
EFFECTIVE_VEHICLE_LENGTH_M = 5.5


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    x_km: float
    y_km: float
    # where vehicles leave the network (side streets, car parks); 1.0 at the city's edge
    exit_share: float = 0.1


@dataclass(frozen=True, slots=True)
class Segment:
    id: str
    road: str
    road_class: str
    direction: str
    from_node: str
    to_node: str
    lanes: int
    speed_limit_kmh: float
    # traffic-model parameters of the triangular fundamental diagram, per lane
    capacity_vphpl: float
    jam_density_vpkpl: float
    # (lon, lat) pairs from the upstream end to the downstream end
    geometry: tuple[tuple[float, float], ...]
    length_m: float
    upstream: tuple[str, ...] = ()
    downstream: tuple[str, ...] = ()
    # what enters from side streets at the upstream end: its demand profile and peak rate
    source_kind: str = "local"
    source_peak_vph: float = 0.0

    def point_at(self, offset_m: float) -> tuple[float, float, float]:
        """(lon, lat, heading in degrees clockwise from north) `offset_m` along the segment."""
        return point_along(self.geometry, max(0.0, min(offset_m, self.length_m)))


@dataclass(frozen=True, slots=True)
class DetectorSite:
    """A loop detector station across every lane of a segment."""

    id: str
    segment_id: str
    offset_m: float
    lon: float
    lat: float
    lanes: int
    # dual loops measure speed; a single loop gives only count and occupancy
    measures_speed: bool

    @property
    def kind(self) -> str:
        return "dual_loop" if self.measures_speed else "single_loop"


@dataclass(frozen=True)
class Network:
    name: str
    nodes: dict[str, Node]
    segments: dict[str, Segment]
    detectors: tuple[DetectorSite, ...]
    # node id -> ids of segments entering / leaving it
    inbound: dict[str, tuple[str, ...]] = field(default_factory=dict)
    outbound: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def detector_on(self, segment_id: str) -> DetectorSite:
        for site in self.detectors:
            if site.segment_id == segment_id:
                return site
        raise KeyError(segment_id)


def to_lonlat(x_km: float, y_km: float) -> tuple[float, float]:
    lon0, lat0 = CENTRE
    lat = lat0 + y_km / KM_PER_DEG_LAT
    lon = lon0 + x_km / (KM_PER_DEG_LAT * math.cos(math.radians(lat0)))
    return round(lon, 6), round(lat, 6)


def _to_xy(lon: float, lat: float) -> tuple[float, float]:
    lon0, lat0 = CENTRE
    return (
        (lon - lon0) * KM_PER_DEG_LAT * math.cos(math.radians(lat0)),
        (lat - lat0) * KM_PER_DEG_LAT,
    )


def polyline_length_m(geometry: tuple[tuple[float, float], ...]) -> float:
    pts = [_to_xy(lon, lat) for lon, lat in geometry]
    return 1000.0 * sum(math.dist(a, b) for a, b in itertools.pairwise(pts))


def point_along(
    geometry: tuple[tuple[float, float], ...], offset_m: float
) -> tuple[float, float, float]:
    pts = [_to_xy(lon, lat) for lon, lat in geometry]
    remaining = offset_m / 1000.0
    for a, b in itertools.pairwise(pts):
        piece = math.dist(a, b)
        heading = math.degrees(math.atan2(b[0] - a[0], b[1] - a[1])) % 360.0
        if remaining <= piece or b == pts[-1]:
            share = 0.0 if piece == 0 else min(1.0, remaining / piece)
            lon, lat = to_lonlat(a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share)
            return lon, lat, round(heading, 1)
        remaining -= piece
    raise ValueError("a geometry needs at least two points")


def _offset_right(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    # shift a polyline to the right of its direction of travel, so the two directions of a
    # road are two lines on a map
    out: list[tuple[float, float]] = []
    for i, (x, y) in enumerate(points):
        a = points[max(0, i - 1)]
        b = points[min(len(points) - 1, i + 1)]
        dx, dy = b[0] - a[0], b[1] - a[1]
        norm = math.hypot(dx, dy) or 1.0
        out.append((x + dy / norm * LANE_OFFSET_KM, y - dx / norm * LANE_OFFSET_KM))
    return out


# road -> (class, lanes, speed limit, capacity per lane, jam density per lane)
_ROADS: dict[str, tuple[str, int, float, float, float]] = {
    "ring": ("ring", 2, 70.0, 1900.0, 150.0),
    "outer": ("arterial", 2, 70.0, 1800.0, 150.0),
    "inner": ("arterial", 2, 50.0, 1400.0, 150.0),
}
_ARMS = {"N": 90.0, "E": 0.0, "S": 270.0, "W": 180.0}
_ARM_ROADS = {"N": "North Avenue", "E": "East Road", "S": "South Avenue", "W": "West Road"}
_RING = ["N2", "NE", "E2", "SE", "S2", "SW", "W2", "NW"]
_RING_ANGLES = {name: 90.0 - 45.0 * i for i, name in enumerate(_RING)}


def _nodes() -> dict[str, Node]:
    nodes = {"C": Node("C", 0.0, 0.0, exit_share=0.4)}
    for arm, angle in _ARMS.items():
        a = math.radians(angle)
        for suffix, radius, exit_share in (("1", 1.0, 0.25), ("2", RING_RADIUS_KM, 0.2)):
            name = f"{arm}{suffix}"
            nodes[name] = Node(name, radius * math.cos(a), radius * math.sin(a), exit_share)
        nodes[f"{arm}3"] = Node(f"{arm}3", 3.5 * math.cos(a), 3.5 * math.sin(a), 1.0)
    for name in _RING:
        if name not in nodes:
            a = math.radians(_RING_ANGLES[name])
            nodes[name] = Node(
                name, RING_RADIUS_KM * math.cos(a), RING_RADIUS_KM * math.sin(a), 0.2
            )
    return nodes


def _ring_arc(start: str, end: str, clockwise: bool) -> list[tuple[float, float]]:
    a0 = _RING_ANGLES[start]
    sweep = -45.0 if clockwise else 45.0
    return [
        (
            RING_RADIUS_KM * math.cos(math.radians(a0 + sweep * i / 4)),
            RING_RADIUS_KM * math.sin(math.radians(a0 + sweep * i / 4)),
        )
        for i in range(5)
    ]


def _segment(
    nodes: dict[str, Node],
    road: str,
    kind: str,
    direction: str,
    start: str,
    end: str,
    points: list[tuple[float, float]],
    source_kind: str,
    source_peak_vph: float,
) -> Segment:
    road_class, lanes, limit, capacity, jam = _ROADS[kind]
    geometry = tuple(to_lonlat(x, y) for x, y in _offset_right(points))
    return Segment(
        id=f"{start}-{end}",
        road=road,
        road_class=road_class,
        direction=direction,
        from_node=start,
        to_node=end,
        lanes=lanes,
        speed_limit_kmh=limit,
        capacity_vphpl=capacity,
        jam_density_vpkpl=jam,
        geometry=geometry,
        length_m=round(polyline_length_m(geometry), 1),
        source_kind=source_kind,
        source_peak_vph=source_peak_vph,
    )


def build_city() -> Network:
    """Lindenfeld: 24 arterial and 16 ring segments (40, directed), one detector station each."""
    nodes = _nodes()
    segments: list[Segment] = []

    def xy(name: str) -> tuple[float, float]:
        return nodes[name].x_km, nodes[name].y_km

    for arm, road in _ARM_ROADS.items():
        chain = [f"{arm}3", f"{arm}2", f"{arm}1", "C"]
        for i in range(3):
            outer, inner = chain[i], chain[i + 1]
            kind = "outer" if i == 0 else "inner"
            # commuters come in from beyond the ring; the centre sends them home at night
            in_source = ("inbound", 3300.0) if i == 0 else ("local", 250.0)
            out_source = ("outbound", 900.0) if i == 2 else ("local", 250.0)
            segments.append(
                _segment(
                    nodes,
                    road,
                    kind,
                    "inbound",
                    outer,
                    inner,
                    [xy(outer), xy(inner)],
                    *in_source,
                )
            )
            segments.append(
                _segment(
                    nodes,
                    road,
                    kind,
                    "outbound",
                    inner,
                    outer,
                    [xy(inner), xy(outer)],
                    *out_source,
                )
            )
    for i, start in enumerate(_RING):
        end = _RING[(i + 1) % len(_RING)]
        segments.append(
            _segment(
                nodes,
                "Ring Road",
                "ring",
                "clockwise",
                start,
                end,
                _ring_arc(start, end, clockwise=True),
                "local",
                300.0,
            )
        )
        segments.append(
            _segment(
                nodes,
                "Ring Road",
                "ring",
                "counterclockwise",
                end,
                start,
                _ring_arc(end, start, clockwise=False),
                "local",
                300.0,
            )
        )

    inbound: dict[str, list[str]] = {n: [] for n in nodes}
    outbound: dict[str, list[str]] = {n: [] for n in nodes}
    for seg in segments:
        outbound[seg.from_node].append(seg.id)
        inbound[seg.to_node].append(seg.id)
    by_id: dict[str, Segment] = {}
    for seg in segments:
        # no U-turns: the reverse direction of the same road is not downstream
        downstream = tuple(
            s for s in outbound[seg.to_node] if s != f"{seg.to_node}-{seg.from_node}"
        )
        upstream = tuple(s for s in inbound[seg.from_node] if s != f"{seg.to_node}-{seg.from_node}")
        by_id[seg.id] = replace(seg, upstream=upstream, downstream=downstream)

    detectors = []
    for i, seg in enumerate(by_id.values()):
        offset = round(seg.length_m * 0.6, 1)
        lon, lat, _ = seg.point_at(offset)
        detectors.append(
            DetectorSite(
                id=f"loop-{seg.id}",
                segment_id=seg.id,
                offset_m=offset,
                lon=lon,
                lat=lat,
                lanes=seg.lanes,
                # about a third of the stations are single loops, without speed
                measures_speed=i % 3 != 2,
            )
        )
    return Network(
        name="Lindenfeld",
        nodes=nodes,
        segments=by_id,
        detectors=tuple(detectors),
        inbound={k: tuple(v) for k, v in inbound.items()},
        outbound={k: tuple(v) for k, v in outbound.items()},
    )


def to_geojson(network: Network, device_names: dict[str, str] | None = None) -> dict[str, Any]:
    """The network as a GeoJSON FeatureCollection: segments (LineString) and detector
    stations (Point), told apart by the `kind` property; `device_names` maps a detector
    site id to the name of the device that reports for it."""
    names = device_names or {}
    features: list[dict[str, Any]] = []
    for seg in network.segments.values():
        features.append(
            {
                "type": "Feature",
                "id": seg.id,
                "geometry": {"type": "LineString", "coordinates": [list(p) for p in seg.geometry]},
                "properties": {
                    "kind": "segment",
                    "segment_id": seg.id,
                    "road": seg.road,
                    "road_class": seg.road_class,
                    "direction": seg.direction,
                    "from_node": seg.from_node,
                    "to_node": seg.to_node,
                    "lanes": seg.lanes,
                    "speed_limit_kmh": seg.speed_limit_kmh,
                    "length_m": seg.length_m,
                    "capacity_vphpl": seg.capacity_vphpl,
                    "jam_density_vpkpl": seg.jam_density_vpkpl,
                    "upstream": list(seg.upstream),
                    "downstream": list(seg.downstream),
                },
            }
        )
    for site in network.detectors:
        features.append(
            {
                "type": "Feature",
                "id": site.id,
                "geometry": {"type": "Point", "coordinates": [site.lon, site.lat]},
                "properties": {
                    "kind": "detector",
                    "detector_id": site.id,
                    "device_name": names.get(site.id),
                    "segment_id": site.segment_id,
                    "offset_m": site.offset_m,
                    "lanes": site.lanes,
                    "detector_kind": site.kind,
                    "measures_speed": site.measures_speed,
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "name": network.name,
        "properties": {
            "centre": list(CENTRE),
            "effective_vehicle_length_m": EFFECTIVE_VEHICLE_LENGTH_M,
        },
        "features": features,
    }
