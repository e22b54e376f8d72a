"""Detectors and cameras on segments: placed explicitly through the API, from an imported
network (by device name, waiting for the device when the registry does not know it yet),
and from the registry's device events (a detector-type device whose `extra` names a
`segment_id`)."""

from __future__ import annotations

import logging
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.platform.errors import InvalidInput, NotFound
from roadwatch.platform.events import publish
from roadwatch.platform.pagination import PageParams, paginate
from roadwatch.traffic import events
from roadwatch.traffic.metrics import DETECTORS_PLACED
from roadwatch.traffic.models import Camera, Detector, KnownDevice, PendingPlacement, Segment
from roadwatch.traffic.network.draft import DetectorDraft
from roadwatch.traffic.repository import CAMERA_SORTABLE, DETECTOR_SORTABLE, NetworkRepository
from roadwatch.traffic.schemas import (
    CameraPlace,
    CameraRead,
    DetectorKind,
    DetectorPlace,
    DetectorRead,
)

log = logging.getLogger(__name__)

# the registry's device types that measure traffic, and the kind each is when its `extra`
# does not say (a loop without a second loop measures no speed)
DETECTOR_TYPES = {"induction_loop": "single_loop", "speed_sensor": "speed_sensor"}
CAMERA_TYPE = "camera"


def detector_read(row: Detector) -> DetectorRead:
    return DetectorRead.model_validate(row, from_attributes=True)


def camera_read(row: Camera) -> CameraRead:
    return CameraRead.model_validate(row, from_attributes=True)


class PlacementProblem(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class PlacementService:
    def __init__(self, session: AsyncSession, actor: str) -> None:
        self.session = session
        self.actor = actor
        self.repo = NetworkRepository(session)

    async def _segment(self, segment_id: str) -> Segment:
        segment = await self.session.get(Segment, segment_id)
        if segment is None:
            raise PlacementProblem("segment_id", f"segment {segment_id} does not exist")
        return segment

    @staticmethod
    def _fits(segment: Segment, offset_m: float, lane: int | None, lanes: int | None) -> None:
        if offset_m > segment.length_m + 0.01:
            raise PlacementProblem(
                "offset_m",
                f"{offset_m} m is beyond segment {segment.id}'s length ({segment.length_m} m)",
            )
        if lane is not None and lane > segment.lanes:
            raise PlacementProblem("lane", f"segment {segment.id} has {segment.lanes} lanes")
        if lanes is not None and lanes > segment.lanes:
            raise PlacementProblem("lanes", f"segment {segment.id} has {segment.lanes} lanes")

    # --- detectors ---------------------------------------------------------------------

    async def get_detector(self, device_id: str) -> Detector:
        row = await self.session.get(Detector, device_id)
        if row is None:
            raise NotFound(f"detector {device_id} is not placed")
        return row

    async def list_detectors(
        self, page: PageParams, segment_id: str | None
    ) -> tuple[list[Detector], int]:
        return await paginate(
            self.session,
            self.repo.detectors(segment_id),
            page,
            DETECTOR_SORTABLE,
            tiebreak=Detector.device_id,
            default_sort="segment_id,offset_m",
        )

    async def place_detector(self, device_id: str, data: DetectorPlace) -> tuple[Detector, bool]:
        """Place (or move) a detector; a 422 names what does not fit. True when new."""
        try:
            placed = await self._place_detector(device_id, data)
            DETECTORS_PLACED.labels("api").inc()
            return placed
        except PlacementProblem as exc:
            raise InvalidInput(
                str(exc), errors=[{"field": exc.field, "message": exc.message}]
            ) from None

    async def _place_detector(self, device_id: str, data: DetectorPlace) -> tuple[Detector, bool]:
        segment = await self._segment(data.segment_id)
        self._fits(segment, data.offset_m, data.lane, data.lanes)
        known = await self.session.get(KnownDevice, device_id)
        row = await self.session.get(Detector, device_id)
        fresh = row is None
        if row is None:
            row = Detector(device_id=device_id)
        before = self._placement(row) if not fresh else None
        row.name = data.name or (known.name if known else "") or row.name or ""
        row.kind = data.kind.value
        row.segment_id = segment.id
        row.lane = data.lane
        row.offset_m = data.offset_m
        # a station on one lane spans that lane; otherwise all of the segment's by default
        row.lanes = data.lanes or (1 if data.lane is not None else segment.lanes)
        if fresh:
            self.session.add(row)
        if fresh or before != self._placement(row):
            await self._publish(events.DETECTOR_PLACED, row)
        return row, fresh

    @staticmethod
    def _placement(row: Detector) -> tuple[Any, ...]:
        return (row.name, row.kind, row.segment_id, row.lane, row.offset_m, row.lanes)

    async def _publish(self, type: str, row: Detector | Camera) -> None:
        await self.session.flush()
        await self.session.refresh(row)
        if isinstance(row, Detector):
            state = detector_read(row).model_dump(mode="json")
            entity = "detector"
        else:
            state = camera_read(row).model_dump(mode="json")
            entity = "camera"
        publish(self.session, events.entity_event(type, entity, row.device_id, state, self.actor))

    async def remove_detector(self, device_id: str) -> None:
        row = await self.get_detector(device_id)
        await self._publish(events.DETECTOR_REMOVED, row)
        await self.session.delete(row)

    # --- cameras -----------------------------------------------------------------------

    async def get_camera(self, device_id: str) -> Camera:
        row = await self.session.get(Camera, device_id)
        if row is None:
            raise NotFound(f"camera {device_id} is not placed")
        return row

    async def list_cameras(
        self, page: PageParams, segment_id: str | None
    ) -> tuple[list[Camera], int]:
        return await paginate(
            self.session,
            self.repo.cameras(segment_id),
            page,
            CAMERA_SORTABLE,
            tiebreak=Camera.device_id,
        )

    async def place_camera(self, device_id: str, data: CameraPlace) -> tuple[Camera, bool]:
        try:
            segment = await self._segment(data.segment_id)
            self._fits(segment, data.offset_m, None, None)
        except PlacementProblem as exc:
            raise InvalidInput(
                str(exc), errors=[{"field": exc.field, "message": exc.message}]
            ) from None
        known = await self.session.get(KnownDevice, device_id)
        row = await self.session.get(Camera, device_id)
        fresh = row is None
        if row is None:
            row = Camera(device_id=device_id)
        before = (row.name, row.segment_id, row.offset_m, row.heading_deg)
        row.name = data.name or (known.name if known else "") or row.name or ""
        row.segment_id = segment.id
        row.offset_m = data.offset_m
        row.heading_deg = data.heading_deg
        if fresh:
            self.session.add(row)
        if fresh or before != (row.name, row.segment_id, row.offset_m, row.heading_deg):
            await self._publish(events.CAMERA_PLACED, row)
        return row, fresh

    async def remove_camera(self, device_id: str) -> None:
        row = await self.get_camera(device_id)
        await self._publish(events.CAMERA_REMOVED, row)
        await self.session.delete(row)

    # --- what a segment holds ----------------------------------------------------------

    async def placed_on(self, segment_id: str) -> list[str]:
        return [d.device_id for d in await self.repo.detectors_on(segment_id)] + [
            c.device_id for c in await self.repo.cameras_on(segment_id)
        ]

    async def check_fits(self, segment: Segment) -> None:
        """A segment may not shrink below what is placed on it (422 naming the device)."""
        for row in await self.repo.detectors_on(segment.id):
            try:
                self._fits(segment, row.offset_m, row.lane, row.lanes)
            except PlacementProblem as exc:
                raise InvalidInput(
                    f"detector {row.device_id} would no longer fit: {exc.message}",
                    errors=[{"field": exc.field, "message": exc.message}],
                ) from None
        for cam in await self.repo.cameras_on(segment.id):
            if cam.offset_m > segment.length_m + 0.01:
                raise InvalidInput(
                    f"camera {cam.device_id} would no longer fit: its offset is {cam.offset_m} m",
                    errors=[{"field": "length_m", "message": "shorter than a camera's offset"}],
                )

    # --- from imports and device events -------------------------------------------------

    async def place_from_import(
        self, draft: DetectorDraft
    ) -> Literal["created", "updated", "unchanged", "pending"]:
        device_id = draft.device_id
        if device_id is None and draft.device_name:
            known = await self.repo.device_named(draft.device_name)
            if known is None:
                await self._remember(draft.device_name, draft.place)
                return "pending"
            device_id = known.id
        assert device_id is not None
        before = await self.session.get(Detector, device_id)
        snapshot = self._placement(before) if before is not None else None
        row, fresh = await self._place_detector(device_id, draft.place)
        if fresh:
            return "created"
        return "updated" if snapshot != self._placement(row) else "unchanged"

    async def _remember(self, device_name: str, place: DetectorPlace) -> None:
        row = await self.session.get(PendingPlacement, device_name)
        if row is None:
            row = PendingPlacement(device_name=device_name)
            self.session.add(row)
        row.kind = place.kind.value
        row.segment_id = place.segment_id
        row.lane = place.lane
        row.offset_m = place.offset_m
        row.lanes = place.lanes or 0
        await self.session.flush()

    async def resolve_pending(self, device_name: str | None = None) -> int:
        """Place every waiting detector (or the one of `device_name`) whose device and
        segment both exist now."""
        placed = 0
        for pending in await self.repo.pending(device_name):
            known = await self.repo.device_named(pending.device_name)
            if known is None or await self.session.get(Segment, pending.segment_id) is None:
                continue
            place = DetectorPlace(
                segment_id=pending.segment_id,
                kind=DetectorKind(pending.kind),
                lane=pending.lane,
                offset_m=pending.offset_m,
                lanes=pending.lanes or None,
                name=pending.device_name,
            )
            try:
                await self._place_detector(known.id, place)
                placed += 1
            except PlacementProblem as exc:
                log.warning("cannot place %s: %s", pending.device_name, exc)
            await self.session.delete(pending)
        await self.session.flush()
        return placed

    async def on_device(self, device_id: str, state: dict[str, Any]) -> None:
        """Place a device the registry announced, when its `extra` names a segment."""
        device_type = str(state.get("type") or "")
        extra = state.get("extra") or {}
        name = str(state.get("name") or "")
        if not isinstance(extra, dict) or not extra.get("segment_id"):
            await self.resolve_pending(name)
            return
        if device_type in DETECTOR_TYPES:
            await self._detector_from_extra(device_id, name, device_type, extra)
        elif device_type == CAMERA_TYPE:
            await self._camera_from_extra(device_id, name, extra)
        await self.resolve_pending(name)

    async def _detector_from_extra(
        self, device_id: str, name: str, device_type: str, extra: dict[str, Any]
    ) -> None:
        current = await self.session.get(Detector, device_id)
        segment_id = str(extra["segment_id"])
        # a detector placed already stays where it is (an operator may have corrected it
        # through the API) unless the device now names another segment
        if current is not None and current.segment_id == segment_id:
            return
        segment = await self.session.get(Segment, segment_id)
        try:
            place = DetectorPlace.model_validate(
                {
                    "segment_id": segment_id,
                    "kind": extra.get("detector_kind") or DETECTOR_TYPES[device_type],
                    "lane": extra.get("lane"),
                    "offset_m": extra.get("offset_m")
                    if extra.get("offset_m") is not None
                    else (segment.length_m / 2 if segment else 0.0),
                    "lanes": extra.get("lanes"),
                    "name": name,
                }
            )
        except ValueError as exc:
            log.warning("device %s names a placement that is not valid: %s", device_id, exc)
            return
        if segment is None:
            # the network may be imported after the devices: wait for the segment
            if name:
                await self._remember(name, place)
            return
        try:
            await self._place_detector(device_id, place)
            DETECTORS_PLACED.labels("device").inc()
        except PlacementProblem as exc:
            log.warning("cannot place device %s: %s", device_id, exc)

    async def _camera_from_extra(self, device_id: str, name: str, extra: dict[str, Any]) -> None:
        if await self.session.get(Camera, device_id) is not None:
            return
        try:
            place = CameraPlace.model_validate(
                {
                    "segment_id": str(extra["segment_id"]),
                    "offset_m": extra.get("offset_m", 0.0),
                    "heading_deg": extra.get("heading_deg", 0.0),
                    "name": name,
                }
            )
            await self.place_camera(device_id, place)
        except (ValueError, InvalidInput) as exc:
            log.warning("cannot place camera %s: %s", device_id, exc)

    async def on_device_deleted(self, device_id: str) -> None:
        detector = await self.session.get(Detector, device_id)
        if detector is not None:
            await self._publish(events.DETECTOR_REMOVED, detector)
            await self.session.delete(detector)
        camera = await self.session.get(Camera, device_id)
        if camera is not None:
            await self._publish(events.CAMERA_REMOVED, camera)
            await self.session.delete(camera)
