"""Every query of the analytics service.

The point and rollup writes are bulk upserts, one statement per table per batch: column
arrays unnested server-side on PostgreSQL, an executemany on SQLite (the telemetry store's
way), both with ON CONFLICT so a bucket written twice ends as its last computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Select, and_, delete, or_, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.analytics.aggregate import F64, I64, Buckets
from roadwatch.analytics.models import Alarm, AlarmComment, AnalyticsPoint, Rollup, Rule

_PG_POINTS = text(
    """
    INSERT INTO analytics_point (device_id, key, ts, value)
    SELECT :device_id, k, t, v
    FROM unnest(CAST(:keys AS varchar[]), CAST(:ts AS bigint[]), CAST(:vals AS float8[]))
        AS u(k, t, v)
    ON CONFLICT (device_id, key, ts) DO UPDATE SET value = EXCLUDED.value
    """
)
_ROLLUP_VALUES = ("count", "sum", "min", "max", "m2", "first_ts", "first", "last_ts", "last")
_PG_ROLLUPS = text(
    """
    INSERT INTO analytics_rollup (device_id, key, resolution_s, bucket_ts, count, sum, min,
        max, m2, first_ts, first, last_ts, last)
    SELECT d, k, :resolution_s, b, c, s, mn, mx, m2, ft, f, lt, l
    FROM unnest(CAST(:devices AS varchar[]), CAST(:keys AS varchar[]),
        CAST(:bucket AS bigint[]), CAST(:count AS bigint[]), CAST(:sum AS float8[]),
        CAST(:min AS float8[]), CAST(:max AS float8[]), CAST(:m2 AS float8[]),
        CAST(:first_ts AS bigint[]), CAST(:first AS float8[]), CAST(:last_ts AS bigint[]),
        CAST(:last AS float8[])) AS u(d, k, b, c, s, mn, mx, m2, ft, f, lt, l)
    ON CONFLICT (device_id, key, resolution_s, bucket_ts) DO UPDATE SET
        count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max,
        m2 = EXCLUDED.m2, first_ts = EXCLUDED.first_ts, first = EXCLUDED.first,
        last_ts = EXCLUDED.last_ts, last = EXCLUDED.last
    """
)


def _is_pg(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class PointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_device(self, device_id: str) -> None:
        """Serialise the batches of one device between replicas until the transaction ends.

        A bucket is recomputed from the points stored in it; two replicas folding points of
        the same device at once would each miss the other's. SQLite has one writer anyway.
        """
        if _is_pg(self.session):
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:d, 7))"), {"d": device_id}
            )

    async def points(
        self, device_id: str, keys: Sequence[str], start_ts: int, end_ts: int
    ) -> tuple[list[str], I64, F64]:
        """(key, ts, value) of the device's stored points of these keys in [start, end)."""
        rows = (
            await self.session.execute(
                select(AnalyticsPoint.key, AnalyticsPoint.ts, AnalyticsPoint.value).where(
                    AnalyticsPoint.device_id == device_id,
                    AnalyticsPoint.key.in_(list(keys)),
                    AnalyticsPoint.ts >= start_ts,
                    AnalyticsPoint.ts < end_ts,
                )
            )
        ).all()
        return (
            [r[0] for r in rows],
            np.fromiter((r[1] for r in rows), np.int64, len(rows)),
            np.fromiter((r[2] for r in rows), np.float64, len(rows)),
        )

    async def upsert_points(self, device_id: str, keys: list[str], ts: I64, values: F64) -> None:
        if not keys:
            return
        if _is_pg(self.session):
            await self.session.execute(
                _PG_POINTS,
                {"device_id": device_id, "keys": keys, "ts": ts.tolist(), "vals": values.tolist()},
            )
            return
        statement = sqlite_insert(AnalyticsPoint)
        statement = statement.on_conflict_do_update(
            index_elements=["device_id", "key", "ts"], set_={"value": statement.excluded.value}
        )
        await self.session.execute(
            statement,
            [
                {"device_id": device_id, "key": k, "ts": t, "value": v}
                for k, t, v in zip(keys, ts.tolist(), values.tolist(), strict=True)
            ],
        )

    async def devices_with_points(self, start_ts: int, end_ts: int) -> list[str]:
        rows = await self.session.scalars(
            select(AnalyticsPoint.device_id)
            .where(AnalyticsPoint.ts >= start_ts, AnalyticsPoint.ts < end_ts)
            .distinct()
            .order_by(AnalyticsPoint.device_id)
        )
        return list(rows.all())

    async def device_keys(self, device_id: str, start_ts: int, end_ts: int) -> list[str]:
        rows = await self.session.scalars(
            select(AnalyticsPoint.key)
            .where(
                AnalyticsPoint.device_id == device_id,
                AnalyticsPoint.ts >= start_ts,
                AnalyticsPoint.ts < end_ts,
            )
            .distinct()
        )
        return sorted(rows.all())


class RollupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(
        self, resolution_s: int, devices: list[str], keys: list[str], b: Buckets
    ) -> None:
        """Write buckets; devices[i], keys[i] name the series of b's i-th bucket."""
        if len(b) == 0:
            return
        columns: dict[str, list[Any]] = {
            "bucket": b.bucket.tolist(),
            **{name: getattr(b, name).tolist() for name in _ROLLUP_VALUES},
        }
        if _is_pg(self.session):
            await self.session.execute(
                _PG_ROLLUPS,
                {"resolution_s": resolution_s, "devices": devices, "keys": keys, **columns},
            )
            return
        statement = sqlite_insert(Rollup)
        statement = statement.on_conflict_do_update(
            index_elements=["device_id", "key", "resolution_s", "bucket_ts"],
            set_={name: getattr(statement.excluded, name) for name in _ROLLUP_VALUES},
        )
        rows = [
            {
                "device_id": devices[i],
                "key": keys[i],
                "resolution_s": resolution_s,
                "bucket_ts": columns["bucket"][i],
                **{name: columns[name][i] for name in _ROLLUP_VALUES},
            }
            for i in range(len(b))
        ]
        await self.session.execute(statement, rows)

    def select(
        self,
        device_ids: Sequence[str],
        keys: Sequence[str],
        resolution_s: int,
        start_ts: int,
        end_ts: int,
    ) -> Select[Any]:
        return (
            select(Rollup)
            .where(
                Rollup.device_id.in_(list(device_ids)),
                Rollup.key.in_(list(keys)),
                Rollup.resolution_s == resolution_s,
                Rollup.bucket_ts >= start_ts,
                Rollup.bucket_ts < end_ts,
            )
            .order_by(Rollup.device_id, Rollup.key, Rollup.bucket_ts)
        )

    async def fetch(
        self,
        device_ids: Sequence[str],
        keys: Sequence[str],
        resolution_s: int,
        start_ts: int,
        end_ts: int,
    ) -> list[Rollup]:
        rows = await self.session.scalars(
            self.select(device_ids, keys, resolution_s, start_ts, end_ts)
        )
        return list(rows.all())

    async def rows(
        self,
        device_ids: Sequence[str],
        keys: Sequence[str],
        resolution_s: int,
        start_ts: int,
        end_ts: int,
    ) -> Sequence[Any]:
        """The same as fetch, as plain rows (no ORM objects): the read path of queries."""
        columns = [c for c in Rollup.__table__.columns]
        statement = self.select(device_ids, keys, resolution_s, start_ts, end_ts)
        result = await self.session.execute(statement.with_only_columns(*columns))
        return result.all()

    async def delete_range(self, device_id: str, start_ts: int, end_ts: int) -> None:
        await self.session.execute(
            delete(Rollup).where(
                and_(
                    Rollup.device_id == device_id,
                    Rollup.bucket_ts >= start_ts,
                    Rollup.bucket_ts < end_ts,
                )
            )
        )


class RuleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def query(self, scope: str | None, key: str | None) -> Select[Any]:
        statement = select(Rule)
        if scope is not None:
            statement = statement.where(Rule.scope == scope)
        if key is not None:
            statement = statement.where(Rule.key == key)
        return statement

    sortable = {"name": Rule.name, "created_at": Rule.created_at, "kind": Rule.kind}

    async def matching(
        self,
        device_id: str,
        device_type: str | None,
        profile_id: str | None,
        keys: list[str],
        any_key_kinds: list[str],
    ) -> list[Rule]:
        """The enabled rules that apply to this device and to one of these keys (rules of
        `any_key_kinds` whatever their key)."""
        scopes = [and_(Rule.scope == "device", Rule.scope_value == device_id)]
        if device_type:
            scopes.append(and_(Rule.scope == "device_type", Rule.scope_value == device_type))
        if profile_id:
            scopes.append(and_(Rule.scope == "profile", Rule.scope_value == profile_id))

        rows = await self.session.scalars(
            select(Rule)
            .where(
                Rule.enabled.is_(True),
                or_(Rule.key.in_(keys), Rule.kind.in_(any_key_kinds)),
                or_(*scopes),
            )
            .order_by(Rule.created_at, Rule.id)
        )
        return list(rows.all())

    async def of_kind(
        self, device_id: str, device_type: str | None, profile_id: str | None, kind: str
    ) -> list[Rule]:
        """The enabled rules of this kind that apply to the device, whatever their key."""
        scopes = [and_(Rule.scope == "device", Rule.scope_value == device_id)]
        if device_type:
            scopes.append(and_(Rule.scope == "device_type", Rule.scope_value == device_type))
        if profile_id:
            scopes.append(and_(Rule.scope == "profile", Rule.scope_value == profile_id))
        rows = await self.session.scalars(
            select(Rule)
            .where(Rule.enabled.is_(True), Rule.kind == kind, or_(*scopes))
            .order_by(Rule.created_at, Rule.id)
        )
        return list(rows.all())


class AlarmRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    sortable = {
        "created_at": Alarm.created_at,
        "start_ts": Alarm.start_ts,
        "severity": Alarm.severity,
        "status": Alarm.status,
        "type": Alarm.type,
    }

    async def open_alarm(self, originator_id: str, type: str) -> Alarm | None:
        alarm: Alarm | None = await self.session.scalar(
            select(Alarm).where(Alarm.open_key == f"{originator_id}|{type}")
        )
        return alarm

    def query(
        self,
        statuses: list[str] | None,
        severities: list[str] | None,
        originator_id: str | None,
        type: str | None,
    ) -> Select[Any]:
        statement = select(Alarm)
        if statuses:
            statement = statement.where(Alarm.status.in_(statuses))
        if severities:
            statement = statement.where(Alarm.severity.in_(severities))
        if originator_id:
            statement = statement.where(Alarm.originator_id == originator_id)
        if type:
            statement = statement.where(Alarm.type == type)
        return statement

    async def comments(self, alarm_id: str) -> list[AlarmComment]:
        rows = await self.session.scalars(
            select(AlarmComment)
            .where(AlarmComment.alarm_id == alarm_id)
            .order_by(AlarmComment.created_at, AlarmComment.id)
        )
        return list(rows.all())
