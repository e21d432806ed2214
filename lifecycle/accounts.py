"""Which login account a staff member uses (an examiner entering scores acts as the staff
member of their examiner groups, 附件2 第8条(五)).

The link is an entry of the hash-chained ledger (object ``account``/username, action
``staff.account``): who linked whom and when stays traceable, and the newest entry for an
account wins. It lives in the ledger until ``staff_members`` gets a username column (a schema
change belongs in a migration of its own).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.orm import LedgerEntryRecord
from itembank.orm_accounts import UserRecord
from lifecycle.errors import ConflictError, NotFoundError
from lifecycle.staff import _staff

ACTION = "staff.account"
OBJECT_TYPE = "account"


def _links(session: Session) -> dict[str, int | None]:
    """username -> staff id (None: unlinked), newest entry per account."""
    out: dict[str, int | None] = {}
    for username, details in session.execute(
            select(LedgerEntryRecord.object_id, LedgerEntryRecord.details)
            .where(LedgerEntryRecord.object_type == OBJECT_TYPE, LedgerEntryRecord.action == ACTION)
            .order_by(LedgerEntryRecord.id)):
        out[username] = (details or {}).get("staff_id")
    return out


def staff_id_for_account(session: Session, *, username: str) -> int | None:
    """The staff member the account acts as, or None."""
    row = session.execute(
        select(LedgerEntryRecord.details)
        .where(LedgerEntryRecord.object_type == OBJECT_TYPE, LedgerEntryRecord.object_id == username,
               LedgerEntryRecord.action == ACTION)
        .order_by(LedgerEntryRecord.id.desc()).limit(1)).scalar()
    return None if row is None else row.get("staff_id")


def account_of_staff(session: Session, *, staff_id: int) -> str | None:
    return next((u for u, s in _links(session).items() if s == staff_id), None)


def link_account(session: Session, *, staff_id: int, username: str | None, actor: str) -> None:
    """Link ``username`` to the staff member (None: remove the staff member's link). One
    account per staff member and one staff member per account."""
    _staff(session, staff_id)
    current = account_of_staff(session, staff_id=staff_id)
    if username is None:
        if current is not None:
            ledger.append(session, actor=actor, action=ACTION, object_type=OBJECT_TYPE, object_id=current,
                          details={"staff_id": None, "was": staff_id})
        return
    if session.scalar(select(UserRecord.id).where(UserRecord.username == username)) is None:
        raise NotFoundError(f"no user account {username}", field="username")
    other = staff_id_for_account(session, username=username)
    if other is not None and other != staff_id:
        raise ConflictError(f"account {username} already acts as staff member {other}; unlink it first",
                            field="username")
    if current == username:
        return
    if current is not None:
        ledger.append(session, actor=actor, action=ACTION, object_type=OBJECT_TYPE, object_id=current,
                      details={"staff_id": None, "was": staff_id})
    ledger.append(session, actor=actor, action=ACTION, object_type=OBJECT_TYPE, object_id=username,
                  details={"staff_id": staff_id})
