"""Roads and segments: create, change, delete, list; the topology kept consistent both ways
(a segment listed downstream of another lists it upstream); whole networks imported from a
draft (GeoJSON, SUMO) all or nothing, and exported as GeoJSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.platform.errors import Conflict, InvalidInput, NotFound
from roadwatch.platform.events import publish
from roadwatch.platform.pagination import PageParams, paginate
from roadwatch.traffic import events
from roadwatch.traffic.metrics import DETECTORS_PLACED, NETWORK_IMPORTS
from roadwatch.traffic.models import Road, Segment
from roadwatch.traffic.network import geojson
from roadwatch.traffic.network.draft import NetworkDraft
from roadwatch.traffic.network.geometry import polyline_length_m
from roadwatch.traffic.network.topology import derived_links
from roadwatch.traffic.repository import ROAD_SORTABLE, SEGMENT_SORTABLE, NetworkRepository
from roadwatch.traffic.schemas import (
    ImportCounts,
    ImportReport,
    RoadCreate,
    RoadRead,
    RoadUpdate,
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
)
from roadwatch.traffic.service.placement import PlacementService


def road_read(road: Road) -> RoadRead:
    return RoadRead.model_validate(road, from_attributes=True)


def segment_read(segment: Segment) -> SegmentRead:
    return SegmentRead.model_validate(segment, from_attributes=True)


_NOWHERE = "is neither in the file nor in the network"


def _invalid(problems: list[dict[str, str]]) -> InvalidInput:
    detail = "; ".join(
        f"{p['feature'] + ': ' if p.get('feature') else ''}{p['field']}: {p['message']}"
        for p in problems[:20]
    )
    if len(problems) > 20:
        detail += f"; and {len(problems) - 20} more"
    return InvalidInput(detail, errors=problems)


class NetworkService:
    def __init__(self, session: AsyncSession, actor: str) -> None:
        self.session = session
        self.actor = actor
        self.repo = NetworkRepository(session)

    # --- roads -------------------------------------------------------------------------

    async def get_road(self, road_id: str) -> Road:
        road = await self.session.get(Road, road_id)
        if road is None:
            raise NotFound(f"road {road_id} not found")
        return road

    async def list_roads(self, page: PageParams, road_class: str | None) -> tuple[list[Road], int]:
        return await paginate(
            self.session, self.repo.roads(road_class), page, ROAD_SORTABLE, tiebreak=Road.id
        )

    async def _road_event(self, type: str, road: Road) -> None:
        await self.session.flush()
        await self.session.refresh(road)
        state = road_read(road).model_dump(mode="json")
        publish(self.session, events.entity_event(type, "road", road.id, state, self.actor))

    async def create_road(self, data: RoadCreate) -> Road:
        if await self.session.get(Road, data.id) is not None:
            raise Conflict(f"road {data.id} already exists")
        road = Road(id=data.id, name=data.name, road_class=data.road_class)
        self.session.add(road)
        await self._road_event(events.ROAD_CREATED, road)
        return road

    async def update_road(self, road_id: str, data: RoadUpdate) -> Road:
        road = await self.get_road(road_id)
        if data.name is not None:
            road.name = data.name
        if data.road_class is not None:
            road.road_class = data.road_class
        await self._road_event(events.ROAD_UPDATED, road)
        return road

    async def delete_road(self, road_id: str) -> None:
        road = await self.get_road(road_id)
        segments = await self.repo.segment_ids_of_road(road_id)
        if segments:
            raise Conflict(
                f"road {road_id} still has segments ({', '.join(segments[:10])}); "
                "delete them first",
                segments=segments,
            )
        await self._road_event(events.ROAD_DELETED, road)
        await self.session.delete(road)

    # --- segments ----------------------------------------------------------------------

    async def get_segment(self, segment_id: str) -> Segment:
        segment = await self.session.get(Segment, segment_id)
        if segment is None:
            raise NotFound(f"segment {segment_id} not found")
        return segment

    async def list_segments(
        self, page: PageParams, road_id: str | None, road_class: str | None, status: str | None
    ) -> tuple[list[Segment], int]:
        return await paginate(
            self.session,
            self.repo.segments(road_id, road_class, status),
            page,
            SEGMENT_SORTABLE,
            tiebreak=Segment.id,
        )

    async def _segment_event(self, type: str, segment: Segment) -> None:
        await self.session.flush()
        await self.session.refresh(segment)
        state = segment_read(segment).model_dump(mode="json")
        publish(self.session, events.entity_event(type, "segment", segment.id, state, self.actor))

    async def create_segment(self, data: SegmentCreate) -> Segment:
        if await self.session.get(Segment, data.id) is not None:
            raise Conflict(f"segment {data.id} already exists")
        road = await self.session.get(Road, data.road_id)
        if road is None:
            raise InvalidInput(
                f"road_id: road {data.road_id} does not exist; create it first",
                errors=[{"field": "road_id", "message": "no such road"}],
            )
        segment = Segment(id=data.id, road_id=data.road_id, upstream=[], downstream=[])
        self._apply(segment, data, road)
        self.session.add(segment)
        await self.session.flush()
        changed = await self._link(segment, data.upstream, data.downstream, where="")
        await self._segment_event(events.SEGMENT_CREATED, segment)
        await self._neighbours_changed(changed - {segment.id})
        await PlacementService(self.session, self.actor).resolve_pending()
        return segment

    @staticmethod
    def _apply(segment: Segment, data: SegmentCreate, road: Road | RoadCreate) -> None:
        geometry = [[float(c) for c in point[:2]] for point in data.geometry]
        segment.road_id = data.road_id
        segment.name = data.name or road.name
        segment.direction = data.direction
        segment.from_node = data.from_node
        segment.to_node = data.to_node
        segment.geometry = geometry
        segment.length_m = data.length_m or round(polyline_length_m(geometry), 2)
        segment.lanes = data.lanes
        segment.speed_limit_kmh = data.speed_limit_kmh
        segment.free_flow_kmh = data.free_flow_kmh or data.speed_limit_kmh
        segment.capacity_vphpl = data.capacity_vphpl
        segment.road_class = data.road_class or road.road_class
        segment.status = data.status.value

    async def update_segment(self, segment_id: str, data: SegmentUpdate) -> Segment:
        segment = await self.get_segment(segment_id)
        changes = data.model_dump(exclude_unset=True)
        for required in ("geometry", "lanes", "speed_limit_kmh", "free_flow_kmh", "road_class"):
            if required in changes and changes[required] is None:
                raise InvalidInput(
                    f"{required}: may not be null",
                    errors=[{"field": required, "message": "may not be null"}],
                )
        if data.geometry is not None:
            segment.geometry = [[float(c) for c in p[:2]] for p in data.geometry]
            if data.length_m is None:
                segment.length_m = round(polyline_length_m(segment.geometry), 2)
        for name in ("name", "direction", "length_m", "lanes", "speed_limit_kmh"):
            if changes.get(name) is not None:
                setattr(segment, name, changes[name])
        if data.free_flow_kmh is not None:
            segment.free_flow_kmh = data.free_flow_kmh
        if "capacity_vphpl" in changes:
            segment.capacity_vphpl = data.capacity_vphpl
        if data.road_class is not None:
            segment.road_class = data.road_class
        if data.status is not None:
            segment.status = data.status.value
        await PlacementService(self.session, self.actor).check_fits(segment)
        changed: set[str] = set()
        if data.upstream is not None or data.downstream is not None:
            changed = await self._link(
                segment,
                data.upstream if data.upstream is not None else segment.upstream,
                data.downstream if data.downstream is not None else segment.downstream,
                where="",
            )
        await self._segment_event(events.SEGMENT_UPDATED, segment)
        await self._neighbours_changed(changed - {segment.id})
        return segment

    async def delete_segment(self, segment_id: str) -> None:
        segment = await self.get_segment(segment_id)
        placed = await PlacementService(self.session, self.actor).placed_on(segment_id)
        if placed:
            raise Conflict(
                f"segment {segment_id} still has detectors or cameras "
                f"({', '.join(placed[:10])}); remove them first",
                devices=placed,
            )
        changed = await self._link(segment, [], [], where="")
        await self._segment_event(events.SEGMENT_DELETED, segment)
        await self.session.delete(segment)
        await self._neighbours_changed(changed - {segment_id})

    async def _link(
        self,
        segment: Segment,
        upstream: list[str] | None,
        downstream: list[str] | None,
        where: str,
        errors: list[dict[str, str]] | None = None,
    ) -> set[str]:
        """Set the segment's links (derived from the nodes when None) and mirror them on its
        neighbours; returns the ids of the neighbours whose lists changed."""
        if upstream is None or downstream is None:
            up, down = derived_links(segment, await self.repo.all_segments())
            upstream = up if upstream is None else upstream
            downstream = down if downstream is None else downstream
        wanted = set(upstream) | set(downstream)
        known = await self.repo.segments_by_id(
            sorted(wanted | set(segment.upstream) | set(segment.downstream))
        )
        missing = sorted(wanted - set(known))
        if segment.id in wanted:
            raise _invalid(
                [{"feature": where, "field": "upstream", "message": "a segment cannot feed itself"}]
            )
        if missing:
            problems = [
                {
                    "feature": where,
                    "field": "upstream" if m in upstream else "downstream",
                    "message": f"segment {m} does not exist",
                }
                for m in missing
            ]
            if errors is not None:
                errors.extend(problems)
                return set()
            raise _invalid(problems)
        changed: set[str] = set()
        for side, other_side, ids in (
            ("upstream", "downstream", set(upstream)),
            ("downstream", "upstream", set(downstream)),
        ):
            before = set(getattr(segment, side))
            for gone in before - ids:
                other = known.get(gone)
                if other is not None and segment.id in getattr(other, other_side):
                    setattr(
                        other,
                        other_side,
                        [i for i in getattr(other, other_side) if i != segment.id],
                    )
                    changed.add(gone)
            for new in ids:
                other = known[new]
                if segment.id not in getattr(other, other_side):
                    setattr(other, other_side, sorted([*getattr(other, other_side), segment.id]))
                    changed.add(new)
            setattr(segment, side, sorted(ids))
        return changed

    async def _neighbours_changed(self, ids: set[str]) -> None:
        for segment in (await self.repo.segments_by_id(sorted(ids))).values():
            await self._segment_event(events.SEGMENT_UPDATED, segment)

    # --- import / export ---------------------------------------------------------------

    async def import_draft(self, draft: NetworkDraft) -> ImportReport:
        """Apply a whole network, or nothing: every problem is collected and reported."""
        errors = list(draft.errors)
        seen: dict[str, str] = {}
        for where, seg in draft.segments:
            if seg.id in seen:
                errors.append(
                    {
                        "feature": where,
                        "field": "segment_id",
                        "message": f"segment {seg.id} repeats {seen[seg.id]}",
                    }
                )
            seen[seg.id] = where
        existing = {s.id: s for s in await self.repo.all_segments()}
        ids = set(existing) | set(seen) | draft.named
        for where, seg in draft.segments:
            for side in ("upstream", "downstream"):
                for other in getattr(seg, side) or []:
                    if other not in ids:
                        errors.append(
                            {
                                "feature": where,
                                "field": f"properties.{side}",
                                "message": f"segment {other} {_NOWHERE}",
                            }
                        )
        lengths = {s.id: s.length_m for s in existing.values()}
        lanes = {s.id: s.lanes for s in existing.values()}
        for _, seg in draft.segments:
            lengths[seg.id] = seg.length_m or polyline_length_m(seg.geometry)
            lanes[seg.id] = seg.lanes
        for det in draft.detectors:
            sid = det.place.segment_id
            if sid in draft.named and sid not in seen:
                continue  # its segment's feature is wrong, and reported
            if sid not in lengths:
                errors.append(
                    {
                        "feature": det.where,
                        "field": "properties.segment_id",
                        "message": f"segment {sid} {_NOWHERE}",
                    }
                )
            elif det.place.offset_m > lengths[sid] + 0.01:
                errors.append(
                    {
                        "feature": det.where,
                        "field": "properties.offset_m",
                        "message": f"{det.place.offset_m} m is beyond the segment's "
                        f"length ({lengths[sid]:.1f} m)",
                    }
                )
            elif det.place.lane is not None and det.place.lane > lanes[sid]:
                errors.append(
                    {
                        "feature": det.where,
                        "field": "properties.lane",
                        "message": f"segment {sid} has {lanes[sid]} lanes",
                    }
                )
        for cam in draft.cameras:
            sid = cam.place.segment_id
            if sid in draft.named and sid not in seen:
                continue
            if sid not in lengths:
                errors.append(
                    {
                        "feature": cam.where,
                        "field": "properties.segment_id",
                        "message": f"segment {sid} {_NOWHERE}",
                    }
                )
            elif cam.place.offset_m > lengths[sid] + 0.01:
                errors.append(
                    {
                        "feature": cam.where,
                        "field": "properties.offset_m",
                        "message": f"beyond the segment's length ({lengths[sid]:.1f} m)",
                    }
                )
        if not draft.segments and not draft.detectors and not draft.cameras:
            errors.append(
                {
                    "feature": "body",
                    "field": "features",
                    "message": "the file holds no segments, detectors or cameras",
                }
            )
        if errors:
            NETWORK_IMPORTS.labels(draft.format, "refused").inc()
            raise _invalid(errors)
        created, updated = ImportCounts(), ImportCounts()
        for road_data in draft.roads.values():
            road = await self.session.get(Road, road_data.id)
            if road is None:
                road = Road(id=road_data.id, name=road_data.name, road_class=road_data.road_class)
                self.session.add(road)
                await self._road_event(events.ROAD_CREATED, road)
                created.roads += 1
            elif (road.name, road.road_class) != (road_data.name, road_data.road_class):
                road.name, road.road_class = road_data.name, road_data.road_class
                await self._road_event(events.ROAD_UPDATED, road)
                updated.roads += 1
        touched: dict[str, tuple[Segment, bool, dict[str, Any]]] = {}
        for _, seg_data in draft.segments:
            segment = existing.get(seg_data.id)
            fresh = segment is None
            if segment is None:
                segment = Segment(id=seg_data.id, upstream=[], downstream=[])
                self.session.add(segment)
            before = (
                segment_read(segment).model_dump(exclude={"created_at", "updated_at"})
                if not fresh
                else {}
            )
            owner = draft.roads.get(seg_data.road_id) or await self.get_road(seg_data.road_id)
            self._apply(segment, seg_data, owner)
            touched[segment.id] = (segment, fresh, before)
        await self.session.flush()
        neighbours: set[str] = set()
        for where, seg_data in draft.segments:
            segment = touched[seg_data.id][0]
            neighbours |= await self._link(segment, seg_data.upstream, seg_data.downstream, where)
        for segment, fresh, before in touched.values():
            if fresh:
                await self._segment_event(events.SEGMENT_CREATED, segment)
                created.segments += 1
                continue
            await self.session.flush()
            after = segment_read(segment).model_dump(exclude={"created_at", "updated_at"})
            if after != before:
                await self._segment_event(events.SEGMENT_UPDATED, segment)
                updated.segments += 1
        await self._neighbours_changed(neighbours - set(touched))
        placement = PlacementService(self.session, self.actor)
        pending: list[str] = []
        for det in draft.detectors:
            outcome = await placement.place_from_import(det)
            if outcome == "created":
                created.detectors += 1
            elif outcome == "updated":
                updated.detectors += 1
            elif outcome == "pending" and det.device_name:
                pending.append(det.device_name)
        for cam in draft.cameras:
            was = await self.repo.camera(cam.device_id)
            snapshot = (was.segment_id, was.offset_m, was.heading_deg, was.name) if was else None
            row, fresh = await placement.place_camera(cam.device_id, cam.place)
            if fresh:
                created.cameras += 1
            elif snapshot != (row.segment_id, row.offset_m, row.heading_deg, row.name):
                updated.cameras += 1
        await placement.resolve_pending()
        NETWORK_IMPORTS.labels(draft.format, "applied").inc()
        DETECTORS_PLACED.labels("import").inc(created.detectors + updated.detectors)
        report = ImportReport(
            format=draft.format, created=created, updated=updated, pending_detectors=sorted(pending)
        )
        publish(
            self.session,
            events.entity_event(
                events.NETWORK_IMPORTED,
                "network",
                "network",
                report.model_dump(mode="json"),
                self.actor,
            ),
        )
        return report

    async def export_geojson(self) -> dict[str, Any]:
        return geojson.export(
            await self.repo.all_roads(),
            await self.repo.all_segments(),
            await self.repo.all_detectors(),
            await self.repo.all_cameras(),
        )
