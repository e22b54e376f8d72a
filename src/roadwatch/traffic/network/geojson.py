"""The network as a GeoJSON FeatureCollection: segments as LineStrings (`kind: segment`),
detector stations as Points (`kind: detector`), cameras as Points (`kind: camera`), as the
simulator's `--export-network` writes it (docs/simulation.md)."""

from __future__ import annotations

from typing import Any

from roadwatch.traffic.models import Camera, Detector, Road, Segment
from roadwatch.traffic.network.draft import (
    CameraDraft,
    DetectorDraft,
    NetworkDraft,
    slug,
    validated,
)
from roadwatch.traffic.network.geometry import point_along
from roadwatch.traffic.schemas import CameraPlace, DetectorPlace, RoadCreate, SegmentCreate

_SEGMENT_FIELDS = (
    "name",
    "direction",
    "from_node",
    "to_node",
    "length_m",
    "lanes",
    "speed_limit_kmh",
    "free_flow_kmh",
    "capacity_vphpl",
    "road_class",
    "status",
    "upstream",
    "downstream",
)


def parse(body: Any) -> NetworkDraft:
    """A FeatureCollection as a draft; every problem is reported with its feature."""
    draft = NetworkDraft(format="geojson")
    if not isinstance(body, dict) or body.get("type") != "FeatureCollection":
        draft.error("body", "type", "expected a GeoJSON FeatureCollection")
        return draft
    features = body.get("features")
    if not isinstance(features, list):
        draft.error("body", "features", "expected a list of features")
        return draft
    for index, feature in enumerate(features):
        where = f"features[{index}]"
        if not isinstance(feature, dict):
            draft.error(where, "", "a feature must be an object")
            continue
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        if not isinstance(props, dict) or not isinstance(geometry, dict):
            draft.error(where, "properties", "properties and geometry must be objects")
            continue
        name = feature.get("id") or props.get("detector_id") or props.get("segment_id")
        if name:
            where = f"{where} ({name})"
        kind = props.get("kind") or {"LineString": "segment", "Point": "detector"}.get(
            str(geometry.get("type")), ""
        )
        if kind == "segment":
            _segment(draft, where, feature, props, geometry)
        elif kind == "detector":
            _detector(draft, where, props)
        elif kind == "camera":
            _camera(draft, where, props)
        else:
            draft.error(where, "properties.kind", f"unknown kind {kind!r}; segment or detector")
    return draft


def _segment(
    draft: NetworkDraft,
    where: str,
    feature: dict[str, Any],
    props: dict[str, Any],
    geometry: dict[str, Any],
) -> None:
    draft.named.add(str(props.get("segment_id") or props.get("id") or feature.get("id")))
    if geometry.get("type") != "LineString":
        draft.error(where, "geometry.type", "a segment's geometry must be a LineString")
        return
    road_name = str(props.get("road") or props.get("road_name") or "")
    road_id = props.get("road_id") or (slug(road_name) if road_name else None)
    data: dict[str, Any] = {k: props[k] for k in _SEGMENT_FIELDS if props.get(k) is not None}
    data["id"] = props.get("segment_id") or props.get("id") or feature.get("id")
    draft.named.add(str(data["id"]))
    data["road_id"] = road_id
    data["geometry"] = geometry.get("coordinates")
    data.setdefault("name", road_name)
    segment = validated(draft, where, SegmentCreate, data, "properties.")
    if segment is None:
        return
    if segment.road_id not in draft.roads:
        road = validated(
            draft,
            where,
            RoadCreate,
            {
                "id": segment.road_id,
                "name": road_name or segment.road_id,
                "road_class": segment.road_class or props.get("road_class"),
            },
            "properties.road.",
        )
        if road is not None:
            draft.roads[road.id] = road
    if segment.road_class is None and segment.road_id in draft.roads:
        segment = segment.model_copy(update={"road_class": draft.roads[segment.road_id].road_class})
    draft.segments.append((where, segment))


def _detector(draft: NetworkDraft, where: str, props: dict[str, Any]) -> None:
    device_id = props.get("device_id")
    device_name = props.get("device_name")
    if not device_id and not device_name:
        draft.error(where, "properties.device_name", "a detector names its device_name or id")
        return
    data = {
        "segment_id": props.get("segment_id"),
        "offset_m": props.get("offset_m"),
        "lane": props.get("lane"),
        "lanes": props.get("lanes"),
        "name": str(props.get("name") or device_name or ""),
    }
    if props.get("detector_kind") is not None:
        data["kind"] = props["detector_kind"]
    place = validated(draft, where, DetectorPlace, data, "properties.")
    if place is not None:
        draft.detectors.append(
            DetectorDraft(
                where,
                place,
                device_id=str(device_id) if device_id else None,
                device_name=str(device_name) if device_name else None,
            )
        )


def _camera(draft: NetworkDraft, where: str, props: dict[str, Any]) -> None:
    device_id = props.get("device_id")
    if not device_id:
        draft.error(where, "properties.device_id", "a camera names its device_id")
        return
    data = {
        "segment_id": props.get("segment_id"),
        "offset_m": props.get("offset_m"),
        "heading_deg": props.get("heading_deg"),
        "name": str(props.get("name") or ""),
    }
    place = validated(draft, where, CameraPlace, data, "properties.")
    if place is not None:
        draft.cameras.append(CameraDraft(where, str(device_id), place))


def export(
    roads: list[Road],
    segments: list[Segment],
    detectors: list[Detector],
    cameras: list[Camera],
) -> dict[str, Any]:
    names = {r.id: r.name for r in roads}
    features: list[dict[str, Any]] = []
    by_id = {s.id: s for s in segments}
    for s in segments:
        features.append(
            {
                "type": "Feature",
                "id": s.id,
                "geometry": {"type": "LineString", "coordinates": s.geometry},
                "properties": {
                    "kind": "segment",
                    "segment_id": s.id,
                    "road_id": s.road_id,
                    "road": names.get(s.road_id, s.road_id),
                    "name": s.name,
                    "road_class": s.road_class,
                    "direction": s.direction,
                    "from_node": s.from_node,
                    "to_node": s.to_node,
                    "lanes": s.lanes,
                    "length_m": s.length_m,
                    "speed_limit_kmh": s.speed_limit_kmh,
                    "free_flow_kmh": s.free_flow_kmh,
                    "capacity_vphpl": s.capacity_vphpl,
                    "status": s.status,
                    "upstream": s.upstream,
                    "downstream": s.downstream,
                },
            }
        )
    for d in detectors:
        seg = by_id.get(d.segment_id)
        if seg is None:
            continue
        lon, lat = point_along(seg.geometry, d.offset_m)
        features.append(
            {
                "type": "Feature",
                "id": d.device_id,
                "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
                "properties": {
                    "kind": "detector",
                    "device_id": d.device_id,
                    "device_name": d.name,
                    "segment_id": d.segment_id,
                    "offset_m": d.offset_m,
                    "lane": d.lane,
                    "lanes": d.lanes,
                    "detector_kind": d.kind,
                },
            }
        )
    for c in cameras:
        seg = by_id.get(c.segment_id)
        if seg is None:
            continue
        lon, lat = point_along(seg.geometry, c.offset_m)
        features.append(
            {
                "type": "Feature",
                "id": c.device_id,
                "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
                "properties": {
                    "kind": "camera",
                    "device_id": c.device_id,
                    "name": c.name,
                    "segment_id": c.segment_id,
                    "offset_m": c.offset_m,
                    "heading_deg": c.heading_deg,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
