"""Automatic incident detection in the live pipeline: pairs adjacent stations from each
computed interval, steps the AID algorithms (traffic.aid) on them, and keeps the detections
with their lifecycle and events."""
