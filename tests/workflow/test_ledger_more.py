"""The ledger under the bulk path (append_many) and concurrent writers."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from itembank.db import make_sessionmaker
from itembank.ledger import NewEntry, append, append_many, query_ledger, verify_ledger
from itembank.orm import LedgerEntryRecord


def test_append_many_chains_like_append_and_tampering_is_found(session: Session) -> None:
    first = append(session, actor="a", action="x.one", object_type="item", object_id=1)
    n = append_many(session, actor="importer", entries=[
        NewEntry("item.import", "item", i, {"code": f"Q{i}", "说明": "导入"}) for i in range(2, 52)])
    last = append(session, actor="a", action="x.last", object_type="item", object_id=99)
    assert n == 50
    entries = query_ledger(session, since=None, limit=10_000)
    mine = entries[[e.id for e in entries].index(first.id):]
    assert [e.action for e in mine][:2] == ["x.one", "item.import"] and mine[-1].id == last.id
    assert all(b.prev_hash == a.hash for a, b in zip(mine, mine[1:]))
    assert verify_ledger(session, expect_head=last.hash).ok
    assert [e.object_id for e in query_ledger(session, object_type="item", object_id=7)] == ["7"]

    victim, gone = mine[20], mine[30]
    session.execute(update(LedgerEntryRecord).where(LedgerEntryRecord.id == victim.id)
                    .values(details={"code": "Q19", "说明": "改过"}))
    session.execute(delete(LedgerEntryRecord).where(LedgerEntryRecord.id == gone.id))
    problems = verify_ledger(session).problems
    assert any(p.params.get("id") == victim.id and "edited" in p.msgid for p in problems)
    assert any(p.params.get("id") == mine[31].id and "link" in p.msgid for p in problems)
    assert append_many(session, actor="x", entries=[]) == 0


def test_concurrent_writers_keep_one_chain(fresh_engine: Engine) -> None:
    """Two writers append at once; a writer whose view of the head went stale fails (SQLite:
    busy snapshot; PostgreSQL: waits on the advisory lock) and retries. No fork, no loss."""
    Session_ = make_sessionmaker(fresh_engine)
    errors: list[Exception] = []

    def writer(name: str) -> None:
        for i in range(15):
            for _attempt in range(50):
                try:
                    with Session_() as s, s.begin():
                        append(s, actor=name, action="t.append", object_type="t", object_id=i)
                        append_many(s, actor=name, entries=[NewEntry("t.bulk", "t", i, {"k": k}) for k in range(3)])
                    break
                except (IntegrityError, DBAPIError):
                    continue
            else:
                errors.append(RuntimeError(f"{name} gave up on {i}"))

    threads = [threading.Thread(target=writer, args=(f"w{k}",)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with Session_() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntryRecord)) == 2 * 15 * 4
        v = verify_ledger(s)
        assert v.ok, v.problems
