"""Commands to devices for the platform's users (ThingsBoard's server-side RPC).

A two-way call waits for the device's reply: 200 with the call and its `response`, or 504
once its timeout passes unanswered (ThingsBoard's RPC API answers 504 too). A one-way call,
and a two-way call whose timeout is longer than MAX_WAIT_S, is answered 202 at once: look
it up later by its id.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.pagination import Page, PageParamsDep, paginate
from roadwatch.platform.runtime import PlatformDep, ReadSessionDep
from roadwatch.telemetry import rpc
from roadwatch.telemetry.attributes import require_device
from roadwatch.telemetry.models import RpcCall
from roadwatch.telemetry.rpc_states import RpcStatus, is_final

router = APIRouter(prefix="/api/v1/telemetry", tags=["rpc"])

CanRead = Annotated[Principal, authorize("telemetry:read")]
CanWrite = Annotated[Principal, authorize("devices:write")]


class RpcCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str = Field(min_length=1, max_length=255, examples=["setMode"])
    params: Any = Field(default_factory=dict, examples=[{"mode": "eco"}])
    # true: no reply is expected; the call is done once handed to the device
    oneway: bool = False
    # the call expires this long after it is made unless answered (delivered, if one-way)
    timeout_ms: int = Field(
        default=rpc.DEFAULT_TIMEOUT_MS, ge=rpc.MIN_TIMEOUT_MS, le=rpc.MAX_TIMEOUT_MS
    )


class RpcRead(BaseModel):
    id: str
    device_id: str
    # the number the device sees (MQTT topic, HTTP `id`)
    request_id: int
    method: str
    params: Any
    oneway: bool
    status: RpcStatus
    # the device's reply, when `replied`
    response: Any
    error: str | None
    created_by: str
    created_ts: int
    expires_ts: int
    sent_ts: int | None
    delivered_ts: int | None
    replied_ts: int | None

    @classmethod
    def of(cls, call: RpcCall) -> RpcRead:
        return cls(
            id=call.id,
            device_id=call.device_id,
            request_id=call.request_id,
            method=call.method,
            params=orjson.loads(call.params),
            oneway=call.oneway,
            status=RpcStatus(call.status),
            response=orjson.loads(call.response) if call.response is not None else None,
            error=call.error,
            created_by=call.created_by,
            created_ts=call.created_ts,
            expires_ts=call.expires_ts,
            sent_ts=call.sent_ts,
            delivered_ts=call.delivered_ts,
            replied_ts=call.replied_ts,
        )


@router.post(
    "/{device_id}/rpc",
    operation_id="rpc_create",
    status_code=status.HTTP_200_OK,
    responses={
        202: {"model": RpcRead, "description": "queued (one-way, or longer than the wait)"},
        404: {"description": "no such device"},
        409: {"description": "the device is deactivated or deleted"},
        504: {"description": "two-way call not answered within its timeout"},
    },
)
async def create_rpc(
    device_id: str,
    data: RpcCreate,
    platform: PlatformDep,
    principal: CanWrite,
    response: Response,
) -> RpcRead:
    """Send a command; a two-way call waits for the device's reply (see the module notes)."""
    call = await rpc.create_call(
        platform, device_id, data.method, data.params, data.oneway, data.timeout_ms, principal.actor
    )
    if data.oneway or data.timeout_ms > rpc.MAX_WAIT_S * 1000:
        response.status_code = status.HTTP_202_ACCEPTED
        return RpcRead.of(call)
    done = await rpc.wait_for_result(platform, call, data.timeout_ms / 1000)
    if done.status == RpcStatus.EXPIRED:
        raise rpc.RpcTimeout(
            f"device {device_id} did not answer {data.method!r} within {data.timeout_ms} ms",
            rpc_id=done.id,
            rpc_status=done.status,
        )
    if not is_final(RpcStatus(done.status), done.oneway):
        response.status_code = status.HTTP_202_ACCEPTED
    return RpcRead.of(done)


@router.get("/{device_id}/rpc/{rpc_id}", operation_id="rpc_get")
async def get_rpc(
    device_id: str, rpc_id: str, session: ReadSessionDep, principal: CanRead
) -> RpcRead:
    """A call's status and, once replied, the device's response."""
    return RpcRead.of(await rpc.find_call(session, device_id, rpc_id))


@router.get("/{device_id}/rpc", operation_id="rpc_list")
async def list_rpc(
    device_id: str,
    session: ReadSessionDep,
    principal: CanRead,
    page: PageParamsDep,
    status_: Annotated[RpcStatus | None, Query(alias="status")] = None,
) -> Page[RpcRead]:
    """The device's calls, newest first unless sorted otherwise; filtered by `status`."""
    await require_device(session, device_id)
    statement = select(RpcCall).where(RpcCall.device_id == device_id)
    if status_ is not None:
        statement = statement.where(RpcCall.status == status_.value)
    rows, total = await paginate(
        session,
        statement,
        page,
        sortable={
            "created_ts": RpcCall.created_ts,
            "request_id": RpcCall.request_id,
            "status": RpcCall.status,
        },
        tiebreak=RpcCall.id,
        default_sort="-created_ts,-request_id",
    )
    return Page(
        items=[RpcRead.of(r) for r in rows], total=total, limit=page.limit, offset=page.offset
    )
