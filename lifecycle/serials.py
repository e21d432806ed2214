"""Serial numbers that stay unique under concurrent transactions (certificate serials,
admission ticket numbers, card serials).

One counter row per scope. ``INSERT ... ON CONFLICT DO NOTHING`` creates it, then
``UPDATE ... SET value = value + 1 RETURNING value`` takes the next number: on PostgreSQL the
row lock makes a second transaction wait until the first commits or rolls back (READ
COMMITTED re-reads the row, so it sees the new value); on SQLite the database write lock
serialises writers. A rolled-back transaction gives its number back, so serials have no gaps
from failures. The unique constraints on the codes themselves are the last line of defence.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from itembank.orm_lifecycle import SerialCounterRecord
from itembank.i18n import Message

_T = SerialCounterRecord.__table__


def _insert_if_missing(session: Session, scope: str) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"serial counters need SQLite or PostgreSQL, not {dialect}")
    session.execute(insert(_T).values(scope=scope, value=0).on_conflict_do_nothing(index_elements=["scope"]))


def next_serial(session: Session, *, scope: str, maximum: int | None = None) -> int:
    """The next serial of ``scope`` (1, 2, 3 ...), in the caller's transaction.

    Raises ValueError when ``maximum`` would be exceeded (e.g. 999999 certificates of one
    prefix, year and level).
    """
    _insert_if_missing(session, scope)
    value = session.execute(
        update(_T).where(_T.c.scope == scope).values(value=_T.c.value + 1).returning(_T.c.value)
    ).scalar_one()
    if maximum is not None and value > maximum:
        raise ValueError(Message("The serial numbers of {scope} are used up: all {maximum} numbers are taken.",
                                 scope=scope, maximum=maximum))
    return int(value)


def peek_serial(session: Session, *, scope: str) -> int:
    """The last serial handed out in ``scope`` (0 when none)."""
    rec = session.get(SerialCounterRecord, scope)
    return 0 if rec is None else rec.value
