"""Running a device's anomaly rules over the points a batch brought, and raising or clearing
their alarms.

Rules see each point once, in time order: points at or before the newest one a rule has
evaluated (late arrivals) still go into the rollups but are not judged again, so an alarm
is never raised for the past.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.analytics.models import KnownDevice, Rule, RuleState
from roadwatch.analytics.repository import RuleRepository
from roadwatch.analytics.rules import KINDS
from roadwatch.analytics.service.alarms import AlarmService
from roadwatch.analytics.service.rollups import NumericBatch

LAST_TS = "_last_ts"
EVERY_BATCH = [name for name, kind in KINDS.items() if kind.on_every_batch]


class RuleEvaluation:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.rules = RuleRepository(session)
        self.alarms = AlarmService(session, "system")

    async def run(self, device_id: str, fresh: NumericBatch, now_ts: int) -> int:
        """Evaluate every rule of the device on the batch's new points; returns how many
        alarm transitions it caused."""
        device = await self.session.get(KnownDevice, device_id)
        if device is None:
            # a batch can come before the device's creation event: rules by id still apply
            device = KnownDevice(id=device_id, type="", profile_id=None, active=True)
            self.session.add(device)
        device.last_seen_ts = max(device.last_seen_ts or 0, now_ts)
        rules = await self.rules.matching(
            device_id, device.type or None, device.profile_id, fresh.keys, EVERY_BATCH
        )
        done = 0
        for rule in rules:
            done += await self._run_rule(rule, device_id, fresh, now_ts)
        return done

    async def _run_rule(self, rule: Rule, device_id: str, fresh: NumericBatch, now_ts: int) -> int:
        kind = KINDS[rule.kind]
        row = await self.session.get(RuleState, (rule.id, device_id))
        if row is None:
            row = RuleState(rule_id=rule.id, device_id=device_id, state={})
            self.session.add(row)
        state = dict(row.state)
        last = state.pop(LAST_TS, None)
        if rule.key in fresh.keys:
            mine = fresh.series == fresh.keys.index(rule.key)
            ts, values = fresh.ts[mine], fresh.values[mine]
        else:
            ts, values = np.empty(0, np.int64), np.empty(0, np.float64)
        if last is not None:
            newer = ts > last
            ts, values = ts[newer], values[newer]
        if ts.size == 0 and not kind.on_every_batch:
            return 0
        result = kind.evaluate(kind.params.model_validate(rule.params), ts, values, state, now_ts)
        result.state[LAST_TS] = int(ts[-1]) if ts.size else last
        row.state = result.state
        for change in result.transitions:
            details = {**result.details, "rule": rule.name, "trigger_ts": change.ts}
            if change.value is not None:
                details["trigger_value"] = change.value
            if change.action == "raise":
                await self.alarms.raise_alarm(
                    device_id,
                    rule.alarm_type,
                    rule.severity,
                    change.ts,
                    details,
                    rule_id=rule.id,
                    key=rule.key,
                )
            else:
                await self.alarms.clear_open(device_id, rule.alarm_type, change.ts, details)
        if result.active and not result.transitions:
            await self.alarms.touch(device_id, rule.alarm_type, now_ts)
        return len(result.transitions)
