"""Items and versions, under need-to-know (附件12 第9条): bank managers see the whole bank
(within their occupations), writers only their own items. Every read of item content is
written to the ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, check_scope, require
from api.schemas.common import Page
from api.schemas.items import ItemIn, ItemOut, ItemRevisionIn, ItemSummary, UsageOut
from itembank import items as item_service
from itembank import ledger, occupations
from itembank.domain import Actor, BankRef, Item, ItemType, Part, Role, VersionState
from itembank.errors import PermissionDeniedError
from itembank.pool import page_items

router = APIRouter(prefix="/banks/{bank_id}/items", tags=["items"])
ITEM_ROLES = (Role.BANK_MANAGER, Role.ITEM_WRITER)
ItemActor = Annotated[Actor, require(*ITEM_ROLES)]


def _bank_for(session, bank_id: int, actor: Actor) -> BankRef:  # type: ignore[no-untyped-def]
    bank = occupations.get_bank_by_id(session, bank_id)
    check_scope(actor, bank.occupation.code, *ITEM_ROLES)
    return bank


def _sees_whole_bank(actor: Actor, bank: BankRef) -> bool:
    return actor.has(Role.BANK_MANAGER, occupation_code=bank.occupation.code)


def _check_item_access(session, actor: Actor, bank: BankRef, code: str) -> None:  # type: ignore[no-untyped-def]
    if _sees_whole_bank(actor, bank):
        return
    if item_service.item_writer(session, bank=bank, code=code) != actor.username:
        raise PermissionDeniedError(f"item {code} is not yours; writers see only their own items (附件12)")


def _summary(it: Item) -> ItemSummary:
    return ItemSummary(
        code=it.code, version=it.version, state=it.state, item_type=it.item_type, points=it.points,
        element_codes=list(it.content.element_codes), difficulty_rating=it.content.difficulty_rating,
        usage=UsageOut(count=it.usage.count, last_used_on=it.usage.last_used_on, compromised=it.usage.compromised),
        stem_preview=it.content.stem[:60],
    )


@router.get("", response_model=Page[ItemSummary])
def list_items(
    bank_id: int, session: SessionDep, actor: ItemActor,
    part: Part | None = None, state: VersionState | None = None, item_type: ItemType | None = None,
    element: str | None = None, q: str | None = Query(None, max_length=100), compromised: bool | None = None,
    offset: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=500),
) -> Page[ItemSummary]:
    """The latest version of each item, filtered and paged; writers get only their own."""
    bank = _bank_for(session, bank_id, actor)
    created_by = None if _sees_whole_bank(actor, bank) else actor.username
    found, total = page_items(session, bank=bank, part=part, created_by=created_by, state=state,
                              item_type=item_type.value if item_type else None, element_code=element,
                              text=q, compromised=compromised, offset=offset, limit=limit)
    ledger.append(session, actor=actor.username, action="items.list", object_type="bank", object_id=bank_id,
                  details={"codes": [it.code for it in found], "filters": {
                      "part": part.value if part else None, "state": state.value if state else None,
                      "q": q, "offset": offset, "limit": limit}})
    session.commit()
    return Page[ItemSummary](items=[_summary(it) for it in found], total=total, offset=offset, limit=limit)


@router.post("", response_model=ItemOut, status_code=201)
def create_item(bank_id: int, body: ItemIn, session: SessionDep, actor: ItemActor) -> ItemOut:
    """A new item as a draft of its writer."""
    bank = _bank_for(session, bank_id, actor)
    item = item_service.add_item(session, bank=bank, code=body.code, content=body.content.to_domain(),
                                 set_code=body.set_code, actor=actor.username)
    session.commit()
    return ItemOut.of(item)


@router.get("/{code}", response_model=ItemOut)
def get_item(bank_id: int, code: str, session: SessionDep, actor: ItemActor, version: int | None = None) -> ItemOut:
    bank = _bank_for(session, bank_id, actor)
    _check_item_access(session, actor, bank, code)
    item = item_service.get_item(session, bank=bank, code=code, version=version)
    ledger.append(session, actor=actor.username, action="item.read", object_type="item", object_id=item.id or code,
                  details={"code": code, "version": item.version})
    session.commit()
    return ItemOut.of(item)


@router.get("/{code}/versions", response_model=list[ItemOut])
def list_versions(bank_id: int, code: str, session: SessionDep, actor: ItemActor) -> list[ItemOut]:
    bank = _bank_for(session, bank_id, actor)
    _check_item_access(session, actor, bank, code)
    versions = item_service.list_versions(session, bank=bank, code=code)
    ledger.append(session, actor=actor.username, action="item.read", object_type="item",
                  object_id=versions[0].id or code, details={"code": code, "versions": [v.version for v in versions]})
    session.commit()
    return [ItemOut.of(v) for v in versions]


@router.put("/{code}", response_model=ItemOut)
def revise_item(bank_id: int, code: str, body: ItemRevisionIn, session: SessionDep, actor: ItemActor) -> ItemOut:
    """A revision makes a new version (draft); the old versions stay readable (附件11 第14条)."""
    bank = _bank_for(session, bank_id, actor)
    _check_item_access(session, actor, bank, code)
    item = item_service.revise_item(session, bank=bank, code=code, content=body.content.to_domain(),
                                    actor=actor.username, reason=body.reason)
    session.commit()
    return ItemOut.of(item)
