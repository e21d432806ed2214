"""Retention (附件1 第29条: kept >= 2 years; 附件13 第3条(8): destroyed only after review, logged)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank.ledger import query_ledger, verify_ledger
from itembank.orm_lifecycle import ExaminerScoreRecord, ResponseRecord
from lifecycle.errors import RetentionError
from lifecycle.publication import publish_results, release_results
from lifecycle.retention import (
    place_hold,
    record_retention_review,
    release_hold,
    retain_until,
    retention_state,
    run_destruction,
)
from lifecycle.scoring import get_result

from .conftest import ALL_RIGHT, score_everyone

CLOSED = date(2026, 12, 15)


def _count(session: Session, model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


def test_destruction_only_after_two_years_a_review_and_no_hold(session: Session, scenario, settings) -> None:  # type: ignore[no-untyped-def]
    score_everyone(session, scenario, settings, {n: (ALL_RIGHT, [10, 15]) for n in ("甲", "乙", "丙")},
                   {n: [50, 30, 20] for n in ("甲", "乙", "丙")})
    assert "考试计划尚未结束" in str(retention_state(session, plan_code=scenario.plan_code, on=CLOSED,
                                               settings=settings).reasons[0])
    publish_results(session, plan_code=scenario.plan_code, starts_on=date(2026, 12, 7), actor="o", settings=settings)
    release_results(session, plan_code=scenario.plan_code, on=CLOSED, actor="o", settings=settings)
    assert retain_until(CLOSED, 2) == date(2028, 12, 15) and retain_until(date(2028, 2, 29), 2) == date(2030, 3, 1)
    n_responses = _count(session, ResponseRecord)
    assert n_responses == 15

    # < 2 years: nothing is destroyed, and the review itself is refused
    early = date(2028, 12, 14)
    with pytest.raises(RetentionError, match="资料保存至 2028年12月15日"):
        record_retention_review(session, plan_code=scenario.plan_code, decision="destroy", reviewer="负责人",
                                on=early, settings=settings)
    assert run_destruction(session, on=early, actor="archive", settings=settings).n_records == 0

    # >= 2 years but not reviewed: nothing
    due = date(2029, 1, 10)
    report = run_destruction(session, on=due, actor="archive", settings=settings)
    assert report.n_records == 0 and "尚未审查" in str(report.skipped[scenario.plan_code][0])

    # reviewed, but held: nothing
    record_retention_review(session, plan_code=scenario.plan_code, decision="destroy", reviewer="审查小组",
                            on=due, settings=settings, note="无保存价值")
    hold = place_hold(session, plan_code=scenario.plan_code, reason="考生申诉处理中", actor="audit")
    assert run_destruction(session, on=due, actor="archive", settings=settings).n_records == 0
    release_hold(session, hold_id=hold, actor="audit")

    dry = run_destruction(session, on=due, actor="archive", settings=settings, dry_run=True)
    assert dry.n_records > 0 and _count(session, ResponseRecord) == n_responses
    report = run_destruction(session, on=due, actor="archive", settings=settings)
    ids = report.destroyed[scenario.plan_code]
    assert len(ids["responses"]) == 15 and len(ids["examiner_scores"]) == 12 and len(ids["admission_tickets"]) == 3
    assert _count(session, ResponseRecord) == 0 and _count(session, ExaminerScoreRecord) == 0
    entry = query_ledger(session, action="retention.destroy")[-1]
    assert entry.object_id == scenario.plan_code and sorted(entry.details["records"]["responses"]) == ids["responses"]
    assert verify_ledger(session).ok
    # results and certificates' basis are kept
    assert get_result(session, application_id=scenario.apps["甲"]).outcome.value == "passed"
    assert retention_state(session, plan_code=scenario.plan_code, on=due, settings=settings).destroyed
    assert run_destruction(session, on=due, actor="archive", settings=settings).n_records == 0


def test_a_keep_decision_prevents_destruction(session: Session, scenario, settings) -> None:  # type: ignore[no-untyped-def]
    score_everyone(session, scenario, settings, {n: (ALL_RIGHT, [10, 15]) for n in ("甲", "乙", "丙")},
                   {n: [50, 30, 20] for n in ("甲", "乙", "丙")})
    publish_results(session, plan_code=scenario.plan_code, starts_on=date(2026, 12, 7), actor="o", settings=settings)
    release_results(session, plan_code=scenario.plan_code, on=CLOSED, actor="o", settings=settings)
    state = record_retention_review(session, plan_code=scenario.plan_code, decision="keep", reviewer="审查小组",
                                    on=date(2029, 1, 1), settings=settings)
    assert not state.destroyable and "决定保留" in str(state.reasons[0])
    assert run_destruction(session, on=date(2029, 1, 1), actor="a", settings=settings).n_records == 0
