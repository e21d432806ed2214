"""Committee acceptance (附件11 第17条): a bank manager puts approved items to a committee of at
least five; every member signs the batch's manifest, and the last signature accepts the items;
a member or the bank manager may reject the batch instead. Committee members read the content
of the items in the batches they sit on, and that reading is ledgered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.deps import PagingDep, SessionDep, SettingsDep, check_scope, require
from api.schemas.common import CodePath, IdPath, Page
from api.schemas.items import ItemOut
from api.schemas.workflow import BatchIn, BatchOut, RejectIn, SignIn
from itembank import items as item_service
from itembank import ledger, occupations, workflow
from itembank.domain import Actor, BankRef, Role
from itembank.errors import PermissionDeniedError
from itembank.i18n import Message
from itembank.workflow import AcceptanceBatch, BatchState

router = APIRouter(tags=["acceptance"])
ManagerDep = Annotated[Actor, require(Role.BANK_MANAGER)]
MemberDep = Annotated[Actor, require(Role.COMMITTEE_MEMBER)]
ReaderDep = Annotated[Actor, require(Role.BANK_MANAGER, Role.COMMITTEE_MEMBER, Role.AUDITOR)]
ContentDep = Annotated[Actor, require(Role.BANK_MANAGER, Role.COMMITTEE_MEMBER)]
RejectDep = Annotated[Actor, require(Role.BANK_MANAGER, Role.COMMITTEE_MEMBER)]


def _sits_on(actor: Actor, bank: BankRef, batch: AcceptanceBatch) -> bool:
    return actor.username in batch.members and actor.has(Role.COMMITTEE_MEMBER, occupation_code=bank.occupation.code)


def _may_read(actor: Actor, bank: BankRef, batch: AcceptanceBatch, *, content: bool) -> None:
    occ = bank.occupation.code
    if actor.has(Role.BANK_MANAGER, occupation_code=occ) or _sits_on(actor, bank, batch):
        return
    if not content and actor.has(Role.AUDITOR, occupation_code=occ):
        return
    raise PermissionDeniedError(
        Message("{user} may not read acceptance batch {batch}: only its members and the bank's managers may "
                "(附件12 第9条).", user=actor.username, batch=batch.code) if content else
        Message("{user} may not read acceptance batch {batch}: only its members, the bank's managers and auditors "
                "may (附件12 第9条).", user=actor.username, batch=batch.code))


@router.get("/banks/{bank_id}/batches", response_model=Page[BatchOut], summary="List acceptance batches")
def list_batches(bank_id: IdPath, session: SessionDep, actor: ReaderDep, paging: PagingDep,
                 state: BatchState | None = None) -> dict:
    """Every batch of the bank for its managers and auditors; a committee member sees the
    batches they sit on."""
    bank = occupations.get_bank_by_id(session, bank_id)
    check_scope(actor, bank.occupation.code, Role.BANK_MANAGER, Role.COMMITTEE_MEMBER, Role.AUDITOR)
    occ = bank.occupation.code
    whole = actor.has(Role.BANK_MANAGER, occupation_code=occ) or actor.has(Role.AUDITOR, occupation_code=occ)
    found = [b for b in workflow.list_batches(session, bank=bank, state=state) if whole or _sits_on(actor, bank, b)]
    return paging.page([BatchOut.of(b) for b in found])


@router.post("/banks/{bank_id}/batches", response_model=BatchOut, status_code=201,
             summary="Put approved items to an acceptance committee")
def create_batch(bank_id: IdPath, body: BatchIn, session: SessionDep, settings: SettingsDep,
                 actor: ManagerDep) -> BatchOut:
    """At least 5 distinct members, none a writer of any item; every item's latest version
    approved, in no other open batch, not compromised. Every problem is listed. The batch is
    decided by the centre's rule (``acceptance_rule``) once every member has voted."""
    bank = occupations.get_bank_by_id(session, bank_id)
    batch = workflow.create_acceptance_batch(session, actor=actor, bank=bank, codes=body.codes, members=body.members,
                                             meeting=body.meeting, note=body.note, batch_code=body.batch_code,
                                             capacities=body.capacities, rule=settings.acceptance_rule)
    session.commit()
    return BatchOut.of(batch)


@router.get("/batches/{batch_code}", response_model=BatchOut, summary="Show a batch with who signed")
def get_batch(batch_code: CodePath, session: SessionDep, actor: ReaderDep) -> BatchOut:
    batch = workflow.get_batch(session, batch_code=batch_code)
    _may_read(actor, occupations.get_bank_by_id(session, batch.bank_id), batch, content=False)
    return BatchOut.of(batch)


@router.get("/batches/{batch_code}/items", response_model=Page[ItemOut],
            summary="Read the items of a batch (members; ledgered)")
def batch_items(batch_code: CodePath, session: SessionDep, actor: ContentDep, paging: PagingDep) -> dict:
    """The full content of the batch's versions, for the committee to judge before signing.
    The reading is written to the ledger (附件11 第23条)."""
    batch = workflow.get_batch(session, batch_code=batch_code)
    bank = occupations.get_bank_by_id(session, batch.bank_id)
    _may_read(actor, bank, batch, content=True)
    shown = batch.items[paging.offset:paging.offset + paging.limit]
    found = [item_service.get_item(session, bank=bank, code=c, version=n) for c, n in shown]
    ledger.append(session, actor=actor.username, action="batch.read", object_type="acceptance_batch",
                  object_id=batch.code, details={"items": [f"{c} v{n}" for c, n in shown]})
    session.commit()
    return paging.page([ItemOut.of(it) for it in found], len(batch.items))


@router.post("/batches/{batch_code}/signatures", response_model=BatchOut, status_code=201,
             summary="Sign a batch (committee member)")
def sign(batch_code: CodePath, body: SignIn, session: SessionDep, actor: MemberDep) -> BatchOut:
    """Your signature on the batch's manifest; the last member's signature accepts every item."""
    batch = workflow.sign_batch(session, actor=actor, batch_code=batch_code, opinion=body.opinion)
    session.commit()
    return BatchOut.of(batch)


@router.post("/batches/{batch_code}/reject", response_model=BatchOut, summary="Reject a batch")
def reject(batch_code: CodePath, body: RejectIn, session: SessionDep, actor: RejectDep) -> BatchOut:
    """The committee does not accept the batch (第17条(四)): the named items (default all) go
    back to their writers with the reason; the others stay approved for a later batch."""
    batch = workflow.reject_batch(session, actor=actor, batch_code=batch_code, reason=body.reason,
                                  return_codes=body.return_codes)
    session.commit()
    return BatchOut.of(batch)
