"""What the state pipeline does on telemetry, and its task: a placed detector's batch becomes
samples (in the inbox's transaction, so a batch delivered twice is stored once); the task
closes intervals and computes them, in short transactions of its own."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.config import TrafficSettings
from roadwatch.platform.events import Event
from roadwatch.platform.runtime import Platform
from roadwatch.traffic.metrics import INTERVALS_COMPUTED
from roadwatch.traffic.state.pipeline import BATCH_INTERVALS, StatePipeline


async def on_detector_batch(event: Event, session: AsyncSession) -> None:
    # storing needs no settings: the defaults stand in for the unused ones
    await StatePipeline(session, TrafficSettings()).ingest(event.entity_id, event.payload["points"])


async def advance_state(platform: Platform) -> int:
    """One short transaction of interval computation; how many intervals it computed."""
    async with platform.db.session() as session:
        computed = await StatePipeline(session, platform.settings.traffic).advance()
    INTERVALS_COMPUTED.inc(computed)
    return computed


async def keep_state(platform: Platform) -> None:
    while True:
        computed = await advance_state(platform)
        # a full batch means more is waiting: go on at once
        if computed < BATCH_INTERVALS:
            await asyncio.sleep(platform.settings.traffic.state_poll_s)
