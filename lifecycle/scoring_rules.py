"""Scoring rules: objective items against the key, examiners' scores combined, the 100-point
scale per part and the pass decision. Pure; no database.

附件1 第25条: 理论考试、实际操作考核均采用百分制，每项得分均达到60 分以上者为合格。技师、高级技师
理论考试、实际操作考核合格后，按规定参加综合评审; 第23条: 技师、高级技师还须参加现场答辩和综合评审.
附件2 第8条(五): examiners score independently; 第10条: the group leader settles disputed results.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from itembank.domain import ItemType, Level, Part
from itembank.i18n import FieldMessage, Message, Text, from_storable, to_storable

PASS_MARK = 60.0
MULTIPLE_CHOICE_PARTIAL_SHARE = 0.5
MIN_EXAMINERS = {Part.THEORY: 1, Part.PRACTICAL: 3, Part.DEFENCE: 3}
"""Independent examiner scores needed per item: practical tasks and defence topics are scored
by every member of a group of >= 3 (附件2 第9条); subjective theory items by at least one marker."""

_TRUE = {"T", "TRUE", "√", "✓", "对", "正确", "Y", "是"}
_FALSE = {"F", "FALSE", "×", "✗", "X", "错", "错误", "N", "否"}


def normalise_choice(response: Sequence[str] | str | None, item_type: ItemType) -> tuple[str, ...]:
    """Response labels, upper-case, de-duplicated and sorted; "AC" and ["a", "c"] both -> ("A", "C").
    True/false answers become ("T",) or ("F",)."""
    if response is None:
        return ()
    raw = [response] if isinstance(response, str) else list(response)
    if item_type is ItemType.TRUE_FALSE:
        out = []
        for r in raw:
            t = str(r).strip().upper()
            if t in _TRUE:
                out.append("T")
            elif t in _FALSE:
                out.append("F")
            elif t:
                out.append("?" + t)
        return tuple(sorted(set(out)))
    labels: list[str] = []
    for r in raw:
        text = "".join(str(r).split()).upper().replace(",", "").replace("，", "").replace("、", "")
        labels.extend(text)
    return tuple(sorted(set(labels)))


def score_objective(
    item_type: ItemType,
    key: Sequence[str],
    response: Sequence[str] | str | None,
    points: float,
    *,
    partial_credit: bool = False,
) -> float:
    """Points earned on a single choice, multiple choice or true/false item.

    - single choice, true/false: full points when the one answer equals the key, else 0;
    - multiple choice: full points only for exactly the key set. With ``partial_credit``,
      a non-empty subset of the key with no wrong option earns half the points (the common
      少选得一半分、错选不得分 rule); any wrong option earns 0.
    """
    if not item_type.is_objective:
        raise ValueError(Message("a {item_type} is not scored by key; examiners score it", item_type=item_type))
    chosen = normalise_choice(response, item_type)
    wanted = normalise_choice(list(key), item_type)
    if not chosen:
        return 0.0
    if chosen == wanted:
        return float(points)
    if item_type is ItemType.MULTIPLE_CHOICE and partial_credit and set(chosen) < set(wanted):
        return float(points) * MULTIPLE_CHOICE_PARTIAL_SHARE
    return 0.0


@dataclass(frozen=True, slots=True)
class Combination:
    score: float  # mean of the examiners' totals
    n_examiners: int
    spread: float  # max - min
    flagged: bool  # spread > threshold: the group leader reviews (附件2 第10条)
    threshold: float


def combine_examiner_scores(totals: Sequence[float], points: float, *, disagreement_share: float = 0.10) -> Combination:
    """Combine independent examiner totals for one item: the arithmetic mean.

    The item is flagged when the largest and smallest totals differ by more than
    ``disagreement_share`` of the item's points (default 10%), for the leader to settle.
    """
    if not totals:
        raise ValueError(Message("there is no examiner score to combine"))
    for t in totals:
        if not 0 <= t <= points + 1e-9:
            raise ValueError(Message("an examiner's total of {total:g} is outside 0–{points:g}", total=t, points=points))
    spread = max(totals) - min(totals)
    threshold = disagreement_share * points
    return Combination(float(statistics.fmean(totals)), len(totals), float(spread), spread > threshold + 1e-9,
                       threshold)


def rubric_total(rubric_points: Sequence[float], rubric_scores: Sequence[float]) -> float:
    """Sum of one examiner's rubric-point scores, each within 0..its points."""
    if len(rubric_scores) != len(rubric_points):
        raise ValueError(Message("{n} scores given for {m} scoring points", n=len(rubric_scores), m=len(rubric_points)))
    for i, (s, p) in enumerate(zip(rubric_scores, rubric_points), start=1):
        if not 0 <= s <= p + 1e-9:
            raise ValueError(Message("scoring point {n}: {score:g} is outside 0–{points:g}", n=i, score=s, points=p))
    return float(sum(rubric_scores))


def to_hundred(raw_points: float, max_points: float) -> float:
    """The part score on the 100-point scale (百分制), rounded half-up to one decimal.

    The pass decision is taken on this published, rounded score so that the number the
    candidate sees and the decision never disagree.
    """
    if max_points <= 0:
        raise ValueError(Message("a paper worth 0 points cannot be scored"))
    value = Decimal(str(raw_points)) * Decimal(100) / Decimal(str(max_points))
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def passes(score: float, pass_mark: float = PASS_MARK) -> bool:
    """达到60 分以上者为合格: 60 itself passes."""
    return score >= pass_mark


class PartStatus(str, enum.Enum):
    SCORED = "scored"
    VOIDED = "voided"  # paper voided (附件14 第1条)
    CANCELLED = "cancelled"  # score of the sitting cancelled (附件14 第2条)

    @property
    def zh(self) -> str:
        return {"scored": "已评分", "voided": "试卷作废", "cancelled": "成绩取消"}[self.value]


class Outcome(str, enum.Enum):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"
    CANCELLED = "cancelled"  # result cancelled afterwards (附件1 第32条)
    DISQUALIFIED = "disqualified"  # 取消考试资格 (附件14 第3条)

    @property
    def zh(self) -> str:
        return {"pending": "待定", "passed": "合格", "failed": "不合格", "cancelled": "成绩已取消",
                "disqualified": "已取消考试资格"}[self.value]


@dataclass(frozen=True, slots=True)
class PartScore:
    part: Part
    score: float
    status: PartStatus = PartStatus.SCORED


def required_parts(level: Level | int) -> tuple[Part, ...]:
    """Theory and practical at every level; levels 2 and 1 add the defence (附件1 第23条)."""
    return (Part.THEORY, Part.PRACTICAL, Part.DEFENCE) if Level(level).has_defence else (Part.THEORY, Part.PRACTICAL)


def decide_outcome(
    level: Level | int,
    parts: Mapping[Part, PartScore],
    *,
    review_passed: bool | None = None,
    pass_mark: float = PASS_MARK,
) -> tuple[Outcome, tuple[Message, ...]]:
    """Passed, failed or pending, with the reasons in words (附件1 第25条).

    A failed or voided part decides the outcome at once (failed), a cancelled score cancels
    the result; a part not yet scored leaves it pending. Levels 2 and 1 pass only when theory, practical and defence each reach the pass
    mark and the comprehensive review (综合评审) was passed.
    """
    lvl = Level(level)
    reasons: list[Message] = []
    missing: list[Message] = []
    for part in required_parts(lvl):
        ps = parts.get(part)
        if ps is None:
            missing.append(Message("{part} is not scored yet", part=part))
        elif ps.status is PartStatus.VOIDED:
            reasons.append(Message("{part}: the paper was voided for a violation (附件14)", part=part))
        elif ps.status is PartStatus.CANCELLED:
            reasons.append(Message("{part}: the score was cancelled for a violation (附件14)", part=part))
        elif not passes(ps.score, pass_mark):
            reasons.append(Message("{part}: {score:g} is below the pass mark {pass_mark:g}", part=part, score=ps.score,
                                   pass_mark=pass_mark))
    if any(ps.status is PartStatus.CANCELLED for ps in parts.values()):
        # 附件14 第2条 取消本场考试成绩: the result is cancelled, not merely failed
        return Outcome.CANCELLED, tuple(reasons)
    if reasons:
        return Outcome.FAILED, tuple(reasons)
    if missing:
        return Outcome.PENDING, tuple(missing)
    if lvl.has_defence:
        if review_passed is None:
            return Outcome.PENDING, (Message("awaiting the comprehensive review (附件1 第25条)"),)
        if not review_passed:
            return Outcome.FAILED, (Message("the comprehensive review was not passed"),)
    return Outcome.PASSED, ()
