"""Exam plans, sessions and rooms, admission tickets and seating, proctors and examiner groups
(附件1 第三章, 附件2 第9条, 附件7 第1条). The exam office manages them for the occupations its
role covers; auditors read plans and sessions; an examiner sees their own examiner groups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import LifecycleSettingsDep, PagingDep, SessionDep, check_scope, require
from api.responses import DOCX, download, file_response
from api.schemas.common import MAX_ID, CodePath, Page, Text
from api.schemas.lifecycle import (
    CountOut,
    ExaminerGroupIn,
    ExaminerGroupOut,
    PlanIn,
    PlanOut,
    ProctorOut,
    ProctorsIn,
    RoomIn,
    RoomOut,
    SessionDetailOut,
    SessionIn,
    SessionOut,
    TicketOut,
    TicketsIssuedOut,
)
from itembank import ledger
from itembank.domain import Actor, Part, Role
from itembank.errors import PermissionDeniedError
from itembank.i18n import Message, render_all
from lifecycle import listing, sessions
from lifecycle.accounts import staff_id_for_account
from lifecycle.tickets_docx import render_admission_tickets

router = APIRouter(tags=["exam sessions"])
OfficeDep = Annotated[Actor, require(Role.EXAM_OFFICE)]
ReaderDep = Annotated[Actor, require(Role.EXAM_OFFICE, Role.AUDITOR)]
GroupsDep = Annotated[Actor, require(Role.EXAM_OFFICE, Role.EXAMINER)]


def _plan(session, actor: Actor, code: str, *roles: Role):  # type: ignore[no-untyped-def]
    plan = sessions.get_exam_plan(session, code=code)
    check_scope(actor, plan.occupation.code, *(roles or (Role.EXAM_OFFICE,)))
    return plan


def _session(session, actor: Actor, code: str, *roles: Role):  # type: ignore[no-untyped-def]
    s = sessions.get_exam_session(session, code=code)
    check_scope(actor, s.occupation.code, *(roles or (Role.EXAM_OFFICE,)))
    return s


# --------------------------------------------------------------------------------------
# Plans and tickets


@router.get("/exam-plans", response_model=Page[PlanOut], summary="List exam plans")
def list_plans(session: SessionDep, actor: ReaderDep, paging: PagingDep,
               status: Annotated[Text | None, Query(pattern="^(open|closed)$")] = None,
               bank_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> dict:
    found, total = listing.page_plans(session, status=status, bank_id=bank_id, occupation_codes=actor.occupations_for(Role.EXAM_OFFICE, Role.AUDITOR),
                                      offset=paging.offset, limit=paging.limit)
    return paging.page([PlanOut.of(p) for p in found], total)


@router.post("/exam-plans", response_model=PlanOut, status_code=201, summary="Create an exam plan")
def create_plan(body: PlanIn, session: SessionDep, actor: OfficeDep) -> PlanOut:
    """One batch of examinations of one bank (occupation x level), 附件1 第8条."""
    check_scope(actor, body.occupation_code, Role.EXAM_OFFICE)
    plan = sessions.create_exam_plan(session, code=body.code, occupation_code=body.occupation_code, level=body.level,
                                     work_type=body.work_type, title=body.title, actor=actor.username)
    session.commit()
    return PlanOut.of(plan)


@router.get("/exam-plans/{plan_code}", response_model=PlanOut, summary="Show an exam plan")
def get_plan(plan_code: CodePath, session: SessionDep, actor: ReaderDep) -> PlanOut:
    return PlanOut.of(_plan(session, actor, plan_code, Role.EXAM_OFFICE, Role.AUDITOR))


@router.post("/exam-plans/{plan_code}/tickets", response_model=TicketsIssuedOut, status_code=201,
             summary="Issue admission tickets")
def issue_tickets(plan_code: CodePath, session: SessionDep, actor: OfficeDep) -> TicketsIssuedOut:
    """A ticket for every accepted application of the plan that has none (附件1 第10条)."""
    _plan(session, actor, plan_code)
    numbers = sessions.issue_admission_tickets(session, plan_code=plan_code, actor=actor.username)
    session.commit()
    return TicketsIssuedOut(numbers=numbers)


@router.get("/exam-plans/{plan_code}/tickets", response_model=Page[TicketOut], summary="List admission tickets")
def list_tickets(plan_code: CodePath, session: SessionDep, actor: OfficeDep, settings: LifecycleSettingsDep,
                 paging: PagingDep) -> dict:
    """Each ticket with every sitting: time, place, room and seat."""
    _plan(session, actor, plan_code)
    return paging.page([TicketOut.of(t) for t in sessions.admission_tickets(session, plan_code=plan_code,
                                                                            settings=settings)])


@router.get("/exam-plans/{plan_code}/tickets/document", response_class=Response, responses=file_response(DOCX),
            summary="Download the admission tickets as Word (one a page)")
def tickets_document(plan_code: CodePath, session: SessionDep, actor: OfficeDep,
                     settings: LifecycleSettingsDep) -> Response:
    _plan(session, actor, plan_code)
    tickets = sessions.admission_tickets(session, plan_code=plan_code, settings=settings)
    data = render_admission_tickets(tickets)
    ledger.append(session, actor=actor.username, action="tickets.download", object_type="exam_plan",
                  object_id=plan_code, details={"n": len(tickets)})
    session.commit()
    return download(data, f"tickets_{plan_code}.docx", DOCX)


# --------------------------------------------------------------------------------------
# Sessions, rooms, seats, staff


@router.get("/exam-sessions", response_model=Page[SessionOut], summary="List exam sessions")
def list_sessions(session: SessionDep, actor: ReaderDep, paging: PagingDep,
                  plan_code: Annotated[Text | None, Query(max_length=64)] = None, part: Part | None = None) -> dict:
    found = [s for s in sessions.list_exam_sessions(session, plan_code=plan_code)
             if (part is None or s.part is part)
             and any(actor.has(r, occupation_code=s.occupation.code) for r in (Role.EXAM_OFFICE, Role.AUDITOR))]
    return paging.page([SessionOut.of(s) for s in found])


@router.post("/exam-sessions", response_model=SessionOut, status_code=201, summary="Schedule an exam session")
def create_session(body: SessionIn, session: SessionDep, actor: OfficeDep) -> SessionOut:
    """A sitting of one part of the plan's bank: time window (with time zone) and place."""
    _plan(session, actor, body.plan_code)
    s = sessions.create_exam_session(session, plan_code=body.plan_code, code=body.code, part=body.part,
                                     starts_at=body.starts_at, ends_at=body.ends_at, place=body.place,
                                     actor=actor.username)
    session.commit()
    return SessionOut.of(s)


@router.get("/exam-sessions/{session_code}", response_model=SessionDetailOut,
            summary="Show a session: rooms, proctors, examiner groups, what is missing")
def get_session(session_code: CodePath, session: SessionDep, actor: ReaderDep) -> SessionDetailOut:
    s = _session(session, actor, session_code, Role.EXAM_OFFICE, Role.AUDITOR)
    return SessionDetailOut(
        **SessionOut.of(s).model_dump(),
        proctors=[ProctorOut.of(p) for p in listing.proctors(session, session_code=session_code)],
        examiner_groups=[ExaminerGroupOut.of(g) for g in listing.examiner_groups(session, session_code=session_code)],
        staffing_problems=render_all(sessions.check_staffing(session, session_code=session_code)))


@router.post("/exam-sessions/{session_code}/rooms", response_model=RoomOut, status_code=201,
             summary="Add a room (or practical site) to a session")
def add_room(session_code: CodePath, body: RoomIn, session: SessionDep, actor: OfficeDep) -> RoomOut:
    _session(session, actor, session_code)
    room = sessions.add_room(session, session_code=session_code, code=body.code, capacity=body.capacity,
                             location=body.location, actor=actor.username)
    session.commit()
    return RoomOut(id=room.id, code=room.code, capacity=room.capacity, location=room.location)


@router.post("/exam-sessions/{session_code}/seats", response_model=CountOut, summary="Seat the ticket holders")
def assign_seats(session_code: CodePath, session: SessionDep, actor: OfficeDep) -> CountOut:
    """Every ticket holder not yet seated gets a seat, rooms filled in code order. All or
    nothing: too few seats, or a candidate related to the room's staff, and no seat is given."""
    _session(session, actor, session_code)
    n = sessions.assign_seats(session, session_code=session_code, actor=actor.username)
    session.commit()
    return CountOut(n=n)


@router.put("/exam-sessions/{session_code}/rooms/{room_code}/proctors", response_model=list[ProctorOut],
            summary="Set a room's two proctors")
def set_proctors(session_code: CodePath, room_code: CodePath, body: ProctorsIn, session: SessionDep,
                 actor: OfficeDep) -> list[ProctorOut]:
    """A chief and a deputy (附件7 第1条), neither related to a candidate of the room nor
    proctoring elsewhere at the same time."""
    _session(session, actor, session_code)
    sessions.assign_proctors(session, session_code=session_code, room_code=room_code,
                             chief_staff_id=body.chief_staff_id, deputy_staff_id=body.deputy_staff_id,
                             actor=actor.username)
    session.commit()
    return [ProctorOut.of(p) for p in listing.proctors(session, session_code=session_code) if p.room_code == room_code]


@router.post("/exam-sessions/{session_code}/examiner-groups", response_model=ExaminerGroupOut, status_code=201,
             summary="Form an examiner group")
def form_group(session_code: CodePath, body: ExaminerGroupIn, session: SessionDep, actor: OfficeDep) -> ExaminerGroupOut:
    """At least 3 with a leader of 3 years' examining (附件2 第9–10条), each with a valid
    examiner card for the level, none related to a candidate."""
    _session(session, actor, session_code)
    gid = sessions.form_examiner_group(session, session_code=session_code, name=body.name,
                                       leader_staff_id=body.leader_staff_id, member_staff_ids=body.member_staff_ids,
                                       room_code=body.room_code, actor=actor.username)
    session.commit()
    return ExaminerGroupOut.of(next(g for g in listing.examiner_groups(session, session_code=session_code)
                                    if g.id == gid))


@router.get("/exam-sessions/{session_code}/examiner-groups", response_model=Page[ExaminerGroupOut],
            summary="List a session's examiner groups (examiners: their own)")
def list_groups(session_code: CodePath, session: SessionDep, actor: GroupsDep, paging: PagingDep) -> dict:
    s = _session(session, actor, session_code, Role.EXAM_OFFICE, Role.EXAMINER)
    if actor.has(Role.EXAM_OFFICE, occupation_code=s.occupation.code):
        groups = listing.examiner_groups(session, session_code=session_code)
    else:
        staff_id = staff_id_for_account(session, username=actor.username)
        if staff_id is None:
            raise PermissionDeniedError(Message("{user} is not linked to a staff member; ask an administrator to link the account.",
                                                user=actor.username))
        groups = listing.examiner_groups(session, session_code=session_code, staff_id=staff_id)
    return paging.page([ExaminerGroupOut.of(g) for g in groups])

