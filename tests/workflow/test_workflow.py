from __future__ import annotations

import dataclasses
import itertools

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from itembank import i18n
from itembank.domain import Actor, Level, Option, Role, RubricPoint, VersionState
from itembank.errors import (
    ConflictError,
    NotQualifiedError,
    PermissionDeniedError,
    ValidationError,
    WorkflowError,
)
from itembank.experts import ExpertRole, grant_scope, suspend_expert
from itembank.items import get_item, list_versions, set_version_state
from itembank.ledger import query_ledger, verify_ledger
from itembank.orm import LedgerEntryRecord
from itembank.orm_workflow import AcceptanceSignatureRecord
from itembank.pool import load_pool
from itembank.usage import mark_compromised
from itembank.workflow import (
    ALLOWED_TRANSITIONS,
    AcceptanceRule,
    BatchState,
    ReviewDecision,
    ReviewKind,
    acceptance_of,
    assign_reviewer,
    assigned_items,
    check_transition,
    compare_versions,
    create_acceptance_batch,
    create_item,
    diff_versions,
    get_batch,
    item_history,
    record_review,
    reject_batch,
    retire_item,
    reviews_of,
    revise,
    sign_batch,
    start_review,
    submit,
    vote_batch,
)
from tests.itembank.conftest import practical_task, single_choice

from .conftest import (
    ADMIN,
    COMMITTEE,
    MANAGER,
    MEMBERS,
    OCC,
    OUTSIDER,
    R1,
    R2,
    W1,
    W2,
    Cast,
    approved,
    draft,
)

S = VersionState


def _state(session: Session, bank, code: str, version: int | None = None) -> VersionState:
    return get_item(session, bank=bank, code=code, version=version).state


def _accept(session: Session, bank, codes: list[str], members=MEMBERS) -> str:
    batch = create_acceptance_batch(session, actor=MANAGER, bank=bank, codes=codes, members=list(members),
                                    meeting="2026-11-20 题库验收会 A301")
    for a in COMMITTEE:
        if a.username in members:
            sign_batch(session, actor=a, batch_code=batch.code, opinion="同意入库")
    return batch.code


def _n_ledger(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LedgerEntryRecord)) or 0


# --------------------------------------------------------------------------------------
# The path through the workflow


def test_item_goes_from_draft_to_the_bank_with_every_signature(session: Session, cast: Cast) -> None:
    b = cast.bank
    draft(session, b, "Q1")
    assert _state(session, b, "Q1") is S.DRAFT
    submit(session, actor=W1, bank=b, code="Q1", comment="请审")
    assert assign_reviewer(session, actor=MANAGER, bank=b, code="Q1", reviewer="r1")
    assert not assign_reviewer(session, actor=MANAGER, bank=b, code="Q1", reviewer="r1"), "idempotent"
    assert [a.code for a in assigned_items(session, reviewer="r1")] == ["Q1"]
    assert assigned_items(session, reviewer="r2") == []
    start_review(session, actor=R1, bank=b, code="Q1")
    record_review(session, actor=R1, bank=b, code="Q1", decision=ReviewDecision.APPROVE, comment="无误")
    assert _state(session, b, "Q1") is S.APPROVED
    assert load_pool(session, bank=b) == [], "only accepted versions are eligible for papers"

    batch = create_acceptance_batch(session, actor=MANAGER, bank=b, codes=["Q1"], members=list(MEMBERS))
    assert batch.state is BatchState.OPEN and batch.items == (("Q1", 1),)
    for a in COMMITTEE[:4]:
        batch = sign_batch(session, actor=a, batch_code=batch.code, opinion="同意")
        assert _state(session, b, "Q1") is S.APPROVED, "not accepted before every member signed"
    assert batch.unsigned == ("c5",) and batch.state is BatchState.OPEN
    batch = sign_batch(session, actor=COMMITTEE[4], batch_code=batch.code)
    assert batch.state is BatchState.ACCEPTED and batch.all_signed and batch.closed_by == "c5"
    assert _state(session, b, "Q1") is S.ACCEPTED
    assert [it.code for it in load_pool(session, bank=b)] == ["Q1"]

    stored = acceptance_of(session, bank=b, code="Q1", version=1)
    assert stored is not None and stored.code == batch.code
    assert [s.member for s in stored.signatures] == list(MEMBERS)
    assert all(len(s.signature) == 64 and s.signed_at is not None for s in stored.signatures)

    history = item_history(session, bank=b, code="Q1")
    moves = [(e.actor, e.details.get("from"), e.details.get("to")) for e in history if e.action == "item.state"]
    assert moves == [("w1", "draft", "submitted"), ("r1", "submitted", "in_review"),
                     ("r1", "in_review", "approved"), ("c5", "approved", "accepted")]
    reason = i18n.from_storable(history[-1].details["reason"])
    assert str(reason).startswith(f"经验收批次 {batch.code} 验收通过，签署人：")
    assert any(e.action == "review.record" and e.details["comment"] == "无误" for e in history)
    actions = {e.action for e in query_ledger(session, object_type="acceptance_batch", object_id=batch.code)}
    assert actions == {"batch.create", "batch.sign", "batch.accept"}
    assert verify_ledger(session).ok


def test_changes_requested_then_revised_and_resubmitted(session: Session, cast: Cast) -> None:
    b = cast.bank
    draft(session, b, "Q1")
    submit(session, actor=W1, bank=b, code="Q1")
    assign_reviewer(session, actor=MANAGER, bank=b, code="Q1", reviewer="r1")
    start_review(session, actor=R1, bank=b, code="Q1")
    with pytest.raises(ValidationError, match="请写明需要命题人修改的内容"):
        record_review(session, actor=R1, bank=b, code="Q1", decision=ReviewDecision.REQUEST_CHANGES, comment=" ")
    record_review(session, actor=R1, bank=b, code="Q1", decision=ReviewDecision.REQUEST_CHANGES,
                  comment="选项D与题干不符")
    assert _state(session, b, "Q1") is S.CHANGES_REQUESTED
    new = revise(session, actor=W1, bank=b, code="Q1", content=single_choice(stem="改后的题干（　）。"),
                 reason="按审题意见修改")
    assert new.version == 2 and new.state is S.DRAFT
    assert _state(session, b, "Q1", 1) is S.SUPERSEDED, "the returned version is superseded, never lost"
    submit(session, actor=W1, bank=b, code="Q1")
    start_review(session, actor=R1, bank=b, code="Q1")
    record_review(session, actor=R1, bank=b, code="Q1", decision="approve", comment="")
    assert [(r.version, r.decision) for r in reviews_of(session, bank=b, code="Q1")] == [
        (1, ReviewDecision.REQUEST_CHANGES), (2, ReviewDecision.APPROVE)]
    # a returned version may also be resubmitted unchanged (the writer answers the comment)
    draft(session, b, "Q2")
    submit(session, actor=W1, bank=b, code="Q2")
    assign_reviewer(session, actor=MANAGER, bank=b, code="Q2", reviewer="r2")
    start_review(session, actor=R2, bank=b, code="Q2")
    record_review(session, actor=R2, bank=b, code="Q2", decision="request_changes", comment="核对答案")
    submit(session, actor=W1, bank=b, code="Q2", comment="已核对，答案无误")
    assert _state(session, b, "Q2") is S.SUBMITTED


def test_revising_an_accepted_item_keeps_the_old_version_in_the_bank_until_the_new_one_is_accepted(
    session: Session, cast: Cast
) -> None:
    b = cast.bank
    approved(session, b, "Q1")
    _accept(session, b, ["Q1"])
    revise(session, actor=W2, bank=b, code="Q1", content=single_choice(stem="新题干（　）。", key="C"),
           reason="更新标准")
    assert [(it.code, it.version) for it in load_pool(session, bank=b)] == [("Q1", 1)]
    submit(session, actor=W2, bank=b, code="Q1")
    start_review(session, actor=R1, bank=b, code="Q1")
    record_review(session, actor=R1, bank=b, code="Q1", decision="approve", comment="")
    _accept(session, b, ["Q1"], members=[a.username for a in COMMITTEE[1:6]])
    states = {v.version: v.state for v in list_versions(session, bank=b, code="Q1")}
    assert states == {1: S.SUPERSEDED, 2: S.ACCEPTED}
    assert [(it.code, it.version) for it in load_pool(session, bank=b)] == [("Q1", 2)]
    assert acceptance_of(session, bank=b, code="Q1", version=1) is not None, "old signatures stay"


def test_rejected_batch_returns_the_named_items_and_frees_the_others(session: Session, cast: Cast) -> None:
    b = cast.bank
    for code in ("Q1", "Q2"):
        approved(session, b, code)
    batch = create_acceptance_batch(session, actor=MANAGER, bank=b, codes=["Q1", "Q2"], members=list(MEMBERS))
    sign_batch(session, actor=COMMITTEE[0], batch_code=batch.code)
    with pytest.raises(PermissionDeniedError, match="只有该批次的验收委员或题库管理人员可以退回"):
        reject_batch(session, actor=COMMITTEE[5], batch_code=batch.code, reason="x")
    with pytest.raises(ValidationError, match="中没有试题 Q9"):
        reject_batch(session, actor=COMMITTEE[1], batch_code=batch.code, reason="x", return_codes=["Q9"])
    with pytest.raises(ValidationError, match="请说明验收不通过的原因"):
        reject_batch(session, actor=COMMITTEE[1], batch_code=batch.code, reason=" ")
    # one member's refusal is a vote: the batch stays open until every member has voted
    out = reject_batch(session, actor=COMMITTEE[1], batch_code=batch.code, reason="Q2 评分标准不完整",
                       return_codes=["Q2"])
    assert out.state is BatchState.OPEN and [r.member for r in out.refusals] == [COMMITTEE[1].username]
    assert out.unsigned == tuple(m.username for m in COMMITTEE[2:5])
    assert _state(session, b, "Q1") is S.APPROVED and _state(session, b, "Q2") is S.APPROVED
    for a in COMMITTEE[2:5]:
        out = sign_batch(session, actor=a, batch_code=batch.code, opinion="同意")
    # all voted, 4 of 5 accept: not unanimous (the default rule), so not accepted
    assert out.state is BatchState.REJECTED and out.returned == ("Q2",) and "评分标准不完整" in out.close_reason
    assert _state(session, b, "Q1") is S.APPROVED and _state(session, b, "Q2") is S.CHANGES_REQUESTED
    # the refusal's reason reaches the writer's review record
    record = reviews_of(session, bank=b, code="Q2")
    assert record[-1].kind is ReviewKind.COMMITTEE and record[-1].batch_code == batch.code
    assert "Q2 评分标准不完整" in record[-1].comment
    with pytest.raises(WorkflowError, match="状态为“验收未通过”，不能再签署"):
        sign_batch(session, actor=COMMITTEE[2], batch_code=batch.code)
    code = _accept(session, b, ["Q1"])
    assert get_batch(session, batch_code=code).state is BatchState.ACCEPTED
    assert _state(session, b, "Q1") is S.ACCEPTED


def test_a_batch_is_decided_by_its_rule_once_every_member_has_voted(session: Session, cast: Cast) -> None:
    b = cast.bank
    for code in ("Q1", "Q2", "Q3"):
        approved(session, b, code)
    # majority: 3 of 5 accept -> accepted, although two refused
    batch = create_acceptance_batch(session, actor=MANAGER, bank=b, codes=["Q1"], members=list(MEMBERS),
                                    rule=AcceptanceRule.MAJORITY)
    for i, a in enumerate(COMMITTEE[:5]):
        if i < 2:
            out = vote_batch(session, actor=a, batch_code=batch.code, accept=False, opinion="题干表述不清")
        else:
            out = vote_batch(session, actor=a, batch_code=batch.code, accept=True, opinion="同意")
        assert (out.state is BatchState.OPEN) == (i < 4)
    assert out.state is BatchState.ACCEPTED and out.rule is AcceptanceRule.MAJORITY
    assert _state(session, b, "Q1") is S.ACCEPTED
    # two thirds: 3 of 5 is below 2/3 -> not accepted; every refused item goes back
    batch = create_acceptance_batch(session, actor=MANAGER, bank=b, codes=["Q2", "Q3"], members=list(MEMBERS),
                                    rule="two_thirds")
    for i, a in enumerate(COMMITTEE[:5]):
        out = vote_batch(session, actor=a, batch_code=batch.code, accept=i >= 2, opinion="意见" if i < 2 else "")
    assert out.state is BatchState.REJECTED and out.returned == ("Q2", "Q3")
    assert [r.member for r in out.refusals] == [COMMITTEE[0].username, COMMITTEE[1].username]
    assert _state(session, b, "Q2") is S.CHANGES_REQUESTED and _state(session, b, "Q3") is S.CHANGES_REQUESTED
    assert AcceptanceRule.UNANIMOUS.accepts(5, 5) and not AcceptanceRule.UNANIMOUS.accepts(4, 5)
    assert AcceptanceRule.TWO_THIRDS.accepts(4, 6) and not AcceptanceRule.TWO_THIRDS.accepts(3, 5)
    assert AcceptanceRule.MAJORITY.accepts(3, 5) and not AcceptanceRule.MAJORITY.accepts(3, 6)


def test_a_bank_manager_withdraws_a_batch_at_once(session: Session, cast: Cast) -> None:
    b = cast.bank
    approved(session, b, "Q1")
    batch = create_acceptance_batch(session, actor=MANAGER, bank=b, codes=["Q1"], members=list(MEMBERS))
    sign_batch(session, actor=COMMITTEE[0], batch_code=batch.code)
    out = reject_batch(session, actor=MANAGER, batch_code=batch.code, reason="批次建立有误，撤回")
    assert out.state is BatchState.REJECTED and out.returned == ("Q1",)
    assert _state(session, b, "Q1") is S.CHANGES_REQUESTED


def test_retirement_by_a_bank_manager_with_a_reason(session: Session, cast: Cast) -> None:
    b = cast.bank
    approved(session, b, "Q1")
    with pytest.raises(WorkflowError, match="没有已验收的版本可停用"):
        retire_item(session, actor=MANAGER, bank=b, code="Q1", reason="过时")
    _accept(session, b, ["Q1"])
    with pytest.raises(PermissionDeniedError, match="需要职业 6-31-01-03 的题库管理人员角色"):
        retire_item(session, actor=W1, bank=b, code="Q1", reason="过时")
    with pytest.raises(ValidationError, match="请说明停用原因"):
        retire_item(session, actor=MANAGER, bank=b, code="Q1", reason="")
    item = retire_item(session, actor=MANAGER, bank=b, code="Q1", reason="标准已废止 GB 1234-2001")
    assert item.state is S.RETIRED and load_pool(session, bank=b) == []
    last = item_history(session, bank=b, code="Q1")[-1]
    assert (last.actor, last.details["to"], last.details["reason"]) == ("m1", "retired", "标准已废止 GB 1234-2001")


# --------------------------------------------------------------------------------------
# Who may do what


def test_writers_must_be_registered_for_the_occupation(session: Session, cast: Cast) -> None:
    with pytest.raises(NotQualifiedError, match="不在专家信息库中"):
        create_item(session, actor=OUTSIDER, bank=cast.bank, code="Q1", content=single_choice())
    w1_everywhere = Actor("w1", frozenset({Role.ITEM_WRITER}))
    with pytest.raises(NotQualifiedError, match="只登记为职业 6-31-01-03 的命题专家，不是职业 4-04-05-01 的"):
        create_item(session, actor=w1_everywhere, bank=cast.other_bank, code="Q1", content=single_choice())
    with pytest.raises(PermissionDeniedError, match="需要职业 [0-9-]+ 的命题专家角色"):
        create_item(session, actor=W1, bank=cast.other_bank, code="Q1", content=single_choice())
    with pytest.raises(PermissionDeniedError, match="需要职业 [0-9-]+ 的命题专家角色"):
        create_item(session, actor=R1, bank=cast.bank, code="Q1", content=single_choice())
    suspend_expert(session, actor=MANAGER, username="w2", reason="曾泄露试题")
    with pytest.raises(NotQualifiedError, match="已暂停专家工作：曾泄露试题"):
        create_item(session, actor=W2, bank=cast.bank, code="Q1", content=single_choice())
    assert session.scalar(select(func.count()).select_from(LedgerEntryRecord).where(
        LedgerEntryRecord.action == "item.create")) == 0


def test_only_the_writer_of_a_version_submits_it(session: Session, cast: Cast) -> None:
    draft(session, cast.bank, "Q1")
    with pytest.raises(PermissionDeniedError, match="由 w1 编写，只能由编写人提交，w2 不能提交"):
        submit(session, actor=W2, bank=cast.bank, code="Q1")


def test_a_writer_never_reviews_their_own_items(session: Session, cast: Cast) -> None:
    b = cast.bank
    grant_scope(session, actor=MANAGER, username="w1", occupation_code=OCC, role=ExpertRole.REVIEWER,
                years_in_occupation=8, certificate_level=Level.L2)
    draft(session, b, "Q1")
    submit(session, actor=W1, bank=b, code="Q1")
    with pytest.raises(PermissionDeniedError, match="w1 编写过试题 Q1 的某个版本，不能担任其审题专家"):
        assign_reviewer(session, actor=MANAGER, bank=b, code="Q1", reviewer="w1")
    writer_reviewer = Actor("w1", frozenset({Role.ITEM_WRITER, Role.REVIEWER}))
    with pytest.raises(PermissionDeniedError, match="不能审核该题"):
        start_review(session, actor=writer_reviewer, bank=b, code="Q1")
    # r1 reviews Q1; later w2 revises it, and w2 may never review it either
    assign_reviewer(session, actor=MANAGER, bank=b, code="Q1", reviewer="r1")
    with pytest.raises(PermissionDeniedError, match="未被分配审核试题 Q1"):
        start_review(session, actor=R2, bank=b, code="Q1")
    with pytest.raises(PermissionDeniedError, match="审题专家角色"):
        start_review(session, actor=W2, bank=b, code="Q1")
    with pytest.raises(PermissionDeniedError, match="题库管理人员角色"):
        assign_reviewer(session, actor=R1, bank=b, code="Q1", reviewer="r2")
    with pytest.raises(NotQualifiedError, match="不在专家信息库中"):
        assign_reviewer(session, actor=MANAGER, bank=b, code="Q1", reviewer="nobody")


def test_committee_rules(session: Session, cast: Cast) -> None:
    b = cast.bank
    approved(session, b, "Q1")
    approved(session, b, "Q2", writer=W2)
    draft(session, b, "Q3")
    with pytest.raises(WorkflowError) as exc:
        create_acceptance_batch(session, actor=MANAGER, bank=b, codes=["Q1", "Q2", "Q3", "NOPE"],
                                members=["c1", "c2", "w2", "c3", "c3"])
    text = str(exc.value)
    assert "验收委员：只有 4 人，验收小组至少 5 人（附件11 第17条(二)）" in text
    assert "验收委员：有人重复列出（c1、c2、w2、c3、c3）" in text
    assert "试题 Q2 第 1 版：w2 是该题命题人，不得担任其验收委员" in text
    assert "试题 Q3 第 1 版：处于“草稿”状态，尚未审核通过" in text
    assert "6-31-01-03 电工 五级/初级工 中没有试题 NOPE" in text
    assert {e.field for e in exc.value.errors} == {"members", "items"}
    with pytest.raises(PermissionDeniedError, match="题库管理人员角色"):
        create_acceptance_batch(session, actor=COMMITTEE[0], bank=b, codes=["Q1"], members=list(MEMBERS))
    batch = create_acceptance_batch(session, actor=MANAGER, bank=b, codes=["Q1"], members=list(MEMBERS))
    with pytest.raises(WorkflowError, match="试题 Q1 第 1 版：已在另一个待签署的验收批次中"):
        create_acceptance_batch(session, actor=MANAGER, bank=b, codes=["Q1"], members=list(MEMBERS))
    with pytest.raises(PermissionDeniedError, match="c6 不是验收批次"):
        sign_batch(session, actor=COMMITTEE[5], batch_code=batch.code)
    with pytest.raises(PermissionDeniedError, match="验收委员角色"):
        sign_batch(session, actor=Actor("c1", frozenset({Role.REVIEWER})), batch_code=batch.code)
    sign_batch(session, actor=COMMITTEE[0], batch_code=batch.code)
    with pytest.raises(ConflictError, match="已签署过验收批次"):
        sign_batch(session, actor=COMMITTEE[0], batch_code=batch.code)
    compromised = "Q2"
    mark_compromised(session, bank=b, codes=[compromised], reason="考场泄露", actor="m1")
    with pytest.raises(WorkflowError, match="已泄密，不得再验收入库"):
        create_acceptance_batch(session, actor=MANAGER, bank=b, codes=[compromised], members=list(MEMBERS))


def test_acceptance_checks_again_when_the_last_member_signs(session: Session, cast: Cast) -> None:
    b = cast.bank
    approved(session, b, "Q1")
    batch = create_acceptance_batch(session, actor=MANAGER, bank=b, codes=["Q1"], members=list(MEMBERS))
    for a in COMMITTEE[:4]:
        sign_batch(session, actor=a, batch_code=batch.code)
    # an administrator forces the version back outside the workflow
    set_version_state(session, bank=b, code="Q1", version=1, state=S.DRAFT, actor="root")
    n = _n_ledger(session)
    with pytest.raises(WorkflowError, match="试题 Q1 第 1 版处于“草稿”状态"):
        sign_batch(session, actor=COMMITTEE[4], batch_code=batch.code)
    assert _state(session, b, "Q1") is S.DRAFT
    assert _n_ledger(session) == n and len(get_batch(session, batch_code=batch.code).signatures) == 4, \
        "the refused last signature is not stored"
    assert _n_ledger(session) == n and len(get_batch(session, batch_code=batch.code).signatures) == 4, \
        "the refused last signature is not stored"


# --------------------------------------------------------------------------------------
# The state machine: every forbidden transition


def test_every_pair_of_states_is_allowed_or_refused_by_the_table() -> None:
    for old, new in itertools.product(S, S):
        if (old, new) in ALLOWED_TRANSITIONS:
            check_transition(old, new)
        else:
            with pytest.raises(WorkflowError) as exc:
                check_transition(old, new)
            assert exc.value.from_state == old.value and exc.value.to_state == new.value
    assert len(ALLOWED_TRANSITIONS) == 11
    with pytest.raises(WorkflowError, match="已是最终状态"):
        check_transition(S.RETIRED, S.ACCEPTED)


def _submit(session, b):  # type: ignore[no-untyped-def]
    submit(session, actor=W1, bank=b, code="Q1")


def _start(session, b):  # type: ignore[no-untyped-def]
    start_review(session, actor=R1, bank=b, code="Q1")


def _approve(session, b):  # type: ignore[no-untyped-def]
    record_review(session, actor=R1, bank=b, code="Q1", decision="approve", comment="")


def _request(session, b):  # type: ignore[no-untyped-def]
    record_review(session, actor=R1, bank=b, code="Q1", decision="request_changes", comment="改")


def _batch(session, b):  # type: ignore[no-untyped-def]
    create_acceptance_batch(session, actor=MANAGER, bank=b, codes=["Q1"], members=list(MEMBERS))


def _retire(session, b):  # type: ignore[no-untyped-def]
    retire_item(session, actor=MANAGER, bank=b, code="Q1", reason="过时")


def _revise(session, b):  # type: ignore[no-untyped-def]
    revise(session, actor=W1, bank=b, code="Q1", content=single_choice(stem="改（　）。"))


ACTS = {
    "submit": (_submit, {S.DRAFT, S.CHANGES_REQUESTED}),
    "start_review": (_start, {S.SUBMITTED}),
    "approve": (_approve, {S.IN_REVIEW}),
    "request_changes": (_request, {S.IN_REVIEW}),
    "put_to_committee": (_batch, {S.APPROVED}),
    "retire": (_retire, {S.ACCEPTED}),
    # revising is refused only while the content is frozen
    "revise": (_revise, set(S) - {S.SUBMITTED, S.IN_REVIEW, S.APPROVED}),
}


@pytest.mark.parametrize("act", sorted(ACTS))
def test_every_act_is_refused_in_every_state_it_does_not_start_from(session: Session, cast: Cast, act: str) -> None:
    b = cast.bank
    fn, legal = ACTS[act]
    draft(session, b, "Q1")
    assign_reviewer(session, actor=MANAGER, bank=b, code="Q1", reviewer="r1")
    refused = 0
    for state in S:
        set_version_state(session, bank=b, code="Q1", version=1, state=state, actor="root", reason="test setup")
        if state in legal:
            continue
        n = _n_ledger(session)
        with pytest.raises(WorkflowError):
            fn(session, b)
        assert _state(session, b, "Q1", 1) is state, f"{act} changed a {state.value} version"
        assert len(list_versions(session, bank=b, code="Q1")) == 1
        assert _n_ledger(session) == n, f"{act} in {state.value} wrote to the ledger"
        refused += 1
    assert refused == len(S) - len(legal)


# --------------------------------------------------------------------------------------
# Structured diff (第14条)


def test_structured_diff_side_by_side(session: Session, cast: Cast) -> None:
    b = cast.bank
    draft(session, b, "Q1", single_choice(stem="旧题干（　）。"))
    new_content = dataclasses.replace(
        single_choice(stem="新题干（　）。", key="C", element="B-01"),
        options=(Option("A", "36V"), Option("B", "24V"), Option("C", "12V"), Option("E", "220V")),
        analysis="12V 属于安全电压", difficulty_rating=4,
    )
    revise(session, actor=W1, bank=b, code="Q1", content=new_content, reason="修改")
    d = compare_versions(session, actor=R1, bank=b, code="Q1")
    assert (d.old_version, d.new_version) == (1, 2)
    assert set(d.changed_fields) == {"stem", "options", "key", "element_codes", "analysis", "difficulty_rating"}
    assert d.field("stem").old == "旧题干（　）。" and d.field("stem").new == "新题干（　）。"
    assert d.field("points").changed is False and d.field("points").label == "分值"
    assert [(o.label, o.status) for o in d.options] == [("A", "unchanged"), ("B", "unchanged"),
                                                          ("C", "unchanged"), ("D", "removed"), ("E", "added")]
    assert d.elements_added == ("B-01",) and d.elements_removed == ("A-01",)
    assert [f.field for f in d.fields][:3] == ["item_type", "stem", "options"]
    assert query_ledger(session, action="item.view")[-1].actor == "r1", "reading content is ledgered"
    with pytest.raises(PermissionDeniedError):
        compare_versions(session, actor=Actor("exam", frozenset({Role.EXAM_OFFICE})), bank=b, code="Q1")


def test_rubric_diff_by_position() -> None:
    from itembank.domain import Item

    old = Item("P1", 1, practical_task(), S.ACCEPTED)
    rubric = (RubricPoint("接线正确", 15.0), RubricPoint("通电成功", 8.0), RubricPoint("安全文明", 5.0),
              RubricPoint("工具归位", 2.0))
    new = Item("P1", 2, dataclasses.replace(practical_task(), rubric=rubric), S.DRAFT)
    d = diff_versions(old, new)
    assert [r.status for r in d.rubric] == ["unchanged", "changed", "unchanged", "added"]
    assert d.changed_fields == ("rubric",)


def test_admin_acts_but_still_needs_the_register(session: Session, cast: Cast) -> None:
    with pytest.raises(NotQualifiedError):
        create_item(session, actor=ADMIN, bank=cast.bank, code="Q1", content=single_choice())


def test_tampering_with_a_workflow_entry_is_detected(session: Session, cast: Cast) -> None:
    b = cast.bank
    approved(session, b, "Q1")
    code = _accept(session, b, ["Q1"])
    assert verify_ledger(session).ok
    sig = query_ledger(session, action="batch.sign", object_id=code)[2]
    session.execute(update(LedgerEntryRecord).where(LedgerEntryRecord.id == sig.id)
                    .values(actor="c9"))
    problems = verify_ledger(session).problems
    assert any(p.params.get("id") == sig.id and "edited" in p.msgid for p in problems)
    # the stored signatures are their own record too
    assert session.scalar(select(func.count()).select_from(AcceptanceSignatureRecord)) == 5
