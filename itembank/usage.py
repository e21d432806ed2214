"""Usage of item versions on papers, and the compromised flag (附件1 第15条, 附件16).

Every issue of a version on a paper is one ``item_usages`` row; the counters on the item
and version rows are kept in step in the same transaction so exposure rules read them cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.domain import BankRef
from itembank.i18n import Message
from itembank.errors import NotFoundError, ValidationError
from itembank.items import _chunks, _ids_for_codes
from itembank.orm import ItemRecord, ItemUsageRecord, ItemVersionRecord


@dataclass(frozen=True, slots=True)
class UsageRecord:
    item_code: str
    version: int
    paper_code: str
    session_code: str
    used_on: date


def record_usage(
    session: Session,
    *,
    version_ids: Sequence[int],
    paper_code: str,
    session_code: str = "",
    used_on: date | None = None,
    actor: str,
) -> int:
    """Record that each version in ``version_ids`` was issued on ``paper_code``.

    Returns the number of usage rows written. Validates every id first. Lock order
    (``itembank.ledger``): the ledger lock first, then the item and version rows in ascending id
    order, so that concurrent issues of papers sharing items never deadlock.
    """
    if not paper_code or not paper_code.strip():
        raise ValidationError(Message("The paper code is empty."), field="paper_code")
    if len(set(version_ids)) != len(version_ids):
        raise ValidationError(Message("Paper {paper_code}: an item version is listed twice.", paper_code=paper_code), field="version_ids")
    used_on = used_on or date.today()
    rows: list[tuple[int, int]] = []
    for chunk in _chunks(list(version_ids)):
        rows += session.execute(
            select(ItemVersionRecord.id, ItemVersionRecord.item_id).where(ItemVersionRecord.id.in_(chunk))
        ).all()
    found = {vid for vid, _ in rows}
    missing = [v for v in version_ids if v not in found]
    if missing:
        raise NotFoundError(
            Message("Paper {paper_code}: there is no item version number {ids}.", paper_code=paper_code, ids=missing[:10]),
            field="version_ids",
        )
    if not rows:
        return 0
    ledger.lock(session)
    rows.sort()
    now = datetime.now(timezone.utc)
    session.execute(
        insert(ItemUsageRecord),
        [
            {"item_id": iid, "version_id": vid, "paper_code": paper_code,
             "session_code": session_code, "used_on": used_on, "recorded_at": now}
            for vid, iid in rows
        ],
    )
    item_ids = sorted(iid for _, iid in rows)
    vids = [vid for vid, _ in rows]
    for chunk in _chunks(item_ids):
        session.execute(
            update(ItemRecord)
            .where(ItemRecord.id.in_(chunk))
            .values(
                usage_count=ItemRecord.usage_count + 1,
                last_used_on=case(
                    (ItemRecord.last_used_on.is_(None), used_on),
                    (ItemRecord.last_used_on < used_on, used_on),
                    else_=ItemRecord.last_used_on,
                ),
            )
            .execution_options(synchronize_session=False)
        )
    for chunk in _chunks(vids):
        session.execute(
            update(ItemVersionRecord)
            .where(ItemVersionRecord.id.in_(chunk))
            .values(
                usage_count=ItemVersionRecord.usage_count + 1,
                last_used_on=case(
                    (ItemVersionRecord.last_used_on.is_(None), used_on),
                    (ItemVersionRecord.last_used_on < used_on, used_on),
                    else_=ItemVersionRecord.last_used_on,
                ),
            )
            .execution_options(synchronize_session=False)
        )
    ledger.append(
        session, actor=actor, action="usage.record", object_type="paper", object_id=paper_code,
        details={"session": session_code, "used_on": used_on.isoformat(), "n_items": len(rows),
                 "version_ids": sorted(vids)},
    )
    session.flush()
    return len(rows)


def mark_compromised(
    session: Session, *, bank: BankRef, codes: Sequence[str], reason: str, actor: str
) -> int:
    """Flag items as compromised (leaked): they are never issued again (附件16)."""
    if not reason.strip():
        raise ValidationError(Message("Say why the items are compromised (for example the paper and the incident)."), field="reason")
    ids = _ids_for_codes(session, bank_id=bank.id, codes=list(codes))  # type: ignore[arg-type]
    missing = sorted(set(codes) - set(ids))
    if missing:
        raise NotFoundError(Message("{bank} has no item {codes}.", bank=bank.label, codes=missing[:10]), field="codes")
    ledger.lock(session)  # first, then the item rows in id order (lock order: itembank.ledger)
    now = datetime.now(timezone.utc)
    n = 0
    for chunk in _chunks(sorted(ids.values())):
        n += session.execute(
            update(ItemRecord)
            .where(ItemRecord.id.in_(chunk), ItemRecord.compromised.is_(False))
            .values(compromised=True, compromised_at=now, compromised_reason=reason)
            .execution_options(synchronize_session=False)
        ).rowcount
    ledger.append(
        session, actor=actor, action="items.compromised", object_type="bank", object_id=bank.id,  # type: ignore[arg-type]
        details={"codes": sorted(codes), "reason": reason},
    )
    session.flush()
    return n


def usage_history(session: Session, *, bank: BankRef, code: str) -> list[UsageRecord]:
    rows = session.execute(
        select(ItemRecord.code, ItemVersionRecord.version_no, ItemUsageRecord.paper_code,
               ItemUsageRecord.session_code, ItemUsageRecord.used_on)
        .join(ItemRecord, ItemRecord.id == ItemUsageRecord.item_id)
        .join(ItemVersionRecord, ItemVersionRecord.id == ItemUsageRecord.version_id)
        .where(ItemRecord.bank_id == bank.id, ItemRecord.code == code)
        .order_by(ItemUsageRecord.used_on, ItemUsageRecord.id)
    ).all()
    return [UsageRecord(*r) for r in rows]


def sessions_used(session: Session, *, bank: BankRef) -> list[tuple[str, date]]:
    """Distinct exam sessions that issued items of this bank, newest first (for the
    'not used in the last N sessions' exposure rule)."""
    rows = session.execute(
        select(ItemUsageRecord.session_code, func.max(ItemUsageRecord.used_on))
        .join(ItemRecord, ItemRecord.id == ItemUsageRecord.item_id)
        .where(ItemRecord.bank_id == bank.id, ItemUsageRecord.session_code != "")
        .group_by(ItemUsageRecord.session_code)
        .order_by(func.max(ItemUsageRecord.used_on).desc())
    ).all()
    return [(s, d) for s, d in rows]
