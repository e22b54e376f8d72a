"""Incident detection use cases: running the algorithms on each interval (run.py) and what
people do with detections (detections.py)."""
