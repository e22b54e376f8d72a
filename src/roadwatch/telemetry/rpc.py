"""Commands to devices (ThingsBoard's server-side RPC), kept in the database so they survive
restarts and reach a device through whichever replica it talks to.

A call is queued, handed over by the device's HTTP long-poll or MQTT session (see
delivery.py), answered by the device, or expired by a sweep once `expires_ts` passes. Every
transition goes through rpc_states.check and writes `telemetry.rpc.status_changed`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import orjson
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.platform.errors import Conflict, DomainError, NotFound
from roadwatch.platform.events import Event, new_event, publish
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry.models import DirectoryDevice, RpcCall
from roadwatch.telemetry.rpc_states import Cause, RpcStatus, check, is_final, sources
from roadwatch.telemetry.wakeup import wakeup_for

RPC_STATUS_CHANGED = "telemetry.rpc.status_changed"
# ThingsBoard's default; the least is lower than its 5 s so tests and local setups need not wait
DEFAULT_TIMEOUT_MS = 10_000
MIN_TIMEOUT_MS = 100
MAX_TIMEOUT_MS = 7 * 24 * 3600 * 1000
# how long the platform's create request waits for a two-way reply at most: under the
# gateway's read timeout (30 s); a longer-lived call is answered 202 and looked up later
MAX_WAIT_S = 25.0
EXPIRE_EVERY_S = 1.0
S = RpcStatus


class RpcTimeout(DomainError):
    # ThingsBoard's RPC API answers a two-way call the device left unanswered with 504
    status = 504
    title = "The device did not answer in time"
    kind = "rpc-timeout"


def now_ms() -> int:
    return int(time.time() * 1000)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _actor(call: RpcCall, cause: Cause) -> str:
    return f"device:{call.device_id}" if cause is Cause.DEVICE else "system"


def _status_event(call: RpcCall, before: str | None, actor: str) -> Event:
    return new_event(
        RPC_STATUS_CHANGED,
        "rpc_call",
        call.id,
        {
            "device_id": call.device_id,
            "request_id": call.request_id,
            "method": call.method,
            "oneway": call.oneway,
            "from": before,
            "to": call.status,
            "error": call.error,
        },
        actor=actor,
    )


async def _move(
    session: AsyncSession, call: RpcCall, target: RpcStatus, cause: Cause, **fields: Any
) -> bool:
    """Move the call to `target` if the table allows it and nobody moved it meanwhile."""
    before = call.status
    check(RpcStatus(before), target, call.oneway, cause)
    moved = (
        await session.execute(
            update(RpcCall)
            .where(RpcCall.id == call.id, RpcCall.status == before)
            .values(status=target.value, **fields)
            .execution_options(synchronize_session=False)
        )
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        return False
    call.status = target.value
    for name, value in fields.items():
        setattr(call, name, value)
    publish(session, _status_event(call, before, _actor(call, cause)))
    return True


async def _transition(
    platform: Platform, call: RpcCall, target: RpcStatus, cause: Cause, **fields: Any
) -> bool:
    async with platform.db.session() as session:
        moved = await _move(session, call, target, cause, **fields)
    if moved:
        wakeup_for(platform).notify()
    return moved


# -- the platform's side ----------------------------------------------------------------------


async def create_call(
    platform: Platform,
    device_id: str,
    method: str,
    params: Any,
    oneway: bool,
    timeout_ms: int,
    actor: str,
) -> RpcCall:
    """Queue a call for the device; it expires `timeout_ms` from now unless answered."""
    created = now_ms()
    async with platform.db.session() as session:
        device = await session.get(DirectoryDevice, device_id)
        if device is None:
            raise NotFound(f"device {device_id} not found")
        if not device.active:
            raise Conflict(f"device {device_id} is deactivated or deleted: it cannot take calls")
        # the per-device number the device sees; one statement, so replicas never share one
        request_id = await session.scalar(
            update(DirectoryDevice)
            .where(DirectoryDevice.id == device_id)
            .values(rpc_seq=DirectoryDevice.rpc_seq + 1)
            .returning(DirectoryDevice.rpc_seq)
            .execution_options(synchronize_session=False)
        )
        call = RpcCall(
            id=str(uuid.uuid4()),
            device_id=device_id,
            request_id=int(request_id or 0),
            method=method,
            params=dumps(params),
            oneway=oneway,
            status=S.QUEUED.value,
            created_by=actor,
            created_ts=created,
            expires_ts=created + timeout_ms,
        )
        session.add(call)
        publish(session, _status_event(call, None, actor))
    wakeup_for(platform).notify()
    return call


async def find_call(session: AsyncSession, device_id: str, call_id: str) -> RpcCall:
    call = await session.get(RpcCall, call_id)
    if call is None or call.device_id != device_id:
        raise NotFound(f"RPC call {call_id} of device {device_id} not found")
    return call


async def load_call(platform: Platform, call_id: str) -> RpcCall:
    async with platform.db.session() as session:
        call = await session.get(RpcCall, call_id)
    assert call is not None
    return call


async def wait_for_result(platform: Platform, call: RpcCall, wait_s: float) -> RpcCall:
    """The call once it is final, or as it stands after `wait_s`; expired at once if its
    time has passed, so the caller is answered without waiting for the sweep."""

    async def final() -> RpcCall | None:
        current = await load_call(platform, call.id)
        return current if is_final(RpcStatus(current.status), current.oneway) else None

    done = await wakeup_for(platform).poll(final, wait_s)
    if done is not None:
        return done
    current = await load_call(platform, call.id)
    if current.expires_ts <= now_ms():
        await _expire(platform, current)
        current = await load_call(platform, call.id)
    return current


# -- the device's side ------------------------------------------------------------------------


async def _queued(platform: Platform, device_id: str) -> list[RpcCall]:
    async with platform.db.session() as session:
        rows = await session.scalars(
            select(RpcCall)
            .where(
                RpcCall.device_id == device_id,
                RpcCall.status == S.QUEUED.value,
                RpcCall.expires_ts > now_ms(),
            )
            .order_by(RpcCall.created_ts, RpcCall.request_id)
            .limit(10)
        )
        return list(rows)


async def take_next_call(platform: Platform, device_id: str) -> RpcCall | None:
    """Hand the device's oldest queued call to its HTTP long-poll (delivered), if any."""
    for call in await _queued(platform, device_id):
        ts = now_ms()
        if await _transition(
            platform, call, S.DELIVERED, Cause.DELIVERY, sent_ts=ts, delivered_ts=ts
        ):
            return call
    return None


async def wait_for_call(platform: Platform, device_id: str, timeout_s: float) -> RpcCall | None:
    return await wakeup_for(platform).poll(lambda: take_next_call(platform, device_id), timeout_s)


async def claim_for_push(platform: Platform, call: RpcCall) -> bool:
    """queued → sent before an MQTT push; False if another process took it first."""
    return await _transition(platform, call, S.SENT, Cause.DELIVERY, sent_ts=now_ms())


async def mark_delivered(platform: Platform, call: RpcCall) -> bool:
    return await _transition(platform, call, S.DELIVERED, Cause.DELIVERY, delivered_ts=now_ms())


async def requeue(platform: Platform, call: RpcCall) -> bool:
    """sent → queued: the push did not reach the device; it is offered again."""
    return await _transition(platform, call, S.QUEUED, Cause.DELIVERY, sent_ts=None)


async def reply(platform: Platform, device_id: str, request_id: int, response: Any) -> RpcCall:
    """The device's answer to call `request_id`; 404 if it has no such call, 409 if the call
    takes no answer (one-way, already answered, expired)."""
    # a quick device answers while its PUBACK is marking the call delivered; both states take
    # a reply, so a lost race is tried again against the fresh status
    for _ in range(3):
        call = await _reply_once(platform, device_id, request_id, response)
        if call is not None:
            wakeup_for(platform).notify()
            return call
    raise Conflict(f"RPC request {request_id} changed meanwhile; it takes no reply now")


async def _reply_once(
    platform: Platform, device_id: str, request_id: int, response: Any
) -> RpcCall | None:
    async with platform.db.session() as session:
        call = await session.scalar(
            select(RpcCall).where(RpcCall.device_id == device_id, RpcCall.request_id == request_id)
        )
        if call is None:
            raise NotFound(f"no RPC request {request_id} was sent to this device")
        if call.oneway:
            raise Conflict(f"RPC request {request_id} is one-way: it takes no reply")
        if RpcStatus(call.status) not in sources(S.REPLIED, False, Cause.DEVICE):
            raise Conflict(f"RPC request {request_id} is {call.status}: it takes no reply now")
        moved = await _move(
            session,
            call,
            S.REPLIED,
            Cause.DEVICE,
            response=dumps(response),
            replied_ts=now_ms(),
        )
        return call if moved else None


# -- expiry -----------------------------------------------------------------------------------


async def _expire(platform: Platform, call: RpcCall) -> bool:
    reason = "not answered in time" if call.status != S.QUEUED else "not delivered in time"
    return await _transition(platform, call, S.EXPIRED, Cause.SYSTEM, error=reason)


async def expire_due(platform: Platform, at_ms: int | None = None) -> list[str]:
    """Expire calls past `expires_ts` and fail those of devices gone inactive; their ids."""
    at = at_ms if at_ms is not None else now_ms()
    waiting = (S.QUEUED.value, S.SENT.value, S.DELIVERED.value)
    async with platform.db.session() as session:
        due = list(
            await session.scalars(
                select(RpcCall)
                .where(
                    RpcCall.expires_ts <= at,
                    or_(
                        RpcCall.status == S.QUEUED.value,
                        and_(RpcCall.oneway.is_(False), RpcCall.status.in_(waiting)),
                    ),
                )
                .limit(1000)
            )
        )
        orphaned = list(
            await session.scalars(
                select(RpcCall)
                .join(DirectoryDevice, DirectoryDevice.id == RpcCall.device_id)
                .where(
                    DirectoryDevice.active.is_(False),
                    RpcCall.expires_ts > at,
                    or_(
                        RpcCall.status == S.QUEUED.value,
                        and_(RpcCall.oneway.is_(False), RpcCall.status.in_(waiting)),
                    ),
                )
                .limit(1000)
            )
        )
    ended: list[str] = []
    for call in due:
        if await _expire(platform, call):
            ended.append(call.id)
    for call in orphaned:
        reason = "the device was deactivated or deleted"
        if await _transition(platform, call, S.FAILED, Cause.SYSTEM, error=reason):
            ended.append(call.id)
    return ended


async def expire_rpc_calls(platform: Platform) -> None:
    """The telemetry module's task: end calls whose time is up (within EXPIRE_EVERY_S)."""
    while True:
        await asyncio.sleep(EXPIRE_EVERY_S)
        await expire_due(platform)
