from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.deps import CurrentActor, SessionDep, require
from api.schemas.bank import OccupationIn, OccupationOut
from itembank import occupations
from itembank.domain import Actor, Role

router = APIRouter(prefix="/occupations", tags=["occupations"])


@router.get("", response_model=list[OccupationOut])
def list_occupations(session: SessionDep, actor: CurrentActor) -> list[OccupationOut]:
    return [OccupationOut.of(o) for o in occupations.list_occupations(session)]


@router.post("", response_model=OccupationOut, status_code=201)
def create_occupation(body: OccupationIn, session: SessionDep,
                      actor: Annotated[Actor, require(Role.BANK_MANAGER)]) -> OccupationOut:
    occ = occupations.create_occupation(session, code=body.code, name=body.name, category=body.category,
                                        work_type=body.work_type, filed=body.filed)
    session.commit()
    return OccupationOut.of(occ)
