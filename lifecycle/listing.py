"""Paged, filtered lists of the lifecycle records, for the API's list pages.

Each ``page_*`` function returns ``(objects, total)``: one page of domain objects in a stable
order and the number of matches. ``occupation_codes`` restricts a list to the occupations a
user's roles cover (None: every occupation), the need-to-know of 附件12 第9条.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from itembank.orm import BankRecord, OccupationRecord
from itembank.orm_lifecycle import (
    ApplicationRecord,
    CandidateRecord,
    CertificateRecord,
    ExaminerGroupMemberRecord,
    ExaminerGroupRecord,
    ExamPlanRecord,
    ExamResultRecord,
    ExamRoomRecord,
    ExamSessionRecord,
    ProctorAssignmentRecord,
    ResultObjectionRecord,
    ResultPublicationRecord,
    StaffCardRecord,
    StaffMemberRecord,
    ViolationRecord,
)
from lifecycle.certificates import certificate_from_record
from lifecycle.config import LifecycleSettings
from lifecycle.domain import Application, Candidate, Certificate, ExamPlan, ExamResult, StaffCard, StaffMember
from lifecycle.registration import application_from_record, candidate_from_record
from lifecycle.scoring import get_result
from lifecycle.sessions import _plan, _session, plan_from_record
from lifecycle.staff import card_from_record, staff_from_record

__all__ = [
    "ExaminerGroup", "Objection", "Proctor", "Violation", "examiner_groups", "objection_plan_code", "objections",
    "page_applications",
    "page_candidates", "page_certificates", "page_plans", "page_results", "page_staff", "page_violations",
    "proctors", "staff_cards",
]


def _page(session: Session, q: Select, offset: int, limit: int) -> tuple[list, int]:
    total = session.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    return list(session.scalars(q.offset(offset).limit(limit))), total


def _occupation_ids(occupation_codes: Collection[str]) -> Select:
    return select(OccupationRecord.id).where(OccupationRecord.code.in_(list(occupation_codes)))


# --------------------------------------------------------------------------------------
# Registration


def page_candidates(
    session: Session, *, name: str | None = None, id_number: str | None = None, candidate_id: int | None = None,
    occupation_codes: Collection[str] | None = None, registered_by: str | None = None,
    offset: int = 0, limit: int = 50,
) -> tuple[list[Candidate], int]:
    """Candidates by name (part of it), ID number (exact) or id. With ``occupation_codes``:
    those with an application in one of them, or registered by ``registered_by``."""
    q = select(CandidateRecord).order_by(CandidateRecord.id)
    if candidate_id is not None:
        q = q.where(CandidateRecord.id == candidate_id)
    if name:
        q = q.where(CandidateRecord.name.contains(name, autoescape=True))
    if id_number:
        q = q.where(CandidateRecord.id_number == id_number.strip().upper())
    if occupation_codes is not None:
        applied = select(ApplicationRecord.candidate_id).where(
            ApplicationRecord.occupation_id.in_(_occupation_ids(occupation_codes)))
        q = q.where(or_(CandidateRecord.id.in_(applied), CandidateRecord.created_by == (registered_by or "")))
    rows, total = _page(session, q, offset, limit)
    return [candidate_from_record(r) for r in rows], total


def page_applications(
    session: Session, *, plan_code: str | None = None, status: str | None = None,
    candidate_id: int | None = None, occupation_codes: Collection[str] | None = None,
    offset: int = 0, limit: int = 50,
) -> tuple[list[Application], int]:
    q = select(ApplicationRecord).order_by(ApplicationRecord.id)
    if plan_code is not None:
        q = q.where(ApplicationRecord.plan_id == _plan(session, plan_code).id)
    if status is not None:
        q = q.where(ApplicationRecord.status == status)
    if candidate_id is not None:
        q = q.where(ApplicationRecord.candidate_id == candidate_id)
    if occupation_codes is not None:
        q = q.where(ApplicationRecord.occupation_id.in_(_occupation_ids(occupation_codes)))
    rows, total = _page(session, q, offset, limit)
    return [application_from_record(session, r) for r in rows], total


# --------------------------------------------------------------------------------------
# Plans, rooms, staff


def _plans_in(occupation_codes: Collection[str]) -> Select:
    return select(ExamPlanRecord.id).join(BankRecord, BankRecord.id == ExamPlanRecord.bank_id).where(
        BankRecord.occupation_id.in_(_occupation_ids(occupation_codes)))


def page_plans(
    session: Session, *, status: str | None = None, bank_id: int | None = None,
    occupation_codes: Collection[str] | None = None, offset: int = 0, limit: int = 50,
) -> tuple[list[ExamPlan], int]:
    q = select(ExamPlanRecord).order_by(ExamPlanRecord.id)
    if status is not None:
        q = q.where(ExamPlanRecord.status == status)
    if bank_id is not None:
        q = q.where(ExamPlanRecord.bank_id == bank_id)
    if occupation_codes is not None:
        q = q.where(ExamPlanRecord.id.in_(_plans_in(occupation_codes)))
    rows, total = _page(session, q, offset, limit)
    return [plan_from_record(session, r) for r in rows], total


@dataclass(frozen=True, slots=True)
class Proctor:
    room_code: str
    staff_id: int
    name: str
    role: str  # chief / deputy


def proctors(session: Session, *, session_code: str) -> list[Proctor]:
    srec = _session(session, session_code)
    rows = session.execute(
        select(ExamRoomRecord.code, StaffMemberRecord.id, StaffMemberRecord.name, ProctorAssignmentRecord.role)
        .join(ProctorAssignmentRecord, ProctorAssignmentRecord.room_id == ExamRoomRecord.id)
        .join(StaffMemberRecord, StaffMemberRecord.id == ProctorAssignmentRecord.staff_id)
        .where(ExamRoomRecord.session_id == srec.id)
        .order_by(ExamRoomRecord.code, ProctorAssignmentRecord.role)).all()
    return [Proctor(*r) for r in rows]


@dataclass(frozen=True, slots=True)
class ExaminerGroup:
    id: int
    name: str
    room_code: str | None
    leader_staff_id: int | None
    member_staff_ids: tuple[int, ...]


def examiner_groups(session: Session, *, session_code: str, staff_id: int | None = None) -> list[ExaminerGroup]:
    """The session's examiner groups (only those of ``staff_id`` when given)."""
    srec = _session(session, session_code)
    groups = session.execute(
        select(ExaminerGroupRecord.id, ExaminerGroupRecord.name, ExamRoomRecord.code)
        .outerjoin(ExamRoomRecord, ExamRoomRecord.id == ExaminerGroupRecord.room_id)
        .where(ExaminerGroupRecord.session_id == srec.id).order_by(ExaminerGroupRecord.name)).all()
    members = session.execute(
        select(ExaminerGroupMemberRecord.group_id, ExaminerGroupMemberRecord.staff_id,
               ExaminerGroupMemberRecord.is_leader)
        .where(ExaminerGroupMemberRecord.group_id.in_([g for g, _, _ in groups]))
        .order_by(ExaminerGroupMemberRecord.staff_id)).all()
    out = []
    for gid, name, room in groups:
        mine = [(s, lead) for g, s, lead in members if g == gid]
        if staff_id is not None and staff_id not in {s for s, _ in mine}:
            continue
        out.append(ExaminerGroup(gid, name, room, next((s for s, lead in mine if lead), None),
                                 tuple(s for s, _ in mine)))
    return out


def page_staff(session: Session, *, name: str | None = None, offset: int = 0,
               limit: int = 50) -> tuple[list[StaffMember], int]:
    q = select(StaffMemberRecord).order_by(StaffMemberRecord.id)
    if name:
        q = q.where(StaffMemberRecord.name.contains(name, autoescape=True))
    rows, total = _page(session, q, offset, limit)
    return [staff_from_record(r) for r in rows], total


def staff_cards(session: Session, *, staff_id: int) -> list[StaffCard]:
    return [card_from_record(session, r) for r in session.scalars(
        select(StaffCardRecord).where(StaffCardRecord.staff_id == staff_id).order_by(StaffCardRecord.issued_on))]


# --------------------------------------------------------------------------------------
# Results, violations, objections


def page_results(
    session: Session, *, plan_code: str, outcome: str | None = None, offset: int = 0, limit: int = 50,
) -> tuple[list[ExamResult], int]:
    """The results of a plan's applications (the decided ones; pending ones show as pending)."""
    plan = _plan(session, plan_code)
    q = select(ApplicationRecord.id).where(ApplicationRecord.plan_id == plan.id).order_by(ApplicationRecord.id)
    if outcome is not None:
        decided = select(ExamResultRecord.application_id).where(ExamResultRecord.outcome == outcome)
        q = q.where(ApplicationRecord.id.in_(decided)) if outcome != "pending" else q.where(
            or_(ApplicationRecord.id.in_(decided),
                ~ApplicationRecord.id.in_(select(ExamResultRecord.application_id))))
    ids, total = _page(session, q, offset, limit)
    return [get_result(session, application_id=i) for i in ids], total


@dataclass(frozen=True, slots=True)
class Violation:
    id: int
    application_id: int
    session_code: str | None
    kind: str
    clause: str
    description: str
    recorded_by: str
    recorded_at: datetime


def page_violations(
    session: Session, *, plan_code: str | None = None, application_id: int | None = None,
    occupation_codes: Collection[str] | None = None, offset: int = 0, limit: int = 50,
) -> tuple[list[Violation], int]:
    q = (select(ViolationRecord, ExamSessionRecord.code)
         .outerjoin(ExamSessionRecord, ExamSessionRecord.id == ViolationRecord.session_id)
         .order_by(ViolationRecord.id))
    apps = select(ApplicationRecord.id)
    if plan_code is not None:
        apps = apps.where(ApplicationRecord.plan_id == _plan(session, plan_code).id)
    if occupation_codes is not None:
        apps = apps.where(ApplicationRecord.occupation_id.in_(_occupation_ids(occupation_codes)))
    if plan_code is not None or occupation_codes is not None:
        q = q.where(ViolationRecord.application_id.in_(apps))
    if application_id is not None:
        q = q.where(ViolationRecord.application_id == application_id)
    total = session.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    rows = session.execute(q.offset(offset).limit(limit)).all()
    return [Violation(v.id, v.application_id, code, v.kind, v.clause, v.description, v.recorded_by, v.recorded_at)
            for v, code in rows], total


@dataclass(frozen=True, slots=True)
class Objection:
    id: int
    application_id: int | None
    raised_on: date
    raised_by: str
    text: str
    resolution: str
    resolved_by: str
    resolved_at: datetime | None


def objections(session: Session, *, plan_code: str) -> list[Objection]:
    """Every objection raised during the plan's publications, oldest first."""
    plan = _plan(session, plan_code)
    rows = session.scalars(
        select(ResultObjectionRecord)
        .join(ResultPublicationRecord, ResultPublicationRecord.id == ResultObjectionRecord.publication_id)
        .where(ResultPublicationRecord.plan_id == plan.id).order_by(ResultObjectionRecord.id))
    return [Objection(r.id, r.application_id, r.raised_on, r.raised_by, r.text, r.resolution, r.resolved_by,
                      r.resolved_at) for r in rows]


def objection_plan_code(session: Session, *, objection_id: int) -> str | None:
    """The code of the plan an objection was raised against (None: no such objection)."""
    return session.scalar(
        select(ExamPlanRecord.code)
        .join(ResultPublicationRecord, ResultPublicationRecord.plan_id == ExamPlanRecord.id)
        .join(ResultObjectionRecord, ResultObjectionRecord.publication_id == ResultPublicationRecord.id)
        .where(ResultObjectionRecord.id == objection_id))


# --------------------------------------------------------------------------------------
# Certificates


def page_certificates(
    session: Session, *, settings: LifecycleSettings, status: str | None = None, plan_code: str | None = None,
    application_id: int | None = None, holder_name: str | None = None,
    occupation_codes: Collection[str] | None = None, offset: int = 0, limit: int = 50,
) -> tuple[list[Certificate], int]:
    q = select(CertificateRecord).order_by(CertificateRecord.id)
    if status is not None:
        q = q.where(CertificateRecord.status == status)
    if plan_code is not None:
        q = q.where(CertificateRecord.application_id.in_(
            select(ApplicationRecord.id).where(ApplicationRecord.plan_id == _plan(session, plan_code).id)))
    if application_id is not None:
        q = q.where(CertificateRecord.application_id == application_id)
    if holder_name:
        q = q.where(CertificateRecord.holder_name.contains(holder_name, autoescape=True))
    if occupation_codes is not None:
        q = q.where(CertificateRecord.occupation_code.in_(list(occupation_codes)))
    rows, total = _page(session, q, offset, limit)
    return [certificate_from_record(r, settings) for r in rows], total
