"""Sessions, rooms, seating, proctors (附件7), examiner groups (附件2 第9–10条), cards and
annual training (附件2 第16–18条, 附件10 第13条), recusal (附件2 第8条(七))."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from itembank.domain import Part
from lifecycle.domain import CardKind, RelationKind
from lifecycle.errors import (
    CapacityError,
    CardNotValidError,
    ConflictOfInterestError,
    StaffingError,
    ValidationError,
)
from lifecycle.eligibility import Declaration
from lifecycle.registration import register_candidate, submit_application
from lifecycle.sessions import (
    add_room,
    assign_proctors,
    assign_seats,
    check_staffing,
    create_exam_plan,
    create_exam_session,
    form_examiner_group,
    get_exam_session,
    issue_admission_tickets,
)
from lifecycle.staff import (
    declare_relation,
    issue_examiner_card,
    issue_supervisor_card,
    lapsed_cards,
    record_training,
    register_staff,
    require_valid_card,
    revoke_card,
)

from .conftest import EXAM_DAY, OCC, at, make_id


def _plan_with(session: Session, n: int, code: str = "P1") -> str:
    plan = create_exam_plan(session, code=code, occupation_code=OCC, level=5, actor="o")
    for i in range(n):
        c = register_candidate(session, name=f"考生{i}", id_type="mainland_id", id_number=make_id(700 + i), actor="c")
        submit_application(session, candidate_id=c.id, occupation_code=OCC, level=5, plan_code=plan.code,
                           declaration=Declaration(years_of_work=2), actor="c")
    issue_admission_tickets(session, plan_code=plan.code, actor="o")
    return plan.code


def test_sessions_have_time_windows_places_and_rooms(session: Session, occupation) -> None:  # type: ignore[no-untyped-def]
    plan = _plan_with(session, 0)
    with pytest.raises(ValidationError) as e:
        create_exam_session(session, plan_code=plan, code="S", part=Part.DEFENCE, starts_at=at(EXAM_DAY, 10),
                            ends_at=at(EXAM_DAY, 9), place="", actor="o")
    for words in ("结束时间：结束时间须晚于开始时间", "考试地点：考试地点为空", "考核部分：五级/初级工没有论文答辩"):
        assert words in str(e.value)
    s = create_exam_session(session, plan_code=plan, code="S", part="theory", starts_at=at(EXAM_DAY, 9),
                            ends_at=at(EXAM_DAY, 10, 30), place="A座", actor="o")
    add_room(session, session_code="S", code="T01", capacity=30, actor="o")
    add_room(session, session_code="S", code="T02", capacity=25, actor="o")
    got = get_exam_session(session, code="S")
    assert got.capacity == 55 and got.occupation.code == OCC and got.part is Part.THEORY
    assert got.starts_at == at(EXAM_DAY, 9) and got.plan_code == plan and s.id == got.id
    with pytest.raises(ValidationError):
        add_room(session, session_code="S", code="T03", capacity=0, actor="o")


def test_seating_is_all_or_nothing_when_rooms_are_too_small(session: Session, occupation) -> None:  # type: ignore[no-untyped-def]
    plan = _plan_with(session, 5)
    create_exam_session(session, plan_code=plan, code="S", part="theory", starts_at=at(EXAM_DAY, 9),
                        ends_at=at(EXAM_DAY, 10), place="A", actor="o")
    add_room(session, session_code="S", code="T01", capacity=2, actor="o")
    add_room(session, session_code="S", code="T02", capacity=2, actor="o")
    with pytest.raises(CapacityError, match="需安排 5 名考生，2 个考场仅剩 4 个空座，还需增加 1 个座位"):
        assign_seats(session, session_code="S", actor="o")
    assert "有 5 名持准考证的考生没有安排座位" in [str(p) for p in check_staffing(session, session_code="S")]
    add_room(session, session_code="S", code="T03", capacity=2, actor="o")
    assert assign_seats(session, session_code="S", actor="o") == 5
    assert assign_seats(session, session_code="S", actor="o") == 0


def test_two_proctors_a_chief_and_a_deputy(session: Session, occupation) -> None:  # type: ignore[no-untyped-def]
    plan = _plan_with(session, 2)
    for code, hour in (("S1", 9), ("S2", 10)):
        create_exam_session(session, plan_code=plan, code=code, part="theory", starts_at=at(EXAM_DAY, hour),
                            ends_at=at(EXAM_DAY, hour + 1, 30), place="A", actor="o")
        add_room(session, session_code=code, code="T01", capacity=10, actor="o")
    a, b, c = (register_staff(session, name=n, actor="o").id for n in ("甲监考", "乙监考", "丙监考"))
    assert [str(p) for p in check_staffing(session, session_code="S1")][:2] == [
        "考场 T01：没有主监考员（附件7 第1条）", "考场 T01：没有副监考员（附件7 第1条）"]
    with pytest.raises(StaffingError, match="须为两个不同的人"):
        assign_proctors(session, session_code="S1", room_code="T01", chief_staff_id=a, deputy_staff_id=a, actor="o")
    assign_proctors(session, session_code="S1", room_code="T01", chief_staff_id=a, deputy_staff_id=b, actor="o")
    with pytest.raises(StaffingError, match="乙监考 同一时间已在 S1 考场 T01 监考"):
        assign_proctors(session, session_code="S2", room_code="T01", chief_staff_id=c, deputy_staff_id=b, actor="o")
    # a relation with a seated candidate refuses the proctor; seating a related candidate is refused too
    assign_seats(session, session_code="S1", actor="o")
    from sqlalchemy import select

    from itembank.orm_lifecycle import CandidateRecord

    cand = session.scalar(select(CandidateRecord.id).where(CandidateRecord.name == "考生0"))
    declare_relation(session, staff_id=c, candidate_id=cand, kind=RelationKind.RELATIVE, actor="o")
    with pytest.raises(ConflictOfInterestError, match="丙监考 与 考生0（亲属）"):
        assign_proctors(session, session_code="S1", room_code="T01", chief_staff_id=c, deputy_staff_id=b, actor="o")
    d = register_staff(session, name="丁监考", actor="o").id
    assign_proctors(session, session_code="S2", room_code="T01", chief_staff_id=c, deputy_staff_id=d, actor="o")
    with pytest.raises(ConflictOfInterestError, match="考试场次 S2 的座位编排"):
        assign_seats(session, session_code="S2", actor="o")  # 考生0 may not sit before 丙监考


def _examiner(session: Session, settings, name: str, *, grade: int = 1, issued: date = date(2026, 1, 1)) -> int:  # type: ignore[no-untyped-def]
    sid = register_staff(session, name=name, actor="o").id
    issue_examiner_card(session, staff_id=sid, grade=grade, issued_on=issued, actor="o", settings=settings)
    return sid


def test_examiner_groups_need_three_valid_cards_and_an_experienced_leader(session: Session, occupation,  # type: ignore[no-untyped-def]
                                                                         settings) -> None:
    plan = _plan_with(session, 1)
    create_exam_session(session, plan_code=plan, code="P", part="practical", starts_at=at(EXAM_DAY, 14),
                        ends_at=at(EXAM_DAY, 16), place="实训中心", actor="o")
    add_room(session, session_code="P", code="P01", capacity=10, actor="o")
    old = _examiner(session, settings, "老考评", issued=date(2020, 6, 1))  # card expired in 2023
    a, b = _examiner(session, settings, "考评A"), _examiner(session, settings, "考评B")
    with pytest.raises(StaffingError, match="只有 2 人；附件2 第9条要求至少 3 人"):
        form_examiner_group(session, session_code="P", name="一组", leader_staff_id=a, member_staff_ids=[b], actor="o")
    with pytest.raises(StaffingError) as e:
        form_examiner_group(session, session_code="P", name="一组", leader_staff_id=a, member_staff_ids=[b, old],
                            actor="o")
    assert "已于 2023年5月31日 过期" in str(e.value) and "组长 考评A 的考评工作经历为 0.9 年" in str(e.value)
    issue_examiner_card(session, staff_id=old, grade=1, issued_on=date(2024, 6, 1), actor="o", settings=settings)
    with pytest.raises(StaffingError, match="证卡 320500000000110004：2025 年度未参加或未通过年度培训"):
        form_examiner_group(session, session_code="P", name="一组", leader_staff_id=old, member_staff_ids=[a, b],
                            actor="o")
    for year in (2025,):
        record_training(session, staff_id=old, kind=CardKind.EXAMINER, year=year, completed_on=date(year, 11, 1),
                        passed=True, actor="o")
    gid = form_examiner_group(session, session_code="P", name="一组", leader_staff_id=old, member_staff_ids=[a, b],
                              actor="o")
    assert gid > 0
    assert [p for p in check_staffing(session, session_code="P") if "考评小组" in str(p)] == []


def test_cards_numbers_grades_lapses_and_revocation(session: Session, occupation, settings) -> None:  # type: ignore[no-untyped-def]
    sid = register_staff(session, name="考评员甲", actor="o").id
    c1 = issue_examiner_card(session, staff_id=sid, grade=1, issued_on=date(2026, 3, 1), actor="o", settings=settings)
    c2 = issue_examiner_card(session, staff_id=register_staff(session, name="乙", actor="o").id, grade=1,
                             issued_on=date(2026, 3, 1), actor="o", settings=settings)
    assert c1.number == "3205000000001" + "1" + "0001" and c2.number.endswith("10002")
    assert c1.valid_until == date(2029, 2, 28)
    sup = issue_supervisor_card(session, staff_id=sid, issued_on=date(2026, 3, 1), actor="o", settings=settings)
    assert sup.number == "3205000000001" + "00001" and len(sup.number) == 18
    # 附件2 第5条: a 考评员 card does not cover level 2
    with pytest.raises(CardNotValidError, match="须由高级考评员考评"):
        require_valid_card(session, staff_id=sid, kind=CardKind.EXAMINER, on=date(2026, 6, 1), level=2)
    assert require_valid_card(session, staff_id=sid, kind=CardKind.EXAMINER, on=date(2026, 6, 1), level=4).id == c1.id
    lapsed = {c.number: r for c, r in lapsed_cards(session, on=date(2027, 1, 5))}
    assert lapsed == {}
    lapsed = {c.number: r for c, r in lapsed_cards(session, on=date(2028, 1, 5))}
    assert set(lapsed) == {c1.number, c2.number, sup.number} and "2027" in str(lapsed[c1.number][0])
    record_training(session, staff_id=sid, kind="examiner", year=2027, completed_on=date(2027, 9, 1), passed=True,
                    actor="o")
    assert c1.number not in {c.number for c, _ in lapsed_cards(session, on=date(2028, 1, 5))}
    revoke_card(session, number=c1.number, reason="连续3次不参加考评工作（附件2 第22条）", actor="o")
    with pytest.raises(CardNotValidError, match="已注销"):
        require_valid_card(session, staff_id=sid, kind=CardKind.EXAMINER, on=date(2026, 6, 1))
    with pytest.raises(ValidationError, match="不在该年度内"):
        record_training(session, staff_id=sid, kind="examiner", year=2027, completed_on=date(2028, 1, 1),
                        passed=True, actor="o")
