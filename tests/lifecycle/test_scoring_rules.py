"""Scoring rules (附件1 第25条; 附件2 第8条(五), 第10条)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from itembank.domain import ItemType, Level, Part
from lifecycle.scoring_rules import (
    Outcome,
    PartScore,
    PartStatus,
    combine_examiner_scores,
    decide_outcome,
    passes,
    rubric_total,
    score_objective,
    to_hundred,
)

S, M, TF = ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE, ItemType.TRUE_FALSE


def test_single_choice_and_true_false() -> None:
    assert score_objective(S, ["B"], ["B"], 1) == 1.0
    assert score_objective(S, ["B"], "b", 1) == 1.0
    assert score_objective(S, ["B"], ["B", "C"], 1) == 0.0
    assert score_objective(S, ["B"], [], 1) == 0.0
    assert score_objective(S, ["B"], None, 1) == 0.0
    assert score_objective(TF, ["T"], ["√"], 1) == 1.0
    assert score_objective(TF, ["F"], "错误", 1) == 1.0
    assert score_objective(TF, ["F"], "T", 1) == 0.0


def test_multiple_choice_exact_set_and_optional_partial_credit() -> None:
    assert score_objective(M, ["A", "C", "D"], "DCA", 2) == 2.0
    assert score_objective(M, ["A", "C", "D"], ["A", "C"], 2) == 0.0
    assert score_objective(M, ["A", "C", "D"], ["A", "C"], 2, partial_credit=True) == 1.0
    assert score_objective(M, ["A", "C", "D"], ["A", "B"], 2, partial_credit=True) == 0.0
    assert score_objective(M, ["A", "C", "D"], "A,C,D,E", 2, partial_credit=True) == 0.0
    with pytest.raises(ValueError, match="由考评员评分"):
        score_objective(ItemType.SHORT_ANSWER, [], "x", 10)


def test_examiner_scores_are_averaged_and_large_disagreement_flagged() -> None:
    c = combine_examiner_scores([24, 26, 25], 30)
    assert c.score == 25 and c.spread == 2 and not c.flagged and c.threshold == pytest.approx(3)
    f = combine_examiner_scores([18, 26, 25], 30)
    assert f.flagged and f.score == pytest.approx(23)
    edge = combine_examiner_scores([20, 23, 21], 30)  # spread exactly 10%: not flagged
    assert not edge.flagged
    assert combine_examiner_scores([20, 23.5], 30, disagreement_share=0.1).flagged
    with pytest.raises(ValueError, match="超出 0–30 的范围"):
        combine_examiner_scores([31], 30)
    with pytest.raises(ValueError):
        combine_examiner_scores([], 30)


def test_rubric_totals_check_every_point() -> None:
    assert rubric_total([15, 10, 5], [14, 10, 4.5]) == 28.5
    with pytest.raises(ValueError, match="第 2 个评分要点：得分 11 超出 0–10 的范围"):
        rubric_total([15, 10, 5], [14, 11, 4])
    with pytest.raises(ValueError, match="给出 2 个得分，评分要点却有 3 个"):
        rubric_total([15, 10, 5], [14, 10])


def test_hundred_point_scale_and_pass_mark() -> None:
    assert to_hundred(45, 50) == 90.0
    assert to_hundred(59.95, 100) == 60.0  # half-up to one decimal
    assert to_hundred(2, 3) == 66.7
    assert passes(60.0) and not passes(59.9)
    with pytest.raises(ValueError):
        to_hundred(1, 0)


@given(st.floats(0, 200), st.floats(1, 200))
def test_scale_is_within_0_and_100_for_scores_within_the_paper(raw: float, max_points: float) -> None:
    raw = min(raw, max_points)
    assert 0 <= to_hundred(raw, max_points) <= 100


def _parts(theory: float, practical: float, defence: float | None = None, *, status: dict | None = None) -> dict:
    status = status or {}
    out = {Part.THEORY: PartScore(Part.THEORY, theory, status.get("theory", PartStatus.SCORED)),
           Part.PRACTICAL: PartScore(Part.PRACTICAL, practical, status.get("practical", PartStatus.SCORED))}
    if defence is not None:
        out[Part.DEFENCE] = PartScore(Part.DEFENCE, defence)
    return out


def test_each_part_must_reach_60() -> None:
    assert decide_outcome(Level.L5, _parts(60, 75))[0] is Outcome.PASSED
    outcome, reasons = decide_outcome(Level.L5, _parts(95, 59.9))
    assert outcome is Outcome.FAILED and str(reasons[0]) == "实际操作：59.9 分，低于合格线 60 分"
    assert decide_outcome(Level.L5, {Part.THEORY: PartScore(Part.THEORY, 80)})[0] is Outcome.PENDING
    # a failed part decides at once, even with another part still missing
    assert decide_outcome(Level.L5, {Part.THEORY: PartScore(Part.THEORY, 40)})[0] is Outcome.FAILED


def test_levels_2_and_1_need_defence_and_comprehensive_review() -> None:
    for lvl in (Level.L2, Level.L1):
        assert decide_outcome(lvl, _parts(80, 80))[0] is Outcome.PENDING
        assert decide_outcome(lvl, _parts(80, 80, 70))[0] is Outcome.PENDING  # review outstanding
        assert decide_outcome(lvl, _parts(80, 80, 70), review_passed=True)[0] is Outcome.PASSED
        outcome, reasons = decide_outcome(lvl, _parts(80, 80, 70), review_passed=False)
        assert outcome is Outcome.FAILED and "综合评审" in str(reasons[0])
        assert decide_outcome(lvl, _parts(80, 80, 50), review_passed=True)[0] is Outcome.FAILED
    assert decide_outcome(Level.L3, _parts(80, 80))[0] is Outcome.PASSED  # no defence at level 3


def test_voided_or_cancelled_parts_fail_whatever_the_score() -> None:
    outcome, reasons = decide_outcome(Level.L5, _parts(95, 90, status={"theory": PartStatus.VOIDED}))
    assert outcome is Outcome.FAILED and "因违纪试卷作废" in str(reasons[0])
    outcome, reasons = decide_outcome(Level.L5, _parts(95, 90, status={"practical": PartStatus.CANCELLED}))
    assert outcome is Outcome.CANCELLED and "因违纪取消成绩" in str(reasons[0])
