"""A network as read from a file, validated feature by feature, before it touches the
database: what every import format produces and the network service applies."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from roadwatch.traffic.schemas import CameraPlace, DetectorPlace, RoadCreate, SegmentCreate

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class DetectorDraft:
    # where in the file it came from, for the error report
    where: str
    place: DetectorPlace
    device_id: str | None = None
    device_name: str | None = None


@dataclass(frozen=True, slots=True)
class CameraDraft:
    where: str
    device_id: str
    place: CameraPlace


@dataclass
class NetworkDraft:
    format: str
    roads: dict[str, RoadCreate] = field(default_factory=dict)
    segments: list[tuple[str, SegmentCreate]] = field(default_factory=list)
    detectors: list[DetectorDraft] = field(default_factory=list)
    cameras: list[CameraDraft] = field(default_factory=list)
    # every segment id the file names, valid or not: a reference to a segment whose
    # feature has its own error is not reported again
    named: set[str] = field(default_factory=set)
    # {"feature": where, "field": ..., "message": ...}: the import is refused when any
    errors: list[dict[str, str]] = field(default_factory=list)

    def error(self, where: str, field_name: str, message: str) -> None:
        self.errors.append({"feature": where, "field": field_name, "message": message})


def slug(text: str) -> str:
    """An id from a name: "North Avenue" -> "north-avenue"."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64] or "road"


def validated(
    draft: NetworkDraft, where: str, model: type[M], data: dict[str, Any], prefix: str
) -> M | None:
    """`data` as `model`, or None with each problem added to the draft's report; `prefix`
    maps a model field back to where it sits in the file."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"])
            draft.error(where, prefix + name if name else prefix.rstrip("."), err["msg"])
        return None
