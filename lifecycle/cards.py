"""Validity of examiner and supervisor cards: 3-year term, revocation and annual training.
Pure; no database.

附件2 第16条: 考评员证卡，有效期3 年; 第18条: 学院每年组织一次考评人员继续教育，对继续教育不合格及
未参加继续教育的考评人员取消其考评资格. 附件10 第17条 and 第18条: the same for supervisors
(annual continuing education, 3-year term).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from itembank.i18n import Message

CARD_TERM_YEARS = 3


def card_valid_until(issued_on: date, years: int = CARD_TERM_YEARS) -> date:
    """Last day of validity: the day before the anniversary ``years`` later (29 Feb -> 28 Feb)."""
    try:
        anniversary = issued_on.replace(year=issued_on.year + years)
    except ValueError:  # 29 February
        anniversary = issued_on.replace(year=issued_on.year + years, day=28) + timedelta(days=1)
    return anniversary - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Training:
    year: int
    passed: bool


@dataclass(frozen=True, slots=True)
class CardValidity:
    valid: bool
    reasons: tuple[Message, ...]
    missing_training_years: tuple[int, ...] = ()


def card_validity(
    *, number: str, issued_on: date, valid_until: date, revoked: bool, trainings: Iterable[Training], on: date,
    revoked_reason: str = "",
) -> CardValidity:
    """Is the card valid on ``on``? Every reason it is not, in words.

    Annual training: each calendar year after the year of issue that has ended by ``on``
    needs a passed training of that year; the year of issue is covered by the qualification
    assessment itself (附件2 第15–16条).
    """
    reasons: list[Message] = []
    if revoked:
        reasons.append(Message("card {number} was revoked: {reason}", number=number, reason=revoked_reason)
                       if revoked_reason else Message("card {number} was revoked", number=number))
    if on < issued_on:
        reasons.append(Message("card {number} is valid only from {day}", number=number, day=issued_on))
    if on > valid_until:
        reasons.append(Message("card {number} expired on {day} (cards are valid {years} years)", number=number,
                               day=valid_until, years=CARD_TERM_YEARS))
    passed_years = {t.year for t in trainings if t.passed}
    missing = tuple(y for y in range(issued_on.year + 1, min(on.year, valid_until.year + 1)) if y not in passed_years)
    if missing:
        reasons.append(
            Message("card {number}: no passed annual training in {years} (附件2 第18条, 附件10 第17条: the "
                    "qualification lapses)", number=number, years=[str(y) for y in missing])
        )
    return CardValidity(not reasons, tuple(reasons), missing)
