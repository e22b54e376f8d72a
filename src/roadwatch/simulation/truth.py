"""The ground truth of a run, as JSON lines: incidents and detector faults with their true
start and end, so incident detection and data-quality checks can be scored afterwards.

One object per line, each with `event` and `ts` (epoch ms, simulated time):

- `run.started`: `seed`, `start`, `speed`, `network`, `devices` (source id -> device name)
- `incident.started` / `incident.ended`: `id`, `segment_id`, `offset_m`, `lon`, `lat`,
  `lanes_blocked`, `capacity_factor`, `start_ts`, `end_ts`
- `fault.started` / `fault.ended`: `detector` (site id), `device`, `fault`
  (`stuck` | `zero` | `dropout`), `start_ts`, `end_ts`
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson


@dataclass(frozen=True, slots=True)
class TruthEvent:
    event: str
    ts_ms: int
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.event, "ts": self.ts_ms, **self.data}


class TruthLog:
    """Appends events to a JSON-lines file, flushed per event so a killed run keeps them."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = path.open("ab")

    def write(self, event: TruthEvent) -> None:
        self._file.write(orjson.dumps(event.as_dict()) + b"\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_truth(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
