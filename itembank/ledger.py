"""The ledger (台帐): an append-only, hash-chained record of every traceable act.

附件11 第24条 (the whole bank process keeps a ledger, responsibility traceable) and
附件1 第15条 (usage, issue and hand-over recorded). Each entry stores the hash of the entry
before it and its own hash over (previous hash, time, actor, action, object, details), so
``verify_ledger`` finds any edited, inserted or deleted entry. Deleting the newest entries
leaves a shorter valid chain; compare the head hash with one noted elsewhere
(``itembank ledger verify --expect-head``) to catch that too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from itembank.i18n import Message, to_storable
from itembank.orm import LedgerEntryRecord

GENESIS_HASH = "0" * 64
_PG_LEDGER_LOCK = 0x17E_D6E2  # advisory lock key serialising appends on PostgreSQL


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class LedgerVerification:
    ok: bool
    n_entries: int
    head_hash: str
    problems: tuple[Message, ...]  # each names the entry and what was done to it


def _utc_naive(at: datetime) -> datetime:
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at


def entry_hash(
    *,
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any],
) -> str:
    payload = json.dumps(
        {
            "prev": prev_hash,
            "at": _utc_naive(at).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "details": details,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """Append one entry in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LEDGER_LOCK})
    prev = session.scalar(
        select(LedgerEntryRecord.hash).order_by(LedgerEntryRecord.id.desc()).limit(1)
    )
    prev_hash = prev or GENESIS_HASH
    # microsecond precision, UTC: what both SQLite and PostgreSQL give back unchanged
    at = _utc_naive(at or datetime.now(UTC))
    # round-trip the details through JSON so the hash is over what the database returns
    # messages in the details are kept as data (rendered in the reader's locale when shown)
    clean = json.loads(json.dumps(to_storable(details or {}), ensure_ascii=False, default=str))
    h = entry_hash(
        prev_hash=prev_hash,
        at=at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=clean,
    )
    rec = LedgerEntryRecord(
        at=at.replace(tzinfo=UTC),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=clean,
        prev_hash=prev_hash,
        hash=h,
    )
    session.add(rec)
    session.flush()
    return _to_domain(rec)


@dataclass(frozen=True, slots=True)
class NewEntry:
    """Input of ``append_many``: one act on one object."""

    action: str
    object_type: str
    object_id: str | int
    details: dict[str, Any]


def append_many(
    session: Session, *, actor: str, entries: list[NewEntry], at: datetime | None = None
) -> int:
    """Append many entries at once (bulk import): one lock, one read of the head, one
    multi-row insert. The chain is exactly what ``append`` one by one would give."""
    if not entries:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LEDGER_LOCK})
    session.flush()  # entries added through the ORM come first in the chain
    prev_hash = session.scalar(
        select(LedgerEntryRecord.hash).order_by(LedgerEntryRecord.id.desc()).limit(1)
    ) or GENESIS_HASH
    at = _utc_naive(at or datetime.now(UTC))
    rows = []
    for e in entries:
        clean = json.loads(json.dumps(to_storable(e.details or {}), ensure_ascii=False, default=str))
        h = entry_hash(prev_hash=prev_hash, at=at, actor=actor, action=e.action,
                       object_type=e.object_type, object_id=str(e.object_id), details=clean)
        rows.append({"at": at.replace(tzinfo=UTC), "actor": actor, "action": e.action,
                     "object_type": e.object_type, "object_id": str(e.object_id),
                     "details": clean, "prev_hash": prev_hash, "hash": h})
        prev_hash = h
    # ids ascend in insertion order on SQLite and PostgreSQL (a sequence / rowid), which is
    # the order verify_ledger walks
    session.execute(insert(LedgerEntryRecord), rows)
    return len(rows)


def _to_domain(rec: LedgerEntryRecord) -> LedgerEntry:
    return LedgerEntry(
        id=rec.id,
        at=rec.at,
        actor=rec.actor,
        action=rec.action,
        object_type=rec.object_type,
        object_id=rec.object_id,
        details=dict(rec.details or {}),
        prev_hash=rec.prev_hash,
        hash=rec.hash,
    )


def query_ledger(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: str | int | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[LedgerEntry]:
    """Entries matching every given filter, oldest first."""
    q = (select(LedgerEntryRecord)
         .where(*_filters(object_type=object_type, object_id=object_id, actor=actor, action=action,
                          since=since, until=until))
         .order_by(LedgerEntryRecord.id).limit(limit).offset(offset))
    return [_to_domain(r) for r in session.scalars(q)]


def _filters(*, object_type: str | None, object_id: str | int | None, actor: str | None, action: str | None,
             since: datetime | None, until: datetime | None) -> list:
    """The WHERE conditions of ``query_ledger`` and ``count_ledger`` (None: no condition)."""
    L = LedgerEntryRecord
    conds = [column == value for column, value in (
        (L.object_type, object_type), (L.object_id, None if object_id is None else str(object_id)),
        (L.actor, actor), (L.action, action)) if value is not None]
    if since is not None:
        conds.append(L.at >= since)
    if until is not None:
        conds.append(L.at < until)
    return conds


def verify_ledger(
    session: Session, *, expect_head: str | None = None, batch_size: int = 5000
) -> LedgerVerification:
    """Recompute the chain; report every broken link in words."""
    problems: list[Message] = []
    prev_hash = GENESIS_HASH
    n = 0
    last_id = 0
    while True:
        rows = session.execute(
            select(
                LedgerEntryRecord.id,
                LedgerEntryRecord.at,
                LedgerEntryRecord.actor,
                LedgerEntryRecord.action,
                LedgerEntryRecord.object_type,
                LedgerEntryRecord.object_id,
                LedgerEntryRecord.details,
                LedgerEntryRecord.prev_hash,
                LedgerEntryRecord.hash,
            )
            .where(LedgerEntryRecord.id > last_id)
            .order_by(LedgerEntryRecord.id)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        for r in rows:
            n += 1
            if r.prev_hash != prev_hash:
                problems.append(Message(
                    "Entry {id} ({action}, {object_type} {object_id}): its link to the previous entry is "
                    "broken; an entry before it was deleted, inserted or changed.", id=r.id, action=r.action,
                    object_type=r.object_type, object_id=r.object_id))
            expected = entry_hash(
                prev_hash=r.prev_hash,
                at=r.at,
                actor=r.actor,
                action=r.action,
                object_type=r.object_type,
                object_id=r.object_id,
                details=r.details or {},
            )
            if expected != r.hash:
                problems.append(Message(
                    "Entry {id} ({action}, {object_type} {object_id}, by {actor}): its content does not match "
                    "its hash; it was edited after it was written.", id=r.id, action=r.action,
                    object_type=r.object_type, object_id=r.object_id, actor=r.actor))
            prev_hash = r.hash
            last_id = r.id
    if expect_head is not None and expect_head != prev_hash:
        problems.append(Message(
            "The newest entry's hash is {head}…, not the expected {expected}…; entries at the end were deleted "
            "or added.", head=prev_hash[:16], expected=expect_head[:16]))
    return LedgerVerification(
        ok=not problems, n_entries=n, head_hash=prev_hash, problems=tuple(problems)
    )


def count_ledger(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: str | int | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """How many entries ``query_ledger`` would give with the same filters and no limit."""
    from sqlalchemy import func

    q = select(func.count()).select_from(LedgerEntryRecord).where(
        *_filters(object_type=object_type, object_id=object_id, actor=actor, action=action, since=since,
                  until=until))
    return session.scalar(q) or 0
