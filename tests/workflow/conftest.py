"""Fixtures of the workflow tests: a small bank, a registered cast of experts, actors."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from itembank.domain import Actor, BankRef, ItemContent, Level, OccupationCategory, Part, Role
from itembank.elements import save_element_table
from itembank.experts import ExpertRole, TitleRank, grant_scope, register_expert
from itembank.occupations import create_bank, create_occupation
from itembank.workflow import (
    ReviewDecision,
    assign_reviewer,
    create_item,
    record_review,
    start_review,
    submit,
)
from tests.itembank.conftest import PRACTICAL_TABLE, SMALL_TABLE, single_choice

OCC = "6-31-01-03"
OTHER_OCC = "4-04-05-01"

MANAGER = Actor("m1", frozenset({Role.BANK_MANAGER}))
W1 = Actor("w1", frozenset({Role.ITEM_WRITER}), frozenset({OCC}))
W2 = Actor("w2", frozenset({Role.ITEM_WRITER}), frozenset({OCC}))
R1 = Actor("r1", frozenset({Role.REVIEWER}), frozenset({OCC}))
R2 = Actor("r2", frozenset({Role.REVIEWER}), frozenset({OCC}))
COMMITTEE = tuple(Actor(f"c{i}", frozenset({Role.COMMITTEE_MEMBER})) for i in range(1, 7))
MEMBERS = tuple(a.username for a in COMMITTEE[:5])
OUTSIDER = Actor("x1", frozenset({Role.ITEM_WRITER}), frozenset({OCC}))  # has the role, not registered
ADMIN = Actor("root", frozenset({Role.ADMIN}))


@dataclass(frozen=True)
class Cast:
    bank: BankRef
    other_bank: BankRef


def make_bank(session: Session) -> Cast:
    create_occupation(session, code=OCC, name="电工", category=OccupationCategory.TECHNICAL_SKILL)
    create_occupation(session, code=OTHER_OCC, name="计算机程序设计员", category=OccupationCategory.KNOWLEDGE_SKILL)
    b = create_bank(session, occupation_code=OCC, level=Level.L5)
    other = create_bank(session, occupation_code=OTHER_OCC, level=Level.L4)
    for bank in (b, other):
        save_element_table(session, bank=bank, part=Part.THEORY, nodes=SMALL_TABLE, actor="t")
        save_element_table(session, bank=bank, part=Part.PRACTICAL, nodes=PRACTICAL_TABLE, actor="t")
    register_expert(session, actor=MANAGER, username="w1", name="王一", title_rank=TitleRank.NONE)
    grant_scope(session, actor=MANAGER, username="w1", occupation_code=OCC, role=ExpertRole.WRITER,
                years_in_occupation=8, certificate_level=Level.L2)
    register_expert(session, actor=MANAGER, username="w2", name="王二", title_rank=TitleRank.INTERMEDIATE,
                    title_name="工程师")
    grant_scope(session, actor=MANAGER, username="w2", occupation_code=OCC, role=ExpertRole.WRITER,
                years_in_occupation=6)
    for name in ("r1", "r2"):
        register_expert(session, actor=MANAGER, username=name, name=f"审{name}", title_rank=TitleRank.SENIOR)
        grant_scope(session, actor=MANAGER, username=name, occupation_code=OCC, role=ExpertRole.REVIEWER,
                    years_in_occupation=12, certificate_level=Level.L1)
    return Cast(b, other)


@pytest.fixture()
def cast(session: Session) -> Cast:
    return make_bank(session)


def draft(session: Session, bank: BankRef, code: str, content: ItemContent | None = None,
          writer: Actor = W1) -> None:
    create_item(session, actor=writer, bank=bank, code=code, content=content or single_choice(stem=f"{code}（　）。"))


def approved(session: Session, bank: BankRef, code: str, writer: Actor = W1,
             content: ItemContent | None = None) -> None:
    """Drive a new item to approved: draft, submit, assign r1, review, approve."""
    draft(session, bank, code, content, writer)
    submit(session, actor=writer, bank=bank, code=code)
    assign_reviewer(session, actor=MANAGER, bank=bank, code=code, reviewer="r1")
    start_review(session, actor=R1, bank=bank, code=code)
    record_review(session, actor=R1, bank=bank, code=code, decision=ReviewDecision.APPROVE, comment="题意清楚")
