from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from itembank import i18n
from itembank.domain import Level, Occupation, OccupationCategory, Part, VersionState
from itembank.errors import BankNotReadyError, ValidationError
from itembank.items import NewItem, add_items
from itembank.ledger import query_ledger
from itembank.readiness import (
    MinimumRule,
    bank_readiness,
    require_ready,
    resolve_minimum,
    set_minimum_rule,
)
from itembank.usage import mark_compromised

from .conftest import practical_task, single_choice

TECH = Occupation("6-31-01-03", "电工", OccupationCategory.TECHNICAL_SKILL)
KNOW = Occupation("4-04-05-01", "计算机程序设计员", OccupationCategory.KNOWLEDGE_SKILL)


@pytest.mark.parametrize(
    ("occ", "level", "part", "value", "required"),
    [
        (TECH, Level.L5, Part.THEORY, 1200, True),
        (TECH, Level.L5, Part.PRACTICAL, 20, True),
        (TECH, Level.L5, Part.DEFENCE, 0, False),
        (TECH, Level.L2, Part.DEFENCE, 10, True),
        (TECH, Level.L1, Part.DEFENCE, 10, True),
        (KNOW, Level.L4, Part.PRACTICAL, 1200, True),  # knowledge-skill: practical = theory
    ],
)
def test_default_minimums_follow_the_regulation(occ, level, part, value, required) -> None:
    m = resolve_minimum([], part, occupation=occ, level=level)
    assert (m.value, m.required) == (value, required)
    assert "附件11 第7条" in str(m.source)


def test_centre_rules_override_most_specific_first() -> None:
    rules = [
        MinimumRule(Part.THEORY, 1500, id=1),
        MinimumRule(Part.THEORY, 1300, level=Level.L5, id=2),
        MinimumRule(Part.THEORY, 2000, category=OccupationCategory.TECHNICAL_SKILL, id=3),
        MinimumRule(Part.THEORY, 2500, occupation_code="6-31-01-03", id=4),
    ]
    assert resolve_minimum(rules, Part.THEORY, occupation=TECH, level=Level.L5).value == 2500
    assert resolve_minimum(rules[:3], Part.THEORY, occupation=TECH, level=Level.L5).value == 2000
    assert resolve_minimum(rules[:2], Part.THEORY, occupation=TECH, level=Level.L5).value == 1300
    assert resolve_minimum(rules[:2], Part.THEORY, occupation=TECH, level=Level.L4).value == 1500
    # the knowledge-skill practical minimum follows a changed theory minimum
    assert resolve_minimum(rules[:1], Part.PRACTICAL, occupation=KNOW, level=Level.L4).value == 1500
    # unless a practical rule names the category
    own = [*rules[:1], MinimumRule(Part.PRACTICAL, 300, category=OccupationCategory.KNOWLEDGE_SKILL, id=9)]
    assert resolve_minimum(own, Part.PRACTICAL, occupation=KNOW, level=Level.L4).value == 300


def _fill(session: Session, bank, n_theory: int, n_practical: int) -> None:
    items = [NewItem(f"T{i:03d}", single_choice(stem=f"题{i}（　）。", element=("A-01", "A-02", "B-01", "B-02")[i % 4]))
             for i in range(n_theory)]
    items += [NewItem(f"P{i:02d}", practical_task(element=("P-01", "P-02")[i % 2])) for i in range(n_practical)]
    add_items(session, bank=bank, items=items, actor="t", state=VersionState.ACCEPTED)


def test_readiness_counts_and_verdict(session: Session, bank) -> None:
    set_minimum_rule(session, part=Part.THEORY, minimum=40, actor="admin")
    practical_rule = set_minimum_rule(session, part=Part.PRACTICAL, minimum=4, actor="admin")
    _fill(session, bank, n_theory=40, n_practical=3)
    r = bank_readiness(session, bank=bank)
    assert not r.ready
    theory, practical = r.part(Part.THEORY), r.part(Part.PRACTICAL)
    assert theory.ready and theory.usable == 40 and theory.by_type == {"single_choice": 40}
    assert {e.code: e.count for e in theory.elements} == {"A-01": 10, "A-02": 10, "B-01": 10, "B-02": 10}
    # weights 15/25/30/30 of 40 -> 6/10/12/12 expected; 10 < 0.8*12 -> B-01/B-02 short? 0.8*12=9.6 -> floor 9
    assert [e.code for e in theory.elements if e.short] == []
    assert not practical.ready
    assert [str(s) for s in r.shortfalls] == [
        f"{bank.label} 实际操作：已验收可用试题 3 道，最低要求 4 道，还差 1 道［本中心第 {practical_rule.id} 号规定（全部题库）］",
    ]
    assert str(r.verdict) == "未达标：有 1 项不足，补足之前不得组正式试卷"
    with pytest.raises(BankNotReadyError) as exc:
        require_ready(session, bank=bank, actor="office")
    assert "实际操作：已验收可用试题 3 道，最低要求 4 道" in str(exc.value)
    assert exc.value.code == "bank_not_ready" and exc.value.params["bank"] == bank.label
    with i18n.use_locale("en"):
        assert "practical: 3 usable accepted items, minimum 4: 1 short" in str(exc.value)
    assert require_ready(session, bank=bank, parts=[Part.THEORY], actor="office").part(Part.THEORY).ready


def test_compromised_items_do_not_count_and_thin_elements_are_named(session: Session, bank) -> None:
    set_minimum_rule(session, part=Part.THEORY, minimum=40, actor="admin")
    set_minimum_rule(session, part=Part.PRACTICAL, minimum=2, actor="admin")
    _fill(session, bank, n_theory=40, n_practical=2)
    mark_compromised(session, bank=bank, codes=[f"T{i:03d}" for i in range(2, 40, 4)], reason="泄密", actor="o")
    r = bank_readiness(session, bank=bank)
    theory = r.part(Part.THEORY)
    assert (theory.accepted, theory.compromised, theory.usable) == (40, 10, 30)
    assert not theory.ready
    assert any("已验收可用试题 30 道，最低要求 40 道，还差 10 道（另有 10 道已泄密，不能使用）" in str(s)
               for s in r.shortfalls)
    b01 = next(e for e in theory.elements if e.code == "B-01")
    assert b01.count == 0 and b01.short
    # the element is named by its code and its name
    assert any("鉴定点 B-01 工具仪表（比重 30%，重要程度 X）有 0 道试题，按比重应有约 12 道" in str(w)
               for w in r.warnings)


def test_practice_mode_overrides_and_is_recorded(session: Session, bank) -> None:
    _fill(session, bank, n_theory=5, n_practical=1)
    with pytest.raises(BankNotReadyError):
        require_ready(session, bank=bank, actor="office")
    require_ready(session, bank=bank, practice=True, actor="trainer", purpose=i18n.Message("a practice paper"))
    entries = query_ledger(session, action="readiness.override")
    assert len(entries) == 1 and entries[0].actor == "trainer"
    assert entries[0].details["mode"] == "practice" and entries[0].details["shortfalls"]


def test_missing_element_table_is_a_shortfall(session: Session) -> None:
    from itembank.occupations import create_bank, create_occupation

    create_occupation(session, code="6-31-01-05", name="电梯安装维修工", category="technical_skill")
    b = create_bank(session, occupation_code="6-31-01-05", level=2)
    r = bank_readiness(session, bank=b)
    assert [p.part for p in r.parts] == [Part.THEORY, Part.PRACTICAL, Part.DEFENCE]
    assert sum("没有认定要素细目表" in str(s) for s in r.shortfalls) == 2


def test_minimum_rule_validation(session: Session) -> None:
    with pytest.raises(ValidationError, match="最低题量须为不小于 0 的整数"):
        set_minimum_rule(session, part=Part.THEORY, minimum=-1, actor="a")
    set_minimum_rule(session, part=Part.THEORY, minimum=10, actor="a")
    set_minimum_rule(session, part=Part.THEORY, minimum=12, actor="a")
    from itembank.readiness import list_minimum_rules

    assert [(r.part, r.minimum) for r in list_minimum_rules(session)] == [(Part.THEORY, 12)]
