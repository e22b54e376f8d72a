"""Request and response models of the analytics API (ordinary pydantic: not the hot path)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from roadwatch.analytics.alarm_states import AlarmStatus, Severity


class RuleScope(StrEnum):
    DEVICE = "device"
    DEVICE_TYPE = "device_type"
    PROFILE = "profile"


RuleKindName = Literal[
    "threshold", "zscore", "ewma", "rate_of_change", "seasonal", "missing_data", "device_offline"
]


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    scope: RuleScope = Field(description="what the rule applies to")
    scope_value: str = Field(
        min_length=1, max_length=64, description="the device id, device type or profile id"
    )
    key: str = Field(min_length=1, max_length=255, description="the telemetry key it watches")
    kind: RuleKindName
    params: dict[str, Any] = Field(
        default_factory=dict, description="the kind's parameters (docs/analytics.md)"
    )
    alarm_type: str | None = Field(
        None, min_length=1, max_length=100, description="the alarm's type; the name if absent"
    )
    severity: Severity = Severity.MAJOR
    enabled: bool = True


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    params: dict[str, Any] | None = None
    severity: Severity | None = None
    enabled: bool | None = None


class RuleRead(BaseModel):
    id: str
    name: str
    scope: RuleScope
    scope_value: str
    key: str
    kind: str
    params: dict[str, Any]
    alarm_type: str
    severity: Severity
    enabled: bool
    created_at: datetime
    updated_at: datetime


class AlarmRead(BaseModel):
    id: str
    type: str
    originator_type: str
    originator_id: str
    severity: Severity
    status: AlarmStatus
    acknowledged: bool
    cleared: bool
    rule_id: str | None
    key: str | None
    start_ts: int
    end_ts: int
    ack_ts: int | None
    clear_ts: int | None
    assignee_id: str | None
    details: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class AlarmAssign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_id: str | None = Field(
        description="the user to assign it to; null to unassign", max_length=64
    )


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)


class CommentRead(BaseModel):
    id: str
    alarm_id: str
    author: str
    text: str
    created_at: datetime


class Resolution(StrEnum):
    MINUTE = "1m"
    FIVE_MINUTES = "5m"
    HOUR = "1h"


class BucketRead(BaseModel):
    ts: int = Field(description="the bucket's start (ms)")
    count: int
    sum: float
    min: float
    max: float
    mean: float
    variance: float = Field(description="population variance of the bucket's points")
    stddev: float
    first_ts: int
    first: float
    last_ts: int
    last: float


class RebuildResult(BaseModel):
    start_ts: int
    end_ts: int
    devices: int
    points: int
