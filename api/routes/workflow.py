"""The authoring workflow on one item (附件11 第13–18条): submit, assign reviewers, review,
compare versions, history, retire; and each reviewer's queue.

The services check the role, the expert register (第10条), the person (a writer submits
their own versions; a reviewer is assigned and never a writer of the item) and the state;
these routes add need-to-know for what they return (``itembank.visibility``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import PagingDep, SessionDep, check_scope, require
from api.schemas.common import MAX_ID, CodePath, IdPath, Page, Text
from api.schemas.workflow import (
    AssignedItemOut,
    AssignmentOut,
    DiffOut,
    HistoryEntryOut,
    RetireIn,
    ReviewerIn,
    ReviewIn,
    ReviewOut,
    StartReviewIn,
    StateOut,
    SubmitIn,
)
from itembank import occupations, workflow
from itembank.domain import Actor, Role, VersionState
from itembank.ledger_text import describe_entries
from itembank.visibility import CONTENT_ROLES, ledger_item_read, require_item_access

router = APIRouter(prefix="/banks/{bank_id}/items/{code}", tags=["workflow"])
queue_router = APIRouter(tags=["workflow"])

WriterDep = Annotated[Actor, require(Role.ITEM_WRITER)]
ManagerDep = Annotated[Actor, require(Role.BANK_MANAGER)]
ReviewerDep = Annotated[Actor, require(Role.REVIEWER)]
ReaderDep = Annotated[Actor, require(*CONTENT_ROLES)]
HistoryDep = Annotated[Actor, require(*CONTENT_ROLES, Role.AUDITOR)]
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.post("/submit", response_model=StateOut, summary="Submit an item for review")
def submit(bank_id: IdPath, code: CodePath, body: SubmitIn, session: SessionDep, actor: WriterDep) -> StateOut:
    """The writer of a draft (or of a version sent back for changes) submits it for review."""
    bank = occupations.get_bank_by_id(session, bank_id)
    require_item_access(session, actor=actor, bank=bank, code=code)  # unknown and foreign codes alike
    item = workflow.submit(session, actor=actor, bank=bank, code=code, version=body.version, comment=body.comment)
    session.commit()
    return StateOut.of(item)


@router.post("/reviewers", response_model=AssignmentOut, summary="Assign a reviewer to an item")
def assign_reviewer(bank_id: IdPath, code: CodePath, body: ReviewerIn, session: SessionDep,
                    actor: ManagerDep) -> AssignmentOut:
    """A bank manager assigns a registered reviewer who wrote no version of the item."""
    bank = occupations.get_bank_by_id(session, bank_id)
    assigned = workflow.assign_reviewer(session, actor=actor, bank=bank, code=code, reviewer=body.reviewer)
    session.commit()
    return AssignmentOut(code=code, reviewer=body.reviewer, assigned=assigned)


@router.delete("/reviewers/{reviewer}", response_model=AssignmentOut, summary="Withdraw a reviewer from an item")
def unassign_reviewer(bank_id: IdPath, code: CodePath, reviewer: Annotated[str, Path(max_length=100)],
                      session: SessionDep, actor: ManagerDep,
                      reason: Annotated[Text, Query(max_length=2000)] = "") -> AssignmentOut:
    bank = occupations.get_bank_by_id(session, bank_id)
    removed = workflow.unassign_reviewer(session, actor=actor, bank=bank, code=code, reviewer=reviewer,
                                         reason=reason)
    session.commit()
    return AssignmentOut(code=code, reviewer=reviewer, assigned=removed)


@router.post("/review/start", response_model=StateOut, summary="Start reviewing a submitted item")
def start_review(bank_id: IdPath, code: CodePath, body: StartReviewIn, session: SessionDep,
                 actor: ReviewerDep) -> StateOut:
    bank = occupations.get_bank_by_id(session, bank_id)
    require_item_access(session, actor=actor, bank=bank, code=code)  # unknown and foreign codes alike
    item = workflow.start_review(session, actor=actor, bank=bank, code=code, version=body.version)
    session.commit()
    return StateOut.of(item)


@router.post("/reviews", response_model=ReviewOut, status_code=201, summary="Record a review decision")
def record_review(bank_id: IdPath, code: CodePath, body: ReviewIn, session: SessionDep,
                  actor: ReviewerDep) -> ReviewOut:
    """Approve, or request changes saying what to change; the item moves on accordingly."""
    bank = occupations.get_bank_by_id(session, bank_id)
    require_item_access(session, actor=actor, bank=bank, code=code)  # unknown and foreign codes alike
    review = workflow.record_review(session, actor=actor, bank=bank, code=code, decision=body.decision,
                                    comment=body.comment, version=body.version)
    session.commit()
    return ReviewOut.of(review)


@router.get("/reviews", response_model=Page[ReviewOut], summary="Read an item's reviews (ledgered)")
def list_reviews(bank_id: IdPath, code: CodePath, session: SessionDep, actor: ReaderDep, paging: PagingDep,
                 version: VersionQuery = None) -> dict:
    """The reviewers' decisions and comments (they quote the item): the reading is written to
    the ledger (附件11 第23条)."""
    bank = occupations.get_bank_by_id(session, bank_id)
    require_item_access(session, actor=actor, bank=bank, code=code)
    reviews = workflow.reviews_of(session, bank=bank, code=code, version=version)
    shown = reviews[paging.offset:paging.offset + paging.limit]
    ledger_item_read(session, actor=actor, bank=bank, code=code, action="item.reviews_read",
                     details={"reviews": [[r.version, r.reviewer] for r in shown]})
    session.commit()
    return paging.page([ReviewOut.of(r) for r in shown], len(reviews))


@router.get("/diff", response_model=DiffOut, summary="Compare two versions (ledgered)")
def diff(bank_id: IdPath, code: CodePath, session: SessionDep, actor: ReaderDep,
         old: VersionQuery = None, new: VersionQuery = None) -> DiffOut:
    """Old vs new, field by field (附件11 第14条); default the latest against the one before.
    Reading the content is written to the ledger."""
    bank = occupations.get_bank_by_id(session, bank_id)
    require_item_access(session, actor=actor, bank=bank, code=code)
    result = workflow.compare_versions(session, actor=actor, bank=bank, code=code, old=old, new=new)
    session.commit()
    return DiffOut.of(result)


@router.get("/history", response_model=Page[HistoryEntryOut], summary="Who did what to an item, and when")
def history(bank_id: IdPath, code: CodePath, session: SessionDep, actor: HistoryDep, paging: PagingDep) -> dict:
    """The item's ledger entries, oldest first (附件11 第24条). Auditors read every item's
    history (it holds no item content); others only items they may read."""
    bank = occupations.get_bank_by_id(session, bank_id)
    if not actor.has(Role.AUDITOR, occupation_code=bank.occupation.code):
        require_item_access(session, actor=actor, bank=bank, code=code)
    entries = workflow.item_history(session, bank=bank, code=code)
    return paging.page([HistoryEntryOut.of(e, t) for e, t in zip(entries, describe_entries(session, entries),
                                                                 strict=True)])


@router.post("/retire", response_model=StateOut, summary="Retire an accepted item")
def retire(bank_id: IdPath, code: CodePath, body: RetireIn, session: SessionDep, actor: ManagerDep) -> StateOut:
    """The accepted version leaves the pool for papers; the reason goes in the ledger."""
    bank = occupations.get_bank_by_id(session, bank_id)
    item = workflow.retire_item(session, actor=actor, bank=bank, code=code, reason=body.reason)
    session.commit()
    return StateOut.of(item)


@queue_router.get("/review-queue", response_model=Page[AssignedItemOut], summary="My review queue")
def review_queue(session: SessionDep, actor: ReviewerDep, paging: PagingDep,
                 bank_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                 state: Annotated[list[VersionState] | None, Query(
                     description="Default: submitted and in_review (what waits for you).")] = None) -> dict:
    """The items assigned to you, with their latest version: exactly those and no others."""
    bank = None
    if bank_id is not None:
        bank = occupations.get_bank_by_id(session, bank_id)
        check_scope(actor, bank.occupation.code, Role.REVIEWER)
    states = state or (VersionState.SUBMITTED, VersionState.IN_REVIEW)
    found = workflow.assigned_items(session, reviewer=actor.username, bank=bank, states=states)
    return paging.page([AssignedItemOut.of(a) for a in found])
