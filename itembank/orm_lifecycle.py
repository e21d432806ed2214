"""ORM rows of the lifecycle modules: registration, exam plans and sessions, staff and their
cards, scoring and results, publication, certificates, retention (issue 8).

The rules live in ``lifecycle/``; this module only stores. Enumerated columns are VARCHAR with
a CHECK constraint listing the allowed values; the value tuples below are the single source
that ``lifecycle`` enums are tested against (tests/lifecycle/test_orm_values.py), because the
ORM layer may not import the layer above it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from itembank.orm import Base, utcnow

# --------------------------------------------------------------------------------------
# Allowed values of the enumerated columns (mirrored by the enums in lifecycle/)

ID_TYPES = ("mainland_id", "passport", "hk_macao_permit", "taiwan_permit", "foreign_permanent")
APPLICATION_STATUSES = ("accepted", "refused", "withdrawn", "disqualified")
PLAN_STATUSES = ("open", "closed")
SESSION_PARTS = ("theory", "practical", "defence")
SESSION_STATUSES = ("planned", "held", "cancelled")
CARD_KINDS = ("examiner", "supervisor")
CARD_STATUSES = ("active", "revoked")
RELATION_KINDS = ("relative", "teacher_student", "master_apprentice")
PROCTOR_ROLES = ("chief", "deputy")
PART_RESULT_STATUSES = ("scored", "voided", "cancelled")
OUTCOMES = ("pending", "passed", "failed", "cancelled", "disqualified")
VIOLATION_KINDS = ("warning", "paper_voided", "score_cancelled", "disqualified")
PUBLICATION_STATUSES = ("open", "released")
CALENDAR_KINDS = ("holiday", "workday")
CERTIFICATE_STATUSES = ("generated", "printed", "issued", "voided", "revoked")
CERTIFICATE_ACTIONS = ("generate", "print", "issue", "void", "reissue", "correct", "revoke")
RETENTION_DECISIONS = ("destroy", "keep")


def one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """CHECK ``column IN (...)``, named after the column (portable, like ``str_enum``)."""
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=f"{column}_values")


def _level_check() -> CheckConstraint:
    return CheckConstraint("level BETWEEN 1 AND 5", name="level_range")


# --------------------------------------------------------------------------------------
# Registration (附件1 第二章)


class CandidateRecord(Base):
    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("id_type", "id_number"), one_of("id_type", ID_TYPES))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    id_type: Mapped[str] = mapped_column(String(24))
    id_number: Mapped[str] = mapped_column(String(32))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    employer: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EligibilityRuleRecord(Base):
    """One alternative of a level's 申报条件; an application qualifies by any one alternative.
    Rows with an occupation override the general rows of that level (see lifecycle.eligibility)."""

    __tablename__ = "eligibility_rules"
    __table_args__ = (_level_check(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(Integer)
    alternative: Mapped[int] = mapped_column(Integer)
    occupation_id: Mapped[int | None] = mapped_column(ForeignKey("occupations.id"), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    min_years_of_work: Mapped[float | None] = mapped_column(Float, nullable=True)
    prior_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_years_since_prior: Mapped[float | None] = mapped_column(Float, nullable=True)
    requires_training: Mapped[bool] = mapped_column(Boolean, default=False)
    educations: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApplicationRecord(Base):
    """An application (报名) of a candidate for an occupation and level, with what was declared."""

    __tablename__ = "applications"
    __table_args__ = (_level_check(), one_of("status", APPLICATION_STATUSES))

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    occupation_id: Mapped[int] = mapped_column(ForeignKey("occupations.id"))
    level: Mapped[int] = mapped_column(Integer)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("exam_plans.id"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16))
    declaration: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    documents: Mapped[list[Any]] = mapped_column(JSON, default=list)
    matched_rule: Mapped[str] = mapped_column(Text, default="")
    refusal_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    applied_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --------------------------------------------------------------------------------------
# Exam plans, sessions, rooms, admission tickets (附件1 第三章)


class ExamPlanRecord(Base):
    """An exam plan (考试计划, 附件1 第8条): one batch of one bank (occupation x level)."""

    __tablename__ = "exam_plans"
    __table_args__ = (one_of("status", PLAN_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    materials_destroyed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExamSessionRecord(Base):
    """One sitting of one part: time window and place; sealed papers attach to it by code."""

    __tablename__ = "exam_sessions"
    __table_args__ = (
        _level_check(),
        one_of("part", SESSION_PARTS),
        one_of("status", SESSION_STATUSES),
        CheckConstraint("ends_at > starts_at", name="time_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plans.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    level: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    place: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="planned")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExamRoomRecord(Base):
    """A theory room (seats) or a practical site (stations, 工位) of a session."""

    __tablename__ = "exam_rooms"
    __table_args__ = (
        UniqueConstraint("session_id", "code"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"))
    code: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(300), default="")
    capacity: Mapped[int] = mapped_column(Integer)


class AdmissionTicketRecord(Base):
    """准考证 (附件1 第10条): one per accepted application of a plan."""

    __tablename__ = "admission_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plans.id"), index=True)
    issued_by: Mapped[str] = mapped_column(String(100), default="")
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SeatAssignmentRecord(Base):
    __tablename__ = "seat_assignments"
    __table_args__ = (
        UniqueConstraint("session_id", "ticket_id"),
        UniqueConstraint("room_id", "seat_no"),
        CheckConstraint("seat_no > 0", name="seat_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("admission_tickets.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("exam_rooms.id"))
    seat_no: Mapped[int] = mapped_column(Integer)


# --------------------------------------------------------------------------------------
# Staff: examiners, supervisors, proctors; cards, training, declared relations


class StaffMemberRecord(Base):
    __tablename__ = "staff_members"
    __table_args__ = (
        one_of("id_type", ID_TYPES),
        Index("uq_staff_members_username", "username", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    id_type: Mapped[str] = mapped_column(String(24), default="mainland_id")
    id_number: Mapped[str] = mapped_column(String(32), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The login account this staff member acts as (an examiner entering scores); one each way.
    Every change is also in the ledger (``staff.account``)."""


class StaffCardRecord(Base):
    """Examiner card (附件2 第16条) or supervisor card (附件10 第13条)."""

    __tablename__ = "staff_cards"
    __table_args__ = (
        one_of("kind", CARD_KINDS),
        one_of("status", CARD_STATUSES),
        CheckConstraint("valid_until > issued_on", name="validity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(18), unique=True)
    grade: Mapped[int | None] = mapped_column(Integer, nullable=True)
    occupation_id: Mapped[int | None] = mapped_column(ForeignKey("occupations.id"), nullable=True)
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StaffTrainingRecord(Base):
    """Annual continuing education (附件2 第18条, 附件10 第17条)."""

    __tablename__ = "staff_trainings"
    __table_args__ = (one_of("kind", CARD_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    completed_on: Mapped[date] = mapped_column(Date)
    passed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeclaredRelationRecord(Base):
    """A relation of a staff member to a candidate that requires recusal (附件2 第8条(七))."""

    __tablename__ = "declared_relations"
    __table_args__ = (
        UniqueConstraint("staff_id", "candidate_id", "kind"),
        one_of("kind", RELATION_KINDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    declared_by: Mapped[str] = mapped_column(String(100), default="")
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProctorAssignmentRecord(Base):
    """Two proctors per room, a chief and a deputy (附件7 第1条)."""

    __tablename__ = "proctor_assignments"
    __table_args__ = (
        UniqueConstraint("room_id", "role"),
        UniqueConstraint("room_id", "staff_id"),
        one_of("role", PROCTOR_ROLES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("exam_rooms.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    assigned_by: Mapped[str] = mapped_column(String(100), default="")
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExaminerGroupRecord(Base):
    """考评小组 of >= 3 with a leader (附件2 第9条); for a whole session or one room."""

    __tablename__ = "examiner_groups"
    __table_args__ = (UniqueConstraint("session_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("exam_rooms.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExaminerGroupMemberRecord(Base):
    __tablename__ = "examiner_group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("examiner_groups.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), primary_key=True)
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)


# --------------------------------------------------------------------------------------
# Scoring and results (附件1 第25–26条, 附件14)


class ResponseRecord(Base):
    """A candidate's response to one item version of an issued paper, and its item score.

    For objective items the score comes from the key; for subjective items and practical
    tasks it is the combination of the examiners' scores (``examiner_scores``).
    """

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("application_id", "session_id", "item_version_id"),
        Index("ix_responses_paper", "paper_code", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    paper_code: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"), index=True)
    response: Mapped[list[Any]] = mapped_column(JSON, default=list)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_points: Mapped[float] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    scored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ExaminerScoreRecord(Base):
    """One examiner's independent rubric scores for one candidate's item (附件2 第8条(五))."""

    __tablename__ = "examiner_scores"
    __table_args__ = (
        UniqueConstraint("application_id", "session_id", "item_version_id", "staff_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"))
    rubric_scores: Mapped[list[Any]] = mapped_column(JSON, default=list)
    total: Mapped[float] = mapped_column(Float)
    entered_by: Mapped[str] = mapped_column(String(100), default="")
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PartResultRecord(Base):
    """A candidate's result in one part, on the 100-point scale (附件1 第25条)."""

    __tablename__ = "part_results"
    __table_args__ = (
        UniqueConstraint("application_id", "part"),
        one_of("part", SESSION_PARTS),
        one_of("status", PART_RESULT_STATUSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    part: Mapped[str] = mapped_column(String(16))
    raw_points: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="scored")
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExamResultRecord(Base):
    """The outcome of an application: passed, failed, cancelled ... (附件1 第25–26条)."""

    __tablename__ = "exam_results"
    __table_args__ = (one_of("outcome", OUTCOMES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    review_passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    review_note: Mapped[str] = mapped_column(Text, default="")
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    publication_id: Mapped[int | None] = mapped_column(
        ForeignKey("result_publications.id"), nullable=True, index=True
    )
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ViolationRecord(Base):
    """A candidate violation and its consequence (附件14 第1–3条, 附件1 第32条)."""

    __tablename__ = "violations"
    __table_args__ = (one_of("kind", VIOLATION_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("exam_sessions.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    clause: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ResultPublicationRecord(Base):
    """公示 of a plan's results for 5 working days before release (附件1 第26条)."""

    __tablename__ = "result_publications"
    __table_args__ = (
        one_of("status", PUBLICATION_STATUSES),
        CheckConstraint("ends_on > starts_on", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plans.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    published_by: Mapped[str] = mapped_column(String(100))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    released_by: Mapped[str] = mapped_column(String(100), default="")
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ResultObjectionRecord(Base):
    __tablename__ = "result_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("result_publications.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), nullable=True)
    raised_on: Mapped[date] = mapped_column(Date)
    raised_by: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(Text)
    resolution: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[str] = mapped_column(String(100), default="")
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CalendarDayRecord(Base):
    """Exceptions to the Monday–Friday week: public holidays and make-up working days (调休)."""

    __tablename__ = "calendar_days"
    __table_args__ = (one_of("kind", CALENDAR_KINDS),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="")


# --------------------------------------------------------------------------------------
# Serial numbers, certificates (附件3)


class SerialCounterRecord(Base):
    """Last serial handed out per scope (e.g. a certificate prefix x year x level).

    Incremented with one ``UPDATE ... SET value = value + 1 RETURNING value``: the row lock
    (PostgreSQL) or the database write lock (SQLite) makes concurrent transactions queue.
    """

    __tablename__ = "serial_counters"

    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class CertificateRecord(Base):
    """A skill level certificate with the fields of 附件3 第11条; one code per certificate
    (附件3 第13条). At most one certificate of an application is live (not voided)."""

    __tablename__ = "certificates"
    __table_args__ = (
        _level_check(),
        one_of("status", CERTIFICATE_STATUSES),
        Index(
            "uq_certificates_live_application",
            "application_id",
            unique=True,
            sqlite_where=text("status <> 'voided'"),
            postgresql_where=text("status <> 'voided'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    result_id: Mapped[int] = mapped_column(ForeignKey("exam_results.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(100))
    id_type: Mapped[str] = mapped_column(String(24))
    id_number: Mapped[str] = mapped_column(String(32))
    occupation_code: Mapped[str] = mapped_column(String(32))
    occupation_name: Mapped[str] = mapped_column(String(200))
    work_type_name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    institution: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="generated")
    print_count: Mapped[int] = mapped_column(Integer, default=0)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CertificateEventRecord(Base):
    """The certificate ledger (附件3 第18条): printing, issue, voiding, reissue, correction,
    revocation; each event is also appended to the hash-chained ledger."""

    __tablename__ = "certificate_events"
    __table_args__ = (one_of("action", CERTIFICATE_ACTIONS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --------------------------------------------------------------------------------------
# Retention (附件1 第29条, 附件13 第3条(7)(8))


class RetentionReviewRecord(Base):
    __tablename__ = "retention_reviews"
    __table_args__ = (
        one_of("decision", RETENTION_DECISIONS),
        Index("ix_retention_reviews_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))
    reviewed_by: Mapped[str] = mapped_column(String(100))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class RetentionHoldRecord(Base):
    """A hold (objection, investigation, audit): nothing under hold is destroyed."""

    __tablename__ = "retention_holds"
    __table_args__ = (Index("ix_retention_holds_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(100))
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    released_by: Mapped[str] = mapped_column(String(100), default="")
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
