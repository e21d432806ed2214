"""The centre's rules for the bank minimums (附件11 第7条 gives the defaults: theory 1200,
practical 20, defence 10; knowledge-skill occupations keep as many practical items as theory)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.deps import PagingDep, SessionDep, require
from api.schemas.common import Page
from api.schemas.imports import MinimumRuleIn, MinimumRuleOut
from itembank import readiness
from itembank.domain import Actor, Part, Role

router = APIRouter(prefix="/minimum-rules", tags=["readiness"])


@router.get("", response_model=Page[MinimumRuleOut], summary="List the minimum rules")
def list_rules(session: SessionDep, actor: Annotated[Actor, require(Role.BANK_MANAGER, Role.AUDITOR)],
               paging: PagingDep, part: Part | None = None) -> dict:
    found = [r for r in readiness.list_minimum_rules(session) if part is None or r.part is part]
    return paging.page([MinimumRuleOut.of(r) for r in found])


@router.post("", response_model=MinimumRuleOut, status_code=201, summary="Set a minimum rule")
def set_rule(body: MinimumRuleIn, session: SessionDep, actor: Annotated[Actor, require(Role.ADMIN)]) -> MinimumRuleOut:
    """Adds the rule, replacing one for exactly the same part, level, category and occupation."""
    rule = readiness.set_minimum_rule(session, part=body.part, minimum=body.minimum, level=body.level,
                                      category=body.category, occupation_code=body.occupation_code,
                                      note=body.note, actor=actor.username)
    session.commit()
    return MinimumRuleOut.of(rule)
