"""Banks (occupation x level), their element tables and readiness against the minimums."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentActor, PagingDep, SessionDep, check_scope, require
from api.schemas.bank import BankIn, BankOut, ElementTableIn, ElementTableOut
from api.schemas.common import MAX_ID, IdPath, Page
from itembank import elements, occupations, readiness
from itembank.domain import Actor, ElementNode, Part, Role

router = APIRouter(prefix="/banks", tags=["banks"])

ELEMENT_READERS = (Role.BANK_MANAGER, Role.ITEM_WRITER, Role.REVIEWER, Role.COMMITTEE_MEMBER)
READINESS_READERS = (Role.BANK_MANAGER, Role.EXAM_OFFICE, Role.AUDITOR)


@router.get("", response_model=Page[BankOut], summary="List the banks")
def list_banks(session: SessionDep, actor: CurrentActor, paging: PagingDep,
               occupation_code: str | None = Query(None, max_length=32), level: int | None = Query(None, ge=1, le=5)) -> dict:
    """Every bank (occupation x level); names and levels only, no content."""
    banks = [b for b in occupations.list_banks(session)
             if (occupation_code is None or b.occupation.code == occupation_code)
             and (level is None or int(b.level) == level)]
    return paging.page([BankOut.of(b) for b in banks])


@router.post("", response_model=BankOut, status_code=201, summary="Open a bank for an occupation and level")
def create_bank(body: BankIn, session: SessionDep,
                actor: Annotated[Actor, require(Role.BANK_MANAGER)]) -> BankOut:
    check_scope(actor, body.occupation_code, Role.BANK_MANAGER)
    bank = occupations.create_bank(session, occupation_code=body.occupation_code, level=body.level,
                                   work_type=body.work_type)
    session.commit()
    return BankOut.of(bank)


@router.get("/{bank_id}", response_model=BankOut, summary="Show one bank")
def get_bank(bank_id: IdPath, session: SessionDep, actor: CurrentActor) -> BankOut:
    return BankOut.of(occupations.get_bank_by_id(session, bank_id))


@router.get("/{bank_id}/readiness", summary="Check the bank against the minimums")
def get_readiness(bank_id: IdPath, session: SessionDep,
                  actor: Annotated[Actor, require(*READINESS_READERS)]) -> dict:
    """Counts per part, type and element against the minimums, with a verdict (附件11 第7条)."""
    bank = occupations.get_bank_by_id(session, bank_id)
    check_scope(actor, bank.occupation.code, *READINESS_READERS)
    return readiness.readiness_to_dict(readiness.bank_readiness(session, bank=bank))


@router.get("/{bank_id}/element-tables/{part}", response_model=ElementTableOut,
            summary="Read the element table (认定要素细目表)")
def get_element_table(bank_id: IdPath, part: Part, session: SessionDep,
                      actor: Annotated[Actor, require(*ELEMENT_READERS)],
                      version: int | None = Query(None, ge=1, le=MAX_ID)) -> ElementTableOut:
    bank = occupations.get_bank_by_id(session, bank_id)
    check_scope(actor, bank.occupation.code, *ELEMENT_READERS)
    return ElementTableOut.of(elements.load_element_table(session, bank=bank, part=part, version=version))


@router.post("/{bank_id}/element-tables/{part}", response_model=ElementTableOut, status_code=201,
             summary="Save a new version of the element table")
def save_element_table(bank_id: IdPath, part: Part, body: ElementTableIn, session: SessionDep,
                       actor: Annotated[Actor, require(Role.BANK_MANAGER)]) -> ElementTableOut:
    """Store a new version of the table; a bad table is refused with every problem listed."""
    bank = occupations.get_bank_by_id(session, bank_id)
    check_scope(actor, bank.occupation.code, Role.BANK_MANAGER)
    nodes = [ElementNode(code=n.code, name=n.name, weight=n.weight, parent_code=n.parent_code,
                         importance=n.importance) for n in body.nodes]
    table = elements.save_element_table(session, bank=bank, part=part, nodes=nodes, note=body.note,
                                        actor=actor.username)
    session.commit()
    return ElementTableOut.of(table)
