"""Scoring services (附件1 第25–26条), violations (附件14), publication and release."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from lifecycle.config import LifecycleSettings
from lifecycle.domain import ApplicationStatus, Outcome, PartStatus, ViolationKind
from lifecycle.errors import ConflictError, PublicationError, ScoringError, ValidationError
from lifecycle.publication import (
    get_publication,
    publish_results,
    record_objection,
    release_results,
    set_calendar_day,
)
from lifecycle.registration import get_application
from lifecycle.scoring import (
    compute_part_result,
    export_responses_sparse,
    get_result,
    record_responses,
    record_violation,
)

from .conftest import ALL_RIGHT, score_everyone


def test_objective_items_are_scored_from_the_key_of_the_issued_version(session: Session, scenario, settings) -> None:  # type: ignore[no-untyped-def]
    vids = [v for v, *_ in scenario.theory_items]
    sheet = record_responses(session, application_id=scenario.apps["甲"], session_code=scenario.theory,
                             paper_code="PT-A", version_ids=vids, responses=[["D"], ["A", "C"], "√", "答案"],
                             actor="m", settings=settings)
    assert sheet.n_scored == 3 and sheet.objective_points == 50.0  # the incomplete multiple choice scores 0
    assert sheet.pending_version_ids == (vids[3],)
    with pytest.raises(ConflictError, match="已录入作答"):
        record_responses(session, application_id=scenario.apps["甲"], session_code=scenario.theory,
                         paper_code="PT-A", version_ids=vids, responses=[None] * 4, actor="m", settings=settings)
    with pytest.raises(ScoringError, match="评分的考评员人数不足"):
        compute_part_result(session, application_id=scenario.apps["甲"], session_code=scenario.theory, actor="m",
                            settings=settings)
    partial = settings.model_copy(update={"multiple_choice_partial_credit": True})
    sheet2 = record_responses(session, application_id=scenario.apps["乙"], session_code=scenario.theory,
                              paper_code="PT-A", version_ids=vids, responses=[["D"], ["A", "C"], "F", None],
                              actor="m", settings=partial)
    assert sheet2.objective_points == 37.5  # 少选得一半分


def test_responses_are_checked_against_the_session(session: Session, scenario, settings) -> None:  # type: ignore[no-untyped-def]
    vids = [v for v, *_ in scenario.theory_items]
    with pytest.raises(ValidationError, match="属于实际操作，而本场考试为理论知识"):
        record_responses(session, application_id=scenario.apps["甲"], session_code=scenario.theory, paper_code="X",
                         version_ids=[scenario.task_version], responses=[None], actor="m", settings=settings)
    with pytest.raises(ValidationError, match="没有第 999999 号试题版本"):
        record_responses(session, application_id=scenario.apps["甲"], session_code=scenario.theory, paper_code="X",
                         version_ids=[999999], responses=[None], actor="m", settings=settings)
    with pytest.raises(ValidationError, match="作答 3 项，试题却有 4 道"):
        record_responses(session, application_id=scenario.apps["甲"], session_code=scenario.theory, paper_code="X",
                         version_ids=vids, responses=[None] * 3, actor="m", settings=settings)


def test_pass_needs_60_in_each_part(session: Session, scenario, settings) -> None:  # type: ignore[no-untyped-def]
    score_everyone(session, scenario, settings,
                   {"甲": (ALL_RIGHT, [10, 15]), "乙": ((["D"], ["A"], ["T"], None), [5, 4.9]),
                    "丙": (ALL_RIGHT, [10, 15])},
                   {"甲": [50, 30, 20], "乙": [50, 30, 20], "丙": [30, 20, 9]})
    r = {n: get_result(session, application_id=scenario.apps[n]) for n in ("甲", "乙", "丙")}
    assert r["甲"].outcome is Outcome.PASSED
    assert r["乙"].outcome is Outcome.FAILED and r["乙"].parts[0].score == 59.9  # 50 + 9.9 of 100
    assert r["丙"].outcome is Outcome.FAILED and r["丙"].parts[1].score == 59.0
    sparse = export_responses_sparse(session, session_code=scenario.theory)
    assert sparse.person_index.shape == sparse.scores.shape == (12,)
    assert sparse.dense().sum(axis=1).tolist() == [100.0, 59.9, 100.0]


def test_violations_void_papers_cancel_scores_and_disqualify(session: Session, scenario, settings) -> None:  # type: ignore[no-untyped-def]
    score_everyone(session, scenario, settings, {n: (ALL_RIGHT, [10, 15]) for n in ("甲", "乙", "丙")},
                   {n: [50, 30, 20] for n in ("甲", "乙", "丙")})
    with pytest.raises(ValidationError, match="请指明考试场次"):
        record_violation(session, application_id=scenario.apps["甲"], kind="score_cancelled", description="抄袭",
                         actor="p", settings=settings)
    # 附件14 第2条: 抄袭他人试卷答案 -> 取消本场考试成绩
    assert record_violation(session, application_id=scenario.apps["甲"], session_code=scenario.theory,
                            kind=ViolationKind.SCORE_CANCELLED, description="抄袭他人答案，提醒仍不改正",
                            actor="监考0", settings=settings) is ViolationKind.SCORE_CANCELLED
    res = get_result(session, application_id=scenario.apps["甲"])
    assert res.outcome is Outcome.CANCELLED and res.parts[0].status is PartStatus.CANCELLED
    # one warning changes nothing; the part result, once computed, stays voided after the second
    assert record_violation(session, application_id=scenario.apps["乙"], session_code=scenario.practical,
                            kind="warning", description="交头接耳", actor="p", settings=settings) is ViolationKind.WARNING
    assert get_result(session, application_id=scenario.apps["乙"]).outcome is Outcome.PASSED
    record_violation(session, application_id=scenario.apps["乙"], session_code=scenario.practical, kind="warning",
                     description="再次交头接耳", actor="p", settings=settings)
    assert get_result(session, application_id=scenario.apps["乙"]).parts[1].status is PartStatus.VOIDED
    compute_part_result(session, application_id=scenario.apps["乙"], session_code=scenario.practical, actor="m",
                        settings=settings)
    assert get_result(session, application_id=scenario.apps["乙"]).outcome is Outcome.FAILED
    # 附件14 第3条: 冒名顶替 -> 取消考试资格
    record_violation(session, application_id=scenario.apps["丙"], kind="disqualified", description="他人冒名顶替",
                     actor="p", settings=settings)
    assert get_application(session, application_id=scenario.apps["丙"]).status is ApplicationStatus.DISQUALIFIED
    assert get_result(session, application_id=scenario.apps["丙"]).outcome is Outcome.DISQUALIFIED


def test_publication_lasts_five_working_days_and_objections_fall_within(session: Session, scenario,  # type: ignore[no-untyped-def]
                                                                       settings: LifecycleSettings) -> None:
    with pytest.raises(PublicationError, match="的成绩未确定"):
        publish_results(session, plan_code=scenario.plan_code, starts_on=date(2026, 12, 10), actor="o",
                        settings=settings)
    score_everyone(session, scenario, settings, {n: (ALL_RIGHT, [10, 15]) for n in ("甲", "乙", "丙")},
                   {n: [50, 30, 20] for n in ("甲", "乙", "丙")})
    # National Day style week: 1–7 Oct holidays, Sat 10 Oct a make-up working day
    for d in range(1, 8):
        set_calendar_day(session, day=date(2026, 10, d), kind="holiday", name="国庆节", actor="admin")
    set_calendar_day(session, day=date(2026, 10, 10), kind="workday", name="国庆调休", actor="admin")
    pub = publish_results(session, plan_code=scenario.plan_code, starts_on=date(2026, 9, 30), actor="o",
                          settings=settings)
    assert pub.ends_on == date(2026, 10, 13)  # Thu 8, Fri 9, Sat 10 (调休), Mon 12, Tue 13
    with pytest.raises(PublicationError, match="的成绩已经公示"):
        publish_results(session, plan_code=scenario.plan_code, starts_on=date(2026, 10, 1), actor="o",
                        settings=settings)
    with pytest.raises(PublicationError, match="不在公示期内"):
        record_objection(session, plan_code=scenario.plan_code, text="迟到的异议", raised_on=date(2026, 10, 20),
                         actor="o")
    record_objection(session, plan_code=scenario.plan_code, text="成绩有误", raised_on=date(2026, 10, 13), actor="o")
    assert get_publication(session, plan_code=scenario.plan_code).open_objections == 1
    with pytest.raises(PublicationError, match="异议尚未答复"):
        release_results(session, plan_code=scenario.plan_code, on=date(2026, 10, 14), actor="o", settings=settings)


def test_comprehensive_review_is_only_for_levels_2_and_1(session: Session, scenario, settings) -> None:  # type: ignore[no-untyped-def]
    from lifecycle.scoring import record_review

    with pytest.raises(ScoringError, match="没有综合评审"):
        record_review(session, application_id=scenario.apps["甲"], passed=True, actor="r", settings=settings)
