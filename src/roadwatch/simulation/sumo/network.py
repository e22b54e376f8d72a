"""A SUMO network read as the simulator's `Network`: every ordinary (non-internal) edge that
cars may use is a directed segment, and a detector station (an E1 loop on every lane) sits
on each edge long enough to hold one. Geometry is WGS 84: the network's own projection when
it has one, else its metres placed around a fixed origin east of the demo city.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sumolib

from roadwatch.simulation.city import (
    KM_PER_DEG_LAT,
    DetectorSite,
    Network,
    Node,
    Segment,
    to_geojson,
)

# where a network without a projection is drawn: (lon, lat) of its (0, 0), 6 km east of
# Lindenfeld's centre so both can be imported into one platform without overlapping
ORIGIN = (12.09, 48.0)
# a station needs this much road; shorter edges (junction stubs, ramps' ends) get none
MIN_STATION_EDGE_M = 60.0
# where on an edge its station sits, as a share of the edge's length
STATION_SHARE = 0.5
JAM_DENSITY_VPKPL = 150.0
# the demand's traffic mix (demand.VEHICLE_TYPES): 90 % cars of 4.6 m, 10 % lorries of 12 m
MEAN_VEHICLE_LENGTH_M = 0.9 * 4.6 + 0.1 * 12.0


@dataclass(frozen=True, slots=True)
class Station:
    """A loop station: one E1 detector per lane of an edge at one position."""

    site: DetectorSite
    edge_id: str
    # E1 detector ids, lane 1 (SUMO's lane index 0, nearside) first
    loops: tuple[str, ...]
    pos_m: float


@dataclass(frozen=True)
class SumoNetwork:
    """The simulator's view of a SUMO network plus what TraCI needs to address it."""

    network: Network
    stations: tuple[Station, ...]
    net: Any  # sumolib.net.Net

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        return xy_to_lonlat(self.net, x, y)


def xy_to_lonlat(net: Any, x: float, y: float) -> tuple[float, float]:
    if net.hasGeoProj():
        lon, lat = net.convertXY2LonLat(x, y)
        return round(float(lon), 6), round(float(lat), 6)
    lon0, lat0 = ORIGIN
    lat = lat0 + y / 1000.0 / KM_PER_DEG_LAT
    lon = lon0 + x / 1000.0 / (KM_PER_DEG_LAT * math.cos(math.radians(lat0)))
    return round(lon, 6), round(lat, 6)


def road_class(edge: Any) -> str:
    """The road class of an edge: from its OSM-style type when it has one, else its speed."""
    kind = str(edge.getType() or "")
    if "motorway" in kind or "trunk" in kind:
        return "motorway"
    if "primary" in kind or "secondary" in kind:
        return "arterial"
    if "residential" in kind or "tertiary" in kind or "living" in kind:
        return "local"
    speed_kmh = edge.getSpeed() * 3.6
    if speed_kmh >= 80:
        return "motorway"
    return "arterial" if speed_kmh >= 45 else "local"


# capacity per lane by road class, veh/h: what the traffic service uses when it has no
# better figure (close to what SUMO's default car-following model carries)
CAPACITY_VPHPL = {"motorway": 1900.0, "arterial": 1500.0, "local": 1000.0}


def _usable(edge: Any) -> bool:
    return bool(edge.getFunction() == "" and edge.allows("passenger"))


def _is_turnaround(a: Any, b: Any) -> bool:
    return bool(a.getToNode() is b.getFromNode() and b.getToNode() is a.getFromNode())


def read_network(path: Path, name: str = "") -> SumoNetwork:
    """The network in a `.net.xml` as segments and loop stations."""
    net = sumolib.net.readNet(str(path))
    edges = [e for e in net.getEdges() if _usable(e)]
    usable = {e.getID() for e in edges}
    segments: dict[str, Segment] = {}
    stations: list[Station] = []
    for edge in edges:
        geometry = tuple(xy_to_lonlat(net, x, y) for x, y in edge.getShape())
        downstream = tuple(
            sorted(
                o.getID()
                for o in edge.getOutgoing()
                if o.getID() in usable and not _is_turnaround(edge, o)
            )
        )
        upstream = tuple(
            sorted(
                i.getID()
                for i in edge.getIncoming()
                if i.getID() in usable and not _is_turnaround(i, edge)
            )
        )
        klass = road_class(edge)
        seg_id = edge.getID()
        segments[seg_id] = Segment(
            id=seg_id,
            road=str(edge.getName() or seg_id),
            road_class=klass,
            direction=_direction(edge.getShape()),
            from_node=edge.getFromNode().getID(),
            to_node=edge.getToNode().getID(),
            lanes=edge.getLaneNumber(),
            speed_limit_kmh=round(edge.getSpeed() * 3.6, 1),
            capacity_vphpl=CAPACITY_VPHPL[klass],
            jam_density_vpkpl=JAM_DENSITY_VPKPL,
            geometry=geometry,
            length_m=round(float(edge.getLength()), 1),
            upstream=upstream,
            downstream=downstream,
        )
        if edge.getLength() >= MIN_STATION_EDGE_M:
            stations.append(_station(net, edge, segments[seg_id]))
    nodes: dict[str, Node] = {}
    for node in net.getNodes():
        x, y = node.getCoord()[:2]
        nodes[node.getID()] = Node(node.getID(), x / 1000.0, y / 1000.0)
    inbound: dict[str, list[str]] = {n: [] for n in nodes}
    outbound: dict[str, list[str]] = {n: [] for n in nodes}
    for seg in segments.values():
        outbound[seg.from_node].append(seg.id)
        inbound[seg.to_node].append(seg.id)
    network = Network(
        name=name or path.name.removesuffix(".net.xml"),
        nodes=nodes,
        segments=segments,
        detectors=tuple(s.site for s in stations),
        inbound={k: tuple(v) for k, v in inbound.items()},
        outbound={k: tuple(v) for k, v in outbound.items()},
    )
    return SumoNetwork(network, tuple(stations), net)


def _station(net: Any, edge: Any, segment: Segment) -> Station:
    offset = round(float(edge.getLength()) * STATION_SHARE, 1)
    lane0 = edge.getLane(0)
    # the loop sits on each lane at the same distance from the edge's start; lanes can be a
    # little shorter than the edge where the junction's shape cuts them
    pos = min(offset, float(lane0.getLength()) - 1.0)
    x, y = sumolib.geomhelper.positionAtShapeOffset(edge.getShape(), offset)
    lon, lat = xy_to_lonlat(net, x, y)
    site_id = f"loop-{segment.id}"
    site = DetectorSite(
        id=site_id,
        segment_id=segment.id,
        offset_m=offset,
        lon=lon,
        lat=lat,
        lanes=segment.lanes,
        measures_speed=True,
    )
    loops = tuple(f"{site_id}_{i}" for i in range(segment.lanes))
    return Station(site, edge.getID(), loops, round(pos, 1))


def _direction(shape: list[tuple[float, float]]) -> str:
    (x0, y0), (x1, y1) = shape[0][:2], shape[-1][:2]
    heading = math.degrees(math.atan2(x1 - x0, y1 - y0)) % 360.0
    return ("northbound", "eastbound", "southbound", "westbound")[int((heading + 45) // 90) % 4]


def sumo_geojson(
    sumo_net: SumoNetwork, device_names: dict[str, str], loop_length_m: float
) -> dict[str, Any]:
    """The network as `--export-network` writes it (the synthetic city's format), with the
    collection's properties saying where it is and what a vehicle covers on its loops."""
    data = to_geojson(sumo_net.network, device_names)
    bounds = sumo_net.net.getBoundary()
    data["properties"] = {
        "centre": list(
            sumo_net.to_lonlat((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
        ),
        "effective_vehicle_length_m": round(MEAN_VEHICLE_LENGTH_M + loop_length_m, 2),
        "source": "sumo",
    }
    return data
