"""The ledger's append lock on PostgreSQL is per schema: an open transaction that appended to
the ledger of one schema holds back appends to that ledger only, not to the ledger of another
schema in the same database (a second xdist worker, a second centre). A database-wide lock made
a browser test's login wait for the whole of another worker's test (CI, issue 17)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from itembank.ledger import append


def _append_quickly(engine: Engine) -> None:
    """Append in a transaction that gives up on a lock after two seconds."""
    with Session(engine) as s:
        s.execute(text("SET LOCAL lock_timeout = '2s'"))
        append(s, actor="b", action="test.b", object_type="test", object_id=2)
        s.rollback()


def test_an_open_append_blocks_its_own_schema_only(engine: Engine, fresh_engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("schemas and advisory locks are PostgreSQL's; SQLite has one writer per file")
    holder = Session(engine)
    try:
        append(holder, actor="a", action="test.a", object_type="test", object_id=1)  # lock held until rollback
        _append_quickly(fresh_engine)  # another schema: does not wait
        with pytest.raises(OperationalError, match="lock timeout"):
            _append_quickly(engine)  # the same schema: waits for the holder
    finally:
        holder.rollback()
        holder.close()
    _append_quickly(engine)  # released
