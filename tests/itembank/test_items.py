from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
    return "\n".join(validate_content(content, element_codes=codes, where="X1"))


def test_valid_items_have_no_errors() -> None:
    assert _errors(single_choice(), {"A-01"}) == ""
    assert _errors(practical_task(), {"P-01"}) == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(key=("E",)), "key: E not among the options ABCD"),
        (dict(key=("A", "B")), "exactly one key"),
        (dict(stem="  "), "stem: the question text is empty"),
        (dict(points=0), "points: 0 must be a positive"),
        (dict(points=float("nan")), "points"),
        (dict(difficulty_rating=6), "difficulty_rating: 6"),
        (dict(element_codes=()), "tied to no element"),
        (dict(element_codes=("Z-99",)), "Z-99 not an element"),
        (dict(options=(Option("A", "36V"), Option("A", "24V"))), "option labels repeat"),
        (dict(options=(Option("A", "36V"),), key=("A",)), "at least 2 options"),
    ],
)
def test_single_choice_errors(change: dict, message: str) -> None:
    content = dataclasses.replace(single_choice(), **change)
    assert message in _errors(content, {"A-01"})


def test_each_type_has_its_rules() -> None:
    tf = ItemContent(ItemType.TRUE_FALSE, "保护接地适用于中性点不接地系统。", 1.0, ("A-01",), key=("Y",))
    assert "T (正确) or F (错误)" in _errors(tf)
    multi = dataclasses.replace(single_choice(), item_type=ItemType.MULTIPLE_CHOICE, key=("A",))
    assert "at least two keys" in _errors(multi)
    short = ItemContent(ItemType.SHORT_ANSWER, "简述安全用电要点。", 10.0, ("B-02",))
    assert "scoring standard" in _errors(short)
    fill = ItemContent(ItemType.FILL_IN, "我国工频为____Hz。", 1.0, ("A-02",), key=(" ",))
    assert "expected answer" in _errors(fill)
    task = dataclasses.replace(practical_task(), time_limit_min=None)
    assert "time limit" in _errors(task)
    wrong_sum = dataclasses.replace(practical_task(), points=40.0)
    assert "scoring points sum to 30, but the item is worth 40" in _errors(wrong_sum)
    tf_with_options = dataclasses.replace(tf, key=("T",), options=(Option("A", "x"), Option("B", "y")))
    assert "has no options" in _errors(tf_with_options)


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
    with pytest.raises(NotFoundError, match="no version 7"):
        get_item(session, bank=bank, code="Q1", version=7)


def test_revision_cannot_change_part_or_break_rules(session: Session, bank: BankRef) -> None:
    add_item(session, bank=bank, code="Q1", content=single_choice(), actor="w")
    with pytest.raises(ItemValidationError, match="part"):
        revise_item(session, bank=bank, code="Q1", content=practical_task(), actor="w")
    with pytest.raises(ItemValidationError, match="key"):
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
    text = "\n".join(exc.value.errors)
    assert "'B 2'" in text and "item B3: key: Q" in text and "item B4: element_codes: Z-1" in text
    assert "item G1: the code appears twice" in text
    assert session.scalar(select(func.count()).select_from(ItemRecord)) == 0
    assert session.scalar(select(func.count()).select_from(ItemVersionRecord)) == 0
    add_items(session, bank=bank, items=[good], actor="importer")
    with pytest.raises(ItemValidationError, match="G1: the code is already used"):
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
    with pytest.raises(ValidationError, match="own enemy"):
        add_enemies(session, bank=bank, pairs=[("Q3", "Q3")], actor="m")
    with pytest.raises(ValidationError, match="no item NOPE"):
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
