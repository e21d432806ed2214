"""Staff: examiners (考评员), supervisors (质量督导员) and proctors (监考员); their cards, annual
training, and the relations to candidates they declare (for recusal).

附件2 第16条: examiner card, 18 digits, valid 3 years; 第18条: annual continuing education, the
qualification lapses without it; 第5条: 考评员 levels 5–3, 高级考评员 all levels; 第8条(七):
recusal for relatives, teachers/students and masters/apprentices. 附件10 第13条, 第17条: the
same for supervisor cards (13 + 5 digits).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.domain import Level
from itembank.i18n import FieldMessage, Message
from itembank.occupations import get_occupation
from itembank.orm import OccupationRecord
from itembank.orm_lifecycle import (
    CandidateRecord,
    DeclaredRelationRecord,
    StaffCardRecord,
    StaffMemberRecord,
    StaffTrainingRecord,
)
from lifecycle.cards import Training, card_valid_until, card_validity
from lifecycle.codes import ExaminerGrade, format_examiner_card, format_supervisor_card
from lifecycle.config import LifecycleSettings
from lifecycle.domain import CardKind, RelationKind, StaffCard, StaffMember
from lifecycle.errors import CardNotValidError, ConflictError, NotFoundError, ValidationError
from lifecycle.idnumbers import IdType, check_id_number
from lifecycle.serials import next_serial


def staff_from_record(rec: StaffMemberRecord) -> StaffMember:
    return StaffMember(id=rec.id, name=rec.name, organisation=rec.organisation, id_number=rec.id_number)


def card_from_record(session: Session, rec: StaffCardRecord) -> StaffCard:
    occ_code = None
    if rec.occupation_id is not None:
        occ_code = session.scalar(select(OccupationRecord.code).where(OccupationRecord.id == rec.occupation_id))
    return StaffCard(id=rec.id, staff_id=rec.staff_id, kind=CardKind(rec.kind), number=rec.number,
                     issued_on=rec.issued_on, valid_until=rec.valid_until, status=rec.status, grade=rec.grade,
                     occupation_code=occ_code)


def register_staff(
    session: Session, *, name: str, actor: str, organisation: str = "", id_type: IdType | str = IdType.MAINLAND_ID,
    id_number: str = "", phone: str = "",
) -> StaffMember:
    errors = [] if (name or "").strip() else [FieldMessage("name", Message("the name is empty"))]
    number = ""
    if id_number:
        check = check_id_number(id_type, id_number)
        errors += check.errors
        number = check.number
    if errors:
        raise ValidationError(Message("Staff member {name} was not registered.", name=name), errors=errors)
    rec = StaffMemberRecord(name=name.strip(), organisation=organisation, id_type=IdType.parse(id_type).value,
                            id_number=number, phone=phone)
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action="staff.register", object_type="staff", object_id=rec.id,
                  details={"name": rec.name, "organisation": organisation})
    return staff_from_record(rec)


def _staff(session: Session, staff_id: int) -> StaffMemberRecord:
    rec = session.get(StaffMemberRecord, staff_id)
    if rec is None:
        raise NotFoundError(Message("There is no staff member number {id}.", id=staff_id), field="staff_id",
                            code="staff_not_found")
    return rec


def issue_examiner_card(
    session: Session, *, staff_id: int, grade: ExaminerGrade | int, issued_on: date, actor: str,
    settings: LifecycleSettings, occupation_code: str | None = None, work_type: str | None = None,
) -> StaffCard:
    """Issue an examiner card after the qualification assessment (附件2 第15–16条):
    number = institution code + grade digit + the grade's next 4-digit serial; valid 3 years."""
    _staff(session, staff_id)
    g = ExaminerGrade(int(grade))
    occ_id = get_occupation(session, code=occupation_code, work_type=work_type).id if occupation_code else None
    serial = next_serial(session, scope=f"examiner-card:{settings.institution_code}:{int(g)}", maximum=9999)
    number = format_examiner_card(settings.institution_code, g, serial)
    return _add_card(session, staff_id=staff_id, kind=CardKind.EXAMINER, number=number, grade=int(g),
                     occupation_id=occ_id, issued_on=issued_on, actor=actor)


def issue_supervisor_card(
    session: Session, *, staff_id: int, issued_on: date, actor: str, settings: LifecycleSettings,
) -> StaffCard:
    """Issue a supervisor card (附件10 第13条): institution code + 5-digit serial; 3-year term (第18条)."""
    _staff(session, staff_id)
    serial = next_serial(session, scope=f"supervisor-card:{settings.institution_code}", maximum=99999)
    number = format_supervisor_card(settings.institution_code, serial)
    return _add_card(session, staff_id=staff_id, kind=CardKind.SUPERVISOR, number=number, grade=None,
                     occupation_id=None, issued_on=issued_on, actor=actor)


def _add_card(session: Session, *, staff_id: int, kind: CardKind, number: str, grade: int | None,
              occupation_id: int | None, issued_on: date, actor: str) -> StaffCard:
    rec = StaffCardRecord(staff_id=staff_id, kind=kind.value, number=number, grade=grade, occupation_id=occupation_id,
                          issued_on=issued_on, valid_until=card_valid_until(issued_on), status="active",
                          created_by=actor)
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action="card.issue", object_type="staff_card", object_id=number,
                  details={"staff_id": staff_id, "kind": kind.value, "grade": grade,
                           "valid_until": rec.valid_until.isoformat()})
    return card_from_record(session, rec)


def revoke_card(session: Session, *, number: str, reason: str, actor: str) -> StaffCard:
    """撤回证卡 (附件2 第24条, 附件10 第23条)."""
    if not reason.strip():
        raise ValidationError(Message("Say why the card is revoked."), field="reason")
    rec = session.scalar(select(StaffCardRecord).where(StaffCardRecord.number == number))
    if rec is None:
        raise NotFoundError(Message("There is no card {number}.", number=number), field="number", code="card_not_found")
    rec.status, rec.status_reason, rec.status_changed_at = "revoked", reason, datetime.now(timezone.utc)
    session.flush()
    ledger.append(session, actor=actor, action="card.revoke", object_type="staff_card", object_id=number,
                  details={"reason": reason})
    return card_from_record(session, rec)


def record_training(
    session: Session, *, staff_id: int, kind: CardKind | str, year: int, completed_on: date, passed: bool, actor: str,
    note: str = "",
) -> None:
    """Record a year's continuing education (附件2 第18条, 附件10 第17条)."""
    _staff(session, staff_id)
    if completed_on.year != year:
        raise ValidationError(Message("The training of {year} was completed on {day}: that date is in another year.", year=str(year),
                                      day=completed_on),
                              field="completed_on")
    k = CardKind(kind)
    session.add(StaffTrainingRecord(staff_id=staff_id, kind=k.value, year=year, completed_on=completed_on,
                                    passed=passed, note=note, recorded_by=actor))
    session.flush()
    ledger.append(session, actor=actor, action="staff.training", object_type="staff", object_id=staff_id,
                  details={"kind": k.value, "year": year, "passed": passed})


def _trainings(session: Session, staff_id: int, kind: CardKind) -> list[Training]:
    rows = session.execute(select(StaffTrainingRecord.year, StaffTrainingRecord.passed).where(
        StaffTrainingRecord.staff_id == staff_id, StaffTrainingRecord.kind == kind.value)).all()
    return [Training(y, p) for y, p in rows]


def card_reasons(session: Session, rec: StaffCardRecord, *, on: date) -> list[Message]:
    """Why ``rec`` is not valid on ``on`` (empty: valid)."""
    v = card_validity(number=rec.number, issued_on=rec.issued_on, valid_until=rec.valid_until,
                      revoked=rec.status == "revoked", revoked_reason=rec.status_reason,
                      trainings=_trainings(session, rec.staff_id, CardKind(rec.kind)), on=on)
    return list(v.reasons)


def require_valid_card(
    session: Session, *, staff_id: int, kind: CardKind, on: date, level: Level | int | None = None,
    occupation_id: int | None = None,
) -> StaffCard:
    """The staff member's card valid for the task on ``on``, or ``CardNotValidError`` with
    every reason (持证上岗: 附件1 第20条, 附件2 第11条)."""
    staff = _staff(session, staff_id)
    cards = session.scalars(select(StaffCardRecord).where(StaffCardRecord.staff_id == staff_id,
                                                          StaffCardRecord.kind == kind.value)
                            .order_by(StaffCardRecord.issued_on.desc())).all()
    if not cards:
        raise CardNotValidError(Message("{name} holds no {kind}.", name=staff.name, kind=kind), code="no_card")
    reasons: list[Message] = []
    for rec in cards:
        problems = card_reasons(session, rec, on=on)
        if kind is CardKind.EXAMINER and level is not None and rec.grade is not None:
            g = ExaminerGrade(rec.grade)
            if not g.may_examine(int(level)):
                problems.append(Message("card {number} is of grade {grade}; level {level} needs grade {needed} "
                                        "(附件2 第5条)", number=rec.number, grade=g.zh, level=Level(level),
                                        needed=ExaminerGrade.SENIOR.zh))
        if kind is CardKind.EXAMINER and occupation_id is not None and rec.occupation_id not in (None, occupation_id):
            problems.append(Message("card {number} is for another occupation", number=rec.number))
        if not problems:
            return card_from_record(session, rec)
        reasons += problems
    raise CardNotValidError(Message("{name} holds no {kind} valid on {day}.", name=staff.name, kind=kind, day=on),
                            errors=reasons)


def examining_experience_years(session: Session, *, staff_id: int, on: date) -> float:
    """Years since the staff member's first examiner card (附件2 第10条 counts 考评工作经验)."""
    first = session.scalar(select(StaffCardRecord.issued_on).where(
        StaffCardRecord.staff_id == staff_id, StaffCardRecord.kind == CardKind.EXAMINER.value)
        .order_by(StaffCardRecord.issued_on).limit(1))
    return 0.0 if first is None else max((on - first).days / 365.25, 0.0)


def lapsed_cards(session: Session, *, on: date) -> list[tuple[StaffCard, list[str]]]:
    """Active cards that are not valid on ``on`` (expired or without the annual training),
    with the reasons: the list the centre acts on (附件2 第18条, 第24条)."""
    out = []
    for rec in session.scalars(select(StaffCardRecord).where(StaffCardRecord.status == "active")
                               .order_by(StaffCardRecord.number)):
        reasons = card_reasons(session, rec, on=on)
        if reasons:
            out.append((card_from_record(session, rec), reasons))
    return out


def declare_relation(
    session: Session, *, staff_id: int, candidate_id: int, kind: RelationKind | str, actor: str, note: str = "",
) -> None:
    """Record a relation that obliges the staff member to stand aside (附件2 第8条(七))."""
    _staff(session, staff_id)
    if session.get(CandidateRecord, candidate_id) is None:
        raise NotFoundError(Message("There is no candidate number {id}.", id=candidate_id), field="candidate_id",
                            code="candidate_not_found")
    k = RelationKind(kind)
    exists = session.scalar(select(DeclaredRelationRecord.id).where(
        DeclaredRelationRecord.staff_id == staff_id, DeclaredRelationRecord.candidate_id == candidate_id,
        DeclaredRelationRecord.kind == k.value))
    if exists is not None:
        raise ConflictError(Message("This relation is already declared."), code="relation_exists")
    session.add(DeclaredRelationRecord(staff_id=staff_id, candidate_id=candidate_id, kind=k.value, note=note,
                                       declared_by=actor))
    session.flush()
    ledger.append(session, actor=actor, action="relation.declare", object_type="staff", object_id=staff_id,
                  details={"candidate_id": candidate_id, "kind": k.value})


def relations_between(session: Session, *, staff_ids: list[int], candidate_ids: list[int]) -> list[tuple[str, str, str]]:
    """(staff name, candidate name, relation) for every declared relation among the two sets."""
    if not staff_ids or not candidate_ids:
        return []
    rows = session.execute(
        select(StaffMemberRecord.name, CandidateRecord.name, DeclaredRelationRecord.kind)
        .join(StaffMemberRecord, StaffMemberRecord.id == DeclaredRelationRecord.staff_id)
        .join(CandidateRecord, CandidateRecord.id == DeclaredRelationRecord.candidate_id)
        .where(DeclaredRelationRecord.staff_id.in_(staff_ids), DeclaredRelationRecord.candidate_id.in_(candidate_ids))
        .order_by(StaffMemberRecord.name, CandidateRecord.name)
    ).all()
    return [(s, c, RelationKind(k).zh) for s, c, k in rows]
