"""Schemas of registration, exam sessions, staff, scoring, publication, certificates and
retention (the ``lifecycle`` package)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.bank import OccupationOut
from api.schemas.common import Amount, Code, Day, Id, In, Moment, Name, Reason
from itembank.domain import Level, Part
from lifecycle.domain import (
    AdmissionTicket,
    Application,
    ApplicationStatus,
    Candidate,
    CardKind,
    Certificate,
    CertificateStatus,
    ExamPlan,
    ExamResult,
    ExamSession,
    IdType,
    Outcome,
    PartStatus,
    RelationKind,
    StaffCard,
    StaffMember,
    ViolationKind,
)
from lifecycle.eligibility import Declaration, Education, PriorCertificate
from lifecycle.idnumbers import mask_id_number
from lifecycle.listing import ExaminerGroup, Objection, Proctor, Violation
from lifecycle.publication import Publication
from lifecycle.retention import RetentionState
from itembank.i18n import render_all

Years = Field(ge=0, le=60)

# --------------------------------------------------------------------------------------
# Registration


class CandidateIn(In):
    name: Name = Field(min_length=1)
    id_type: IdType = IdType.MAINLAND_ID
    id_number: str = Field(min_length=1, max_length=32)
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=200)
    employer: str = Field("", max_length=200)


class CandidateOut(BaseModel):
    id: int
    name: str
    id_type: IdType
    id_number: str
    birth_date: date | None
    phone: str
    email: str
    employer: str

    @classmethod
    def of(cls, c: Candidate) -> CandidateOut:
        return cls(id=c.id, name=c.name, id_type=c.id_type, id_number=c.id_number, birth_date=c.birth_date,
                   phone=c.phone, email=c.email, employer=c.employer)


class PriorCertificateIO(In):
    level: int = Field(ge=1, le=5)
    occupation_code: str = Field(max_length=32)
    number: str = Field("", max_length=64)
    issued_on: Day | None = None


class DeclarationIO(In):
    """What the candidate declared and documented (附件1 第6条)."""

    years_of_work: float = Field(0.0, ge=0, le=60, description="累计从事本职业或相关职业工作年限")
    prior_certificate: PriorCertificateIO | None = None
    prior_certificate_related: bool = False
    years_since_prior: float | None = Field(None, ge=0, le=60)
    training_completed: bool = False
    education: Education = Education.NONE
    education_related: bool = False

    def to_domain(self) -> Declaration:
        p = self.prior_certificate
        return Declaration(
            years_of_work=self.years_of_work,
            prior_certificate=None if p is None else PriorCertificate(Level(p.level), p.occupation_code, p.number,
                                                                       p.issued_on),
            prior_certificate_related=self.prior_certificate_related, years_since_prior=self.years_since_prior,
            training_completed=self.training_completed, education=self.education,
            education_related=self.education_related)

    @classmethod
    def of(cls, d: Declaration) -> DeclarationIO:
        return cls.model_validate(d.to_dict())


class DocumentIn(In):
    kind: str = Field(max_length=32, description="id_card, training_certificate, diploma, prior_certificate, "
                                                 "work_years_pledge (附件1 第6条)")
    number: str = Field("", max_length=64)
    note: str = Field("", max_length=400)


class ApplicationIn(In):
    candidate_id: Id
    occupation_code: str = Field(max_length=32)
    work_type: str | None = Field(None, max_length=200)
    level: int = Field(ge=1, le=5)
    declaration: DeclarationIO
    documents: list[DocumentIn] = Field([], max_length=20)
    plan_code: Code | None = None
    applied_on: Day | None = None


class ApplicationOut(BaseModel):
    id: int
    candidate: CandidateOut
    occupation: OccupationOut
    level: int
    status: ApplicationStatus
    declaration: DeclarationIO
    applied_on: date
    documents: list[dict[str, Any]]
    plan_code: str | None
    matched_rule: str
    refusal_reasons: list[str]
    status_reason: str

    @classmethod
    def of(cls, a: Application) -> ApplicationOut:
        return cls(id=a.id, candidate=CandidateOut.of(a.candidate), occupation=OccupationOut.of(a.occupation),
                   level=int(a.level), status=a.status, declaration=DeclarationIO.of(a.declaration),
                   applied_on=a.applied_on, documents=[dict(d) for d in a.documents], plan_code=a.plan_code,
                   matched_rule=a.matched_rule, refusal_reasons=render_all(a.refusal_reasons),
                   status_reason=a.status_reason)


class PlanAssignIn(In):
    plan_code: Code


class ReasonIn(In):
    reason: Reason = Field(min_length=1)


class ApplicationImportOut(BaseModel):
    n_rows: int
    accepted: list[int] = Field(description="Ids of the accepted applications.")
    refused: list[ApplicationOut] = Field(description="Refused applications, each with its reasons (附件1 第7条).")


# --------------------------------------------------------------------------------------
# Plans, sessions, rooms, tickets


class PlanIn(In):
    code: Code
    occupation_code: str = Field(max_length=32)
    work_type: str | None = Field(None, max_length=200)
    level: int = Field(ge=1, le=5)
    title: str = Field("", max_length=200)


class PlanOut(BaseModel):
    id: int
    code: str
    occupation: OccupationOut
    level: int
    bank_id: int
    title: str
    status: str
    closed_on: date | None

    @classmethod
    def of(cls, p: ExamPlan) -> PlanOut:
        return cls(id=p.id, code=p.code, occupation=OccupationOut.of(p.occupation), level=int(p.level),
                   bank_id=p.bank_id, title=p.title, status=p.status, closed_on=p.closed_on)


class SessionIn(In):
    plan_code: Code
    code: Code
    part: Part
    starts_at: Moment = Field(description="With the time zone, e.g. 2026-12-05T09:00:00+08:00.")
    ends_at: Moment
    place: str = Field(min_length=1, max_length=300)


class RoomIn(In):
    code: Code
    capacity: int = Field(ge=1, le=10_000)
    location: str = Field("", max_length=300)


class RoomOut(BaseModel):
    id: int
    code: str
    capacity: int
    location: str


class SessionOut(BaseModel):
    id: int
    code: str
    plan_code: str
    bank_id: int
    occupation: OccupationOut
    level: int
    part: Part
    starts_at: datetime
    ends_at: datetime
    place: str
    status: str
    capacity: int
    rooms: list[RoomOut]

    @classmethod
    def of(cls, s: ExamSession) -> SessionOut:
        return cls(id=s.id, code=s.code, plan_code=s.plan_code, bank_id=s.bank_id,
                   occupation=OccupationOut.of(s.occupation), level=int(s.level), part=s.part, starts_at=s.starts_at,
                   ends_at=s.ends_at, place=s.place, status=s.status, capacity=s.capacity,
                   rooms=[RoomOut(id=r.id, code=r.code, capacity=r.capacity, location=r.location) for r in s.rooms])


class ProctorOut(BaseModel):
    room_code: str
    staff_id: int
    name: str
    role: str

    @classmethod
    def of(cls, p: Proctor) -> ProctorOut:
        return cls(room_code=p.room_code, staff_id=p.staff_id, name=p.name, role=p.role)


class ExaminerGroupOut(BaseModel):
    id: int
    name: str
    room_code: str | None
    leader_staff_id: int | None
    member_staff_ids: list[int]

    @classmethod
    def of(cls, g: ExaminerGroup) -> ExaminerGroupOut:
        return cls(id=g.id, name=g.name, room_code=g.room_code, leader_staff_id=g.leader_staff_id,
                   member_staff_ids=list(g.member_staff_ids))


class SessionDetailOut(SessionOut):
    proctors: list[ProctorOut]
    examiner_groups: list[ExaminerGroupOut]
    staffing_problems: list[str] = Field(description="What is missing before the session can run; empty: ready.")


class ProctorsIn(In):
    chief_staff_id: Id
    deputy_staff_id: Id


class ExaminerGroupIn(In):
    name: Name = Field(min_length=1)
    leader_staff_id: Id
    member_staff_ids: list[Id] = Field(min_length=1, max_length=50)
    room_code: Code | None = Field(None, description="Default: the whole session.")


class CountOut(BaseModel):
    n: int


class TicketsIssuedOut(BaseModel):
    numbers: list[str]


class TicketSittingOut(BaseModel):
    session_code: str
    part: Part
    starts_at: datetime
    ends_at: datetime
    place: str
    room: str
    seat_no: int


class TicketOut(BaseModel):
    number: str
    name: str
    id_type: IdType
    id_number: str
    occupation: OccupationOut
    level: int
    plan_code: str
    sittings: list[TicketSittingOut]

    @classmethod
    def of(cls, t: AdmissionTicket) -> TicketOut:
        return cls(number=t.number, name=t.name, id_type=t.id_type, id_number=t.id_number,
                   occupation=OccupationOut.of(t.occupation), level=int(t.level), plan_code=t.plan_code,
                   sittings=[TicketSittingOut(session_code=s.session_code, part=s.part, starts_at=s.starts_at,
                                              ends_at=s.ends_at, place=s.place, room=s.room, seat_no=s.seat_no)
                             for s in t.sittings])


# --------------------------------------------------------------------------------------
# Staff


class StaffIn(In):
    name: Name = Field(min_length=1)
    organisation: str = Field("", max_length=200)
    id_type: IdType = IdType.MAINLAND_ID
    id_number: str = Field("", max_length=32)
    phone: str = Field("", max_length=32)


class CardOut(BaseModel):
    id: int
    staff_id: int
    kind: CardKind
    number: str
    issued_on: date
    valid_until: date
    status: str
    grade: int | None
    occupation_code: str | None

    @classmethod
    def of(cls, c: StaffCard) -> CardOut:
        return cls(id=c.id, staff_id=c.staff_id, kind=c.kind, number=c.number, issued_on=c.issued_on,
                   valid_until=c.valid_until, status=c.status, grade=c.grade, occupation_code=c.occupation_code)


class StaffOut(BaseModel):
    id: int
    name: str
    organisation: str
    id_number: str

    @classmethod
    def of(cls, s: StaffMember) -> StaffOut:
        return cls(id=s.id, name=s.name, organisation=s.organisation, id_number=s.id_number)


class StaffDetailOut(StaffOut):
    cards: list[CardOut]
    account: str | None = Field(description="The login account this staff member uses, if linked.")


class CardIn(In):
    kind: CardKind
    issued_on: Day
    grade: int | None = Field(None, ge=1, le=2, description="Examiner cards: 1 考评员 (levels 5–3), 2 高级考评员.")
    occupation_code: str | None = Field(None, max_length=32)
    work_type: str | None = Field(None, max_length=200)


class TrainingIn(In):
    kind: CardKind
    year: int = Field(ge=1900, le=2200)
    completed_on: Day
    passed: bool
    note: str = Field("", max_length=2000)


class RelationIn(In):
    candidate_id: Id
    kind: RelationKind
    note: str = Field("", max_length=2000)


class AccountIn(In):
    username: str | None = Field(None, max_length=64, description="null: remove the link.")


class LapsedCardOut(BaseModel):
    card: CardOut
    reasons: list[str]


# --------------------------------------------------------------------------------------
# Scoring


class ResponsesIn(In):
    application_id: Id
    paper_code: Code
    version_ids: list[Id] = Field(min_length=1, max_length=1000, description="Item versions in printed order.")
    responses: list[list[str] | str | None] = Field(max_length=1000, description="One per item; null for items "
                                                                                "the examiners score.")


class SheetOut(BaseModel):
    n_items: int
    n_scored: int
    objective_points: float
    pending_version_ids: list[int]


class ExaminerScoreIn(In):
    application_id: Id
    version_id: Id
    rubric_scores: list[Amount] = Field(min_length=1, max_length=100,
                                        description="One score per rubric point (or one total).")


class CombinationOut(BaseModel):
    """The item's combined score once enough examiners scored it (3 for practical and defence,
    1 for subjective theory items); flagged when they disagree, for the group leader."""

    complete: bool = Field(description="False until enough examiners have scored the item.")
    score: float | None = None
    n_examiners: int | None = None
    spread: float | None = None
    flagged: bool = False
    threshold: float | None = None


class SettleIn(In):
    application_id: Id
    version_id: Id
    score: Amount
    reason: Reason = Field(min_length=1)


class PartResultIn(In):
    session_code: Code


class ComprehensiveReviewIn(In):
    passed: bool
    note: str = Field("", max_length=2000)


class PartResultOut(BaseModel):
    part: Part
    session_code: str
    raw_points: float
    max_points: float
    score: float
    status: PartStatus
    flagged: bool
    reason: str


class ResultOut(BaseModel):
    application_id: int
    candidate_name: str
    outcome: Outcome
    parts: list[PartResultOut]
    review_passed: bool | None
    reasons: list[str]
    released: bool

    @classmethod
    def of(cls, r: ExamResult) -> ResultOut:
        return cls(application_id=r.application_id, candidate_name=r.candidate_name, outcome=r.outcome,
                   parts=[PartResultOut(part=p.part, session_code=p.session_code, raw_points=p.raw_points,
                                        max_points=p.max_points, score=p.score, status=p.status, flagged=p.flagged,
                                        reason=p.reason) for p in r.parts],
                   review_passed=r.review_passed, reasons=render_all(r.reasons), released=r.released)


class ViolationIn(In):
    kind: ViolationKind
    description: str = Field(min_length=1, max_length=4000)
    session_code: Code | None = None
    clause: str = Field("", max_length=64)


class ViolationAppliedOut(BaseModel):
    recorded: ViolationKind
    applied: ViolationKind = Field(description="The consequence applied (a second warning voids the paper).")


class ViolationOut(BaseModel):
    id: int
    application_id: int
    session_code: str | None
    kind: str
    clause: str
    description: str
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, v: Violation) -> ViolationOut:
        return cls(id=v.id, application_id=v.application_id, session_code=v.session_code, kind=v.kind,
                   clause=v.clause, description=v.description, recorded_by=v.recorded_by, recorded_at=v.recorded_at)


# --------------------------------------------------------------------------------------
# Publication


class PublishIn(In):
    starts_on: Day


class ReleaseIn(In):
    on: Day | None = Field(None, description="Default: today.")


class ObjectionIn(In):
    text: str = Field(min_length=1, max_length=4000)
    raised_on: Day | None = Field(None, description="Default: today.")
    raised_by: str = Field("", max_length=100)
    application_id: Id | None = None


class ResolutionIn(In):
    resolution: str = Field(min_length=1, max_length=4000)


class ObjectionOut(BaseModel):
    id: int
    application_id: int | None
    raised_on: date
    raised_by: str
    text: str
    resolution: str
    resolved_by: str
    resolved_at: datetime | None

    @classmethod
    def of(cls, o: Objection) -> ObjectionOut:
        return cls(id=o.id, application_id=o.application_id, raised_on=o.raised_on, raised_by=o.raised_by,
                   text=o.text, resolution=o.resolution, resolved_by=o.resolved_by, resolved_at=o.resolved_at)


class PublicationOut(BaseModel):
    id: int
    plan_code: str
    starts_on: date
    ends_on: date = Field(description="Last day of the publication (5 working days, 附件1 第26条).")
    status: str
    n_results: int
    open_objections: int

    @classmethod
    def of(cls, p: Publication) -> PublicationOut:
        return cls(id=p.id, plan_code=p.plan_code, starts_on=p.starts_on, ends_on=p.ends_on, status=p.status,
                   n_results=p.n_results, open_objections=p.open_objections)


class PublicationDetailOut(PublicationOut):
    objections: list[ObjectionOut]


class CalendarDayIn(In):
    kind: str = Field(pattern="^(holiday|workday)$", description="holiday, or workday (调休 make-up day)")
    name: str = Field("", max_length=100)


class CalendarOut(BaseModel):
    holidays: list[date]
    makeup_workdays: list[date]


# --------------------------------------------------------------------------------------
# Certificates


class CertificateIssueIn(In):
    application_id: Id
    issued_on: Day | None = None


class PlanCertificatesIn(In):
    issued_on: Day | None = None


class HandOverIn(In):
    recipient: str = Field("", max_length=100)


class CorrectionIn(In):
    reason: Reason = Field(min_length=1)
    holder_name: Name | None = None
    id_type: IdType | None = None
    id_number: str | None = Field(None, max_length=32)


class CertificateOut(BaseModel):
    id: int
    code: str
    holder_name: str
    id_type: IdType
    id_number: str
    occupation_code: str
    occupation_name: str
    work_type_name: str
    level: int
    level_name: str
    institution: str
    issued_on: date
    status: CertificateStatus
    print_count: int
    application_id: int | None
    qr_payload: str

    @classmethod
    def of(cls, c: Certificate) -> CertificateOut:
        return cls(id=c.id, code=c.code, holder_name=c.holder_name, id_type=c.id_type, id_number=c.id_number,
                   occupation_code=c.occupation_code, occupation_name=c.occupation_name,
                   work_type_name=c.work_type_name, level=int(c.level), level_name=str(Level(c.level).title),
                   institution=c.institution, issued_on=c.issued_on, status=c.status, print_count=c.print_count,
                   application_id=c.application_id, qr_payload=c.qr_payload)


class CertificateEventOut(BaseModel):
    action: str
    actor: str
    reason: str
    details: dict[str, Any]


class PublicCertificateOut(BaseModel):
    """What a third party may learn from a certificate's QR code, and nothing more."""

    code: str
    holder_name: str
    id_number_masked: str
    occupation_code: str
    occupation_name: str
    work_type_name: str
    level: int
    level_name: str
    status: CertificateStatus
    issued_on: date

    @classmethod
    def of(cls, c: Certificate) -> PublicCertificateOut:
        return cls(code=c.code, holder_name=c.holder_name, id_number_masked=mask_id_number(c.id_number),
                   occupation_code=c.occupation_code, occupation_name=c.occupation_name,
                   work_type_name=c.work_type_name, level=int(c.level), level_name=str(Level(c.level).title),
                   status=c.status, issued_on=c.issued_on)


class VerificationOut(BaseModel):
    valid: bool
    message: str
    certificate: PublicCertificateOut | None


# --------------------------------------------------------------------------------------
# Retention


class RetentionOut(BaseModel):
    plan_code: str
    closed_on: date | None
    retain_until: date | None
    review: str | None
    held: bool
    destroyed: bool
    destroyable: bool
    reasons: list[str]

    @classmethod
    def of(cls, s: RetentionState) -> RetentionOut:
        return cls(plan_code=s.plan_code, closed_on=s.closed_on, retain_until=s.retain_until, review=s.review,
                   held=s.held, destroyed=s.destroyed, destroyable=s.destroyable, reasons=render_all(s.reasons))


class RetentionReviewIn(In):
    decision: str = Field(pattern="^(destroy|keep)$")
    note: str = Field("", max_length=2000)
    on: Day | None = Field(None, description="Default: today.")


class HoldIn(In):
    reason: Reason = Field(min_length=1)


class HoldOut(BaseModel):
    hold_id: int
    plan_code: str


class DestructionIn(In):
    on: Day | None = Field(None, description="Default: today.")
    dry_run: bool = False


class DestructionOut(BaseModel):
    destroyed: dict[str, dict[str, list[int]]]
    skipped: dict[str, list[str]]
    dry_run: bool
    n_records: int
