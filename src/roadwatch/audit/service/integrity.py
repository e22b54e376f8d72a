"""Keeping the store trustworthy: verifying the chain, signing checkpoints, archiving old
segments to the object store before pruning them, and rebuilding the device board."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select

from roadwatch.audit.chain import GENESIS, BrokenLink, Walk, canonical, sign_checkpoint
from roadwatch.audit.models import AuditEvent, AuditSegment
from roadwatch.audit.projections import BOARD_EVENTS, board_defaults, fold_board
from roadwatch.audit.reducers import Fact
from roadwatch.audit.repository import AuditRepository
from roadwatch.platform.db import Database, utcnow
from roadwatch.platform.storage import ObjectNotFound, ObjectStore

WALK_CHUNK = 5000
# one archive object holds at most this many events
SEGMENT_EVENTS = 50_000
SEGMENT_PREFIX = "audit/segments/"
ARCHIVE_FIELDS = (
    "seq",
    "event_id",
    "type",
    "occurred_at",
    "recorded_at",
    "actor",
    "entity_type",
    "entity_id",
    "payload",
    "correlation_id",
    "source",
    "prev_hash",
    "hash",
)


@dataclass
class ArchivedLink:
    """An event as read back from an archive object."""

    seq: int
    event_id: str
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    entity_type: str
    entity_id: str
    payload: str
    correlation_id: str
    source: str
    prev_hash: str
    hash: str


@dataclass
class Verification:
    checked: int
    archived_checked: int
    head_seq: int
    head_hash: str
    broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.broken is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "archived_checked": self.archived_checked,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "first_broken": (
                {"seq": self.broken.seq, "reason": self.broken.reason} if self.broken else None
            ),
        }


def _archive_line(row: Any) -> bytes:
    return canonical({f: getattr(row, f) for f in ARCHIVE_FIELDS}).encode() + b"\n"


def _read_archive(data: bytes) -> list[ArchivedLink]:
    links = []
    for line in data.splitlines():
        if not line.strip():
            continue
        item = orjson.loads(line)
        item["occurred_at"] = datetime.fromisoformat(item["occurred_at"])
        item["recorded_at"] = datetime.fromisoformat(item["recorded_at"])
        links.append(ArchivedLink(**item))
    return links


class Integrity:
    def __init__(self, db: Database, store: ObjectStore) -> None:
        self.db = db
        self.store = store

    async def _stored_rows(
        self, after_seq: int, until_seq: int | None = None
    ) -> AsyncIterator[Any]:
        """Rows of audit_event after `after_seq`, in chain order, a chunk per transaction."""
        table = AuditEvent.__table__
        while True:
            async with self.db.read_session() as session:
                statement = select(table).where(table.c.seq > after_seq)
                if until_seq is not None:
                    statement = statement.where(table.c.seq <= until_seq)
                rows = (
                    await session.execute(statement.order_by(table.c.seq).limit(WALK_CHUNK))
                ).all()
            if not rows:
                return
            for row in rows:
                yield row
            after_seq = rows[-1].seq

    async def _segment_links(self, segment: AuditSegment) -> list[ArchivedLink]:
        data = await self.store.get(segment.object_key)
        if hashlib.sha256(data).hexdigest() != segment.sha256:
            raise ValueError(f"archive {segment.object_key} does not match its recorded SHA-256")
        return _read_archive(data)

    async def verify(
        self, checkpoint: tuple[int, str] | None = None, archives: bool = False
    ) -> Verification:
        """Walk the chain from its start (or from the last archived segment) to its head."""
        async with self.db.read_session() as session:
            repo = AuditRepository(session)
            segments = await repo.segments()
            head = await repo.head()
        head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
        archived = Walk(expected_seq=1, prev_hash=GENESIS)
        if archives:
            for segment in segments:
                try:
                    links = await self._segment_links(segment)
                except (ObjectNotFound, ValueError) as exc:
                    archived.broken = BrokenLink(segment.first_seq, f"archive unusable: {exc}")
                    break
                archived.feed(links)
                if archived.broken is None and archived.prev_hash != segment.last_hash:
                    archived.broken = BrokenLink(
                        segment.last_seq, "archive does not end with the recorded hash"
                    )
                if archived.broken is not None:
                    break
        if archived.broken is not None:
            return Verification(0, archived.checked, head_seq, head_hash, archived.broken)
        start = segments[-1] if segments else None
        walk = Walk(
            expected_seq=start.last_seq + 1 if start else 1,
            prev_hash=start.last_hash if start else GENESIS,
        )
        wanted = checkpoint
        # up to the head read above: events appended meanwhile are the next walk's
        async for row in self._stored_rows(walk.expected_seq - 1, head_seq):
            walk.feed([row])
            if walk.broken is not None:
                break
            if wanted is not None and row.seq == wanted[0]:
                if row.hash != wanted[1]:
                    walk.broken = BrokenLink(
                        row.seq, "differs from the checkpoint: the chain was rewritten"
                    )
                    break
                wanted = None
        if walk.broken is None and (walk.expected_seq - 1, walk.prev_hash) != (head_seq, head_hash):
            walk.broken = BrokenLink(
                walk.expected_seq,
                f"the chain ends at event {walk.expected_seq - 1} but its head is event "
                f"{head_seq}: events at the end are missing",
            )
        if walk.broken is None and wanted is not None:
            if start is not None and wanted[0] <= start.last_seq:
                if wanted[0] == start.last_seq and wanted[1] != start.last_hash:
                    walk.broken = BrokenLink(wanted[0], "differs from the checkpoint")
            else:
                walk.broken = BrokenLink(
                    wanted[0], "the checkpoint's event is not in the chain: events were removed"
                )
        return Verification(walk.checked, archived.checked, head_seq, head_hash, walk.broken)

    async def checkpoint(self, key: str) -> dict[str, Any]:
        async with self.db.read_session() as session:
            head = await AuditRepository(session).head()
        seq, hash = (head.seq, head.hash) if head else (0, GENESIS)
        return sign_checkpoint(key, seq, hash, utcnow())

    async def prune(self, cutoff: datetime) -> list[AuditSegment]:
        """Archive events recorded before `cutoff` to the object store, then delete them;
        the chain stays verifiable from the last segment's hash."""
        made: list[AuditSegment] = []
        while True:
            async with self.db.session() as session:
                repo = AuditRepository(session)
                last_kept = await repo.last_segment()
                through = await repo.last_seq_before(cutoff)
            after = last_kept.last_seq if last_kept else 0
            prev_hash = last_kept.last_hash if last_kept else GENESIS
            if through is None or through <= after:
                return made
            through = min(through, after + SEGMENT_EVENTS)
            # archived events never change, so they are read and written out before the
            # short transaction that records the segment and deletes them
            rows = [row async for row in self._stored_rows(after, through)]
            walk = Walk(expected_seq=after + 1, prev_hash=prev_hash)
            walk.feed(rows)
            if walk.broken is None and walk.expected_seq != through + 1:
                walk.broken = BrokenLink(walk.expected_seq, "event missing")
            if walk.broken is not None:
                raise ValueError(
                    f"not archiving a broken chain: event {walk.broken.seq}: {walk.broken.reason}"
                )
            data = b"".join(_archive_line(row) for row in rows)
            key = f"{SEGMENT_PREFIX}{after + 1:012d}-{through:012d}.jsonl"
            await self.store.put(key, data, "application/x-ndjson")
            segment = AuditSegment(
                first_seq=after + 1,
                last_seq=through,
                prev_hash=prev_hash,
                last_hash=walk.prev_hash,
                object_key=key,
                sha256=hashlib.sha256(data).hexdigest(),
                count=len(rows),
                archived_at=utcnow(),
            )
            async with self.db.session() as session:
                # the segment row first: on PostgreSQL the trigger lets only archived rows go
                session.add(segment)
                await session.flush()
                await AuditRepository(session).prune_through(through)
            made.append(segment)

    async def _all_links(self) -> AsyncIterator[Any]:
        """Every event ever recorded, archived ones first, in chain order."""
        async with self.db.read_session() as session:
            segments = await AuditRepository(session).segments()
        for segment in segments:
            for link in await self._segment_links(segment):
                yield link
        async for row in self._stored_rows(segments[-1].last_seq if segments else 0):
            yield row

    async def rebuild_board(self) -> int:
        """Make the device board again from the event store alone; returns its rows."""
        board: dict[str, dict[str, Any]] = {}
        seen = 0

        def fold(link: Any) -> None:
            nonlocal seen
            seen = link.seq
            if link.type not in BOARD_EVENTS:
                return
            fact = Fact(link.type, link.entity_type, link.entity_id, orjson.loads(link.payload))
            after = fold_board(board.get(link.entity_id), fact, link.seq)
            if after is not None:
                board[link.entity_id] = after

        async for link in self._all_links():
            fold(link)
        async with self.db.session() as session:
            repo = AuditRepository(session)
            # the board is cleared first, which holds the writer lock on SQLite; on
            # PostgreSQL the chain head is locked: either way no event is appended until
            # the new board is in, and those appended meanwhile are folded here
            await repo.clear_board()
            await repo.lock_head()
            for row in await repo.batch_from(seen, limit=1_000_000):
                fold(row)
            await repo.insert_board([board_defaults(row) for row in board.values()])
        return len(board)
