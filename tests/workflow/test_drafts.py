"""Drafts that save incomplete, numbered item codes, one reviewer for many items at once, the
character diff, and imports staged for confirmation (issue 17, the workflow's part)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from itembank.domain import ItemContent, ItemType, Part, VersionState
from itembank.errors import (
    ItemValidationError,
    NotFoundError,
    NotQualifiedError,
    PermissionDeniedError,
    ValidationError,
    WorkflowError,
)
from itembank.items import get_item, list_versions
from itembank.workflow import (
    assign_reviewer,
    assign_reviewers,
    char_diff,
    item_events,
    next_item_code,
    record_review,
    reviewers_of,
    revision_notes,
    save_draft,
    stage_import,
    start_review,
    submit,
    take_staged_import,
)
from tests.itembank.conftest import single_choice

from .conftest import MANAGER, OUTSIDER, R1, W1, W2, Cast, draft

S = VersionState
EMPTY = ItemContent(item_type=ItemType.SINGLE_CHOICE, stem="", points=1.0, element_codes=())


def test_a_draft_saves_incomplete_and_is_updated_in_place_until_submitted(session: Session, cast: Cast) -> None:
    b = cast.bank
    item, changed = save_draft(session, actor=W1, bank=b, code="D1", content=EMPTY)
    assert changed and item.version == 1 and item.state is S.DRAFT and item.content.stem == ""
    # more typing, saved again: the same version, updated (a draft is work in progress)
    more = replace(EMPTY, stem="安全电压（　）。", options=single_choice().options)
    item, changed = save_draft(session, actor=W1, bank=b, code="D1", content=more)
    assert changed and item.version == 1 and get_item(session, bank=b, code="D1").content.stem == "安全电压（　）。"
    assert save_draft(session, actor=W1, bank=b, code="D1", content=more)[1] is False  # nothing new
    # incomplete: submission refused, every gap listed, nothing moved
    with pytest.raises(ItemValidationError) as refused:
        submit(session, actor=W1, bank=b, code="D1")
    assert {e.field for e in refused.value.errors} >= {"key", "element_codes"}
    assert get_item(session, bank=b, code="D1").state is S.DRAFT
    # complete: submitted
    save_draft(session, actor=W1, bank=b, code="D1", content=single_choice(stem="安全电压（　）。"))
    assert submit(session, actor=W1, bank=b, code="D1").state is S.SUBMITTED
    # in review the content is frozen; another writer may not touch it
    with pytest.raises(WorkflowError) as frozen:
        save_draft(session, actor=W1, bank=b, code="D1", content=EMPTY)
    assert frozen.value.code == "content_frozen" and frozen.value.from_state == S.SUBMITTED.value
    with pytest.raises(PermissionDeniedError, match="不是您编写的"):
        save_draft(session, actor=W2, bank=b, code="D1", content=EMPTY)
    # events in words' order: created, saved twice, submitted; no readings among them
    events, reads = item_events(session, bank=b, code="D1")
    assert [e.action for e in events] == ["item.create", "item.draft_saved", "item.draft_saved", "item.state"]
    assert reads == 0


def test_after_changes_are_requested_a_draft_is_a_new_version_with_its_note(session: Session, cast: Cast) -> None:

    b = cast.bank
    draft(session, b, "D2")
    submit(session, actor=W1, bank=b, code="D2")
    assign_reviewer(session, actor=MANAGER, bank=b, code="D2", reviewer="r1")
    start_review(session, actor=R1, bank=b, code="D2")
    record_review(session, actor=R1, bank=b, code="D2", decision="request_changes", comment="改选项 D")
    item, _ = save_draft(session, actor=W1, bank=b, code="D2", content=single_choice(stem="D2 改（　）。"),
                         reason="按意见修改")
    assert item.version == 2
    assert [v.state for v in list_versions(session, bank=b, code="D2")] == [S.SUPERSEDED, S.DRAFT]
    assert revision_notes(session, bank=b, code="D2") == {2: "按意见修改"}


def test_only_registered_writers_save_drafts_and_codes_are_checked(session: Session, cast: Cast) -> None:
    with pytest.raises(NotQualifiedError):
        save_draft(session, actor=OUTSIDER, bank=cast.bank, code="X1", content=EMPTY)
    with pytest.raises(ValidationError):
        save_draft(session, actor=W1, bank=cast.bank, code="bad code!", content=EMPTY)
    with pytest.raises(ValidationError) as refused:
        save_draft(session, actor=W1, bank=cast.bank, code="X2", content=replace(EMPTY, points=0.0))
    assert refused.value.field == "points" and refused.value.params == {"code": "X2"}


def test_codes_are_numbered_after_the_banks_own_numbering(session: Session, cast: Cast) -> None:
    b = cast.bank
    assert next_item_code(session, bank=b, part=Part.THEORY) == "6-31-01-03-5T-0001"  # an empty bank
    for code in ("DG5-T-0007", "DG5-T-0012", "DG5-T-0009", "OLD-3"):
        draft(session, b, code)
    assert next_item_code(session, bank=b, part=Part.THEORY) == "DG5-T-0013"
    draft(session, b, "DG5-T-0013")
    assert next_item_code(session, bank=b, part=Part.THEORY) == "DG5-T-0014"
    # a practical item has its own numbering
    assert next_item_code(session, bank=b, part=Part.PRACTICAL) == "6-31-01-03-5P-0001"


def test_one_reviewer_for_many_items_all_or_nothing(session: Session, cast: Cast) -> None:
    b = cast.bank
    for code, writer in (("A1", W1), ("A2", W1), ("A3", W2)):
        draft(session, b, code, writer=writer)
        submit(session, actor=writer, bank=b, code=code)
    assert assign_reviewers(session, actor=MANAGER, bank=b, codes=["A1", "A2"], reviewer="r1") == ["A1", "A2"]
    # again with one new: only the new one is assigned
    assert assign_reviewers(session, actor=MANAGER, bank=b, codes=["A1", "A3"], reviewer="r1") == ["A3"]
    # one bad code: nothing assigned, the problem named
    with pytest.raises(ValidationError) as bad:
        assign_reviewers(session, actor=MANAGER, bank=b, codes=["A1", "NOPE"], reviewer="r2")
    assert any("NOPE" in str(e) for e in bad.value.errors)
    assert reviewers_of(session, bank=b, code="A1") == ["r1"]
    with pytest.raises(PermissionDeniedError):
        assign_reviewers(session, actor=W1, bank=b, codes=["A1"], reviewer="r2")
    with pytest.raises(NotQualifiedError):
        assign_reviewers(session, actor=MANAGER, bank=b, codes=["A1"], reviewer="nobody")


def test_character_diff_shows_an_added_space() -> None:
    assert char_diff("220V", "220 V") == [("equal", "220"), ("insert", " "), ("equal", "V")]
    assert char_diff("选项 C 为 20Ω", "选项 C 为 25Ω") == [("equal", "选项 C 为 2"), ("delete", "0"), ("insert", "5"),
                                                        ("equal", "Ω")]
    assert char_diff("", "新") == [("insert", "新")]


@given(st.text(max_size=40), st.text(max_size=40))
def test_character_diff_rebuilds_both_texts(old: str, new: str) -> None:
    ops = char_diff(old, new)
    assert "".join(t for op, t in ops if op in ("equal", "delete")) == old
    assert "".join(t for op, t in ops if op in ("equal", "insert")) == new
    assert all(t for _, t in ops)


def test_a_staged_import_is_taken_once_by_its_user_with_its_hash(session: Session, cast: Cast) -> None:
    staged = stage_import(session, bank=cast.bank, username="m1", kind="items", filename="a.csv", data=b"x,y\n",
                          options={"mode": "draft"})
    for token, user, sha in ((staged.token, "m2", staged.sha256), (staged.token, "m1", "0" * 64),
                             ("no-such-token", "m1", staged.sha256)):
        with pytest.raises(NotFoundError):
            take_staged_import(session, token=token, bank=cast.bank, username=user, sha256=sha)
    with pytest.raises(NotFoundError):
        take_staged_import(session, token=staged.token, bank=cast.other_bank, username="m1", sha256=staged.sha256)
    got = take_staged_import(session, token=staged.token, bank=cast.bank, username="m1", sha256=staged.sha256)
    assert got.data == b"x,y\n" and got.options == {"mode": "draft"}
    with pytest.raises(NotFoundError):  # once only
        take_staged_import(session, token=staged.token, bank=cast.bank, username="m1", sha256=staged.sha256)
