"""The hash chain: how an event's hash is computed, how a run of events is checked, and how a
checkpoint (the chain's head at some moment) is signed so it can be kept elsewhere.

hash(n) = SHA-256(prev_hash || canonical JSON of event n's columns), prev_hash = hash(n - 1),
and the first event links to GENESIS. Changing any column of any event, or removing one,
breaks the link at that event or at the one after it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

GENESIS = "0" * 64


class Link(Protocol):
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


def canonical(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces, UTC times with microseconds."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z).decode()


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def link_hash(prev_hash: str, row: Link) -> str:
    content = orjson.dumps(
        [
            row.seq,
            row.event_id,
            row.type,
            _stamp(row.occurred_at),
            _stamp(row.recorded_at),
            row.actor,
            row.entity_type,
            row.entity_id,
            row.correlation_id,
            row.source,
            row.payload,
        ]
    )
    return hashlib.sha256(prev_hash.encode() + content).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    reason: str


@dataclass
class Walk:
    """Walks consecutive events, one at a time, remembering the first broken link."""

    expected_seq: int
    prev_hash: str
    checked: int = 0
    broken: BrokenLink | None = None

    def feed(self, rows: Iterable[Link]) -> None:
        for row in rows:
            if self.broken is not None:
                return
            self._check(row)

    def _check(self, row: Link) -> None:
        if row.seq != self.expected_seq:
            missing = (
                f"{self.expected_seq}"
                if row.seq == self.expected_seq + 1
                else f"{self.expected_seq}..{row.seq - 1}"
            )
            self.broken = BrokenLink(self.expected_seq, f"event(s) {missing} missing")
            return
        if row.prev_hash != self.prev_hash:
            self.broken = BrokenLink(
                row.seq, f"prev_hash does not match the hash of event {row.seq - 1}"
            )
            return
        if link_hash(row.prev_hash, row) != row.hash:
            self.broken = BrokenLink(row.seq, "content does not match its hash (edited)")
            return
        self.checked += 1
        self.expected_seq = row.seq + 1
        self.prev_hash = row.hash


# -- checkpoints --------------------------------------------------------------------------------


def checkpoint_message(seq: int, hash: str, made_at: str) -> bytes:
    return f"roadwatch-audit-checkpoint\n{seq}\n{hash}\n{made_at}".encode()


def sign_checkpoint(key: str, seq: int, hash: str, made_at: datetime) -> dict[str, Any]:
    stamp = _stamp(made_at)
    signature = hmac.new(key.encode(), checkpoint_message(seq, hash, stamp), hashlib.sha256)
    return {
        "seq": seq,
        "hash": hash,
        "made_at": stamp,
        "algorithm": "HMAC-SHA256",
        "signature": signature.hexdigest(),
    }


class BadCheckpoint(ValueError):
    pass


def check_checkpoint(key: str, data: Any) -> tuple[int, str]:
    """The (seq, hash) of a signed checkpoint, or BadCheckpoint naming what is wrong."""
    if not isinstance(data, dict):
        raise BadCheckpoint("a checkpoint is a JSON object")
    missing = [f for f in ("seq", "hash", "made_at", "signature") if f not in data]
    if missing:
        raise BadCheckpoint(f"checkpoint lacks {', '.join(missing)}")
    seq, hash, made_at = data["seq"], data["hash"], data["made_at"]
    if not isinstance(seq, int) or not isinstance(hash, str) or not isinstance(made_at, str):
        raise BadCheckpoint("checkpoint seq must be an integer, hash and made_at strings")
    wanted = hmac.new(key.encode(), checkpoint_message(seq, hash, made_at), hashlib.sha256)
    if not hmac.compare_digest(wanted.hexdigest(), str(data["signature"])):
        raise BadCheckpoint("checkpoint signature is not valid for this key")
    return seq, hash
