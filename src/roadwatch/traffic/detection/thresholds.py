"""The thresholds table of a running platform (defaults plus `traffic.aid_thresholds`).

Event handlers get a session, not the platform, so the table built at start-up is found
again through the session's engine: each application (and each test app) has its own."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.config import ConfigError
from roadwatch.traffic.aid import ThresholdTable

if TYPE_CHECKING:
    from roadwatch.platform.runtime import Platform

_TABLES: weakref.WeakKeyDictionary[object, ThresholdTable] = weakref.WeakKeyDictionary()


def table_of(settings_overrides: dict[str, dict[str, float]]) -> ThresholdTable:
    """The table for these overrides; a bad override stops start-up naming it."""
    return ThresholdTable(settings_overrides)


async def configure(platform: Platform) -> None:
    """Start-up: build the table once; a bad override stops start-up, naming it."""
    try:
        table = table_of(platform.settings.traffic.aid_thresholds)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    _TABLES[platform.db.engine.sync_engine] = table


def for_session(session: AsyncSession) -> ThresholdTable:
    return _TABLES.get(session.get_bind(), None) or ThresholdTable()
