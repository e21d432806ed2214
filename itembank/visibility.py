"""Need-to-know for item content (附件12 第9条: 按需知密; 附件11 第23条).

Who may read which items of a bank:

- a bank manager of the occupation: the whole bank (nobody else browses it);
- an item writer: the items they created;
- a reviewer: the items a bank manager assigned to them;
- a committee member: the items of the acceptance batches they sit on;
- nobody else (exam office, examiners, auditors read no item content).

A user holding several roles sees the union. Reading is ledgered by the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.domain import Actor, BankRef, Role
from itembank.errors import PermissionDeniedError
from itembank.i18n import Message
from itembank.orm import ItemRecord
from itembank.orm_workflow import (
    AcceptanceBatchRecord,
    AcceptanceItemRecord,
    AcceptanceMemberRecord,
    ReviewAssignmentRecord,
)

__all__ = ["ItemVisibility", "batch_member_codes", "item_visibility", "ledger_item_read", "readable_codes",
           "require_item_access", "require_own_item"]

CONTENT_ROLES = (Role.BANK_MANAGER, Role.ITEM_WRITER, Role.REVIEWER, Role.COMMITTEE_MEMBER)


@dataclass(frozen=True, slots=True)
class ItemVisibility:
    """What an actor may read of one bank: everything, or the items of one writer, or a set
    of codes. Exactly one of ``created_by`` and ``codes`` is set unless ``whole_bank``."""

    whole_bank: bool
    created_by: str | None = None
    codes: frozenset[str] | None = None


def _assigned_codes(session: Session, bank: BankRef, reviewer: str) -> set[str]:
    return set(session.scalars(
        select(ItemRecord.code).join(ReviewAssignmentRecord, ReviewAssignmentRecord.item_id == ItemRecord.id)
        .where(ItemRecord.bank_id == bank.id, ReviewAssignmentRecord.reviewer == reviewer)))


def batch_member_codes(session: Session, bank: BankRef, member: str) -> set[str]:
    """Codes of the items in the bank's acceptance batches that ``member`` sits on."""
    return set(session.scalars(
        select(ItemRecord.code)
        .join(AcceptanceItemRecord, AcceptanceItemRecord.item_id == ItemRecord.id)
        .join(AcceptanceBatchRecord, AcceptanceBatchRecord.id == AcceptanceItemRecord.batch_id)
        .join(AcceptanceMemberRecord, AcceptanceMemberRecord.batch_id == AcceptanceBatchRecord.id)
        .where(AcceptanceBatchRecord.bank_id == bank.id, AcceptanceMemberRecord.username == member)))


def _own_codes(session: Session, bank: BankRef, writer: str) -> set[str]:
    return set(session.scalars(select(ItemRecord.code).where(ItemRecord.bank_id == bank.id,
                                                              ItemRecord.created_by == writer)))


def item_visibility(session: Session, *, actor: Actor, bank: BankRef) -> ItemVisibility:
    """The items of ``bank`` the actor may read; ``PermissionDeniedError`` when none may be."""
    occ = bank.occupation.code
    if actor.has(Role.BANK_MANAGER, occupation_code=occ):
        return ItemVisibility(True)
    writer = actor.has(Role.ITEM_WRITER, occupation_code=occ)
    reviewer = actor.has(Role.REVIEWER, occupation_code=occ)
    member = actor.has(Role.COMMITTEE_MEMBER, occupation_code=occ)
    if not (writer or reviewer or member):
        raise PermissionDeniedError(
            Message("{user} may not read the items of {bank}: only its bank managers, the writers (their own items), "
                    "the reviewers (the items assigned to them) and the committee members (the items of their "
                    "batches) may (附件12 第9条).", user=actor.username, bank=bank.label))
    if writer and not (reviewer or member):
        return ItemVisibility(False, created_by=actor.username)
    codes: set[str] = set()
    if writer:
        codes |= _own_codes(session, bank, actor.username)
    if reviewer:
        codes |= _assigned_codes(session, bank, actor.username)
    if member:
        codes |= batch_member_codes(session, bank, actor.username)
    return ItemVisibility(False, codes=frozenset(codes))


def readable_codes(session: Session, *, vis: ItemVisibility, bank: BankRef) -> Callable[[str], bool]:
    """Whether a code of ``bank`` is one the reader of ``vis`` may read."""
    if vis.whole_bank:
        return lambda code: True
    codes = _own_codes(session, bank, vis.created_by) if vis.created_by is not None else set(vis.codes or ())
    return codes.__contains__


def _refusal(actor: Actor, bank: BankRef, code: str) -> PermissionDeniedError:
    # one answer for unknown and foreign codes: the refusal tells nothing about which exist
    return PermissionDeniedError(Message(
        "{user} may not read item {code} of {bank}: writers see their own items, reviewers the items assigned "
        "to them, committee members the items of their batches (附件12 第9条)",
        user=actor.username, code=code, bank=bank.label), field="code")


def require_item_access(session: Session, *, actor: Actor, bank: BankRef, code: str) -> None:
    """Refuse unless the actor may read item ``code`` of ``bank`` (see the module docstring).
    For those who see the whole bank an unknown code is left to the loader (``NotFoundError``);
    others are refused either way and learn nothing about which codes exist."""
    vis = item_visibility(session, actor=actor, bank=bank)
    if vis.whole_bank:
        return  # an unknown code is the loader's NotFoundError
    if vis.created_by is not None:
        mine = session.scalar(select(ItemRecord.created_by).where(ItemRecord.bank_id == bank.id,
                                                                  ItemRecord.code == code))
        if mine == actor.username:
            return
    elif vis.codes is not None and code in vis.codes:
        return
    raise _refusal(actor, bank, code)


def require_own_item(session: Session, *, actor: Actor, bank: BankRef, code: str) -> None:
    """Refuse unless ``actor`` is a writer of ``bank``'s occupation who created item ``code``
    (writers revise only their own items). An unknown code and another writer's item get the
    same refusal; an administrator's unknown code is the loader's ``NotFoundError``."""
    if actor.is_admin:
        return
    if actor.has(Role.ITEM_WRITER, occupation_code=bank.occupation.code):
        writer = session.scalar(select(ItemRecord.created_by).where(ItemRecord.bank_id == bank.id,
                                                                    ItemRecord.code == code))
        if writer is not None and writer == actor.username:
            return
    raise PermissionDeniedError(Message(
        "{user} has no item {code} of their own in {bank}: writers revise only the items they wrote (附件12 第9条)",
        user=actor.username, code=code, bank=bank.label), field="code")


def ledger_item_read(session: Session, *, actor: Actor, bank: BankRef, code: str, action: str,
                     details: dict) -> None:
    """Write a read of item ``code`` to the ledger, on the item (so that its history shows it)."""
    item_id = session.scalar(select(ItemRecord.id).where(ItemRecord.bank_id == bank.id, ItemRecord.code == code))
    ledger.append(session, actor=actor.username, action=action, object_type="item", object_id=item_id or code,
                  details={"code": code, **details})
