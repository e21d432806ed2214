"""Migration 0008 moves the staff member <-> login account links from the ledger into
``staff_members.username`` (the newest ledger entry per account wins)."""

from __future__ import annotations

from datetime import datetime, timezone

from alembic import command
from sqlalchemy import JSON, DateTime, Engine, String, column, insert, table, text
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.db import alembic_config, upgrade
from lifecycle.accounts import ACTION, OBJECT_TYPE, account_of_staff, staff_id_for_account

OLD_LEDGER = table("ledger_entries", column("at", DateTime(timezone=True)), column("actor", String),
                   column("action", String), column("object_type", String), column("object_id", String),
                   column("details", JSON), column("prev_hash", String), column("hash", String))


def test_links_in_the_ledger_become_the_column(fresh_engine: Engine) -> None:
    command.downgrade(alembic_config(fresh_engine), "0007")
    now = datetime.now(timezone.utc)
    with Session(fresh_engine) as s, s.begin():
        for sid, name in ((1, "张考评"), (2, "李考评"), (3, "王考评")):
            s.execute(text("INSERT INTO staff_members (id, name, id_type, id_number, organisation, phone, created_at) "
                           "VALUES (:i, :n, 'mainland_id', '', '', '', :t)"), {"i": sid, "n": name, "t": now})

        prev = [ledger.GENESIS_HASH]

        def link(username: str, staff_id: int | None) -> None:
            # written as the ledger of revision 0007 held it (no MAC column yet): chained hashes
            row = {"at": now, "actor": "admin", "action": ACTION, "object_type": OBJECT_TYPE, "object_id": username,
                   "details": {"staff_id": staff_id}}
            digest = ledger.entry_hash(prev_hash=prev[0], **row)
            s.execute(insert(OLD_LEDGER).values(**row, prev_hash=prev[0], hash=digest))
            prev[0] = digest

        link("alice", 1)
        link("bob", 2)
        link("alice", None)   # alice unlinked from 1 ...
        link("carol", 1)      # ... and 1 now acts through carol
        link("bob", None)     # 2 has no account any more
        link("dave", 3)
    upgrade(fresh_engine)
    with Session(fresh_engine) as s:
        assert account_of_staff(s, staff_id=1) == "carol"
        assert account_of_staff(s, staff_id=2) is None
        assert account_of_staff(s, staff_id=3) == "dave"
        assert staff_id_for_account(s, username="alice") is None
        assert staff_id_for_account(s, username="carol") == 1
        assert ledger.verify_ledger(s).ok  # the history stays where it was
