"""Garbage-collector settings for a serving process.

The hot paths (a telemetry batch, an event payload) allocate thousands of short-lived
objects per request; CPython's default thresholds then run a collection every 700
allocations, and every so often a full one that walks every object the process holds
(modules, the application, caches). Measured on the ingest path (docs/benchmarks.md) this
cost about 40 % of the server's time. The objects are freed by reference counting anyway;
the collector is only needed for cycles, which are rare on these paths.
"""

from __future__ import annotations

import gc

# allocations between young collections (default 700); the older generations as by default
YOUNG_THRESHOLD = 50_000


def settle_heap() -> None:
    """Call once everything long-lived is loaded, just before serving: what exists now is
    left out of every later collection, and young collections run far less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
