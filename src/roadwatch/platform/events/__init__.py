"""Domain events: the envelope, the transactional outbox and its relay, the inbox, the bus."""

from roadwatch.platform.events.envelope import Event, new_event
from roadwatch.platform.events.outbox import publish

__all__ = ["Event", "new_event", "publish"]
