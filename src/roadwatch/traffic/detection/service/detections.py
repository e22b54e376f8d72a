"""What people do with detections: list and read them, dismiss a false alarm."""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.platform.errors import NotFound
from roadwatch.platform.events import publish
from roadwatch.platform.pagination import PageParams, paginate
from roadwatch.traffic import events
from roadwatch.traffic.detection.lifecycle import DetectionAction, transition
from roadwatch.traffic.detection.models import Detection
from roadwatch.traffic.detection.repository import DetectionRepository
from roadwatch.traffic.detection.service.run import detection_event


class DetectionService:
    def __init__(self, session: AsyncSession, actor: str) -> None:
        self.session = session
        self.repo = DetectionRepository(session)
        self.actor = actor

    async def get(self, detection_id: str) -> Detection:
        detection = await self.session.get(Detection, detection_id)
        if detection is None:
            raise NotFound(f"detection {detection_id} not found")
        return detection

    async def search(
        self,
        params: PageParams,
        phases: list[str] | None,
        segment_id: str | None,
        algorithms: list[str] | None,
        from_ts: int | None,
        to_ts: int | None,
    ) -> tuple[list[Detection], int]:
        return await paginate(
            self.session,
            self.repo.query(phases, segment_id, algorithms, from_ts, to_ts),
            params,
            self.repo.sortable,
            tiebreak=Detection.id,
            default_sort="-onset_ts",
        )

    async def dismiss(self, detection_id: str, reason: str | None) -> Detection:
        """A person marks a tentative or confirmed detection a false alarm. The algorithm
        goes on judging the pair; it opens a new detection only after this episode ends."""
        detection = await self.get(detection_id)
        detection.phase = transition(detection.phase, DetectionAction.DISMISS).value
        detection.cleared_ts = int(time.time() * 1000)
        detection.dismissed_by = self.actor
        detection.dismissed_reason = reason
        await self.session.flush()
        await self.session.refresh(detection)
        publish(self.session, detection_event(events.DETECTION_DISMISSED, detection, self.actor))
        return detection
