"""The MQTT listener: accepts device connections, one asyncio task each, until stopped."""

from __future__ import annotations

import asyncio
import logging
import socket

from roadwatch.config import ConfigError
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry.mqtt.packets import Reason
from roadwatch.telemetry.mqtt.registry import SessionRegistry, registry_for
from roadwatch.telemetry.mqtt.session import Session
from roadwatch.telemetry.mqtt.settings import MqttSettings

log = logging.getLogger(__name__)

# how long closing waits for connections to finish before giving up on them
CLOSE_GRACE_S = 5.0
_SERVER_KEY = "telemetry.mqtt.server"


ACCEPT_BACKLOG = 4096


class MqttServer:
    def __init__(self, platform: Platform, settings: MqttSettings, registry: SessionRegistry):
        self.platform = platform
        self.settings = settings
        self.registry = registry
        self._server: asyncio.Server | None = None
        self._sessions: dict[Session, asyncio.Task[None]] = {}

    @property
    def port(self) -> int:
        """The port listened on (the one the OS chose when the setting is 0)."""
        assert self._server is not None and self._server.sockets, "not started"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    async def start(self) -> None:
        # a site's devices reconnect together after an outage: a deep accept queue (the
        # kernel caps it at net.core.somaxconn) instead of asyncio's 100
        self._server = await asyncio.start_server(
            self._handle, self.settings.host, self.settings.port, backlog=ACCEPT_BACKLOG
        )
        log.info("mqtt: listening on %s:%d", self.settings.host, self.port)

    async def close(self) -> None:
        """Stop listening and end every connection (MQTT 5 clients are told why)."""
        if self._server is not None:
            self._server.close()
        sessions = dict(self._sessions)
        for session in sessions:
            session.kick(Reason.SERVER_SHUTTING_DOWN, "shutdown")
        # asyncio.wait, not a timeout: this also runs inside a task being cancelled
        tasks = list(sessions.values())
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=CLOSE_GRACE_S)
            for task in stuck:
                task.cancel()
            if stuck:
                log.warning("mqtt: %d connections did not close in time", len(stuck))
                await asyncio.wait(stuck, timeout=1)
        if self._server is not None:
            await asyncio.wait([asyncio.ensure_future(self._server.wait_closed())], timeout=1)
        log.info("mqtt: stopped")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # devices with keep alive 0 on a network that silently drops them are still
            # found out, if only after the OS's keepalive time
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        session = Session(self.platform, self.settings, self.registry, reader, writer)
        self._sessions[session] = task
        try:
            await session.run()
        except asyncio.CancelledError:
            # cancelled by close() or by a takeover: the connection's end, not an error (and
            # asyncio's stream callback would report a cancelled task as one)
            pass
        except Exception:
            log.exception("mqtt: connection failed unexpectedly")
        finally:
            self._sessions.pop(session, None)
            writer.close()


def mqtt_settings(platform: Platform) -> MqttSettings:
    return platform.settings.mqtt


async def start_mqtt_server(platform: Platform) -> None:
    """The telemetry module's start-up hook: listen, before the process reports ready.

    A port that cannot be bound stops start-up with one line naming the setting.
    """
    settings = mqtt_settings(platform)
    if not settings.enabled:
        log.info("mqtt: endpoint disabled")
        return
    server = MqttServer(platform, settings, registry_for(platform))
    try:
        await server.start()
    except OSError as exc:
        raise ConfigError(
            f"ROADWATCH_MQTT__PORT: cannot listen on {settings.host}:{settings.port} "
            f"({exc.strerror or exc})"
        ) from None
    platform.extras[_SERVER_KEY] = server

    async def listening() -> None:
        if not server.serving:
            raise RuntimeError("the MQTT listener is closed")

    platform.health.add("mqtt", listening)


async def run_mqtt_server(platform: Platform) -> None:
    """The telemetry module's task: serve devices until cancelled, then close them all.

    It listens itself if `start_mqtt_server` did not run as a start-up hook.
    """
    if not mqtt_settings(platform).enabled:
        return
    if _SERVER_KEY not in platform.extras:
        await start_mqtt_server(platform)
    server = platform.extras[_SERVER_KEY]
    assert isinstance(server, MqttServer)
    try:
        await asyncio.Event().wait()
    finally:
        await server.close()
