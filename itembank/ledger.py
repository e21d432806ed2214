"""The ledger (台帐): an append-only, hash-chained, keyed record of every traceable act.

附件11 第24条 (the whole bank process keeps a ledger, responsibility traceable) and
附件1 第15条 (usage, issue and hand-over recorded).

- Each entry stores the hash of the entry before it and its own SHA-256 over (previous hash,
  time, actor, action, object, details): an entry edited, inserted or deleted in the middle
  breaks the chain.
- Each entry also stores a MAC: HMAC-SHA256 of its hash under the ledger key, which is kept
  outside the database (``itembank.keys``). Someone who can write the database but not read
  the key cannot edit an entry and recompute the chain after it ("re-chaining"): the MACs no
  longer match.
- Checkpoints (``make_checkpoint``): the head entry's id and hash and the number of entries,
  signed with an Ed25519 key derived from the ledger key; stored in the database, appended to
  the witness file beside the key, exported for the paper archive. Deleting entries up to a
  checkpoint (the newest ones included) is found against it; entries after the newest
  checkpoint are protected against edits, not against deletion at the end, until the next
  checkpoint (the server makes one every few minutes: ``Settings.ledger_checkpoint_minutes``).

``verify_ledger`` checks all of this and says in words what it proved and what it could not
(``LedgerVerification.proves`` / ``limits``). Entries written before the ledger was keyed
(migration 0009_sec) have no MAC: they are covered from the first checkpoint on.

Locking. Appends are serialised (each entry links to the one before): on PostgreSQL by a
transaction-level advisory lock, on SQLite by the write lock. **The one lock order** (no
deadlocks by design): a transaction that writes the ledger and also updates rows other
transactions update (usage counters, paper states) takes the ledger lock *first* (``lock``),
then updates those rows in ascending id order. Rows claimed with ``FOR UPDATE SKIP LOCKED``
never wait, so they may come before. What can still fail (a serialization failure, a deadlock
through some path outside this order) is retried whole by ``itembank.db.run_transaction`` and
the API's retry middleware.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timezone
from typing import Any

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from itembank.db import begin_writing
from itembank.i18n import LOCALES, N_, Message, format_datetime, gettext, to_storable
from itembank.keys import KeyMissingError, LedgerKey, ledger_key
from itembank.orm import LedgerEntryRecord
from itembank.orm_accounts import LedgerCheckpointRecord

GENESIS_HASH = "0" * 64
_PG_LEDGER_LOCK = 0x17E_D6E2  # advisory lock key serialising appends on PostgreSQL
# Advisory locks belong to the whole database, but the ledger is a table of one schema: the
# lock is taken on (key, the schema's hash), so that ledgers in other schemas of the same
# database (test workers, a second centre) do not wait for each other's open transactions.
_PG_LOCK_SQL = text("SELECT pg_advisory_xact_lock(CAST(:k AS integer), hashtext(current_schema()))")


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
    mac: str | None = None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement: the ledger held ``n_entries`` entries, the newest ``entry_id`` with
    hash ``head_hash``, at ``at`` (``make_checkpoint``)."""

    id: int | None
    at: datetime
    entry_id: int
    n_entries: int
    head_hash: str
    key_id: str
    signature: str

    def payload(self) -> bytes:
        return json.dumps({"v": 1, "at": _utc_naive(self.at).isoformat(timespec="microseconds"),
                           "entry_id": self.entry_id, "n_entries": self.n_entries, "head_hash": self.head_hash,
                           "key_id": self.key_id}, sort_keys=True, separators=(",", ":")).encode("ascii")


@dataclass(frozen=True, slots=True)
class LedgerVerification:
    ok: bool
    n_entries: int
    head_hash: str
    problems: tuple[Message, ...]  # each names the entry and what was done to it
    keyed: bool = False  # the ledger key was at hand and the MACs were checked
    n_unkeyed: int = 0  # entries written before the ledger was keyed (no MAC)
    checkpoint: Checkpoint | None = None  # the newest checkpoint the chain was checked against
    checkpoint_source: str = ""  # database | witness | export
    n_after_checkpoint: int = 0  # entries newer than that checkpoint
    proves: tuple[Message, ...] = ()  # what the verification established, in words
    limits: tuple[Message, ...] = ()  # what it could not establish


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


def lock(session: Session) -> None:
    """Take the ledger lock for the rest of the transaction (see the module docstring: first,
    before updating shared rows). PostgreSQL: an advisory transaction lock; SQLite: the write
    lock (``itembank.db.begin_writing``). Taking it twice is harmless."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_PG_LOCK_SQL, {"k": _PG_LEDGER_LOCK})
    else:
        begin_writing(session)


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
    lock(session)
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
    key = ledger_key(session)
    rec = LedgerEntryRecord(
        at=at.replace(tzinfo=UTC),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=clean,
        prev_hash=prev_hash,
        hash=h,
        mac=key.mac(h) if key is not None else None,
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
    lock(session)
    session.flush()  # entries added through the ORM come first in the chain
    prev_hash = session.scalar(
        select(LedgerEntryRecord.hash).order_by(LedgerEntryRecord.id.desc()).limit(1)
    ) or GENESIS_HASH
    at = _utc_naive(at or datetime.now(UTC))
    key = ledger_key(session)
    rows = []
    for e in entries:
        clean = json.loads(json.dumps(to_storable(e.details or {}), ensure_ascii=False, default=str))
        h = entry_hash(prev_hash=prev_hash, at=at, actor=actor, action=e.action,
                       object_type=e.object_type, object_id=str(e.object_id), details=clean)
        rows.append({"at": at.replace(tzinfo=UTC), "actor": actor, "action": e.action,
                     "object_type": e.object_type, "object_id": str(e.object_id),
                     "details": clean, "prev_hash": prev_hash, "hash": h,
                     "mac": key.mac(h) if key is not None else None})
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
        mac=rec.mac,
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
    newest_first: bool = False,
) -> list[LedgerEntry]:
    """Entries matching every given filter, oldest first (``newest_first``: newest first)."""
    order = LedgerEntryRecord.id.desc() if newest_first else LedgerEntryRecord.id
    q = (select(LedgerEntryRecord)
         .where(*_filters(object_type=object_type, object_id=object_id, actor=actor, action=action,
                          since=since, until=until))
         .order_by(order).limit(limit).offset(offset))
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


def _check_signature(cp: Checkpoint, key: LedgerKey | None, source: str, problems: list[Message]) -> bool:
    if key is None:
        return False
    if cp.key_id != key.key_id:
        problems.append(Message(
            "checkpoint #{id} ({source}) was signed with ledger key {other}, not this centre's key {mine}",
            id=cp.id, source=source, other=cp.key_id, mine=key.key_id))
        return False
    if not key.verify(cp.payload(), cp.signature):
        problems.append(Message(
            "checkpoint #{id} ({source}): its signature does not match its content — it was forged or altered",
            id=cp.id, source=source))
        return False
    return True


def verify_ledger(
    session: Session, *, expect_head: str | None = None, checkpoints: Sequence[Checkpoint] = (),
    batch_size: int = 5000,
) -> LedgerVerification:
    """Recompute the chain and the MACs, and check it against the newest checkpoint of the
    database, of the witness file and every ``checkpoints`` given (exports from the archive);
    report every problem, and what was proved and what not, in words."""
    problems: list[Message] = []
    try:
        key = ledger_key(session)
    except KeyMissingError as e:
        key = None
        problems.append(e.head_text if isinstance(e.head_text, Message) else Message("{message}", message=e.head_text))
    sources: list[tuple[str, Checkpoint]] = []
    db_cp = latest_checkpoint(session)
    if db_cp is not None:
        sources.append(("database", db_cp))
    witnessed, bad_lines = read_witness(key) if key is not None else ([], 0)
    if bad_lines:
        problems.append(Message("the witness file {path} has {n} unreadable line(s): it was altered",
                                path=str(key.witness) if key else "", n=bad_lines))
    if witnessed:
        w = witnessed[-1]
        sources.append(("witness", w))
        stored = session.get(LedgerCheckpointRecord, w.id) if w.id is not None else None
        if stored is None or stored.signature != w.signature:
            problems.append(Message(
                "checkpoint #{id} of the witness file (signed {at}) is not in the database: checkpoints were deleted "
                "from it", id=w.id, at=w.at))
    sources += [("export", cp) for cp in checkpoints]
    wanted: dict[int, list[tuple[str, Checkpoint]]] = {}
    for source, cp in sources:
        if _check_signature(cp, key, source, problems) or key is None:
            wanted.setdefault(cp.entry_id, []).append((source, cp))
    prev_hash = GENESIS_HASH
    n = 0
    last_id = 0
    first_id: int | None = None
    first_keyed: int | None = None
    n_unkeyed = 0
    n_at: dict[int, int] = {}
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
                LedgerEntryRecord.mac,
            )
            .where(LedgerEntryRecord.id > last_id)
            .order_by(LedgerEntryRecord.id)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        for r in rows:
            n += 1
            first_id = first_id if first_id is not None else r.id
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
            if r.mac is None:
                if first_keyed is not None:
                    problems.append(Message(
                        "entry {id} ({action}): its MAC is missing although earlier entries carry one — it was "
                        "removed to hide a change", id=r.id, action=r.action))
                else:
                    n_unkeyed += 1
            else:
                first_keyed = first_keyed if first_keyed is not None else r.id
                if key is not None and not hmac.compare_digest(r.mac, key.mac(r.hash)):
                    problems.append(Message(
                        "entry {id} ({action} {object_type} {object_id}): its MAC does not match — the entry was "
                        "changed and the chain recomputed by someone without the ledger key", id=r.id,
                        action=r.action, object_type=r.object_type, object_id=r.object_id))
            if r.id in wanted:
                n_at[r.id] = n
                for source, cp in wanted[r.id]:
                    if r.hash != cp.head_hash or n != cp.n_entries:
                        problems.append(Message(
                            "checkpoint #{id} ({source}, signed {at}) saw {n_cp} entries ending with entry {entry} "
                            "of hash {hash}; the ledger now has {n_now} entries up to it, ending with hash {now}: "
                            "entries were deleted or the chain was rebuilt", id=cp.id, source=source, at=cp.at,
                            n_cp=cp.n_entries, entry=cp.entry_id, hash=cp.head_hash[:16], n_now=n,
                            now=r.hash[:16]))
            prev_hash = r.hash
            last_id = r.id
    for entry_id, found in wanted.items():
        if entry_id not in n_at:
            for source, cp in found:
                problems.append(Message(
                    "checkpoint #{id} ({source}, signed {at}) ends with entry {entry}, which is no longer in the "
                    "ledger: entries up to it were deleted", id=cp.id, source=source, at=cp.at, entry=entry_id))
    if expect_head is not None and expect_head != prev_hash:
        problems.append(Message(
            "The newest entry's hash is {head}…, not the expected {expected}…; entries at the end were deleted "
            "or added.", head=prev_hash[:16], expected=expect_head[:16]))
    held = [(s, cp) for s, cp in sources if cp.entry_id in n_at and n_at[cp.entry_id] == cp.n_entries
            and prev_hash and (key is not None)]
    newest = max(held, key=lambda sc: sc[1].entry_id, default=None)
    n_after = n - newest[1].n_entries if newest else n
    proves, limits = _statements(n=n, first_id=first_id, last_id=last_id, key=key, first_keyed=first_keyed,
                                 n_unkeyed=n_unkeyed, newest=newest, n_after=n_after, chain_ok=not problems)
    return LedgerVerification(
        ok=not problems, n_entries=n, head_hash=prev_hash, problems=tuple(problems),
        keyed=key is not None and first_keyed is not None, n_unkeyed=n_unkeyed,
        checkpoint=newest[1] if newest else None, checkpoint_source=newest[0] if newest else "",
        n_after_checkpoint=n_after, proves=proves, limits=limits,
    )


def _statements(*, n: int, first_id: int | None, last_id: int, key: LedgerKey | None, first_keyed: int | None,
                n_unkeyed: int, newest: tuple[str, Checkpoint] | None, n_after: int,
                chain_ok: bool) -> tuple[tuple[Message, ...], tuple[Message, ...]]:
    """What a verification proved and what it did not, in words (the CLI and the audit page
    print these)."""
    proves: list[Message] = []
    limits: list[Message] = []
    if not chain_ok:
        return (), (Message("the ledger is not intact: see the problems"),)
    if n:
        proves.append(Message(
            "the hashes of all {n} entries match their content, and each entry links to the one before it: no entry "
            "was edited, inserted or removed without every later hash being recomputed", n=n))
    if key is not None and first_keyed is not None:
        proves.append(Message(
            "entries {first} to {last} carry MACs made with the ledger key {key_id}, which is kept outside the "
            "database: nobody without that key edited them and recomputed the chain", first=first_keyed,
            last=last_id, key_id=key.key_id))
    if newest is not None:
        source, cp = newest
        proves.append(Message(
            "the ledger still holds everything checkpoint #{id} ({source}, signed {at}) saw: {count} entries up to "
            "entry {entry}; none of them was deleted", id=cp.id, source=source, at=cp.at, count=cp.n_entries,
            entry=cp.entry_id))
    if key is None:
        limits.append(Message(
            "the ledger key is not at hand (set ITEMBANK_KEY_DIR or ITEMBANK_LEDGER_KEY): MACs and checkpoint "
            "signatures were not checked, so an entry edited with the chain recomputed after it, or entries deleted "
            "at the end, would not be found"))
    if n_unkeyed and first_id is not None:
        limits.append(Message(
            "the first {count} entries (from entry {first}) were written before the ledger was keyed: they carry no "
            "MAC and are protected only from the first checkpoint on", count=n_unkeyed, first=first_id))
    if newest is None and n:
        limits.append(Message(
            "no checkpoint could be checked: entries deleted at the end leave a shorter chain that still verifies; "
            "make a checkpoint (itembank ledger checkpoint) and keep its printed export"))
    elif n_after:
        limits.append(Message(
            "the {count} newest entries (after entry {entry}) are newer than the newest checkpoint: their deletion "
            "at the end would be found only against a later checkpoint", count=n_after, entry=newest[1].entry_id))
    return tuple(proves), tuple(limits)


# --------------------------------------------------------------------------------------
# Checkpoints


def _checkpoint_of(rec: LedgerCheckpointRecord) -> Checkpoint:
    return Checkpoint(id=rec.id, at=_utc_naive(rec.at), entry_id=rec.entry_id, n_entries=rec.n_entries,
                      head_hash=rec.head_hash, key_id=rec.key_id, signature=rec.signature)


def latest_checkpoint(session: Session) -> Checkpoint | None:
    rec = session.scalar(select(LedgerCheckpointRecord).order_by(LedgerCheckpointRecord.id.desc()).limit(1))
    return _checkpoint_of(rec) if rec is not None else None


def make_checkpoint(session: Session, *, actor: str, at: datetime | None = None) -> Checkpoint:
    """Sign the ledger's current head (flushes; the caller commits, then calls
    :func:`write_witness`). Refused without a ledger key or on an empty ledger."""
    from itembank.errors import ConflictError, ValidationError

    key = ledger_key(session)
    lock(session)  # the head read below is the head: no append in between
    if key is None:
        raise ValidationError(Message(
            "the ledger has no key here, so checkpoints cannot be signed: set ITEMBANK_KEY_DIR (an absolute "
            "directory for the key files) or ITEMBANK_LEDGER_KEY"), field="ledger_key")
    head = session.execute(select(LedgerEntryRecord.id, LedgerEntryRecord.hash)
                           .order_by(LedgerEntryRecord.id.desc()).limit(1)).first()
    if head is None:
        raise ConflictError(Message("the ledger is empty: there is nothing to checkpoint"))
    n = session.scalar(select(func.count()).select_from(LedgerEntryRecord).where(LedgerEntryRecord.id <= head.id))
    at = _utc_naive(at or datetime.now(timezone.utc))
    unsigned = Checkpoint(None, at, head.id, int(n or 0), head.hash, key.key_id, "")
    signature = key.sign(unsigned.payload())
    rec = LedgerCheckpointRecord(at=at.replace(tzinfo=timezone.utc), entry_id=head.id, n_entries=unsigned.n_entries,
                                 head_hash=head.hash, key_id=key.key_id, signature=signature, made_by=actor)
    session.add(rec)
    session.flush()
    return Checkpoint(rec.id, at, head.id, unsigned.n_entries, head.hash, key.key_id, signature)


def _checkpoint_json(cp: Checkpoint) -> dict[str, Any]:
    return {"id": cp.id, "at": _utc_naive(cp.at).isoformat(timespec="microseconds") + "Z", "entry_id": cp.entry_id,
            "n_entries": cp.n_entries, "head_hash": cp.head_hash, "key_id": cp.key_id, "signature": cp.signature}


def _checkpoint_from(d: dict[str, Any]) -> Checkpoint:
    at = datetime.fromisoformat(str(d["at"]).removesuffix("Z"))
    return Checkpoint(id=int(d["id"]) if d.get("id") is not None else None, at=at, entry_id=int(d["entry_id"]),
                      n_entries=int(d["n_entries"]), head_hash=str(d["head_hash"]), key_id=str(d["key_id"]),
                      signature=str(d["signature"]))


def write_witness(session: Session, cp: Checkpoint) -> Path | None:
    """Append a committed checkpoint to the witness file beside the ledger key (0600); None
    when the key comes from the environment and there is no key directory."""
    from itembank.keys import private_dir

    key = ledger_key(session)
    path = key.witness if key is not None else None
    if path is None:
        return None
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="ascii") as f:
        f.write(json.dumps(_checkpoint_json(cp), sort_keys=True) + "\n")
    os.chmod(path, 0o600)
    return path


def read_witness(key: LedgerKey | None) -> tuple[list[Checkpoint], int]:
    """The checkpoints of the witness file (oldest first) and the number of unreadable lines."""
    path = key.witness if key is not None else None
    if path is None or not path.exists():
        return [], 0
    found, bad = [], 0
    for line in path.read_text(encoding="ascii", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            found.append(_checkpoint_from(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            bad += 1
    return found, bad


# (label msgid, field): the labels are written in the reader's language and read back in any
EXPORT_FIELDS = ((N_("checkpoint"), "id"), (N_("signed at"), "at"), (N_("entries"), "n_entries"),
                 (N_("head entry"), "entry_id"), (N_("head hash"), "head_hash"), (N_("key id"), "key_id"),
                 (N_("signature"), "signature"))
PUBLIC_KEY_LABEL = N_("public key")


def export_checkpoint(cp: Checkpoint, *, public_key: str, centre_name: str = "") -> str:
    """A printable page for the paper archive; :func:`parse_checkpoint` reads it back (for
    ``itembank ledger verify --checkpoint FILE``)."""
    data = _checkpoint_json(cp)
    lines = ["# " + str(Message("itembank ledger checkpoint (台帐检查点)"))]
    if centre_name:
        lines.append(f"# {centre_name}")
    lines.append("# " + str(Message(
        "Keep this page. A later verification against it proves that none of the {n} entries up to entry {entry} "
        "was deleted or changed (signed {at}).", n=cp.n_entries, entry=cp.entry_id, at=format_datetime(cp.at))))
    lines += [f"{gettext(label)}: {data[field]}" for label, field in EXPORT_FIELDS]
    lines.append(f"{gettext(PUBLIC_KEY_LABEL)}: {public_key}")
    return "\n".join(lines) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """A checkpoint from :func:`export_checkpoint`'s text (or its JSON)."""
    from itembank.errors import ValidationError

    stripped = text.strip()
    try:
        if stripped.startswith("{"):
            return _checkpoint_from(json.loads(stripped))
        fields = {}
        for line in stripped.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            label, _, value = line.partition(":")
            fields[label.strip()] = value.strip()
        by_label = {gettext(label, locale): field for label, field in EXPORT_FIELDS for locale in LOCALES}
        values = {by_label[label]: value for label, value in fields.items() if label in by_label}
        return _checkpoint_from({field: values[field] for _label, field in EXPORT_FIELDS})
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError(Message("this is not a ledger checkpoint export (missing or bad field: {reason})",
                                      reason=str(exc)), field="checkpoint") from exc


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
