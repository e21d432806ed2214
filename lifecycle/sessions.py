"""Exam plans, sessions, rooms and seating, proctors and examiner groups, admission tickets
(附件1 第三章).

附件1 第8条: 按职业（工种）、技能等级汇总报名信息……制定考试计划; 第9条: 确定考试规模、考试时间和考点
考场，安排理论知识考试考场编排和实际操作考核计划; 第10条: the admission ticket. 附件7 第1条: two
proctors per room, a chief and a deputy. 附件2 第9条: examiner groups of at least 3 with a
leader; 第10条: the leader has 3 years of examining; 第8条(七): recusal.

An exam session is one sitting of one part of one bank (occupation x level) in a time
window at a place, with its rooms; the sealed-paper service attaches papers to it by code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.domain import Level, Part
from itembank.i18n import FieldMessage, Message, Text
from itembank.occupations import bank_record, occupation_from_record
from itembank.orm import BankRecord, OccupationRecord
from itembank.orm_lifecycle import (
    AdmissionTicketRecord,
    ApplicationRecord,
    CandidateRecord,
    ExaminerGroupMemberRecord,
    ExaminerGroupRecord,
    ExamPlanRecord,
    ExamRoomRecord,
    ExamSessionRecord,
    ProctorAssignmentRecord,
    SeatAssignmentRecord,
    StaffMemberRecord,
)
from lifecycle.config import LifecycleSettings
from lifecycle.domain import (
    AdmissionTicket,
    ApplicationStatus,
    CardKind,
    ExamPlan,
    ExamRoom,
    ExamSession,
    IdType,
    ProctorRole,
    TicketSitting,
)
from lifecycle.errors import (
    CapacityError,
    ConflictError,
    ConflictOfInterestError,
    NotFoundError,
    StaffingError,
    ValidationError,
)
from lifecycle.serials import next_serial
from lifecycle.staff import examining_experience_years, relations_between, require_valid_card

CENTRE_TZ = ZoneInfo("Asia/Shanghai")
MIN_EXAMINER_GROUP = 3  # 附件2 第9条: 每组不少于3人
LEADER_MIN_YEARS = 3.0  # 附件2 第10条: 考评组长应具备……3年以上考评工作经验
TICKET_NOTES = (
    "考生须持身份证、准考证进入考场，对号入座，并将“双证”展放在座位的左上角（附件4 第1条）。",
    "考试开始30分钟后，迟到者不能再进入考场（附件4 第3条）。",
    "不得携带书籍、纸张等；移动电话必须关闭或放于指定地点（附件4 第2条）。",
    "实际操作考核考前15分钟持证件进入考场，抽签确定工位（附件5 第2条）。",
)


def aware(dt: datetime) -> datetime:
    """SQLite returns naive datetimes for ``DateTime(timezone=True)``: they are UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def local_day(dt: datetime) -> date:
    return aware(dt).astimezone(CENTRE_TZ).date()


# --------------------------------------------------------------------------------------
# Plans


def _plan(session: Session, code: str) -> ExamPlanRecord:
    rec = session.scalar(select(ExamPlanRecord).where(ExamPlanRecord.code == code))
    if rec is None:
        raise NotFoundError(Message("There is no exam plan {plan}.", plan=code), field="plan_code",
                            code="plan_not_found")
    return rec


def plan_from_record(session: Session, rec: ExamPlanRecord) -> ExamPlan:
    bank = session.get(BankRecord, rec.bank_id)
    assert bank is not None
    return ExamPlan(id=rec.id, code=rec.code, occupation=occupation_from_record(bank.occupation),
                    level=Level(bank.level), bank_id=bank.id, title=rec.title, status=rec.status,
                    closed_on=rec.closed_on)


def create_exam_plan(
    session: Session, *, code: str, occupation_code: str, level: Level | int, actor: str,
    work_type: str | None = None, title: str = "",
) -> ExamPlan:
    """An exam plan for one bank (occupation x level); examinations use the bank (附件1 第14条)."""
    if not (code or "").strip() or len(code) > 64:
        raise ValidationError(Message("The code must have 1–64 characters."), field="code")
    bank = bank_record(session, occupation_code=occupation_code, level=level, work_type=work_type)
    if session.scalar(select(ExamPlanRecord.id).where(ExamPlanRecord.code == code)) is not None:
        raise ConflictError(Message("Exam plan {plan} already exists.", plan=code), field="code",
                            code="plan_exists")
    rec = ExamPlanRecord(code=code, bank_id=bank.id, title=title, status="open", created_by=actor)
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action="plan.create", object_type="exam_plan", object_id=code,
                  details={"bank_id": bank.id, "occupation": occupation_code, "level": int(Level.parse(level))})
    return plan_from_record(session, rec)


def get_exam_plan(session: Session, *, code: str) -> ExamPlan:
    return plan_from_record(session, _plan(session, code))


def list_exam_plans(session: Session) -> list[ExamPlan]:
    """Every exam plan, newest first."""
    return [plan_from_record(session, r)
            for r in session.scalars(select(ExamPlanRecord).order_by(ExamPlanRecord.id.desc()))]


# --------------------------------------------------------------------------------------
# Sessions and rooms


def _session(session: Session, code: str) -> ExamSessionRecord:
    rec = session.scalar(select(ExamSessionRecord).where(ExamSessionRecord.code == code))
    if rec is None:
        raise NotFoundError(Message("There is no exam session {session}.", session=code), field="session_code",
                            code="session_not_found")
    return rec


def session_from_record(session: Session, rec: ExamSessionRecord) -> ExamSession:
    bank = session.get(BankRecord, rec.bank_id)
    plan_code = session.scalar(select(ExamPlanRecord.code).where(ExamPlanRecord.id == rec.plan_id))
    rooms = session.scalars(select(ExamRoomRecord).where(ExamRoomRecord.session_id == rec.id)
                            .order_by(ExamRoomRecord.code)).all()
    assert bank is not None and plan_code is not None
    return ExamSession(
        id=rec.id, code=rec.code, plan_code=plan_code, bank_id=rec.bank_id,
        occupation=occupation_from_record(bank.occupation), level=Level(rec.level), part=Part(rec.part),
        starts_at=aware(rec.starts_at), ends_at=aware(rec.ends_at), place=rec.place, status=rec.status,
        rooms=tuple(ExamRoom(r.id, r.code, r.capacity, r.location) for r in rooms),
    )


def create_exam_session(
    session: Session, *, plan_code: str, code: str, part: Part | str, starts_at: datetime, ends_at: datetime,
    place: str, actor: str,
) -> ExamSession:
    """A sitting of one part: time window (timezone-aware) and place (附件1 第9条)."""
    plan = _plan(session, plan_code)
    bank = session.get(BankRecord, plan.bank_id)
    assert bank is not None
    p = Part(part)
    errors: list[FieldMessage] = []
    if not (code or "").strip() or len(code) > 64:
        errors.append(FieldMessage("code", Message("1–64 characters")))
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        errors.append(FieldMessage("starts_at", Message("give the time zone (e.g. +08:00)")))
    elif ends_at <= starts_at:
        errors.append(FieldMessage("ends_at", Message("the session must end after it starts")))
    if not (place or "").strip():
        errors.append(FieldMessage("place", Message("the place is empty")))
    if p is Part.DEFENCE and not Level(bank.level).has_defence:
        errors.append(FieldMessage("part", Message(
            "level {level} has no defence (only levels 2 and 1 have, 附件1 第23条)", level=Level(bank.level))))
    if errors:
        raise ValidationError(Message("Exam session {session} was not saved.", session=code), errors=errors)
    if plan.status != "open":
        raise ConflictError(Message("Exam plan {plan} is closed.", plan=plan_code), code="plan_closed")
    if session.scalar(select(ExamSessionRecord.id).where(ExamSessionRecord.code == code)) is not None:
        raise ConflictError(Message("Exam session {session} already exists.", session=code), field="code",
                            code="session_exists")
    # stored in UTC: SQLite keeps the wall time and drops the offset
    starts_at, ends_at = starts_at.astimezone(timezone.utc), ends_at.astimezone(timezone.utc)
    rec = ExamSessionRecord(code=code, plan_id=plan.id, bank_id=bank.id, level=bank.level, part=p.value,
                            starts_at=starts_at, ends_at=ends_at, place=place.strip(), status="planned",
                            created_by=actor)
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action="session.create", object_type="exam_session", object_id=code,
                  details={"plan": plan_code, "part": p.value, "starts_at": starts_at.isoformat(),
                           "ends_at": ends_at.isoformat(), "place": place})
    return session_from_record(session, rec)


def add_room(
    session: Session, *, session_code: str, code: str, capacity: int, actor: str, location: str = "",
) -> ExamRoom:
    """A theory room (seats) or practical site (stations, 工位) of the session."""
    srec = _session(session, session_code)
    if not isinstance(capacity, int) or capacity <= 0:
        raise ValidationError(Message("Room {room}: the capacity must be a positive whole number.", room=code), field="capacity")
    if session.scalar(select(ExamRoomRecord.id).where(ExamRoomRecord.session_id == srec.id,
                                                      ExamRoomRecord.code == code)) is not None:
        raise ConflictError(Message("Exam session {session} already has room {room}.", session=session_code, room=code),
                            field="code", code="room_exists")
    rec = ExamRoomRecord(session_id=srec.id, code=code, capacity=capacity, location=location)
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action="room.add", object_type="exam_session", object_id=session_code,
                  details={"room": code, "capacity": capacity})
    return ExamRoom(rec.id, rec.code, rec.capacity, rec.location)


def get_exam_session(session: Session, *, code: str) -> ExamSession:
    return session_from_record(session, _session(session, code))


def list_exam_sessions(session: Session, *, plan_code: str | None = None) -> list[ExamSession]:
    q = select(ExamSessionRecord).order_by(ExamSessionRecord.starts_at, ExamSessionRecord.code)
    if plan_code is not None:
        q = q.where(ExamSessionRecord.plan_id == _plan(session, plan_code).id)
    return [session_from_record(session, r) for r in session.scalars(q)]


def _room(session: Session, srec: ExamSessionRecord, room_code: str) -> ExamRoomRecord:
    rec = session.scalar(select(ExamRoomRecord).where(ExamRoomRecord.session_id == srec.id,
                                                      ExamRoomRecord.code == room_code))
    if rec is None:
        raise NotFoundError(Message("Exam session {session} has no room {room}.", session=srec.code, room=room_code),
                            field="room_code", code="room_not_found")
    return rec


# --------------------------------------------------------------------------------------
# Admission tickets and seating


def issue_admission_tickets(session: Session, *, plan_code: str, actor: str) -> list[str]:
    """A ticket for every accepted application of the plan that has none (附件1 第10条).

    Number: 2-digit year + level + 4-digit plan id + 4-digit serial within the plan.
    """
    plan = _plan(session, plan_code)
    bank = session.get(BankRecord, plan.bank_id)
    assert bank is not None
    apps = session.scalars(
        select(ApplicationRecord).where(ApplicationRecord.plan_id == plan.id,
                                        ApplicationRecord.status == ApplicationStatus.ACCEPTED.value)
        .where(~ApplicationRecord.id.in_(select(AdmissionTicketRecord.application_id)))
        .order_by(ApplicationRecord.id)).all()
    year = (plan.created_at or datetime.now(timezone.utc)).year % 100
    numbers = []
    for app in apps:
        serial = next_serial(session, scope=f"ticket:{plan.id}", maximum=9999)
        number = f"{year:02d}{bank.level}{plan.id % 10000:04d}{serial:04d}"
        session.add(AdmissionTicketRecord(number=number, application_id=app.id, plan_id=plan.id, issued_by=actor))
        numbers.append(number)
    session.flush()
    if numbers:
        ledger.append(session, actor=actor, action="tickets.issue", object_type="exam_plan", object_id=plan_code,
                      details={"n": len(numbers), "first": numbers[0], "last": numbers[-1]})
    return numbers


def _seated_candidate_ids(session: Session, session_id: int, room_id: int | None = None) -> list[int]:
    q = (select(ApplicationRecord.candidate_id)
         .join(AdmissionTicketRecord, AdmissionTicketRecord.application_id == ApplicationRecord.id)
         .join(SeatAssignmentRecord, SeatAssignmentRecord.ticket_id == AdmissionTicketRecord.id)
         .where(SeatAssignmentRecord.session_id == session_id))
    if room_id is not None:
        q = q.where(SeatAssignmentRecord.room_id == room_id)
    return list(session.scalars(q))


def _room_staff_ids(session: Session, srec: ExamSessionRecord, room_id: int | None) -> list[int]:
    """Proctors of the room and examiners of groups covering the room (or every room when None)."""
    pq = select(ProctorAssignmentRecord.staff_id).join(ExamRoomRecord, ExamRoomRecord.id == ProctorAssignmentRecord.room_id).where(
        ExamRoomRecord.session_id == srec.id)
    gq = select(ExaminerGroupMemberRecord.staff_id).join(
        ExaminerGroupRecord, ExaminerGroupRecord.id == ExaminerGroupMemberRecord.group_id).where(
        ExaminerGroupRecord.session_id == srec.id)
    if room_id is not None:
        pq = pq.where(ProctorAssignmentRecord.room_id == room_id)
        gq = gq.where((ExaminerGroupRecord.room_id == room_id) | ExaminerGroupRecord.room_id.is_(None))
    return sorted(set(session.scalars(pq)) | set(session.scalars(gq)))


def _refuse_conflicts(session: Session, *, staff_ids: list[int], candidate_ids: list[int], what: Text) -> None:
    found = relations_between(session, staff_ids=staff_ids, candidate_ids=candidate_ids)
    if found:
        raise ConflictOfInterestError(
            Message("{what}: declared relations require recusal (附件2 第8条(七): staff withdraw from candidates who are "
                    "their relatives, students or apprentices).", what=what),
            errors=[Message("{staff} and {candidate} ({relation})", staff=s, candidate=c, relation=k)
                    for s, c, k in found])


def assign_seats(session: Session, *, session_code: str, actor: str) -> int:
    """Seat every ticket holder of the plan not yet seated in this session, filling rooms in
    code order (附件1 第9条 考场编排). All or nothing: too few seats, or a candidate related
    to the room's proctors or examiners, and no seat is given. Returns the number seated."""
    srec = _session(session, session_code)
    rooms = session.scalars(select(ExamRoomRecord).where(ExamRoomRecord.session_id == srec.id)
                            .order_by(ExamRoomRecord.code)).all()
    if not rooms:
        raise StaffingError(Message("Exam session {session} has no rooms; add the rooms first.", session=session_code))
    tickets = session.execute(
        select(AdmissionTicketRecord.id, ApplicationRecord.candidate_id)
        .join(ApplicationRecord, ApplicationRecord.id == AdmissionTicketRecord.application_id)
        .where(AdmissionTicketRecord.plan_id == srec.plan_id,
               ApplicationRecord.status == ApplicationStatus.ACCEPTED.value)
        .where(~AdmissionTicketRecord.id.in_(select(SeatAssignmentRecord.ticket_id).where(
            SeatAssignmentRecord.session_id == srec.id)))
        .order_by(AdmissionTicketRecord.number)).all()
    free: list[tuple[ExamRoomRecord, int]] = []
    for room in rooms:
        taken = set(session.scalars(select(SeatAssignmentRecord.seat_no).where(SeatAssignmentRecord.room_id == room.id)))
        free += [(room, n) for n in range(1, room.capacity + 1) if n not in taken]
    if len(tickets) > len(free):
        raise CapacityError(Message(
            "Exam session {session}: {n} candidates to seat but {free} free seats in {rooms} room(s); add {more} seats.",
            session=session_code, n=len(tickets), free=len(free), rooms=len(rooms), more=len(tickets) - len(free)))
    by_room: dict[int, list[int]] = {}
    for (ticket_id, cand_id), (room, seat_no) in zip(tickets, free):
        by_room.setdefault(room.id, []).append(cand_id)
        session.add(SeatAssignmentRecord(ticket_id=ticket_id, session_id=srec.id, room_id=room.id, seat_no=seat_no))
    for room_id, cand_ids in by_room.items():
        _refuse_conflicts(session, staff_ids=_room_staff_ids(session, srec, room_id), candidate_ids=cand_ids,
                          what=Message("seating in exam session {session}", session=session_code))
    session.flush()
    if tickets:
        ledger.append(session, actor=actor, action="seats.assign", object_type="exam_session",
                      object_id=session_code, details={"n": len(tickets)})
    return len(tickets)


# --------------------------------------------------------------------------------------
# Proctors and examiner groups


def _overlapping_proctoring(session: Session, srec: ExamSessionRecord, staff_id: int, room_id: int) -> str | None:
    other = session.execute(
        select(ExamSessionRecord.code, ExamRoomRecord.code)
        .join(ExamRoomRecord, ExamRoomRecord.session_id == ExamSessionRecord.id)
        .join(ProctorAssignmentRecord, ProctorAssignmentRecord.room_id == ExamRoomRecord.id)
        .where(ProctorAssignmentRecord.staff_id == staff_id, ProctorAssignmentRecord.room_id != room_id,
               ExamSessionRecord.starts_at < srec.ends_at, ExamSessionRecord.ends_at > srec.starts_at)
    ).first()
    return None if other is None else Message("{session} room {room}", session=other[0], room=other[1])


def assign_proctors(
    session: Session, *, session_code: str, room_code: str, chief_staff_id: int, deputy_staff_id: int, actor: str,
) -> None:
    """Two proctors for a room, a chief and a deputy (附件7 第1条), neither related to a
    candidate seated there, neither proctoring another room at the same time."""
    srec = _session(session, session_code)
    room = _room(session, srec, room_code)
    if chief_staff_id == deputy_staff_id:
        raise StaffingError(Message("The chief and the deputy proctor must be two people (附件7 第1条)."))
    errors = []
    for sid in (chief_staff_id, deputy_staff_id):
        st = session.get(StaffMemberRecord, sid)
        if st is None:
            raise NotFoundError(Message("There is no staff member number {id}.", id=sid), field="staff_id",
                                code="staff_not_found")
        clash = _overlapping_proctoring(session, srec, sid, room.id)
        if clash:
            errors.append(Message("{name} already proctors {clash} at the same time", name=st.name, clash=clash))
    if errors:
        raise StaffingError(Message("The proctors of room {room} of exam session {session} were not assigned.",
                                    room=room_code, session=session_code), errors=errors)
    _refuse_conflicts(session, staff_ids=[chief_staff_id, deputy_staff_id],
                      candidate_ids=_seated_candidate_ids(session, srec.id, room.id),
                      what=Message("the proctors of room {room}", room=room_code))
    existing = session.scalars(select(ProctorAssignmentRecord).where(ProctorAssignmentRecord.room_id == room.id)).all()
    for rec in existing:
        session.delete(rec)
    session.flush()
    for sid, role in ((chief_staff_id, ProctorRole.CHIEF), (deputy_staff_id, ProctorRole.DEPUTY)):
        session.add(ProctorAssignmentRecord(room_id=room.id, staff_id=sid, role=role.value, assigned_by=actor))
    session.flush()
    ledger.append(session, actor=actor, action="proctors.assign", object_type="exam_session", object_id=session_code,
                  details={"room": room_code, "chief": chief_staff_id, "deputy": deputy_staff_id})


def form_examiner_group(
    session: Session, *, session_code: str, name: str, leader_staff_id: int, member_staff_ids: Sequence[int],
    actor: str, room_code: str | None = None,
) -> int:
    """An examiner group (考评小组) for the session, or one room of it. Returns its id.

    附件2 第9条: at least 3 with a designated leader; 第10条: the leader has 3+ years of examining;
    第5条 and 第16–18条: every member holds an examiner card valid on the session's day for the
    level (and occupation) — not expired, not revoked, annual training done; 第8条(七): nobody
    related to a candidate of the session (or room).
    """
    srec = _session(session, session_code)
    room = _room(session, srec, room_code) if room_code else None
    ids = list(dict.fromkeys([leader_staff_id, *member_staff_ids]))
    if len(ids) < MIN_EXAMINER_GROUP:
        raise StaffingError(Message(
            "Examiner group {name} has {n} member(s); 附件2 第9条 needs at least {minimum}, the leader included.",
            name=name, n=len(ids), minimum=MIN_EXAMINER_GROUP))
    day = local_day(srec.starts_at)
    bank = session.get(BankRecord, srec.bank_id)
    assert bank is not None
    problems: list[Text] = []
    for sid in ids:
        try:
            require_valid_card(session, staff_id=sid, kind=CardKind.EXAMINER, on=day, level=srec.level,
                               occupation_id=bank.occupation_id)
        except ConflictError as e:
            problems.append(e.head_text if not e.errors or e.errors == [e.head_text]
                            else Message("{reason} ({details})", reason=e.head_text, details=e.errors))
    years = examining_experience_years(session, staff_id=leader_staff_id, on=day)
    if years + 1e-9 < LEADER_MIN_YEARS:
        leader = session.get(StaffMemberRecord, leader_staff_id)
        problems.append(Message("the leader {leader} has {years:.1f} years of examining; 附件2 第10条 needs {minimum:g}",
                                leader=leader.name if leader else leader_staff_id, years=years,
                                minimum=LEADER_MIN_YEARS))
    if problems:
        raise StaffingError(Message("Examiner group {name} of exam session {session} was not formed.", name=name,
                                    session=session_code), errors=problems)
    _refuse_conflicts(session, staff_ids=ids,
                      candidate_ids=_seated_candidate_ids(session, srec.id, room.id if room else None),
                      what=Message("examiner group {name}", name=name))
    if session.scalar(select(ExaminerGroupRecord.id).where(ExaminerGroupRecord.session_id == srec.id,
                                                           ExaminerGroupRecord.name == name)) is not None:
        raise ConflictError(Message("Exam session {session} already has an examiner group {name}.", session=session_code,
                                    name=name), field="name", code="group_exists")
    grp = ExaminerGroupRecord(session_id=srec.id, room_id=room.id if room else None, name=name, created_by=actor)
    session.add(grp)
    session.flush()
    for sid in ids:
        session.add(ExaminerGroupMemberRecord(group_id=grp.id, staff_id=sid, is_leader=sid == leader_staff_id))
    session.flush()
    ledger.append(session, actor=actor, action="examiners.group", object_type="exam_session", object_id=session_code,
                  details={"group": name, "leader": leader_staff_id, "members": ids, "room": room_code})
    return grp.id


def examiner_groups_of(session: Session, *, session_id: int, staff_id: int) -> list[tuple[int, int | None, bool]]:
    """(group id, room id, is leader) of the staff member's groups in the session."""
    rows = session.execute(
        select(ExaminerGroupRecord.id, ExaminerGroupRecord.room_id, ExaminerGroupMemberRecord.is_leader)
        .join(ExaminerGroupMemberRecord, ExaminerGroupMemberRecord.group_id == ExaminerGroupRecord.id)
        .where(ExaminerGroupRecord.session_id == session_id, ExaminerGroupMemberRecord.staff_id == staff_id)).all()
    return [(g, r, bool(lead)) for g, r, lead in rows]


def check_staffing(session: Session, *, session_code: str) -> list[Message]:
    """Everything missing before the session can run, in words (empty: ready)."""
    srec = _session(session, session_code)
    problems: list[Message] = []
    rooms = session.scalars(select(ExamRoomRecord).where(ExamRoomRecord.session_id == srec.id)
                            .order_by(ExamRoomRecord.code)).all()
    if not rooms:
        problems.append(Message("no rooms"))
    for room in rooms:
        roles = set(session.scalars(select(ProctorAssignmentRecord.role).where(ProctorAssignmentRecord.room_id == room.id)))
        for role in (ProctorRole.CHIEF, ProctorRole.DEPUTY):
            if role.value not in roles:
                problems.append(Message("room {room}: no {role} (附件7 第1条)", room=room.code, role=role))
    if srec.part in (Part.PRACTICAL.value, Part.DEFENCE.value):
        n_groups = session.scalar(select(func.count()).select_from(ExaminerGroupRecord)
                                  .where(ExaminerGroupRecord.session_id == srec.id))
        if not n_groups:
            problems.append(Message("no examiner group (at least {minimum} examiners, 附件2 第9条)",
                                    minimum=MIN_EXAMINER_GROUP))
    unseated = session.scalar(
        select(func.count()).select_from(AdmissionTicketRecord)
        .join(ApplicationRecord, ApplicationRecord.id == AdmissionTicketRecord.application_id)
        .where(AdmissionTicketRecord.plan_id == srec.plan_id, ApplicationRecord.status == ApplicationStatus.ACCEPTED.value)
        .where(~AdmissionTicketRecord.id.in_(select(SeatAssignmentRecord.ticket_id).where(
            SeatAssignmentRecord.session_id == srec.id))))
    if unseated:
        problems.append(Message("{n} ticket holder(s) have no seat", n=unseated))
    return problems


# --------------------------------------------------------------------------------------
# Tickets as domain objects


def admission_tickets(session: Session, *, plan_code: str, settings: LifecycleSettings,
                      numbers: Sequence[str] | None = None) -> list[AdmissionTicket]:
    """The plan's admission tickets with every sitting (time, place, room, seat)."""
    plan = _plan(session, plan_code)
    bank = session.get(BankRecord, plan.bank_id)
    assert bank is not None
    occ = occupation_from_record(session.get(OccupationRecord, bank.occupation_id))  # type: ignore[arg-type]
    q = (select(AdmissionTicketRecord, CandidateRecord)
         .join(ApplicationRecord, ApplicationRecord.id == AdmissionTicketRecord.application_id)
         .join(CandidateRecord, CandidateRecord.id == ApplicationRecord.candidate_id)
         .where(AdmissionTicketRecord.plan_id == plan.id).order_by(AdmissionTicketRecord.number))
    if numbers is not None:
        q = q.where(AdmissionTicketRecord.number.in_(list(numbers)))
    out = []
    for ticket, cand in session.execute(q).all():
        sittings = session.execute(
            select(ExamSessionRecord, ExamRoomRecord, SeatAssignmentRecord.seat_no)
            .join(SeatAssignmentRecord, SeatAssignmentRecord.session_id == ExamSessionRecord.id)
            .join(ExamRoomRecord, ExamRoomRecord.id == SeatAssignmentRecord.room_id)
            .where(SeatAssignmentRecord.ticket_id == ticket.id).order_by(ExamSessionRecord.starts_at)).all()
        out.append(AdmissionTicket(
            number=ticket.number, name=cand.name, id_type=IdType(cand.id_type), id_number=cand.id_number,
            occupation=occ, level=Level(bank.level), institution=settings.institution, plan_code=plan.code,
            sittings=tuple(TicketSitting(s.code, Part(s.part), aware(s.starts_at), aware(s.ends_at), s.place,
                                         f"{r.code} {r.location}".strip(), seat) for s, r, seat in sittings),
            notes=TICKET_NOTES,
        ))
    return out
