"""What the state pipeline does on telemetry: a placed detector's batch becomes samples and
the intervals it closes or changes are computed (in the inbox's transaction, so a batch
delivered twice is handled once)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.config import TrafficSettings
from roadwatch.platform.events import Event
from roadwatch.platform.runtime import Platform
from roadwatch.traffic.state.pipeline import StatePipeline

INTERVALS_COMPUTED = Counter(
    "roadwatch_traffic_intervals_computed_total",
    "segment-state intervals computed (recomputations after late data included)",
)


@dataclass
class _Config:
    settings: TrafficSettings = field(default_factory=TrafficSettings)


# handlers get (event, session) only: the settings are handed over once, at start-up
CONFIG = _Config()


async def configure(platform: Platform) -> None:
    CONFIG.settings = platform.settings.traffic


async def on_detector_batch(event: Event, session: AsyncSession) -> None:
    computed = await StatePipeline(session, CONFIG.settings).ingest(
        event.entity_id, event.payload["points"]
    )
    INTERVALS_COMPUTED.inc(computed)
