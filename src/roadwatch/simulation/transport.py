"""How simulated devices deliver their readings: the ThingsBoard device API over HTTP
(`POST /api/v1/{token}/telemetry`) or MQTT (token as user name, `v1/devices/me/telemetry`).

A device sends everything it has queued in one message, `[{"ts": ms, "values": {...}}, ...]`,
as a real device does after being offline, so a sped-up replay needs no more requests than
a live one.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Protocol

import httpx
import orjson

from roadwatch.simulation.sensors import Reading

CONNECT_TIMEOUT_S = 10.0
# readings per message: a 60-lane-key reading is ~1 kB, well under the 1 MB payload limit
MAX_READINGS_PER_MESSAGE = 300


class Throttled(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"rate limited for {retry_after_s} s")
        self.retry_after_s = retry_after_s


class UnknownToken(Exception):
    """The platform does not know the token (device deleted, token rotated elsewhere)."""


class Rejected(Exception):
    """The platform refused the payload itself: sending it again cannot help."""


class Unavailable(Exception):
    """The platform could not be reached or failed; the readings are kept and sent later."""


class Transport(Protocol):
    async def send(self, token: str, readings: list[Reading]) -> None: ...

    async def close(self) -> None: ...


def payload(readings: list[Reading]) -> bytes:
    return orjson.dumps([{"ts": r.ts_ms, "values": r.values} for r in readings])


class HttpTransport:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def send(self, token: str, readings: list[Reading]) -> None:
        try:
            answer = await self.http.post(
                f"/api/v1/{token}/telemetry",
                content=payload(readings),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"{type(exc).__name__}: {exc}") from None
        status = answer.status_code
        if status == 200:
            return
        if status == 429:
            raise Throttled(float(answer.headers.get("Retry-After", "5")))
        if status == 401:
            raise UnknownToken(answer.text)
        if status in (400, 413, 422):
            raise Rejected(f"{status}: {answer.text[:300]}")
        raise Unavailable(f"{status}: {answer.text[:300]}")

    async def close(self) -> None:
        return None


class MqttTransport:
    """One MQTT connection per device, opened on its first message; QoS 1, so a message
    counts as sent only once the platform acknowledged it (after storing it)."""

    TOPIC = "v1/devices/me/telemetry"

    def __init__(self, host: str, port: int) -> None:
        try:
            from paho.mqtt import client as mqtt
        except ImportError:
            raise RuntimeError(
                "--transport mqtt needs paho-mqtt: .venv/bin/pip install 'paho-mqtt>=2.1'"
            ) from None
        self._mqtt = mqtt
        self.host = host
        self.port = port
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, token: str) -> Any:
        with self._lock:
            client = self._clients.get(token)
        if client is not None:
            return client
        mqtt = self._mqtt
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        client.username_pw_set(token)
        answered = threading.Event()
        outcome: list[Any] = []

        def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            outcome.append(reason)
            answered.set()

        client.on_connect = on_connect
        try:
            client.connect(self.host, self.port, keepalive=60)
        except OSError as exc:
            raise Unavailable(f"MQTT: {exc}") from None
        client.loop_start()
        if not answered.wait(CONNECT_TIMEOUT_S):
            client.loop_stop()
            raise Unavailable("MQTT: no CONNACK")
        if outcome[0].is_failure:
            client.loop_stop()
            client.disconnect()
            # refused credentials: the same answer as HTTP's 401
            raise UnknownToken(f"MQTT: connection refused ({outcome[0]})")
        with self._lock:
            self._clients[token] = client
        return client

    def _publish(self, token: str, body: bytes) -> None:
        client = self._client(token)
        try:
            info = client.publish(self.TOPIC, body, qos=1)
            info.wait_for_publish(timeout=30)
        except (OSError, RuntimeError, ValueError) as exc:
            self._drop(token)
            raise Unavailable(f"MQTT: {exc}") from None
        if not info.is_published():
            self._drop(token)
            raise Unavailable(f"MQTT: not acknowledged (rc {info.rc})")

    def _drop(self, token: str) -> None:
        with self._lock:
            client = self._clients.pop(token, None)
        if client is not None:
            client.loop_stop()
            client.disconnect()

    async def send(self, token: str, readings: list[Reading]) -> None:
        await asyncio.to_thread(self._publish, token, payload(readings))

    async def close(self) -> None:
        for token in list(self._clients):
            await asyncio.to_thread(self._drop, token)
