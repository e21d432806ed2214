"""Eligibility rules as data (附件1 第6–7条: 申报条件; 不具备资格的人员不予受理)."""

from __future__ import annotations

from datetime import date

import pytest

from itembank.domain import Level
from lifecycle.eligibility import (
    DEFAULT_RULES,
    Declaration,
    Education,
    EligibilityRule,
    PriorCertificate,
    default_rules,
    evaluate_eligibility,
)

OCC = "6-31-01-03"
ON = date(2026, 11, 28)


def ev(level: int, decl: Declaration, rules=DEFAULT_RULES):  # type: ignore[no-untyped-def]
    return evaluate_eligibility(level, decl, rules, occupation_code=OCC, on=ON)


def test_every_level_has_default_alternatives() -> None:
    assert {int(r.level) for r in DEFAULT_RULES} == {1, 2, 3, 4, 5}
    assert [r.alternative for r in default_rules(4)] == [1, 2, 3]


def test_level5_by_one_year_of_work_or_by_training() -> None:
    assert ev(5, Declaration(years_of_work=1)).eligible
    r = ev(5, Declaration(training_completed=True))
    assert r.eligible and r.matched is not None and r.matched.alternative == 2
    refused = ev(5, Declaration(years_of_work=0.5))
    assert not refused.eligible
    assert len(refused.reasons) == 2
    assert str(refused.reasons[0]) == "（1）累计从事本职业或相关职业工作1年（含）以上：须累计从事本职业工作 1 年，申报 0.5 年"
    assert "须培训结业或学徒期满，未申报" in str(refused.reasons[1])
    assert str(refused.explanation()).startswith("不符合五级/初级工的申报条件（附件1 第7条：不具备资格的人员不予受理）：（1）")
    assert "不予受理" in str(refused.explanation())


def test_level4_prior_certificate_and_years_after_it() -> None:
    cert = PriorCertificate(Level.L5, OCC, "Y000132000001265000001", issued_on=date(2021, 6, 1))
    ok = ev(4, Declaration(years_of_work=5, prior_certificate=cert))
    assert ok.eligible and ok.matched.alternative == 1  # type: ignore[union-attr]
    # years since the certificate are capped by the years of work declared
    short = ev(4, Declaration(years_of_work=3, prior_certificate=cert))
    assert not short.eligible
    assert "取得该证书后须累计工作 4 年，申报 3.0 年" in str(short.reasons[0])
    assert ev(4, Declaration(years_of_work=6)).eligible  # alternative (2)


def test_prior_certificate_of_another_occupation_counts_only_when_declared_related() -> None:
    cert = PriorCertificate(Level.L5, "6-31-01-05", issued_on=date(2018, 1, 1))
    d = Declaration(years_of_work=5, prior_certificate=cert)
    r = ev(4, d)
    assert not r.eligible and "且未申报为相关职业" in str(r.reasons[0])
    d2 = Declaration(years_of_work=5, prior_certificate=cert, prior_certificate_related=True)
    assert ev(4, d2).eligible


def test_a_lower_certificate_does_not_stand_in_for_a_higher_one() -> None:
    cert = PriorCertificate(Level.L5, OCC)
    r = ev(3, Declaration(years_of_work=20, prior_certificate=cert, years_since_prior=10))
    assert not r.eligible and "申报的证书为五级/初级工" in str(r.reasons[0])
    higher = PriorCertificate(Level.L3, OCC)
    assert ev(3, Declaration(years_of_work=20, prior_certificate=higher, years_since_prior=6)).eligible


def test_level4_by_technical_school_diploma_in_a_related_speciality() -> None:
    assert ev(4, Declaration(education=Education.TECHNICAL_SCHOOL, education_related=True)).eligible
    r = ev(4, Declaration(education=Education.TECHNICAL_SCHOOL))
    assert not r.eligible and "毕业证书须为本专业或相关专业" in str(r.reasons[2])
    r2 = ev(4, Declaration(education=Education.SENIOR_SECONDARY, education_related=True))
    assert "申报学历为：普通高中" in str(r2.reasons[2])


def test_level3_college_diploma_shortens_the_years() -> None:
    cert = PriorCertificate(Level.L4, OCC)
    d = Declaration(years_of_work=3, prior_certificate=cert, years_since_prior=2,
                    education=Education.BACHELOR, education_related=True)
    r = ev(3, d)
    assert r.eligible and r.matched.alternative == 3  # type: ignore[union-attr]


def test_level2_and_level1() -> None:
    l3 = PriorCertificate(Level.L3, OCC)
    assert ev(2, Declaration(years_of_work=10, prior_certificate=l3, years_since_prior=4)).eligible
    assert not ev(2, Declaration(years_of_work=10, prior_certificate=l3, years_since_prior=3)).eligible
    assert ev(2, Declaration(years_of_work=3, prior_certificate=l3, years_since_prior=1,
                             education=Education.SENIOR_TECHNICAL_SCHOOL, education_related=True)).eligible
    l2 = PriorCertificate(Level.L2, OCC)
    assert ev(1, Declaration(years_of_work=12, prior_certificate=l2, years_since_prior=4)).eligible
    r = ev(1, Declaration(years_of_work=30))
    assert not r.eligible and "须持有本职业或相关职业二级/技师及以上证书" in str(r.reasons[0])


def test_rules_are_data_a_centre_can_replace() -> None:
    stricter = [EligibilityRule(Level.L5, 1, "累计工作2年以上", min_years_of_work=2)]
    assert ev(5, Declaration(years_of_work=1)).eligible
    assert not ev(5, Declaration(years_of_work=1), stricter).eligible
    none = ev(5, Declaration(years_of_work=9), [])
    assert not none.eligible and "未设定申报条件" in str(none.reasons[0])
    with pytest.raises(ValueError):
        EligibilityRule(Level.L4, 1, "x", min_years_since_prior=3)


def test_declaration_round_trips_through_a_dict() -> None:
    d = Declaration(years_of_work=4.5, prior_certificate=PriorCertificate(Level.L5, OCC, "N1", date(2020, 1, 2)),
                    training_completed=True, education=Education.HIGHER_VOCATIONAL, education_related=True)
    assert Declaration.from_dict(d.to_dict()) == d
    assert Education.parse("大专") is Education.HIGHER_VOCATIONAL
