"""Retention and destruction of exam records (附件1 第29条: kept at least 2 years; 附件13
第3条(8): destroyed only after a review, never by one person on their own). Administrators act;
auditors read the overview."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter

from api.deps import LifecycleSettingsDep, PagingDep, SessionDep, require, require_everywhere
from api.schemas.common import CodePath, DayQuery, IdPath, Page
from api.schemas.lifecycle import (
    DestructionIn,
    DestructionOut,
    HoldIn,
    HoldOut,
    RetentionOut,
    RetentionReviewIn,
)
from itembank.domain import Actor, Role
from itembank.i18n import render_all
from lifecycle import retention

router = APIRouter(prefix="/retention", tags=["retention"])
AdminDep = Annotated[Actor, require(Role.ADMIN)]


@router.get("", response_model=Page[RetentionOut], summary="Which exam records may be destroyed, and why not")
def overview(session: SessionDep, actor: Annotated[Actor, require_everywhere(Role.AUDITOR)], paging: PagingDep,
             settings: LifecycleSettingsDep, on: DayQuery = None, destroyable: bool | None = None) -> dict:
    """Each plan's materials (answer sheets, scoring sheets, seating, tickets, objections):
    kept until when, reviewed or not, held or not, destroyed or not."""
    found = [s for s in retention.retention_overview(session, on=on or date.today(), settings=settings)
             if destroyable is None or s.destroyable is destroyable]
    return paging.page([RetentionOut.of(s) for s in found])


@router.post("/{plan_code}/reviews", response_model=RetentionOut, status_code=201,
             summary="Record the review of expired records")
def review(plan_code: CodePath, body: RetentionReviewIn, session: SessionDep, actor: AdminDep,
           settings: LifecycleSettingsDep) -> RetentionOut:
    """destroy or keep, judged on the records' value (附件13 第3条(8)); only after the period."""
    state = retention.record_retention_review(session, plan_code=plan_code, decision=body.decision,
                                              reviewer=actor.username, on=body.on or date.today(),
                                              settings=settings, note=body.note)
    session.commit()
    return RetentionOut.of(state)


@router.post("/{plan_code}/holds", response_model=HoldOut, status_code=201, summary="Hold records from destruction")
def hold(plan_code: CodePath, body: HoldIn, session: SessionDep, actor: AdminDep) -> HoldOut:
    hold_id = retention.place_hold(session, plan_code=plan_code, reason=body.reason, actor=actor.username)
    session.commit()
    return HoldOut(hold_id=hold_id, plan_code=plan_code)


@router.delete("/holds/{hold_id}", status_code=204, summary="Release a hold")
def release_hold(hold_id: IdPath, session: SessionDep, actor: AdminDep) -> None:
    retention.release_hold(session, hold_id=hold_id, actor=actor.username)
    session.commit()


@router.post("/destruction", response_model=DestructionOut, summary="Destroy reviewed, expired, unheld records")
def destroy(body: DestructionIn, session: SessionDep, actor: AdminDep, settings: LifecycleSettingsDep) -> DestructionOut:
    """Every destroyed record's type and id goes to the ledger; ``dry_run`` lists them only.
    Results, candidates, applications and certificates are kept."""
    report = retention.run_destruction(session, on=body.on or date.today(), actor=actor.username, settings=settings,
                                       dry_run=body.dry_run)
    if not body.dry_run:
        session.commit()
    return DestructionOut(destroyed=report.destroyed, skipped={k: render_all(v) for k, v in report.skipped.items()},
                          dry_run=report.dry_run, n_records=report.n_records)
