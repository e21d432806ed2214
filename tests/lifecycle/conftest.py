"""Fixtures of the lifecycle service tests: an occupation with banks, settings, people."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session

from itembank.domain import Level, OccupationCategory
from itembank.occupations import create_bank, create_occupation
from lifecycle.config import LifecycleSettings
from lifecycle.idnumbers import mainland_check_digit

OCC = "6-31-01-03"
CST = timezone(timedelta(hours=8))


def make_id(n: int, birth: date = date(1990, 5, 17)) -> str:
    first17 = f"320102{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + mainland_check_digit(first17)


@pytest.fixture()
def settings() -> LifecycleSettings:
    return LifecycleSettings(qr_secret=SecretStr("test-secret"), institution="苏州信息职业技术学院",
                             organisation_code="0321", province_code="32", site_serial="000007",
                             institution_code="3205000000001", _env_file=None)


@pytest.fixture()
def occupation(session: Session):  # type: ignore[no-untyped-def]
    occ = create_occupation(session, code=OCC, name="电工", category=OccupationCategory.TECHNICAL_SKILL)
    for lvl in (Level.L5, Level.L2):
        create_bank(session, occupation_code=OCC, level=lvl)
    return occ


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CST)


# --------------------------------------------------------------------------------------
# A small examined plan: 3 candidates seated in a theory and a practical session, proctors,
# an examiner group, a 4-item theory paper and a practical task (no demo build: fast).

from dataclasses import dataclass, field  # noqa: E402

from itembank.domain import ItemContent, ItemType, Option, Part, RubricPoint, VersionState  # noqa: E402
from itembank.elements import save_element_table  # noqa: E402
from itembank.items import add_item  # noqa: E402
from lifecycle.eligibility import Declaration  # noqa: E402
from lifecycle.registration import register_candidate, submit_application  # noqa: E402
from lifecycle.sessions import (  # noqa: E402
    add_room,
    assign_proctors,
    assign_seats,
    create_exam_plan,
    create_exam_session,
    form_examiner_group,
    issue_admission_tickets,
)
from lifecycle.staff import issue_examiner_card, register_staff  # noqa: E402

EXAM_DAY = date(2026, 12, 5)


@dataclass
class Scenario:
    plan_code: str
    theory: str
    practical: str
    apps: dict[str, int]
    candidates: dict[str, int]
    theory_items: list  # (version id, key, item type, points)
    task_version: int
    task_rubric: list[float]
    examiners: list[int]
    proctors: list[int]
    bank: object = None
    extra: dict = field(default_factory=dict)


@pytest.fixture()
def scenario(session: Session, occupation, settings) -> Scenario:  # type: ignore[no-untyped-def]
    from itembank.occupations import get_bank
    from tests.itembank.conftest import PRACTICAL_TABLE, SMALL_TABLE

    bank = get_bank(session, occupation_code=OCC, level=5)
    save_element_table(session, bank=bank, part=Part.THEORY, nodes=SMALL_TABLE, actor="t")
    save_element_table(session, bank=bank, part=Part.PRACTICAL, nodes=PRACTICAL_TABLE, actor="t")
    opts = (Option("A", "36V"), Option("B", "24V"), Option("C", "12V"), Option("D", "110V"))
    contents = [
        ItemContent(ItemType.SINGLE_CHOICE, "安全电压的额定值不包括（　）。", 25.0, ("A-01",), opts, ("D",)),
        ItemContent(ItemType.MULTIPLE_CHOICE, "属于安全电压等级的有（　）。", 25.0, ("A-02",), opts, ("A", "B", "C")),
        ItemContent(ItemType.TRUE_FALSE, "36V是安全电压的一个等级。", 25.0, ("B-01",), (), ("T",)),
        ItemContent(ItemType.SHORT_ANSWER, "简述触电急救的步骤。", 25.0, ("B-02",),
                    rubric=(RubricPoint("脱离电源", 10.0), RubricPoint("现场急救", 15.0))),
    ]
    items = []
    for i, c in enumerate(contents, start=1):
        it = add_item(session, bank=bank, code=f"T{i}", content=c, actor="t", state=VersionState.ACCEPTED)
        items.append((it.version_id, list(c.key), c.item_type, c.points))
    task = add_item(session, bank=bank, code="P1", actor="t", state=VersionState.ACCEPTED, content=ItemContent(
        ItemType.PRACTICAL_TASK, "安装双控照明电路并通电试验。", 100.0, ("P-01",),
        rubric=(RubricPoint("接线正确", 50.0), RubricPoint("通电成功", 30.0), RubricPoint("安全文明", 20.0)),
        time_limit_min=60.0))
    plan = create_exam_plan(session, code="2026-DG5-T", occupation_code=OCC, level=5, actor="office")
    apps, cands = {}, {}
    for i, name in enumerate(("甲", "乙", "丙")):
        c = register_candidate(session, name=name, id_type="mainland_id", id_number=make_id(500 + i), actor="clerk")
        a = submit_application(session, candidate_id=c.id, occupation_code=OCC, level=5, plan_code=plan.code,
                               declaration=Declaration(years_of_work=3), actor="clerk", applied_on=date(2026, 11, 1))
        apps[name], cands[name] = a.id, c.id
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
    examiners = [register_staff(session, name=n, actor="office").id for n in ("王组长", "李考评", "张考评")]
    issue_examiner_card(session, staff_id=examiners[0], grade=2, issued_on=date(2023, 1, 1), actor="o",
                        settings=settings)
    for sid in examiners:
        issue_examiner_card(session, staff_id=sid, grade=2, issued_on=date(2026, 1, 1), actor="o", settings=settings)
    for code in (theory.code, practical.code):
        form_examiner_group(session, session_code=code, name="一组", leader_staff_id=examiners[0],
                            member_staff_ids=examiners[1:], actor="office")
    return Scenario(plan.code, theory.code, practical.code, apps, cands, items, task.version_id,  # type: ignore[arg-type]
                    [50.0, 30.0, 20.0], examiners, proctors, bank)


def score_everyone(session: Session, sc: Scenario, settings, theory_answers: dict, practical: dict) -> None:  # type: ignore[no-untyped-def]
    """Record and score both parts: ``theory_answers[name]`` the 4 responses (the short
    answer scored by one examiner with the given total split), ``practical[name]`` the
    rubric scores all three examiners give."""
    from lifecycle.scoring import compute_part_result, enter_examiner_score, record_responses

    vids = [v for v, *_ in sc.theory_items]
    for name, (answers, short_scores) in theory_answers.items():
        record_responses(session, application_id=sc.apps[name], session_code=sc.theory, paper_code="PT-A",
                         version_ids=vids, responses=answers, actor="m", settings=settings)
        enter_examiner_score(session, application_id=sc.apps[name], session_code=sc.theory, version_id=vids[3],
                             staff_id=sc.examiners[1], rubric_scores=short_scores, actor="m", settings=settings)
        compute_part_result(session, application_id=sc.apps[name], session_code=sc.theory, actor="m",
                            settings=settings)
    for name, scores in practical.items():
        record_responses(session, application_id=sc.apps[name], session_code=sc.practical, paper_code="PP-A",
                         version_ids=[sc.task_version], responses=[None], actor="m", settings=settings)
        for sid in sc.examiners:
            enter_examiner_score(session, application_id=sc.apps[name], session_code=sc.practical,
                                 version_id=sc.task_version, staff_id=sid, rubric_scores=scores, actor="e",
                                 settings=settings)
        compute_part_result(session, application_id=sc.apps[name], session_code=sc.practical, actor="m",
                            settings=settings)


ALL_RIGHT = (["D"], ["A", "B", "C"], ["T"], None)
