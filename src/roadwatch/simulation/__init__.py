"""The synthetic demo city: a client that feeds a running platform through its public APIs.

It is not a service: it imports no service package and talks to the platform over HTTP
(or MQTT), exactly as real detectors and patrol-car trackers would.
"""
