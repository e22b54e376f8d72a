"""Prometheus metrics of the MQTT endpoint; labels come from small fixed sets."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONNECTED = Gauge("roadwatch_mqtt_connected_clients", "Devices connected over MQTT now")
CONNECTS = Counter(
    "roadwatch_mqtt_connects_total",
    "CONNECT packets by outcome (accepted, not_authorized, bad_credentials, ...)",
    ["result"],
)
DISCONNECTS = Counter(
    "roadwatch_mqtt_disconnects_total",
    "Connections of authenticated devices ended, by cause",
    ["cause"],
)
RECEIVED = Counter("roadwatch_mqtt_messages_received_total", "PUBLISH packets received", ["kind"])
REJECTED = Counter(
    "roadwatch_mqtt_rejected_total",
    "Messages not taken: invalid_payload, unsupported_topic, refused, store_failed",
    ["reason"],
)
PUBACK_SECONDS = Histogram(
    "roadwatch_mqtt_puback_seconds",
    "From a QoS 1 PUBLISH read to its PUBACK written (includes the commit)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SENT = Counter(
    "roadwatch_mqtt_messages_sent_total", "Messages pushed to devices", ["kind", "delivered"]
)
BRIDGED = Counter(
    "roadwatch_mqtt_bridge_messages_total",
    "Messages taken from the site broker by outcome (stored, invalid_payload, unknown_token, "
    "out_of_range, unsupported_topic)",
    ["result"],
)
BRIDGE_CONNECTED = Gauge(
    "roadwatch_mqtt_bridge_connected", "1 while the bridge holds its session with the broker"
)
