"""The AID evaluation bench: SUMO runs with and without staged incidents, roadwatch's
incident-detection algorithms run offline over each run's station series, scored against
the runs' ground truth (`python -m bench.aid`, results in docs/benchmarks.md "AID")."""
