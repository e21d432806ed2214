"""Which login account a staff member uses (an examiner entering scores acts as the staff
member of their examiner groups, 附件2 第8条(五)).

The link is the column ``staff_members.username`` (unique); every change is also appended to
the hash-chained ledger (object ``account``/username, action ``staff.account``), so who linked
whom and when stays traceable.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.i18n import Message
from itembank.orm_accounts import UserRecord
from itembank.orm_lifecycle import StaffMemberRecord
from lifecycle.errors import ConflictError, NotFoundError
from lifecycle.staff import _staff

ACTION = "staff.account"
OBJECT_TYPE = "account"


def staff_id_for_account(session: Session, *, username: str) -> int | None:
    """The staff member the account acts as, or None."""
    return session.scalar(select(StaffMemberRecord.id).where(StaffMemberRecord.username == username))


def account_of_staff(session: Session, *, staff_id: int) -> str | None:
    return session.scalar(select(StaffMemberRecord.username).where(StaffMemberRecord.id == staff_id))


def link_account(session: Session, *, staff_id: int, username: str | None, actor: str) -> None:
    """Link ``username`` to the staff member (None: remove the staff member's link). One
    account per staff member and one staff member per account."""
    rec = _staff(session, staff_id)
    current = rec.username
    if username is None:
        if current is not None:
            rec.username = None
            session.flush()
            ledger.append(session, actor=actor, action=ACTION, object_type=OBJECT_TYPE, object_id=current,
                          details={"staff_id": None, "was": staff_id})
        return
    if session.scalar(select(UserRecord.id).where(UserRecord.username == username)) is None:
        raise NotFoundError(Message("There is no user {username}.", username=username), field="username")
    other = staff_id_for_account(session, username=username)
    if other is not None and other != staff_id:
        raise ConflictError(Message("The account {username} already belongs to staff member no. {staff}; unlink it "
                                    "first.", username=username, staff=other), field="username")
    if current == username:
        return
    rec.username = username
    session.flush()
    if current is not None:
        ledger.append(session, actor=actor, action=ACTION, object_type=OBJECT_TYPE, object_id=current,
                      details={"staff_id": None, "was": staff_id})
    ledger.append(session, actor=actor, action=ACTION, object_type=OBJECT_TYPE, object_id=username,
                  details={"staff_id": staff_id})
