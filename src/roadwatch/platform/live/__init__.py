"""Live delivery of domain events to WebSocket clients (`/api/v1/ws`).

Services declare which of their events are live channels and the permission each needs
(`Module.live_channels`); the hub forwards those events from the bus to the clients that
subscribed to them. No service writes WebSocket code.
"""

from roadwatch.platform.live.hub import Channel, LiveHub

__all__ = ["Channel", "LiveHub"]
