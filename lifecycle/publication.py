"""Publication of results for 5 working days before release, objections, the calendar.

附件1 第26条: 学院认定结果公示5 个工作日后无异议，按规定程序发布认定成绩. 附件12 第7条: 认定成绩发布前，
任何人不得外泄或公布 — results are released (and certificates made) only after the period,
with every objection answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.orm_lifecycle import (
    ApplicationRecord,
    CalendarDayRecord,
    ExamPlanRecord,
    ExamResultRecord,
    ResultObjectionRecord,
    ResultPublicationRecord,
)
from lifecycle.config import LifecycleSettings
from lifecycle.domain import ApplicationStatus, Outcome
from lifecycle.errors import NotFoundError, PublicationError, ValidationError
from lifecycle.scoring import decide_result
from lifecycle.sessions import _plan
from lifecycle.workdays import WorkingCalendar, publication_end
from itembank.i18n import FieldMessage, Message, Text, from_storable, to_storable

# --------------------------------------------------------------------------------------
# Calendar data


def set_calendar_day(session: Session, *, day: date, kind: str, actor: str, name: str = "") -> None:
    """Mark ``day`` a public holiday or a make-up working day (调休)."""
    if kind not in ("holiday", "workday"):
        raise ValidationError(Message("The kind of day is a holiday or a working day (调休)."), field="kind")
    rec = session.get(CalendarDayRecord, day)
    if rec is None:
        session.add(CalendarDayRecord(day=day, kind=kind, name=name))
    else:
        rec.kind, rec.name = kind, name
    session.flush()
    ledger.append(session, actor=actor, action="calendar.set", object_type="calendar_day", object_id=day.isoformat(),
                  details={"kind": kind, "name": name})


def remove_calendar_day(session: Session, *, day: date, actor: str) -> bool:
    n = session.execute(delete(CalendarDayRecord).where(CalendarDayRecord.day == day)).rowcount
    if n:
        ledger.append(session, actor=actor, action="calendar.remove", object_type="calendar_day",
                      object_id=day.isoformat(), details={})
    return bool(n)


def load_calendar(session: Session) -> WorkingCalendar:
    rows = session.execute(select(CalendarDayRecord.day, CalendarDayRecord.kind)).all()
    return WorkingCalendar.of(holidays=[d for d, k in rows if k == "holiday"],
                              makeup_workdays=[d for d, k in rows if k == "workday"])


# --------------------------------------------------------------------------------------
# Publication


@dataclass(frozen=True, slots=True)
class Publication:
    id: int
    plan_code: str
    starts_on: date
    ends_on: date
    status: str
    n_results: int
    open_objections: int


def _publication(session: Session, plan: ExamPlanRecord) -> ResultPublicationRecord:
    rec = session.scalar(select(ResultPublicationRecord).where(ResultPublicationRecord.plan_id == plan.id)
                         .order_by(ResultPublicationRecord.id.desc()).limit(1))
    if rec is None:
        raise NotFoundError(Message("The results of exam plan {plan} were not published.", plan=plan.code), field="plan_code",
                            code="publication_not_found")
    return rec


def _to_domain(session: Session, rec: ResultPublicationRecord, plan_code: str) -> Publication:
    n = len(session.scalars(select(ExamResultRecord.id).where(ExamResultRecord.publication_id == rec.id)).all())
    open_obj = len(session.scalars(select(ResultObjectionRecord.id).where(
        ResultObjectionRecord.publication_id == rec.id, ResultObjectionRecord.resolved_at.is_(None))).all())
    return Publication(rec.id, plan_code, rec.starts_on, rec.ends_on, rec.status, n, open_obj)


def publish_results(
    session: Session, *, plan_code: str, starts_on: date, actor: str, settings: LifecycleSettings,
) -> Publication:
    """Start the publication (公示) of a plan's results: every result decided, none pending.
    The period ends on the 5th working day after ``starts_on`` (weekends and holidays skipped)."""
    plan = _plan(session, plan_code)
    open_pub = session.scalar(select(ResultPublicationRecord.id).where(ResultPublicationRecord.plan_id == plan.id))
    if open_pub is not None:
        raise PublicationError(Message("The results of exam plan {plan} are already published.", plan=plan_code))
    apps = session.scalars(select(ApplicationRecord).where(
        ApplicationRecord.plan_id == plan.id,
        ApplicationRecord.status.in_([ApplicationStatus.ACCEPTED.value, ApplicationStatus.DISQUALIFIED.value]))).all()
    if not apps:
        raise PublicationError(Message("Exam plan {plan} has no candidates.", plan=plan_code))
    pending = []
    results = []
    for app in apps:
        res = decide_result(session, application_id=app.id, settings=settings)
        if res.outcome is Outcome.PENDING:
            pending.append(Message("{name} (application {id}): {reasons}", name=res.candidate_name, id=app.id,
                                   reasons=list(res.reasons)))
        results.append(app.id)
    if pending:
        raise PublicationError(Message("Exam plan {plan}: {n} result(s) are not decided yet.", plan=plan_code,
                                       n=len(pending)), errors=pending[:20])
    ends_on = publication_end(load_calendar(session), starts_on, settings.publication_working_days)
    pub = ResultPublicationRecord(plan_id=plan.id, starts_on=starts_on, ends_on=ends_on, status="open",
                                  published_by=actor)
    session.add(pub)
    session.flush()
    for res in session.scalars(select(ExamResultRecord).where(ExamResultRecord.application_id.in_(results))):
        res.publication_id = pub.id
    session.flush()
    ledger.append(session, actor=actor, action="results.publish", object_type="exam_plan", object_id=plan_code,
                  details={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat(), "n": len(results)})
    return _to_domain(session, pub, plan_code)


def get_publication(session: Session, *, plan_code: str) -> Publication:
    plan = _plan(session, plan_code)
    return _to_domain(session, _publication(session, plan), plan_code)


def record_objection(
    session: Session, *, plan_code: str, text: str, raised_on: date, actor: str, raised_by: str = "",
    application_id: int | None = None,
) -> int:
    """Record an objection (异议) raised during the publication. Returns its id."""
    plan = _plan(session, plan_code)
    pub = _publication(session, plan)
    if not text.strip():
        raise ValidationError(Message("The text of the objection is empty."), field="text")
    if not pub.starts_on <= raised_on <= pub.ends_on:
        raise PublicationError(Message("The results of exam plan {plan} were published from {starts_on} to {ends_on}; an objection "
                                       "raised on {raised_on} is outside that time.", plan=plan_code,
                                       starts_on=pub.starts_on, ends_on=pub.ends_on, raised_on=raised_on))
    rec = ResultObjectionRecord(publication_id=pub.id, application_id=application_id, raised_on=raised_on,
                                raised_by=raised_by, text=text, recorded_by=actor)
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action="results.objection", object_type="exam_plan", object_id=plan_code,
                  details={"objection_id": rec.id, "application_id": application_id, "text": text})
    return rec.id


def resolve_objection(session: Session, *, objection_id: int, resolution: str, actor: str) -> None:
    rec = session.get(ResultObjectionRecord, objection_id)
    if rec is None:
        raise NotFoundError(Message("There is no objection number {id}.", id=objection_id), field="objection_id",
                            code="objection_not_found")
    if not resolution.strip():
        raise ValidationError(Message("Say how the objection was answered."), field="resolution")
    rec.resolution, rec.resolved_by, rec.resolved_at = resolution, actor, datetime.now(timezone.utc)
    session.flush()
    ledger.append(session, actor=actor, action="results.objection_resolved", object_type="objection",
                  object_id=objection_id, details={"resolution": resolution})


def release_results(
    session: Session, *, plan_code: str, on: date, actor: str, settings: LifecycleSettings,
) -> Publication:
    """Release the results after the publication period, every objection answered
    (附件1 第26条). The plan is closed; its retention period starts (附件1 第29条)."""
    plan = _plan(session, plan_code)
    pub = _publication(session, plan)
    if pub.status == "released":
        raise PublicationError(Message("The results of exam plan {plan} were already released.", plan=plan_code))
    if on <= pub.ends_on:
        raise PublicationError(Message(
            "The results of exam plan {plan} are published until {ends_on} ({days} working days from {starts_on}); "
            "they may be released from {release_on}.", plan=plan_code, ends_on=pub.ends_on,
            days=settings.publication_working_days, starts_on=pub.starts_on,
            release_on=date.fromordinal(pub.ends_on.toordinal() + 1)))
    unresolved = session.scalars(select(ResultObjectionRecord.id).where(
        ResultObjectionRecord.publication_id == pub.id, ResultObjectionRecord.resolved_at.is_(None))).all()
    if unresolved:
        raise PublicationError(Message("Exam plan {plan}: the objections {ids} are not answered yet.", plan=plan_code,
                                       ids=[str(x) for x in unresolved]))
    now = datetime.now(timezone.utc)
    for res in session.scalars(select(ExamResultRecord).where(ExamResultRecord.publication_id == pub.id)):
        decide_result(session, application_id=res.application_id, settings=settings)
        res.released_at = now
    pub.status, pub.released_by, pub.released_at = "released", actor, now
    plan.status, plan.closed_on = "closed", on
    session.flush()
    ledger.append(session, actor=actor, action="results.release", object_type="exam_plan", object_id=plan_code,
                  details={"on": on.isoformat()})
    return _to_domain(session, pub, plan_code)
