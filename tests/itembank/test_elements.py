from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank import i18n
from itembank.domain import BankRef, ElementNode, Importance, Part
from itembank.elements import (
    element_table_versions,
    load_element_table,
    save_element_table,
    validate_element_nodes,
)
from itembank.errors import ElementTableError, NotFoundError
from itembank.orm import ElementTableRecord

from .conftest import SMALL_TABLE


@st.composite
def element_tables(draw: st.DrawFn) -> list[ElementNode]:
    """Random valid tables: scopes split their weight (in 0.01 %) among children."""
    nodes: list[ElementNode] = []

    def grow(code: str | None, weight_cents: int, depth: int) -> None:
        n_children = draw(st.integers(1, 4)) if depth < 3 else 0
        if code is not None and (n_children == 0 or weight_cents < n_children or
                                 (depth > 1 and draw(st.booleans()))):
            return
        n_children = max(n_children, 1)
        cuts = sorted(draw(st.lists(st.integers(1, weight_cents - 1), min_size=n_children - 1,
                                    max_size=n_children - 1, unique=True))) if n_children > 1 else []
        bounds = [0, *cuts, weight_cents]
        for i in range(n_children):
            child = f"{code}-{i + 1:02d}" if code else chr(ord("A") + i)
            w = bounds[i + 1] - bounds[i]
            nodes.append(ElementNode(child, f"范围{child}", w / 100, code, None))
            grow(child, w, depth + 1)

    grow(None, 10000, 0)
    parents = {n.parent_code for n in nodes}
    imps = list(Importance)
    return [
        n if n.code in parents else dataclasses.replace(n, importance=imps[len(n.code) % 3])
        for n in nodes
    ]


@given(element_tables())
def test_random_valid_tables_validate(nodes: list[ElementNode]) -> None:
    assert validate_element_nodes(nodes) == []


@given(element_tables(), st.data())
def test_a_changed_weight_is_reported_naming_the_parent(nodes: list[ElementNode], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(nodes) - 1))
    delta = data.draw(st.sampled_from([0.05, -0.05, 1.0, 7.5]))
    node = nodes[i]
    if node.weight + delta <= 0:
        delta = -delta
    changed = nodes.copy()
    changed[i] = dataclasses.replace(node, weight=round(node.weight + delta, 2))
    errors = [str(e) for e in validate_element_nodes(changed)]
    assert errors, "a weight that no longer sums up must be refused"
    where = f"（{node.parent_code}）" if node.parent_code else "顶层鉴定范围"
    assert any(where in e for e in errors), errors


@given(element_tables())
def test_duplicate_codes_are_reported(nodes: list[ElementNode]) -> None:
    dup = nodes + [dataclasses.replace(nodes[-1])]
    assert any(f"代码 {nodes[-1].code} 重复" in str(e) for e in validate_element_nodes(dup))


def test_every_error_is_listed_at_once() -> None:
    bad = [
        ElementNode("A", "基本要求", 40.0),
        ElementNode("A-01", "职业道德", 15.0, "A", Importance.X),
        ElementNode("A-02", "", 20.0, "A", None),          # empty name, no importance, sum 35 != 40
        ElementNode("B", "相关知识", 50.0, None, Importance.X),  # scope with importance? it is a leaf here
        ElementNode("C-01", "孤儿", 10.0, "C", Importance.Y),   # unknown parent
        ElementNode("A-01", "重复", 1.0, "A", Importance.X),    # duplicate code
    ]
    errors = validate_element_nodes(bad)
    joined = "\n".join(str(e) for e in errors)
    assert "第 3 行（A-02），名称：鉴定范围或鉴定点名称为空" in joined
    assert "第 3 行（A-02），重要程度：鉴定点（末级）须注明重要程度" in joined
    assert "第 1 行（A），比重：下级比重合计 35.00%，与本级的 40.00% 不符" in joined
    assert "第 5 行（C-01），上级代码：上级代码 C 不在表中" in joined
    assert "第 6 行（A-01），编号：代码 A-01 重复" in joined
    assert "顶层鉴定范围（A、B）的比重合计 90.00%，不是 100%" in joined
    assert len(errors) >= 6
    # each problem names the field it is about (the import maps it to the column)
    assert {e.field for e in errors} >= {"name", "importance", "weight", "parent_code", "code"}
    with i18n.use_locale("en"):
        assert "row 3 (A-02): name: the name of the scope or element is empty" in "\n".join(str(e) for e in errors)


def test_scope_with_importance_and_cycle() -> None:
    nodes = [
        ElementNode("A", "范围", 100.0, None, Importance.X),
        ElementNode("A-01", "要素", 100.0, "A", Importance.Y),
    ]
    assert any("只有鉴定点（末级）才标注重要程度" in str(e) for e in validate_element_nodes(nodes))
    loop = [ElementNode("X", "x", 100.0, "Y", Importance.X), ElementNode("Y", "y", 100.0, "X", Importance.X)]
    errors = [str(e) for e in validate_element_nodes(loop)]
    assert any("上级关系出现循环" in e for e in errors)
    assert any("没有顶层鉴定范围" in e for e in errors)


def test_tolerance_of_a_hundredth() -> None:
    ok = [ElementNode("A", "a", 33.334, None, Importance.X), ElementNode("B", "b", 33.333, None, Importance.X),
          ElementNode("C", "c", 33.333, None, Importance.X)]
    assert validate_element_nodes(ok) == []
    off = [dataclasses.replace(ok[0], weight=33.35), *ok[1:]]
    assert validate_element_nodes(off)


def test_save_load_and_versions(session: Session, bank: BankRef) -> None:
    v1 = load_element_table(session, bank=bank, part=Part.THEORY)
    assert v1.version == 1
    assert [n.code for n in v1.nodes] == [n.code for n in SMALL_TABLE]
    assert {n.code for n in v1.leaves()} == {"A-01", "A-02", "B-01", "B-02"}
    assert v1.ancestors("B-02") == ("B",)
    changed = [dataclasses.replace(n, name=n.name + "（修订）") for n in SMALL_TABLE]
    v2 = save_element_table(session, bank=bank, part=Part.THEORY, nodes=changed, note="2026 修订", actor="t")
    assert v2.version == 2
    assert load_element_table(session, bank=bank, part=Part.THEORY).nodes[0].name == "基本要求（修订）"
    assert load_element_table(session, bank=bank, part=Part.THEORY, version=1).nodes[0].name == "基本要求"
    assert element_table_versions(session, bank=bank, part=Part.THEORY) == [1, 2]


def test_bad_table_writes_nothing(session: Session, bank: BankRef) -> None:
    before = session.scalar(select(func.count()).select_from(ElementTableRecord))
    bad = [dataclasses.replace(SMALL_TABLE[0], weight=41.0), *SMALL_TABLE[1:]]
    with pytest.raises(ElementTableError) as exc:
        save_element_table(session, bank=bank, part=Part.THEORY, nodes=bad, actor="t")
    assert "电工" in str(exc.value) and "理论知识" in str(exc.value)
    assert session.scalar(select(func.count()).select_from(ElementTableRecord)) == before
    assert load_element_table(session, bank=bank, part=Part.THEORY).version == 1


def test_missing_table_is_a_clear_not_found(session: Session, bank: BankRef) -> None:
    with pytest.raises(NotFoundError, match="论文答辩"):
        load_element_table(session, bank=bank, part=Part.DEFENCE)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(nodes=element_tables())
def test_round_trip_through_the_database(session: Session, bank: BankRef, nodes: list[ElementNode]) -> None:
    saved = save_element_table(session, bank=bank, part=Part.DEFENCE, nodes=nodes, actor="t")
    loaded = load_element_table(session, bank=bank, part=Part.DEFENCE, version=saved.version)
    assert loaded.nodes == tuple(nodes)
