"""Feeding a running platform: provision the city's devices, then replay the simulation on a
clock `speed` times faster than real time, each device sending its readings itself.

The simulated clock never runs ahead of the wall clock: a back-dated start is replayed at
`speed` until it catches up with now, then the city goes on live. Readings wait in a
per-device queue until sent; nothing is dropped because the platform was slow, throttled
the sender or was briefly down (a payload the platform refuses as malformed is the one
exception, and is logged).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

from roadwatch.simulation.city import Network, build_city
from roadwatch.simulation.engine import CitySimulation, SimulationSettings, aligned_start
from roadwatch.simulation.network_upload import upload_network
from roadwatch.simulation.pacing import Pacer
from roadwatch.simulation.provision import (
    Credentials,
    Provisioned,
    RegistryClient,
    device_specs,
    provision,
)
from roadwatch.simulation.sensors import Reading
from roadwatch.simulation.traffic import STEP_S
from roadwatch.simulation.transport import (
    MAX_READINGS_PER_MESSAGE,
    HttpTransport,
    MqttTransport,
    Rejected,
    Throttled,
    Transport,
    Unavailable,
    UnknownToken,
)
from roadwatch.simulation.truth import TruthEvent, TruthLog

log = logging.getLogger("roadwatch.simulation")

# readings queued but unsent beyond which the simulated clock waits for the senders
MAX_BACKLOG = 50_000
# how long a token may take to reach the telemetry service after the registry issued it
TOKEN_PROPAGATION_S = 30.0
# how often a long run logs how far it got
PROGRESS_EVERY_S = 60.0


@dataclass(frozen=True)
class FeedOptions:
    url: str
    credentials: Credentials
    settings: SimulationSettings = field(default_factory=SimulationSettings)
    # epoch seconds; None: now
    start: float | None = None
    # simulated seconds per real second; 0: as fast as the platform takes it
    speed: float = 1.0
    # simulated seconds to run; None: until stopped
    duration_s: float | None = None
    prefix: str = "sim"
    transport: str = "http"
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1884
    # client-side pacing of HTTP requests; the platform's default allowance is 120 a minute
    requests_per_minute: float = 100.0
    senders: int = 4
    truth_path: Path | None = None
    state_path: Path | None = None
    # where the simulated time reached is kept, for a later run to resume from
    clock_path: Path | None = None


@dataclass
class FeedStats:
    readings: int = 0
    points: int = 0
    requests: int = 0
    throttled: int = 0
    retries: int = 0
    rejected: int = 0
    first_ts_ms: int | None = None
    last_ts_ms: int | None = None
    started: float = field(default_factory=time.monotonic)

    def add(self, readings: list[Reading]) -> None:
        self.requests += 1
        self.readings += len(readings)
        self.points += sum(len(r.values) for r in readings)
        first, last = readings[0].ts_ms, readings[-1].ts_ms
        self.first_ts_ms = first if self.first_ts_ms is None else min(self.first_ts_ms, first)
        self.last_ts_ms = last if self.last_ts_ms is None else max(self.last_ts_ms, last)

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started


class Engine(Protocol):
    """What the feeder replays: a simulation on its own clock (`now`, epoch s), advanced
    STEP_S seconds a step, yielding readings and ground truth; the synthetic city's
    `CitySimulation` and the SUMO engine are two."""

    now: int

    def step(self) -> list[Reading]: ...

    def drain_truth(self) -> list[TruthEvent]: ...


# makes the engine for a run starting at the given epoch second (a whole detector interval)
EngineFactory = Callable[[int], Engine]


class _Queues:
    """Readings waiting per device, and the order devices get their turn (oldest first)."""

    def __init__(self) -> None:
        self.pending: dict[str, deque[Reading]] = {}
        self.ready: deque[str] = deque()
        self.size = 0
        self.changed = asyncio.Event()

    def put(self, source: str, reading: Reading) -> None:
        queue = self.pending.setdefault(source, deque())
        if not queue and source not in self.ready:
            self.ready.append(source)
        queue.append(reading)
        self.size += 1
        self.changed.set()

    def take(self) -> tuple[str, list[Reading]] | None:
        while self.ready:
            source = self.ready.popleft()
            queue = self.pending[source]
            batch = [queue.popleft() for _ in range(min(len(queue), MAX_READINGS_PER_MESSAGE))]
            self.size -= len(batch)
            if queue:
                self.ready.append(source)
            if batch:
                return source, batch
        return None

    def give_back(self, source: str, batch: list[Reading]) -> None:
        queue = self.pending[source]
        queue.extendleft(reversed(batch))
        self.size += len(batch)
        if source not in self.ready:
            self.ready.appendleft(source)
        self.changed.set()


class Feeder:
    def __init__(
        self,
        options: FeedOptions,
        network: Network,
        devices: list[Provisioned],
        transport: Transport,
        pacer: Pacer,
        registry: RegistryClient,
        clock: Callable[[], float] = time.time,
        engine: EngineFactory | None = None,
    ) -> None:
        self.options = options
        self.engine = engine
        self.network = network
        self.devices = {d.source: d for d in devices}
        self.transport = transport
        self.pacer = pacer
        self.registry = registry
        self.clock = clock
        self.queues = _Queues()
        self.stats = FeedStats()
        self.producing = True
        # when each device's token was issued (tokens remembered from an earlier run: never)
        self.issued: dict[str, float] = {d.source: time.monotonic() for d in devices if d.fresh}
        self.sim_now: int = 0

    async def run(self) -> FeedStats:
        interval = self.options.settings.detector_interval_s
        start = aligned_start(self.options.start or self.clock(), interval)
        sim: Engine = (
            self.engine(start)
            if self.engine is not None
            else CitySimulation(self.network, self.options.settings, start)
        )
        truth = TruthLog(self.options.truth_path) if self.options.truth_path else None
        if truth is not None:
            truth.write(self._run_started(start))
        senders = [asyncio.create_task(self._send_loop()) for _ in range(self.options.senders)]
        try:
            await self._produce(sim, start, truth)
            self.producing = False
            self.queues.changed.set()
            await asyncio.gather(*senders)
        finally:
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)
            if truth is not None:
                truth.close()
            # an engine that runs a program of its own (SUMO) stops it
            close = getattr(sim, "close", None)
            if close is not None:
                close()
        return self.stats

    def _run_started(self, start: int) -> TruthEvent:
        settings = self.options.settings
        return TruthEvent(
            "run.started",
            start * 1000,
            {
                "seed": settings.seed,
                "start": start,
                "speed": self.options.speed,
                "network": self.network.name,
                "detector_interval_s": settings.detector_interval_s,
                "devices": {s: d.name for s, d in self.devices.items()},
            },
        )

    async def _produce(self, sim: Engine, start: int, truth: TruthLog | None) -> None:
        wall_start = self.clock()
        end = start + self.options.duration_s if self.options.duration_s is not None else None
        speed = self.options.speed
        last_report = wall_start
        while end is None or sim.now < end:
            target = sim.now + STEP_S
            # never report from the future; replay no faster than asked
            due = max(target, wall_start + (target - start) / speed if speed > 0 else 0.0)
            wait = due - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
            while self.queues.size > MAX_BACKLOG:
                self.queues.changed.clear()
                await self.queues.changed.wait()
            for reading in sim.step():
                self.queues.put(reading.source, reading)
            self.sim_now = sim.now
            if self.options.clock_path and sim.now % self.options.settings.detector_interval_s == 0:
                self.options.clock_path.write_text(str(sim.now))
            if self.clock() - last_report >= PROGRESS_EVERY_S:
                last_report = self.clock()
                self._report_progress()
            if truth is not None:
                for event in sim.drain_truth():
                    truth.write(self._named(event))
            # let the senders run between steps of a fast replay
            await asyncio.sleep(0)

    def _report_progress(self) -> None:
        stats = self.stats
        log.info(
            "simulated city at %s: %d points in %d requests (%.0f points/s), %d readings queued",
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.sim_now)),
            stats.points, stats.requests, stats.points / max(stats.elapsed_s, 1e-9),
            self.queues.size,
        )  # fmt: skip

    def _named(self, event: TruthEvent) -> TruthEvent:
        detector = event.data.get("detector")
        if detector in self.devices:
            return TruthEvent(
                event.event, event.ts_ms, {**event.data, "device": self.devices[detector].name}
            )
        return event

    async def _send_loop(self) -> None:
        while True:
            taken = self.queues.take()
            if taken is None:
                if not self.producing:
                    return
                self.queues.changed.clear()
                await self.queues.changed.wait()
                continue
            source, batch = taken
            await self._deliver(source, batch)
            self.queues.changed.set()

    async def _deliver(self, source: str, batch: list[Reading]) -> None:
        device = self.devices[source]
        delay = 0.5
        while True:
            if isinstance(self.transport, HttpTransport):
                await self.pacer.acquire()
            try:
                await self.transport.send(device.token, batch)
                self.stats.add(batch)
                return
            except Throttled as exc:
                self.stats.throttled += 1
                await self.pacer.hold(exc.retry_after_s)
            except UnknownToken:
                # the telemetry service learns new tokens from the registry's events, a
                # moment after the registry issued them: wait that out before suspecting it
                if time.monotonic() - self.issued.get(source, 0.0) < TOKEN_PROPAGATION_S:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                log.warning(
                    "device %s: token refused; asking the registry for a new one", device.name
                )
                token = await self.registry.rotate(device.id)
                device = Provisioned(device.source, device.name, device.id, token)
                self.devices[source] = device
                self.issued[source] = time.monotonic()
            except Rejected as exc:
                self.stats.rejected += len(batch)
                log.error(
                    "device %s: the platform refused %d readings: %s", device.name, len(batch), exc
                )
                return
            except Unavailable as exc:
                self.stats.retries += 1
                log.warning("device %s: %s; retrying in %.1f s", device.name, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)


async def feed(
    options: FeedOptions, network: Network | None = None, engine: EngineFactory | None = None
) -> FeedStats:
    """Provision the network's devices on the platform at `options.url`, then stream what
    `engine` (default: the synthetic city) produces."""
    network = network or build_city()
    options.settings.check()
    pacer = Pacer(options.requests_per_minute)
    timeout = httpx.Timeout(30.0, connect=5.0)
    async with httpx.AsyncClient(base_url=options.url, timeout=timeout) as http:
        registry = RegistryClient(http, options.credentials, pacer)
        specs = device_specs(network, options.settings, options.prefix)
        devices = await provision(registry, specs, options.prefix, options.state_path)
        await upload_network(registry, network, options.prefix)
        transport: Transport
        if options.transport == "mqtt":
            transport = MqttTransport(options.mqtt_host, options.mqtt_port)
        else:
            transport = HttpTransport(http)
        try:
            feeder = Feeder(options, network, devices, transport, pacer, registry, engine=engine)
            return await feeder.run()
        finally:
            await transport.close()


def read_clock(path: Path) -> int | None:
    """The simulated time a run with `clock_path=path` reached, if any."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
