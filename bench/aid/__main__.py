"""`python -m bench.aid`: incident detection scored on SUMO runs (docs/benchmarks.md "AID").

Runs `--runs` corridor simulations with one staged incident each and as many without, in
`--workers` processes, then scores every algorithm of roadwatch.traffic.aid offline.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

from bench.aid.runs import INTERVAL_S, WARMUP_S, RunResult, RunSpec, plan_runs, simulate
from bench.aid.scoring import AlgorithmScore, score
from bench.common import record
from roadwatch.simulation.sumo.demand import CORRIDOR_PEAK_VPHPL
from roadwatch.simulation.sumo.scenario import ScenarioSpec

ROAD_CLASS = "motorway"


def run_all(specs: list[RunSpec], workers: int) -> list[RunResult]:
    if workers <= 1:
        return [simulate(s) for s in specs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(simulate, specs))


def table(scores: dict[str, AlgorithmScore]) -> list[str]:
    lines = [
        "| algorithm | detected | detection rate | false alarms | false-alarm rate "
        "(per pair-interval) | false alarms per pair-hour | mean time to detect |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in sorted(scores):
        s = scores[name]
        mttd = s.mean_time_to_detect_s
        lines.append(
            f"| {name} | {s.detected} / {s.incidents} | {100 * s.detection_rate:.0f} % | "
            f"{s.false_alarms} | {100 * s.false_alarm_rate:.3f} % | "
            f"{s.false_alarms_per_pair_hour(INTERVAL_S):.3f} | "
            + (f"{mttd / 60:.1f} min |" if mttd is not None else "— |")
        )
    return lines


def where_false_alarms(scores: dict[str, AlgorithmScore]) -> list[str]:
    """Which pairs the false alarms were raised on (the lane drop's, typically)."""
    lines = []
    for name in sorted(scores):
        pairs = scores[name].false_alarm_pairs
        if pairs:
            spots = ", ".join(
                f"{up.removeprefix('loop-')} -> {down.removeprefix('loop-')}: {n}"
                for (up, down), n in pairs.most_common()
            )
            lines.append(f"- {name}'s false alarms by pair: {spots}.")
    return lines or ["- No false alarm on the incident-free runs."]


def main(runs: int, minutes: int, workers: int, write: bool) -> None:
    # a lane drop where each direction leaves: queues at peak times that are not incidents
    corridor = ScenarioSpec(
        kind="corridor", edges=6, edge_length_m=500.0, lanes=3, bottleneck_lanes=2
    )
    began = time.monotonic()
    with_incidents = plan_runs(runs, minutes, corridor, 1, with_incident=True)
    without = plan_runs(runs, minutes, corridor, 1001, with_incident=False)
    results = run_all(with_incidents + without, workers)
    simulated = time.monotonic() - began
    incident_runs, quiet_runs = results[:runs], results[runs:]
    staged = [r for r in incident_runs if r.truth is not None]
    scores = score(incident_runs, quiet_runs, ROAD_CLASS)
    total = time.monotonic() - began
    pairs = len(results[0].pairs)
    durations = [int(r.truth["end_ts"] - r.truth["start_ts"]) // 60_000 for r in staged]
    lines = [
        f"`python -m bench.aid --runs {runs} --minutes {minutes} --workers {workers}`: "
        f"{runs} SUMO runs with one incident each and {runs} without, each {minutes} "
        f"simulated minutes after a {WARMUP_S // 60}-minute warm-up, at random times of a weekday "
        f"(06:00-20:00) with the demand's daily profile; the algorithms of "
        f"`roadwatch.traffic.aid` with the `{ROAD_CLASS}` thresholds, run offline over the "
        f"stations' 1-minute series.",
        "",
        f"- Scenario: a two-way corridor of {corridor.edges} links x "
        f"{corridor.edge_length_m:.0f} m, {corridor.lanes} lanes each way at "
        f"{corridor.speed_limit_kmh:.0f} km/h, dropping to {corridor.bottleneck_lanes} lanes "
        f"on each direction's last link (a recurrent bottleneck at peak times); a station "
        f"(an E1 loop of "
        f"{corridor.loop_length_m:.0f} m on every lane) mid-link, so {pairs} adjacent "
        f"station pairs {corridor.edge_length_m:.0f} m apart; demand peaking at "
        f"{CORRIDOR_PEAK_VPHPL:.0f} veh/h a lane (90 % cars, 10 % lorries), random arrivals.",
        f"- Incidents: {len(staged)} staged of {runs} (vehicles stopped across all lanes "
        f"through TraCI) on inner links (a station on either side), at 15-85 % of the link, "
        f"starting "
        f"10-20 min into the run, lasting {min(durations, default=0)}-"
        f"{max(durations, default=0)} min.",
        "- Detected: an alarm confirmed on the incident's pair or the pair just upstream, "
        "from the incident's start to 5 min after its end; time to detect from the start to "
        "the end of the confirming interval. False alarms: clear -> confirmed transitions on "
        f"the incident-free runs ({runs * pairs * minutes:,} pair-intervals, "
        f"{runs * pairs * minutes / 60:,.0f} pair-hours).",
        f"- Wall time: {simulated:.0f} s simulating ({workers} processes), {total:.0f} s in all.",
        "",
        *table(scores),
        "",
        *where_false_alarms(scores),
    ]
    print("\n".join(lines))
    if write:
        record("AID", lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="incident runs (and as many without)")
    parser.add_argument("--minutes", type=int, default=35, help="reported minutes per run")
    parser.add_argument("--workers", type=int, default=2, help="SUMO runs at once")
    parser.add_argument(
        "--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone"
    )
    args = parser.parse_args()
    main(args.runs, args.minutes, args.workers, not args.no_write)
