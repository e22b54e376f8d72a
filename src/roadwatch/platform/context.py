"""Per-request and per-event context: the correlation id and the acting principal."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current_correlation_id() -> str:
    """The id of the request or event being handled; a fresh one outside of both."""
    value = correlation_id_var.get()
    if value is None:
        value = uuid.uuid4().hex
        correlation_id_var.set(value)
    return value
