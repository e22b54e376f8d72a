"""Incident detections: list and read them, dismiss a false alarm; the AID thresholds in
force per road class."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse

from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.errors import InvalidInput
from roadwatch.platform.pagination import Page, PageParamsDep
from roadwatch.platform.runtime import PlatformDep, SessionDep
from roadwatch.traffic.aid import ALGORITHMS
from roadwatch.traffic.aid.thresholds import DEFAULT_CLASS
from roadwatch.traffic.api.ngsi import LD_JSON, Options
from roadwatch.traffic.detection.lifecycle import PERMISSIONS, DetectionAction, DetectionPhase
from roadwatch.traffic.detection.schemas import DetectionRead, DismissBody, ThresholdsRead
from roadwatch.traffic.detection.service.detections import DetectionService
from roadwatch.traffic.detection.service.reads import to_read
from roadwatch.traffic.detection.service.run import AID_INTERVAL_S
from roadwatch.traffic.detection.thresholds import table_of
from roadwatch.traffic.ngsi.alert import alert_entity, render_alert

router = APIRouter(prefix="/api/v1/traffic", tags=["traffic"])

CanRead = Annotated[Principal, authorize("traffic:read")]
CanDismiss = Annotated[Principal, authorize(PERMISSIONS[DetectionAction.DISMISS])]
Algorithm = Annotated[
    list[str] | None, Query(description=f"any of: {', '.join(ALGORITHMS)}", max_length=10)
]


@router.get("/detections", operation_id="traffic_detections_list")
async def list_detections(
    session: SessionDep,
    principal: CanRead,
    page: PageParamsDep,
    phase: Annotated[list[DetectionPhase] | None, Query(description="any of these")] = None,
    segment_id: Annotated[str | None, Query(max_length=64)] = None,
    algorithm: Algorithm = None,
    from_ts: Annotated[
        int | None, Query(alias="from", ge=0, description="epoch ms: still open or cleared since")
    ] = None,
    to_ts: Annotated[
        int | None, Query(alias="to", ge=0, description="epoch ms: began before")
    ] = None,
) -> Page[DetectionRead]:
    """Detections, newest onset first, whose span (onset to clearing) overlaps [from, to)."""
    unknown = sorted(set(algorithm or []) - set(ALGORITHMS))
    if unknown:
        raise InvalidInput(
            f"algorithm: unknown {', '.join(unknown)}; one of {', '.join(ALGORITHMS)}",
            field="algorithm",
        )
    if from_ts is not None and to_ts is not None and from_ts >= to_ts:
        raise InvalidInput("to: must be after from", field="to")
    items, total = await DetectionService(session, principal.actor).search(
        page,
        [p.value for p in phase] if phase else None,
        segment_id,
        algorithm,
        from_ts,
        to_ts,
    )
    return Page(
        items=[to_read(d) for d in items], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/detections/{detection_id}", operation_id="traffic_detections_get")
async def get_detection(
    detection_id: str, session: SessionDep, principal: CanRead
) -> DetectionRead:
    return to_read(await DetectionService(session, principal.actor).get(detection_id))


@router.post("/detections/{detection_id}/dismiss", operation_id="traffic_detections_dismiss")
async def dismiss_detection(
    detection_id: str,
    session: SessionDep,
    principal: CanDismiss,
    body: Annotated[DismissBody | None, Body()] = None,
) -> DetectionRead:
    """A false alarm: tentative or confirmed → dismissed (409 once it has ended)."""
    service = DetectionService(session, principal.actor)
    detection = await service.dismiss(detection_id, body.reason if body else None)
    return to_read(detection)


@router.get("/ngsi-ld/Alert", operation_id="traffic_ngsi_alerts", tags=["ngsi-ld"])
async def ngsi_alerts(
    session: SessionDep,
    principal: CanRead,
    page: PageParamsDep,
    phase: Annotated[
        list[DetectionPhase] | None, Query(description="any of these; confirmed when absent")
    ] = None,
    options: Options = None,
) -> JSONResponse:
    """Detections as NGSI-LD Alert entities (dataModel.Alert), newest onset first; by
    default the confirmed ones, i.e. the incidents in progress."""
    wanted = [p.value for p in phase] if phase else [DetectionPhase.CONFIRMED.value]
    items, _ = await DetectionService(session, principal.actor).search(
        page, wanted, None, None, None, None
    )
    key_values = options == "keyValues"
    return JSONResponse(
        [render_alert(alert_entity(d), key_values) for d in items], media_type=LD_JSON
    )


@router.get("/aid/thresholds", operation_id="traffic_aid_thresholds")
async def aid_thresholds(platform: PlatformDep, principal: CanRead) -> ThresholdsRead:
    """The thresholds each road class runs with (defaults with the operator's overrides)."""
    table = table_of(platform.settings.traffic.aid_thresholds)
    return ThresholdsRead(
        by_class={name: t.as_dict() for name, t in sorted(table.by_class.items())},
        default_class=DEFAULT_CLASS,
        algorithms=list(ALGORITHMS),
        interval_s=AID_INTERVAL_S,
    )
