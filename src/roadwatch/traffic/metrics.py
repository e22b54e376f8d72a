"""The traffic service's business counters (Prometheus); requests and latency are counted
by the platform for every route."""

from __future__ import annotations

from prometheus_client import Counter

NETWORK_IMPORTS = Counter(
    "roadwatch_traffic_network_imports_total",
    "network imports, by format and outcome (applied, refused)",
    ["format", "outcome"],
)
DETECTORS_PLACED = Counter(
    "roadwatch_traffic_detectors_placed_total",
    "detectors placed or moved, by how (api, import, device)",
    ["source"],
)
PATROL_FIXES = Counter(
    "roadwatch_traffic_patrol_fixes_total", "GPS fixes folded into patrol units' tracks"
)
# the state part
INTERVALS_COMPUTED = Counter(
    "roadwatch_traffic_intervals_computed_total",
    "segment-state intervals computed (recomputations after late data included)",
)
