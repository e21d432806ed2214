"""Retention and destruction of exam records (附件1 第29条, 附件13 第3条(7)(8)).

附件1 第29条: 纸质材料、电子材料保管不少于2 年. 附件13 第3条(8): 到期资料须经审查后统一销毁……任何个人不得
擅自销毁. The unit is an exam plan's materials (answer sheets = responses, examiners' scoring
sheets, seating and admission tickets, objections); the clock starts when the plan's results
are released (``closed_on``). Results (成绩汇总), candidates, applications and certificates
(证书花名册) are kept: certificates must stay verifiable. A destruction run needs a review
that decided "destroy", the retention period over, and no hold; it records every destroyed
record's type and id in the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.orm_lifecycle import (
    AdmissionTicketRecord,
    ApplicationRecord,
    ExaminerScoreRecord,
    ExamPlanRecord,
    ExamSessionRecord,
    ResponseRecord,
    ResultObjectionRecord,
    ResultPublicationRecord,
    RetentionHoldRecord,
    RetentionReviewRecord,
    SeatAssignmentRecord,
)
from lifecycle.config import LifecycleSettings
from lifecycle.errors import RetentionError, ValidationError
from lifecycle.sessions import _plan
from itembank.i18n import FieldMessage, Message, Text, from_storable, to_storable

OBJECT_TYPE = "exam_plan"


def retain_until(closed_on: date, years: int) -> date:
    """First day the materials may be destroyed: ``years`` after the plan closed (29 Feb -> 1 Mar)."""
    try:
        return closed_on.replace(year=closed_on.year + years)
    except ValueError:
        return closed_on.replace(year=closed_on.year + years, day=28) + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RetentionState:
    plan_code: str
    closed_on: date | None
    retain_until: date | None
    review: str | None  # latest decision: destroy / keep / None
    held: bool
    destroyed: bool
    destroyable: bool
    reasons: tuple[Message, ...]  # why not destroyable


def _latest_review(session: Session, plan_code: str) -> RetentionReviewRecord | None:
    return session.scalar(select(RetentionReviewRecord).where(
        RetentionReviewRecord.object_type == OBJECT_TYPE, RetentionReviewRecord.object_id == plan_code)
        .order_by(RetentionReviewRecord.id.desc()).limit(1))


def _held(session: Session, plan_code: str) -> bool:
    return session.scalar(select(RetentionHoldRecord.id).where(
        RetentionHoldRecord.object_type == OBJECT_TYPE, RetentionHoldRecord.object_id == plan_code,
        RetentionHoldRecord.released_at.is_(None))) is not None


def retention_state(session: Session, *, plan_code: str, on: date, settings: LifecycleSettings) -> RetentionState:
    plan = _plan(session, plan_code)
    until = retain_until(plan.closed_on, settings.retention_years) if plan.closed_on else None
    review = _latest_review(session, plan_code)
    held = _held(session, plan_code)
    reasons: list[Message] = []
    if plan.materials_destroyed_at is not None:
        reasons.append(Message("already destroyed"))
    if until is None:
        reasons.append(Message("the exam plan is not closed (the results are not released)"))
    elif on < until:
        reasons.append(Message("kept until {until} ({years} years, 附件1 第29条)", until=until,
                               years=settings.retention_years))
    if review is None:
        reasons.append(Message("not reviewed (附件13 第3条(8): materials are destroyed only after a review)"))
    elif review.decision != "destroy":
        reasons.append(Message("the review of {day} by {reviewer} decided to keep it", day=review.reviewed_at,
                               reviewer=review.reviewed_by))
    if held:
        reasons.append(Message("on hold"))
    return RetentionState(plan_code, plan.closed_on, until, review.decision if review else None, held,
                          plan.materials_destroyed_at is not None, not reasons, tuple(reasons))


def retention_overview(session: Session, *, on: date, settings: LifecycleSettings) -> list[RetentionState]:
    codes = session.scalars(select(ExamPlanRecord.code).order_by(ExamPlanRecord.code)).all()
    return [retention_state(session, plan_code=c, on=on, settings=settings) for c in codes]


def record_retention_review(
    session: Session, *, plan_code: str, decision: str, reviewer: str, on: date, settings: LifecycleSettings,
    note: str = "",
) -> RetentionState:
    """The review group's decision on expired materials: ``destroy`` or ``keep``
    (附件13 第3条(8): 根据资料的保存价值……进行评估). Only materials past their retention period are reviewed."""
    if decision not in ("destroy", "keep"):
        raise ValidationError(Message("The decision is destroy or keep."), field="decision")
    if not reviewer.strip():
        raise ValidationError(Message("Name the reviewer."), field="reviewer")
    state = retention_state(session, plan_code=plan_code, on=on, settings=settings)
    if state.retain_until is None or on < state.retain_until:
        raise RetentionError(Message("Exam plan {plan}: the materials are kept until {until}; review them when the period is over "
                    "(附件1 第29条).", plan=plan_code, until=state.retain_until) if state.retain_until else
            Message("Exam plan {plan}: the materials are kept for {years} years after the results are released; review "
                    "them when the period is over (附件1 第29条).", plan=plan_code, years=settings.retention_years))
    session.add(RetentionReviewRecord(object_type=OBJECT_TYPE, object_id=plan_code, decision=decision,
                                      reviewed_by=reviewer, note=note))
    session.flush()
    ledger.append(session, actor=reviewer, action="retention.review", object_type=OBJECT_TYPE, object_id=plan_code,
                  details={"decision": decision, "note": note})
    return retention_state(session, plan_code=plan_code, on=on, settings=settings)


def place_hold(session: Session, *, plan_code: str, reason: str, actor: str) -> int:
    _plan(session, plan_code)
    if not reason.strip():
        raise ValidationError(Message("Say why the materials are held."), field="reason")
    rec = RetentionHoldRecord(object_type=OBJECT_TYPE, object_id=plan_code, reason=reason, placed_by=actor)
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action="retention.hold", object_type=OBJECT_TYPE, object_id=plan_code,
                  details={"reason": reason})
    return rec.id


def release_hold(session: Session, *, hold_id: int, actor: str) -> None:
    rec = session.get(RetentionHoldRecord, hold_id)
    if rec is None or rec.released_at is not None:
        raise RetentionError(Message("There is no active hold number {id}.", id=hold_id))
    rec.released_at, rec.released_by = datetime.now(timezone.utc), actor
    session.flush()
    ledger.append(session, actor=actor, action="retention.hold_released", object_type=rec.object_type,
                  object_id=rec.object_id, details={"hold_id": hold_id})


@dataclass(frozen=True, slots=True)
class DestructionReport:
    destroyed: dict[str, dict[str, list[int]]]  # plan code -> record type -> ids
    skipped: dict[str, tuple[Message, ...]]  # plan code -> reasons
    dry_run: bool

    @property
    def n_records(self) -> int:
        return sum(len(ids) for per in self.destroyed.values() for ids in per.values())


def run_destruction(
    session: Session, *, on: date, actor: str, settings: LifecycleSettings, dry_run: bool = False,
) -> DestructionReport:
    """Destroy the materials of every plan that is reviewed for destruction, past its
    retention period and not held; every destroyed record's type and id goes to the ledger."""
    destroyed: dict[str, dict[str, list[int]]] = {}
    skipped: dict[str, tuple[Message, ...]] = {}
    for state in retention_overview(session, on=on, settings=settings):
        if state.destroyed:
            continue
        if not state.destroyable:
            if state.closed_on is not None:
                skipped[state.plan_code] = state.reasons
            continue
        plan = _plan(session, state.plan_code)
        ids = _materials(session, plan)
        destroyed[plan.code] = ids
        if dry_run:
            continue
        for model, key in ((ResponseRecord, "responses"), (ExaminerScoreRecord, "examiner_scores"),
                           (SeatAssignmentRecord, "seat_assignments"), (ResultObjectionRecord, "result_objections"),
                           (AdmissionTicketRecord, "admission_tickets")):
            if ids[key]:
                session.execute(delete(model).where(model.id.in_(ids[key])))  # type: ignore[attr-defined]
        plan.materials_destroyed_at = datetime.now(timezone.utc)
        session.flush()
        ledger.append(session, actor=actor, action="retention.destroy", object_type=OBJECT_TYPE, object_id=plan.code,
                      details={"on": on.isoformat(), "records": ids,
                               "review": state.review, "retain_until": state.retain_until.isoformat()})  # type: ignore[union-attr]
    return DestructionReport(destroyed, skipped, dry_run)


def _materials(session: Session, plan: ExamPlanRecord) -> dict[str, list[int]]:
    sessions = select(ExamSessionRecord.id).where(ExamSessionRecord.plan_id == plan.id)
    pubs = select(ResultPublicationRecord.id).where(ResultPublicationRecord.plan_id == plan.id)
    tickets = select(AdmissionTicketRecord.id).where(AdmissionTicketRecord.plan_id == plan.id)
    apps = select(ApplicationRecord.id).where(ApplicationRecord.plan_id == plan.id)

    def ids(q) -> list[int]:  # type: ignore[no-untyped-def]
        return sorted(session.scalars(q))

    return {
        "responses": ids(select(ResponseRecord.id).where(ResponseRecord.session_id.in_(sessions))),
        "examiner_scores": ids(select(ExaminerScoreRecord.id).where(ExaminerScoreRecord.session_id.in_(sessions))),
        "seat_assignments": ids(select(SeatAssignmentRecord.id).where(SeatAssignmentRecord.session_id.in_(sessions))),
        "result_objections": ids(select(ResultObjectionRecord.id).where(ResultObjectionRecord.publication_id.in_(pubs))),
        "admission_tickets": ids(tickets.where(AdmissionTicketRecord.application_id.in_(apps))),
    }
