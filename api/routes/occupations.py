from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.deps import CurrentActor, PagingDep, SessionDep, require
from api.schemas.bank import OccupationIn, OccupationOut
from api.schemas.common import Page
from itembank import occupations
from itembank.domain import Actor, Role

router = APIRouter(prefix="/occupations", tags=["occupations"])


@router.get("", response_model=Page[OccupationOut], summary="List the occupations")
def list_occupations(session: SessionDep, actor: CurrentActor, paging: PagingDep, filed: bool | None = None) -> dict:
    """Occupations (职业/工种) with their category and whether they are filed (备案)."""
    found = [o for o in occupations.list_occupations(session) if filed is None or o.filed is filed]
    return paging.page([OccupationOut.of(o) for o in found])


@router.post("", response_model=OccupationOut, status_code=201, summary="Register an occupation")
def create_occupation(body: OccupationIn, session: SessionDep,
                      actor: Annotated[Actor, require(Role.BANK_MANAGER)]) -> OccupationOut:
    occ = occupations.create_occupation(session, code=body.code, name=body.name, category=body.category,
                                        work_type=body.work_type, filed=body.filed)
    session.commit()
    return OccupationOut.of(occ)
