"""The expert register (专家信息库, 附件11 第19条): writers and reviewers with their
qualifications (第10条) and the occupations they may work for. Bank managers keep it; an
expert reads their own record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import CurrentActor, PagingDep, SessionDep, require
from api.schemas.common import Page, Text
from api.schemas.experts import ExpertIn, ExpertOut, ReasonIn, ScopeIn
from itembank import experts
from itembank.domain import Actor, Role
from itembank.experts import ExpertRole, TitleRank

router = APIRouter(prefix="/experts", tags=["experts"])
ManagerDep = Annotated[Actor, require(Role.BANK_MANAGER)]
ExpertPath = Annotated[str, Path(min_length=1, max_length=100)]


@router.get("", response_model=Page[ExpertOut], summary="List the expert register")
def list_experts(session: SessionDep, actor: ManagerDep, paging: PagingDep,
                 occupation_code: Annotated[Text | None, Query(max_length=32)] = None,
                 role: ExpertRole | None = None, suspended: bool | None = None,
                 title_rank: TitleRank | None = None) -> dict:
    found = [e for e in experts.list_experts(session, occupation_code=occupation_code, role=role)
             if (suspended is None or e.suspended is suspended) and (title_rank is None or e.title_rank is title_rank)]
    return paging.page([ExpertOut.of(e) for e in found])


@router.post("", response_model=ExpertOut, status_code=201, summary="Register an expert")
def register(body: ExpertIn, session: SessionDep, actor: ManagerDep) -> ExpertOut:
    """A person enters the register; occupations are granted next (``PUT .../scopes``)."""
    expert = experts.register_expert(session, actor=actor, username=body.username, name=body.name,
                                     organisation=body.organisation, title_rank=body.title_rank,
                                     title_name=body.title_name)
    session.commit()
    return ExpertOut.of(expert)


@router.get("/me", response_model=ExpertOut, summary="My own record in the expert register")
def my_record(session: SessionDep, actor: CurrentActor) -> ExpertOut:
    return ExpertOut.of(experts.get_expert(session, username=actor.username))


@router.get("/{username}", response_model=ExpertOut, summary="Show an expert")
def get_expert(username: ExpertPath, session: SessionDep, actor: ManagerDep) -> ExpertOut:
    return ExpertOut.of(experts.get_expert(session, username=username))


@router.put("/{username}/scopes", response_model=ExpertOut, summary="Let an expert write or review for an occupation")
def grant(username: ExpertPath, body: ScopeIn, session: SessionDep, actor: ManagerDep) -> ExpertOut:
    """Checked against 附件11 第10条(一) (5 years in the occupation, and 技师 or an intermediate
    title); refused naming every missing qualification. Granting again updates it."""
    expert = experts.grant_scope(session, actor=actor, username=username, occupation_code=body.occupation_code,
                                 role=body.role, years_in_occupation=body.years_in_occupation,
                                 certificate_level=body.certificate_level, certificate_no=body.certificate_no,
                                 note=body.note)
    session.commit()
    return ExpertOut.of(expert)


@router.delete("/{username}/scopes/{occupation_code}/{role}", response_model=ExpertOut,
               summary="Withdraw an occupation from an expert")
def revoke(username: ExpertPath, occupation_code: Annotated[str, Path(max_length=32)], role: ExpertRole,
           session: SessionDep, actor: ManagerDep,
           reason: Annotated[Text, Query(min_length=1, max_length=2000)]) -> ExpertOut:
    expert = experts.revoke_scope(session, actor=actor, username=username, occupation_code=occupation_code,
                                  role=role, reason=reason)
    session.commit()
    return ExpertOut.of(expert)


@router.post("/{username}/suspend", response_model=ExpertOut, summary="Suspend an expert from all work")
def suspend(username: ExpertPath, body: ReasonIn, session: SessionDep, actor: ManagerDep) -> ExpertOut:
    """附件11 第10条(三): a quality or confidentiality problem bars the expert; takes effect at once."""
    expert = experts.suspend_expert(session, actor=actor, username=username, reason=body.reason)
    session.commit()
    return ExpertOut.of(expert)


@router.post("/{username}/reinstate", response_model=ExpertOut, summary="Lift an expert's suspension")
def reinstate(username: ExpertPath, body: ReasonIn, session: SessionDep, actor: ManagerDep) -> ExpertOut:
    expert = experts.reinstate_expert(session, actor=actor, username=username, reason=body.reason)
    session.commit()
    return ExpertOut.of(expert)
