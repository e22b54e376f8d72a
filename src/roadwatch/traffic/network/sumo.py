"""A SUMO network (.net.xml) read with sumolib: every non-internal edge a directed segment,
its connections the topology, lanes, speed and length from the edge, the road class from
the edge's type (or its priority), and the geometry in WGS 84.

sumolib (the optional `sumo` extra) is imported only here and only when a SUMO file is
imported, so the service runs without it.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

from roadwatch.traffic.network.draft import NetworkDraft, slug, validated
from roadwatch.traffic.network.geometry import EARTH_RADIUS_M
from roadwatch.traffic.schemas import RoadCreate, SegmentCreate


class SumoUnavailable(Exception):
    """sumolib (or pyproj for a geo-referenced net) is not installed."""


def _road_class(edge_type: str, priority: int) -> str:
    # netconvert's OSM types are "highway.primary" and the like; keep the last word
    if edge_type:
        word = edge_type.rsplit(".", 1)[-1].lower().removesuffix("_link")
        cleaned = "".join(c if c.isalnum() else "_" for c in word).strip("_")
        if cleaned and cleaned[0].isalpha():
            return cleaned[:32]
    if priority >= 13:
        return "motorway"
    if priority >= 10:
        return "arterial"
    if priority >= 7:
        return "collector"
    return "local"


def _road_id(edge_id: str) -> str:
    # "-E1#2" and "E1#0" are pieces of the two directions of one road "E1"
    return edge_id.lstrip("-").split("#", 1)[0] or edge_id


def parse(content: bytes, origin: tuple[float, float]) -> NetworkDraft:
    """The network in `content`; a net without a geo projection is laid out around
    `origin` (lon, lat), its x axis pointing east and y north, in metres."""
    try:
        import sumolib
    except ImportError as exc:
        raise SumoUnavailable(
            "importing a SUMO network needs sumolib: install roadwatch with the 'sumo' extra"
        ) from exc
    draft = NetworkDraft(format="sumo")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.net.xml"
        path.write_bytes(content)
        try:
            net = sumolib.net.readNet(str(path), withInternal=False)
        except Exception as exc:  # sumolib raises whatever its XML parser raises
            draft.error("body", "", f"not a readable SUMO network: {exc}")
            return draft
    geo = bool(net.hasGeoProj())
    if geo:
        try:
            net.getGeoProj()
        except (RuntimeError, ImportError) as exc:
            raise SumoUnavailable(
                "this SUMO network is geo-referenced; converting it needs pyproj (the 'sumo' extra)"
            ) from exc

    def lonlat(x: float, y: float) -> list[float]:
        if geo:
            lon, lat = net.convertXY2LonLat(x, y)
            return [round(float(lon), 7), round(float(lat), 7)]
        lat0 = math.radians(origin[1])
        lat = origin[1] + math.degrees(y / EARTH_RADIUS_M)
        lon = origin[0] + math.degrees(x / (EARTH_RADIUS_M * math.cos(lat0)))
        return [round(lon, 7), round(lat, 7)]

    for edge in net.getEdges(withInternal=False):
        if edge.getFunction() == "internal":
            continue
        edge_id = str(edge.getID())
        where = f"edge {edge_id}"
        draft.named.add(edge_id)
        start, end = edge.getFromNode().getID(), edge.getToNode().getID()

        def linked(edges: Any, start: str = start, end: str = end) -> list[str]:
            # the turnaround onto the same road's other direction is not traffic's way on
            return sorted(
                str(e.getID())
                for e in edges
                if e.getFunction() != "internal"
                and not (e.getFromNode().getID() == end and e.getToNode().getID() == start)
            )

        name = str(edge.getName() or "")
        road_class = _road_class(str(edge.getType() or ""), int(edge.getPriority() or 0))
        road_id = slug(name) if name else _road_id(edge_id)
        speed_kmh = round(float(edge.getSpeed()) * 3.6, 2)
        segment = validated(
            draft,
            where,
            SegmentCreate,
            {
                "id": edge_id,
                "road_id": road_id,
                "name": name or road_id,
                "from_node": str(start),
                "to_node": str(end),
                "geometry": [lonlat(x, y) for x, y in edge.getShape()],
                "length_m": round(float(edge.getLength()), 2),
                "lanes": edge.getLaneNumber(),
                "speed_limit_kmh": speed_kmh,
                "road_class": road_class,
                "upstream": linked(edge.getIncoming()),
                "downstream": linked(edge.getOutgoing()),
            },
            "",
        )
        if segment is None:
            continue
        if road_id not in draft.roads:
            draft.roads[road_id] = RoadCreate(
                id=road_id, name=name or road_id, road_class=road_class
            )
        draft.segments.append((where, segment))
    return draft
