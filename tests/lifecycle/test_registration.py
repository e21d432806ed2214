"""Registration (附件1 第6–8条): candidates, applications, eligibility as data, .xlsx import."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank.domain import Level, OccupationCategory
from itembank.ledger import query_ledger
from itembank.occupations import create_occupation
from itembank.orm_lifecycle import ApplicationRecord, CandidateRecord
from lifecycle.domain import ApplicationStatus
from lifecycle.eligibility import Declaration, Education, EligibilityRule, PriorCertificate
from lifecycle.errors import ConflictError, ValidationError
from lifecycle.registration import (
    IMPORT_COLUMNS,
    assign_to_plan,
    eligibility_rules,
    find_candidate,
    import_applications_xlsx,
    list_applications,
    register_candidate,
    registration_template_xlsx,
    set_eligibility_rules,
    submit_application,
    withdraw_application,
)
from lifecycle.sessions import create_exam_plan

from .conftest import OCC, make_id

TODAY = date(2026, 11, 28)


def test_candidate_registration_validates_the_id_number(session: Session) -> None:
    c = register_candidate(session, name="李四", id_type="居民身份证", id_number=make_id(1), actor="clerk", today=TODAY)
    assert c.birth_date == date(1990, 5, 17) and c.id_type.value == "mainland_id"
    bad = make_id(1)[:-1] + ("0" if make_id(1)[-1] != "0" else "1")
    with pytest.raises(ValidationError, match="校验码为"):
        register_candidate(session, name="李四", id_type="mainland_id", id_number=bad, actor="clerk")
    again = register_candidate(session, name="李四", id_type="mainland_id", id_number=make_id(1).lower(),
                               phone="139", actor="clerk")
    assert again.id == c.id and again.phone == "139"
    with pytest.raises(ConflictError, match="登记的姓名是 李四"):
        register_candidate(session, name="王五", id_type="mainland_id", id_number=make_id(1), actor="clerk")
    p = register_candidate(session, name="John Smith", id_type="passport", id_number="E12345678", actor="clerk")
    assert find_candidate(session, id_type="passport", id_number="e12345678") == p


def test_eligible_and_refused_applications_are_recorded_with_reasons(session: Session, occupation) -> None:  # type: ignore[no-untyped-def]
    c = register_candidate(session, name="李四", id_type="mainland_id", id_number=make_id(2), actor="clerk")
    ok = submit_application(session, candidate_id=c.id, occupation_code=OCC, level=5,
                            declaration=Declaration(years_of_work=1.5), actor="clerk", applied_on=TODAY,
                            documents=[{"kind": "id_card"}, {"kind": "work_years_pledge"}])
    assert ok.status is ApplicationStatus.ACCEPTED and ok.matched_rule.startswith("(1)")
    refused = submit_application(session, candidate_id=c.id, occupation_code=OCC, level=2,
                                 declaration=Declaration(years_of_work=3), actor="clerk", applied_on=TODAY)
    assert refused.status is ApplicationStatus.REFUSED
    assert "须持有本职业或相关职业三级/高级工及以上证书" in str(refused.refusal_reasons[0])
    assert query_ledger(session, object_type="application", object_id=refused.id)[0].action == "application.refused"
    with pytest.raises(ConflictError, match="已有 6-31-01-03 五级/初级工的已受理报名"):
        submit_application(session, candidate_id=c.id, occupation_code=OCC, level=5,
                           declaration=Declaration(years_of_work=1.5), actor="clerk")
    with pytest.raises(ValidationError, match="不是材料类型"):
        submit_application(session, candidate_id=c.id, occupation_code=OCC, level=5, declaration=Declaration(),
                           documents=[{"kind": "photo"}], actor="clerk")
    w = withdraw_application(session, application_id=ok.id, reason="本人申请", actor="clerk")
    assert w.status is ApplicationStatus.WITHDRAWN


def test_unfiled_occupations_are_refused(session: Session) -> None:
    create_occupation(session, code="6-31-01-10", name="智能楼宇管理员", category=OccupationCategory.COMPOSITE_SKILL,
                      filed=False)
    c = register_candidate(session, name="赵六", id_type="mainland_id", id_number=make_id(3), actor="clerk")
    app = submit_application(session, candidate_id=c.id, occupation_code="6-31-01-10", level=5,
                             declaration=Declaration(years_of_work=5), actor="clerk")
    assert app.status is ApplicationStatus.REFUSED and "附件3 第9条" in str(app.refusal_reasons[0])


def test_rules_are_data_per_level_and_occupation(session: Session, occupation) -> None:  # type: ignore[no-untyped-def]
    assert len(eligibility_rules(session, level=5)) == 2  # the defaults
    stricter = [EligibilityRule(Level.L5, 1, "累计从事本职业工作2年以上", min_years_of_work=2)]
    set_eligibility_rules(session, level=5, rules=stricter, occupation_code=OCC, actor="admin")
    assert eligibility_rules(session, level=5, occupation_code=OCC) == tuple(stricter)
    assert len(eligibility_rules(session, level=5)) == 2  # other occupations keep the defaults
    c = register_candidate(session, name="钱七", id_type="mainland_id", id_number=make_id(4), actor="clerk")
    app = submit_application(session, candidate_id=c.id, occupation_code=OCC, level=5,
                             declaration=Declaration(years_of_work=1.5, training_completed=True), actor="clerk")
    assert app.status is ApplicationStatus.REFUSED and "须累计从事本职业工作 2 年" in str(app.refusal_reasons[0])
    with pytest.raises(ValidationError, match="没有设定任何条件"):
        set_eligibility_rules(session, level=5, rules=[EligibilityRule(Level.L5, 1, "任何人")], actor="admin")
    set_eligibility_rules(session, level=5, rules=[], occupation_code=OCC, actor="admin")
    assert len(eligibility_rules(session, level=5, occupation_code=OCC)) == 2


def _sheet(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append([h for _, h, _ in IMPORT_COLUMNS])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _row(name: str, idn: str, level: object = 5, years: object = 2, **kw: object) -> list[object]:
    base = {"name": name, "id_type": "居民身份证", "id_number": idn, "phone": "", "employer": "",
            "occupation_code": OCC, "work_type": "", "level": level, "years_of_work": years, "prior_level": "",
            "prior_occupation_code": "", "prior_number": "", "prior_issued_on": "", "prior_related": "",
            "years_since_prior": "", "training_completed": "", "education": "", "education_related": ""}
    base.update(kw)
    return [base[f] for f, _, _ in IMPORT_COLUMNS]


def test_import_is_all_or_nothing_and_lists_every_problem(session: Session, occupation) -> None:  # type: ignore[no-untyped-def]
    bad_id = make_id(7)[:-1] + ("0" if make_id(7)[-1] != "0" else "1")
    data = _sheet([
        _row("甲", make_id(5)),
        _row("乙", bad_id),
        _row("丙", make_id(8), level=7),
        _row("丁", make_id(9), years="三年"),
        _row("戊", make_id(5)),  # same document as row 2 under another name
        _row("己", make_id(10), occupation_code="9-99-99-99"),
    ])
    with pytest.raises(ValidationError) as e:
        import_applications_xlsx(session, data=data, actor="clerk", applied_on=TODAY)
    text = str(e.value)
    for words in ("第 3 行“证件号码”列：", "第 4 行“申报等级”列：无法识别的等级“7”",
                  "第 5 行“累计工作年限”列：“三年”不是数字", "第 6 行“证件号码”列：", "在第 2 行登记的姓名为 甲",
                  "第 7 行“职业代码”列：未登记职业 9-99-99-99"):
        assert words in text, words
    assert session.scalar(select(func.count()).select_from(CandidateRecord)) == 0
    assert session.scalar(select(func.count()).select_from(ApplicationRecord)) == 0


def test_import_registers_and_decides_each_row(session: Session, occupation) -> None:  # type: ignore[no-untyped-def]
    data = _sheet([
        _row("甲", make_id(11), years=2, phone="138"),
        _row("乙", make_id(12), years=0, training_completed="是"),
        _row("丙", make_id(13), years=0.5),
        _row("丁", make_id(14), level="二级", years=10, prior_level=3, years_since_prior=5, education="大专"),
    ])
    report = import_applications_xlsx(session, data=data, actor="clerk", applied_on=TODAY)
    assert report.n_rows == 4
    assert [a.candidate.name for a in report.accepted] == ["甲", "乙", "丁"]
    assert [a.candidate.name for a in report.refused] == ["丙"]
    d = report.accepted[2]
    assert d.level is Level.L2 and d.declaration.prior_certificate.level is Level.L3  # type: ignore[union-attr]
    assert report.accepted[0].candidate.phone == "138"


def test_import_rejects_rows_for_another_level_than_the_plan(session: Session, occupation) -> None:  # type: ignore[no-untyped-def]
    plan = create_exam_plan(session, code="2026-DG5-02", occupation_code=OCC, level=5, actor="office")
    data = _sheet([_row("甲", make_id(21)), _row("乙", make_id(22), level=2, years=10)])
    with pytest.raises(ValidationError, match="第 3 行：考试计划 2026-DG5-02 属于其他职业或等级"):
        import_applications_xlsx(session, data=data, actor="clerk", plan_code=plan.code)
    good = _sheet([_row("甲", make_id(21), years=2), _row("乙", make_id(22), years=0), _row("丙", make_id(23), years=0,
                                                                                          training_completed="是")])
    report = import_applications_xlsx(session, data=good, actor="clerk", plan_code=plan.code, applied_on=TODAY)
    assert [a.candidate.name for a in report.accepted] == ["甲", "丙"]
    assert [a.candidate.name for a in report.refused] == ["乙"]
    reason = str(report.refused[0].refusal_reasons[0])
    assert "不予受理" not in reason and "须累计从事本职业工作 1 年" in reason
    assert [a.candidate.name for a in list_applications(session, plan_code=plan.code,
                                                        status=ApplicationStatus.ACCEPTED)] == ["甲", "丙"]


def test_template_has_every_column_and_a_valid_example(session: Session, occupation) -> None:  # type: ignore[no-untyped-def]
    data = registration_template_xlsx()
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == [h for _, h, _ in IMPORT_COLUMNS]
    report = import_applications_xlsx(session, data=data, actor="clerk", applied_on=TODAY)
    assert len(report.accepted) == 1
    with pytest.raises(ValidationError, match="文件不是可读取的 .xlsx 工作簿"):
        import_applications_xlsx(session, data=b"not a workbook", actor="clerk")


def test_assign_to_plan_checks_the_plan(session: Session, occupation) -> None:  # type: ignore[no-untyped-def]
    c = register_candidate(session, name="孙八", id_type="mainland_id", id_number=make_id(30), actor="clerk")
    l2 = submit_application(session, candidate_id=c.id, occupation_code=OCC, level=2, actor="clerk",
                            declaration=Declaration(years_of_work=9, prior_certificate=PriorCertificate(Level.L3, OCC),
                                                    years_since_prior=4.5, education=Education.SENIOR_SECONDARY))
    assert l2.status is ApplicationStatus.ACCEPTED
    create_exam_plan(session, code="P5", occupation_code=OCC, level=5, actor="office")
    with pytest.raises(ValidationError, match="属于其他职业或等级"):
        assign_to_plan(session, application_id=l2.id, plan_code="P5", actor="office")
    create_exam_plan(session, code="P2", occupation_code=OCC, level=2, actor="office")
    assert assign_to_plan(session, application_id=l2.id, plan_code="P2", actor="office").plan_code == "P2"
