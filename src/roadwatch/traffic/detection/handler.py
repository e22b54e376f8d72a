"""Incident detection's event handler: each computed 1-minute interval of traffic state
(`traffic.state.computed`, from traffic.state) steps the algorithms of every station pair.

It runs in the inbox's transaction: an event delivered twice is judged once, and an interval
republished later with changes (late data) is ignored per pair, since the algorithms have
moved past it."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.platform.events import Event
from roadwatch.traffic.detection.pairing import parse_interval
from roadwatch.traffic.detection.service.run import DetectionRun
from roadwatch.traffic.detection.thresholds import for_session
from roadwatch.traffic.events import STATE_COMPUTED

log = logging.getLogger(__name__)

__all__ = ["STATE_COMPUTED", "on_state_computed"]


async def on_state_computed(event: Event, session: AsyncSession) -> None:
    try:
        interval = parse_interval(event.payload)
    except (KeyError, TypeError, ValueError) as exc:
        # a payload not in the contract's shape is a bug upstream; retrying cannot fix it
        log.error("traffic.aid: skipped interval %s: bad payload (%r)", event.entity_id, exc)
        return
    await DetectionRun(session, for_session(session)).on_interval(interval)
