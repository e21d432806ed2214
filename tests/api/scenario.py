"""A small examined plan built through the services (fast), for API tests of scoring, results,
certificates and need-to-know: 3 candidates seated in a theory and a practical session, two
proctors, an examiner group of three (and a second group in another session), a 4-item theory
paper and one practical task."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy.orm import Session

from itembank.domain import ItemContent, ItemType, Option, Part, RubricPoint, VersionState
from itembank.items import add_item
from itembank.occupations import get_bank_by_id
from lifecycle.eligibility import Declaration
from lifecycle.idnumbers import mainland_check_digit
from lifecycle.registration import register_candidate, submit_application
from lifecycle.sessions import (
    add_room,
    assign_proctors,
    assign_seats,
    create_exam_plan,
    create_exam_session,
    form_examiner_group,
    issue_admission_tickets,
)
from lifecycle.staff import issue_examiner_card, register_staff

from .conftest import LIFECYCLE, OCC

CST = timezone(timedelta(hours=8))
EXAM_DAY = date(2026, 12, 5)


def make_id(n: int, birth: date = date(1990, 5, 17)) -> str:
    first17 = f"320102{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + mainland_check_digit(first17)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CST)


@dataclass
class Examined:
    plan_code: str
    theory: str
    practical: str
    apps: dict[str, int]
    theory_versions: list[int]
    task_version: int
    examiners: list[int]  # staff ids: leader first
    outsider: int  # an examiner of the other session only


def build(session: Session, bank_id: int) -> Examined:
    bank = get_bank_by_id(session, bank_id)
    opts = (Option("A", "36V"), Option("B", "24V"), Option("C", "12V"), Option("D", "110V"))
    contents = [
        ItemContent(ItemType.SINGLE_CHOICE, "安全电压的额定值不包括（　）。", 25.0, ("A-01",), opts, ("D",)),
        ItemContent(ItemType.MULTIPLE_CHOICE, "属于安全电压等级的有（　）。", 25.0, ("A-02",), opts, ("A", "B", "C")),
        ItemContent(ItemType.TRUE_FALSE, "36V是安全电压的一个等级。", 25.0, ("B-01",), (), ("T",)),
        ItemContent(ItemType.SHORT_ANSWER, "简述触电急救的步骤。", 25.0, ("B-02",),
                    rubric=(RubricPoint("脱离电源", 10.0), RubricPoint("现场急救", 15.0))),
    ]
    versions = [add_item(session, bank=bank, code=f"T{i}", content=c, actor="t", state=VersionState.ACCEPTED).version_id
                for i, c in enumerate(contents, start=1)]
    task = add_item(session, bank=bank, code="P1", actor="t", state=VersionState.ACCEPTED, content=ItemContent(
        ItemType.PRACTICAL_TASK, "安装双控照明电路并通电试验。", 100.0, ("P-01",),
        rubric=(RubricPoint("接线正确", 50.0), RubricPoint("通电成功", 30.0), RubricPoint("安全文明", 20.0)),
        time_limit_min=60.0))
    plan = create_exam_plan(session, code="2026-DG5-T", occupation_code=OCC, level=5, actor="office")
    apps = {}
    for i, name in enumerate(("甲", "乙", "丙")):
        c = register_candidate(session, name=name, id_type="mainland_id", id_number=make_id(500 + i), actor="clerk")
        apps[name] = submit_application(session, candidate_id=c.id, occupation_code=OCC, level=5, plan_code=plan.code,
                                        declaration=Declaration(years_of_work=3), actor="clerk",
                                        applied_on=date(2026, 11, 1)).id
    theory = create_exam_session(session, plan_code=plan.code, code="S-T", part=Part.THEORY,
                                 starts_at=at(EXAM_DAY, 9), ends_at=at(EXAM_DAY, 10, 30), place="A座", actor="office")
    practical = create_exam_session(session, plan_code=plan.code, code="S-P", part=Part.PRACTICAL,
                                    starts_at=at(EXAM_DAY, 14), ends_at=at(EXAM_DAY, 16), place="实训中心",
                                    actor="office")
    add_room(session, session_code=theory.code, code="T01", capacity=3, actor="office")
    add_room(session, session_code=practical.code, code="P01", capacity=3, actor="office")
    issue_admission_tickets(session, plan_code=plan.code, actor="office")
    assign_seats(session, session_code=theory.code, actor="office")
    assign_seats(session, session_code=practical.code, actor="office")
    proctors = [register_staff(session, name=f"监考{i}", actor="office").id for i in range(2)]
    for code, room in ((theory.code, "T01"), (practical.code, "P01")):
        assign_proctors(session, session_code=code, room_code=room, chief_staff_id=proctors[0],
                        deputy_staff_id=proctors[1], actor="office")
    examiners = [register_staff(session, name=n, actor="office").id for n in ("王组长", "李考评", "张考评", "赵考评")]
    issue_examiner_card(session, staff_id=examiners[0], grade=2, issued_on=date(2023, 1, 1), actor="o",
                        settings=LIFECYCLE)
    for sid in examiners:
        issue_examiner_card(session, staff_id=sid, grade=2, issued_on=date(2026, 1, 1), actor="o", settings=LIFECYCLE)
    form_examiner_group(session, session_code=practical.code, name="一组", leader_staff_id=examiners[0],
                        member_staff_ids=examiners[1:3], actor="office")
    form_examiner_group(session, session_code=theory.code, name="一组", leader_staff_id=examiners[0],
                        member_staff_ids=[examiners[1], examiners[3]], actor="office")
    session.commit()
    return Examined(plan.code, theory.code, practical.code, apps, versions, task.version_id,  # type: ignore[arg-type]
                    examiners[:3], examiners[3])


ALL_RIGHT = (["D"], ["A", "B", "C"], ["T"], None)
