from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from itembank.domain import Actor, Level, Role
from itembank.errors import ConflictError, NotFoundError, NotQualifiedError, PermissionDeniedError, ValidationError
from itembank.experts import (
    ExpertRole,
    TitleRank,
    get_expert,
    grant_scope,
    list_experts,
    qualification_problems,
    register_expert,
    reinstate_expert,
    require_expert,
    revoke_scope,
    suspend_expert,
)
from itembank.ledger import query_ledger

from .conftest import MANAGER, OCC, OTHER_OCC, W1, Cast


@pytest.mark.parametrize(
    ("years", "cert", "title", "missing"),
    [
        (5, Level.L2, TitleRank.NONE, []),
        (5, Level.L1, TitleRank.NONE, []),
        (20, None, TitleRank.INTERMEDIATE, []),
        (7, Level.L3, TitleRank.SENIOR, []),
        (4, Level.L2, TitleRank.NONE, ["从事本职业 4 年，须 5 年以上"]),
        (9, Level.L3, TitleRank.JUNIOR, ["持有三级/高级工证书，职称为初级"]),
        (1, None, TitleRank.NONE, ["从事本职业 1 年", "未持有本职业证书，职称为无"]),
    ],
)
def test_qualification_rule_of_article_10(years: int, cert: Level | None, title: TitleRank, missing: list[str]) -> None:
    problems = [str(p) for p in qualification_problems(years_in_occupation=years, certificate_level=cert,
                                                         title_rank=title)]
    assert len(problems) == len(missing)
    for m in missing:
        assert any(m in p for p in problems), problems
    assert all("附件11 第10条" in p for p in problems)


def test_registering_an_unqualified_writer_is_refused_naming_what_is_missing(session: Session, cast: Cast) -> None:
    register_expert(session, actor=MANAGER, username="li", name="李四", title_rank="junior")
    with pytest.raises(NotQualifiedError) as exc:
        grant_scope(session, actor=MANAGER, username="li", occupation_code=OCC, role=ExpertRole.WRITER,
                    years_in_occupation=3, certificate_level=Level.L4)
    assert "李四（li）不能登记为职业 6-31-01-03 的命题专家。" in str(exc.value)
    assert len(exc.value.missing) == 2
    assert "从事本职业 3 年" in str(exc.value.missing[0]) and "四级/中级工" in str(exc.value.missing[1])
    assert get_expert(session, username="li").scopes == ()
    expert = grant_scope(session, actor=MANAGER, username="li", occupation_code=OCC, role="writer",
                         years_in_occupation=6, certificate_level=2, certificate_no="S0001")
    assert expert.scope(OCC, ExpertRole.WRITER).certificate_level is Level.L2
    again = grant_scope(session, actor=MANAGER, username="li", occupation_code=OCC, role="writer",
                        years_in_occupation=7, certificate_level=1)
    assert len(again.scopes) == 1 and again.scopes[0].years_in_occupation == 7
    assert [e.action for e in query_ledger(session, object_type="expert", object_id="li")] == [
        "expert.register", "expert.grant", "expert.grant"]


def test_register_input_and_permissions(session: Session, cast: Cast) -> None:
    with pytest.raises(PermissionDeniedError, match="需要题库管理人员角色"):
        register_expert(session, actor=W1, username="zz", name="z")
    with pytest.raises(ValidationError) as exc:
        register_expert(session, actor=MANAGER, username="a b", name=" ", title_rank="professor")
    assert len(exc.value.errors) == 3
    with pytest.raises(ConflictError, match="已在专家信息库中"):
        register_expert(session, actor=MANAGER, username="w1", name="王一")
    with pytest.raises(NotFoundError, match="没有职业 9-99-99-99"):
        grant_scope(session, actor=MANAGER, username="w1", occupation_code="9-99-99-99", role="writer",
                    years_in_occupation=9, certificate_level=1)
    scoped = Actor("m2", frozenset({Role.BANK_MANAGER}), frozenset({OTHER_OCC}))
    with pytest.raises(PermissionDeniedError, match="无权修改职业 6-31-01-03 的专家信息库"):
        grant_scope(session, actor=scoped, username="w1", occupation_code=OCC, role="writer",
                    years_in_occupation=9, certificate_level=1)


def test_suspension_revocation_and_lookup(session: Session, cast: Cast) -> None:
    assert require_expert(session, username="w1", occupation_code=OCC, role=ExpertRole.WRITER).years_in_occupation == 8
    with pytest.raises(NotQualifiedError, match="未登记为任何职业的审题专家"):
        require_expert(session, username="w1", occupation_code=OCC, role=ExpertRole.REVIEWER)
    suspend_expert(session, actor=MANAGER, username="w1", reason="命题质量问题")
    with pytest.raises(NotQualifiedError, match="已暂停专家工作：命题质量问题"):
        require_expert(session, username="w1", occupation_code=OCC, role=ExpertRole.WRITER)
    with pytest.raises(NotQualifiedError, match="已暂停专家工作：命题质量问题"):
        grant_scope(session, actor=MANAGER, username="w1", occupation_code=OTHER_OCC, role="writer",
                    years_in_occupation=9, certificate_level=1)
    reinstate_expert(session, actor=MANAGER, username="w1", reason="复核无问题")
    require_expert(session, username="w1", occupation_code=OCC, role=ExpertRole.WRITER)
    assert [e.username for e in list_experts(session, occupation_code=OCC, role="reviewer")] == ["r1", "r2"]
    assert [e.username for e in list_experts(session, role="writer")] == ["w1", "w2"]
    revoke_scope(session, actor=MANAGER, username="w1", occupation_code=OCC, role="writer", reason="调离")
    with pytest.raises(NotQualifiedError):
        require_expert(session, username="w1", occupation_code=OCC, role=ExpertRole.WRITER)
