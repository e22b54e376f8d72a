"""A SUMO scenario on disk: the network (a generated corridor or grid, or a given
`.net.xml`), the E1 induction loops of every station, and the demand.

The default corridor is what incident detection is tested on: a two-way road of
`edges` links of `edge_length_m`, 3 lanes each way at 100 km/h, a station in the middle of
every link (so stations are `edge_length_m` apart and any incident falls between two of
them). `--grid N` is netgenerate's N x N city grid of 2-lane streets.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from roadwatch.simulation.sumo.binaries import binary
from roadwatch.simulation.sumo.network import SumoNetwork, read_network

# a real loop is a ~2 m square cut into the lane (6 ft in the US); SUMO's default is 0 m,
# which would make occupancy count only the vehicles' own length
LOOP_LENGTH_M = 2.0


@dataclass(frozen=True)
class ScenarioSpec:
    kind: str = "corridor"  # "corridor" | "grid" | "file"
    net_file: Path | None = None
    # corridor
    edges: int = 8
    edge_length_m: float = 500.0
    lanes: int = 3
    speed_limit_kmh: float = 100.0
    # lanes of each direction's last link (0: as many as the others): a lane drop where the
    # corridor leaves, the recurrent bottleneck that queues back at peak times
    bottleneck_lanes: int = 0
    # grid
    grid_size: int = 4
    grid_length_m: float = 400.0
    # detectors
    detector_interval_s: int = 60
    loop_length_m: float = LOOP_LENGTH_M

    def check(self) -> None:
        if self.kind not in ("corridor", "grid", "file"):
            raise ValueError(f"scenario kind {self.kind!r}: corridor, grid or file")
        if self.kind == "file" and (self.net_file is None or not self.net_file.is_file()):
            raise ValueError(f"--net: {self.net_file} is not a SUMO network file")
        if self.kind == "corridor" and not (2 <= self.edges <= 60 and 1 <= self.lanes <= 6):
            raise ValueError("a corridor has 2-60 links of 1-6 lanes")
        if self.kind == "corridor" and not 0 <= self.bottleneck_lanes < self.lanes:
            raise ValueError("a lane drop leaves fewer lanes than the corridor has")
        if self.kind == "corridor" and not 200 <= self.edge_length_m <= 5000:
            raise ValueError("corridor links are 200-5000 m long")
        if self.kind == "grid" and not 2 <= self.grid_size <= 30:
            raise ValueError("--grid: 2 to 30 junctions a side")
        if self.detector_interval_s <= 0 or self.detector_interval_s % 10:
            raise ValueError("the detector interval is a positive multiple of 10 s")
        if not 0.5 <= self.loop_length_m <= 5.0:
            raise ValueError("a loop is 0.5-5 m long")

    @property
    def name(self) -> str:
        if self.kind == "corridor":
            return f"SUMO corridor {self.edges}x{self.edge_length_m:.0f}m"
        if self.kind == "grid":
            return f"SUMO grid {self.grid_size}x{self.grid_size}"
        assert self.net_file is not None
        return f"SUMO {self.net_file.name.removesuffix('.net.xml')}"


@dataclass(frozen=True)
class Scenario:
    spec: ScenarioSpec
    directory: Path
    net_path: Path
    detectors_path: Path
    # where SUMO writes its own E1 output (for comparison with what roadwatch computes)
    e1_output_path: Path
    sumo_net: SumoNetwork
    # a blocked motorway must stay blocked: SUMO otherwise "teleports" vehicles stuck for
    # 300 s past the obstacle; a city grid keeps it, or junction deadlocks never clear
    time_to_teleport_s: int


def corridor_node_ids(edges: int) -> list[str]:
    return [f"K{i}" for i in range(edges + 1)]


def _write_corridor(spec: ScenarioSpec, directory: Path) -> Path:
    nodes = corridor_node_ids(spec.edges)
    nod = ["<nodes>"]
    for i, node in enumerate(nodes):
        x = i * spec.edge_length_m
        nod.append(f'  <node id="{node}" x="{x:.1f}" y="0.0" type="priority"/>')
    nod.append("</nodes>")
    edg = ["<edges>"]
    speed = spec.speed_limit_kmh / 3.6
    exits = {(nodes[-2], nodes[-1]), (nodes[1], nodes[0])}
    for a, b in itertools.pairwise(nodes):
        for src, dst in ((a, b), (b, a)):
            lanes = (
                spec.bottleneck_lanes
                if (src, dst) in exits and spec.bottleneck_lanes
                else spec.lanes
            )
            edg.append(
                f'  <edge id="{src}-{dst}" from="{src}" to="{dst}" numLanes="{lanes}" '
                f'speed="{speed:.2f}" priority="10" type="highway.motorway" '
                f'name="Corridor"/>'
            )
    edg.append("</edges>")
    (directory / "corridor.nod.xml").write_text("\n".join(nod) + "\n")
    (directory / "corridor.edg.xml").write_text("\n".join(edg) + "\n")
    net = directory / "corridor.net.xml"
    _run(
        [
            binary("netconvert"),
            "--node-files", str(directory / "corridor.nod.xml"),
            "--edge-files", str(directory / "corridor.edg.xml"),
            "--output-file", str(net),
            # no U-turns mid-corridor; the ends keep theirs for patrol cars (see engine)
            "--no-turnarounds.except-deadend",
        ]
    )  # fmt: skip
    return net


def _write_grid(spec: ScenarioSpec, directory: Path) -> Path:
    net = directory / "grid.net.xml"
    _run(
        [
            binary("netgenerate"),
            "--grid",
            "--grid.number", str(spec.grid_size),
            "--grid.length", f"{spec.grid_length_m:.0f}",
            "--grid.attach-length", f"{spec.grid_length_m:.0f}",
            "--default.lanenumber", "2",
            "--default.speed", f"{50 / 3.6:.2f}",
            "--tls.guess",
            "--no-turnarounds.except-deadend",
            "--output-file", str(net),
        ]
    )  # fmt: skip
    return net


def _run(command: list[str]) -> None:
    # our own arguments to SUMO's programs, found by `binary()`
    done = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, check=False, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")


def write_detectors(sumo_net: SumoNetwork, spec: ScenarioSpec, directory: Path) -> Path:
    """Every station's E1 loops, one per lane, reporting every detector interval."""
    out = directory / "detectors.add.xml"
    e1 = directory / "e1.xml"
    lines = ["<additional>"]
    for station in sumo_net.stations:
        for index, loop in enumerate(station.loops):
            lane = f"{station.edge_id}_{index}"
            lines.append(
                f"  <inductionLoop id={quoteattr(loop)} lane={quoteattr(lane)} "
                f'pos="{station.pos_m:.1f}" length="{spec.loop_length_m:.1f}" '
                f'period="{spec.detector_interval_s}" file="{e1.name}" friendlyPos="true"/>'
            )
    lines.append("</additional>")
    out.write_text("\n".join(lines) + "\n")
    return out


def build_scenario(spec: ScenarioSpec, directory: Path) -> Scenario:
    """Write (or copy) the network and the detectors into `directory`."""
    spec.check()
    directory.mkdir(parents=True, exist_ok=True)
    if spec.kind == "corridor":
        net = _write_corridor(spec, directory)
    elif spec.kind == "grid":
        net = _write_grid(spec, directory)
    else:
        assert spec.net_file is not None
        net = directory / spec.net_file.name
        if net.resolve() != spec.net_file.resolve():
            shutil.copyfile(spec.net_file, net)
    sumo_net = read_network(net, spec.name)
    if not sumo_net.stations:
        raise ValueError(f"{spec.name}: no edge is long enough for a detector station")
    detectors = write_detectors(sumo_net, spec, directory)
    return Scenario(
        spec=spec,
        directory=directory,
        net_path=net,
        detectors_path=detectors,
        e1_output_path=directory / "e1.xml",
        sumo_net=sumo_net,
        time_to_teleport_s=-1 if spec.kind == "corridor" else 300,
    )
