"""Request and response shapes of the audit service."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class AuditEventRead(BaseModel):
    seq: int
    id: str
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    entity_type: str
    entity_id: str
    payload: dict[str, Any]
    correlation_id: str
    source: str
    prev_hash: str
    hash: str


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


class EntityTypeRead(BaseModel):
    entity_type: str
    owner: str
    event_types: list[str]
    description: str


class EntityState(BaseModel):
    entity_type: str
    entity_id: str
    at: datetime
    # None when the entity had no events yet at `at`
    state: dict[str, Any] | None
    # how many of its events were folded, and the last of them
    version: int
    last_event_id: str | None
    last_occurred_at: datetime | None


class Change(BaseModel):
    path: str
    before: Any
    after: Any


class HistoryEntry(BaseModel):
    version: int
    seq: int
    event_id: str
    type: str
    occurred_at: datetime
    actor: str
    correlation_id: str
    changes: list[Change]


class ChainHead(BaseModel):
    seq: int
    hash: str
    # events archived to the object store and pruned from the database
    archived_through: int


class DeviceBoardRow(BaseModel):
    model_config = {"from_attributes": True}

    device_id: str
    name: str
    type: str
    label: str
    active: bool
    has_credentials: bool
    online: bool
    last_activity_ts: int | None
