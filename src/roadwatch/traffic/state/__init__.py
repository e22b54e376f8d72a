"""The live traffic state: detector samples from telemetry, per-segment state every 1 and 5
minutes, detector health and performance measures computed from them."""
