"""The network as the state pipeline sees it: segments, their stations in order, and each
station's neighbours (for imputation and the silent-detector check)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    id: str
    road_id: str
    road_class: str
    lanes: int
    length_m: float
    free_flow_kmh: float
    capacity_vphpl: float | None
    upstream: tuple[str, ...]
    downstream: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StationInfo:
    device_id: str
    segment_id: str
    offset_m: float
    # lanes the station spans
    lanes: int
    kind: str


@dataclass(slots=True)
class Topology:
    segments: dict[str, SegmentInfo]
    stations: dict[str, StationInfo]
    # stations per segment, upstream end first
    by_segment: dict[str, list[StationInfo]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_segment = {s: [] for s in self.segments}
        for station in sorted(self.stations.values(), key=lambda s: (s.offset_m, s.device_id)):
            self.by_segment.setdefault(station.segment_id, []).append(station)

    def neighbours(self, device_id: str) -> list[str]:
        """The other stations of its segment, the last station of each upstream segment and
        the first of each downstream one."""
        station = self.stations[device_id]
        segment = self.segments.get(station.segment_id)
        found = [
            s.device_id for s in self.by_segment.get(station.segment_id, []) if s is not station
        ]
        if segment is not None:
            for up in segment.upstream:
                if self.by_segment.get(up):
                    found.append(self.by_segment[up][-1].device_id)
            for down in segment.downstream:
                if self.by_segment.get(down):
                    found.append(self.by_segment[down][0].device_id)
        return found
