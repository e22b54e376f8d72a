"""Background job of the audit service: retention, when a retention period is set."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from roadwatch.audit.service import Integrity
from roadwatch.platform.db import utcnow
from roadwatch.platform.runtime import Platform

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 24 * 3600.0


async def keep_retention(platform: Platform) -> None:
    days = platform.settings.audit.retention_days
    if not days:
        return
    while True:
        segments = await Integrity(platform.db, platform.store).prune(
            utcnow() - timedelta(days=days)
        )
        if segments:
            log.info(
                "audit events archived and pruned",
                extra={"segments": [s.object_key for s in segments]},
            )
        await asyncio.sleep(PRUNE_EVERY_S)
