"""`/api/v1/ws`: the authenticated WebSocket on which clients subscribe to live channels.

Protocol (JSON text frames; docs/api.md "Live updates"):
- the client authenticates with `Authorization: Bearer`, `X-API-Key`, or, as browsers cannot
  set headers on a WebSocket, the query parameter `access_token` or `api_key`;
- the server greets with `{"type": "welcome", "channels": [...]}`, the channels this caller
  may subscribe to;
- `{"type": "subscribe", "channel": C, "entity_ids": [...]}` (entity_ids optional) answers
  `subscribed` or an `error` naming what was wrong; `unsubscribe` likewise; `ping` → `pong`;
- events arrive as `{"type": "event", "channel": C, "event": {...}}`.
Close codes: 4401 not authenticated (or the session ended), 4408 too slow to keep up.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from roadwatch.platform.auth.dependencies import resolve_credentials
from roadwatch.platform.auth.principal import Principal
from roadwatch.platform.errors import Unauthenticated, Unavailable
from roadwatch.platform.live.hub import ChannelForbidden, Client, LiveHub, UnknownChannel
from roadwatch.platform.runtime import Platform

router = APIRouter()

CLOSE_UNAUTHENTICATED = 4401
CLOSE_LAGGING = 4408
# how often a connection's credentials are checked again (a revoked session or API key,
# or an expired access token, ends the connection within this)
RECHECK_S = 30.0


def _credentials(ws: WebSocket) -> tuple[str | None, str | None]:
    header = ws.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    token = token or ws.query_params.get("access_token")
    api_key = ws.headers.get("x-api-key") or ws.query_params.get("api_key")
    return token, api_key


async def _principal(platform: Platform, ws: WebSocket) -> Principal:
    token, api_key = _credentials(ws)
    principal = await resolve_credentials(platform, token, api_key)
    if principal is None:
        raise Unauthenticated("authentication required")
    return principal


@router.websocket("/api/v1/ws")
async def live(ws: WebSocket) -> None:
    platform: Platform = ws.app.state.platform
    hub: LiveHub | None = platform.live
    await ws.accept()
    try:
        principal = await _principal(platform, ws)
    except Unauthenticated as exc:
        await ws.close(CLOSE_UNAUTHENTICATED, str(exc)[:120])
        return
    if hub is None:
        await ws.close(1011, "no live channels in this process")
        return
    client = hub.connect(principal)
    tasks: list[asyncio.Task[None]] = []
    try:
        await ws.send_text(_dump({"type": "welcome", "channels": _channels(hub, principal)}))
        tasks = [
            asyncio.create_task(_read(ws, hub, client)),
            asyncio.create_task(_write(ws, client)),
            asyncio.create_task(_recheck(platform, ws)),
        ]
        # the connection ends when the client goes, falls behind or loses its credentials
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except WebSocketDisconnect:
        pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        hub.disconnect(client)


def _channels(hub: LiveHub, principal: Principal) -> list[dict[str, str]]:
    return [
        {"channel": c.pattern, "permission": c.permission, "description": c.description}
        for c in hub.allowed(principal)
    ]


def _dump(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


async def _read(ws: WebSocket, hub: LiveHub, client: Client) -> None:
    while True:
        raw = await ws.receive_text()
        await ws.send_text(_dump(_answer(hub, client, raw)))


def _answer(hub: LiveHub, client: Client, raw: str) -> dict[str, Any]:
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _error("bad-message", "not JSON")
    if not isinstance(message, dict):
        return _error("bad-message", "a message is a JSON object")
    kind = message.get("type")
    if kind == "ping":
        return {"type": "pong"}
    if kind not in ("subscribe", "unsubscribe"):
        return _error("bad-message", "type must be subscribe, unsubscribe or ping")
    channel = message.get("channel")
    if not isinstance(channel, str):
        return _error("bad-message", "channel (a string) is required")
    if kind == "unsubscribe":
        client.subscriptions.pop(channel, None)
        return {"type": "unsubscribed", "channel": channel}
    entity_ids = message.get("entity_ids")
    if entity_ids is not None and not (
        isinstance(entity_ids, list) and all(isinstance(e, str) for e in entity_ids)
    ):
        return _error("bad-message", "entity_ids must be a list of strings", channel)
    try:
        hub.subscribe(client, channel, entity_ids)
    except UnknownChannel:
        known = ", ".join(hub.patterns)
        return _error("unknown-channel", f"no channel {channel!r}; known: {known}", channel)
    except ChannelForbidden as exc:
        return _error("forbidden", f"channel {channel!r} needs permission {exc}", channel)
    return {"type": "subscribed", "channel": channel, "entity_ids": entity_ids}


def _error(code: str, detail: str, channel: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "error", "error": code, "detail": detail}
    if channel is not None:
        message["channel"] = channel
    return message


async def _write(ws: WebSocket, client: Client) -> None:
    while True:
        lagging = asyncio.ensure_future(client.lagging.wait())
        waiting = asyncio.ensure_future(client.queue.get())
        done, _ = await asyncio.wait((lagging, waiting), return_when=asyncio.FIRST_COMPLETED)
        if lagging in done:
            waiting.cancel()
            await ws.close(CLOSE_LAGGING, "too slow to keep up; reconnect and re-read state")
            return
        lagging.cancel()
        await ws.send_text(_dump(waiting.result()))


async def _recheck(platform: Platform, ws: WebSocket) -> None:
    while True:
        await asyncio.sleep(RECHECK_S)
        try:
            await _principal(platform, ws)
        except Unavailable:
            # the revocation list cannot be read just now: ask again next time
            continue
        except Unauthenticated as exc:
            with contextlib.suppress(Exception):
                await ws.close(CLOSE_UNAUTHENTICATED, str(exc)[:120])
            return
