"""Eclipse SUMO as a data source: a microscopic simulation whose induction loops and patrol
cars report to roadwatch exactly as the synthetic city's do (the optional extra `sumo`).

`scenario` writes a network, demand and detectors; `network` reads a SUMO network into the
simulator's `Network` (segments, stations, GeoJSON); `engine` drives SUMO through TraCI and
yields `Reading`s and ground truth; `incidents` blocks lanes through TraCI; `e1_output`
parses SUMO's own detector output for comparison.
"""
