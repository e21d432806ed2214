from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank import i18n
from itembank.domain import (
    BankRef,
    ItemContent,
    ItemType,
    Option,
    RubricPoint,
    VersionState,
)
from itembank.errors import ItemValidationError, NotFoundError, ValidationError
from itembank.items import (
    NewItem,
    accepted_version,
    add_enemies,
    add_item,
    add_items,
    content_hash,
    get_item,
    list_versions,
    remove_enemy,
    revise_item,
    set_version_state,
    validate_content,
)
from itembank.orm import ItemRecord, ItemVersionRecord

from .conftest import practical_task, single_choice


def _errors(content: ItemContent, codes: set[str] | None = None) -> str:
    """The problems as the staff read them (zh_CN), one a line."""
    return "\n".join(str(p) for p in validate_content(content, element_codes=codes, where="X1"))


def test_valid_items_have_no_errors() -> None:
    assert _errors(single_choice(), {"A-01"}) == ""
    assert _errors(practical_task(), {"P-01"}) == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(key=("E",)), "X1，答案：答案 E 不在选项 ABCD 中"),
        (dict(key=("A", "B")), "单项选择题只能有一个正确答案，现有 2 个"),
        (dict(stem="  "), "X1，题干：题干为空"),
        (dict(points=0), "X1，分值：0 不是正数"),
        (dict(points=float("nan")), "X1，分值：nan 不是正数"),
        (dict(difficulty_rating=6), "X1，难度：6 不是 1（最易）到 5（最难）之间的整数"),
        (dict(element_codes=()), "试题没有对应认定要素细目表中的鉴定点"),
        (dict(element_codes=("Z-99",)), "Z-99 不是现行理论知识认定要素细目表中的鉴定点"),
        (dict(options=(Option("A", "36V"), Option("A", "24V"))), "选项标号重复（A、A）"),
        (dict(options=(Option("A", "36V"),), key=("A",)), "单项选择题至少需要 2 个选项"),
    ],
)
def test_single_choice_errors(change: dict, message: str) -> None:
    content = dataclasses.replace(single_choice(), **change)
    assert message in _errors(content, {"A-01"})


def test_each_type_has_its_rules() -> None:
    tf = ItemContent(ItemType.TRUE_FALSE, "保护接地适用于中性点不接地系统。", 1.0, ("A-01",), key=("Y",))
    assert "判断题答案为 T（正确）或 F（错误）" in _errors(tf)
    multi = dataclasses.replace(single_choice(), item_type=ItemType.MULTIPLE_CHOICE, key=("A",))
    assert "多项选择题至少应有两个正确答案" in _errors(multi)
    short = ItemContent(ItemType.SHORT_ANSWER, "简述安全用电要点。", 10.0, ("B-02",))
    assert "简答题须有评分标准" in _errors(short)
    fill = ItemContent(ItemType.FILL_IN, "我国工频为____Hz。", 1.0, ("A-02",), key=(" ",))
    assert "填空题须填写标准答案" in _errors(fill)
    task = dataclasses.replace(practical_task(), time_limit_min=None)
    assert "考核时限（分钟）：实际操作试题须填写考核时限" in _errors(task)
    wrong_sum = dataclasses.replace(practical_task(), points=40.0)
    assert "评分要点配分合计 30 分，与试题分值 40 分不符" in _errors(wrong_sum)
    tf_with_options = dataclasses.replace(tf, key=("T",), options=(Option("A", "x"), Option("B", "y")))
    assert "判断题没有选项" in _errors(tf_with_options)
    # every problem names its field, for the page to put it beside the input
    assert {p.field for p in validate_content(wrong_sum)} == {"rubric"}
    with i18n.use_locale("en"):
        assert "X1: scoring points: the scoring points sum to 30, but the item is worth 40" in _errors(wrong_sum)


def test_add_and_read_item(session: Session, bank: BankRef) -> None:
    item = add_item(session, bank=bank, code="DG5-T-0001", content=single_choice(), actor="writer1")
    assert item.version == 1 and item.state is VersionState.DRAFT
    assert item.content == single_choice()
    again = get_item(session, bank=bank, code="DG5-T-0001")
    assert again == item


def test_revision_keeps_the_old_version(session: Session, bank: BankRef) -> None:
    add_item(session, bank=bank, code="Q1", content=single_choice(), actor="w")
    new_content = single_choice(stem="下列电压中不属于安全电压额定值的是（　）。")
    v2 = revise_item(session, bank=bank, code="Q1", content=new_content, actor="w", reason="措辞")
    assert v2.version == 2
    assert get_item(session, bank=bank, code="Q1", version=1).content == single_choice()
    assert get_item(session, bank=bank, code="Q1").content == new_content
    same = revise_item(session, bank=bank, code="Q1", content=new_content, actor="w")
    assert same.version == 2, "unchanged content makes no new version"
    assert [v.version for v in list_versions(session, bank=bank, code="Q1")] == [1, 2]
    with pytest.raises(NotFoundError, match="没有第 7 版"):
        get_item(session, bank=bank, code="Q1", version=7)


def test_revision_cannot_change_part_or_break_rules(session: Session, bank: BankRef) -> None:
    add_item(session, bank=bank, code="Q1", content=single_choice(), actor="w")
    with pytest.raises(ItemValidationError, match="属于理论知识，修订时不能改为实际操作"):
        revise_item(session, bank=bank, code="Q1", content=practical_task(), actor="w")
    with pytest.raises(ItemValidationError, match="答案 Z 不在选项"):
        revise_item(session, bank=bank, code="Q1", content=single_choice(key="Z"), actor="w")
    assert len(list_versions(session, bank=bank, code="Q1")) == 1


def test_accepting_supersedes_the_previous_accepted_version(session: Session, bank: BankRef) -> None:
    add_item(session, bank=bank, code="Q1", content=single_choice(), actor="w", state=VersionState.ACCEPTED)
    revise_item(session, bank=bank, code="Q1", content=single_choice(stem="新题干（　）。"), actor="w")
    assert accepted_version(session, bank=bank, code="Q1").version == 1
    set_version_state(session, bank=bank, code="Q1", version=2, state=VersionState.ACCEPTED, actor="committee")
    states = {v.version: v.state for v in list_versions(session, bank=bank, code="Q1")}
    assert states == {1: VersionState.SUPERSEDED, 2: VersionState.ACCEPTED}


def test_bulk_add_is_all_or_nothing_and_lists_every_error(session: Session, bank: BankRef) -> None:
    good = NewItem("G1", single_choice())
    batch = [
        good,
        NewItem("B 2", single_choice()),                 # bad code
        NewItem("B3", single_choice(key="Q")),           # key not among options
        NewItem("B4", single_choice(element="Z-1")),     # unknown element
        NewItem("G1", single_choice()),                  # duplicate in batch
    ]
    with pytest.raises(ItemValidationError) as exc:
        add_items(session, bank=bank, items=batch, actor="importer")
    text = "\n".join(exc.value.listed())
    assert "试题编号“B 2”不符合要求" in text and "试题 B3，答案：答案 Q 不在选项" in text
    assert "试题 B4，鉴定点：Z-1 不是现行理论知识认定要素细目表中的鉴定点" in text
    assert "试题 G1，编号：编号在本批中重复" in text
    assert session.scalar(select(func.count()).select_from(ItemRecord)) == 0
    assert session.scalar(select(func.count()).select_from(ItemVersionRecord)) == 0
    add_items(session, bank=bank, items=[good], actor="importer")
    with pytest.raises(ItemValidationError, match="试题 G1，编号：编号已在"):
        add_items(session, bank=bank, items=[good], actor="importer")


def test_enemies_are_symmetric(session: Session, bank: BankRef) -> None:
    for code in ("Q1", "Q2", "Q3"):
        add_item(session, bank=bank, code=code, content=single_choice(), actor="w")
    assert add_enemies(session, bank=bank, pairs=[("Q2", "Q1"), ("Q1", "Q3")], actor="m") == 2
    assert add_enemies(session, bank=bank, pairs=[("Q1", "Q2")], actor="m") == 0, "already there"
    assert get_item(session, bank=bank, code="Q1").enemies == ("Q2", "Q3")
    assert get_item(session, bank=bank, code="Q2").enemies == ("Q1",)
    assert remove_enemy(session, bank=bank, code_a="Q1", code_b="Q2", actor="m")
    assert get_item(session, bank=bank, code="Q2").enemies == ()
    with pytest.raises(ValidationError, match="试题不能与自身互斥"):
        add_enemies(session, bank=bank, pairs=[("Q3", "Q3")], actor="m")
    with pytest.raises(ValidationError, match="中没有试题 NOPE"):
        add_enemies(session, bank=bank, pairs=[("Q3", "NOPE")], actor="m")


def test_content_hash_is_order_insensitive_for_elements_only() -> None:
    a = dataclasses.replace(single_choice(), element_codes=("A-01", "B-01"))
    b = dataclasses.replace(single_choice(), element_codes=("B-01", "A-01"))
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(dataclasses.replace(a, stem=a.stem + " "))


_codes = itertools.count(1)
stems = st.text(alphabet="电压电流安全接地绝缘开关（　）。ABC", min_size=1, max_size=20).filter(str.strip)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(revisions=st.lists(stems, min_size=1, max_size=6))
def test_revisions_never_lose_a_version(session: Session, bank: BankRef, revisions: list[str]) -> None:
    code = f"H{next(_codes)}"  # the session is shared by all examples of this test
    add_item(session, bank=bank, code=code, content=single_choice(stem="初始题干"), actor="w")
    history = [single_choice(stem="初始题干")]
    for stem in revisions:
        content = single_choice(stem=stem)
        revise_item(session, bank=bank, code=code, content=content, actor="w")
        if content != history[-1]:
            history.append(content)
    versions = list_versions(session, bank=bank, code=code)
    assert [v.version for v in versions] == list(range(1, len(history) + 1))
    assert [v.content for v in versions] == history


def test_bulk_add_refreshes_postgres_statistics_inside_the_transaction(session: Session, bank: BankRef) -> None:
    """An autovacuum ANALYZE during an uncommitted import records the tables as empty and the
    queries after it in the transaction take minutes; add_items re-analyses them itself and
    holds the lock that keeps autovacuum off them until commit (itembank.db.refresh_statistics)."""
    from sqlalchemy import text

    from itembank.db import BULK_ROWS

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("planner statistics are a PostgreSQL matter; CI runs this file on PostgreSQL too")
    n = BULK_ROWS + 100
    add_items(session, bank=bank, items=[NewItem(f"S{i:04d}", single_choice()) for i in range(n)], actor="importer")
    reltuples = session.execute(
        text("SELECT relname, reltuples FROM pg_class WHERE relname IN ('items', 'item_versions', "
             "'item_version_elements') AND relnamespace = current_schema()::regnamespace")).all()
    assert {name for name, _ in reltuples} == {"items", "item_versions", "item_version_elements"}
    assert all(t >= n for _, t in reltuples), reltuples
    locks = session.execute(text(
        "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE l.pid = pg_backend_pid() AND l.mode = 'ShareUpdateExclusiveLock'")).scalars().all()
    assert {"items", "item_versions", "item_version_elements"} <= set(locks)
