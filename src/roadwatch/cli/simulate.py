"""`roadwatch simulate`: the synthetic demo city (or, with `--engine sumo`, an Eclipse SUMO
scenario), feeding a running platform through its public APIs as real detectors and patrol
cars would (docs/simulation.md)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import tempfile
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from roadwatch.cli.common import fail
from roadwatch.platform.logging import configure_logging
from roadwatch.simulation.city import Network, build_city, to_geojson
from roadwatch.simulation.engine import SimulationSettings
from roadwatch.simulation.feeder import EngineFactory, FeedOptions, FeedStats, feed
from roadwatch.simulation.provision import Credentials, ProvisioningError

if TYPE_CHECKING:
    from roadwatch.simulation.sumo.scenario import Scenario

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str) -> float:
    """`90s`, `10m`, `2h`, `1h30m`, `1d` -> seconds."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"{text!r} is not a duration like 90s, 10m, 2h or 1h30m")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return float(days * 86400 + hours * 3600 + minutes * 60 + seconds)


def parse_start(text: str, zone: tzinfo) -> float:
    """An ISO 8601 time; without an offset it is the city's local time."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time like 2026-11-20T06:00") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.timestamp()


def city_zone(name: str) -> tzinfo:
    if not name:
        # the city is where the machine is
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name like Europe/Berlin"
        ) from None


def summary(stats: FeedStats) -> str:
    span = ""
    if stats.first_ts_ms is not None and stats.last_ts_ms is not None:
        first = datetime.fromtimestamp(stats.first_ts_ms / 1000).astimezone().isoformat()
        last = datetime.fromtimestamp(stats.last_ts_ms / 1000).astimezone().isoformat()
        span = f", stamped {first} .. {last}"
    rate = stats.points / max(stats.elapsed_s, 1e-9)
    return (
        f"sent {stats.points} points ({stats.readings} readings) in {stats.requests} requests "
        f"in {stats.elapsed_s:.1f} s: {rate:.0f} points/s{span}; throttled {stats.throttled}, "
        f"retried {stats.retries}, refused {stats.rejected}"
    )


def simulate(
    url: str = typer.Option(
        "http://127.0.0.1:8000", "--url", envvar="ROADWATCH_SIMULATE_URL", help="the platform"
    ),
    api_key: str = typer.Option(
        "", "--api-key", envvar="ROADWATCH_API_KEY",
        help="an API key with devices:read and devices:write, to register the devices",
    ),
    email: str = typer.Option("", "--email", envvar="ROADWATCH_EMAIL", help="or sign in as"),
    password: str = typer.Option("", "--password", envvar="ROADWATCH_PASSWORD"),
    start: str = typer.Option(
        "", "--start", help="simulated start, ISO 8601 (city time without offset); default now"
    ),
    speed: float = typer.Option(
        1.0, "--speed", min=0, help="simulated seconds per second; 0 = as fast as possible"
    ),
    duration: str = typer.Option(
        "", "--duration", help="simulated time to run (10m, 2h); default: on and on"
    ),
    seed: int = typer.Option(1, "--seed", help="the same seed gives the same city"),
    timezone: str = typer.Option(
        "", "--timezone", help="the city's IANA time zone; default the machine's"
    ),
    interval: int = typer.Option(
        60, "--interval", help="detector reporting interval, s (a multiple of 10)"
    ),
    patrol_interval: int = typer.Option(10, "--patrol-interval", help="patrol GPS fix interval, s"),
    patrols: int = typer.Option(4, "--patrols", min=0, help="patrol cars"),
    fault_rate: float = typer.Option(
        0.02, "--fault-rate", min=0, help="detector faults starting per detector-hour"
    ),
    incident_rate: float = typer.Option(
        0.5, "--incident-rate", min=0, help="incidents starting per hour, network-wide"
    ),
    prefix: str = typer.Option("sim", "--prefix", help="device names begin with it"),
    transport: str = typer.Option("http", "--transport", help="http or mqtt (needs paho-mqtt)"),
    mqtt_host: str = typer.Option("127.0.0.1", "--mqtt-host"),
    mqtt_port: int = typer.Option(1884, "--mqtt-port"),
    rate: float = typer.Option(
        100.0, "--requests-per-minute", min=0,
        help="HTTP requests a minute at most (the platform allows 120 per address); 0 = unpaced",
    ),
    truth: Path | None = typer.Option(
        None, "--truth", help="append the ground truth here (JSON lines)"
    ),
    state: Path | None = typer.Option(
        None, "--state", help="remember device tokens here, to reuse them next time"
    ),
    export_network: Path | None = typer.Option(
        None, "--export-network", help="write the road network as GeoJSON and exit"
    ),
    engine: str = typer.Option(
        "synthetic", "--engine", help="synthetic (the demo city) or sumo (needs the extra sumo)"
    ),
    net: Path | None = typer.Option(
        None, "--net", help="sumo: a SUMO .net.xml to run (default: a generated corridor)"
    ),
    grid: int = typer.Option(0, "--grid", min=0, help="sumo: an N x N street grid instead"),
    incidents: int = typer.Option(
        0, "--incidents", min=0,
        help="sumo: incidents (all lanes blocked 5-15 min) spread over --duration (or an hour)",
    ),
    demand_scale: float = typer.Option(
        1.0, "--demand-scale", min=0.05, max=3.0, help="sumo: demand relative to the default"
    ),
    sumo_dir: Path | None = typer.Option(
        None, "--sumo-dir",
        help="sumo: where the scenario and SUMO's own detector output go (default: a temp dir)",
    ),
) -> None:  # fmt: skip
    """Run the synthetic city (or a SUMO scenario) against a running platform: register its
    detectors and patrol cars, then stream their readings (back-dated with --start, sped up
    with --speed)."""
    if engine not in ("synthetic", "sumo"):
        fail("--engine: synthetic or sumo")
    if engine == "synthetic" and (net is not None or grid or incidents):
        fail("--net, --grid and --incidents are options of --engine sumo")
    network: Network | None = None
    make_engine: EngineFactory | None = None
    scenario: Scenario | None = None
    if engine == "sumo":
        try:
            scenario, make_engine = _sumo(
                net, grid, incidents, demand_scale, sumo_dir, seed, interval,
                patrol_interval, patrols, timezone, duration,
            )  # fmt: skip
        except (ValueError, RuntimeError) as exc:
            fail(str(exc))
        network = scenario.sumo_net.network
    if export_network is not None:
        network = network or build_city()
        names = {site.id: f"{prefix}-{site.id}" for site in network.detectors}
        if scenario is not None:
            from roadwatch.simulation.sumo.network import sumo_geojson

            collection = sumo_geojson(scenario.sumo_net, names, scenario.spec.loop_length_m)
        else:
            collection = to_geojson(network, names)
        export_network.write_text(json.dumps(collection, indent=1))
        typer.echo(
            f"wrote {len(network.segments)} segments and {len(network.detectors)} detector "
            f"stations to {export_network}"
        )
        return
    if transport not in ("http", "mqtt"):
        fail("--transport: http or mqtt")
    try:
        zone = city_zone(timezone)
        settings = SimulationSettings(
            seed=seed,
            detector_interval_s=interval,
            patrol_interval_s=patrol_interval,
            patrols=patrols,
            fault_rate_per_h=fault_rate,
            incident_rate_per_h=incident_rate,
            timezone=zone,
        )
        settings.check()
        options = FeedOptions(
            url=url.rstrip("/"),
            credentials=Credentials(api_key or None, email or None, password or None),
            settings=settings,
            start=parse_start(start, zone) if start else None,
            speed=speed,
            duration_s=parse_duration(duration) if duration else None,
            prefix=prefix,
            transport=transport,
            mqtt_host=mqtt_host,
            mqtt_port=mqtt_port,
            requests_per_minute=rate,
            truth_path=truth,
            state_path=state,
        )
    except ValueError as exc:
        fail(str(exc))
    if options.start is not None and options.start > datetime.now().timestamp() + 60:
        fail("--start: the city cannot report from the future")
    configure_logging("INFO", json=False)
    logging.getLogger("roadwatch.simulation").info("feeding %s", options.url)
    try:
        stats = asyncio.run(feed(options, network, make_engine))
    except ProvisioningError as exc:
        fail(str(exc))
    except RuntimeError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)
        return
    typer.echo(summary(stats))


def _sumo(
    net: Path | None,
    grid: int,
    incidents: int,
    demand_scale: float,
    sumo_dir: Path | None,
    seed: int,
    interval: int,
    patrol_interval: int,
    patrols: int,
    timezone: str,
    duration: str,
) -> tuple[Scenario, EngineFactory]:
    """The SUMO scenario asked for, written to disk, and the engine that runs it."""
    try:
        from roadwatch.simulation.sumo.engine import SumoSettings, sumo_engine
        from roadwatch.simulation.sumo.scenario import ScenarioSpec, build_scenario
    except ImportError:
        raise ValueError("--engine sumo needs the extra: pip install 'roadwatch[sumo]'") from None
    if net is not None and grid:
        raise ValueError("--net or --grid, not both")
    kind = "file" if net is not None else "grid" if grid else "corridor"
    spec = ScenarioSpec(kind=kind, net_file=net, grid_size=grid or 4, detector_interval_s=interval)
    directory = sumo_dir or Path(tempfile.mkdtemp(prefix="roadwatch-sumo-"))
    scenario = build_scenario(spec, directory)
    typer.echo(f"SUMO scenario {spec.name!r} in {directory}", err=True)
    settings = SumoSettings(
        seed=seed,
        patrol_interval_s=patrol_interval,
        patrols=patrols,
        duration_s=int(parse_duration(duration)) if duration else None,
        demand_scale=demand_scale,
        timezone=city_zone(timezone),
    )
    settings.check(interval)
    return scenario, sumo_engine(scenario, settings, incidents)


def register(app: typer.Typer) -> None:
    app.command()(simulate)
