"""Blueprints (组卷方案) of a bank: stored and versioned, derived from the element table in
one call (issue 4). Bank managers of the occupation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import PagingDep, SessionDep, check_scope, require
from api.schemas.assembly import BlueprintIn, BlueprintOut, BlueprintSummary, DeriveIn
from api.schemas.common import IdPath, Page
from itembank import assembly_service as svc
from itembank import occupations
from itembank.domain import Actor, BankRef, Part, Role
from itembank.errors import NotFoundError
from itembank.i18n import Message

router = APIRouter(tags=["assembly"])
ManagerDep = Annotated[Actor, require(Role.BANK_MANAGER)]


def _bank(session, bank_id: int, actor: Actor) -> BankRef:  # type: ignore[no-untyped-def]
    bank = occupations.get_bank_by_id(session, bank_id)
    check_scope(actor, bank.occupation.code, Role.BANK_MANAGER)
    return bank


@router.get("/banks/{bank_id}/blueprints", response_model=Page[BlueprintSummary], summary="List a bank's blueprints")
def list_blueprints(bank_id: IdPath, session: SessionDep, actor: ManagerDep, paging: PagingDep,
                    part: Annotated[Part | None, Query()] = None) -> dict:
    found = svc.list_blueprints(session, bank=_bank(session, bank_id, actor), part=part)
    return paging.page([BlueprintSummary.of(b) for b in found])


@router.post("/banks/{bank_id}/blueprints", response_model=BlueprintOut, status_code=201,
             summary="Store a blueprint as a new version")
def save_blueprint(bank_id: IdPath, body: BlueprintIn, session: SessionDep, actor: ManagerDep) -> BlueprintOut:
    """Every field is checked; a bad blueprint is refused (422) naming the field."""
    stored = svc.save_blueprint(session, bank=_bank(session, bank_id, actor), blueprint=body.spec,
                                actor=actor.username, note=body.note)
    session.commit()
    return BlueprintOut.of(stored)


@router.post("/banks/{bank_id}/blueprints/derive", response_model=BlueprintOut, status_code=201,
             summary="Derive the level's standard blueprint from the element table")
def derive_blueprint(bank_id: IdPath, body: DeriveIn, session: SessionDep, actor: ManagerDep) -> BlueprintOut:
    stored = svc.derive_standard_blueprint(session, bank=_bank(session, bank_id, actor), part=body.part,
                                           actor=actor.username, name=body.name, max_overlap=body.max_overlap,
                                           objective=body.objective)
    session.commit()
    return BlueprintOut.of(stored)  # type: ignore[arg-type]


@router.get("/banks/{bank_id}/blueprints/{blueprint_id}", response_model=BlueprintOut, summary="Show a blueprint")
def get_blueprint(bank_id: IdPath, blueprint_id: IdPath, session: SessionDep, actor: ManagerDep) -> BlueprintOut:
    bank = _bank(session, bank_id, actor)
    stored = svc.get_blueprint(session, blueprint_id)
    if stored.bank_id != bank.id:
        raise NotFoundError(Message("Bank {bank_id} has no blueprint number {blueprint_id}.", bank_id=bank_id,
                                    blueprint_id=blueprint_id), code="blueprint_not_found", field="blueprint_id")
    return BlueprintOut.of(stored)
