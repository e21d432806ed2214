from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from itembank.ledger import GENESIS_HASH, append, query_ledger, verify_ledger
from itembank.orm import LedgerEntryRecord


def _write(session: Session, n: int = 5) -> list:
    return [
        append(session, actor=f"user{i % 2}", action="item.state", object_type="item", object_id=i,
               details={"from": "draft", "to": "submitted", "说明": "提交审核", "n": i})
        for i in range(n)
    ]


def test_chain_links_and_verifies(session: Session) -> None:
    entries = _write(session)
    assert entries[0].prev_hash in (GENESIS_HASH, *[e.hash for e in query_ledger(session, limit=10**6)][:-5])
    for a, b in zip(entries, entries[1:]):
        assert b.prev_hash == a.hash
    v = verify_ledger(session, expect_head=entries[-1].hash)
    assert v.ok, v.problems
    assert v.head_hash == entries[-1].hash


def test_query_by_object_and_actor(session: Session) -> None:
    _write(session, 6)
    assert [e.object_id for e in query_ledger(session, object_type="item", object_id=3)] == ["3"]
    assert [e.object_id for e in query_ledger(session, actor="user1")][-3:] == ["1", "3", "5"]
    assert len(query_ledger(session, actor="user0", limit=2)) == 2


def test_edited_entry_is_detected(session: Session) -> None:
    entries = _write(session)
    session.execute(update(LedgerEntryRecord).where(LedgerEntryRecord.id == entries[2].id)
                    .values(actor="intruder"))
    v = verify_ledger(session)
    assert not v.ok
    assert any(p.params.get("id") == entries[2].id and "edited" in p.msgid for p in v.problems)


def test_edited_details_and_time_are_detected(session: Session) -> None:
    entries = _write(session)
    session.execute(update(LedgerEntryRecord).where(LedgerEntryRecord.id == entries[1].id)
                    .values(details={"from": "draft", "to": "accepted"}))
    session.execute(update(LedgerEntryRecord).where(LedgerEntryRecord.id == entries[3].id)
                    .values(at=datetime(2020, 1, 1, tzinfo=timezone.utc)))
    problems = verify_ledger(session).problems
    assert any(p.params.get("id") == entries[1].id for p in problems)
    assert any(p.params.get("id") == entries[3].id for p in problems)


def test_deleted_entry_is_detected(session: Session) -> None:
    entries = _write(session)
    session.execute(delete(LedgerEntryRecord).where(LedgerEntryRecord.id == entries[2].id))
    v = verify_ledger(session)
    assert not v.ok
    assert any(p.params.get("id") == entries[3].id and "link" in p.msgid for p in v.problems)


def test_truncation_is_detected_with_the_noted_head(session: Session) -> None:
    entries = _write(session)
    session.execute(delete(LedgerEntryRecord).where(LedgerEntryRecord.id == entries[-1].id))
    assert verify_ledger(session).ok, "a shorter chain is consistent on its own"
    v = verify_ledger(session, expect_head=entries[-1].hash)
    assert not v.ok and "deleted or added" in v.problems[0].msgid and v.problems[0].params["head"] == entries[-2].hash[:16]
