"""Items and versions, under need-to-know (附件12 第9条, ``itembank.visibility``): bank managers
see the whole bank (within their occupations), writers their own items, reviewers the items
assigned to them, committee members the items of their batches. Every read of item content
is written to the ledger. Writing goes through the authoring workflow (附件11 第13–14条):
only registered writers (第10条) create and revise items, and a revision keeps the old version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import PagingDep, SessionDep, require
from api.responses import json_response
from api.schemas.common import MAX_ID, CodePath, IdPath, Page, Text
from api.schemas.items import ItemIn, ItemOut, ItemRevisionIn, ItemSummary, ItemWrittenOut, UsageOut
from itembank import items as item_service
from itembank import ledger, media, occupations, workflow
from itembank.domain import Actor, Item, ItemType, Part, Role, VersionState
from itembank.pool import page_items
from itembank.similarity_service import similar_for
from itembank.visibility import CONTENT_ROLES, item_visibility, require_item_access, require_own_item

router = APIRouter(prefix="/banks/{bank_id}/items", tags=["items"])
ReaderDep = Annotated[Actor, require(*CONTENT_ROLES)]
WriterDep = Annotated[Actor, require(Role.ITEM_WRITER)]
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="A version number; default the latest.")]


def summary_of(it: Item) -> ItemSummary:
    return ItemSummary(
        code=it.code, version=it.version, state=it.state, item_type=it.item_type, points=it.points,
        element_codes=list(it.content.element_codes), difficulty_rating=it.content.difficulty_rating,
        usage=UsageOut(count=it.usage.count, last_used_on=it.usage.last_used_on, compromised=it.usage.compromised),
        stem_preview=media.strip_pictures(it.content.stem)[:60],  # a picture is "[图]" here
    )


@router.get("", response_model=Page[ItemSummary], summary="List the items you may see")
def list_items(
    bank_id: IdPath, session: SessionDep, actor: ReaderDep, paging: PagingDep,
    part: Part | None = None, state: VersionState | None = None, item_type: ItemType | None = None,
    element: Annotated[Text | None, Query(max_length=64, description="Element code (鉴定点).")] = None,
    q: Annotated[Text | None, Query(max_length=100, description="Text in the stem or the code.")] = None,
    compromised: bool | None = None,
) -> Response:
    """The latest version of each item, filtered and paged: the whole bank for its bank
    managers, otherwise only the items you wrote, were assigned to review, or sit on as a
    committee member. The codes listed are written to the ledger."""
    bank = occupations.get_bank_by_id(session, bank_id)
    vis = item_visibility(session, actor=actor, bank=bank)
    found, total = page_items(session, bank=bank, part=part, created_by=vis.created_by,
                              codes=sorted(vis.codes) if vis.codes is not None else None, state=state,
                              item_type=item_type.value if item_type else None, element_code=element,
                              text=q, compromised=compromised, offset=paging.offset, limit=paging.limit)
    ledger.append(session, actor=actor.username, action="items.list", object_type="bank", object_id=bank_id,
                  details={"codes": [it.code for it in found], "filters": {
                      "part": part.value if part else None, "state": state.value if state else None,
                      "q": q, "offset": paging.offset, "limit": paging.limit}})
    session.commit()
    return json_response(Page[ItemSummary](**paging.page([summary_of(it) for it in found], total)))


@router.post("", response_model=ItemWrittenOut, status_code=201, summary="Write a new item (draft)")
def create_item(bank_id: IdPath, body: ItemIn, session: SessionDep, actor: WriterDep) -> ItemWrittenOut:
    """A registered writer (附件11 第10条) creates an item; its first version is a draft. The
    answer lists the bank's items it repeats or gives away (``similar``)."""
    bank = occupations.get_bank_by_id(session, bank_id)
    item = workflow.create_item(session, actor=actor, bank=bank, code=body.code, content=body.content.to_domain(),
                                set_code=body.set_code)
    similar, total = similar_for(session, actor=actor, bank=bank, content=item.content, code=item.code)
    session.commit()
    return ItemWrittenOut.written(item, similar, total)


@router.get("/{code}", response_model=ItemOut, summary="Read one item (ledgered)")
def get_item(bank_id: IdPath, code: CodePath, session: SessionDep, actor: ReaderDep,
             version: VersionQuery = None) -> Response:
    bank = occupations.get_bank_by_id(session, bank_id)
    require_item_access(session, actor=actor, bank=bank, code=code)
    item = item_service.get_item(session, bank=bank, code=code, version=version)
    ledger.append(session, actor=actor.username, action="item.read", object_type="item", object_id=item.id or code,
                  details={"code": code, "version": item.version})
    session.commit()
    return json_response(ItemOut.of(item))


@router.get("/{code}/versions", response_model=Page[ItemOut], summary="Read the versions of an item (ledgered)")
def list_versions(bank_id: IdPath, code: CodePath, session: SessionDep, actor: ReaderDep,
                  paging: PagingDep) -> dict:
    """Oldest first; the old versions stay readable after a revision (附件11 第14条)."""
    bank = occupations.get_bank_by_id(session, bank_id)
    require_item_access(session, actor=actor, bank=bank, code=code)
    versions = item_service.list_versions(session, bank=bank, code=code)
    shown = versions[paging.offset:paging.offset + paging.limit]
    ledger.append(session, actor=actor.username, action="item.read", object_type="item",
                  object_id=versions[0].id or code, details={"code": code, "versions": [v.version for v in shown]})
    session.commit()
    return paging.page([ItemOut.of(v) for v in shown], len(versions))


@router.put("/{code}", response_model=ItemWrittenOut, summary="Revise an item (makes a new version)")
def revise_item(bank_id: IdPath, code: CodePath, body: ItemRevisionIn, session: SessionDep,
                actor: WriterDep) -> ItemWrittenOut:
    """A revision makes a new draft version; the old versions stay readable (附件11 第14条).
    Writers revise their own items; a version under review or awaiting acceptance is frozen.
    The answer lists the bank's items the new version repeats or gives away (``similar``)."""
    bank = occupations.get_bank_by_id(session, bank_id)
    require_own_item(session, actor=actor, bank=bank, code=code)
    item = workflow.revise(session, actor=actor, bank=bank, code=code, content=body.content.to_domain(),
                           reason=body.reason)
    similar, total = similar_for(session, actor=actor, bank=bank, content=item.content, code=item.code)
    session.commit()
    return ItemWrittenOut.written(item, similar, total)
