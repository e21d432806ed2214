"""Publication of results (公示) for 5 working days, objections, release (附件1 第26条:
认定结果公示5个工作日后无异议，按规定程序发布), and the working-day calendar it counts on."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import LifecycleSettingsDep, SessionDep, check_scope, require
from api.schemas.common import FIRST_DAY, LAST_DAY, CodePath, IdPath
from api.schemas.lifecycle import (
    CalendarDayIn,
    CalendarOut,
    ObjectionIn,
    ObjectionOut,
    PublicationDetailOut,
    PublicationOut,
    PublishIn,
    ReleaseIn,
    ResolutionIn,
)
from itembank.domain import Actor, Role
from itembank.errors import NotFoundError
from itembank.i18n import Message
from lifecycle import listing, publication, sessions

router = APIRouter(tags=["publication"])
OfficeDep = Annotated[Actor, require(Role.EXAM_OFFICE)]
ReaderDep = Annotated[Actor, require(Role.EXAM_OFFICE, Role.AUDITOR)]
DayPath = Annotated[date, Path(ge=FIRST_DAY, le=LAST_DAY, description="YYYY-MM-DD")]


def _plan(session, actor: Actor, code: str, *roles: Role) -> None:  # type: ignore[no-untyped-def]
    plan = sessions.get_exam_plan(session, code=code)
    check_scope(actor, plan.occupation.code, *(roles or (Role.EXAM_OFFICE,)))


def _detail(session, plan_code: str) -> PublicationDetailOut:  # type: ignore[no-untyped-def]
    pub = publication.get_publication(session, plan_code=plan_code)
    return PublicationDetailOut(**PublicationOut.of(pub).model_dump(),
                                objections=[ObjectionOut.of(o) for o in listing.objections(session,
                                                                                           plan_code=plan_code)])


@router.post("/exam-plans/{plan_code}/publication", response_model=PublicationOut, status_code=201,
             summary="Publish a plan's results")
def publish(plan_code: CodePath, body: PublishIn, session: SessionDep, actor: OfficeDep,
            settings: LifecycleSettingsDep) -> PublicationOut:
    """Every result must be decided; the period ends on the 5th working day (weekends and
    holidays skipped)."""
    _plan(session, actor, plan_code)
    pub = publication.publish_results(session, plan_code=plan_code, starts_on=body.starts_on, actor=actor.username,
                                      settings=settings)
    session.commit()
    return PublicationOut.of(pub)


@router.get("/exam-plans/{plan_code}/publication", response_model=PublicationDetailOut,
            summary="Show a publication with its objections")
def get_publication(plan_code: CodePath, session: SessionDep, actor: ReaderDep) -> PublicationDetailOut:
    _plan(session, actor, plan_code, Role.EXAM_OFFICE, Role.AUDITOR)
    return _detail(session, plan_code)


@router.post("/exam-plans/{plan_code}/publication/objections", response_model=ObjectionOut, status_code=201,
             summary="Record an objection (异议)")
def record_objection(plan_code: CodePath, body: ObjectionIn, session: SessionDep, actor: OfficeDep) -> ObjectionOut:
    """Raised during the publication period; the results are released only once every
    objection is answered."""
    _plan(session, actor, plan_code)
    oid = publication.record_objection(session, plan_code=plan_code, text=body.text,
                                       raised_on=body.raised_on or date.today(), raised_by=body.raised_by,
                                       application_id=body.application_id, actor=actor.username)
    session.commit()
    return ObjectionOut.of(next(o for o in listing.objections(session, plan_code=plan_code) if o.id == oid))


@router.post("/objections/{objection_id}/resolve", response_model=ObjectionOut, summary="Answer an objection")
def resolve_objection(objection_id: IdPath, body: ResolutionIn, session: SessionDep, actor: OfficeDep) -> ObjectionOut:
    plan_code = listing.objection_plan_code(session, objection_id=objection_id)
    if plan_code is None:
        raise NotFoundError(Message("There is no objection number {id}.", id=objection_id), field="objection_id",
                            code="objection_not_found")
    _plan(session, actor, plan_code)
    publication.resolve_objection(session, objection_id=objection_id, resolution=body.resolution,
                                  actor=actor.username)
    session.commit()
    return ObjectionOut.of(next(o for o in listing.objections(session, plan_code=plan_code) if o.id == objection_id))


@router.post("/exam-plans/{plan_code}/publication/release", response_model=PublicationOut,
             summary="Release the results after the publication")
def release(plan_code: CodePath, body: ReleaseIn, session: SessionDep, actor: OfficeDep,
            settings: LifecycleSettingsDep) -> PublicationOut:
    """Only after the period, every objection answered; the plan closes and its retention
    period starts (附件1 第29条)."""
    _plan(session, actor, plan_code)
    pub = publication.release_results(session, plan_code=plan_code, on=body.on or date.today(),
                                      actor=actor.username, settings=settings)
    session.commit()
    return PublicationOut.of(pub)


@router.get("/calendar", response_model=CalendarOut, summary="Holidays and make-up working days")
def calendar(session: SessionDep, actor: ReaderDep) -> CalendarOut:
    cal = publication.load_calendar(session)
    return CalendarOut(holidays=sorted(cal.holidays), makeup_workdays=sorted(cal.makeup_workdays))


@router.put("/calendar/{day}", response_model=CalendarOut, summary="Mark a holiday or a make-up working day")
def set_day(day: DayPath, body: CalendarDayIn, session: SessionDep, actor: OfficeDep) -> CalendarOut:
    publication.set_calendar_day(session, day=day, kind=body.kind, name=body.name, actor=actor.username)
    session.commit()
    return calendar(session, actor)


@router.delete("/calendar/{day}", response_model=CalendarOut, summary="Make a day ordinary again")
def remove_day(day: DayPath, session: SessionDep, actor: OfficeDep) -> CalendarOut:
    publication.remove_calendar_day(session, day=day, actor=actor.username)
    session.commit()
    return calendar(session, actor)
