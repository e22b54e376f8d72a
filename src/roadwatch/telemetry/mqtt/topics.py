"""The ThingsBoard device topics, topic name and filter rules, and matching (MQTT 4.7)."""

from __future__ import annotations

TELEMETRY = "v1/devices/me/telemetry"
ATTRIBUTES = "v1/devices/me/attributes"
ATTRIBUTES_RESPONSE = "v1/devices/me/attributes/response/+"
RPC_REQUEST = "v1/devices/me/rpc/request/+"
RPC_RESPONSE = "v1/devices/me/rpc/response/+"

# topic kinds as metric labels: a bounded set, never the raw topic
_KINDS = (
    ("v1/devices/me/telemetry", "telemetry"),
    ("v1/devices/me/attributes", "attributes"),
    ("v1/devices/me/rpc/", "rpc"),
    ("v1/gateway/", "gateway"),
    ("v2/fw/", "firmware"),
)


def kind(topic: str) -> str:
    for prefix, name in _KINDS:
        if topic.startswith(prefix):
            return name
    return "other"


def valid_name(topic: str) -> bool:
    """A topic a PUBLISH may carry: not empty, no wildcards."""
    return bool(topic) and "+" not in topic and "#" not in topic


def valid_filter(topic_filter: str) -> bool:
    """A topic filter: `+` fills a whole level, `#` a whole last level."""
    if not topic_filter:
        return False
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return True


def matches(topic_filter: str, topic: str) -> bool:
    """Whether a valid filter matches a topic name, `$` topics excepted from wildcards."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            # "a/#" also matches "a" itself
            return True
        if index >= len(topic_levels):
            return False
        if level != "+" and level != topic_levels[index]:
            return False
    return len(filter_levels) == len(topic_levels)
