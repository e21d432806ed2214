"""The ledger (台帐): every traceable act, hash-chained (附件11 第24条). Auditors read it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import PagingDep, SessionDep, require
from api.schemas.common import Moment, Page, Text
from itembank.domain import Actor, Role
from itembank.ledger import count_ledger, query_ledger, verify_ledger
from itembank.ledger_text import describe_entries

router = APIRouter(prefix="/ledger", tags=["ledger"])
AuditorDep = Annotated[Actor, require(Role.AUDITOR)]


class LedgerEntryOut(BaseModel):
    """One entry: what happened in words (``text``, in the reader's locale, with the people's
    display names) and the stored record unchanged (codes, details, hashes) for auditors."""

    id: int
    at: datetime
    text: str
    action_label: str
    actor_name: str
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class VerificationOut(BaseModel):
    ok: bool
    n_entries: int
    head_hash: str
    problems: list[str]


@router.get("", response_model=Page[LedgerEntryOut], summary="Search the ledger")
def list_entries(
    session: SessionDep, actor: AuditorDep, paging: PagingDep,
    object_type: Annotated[Text | None, Query(max_length=64, description="e.g. item, bank, certificate")] = None,
    object_id: Annotated[Text | None, Query(max_length=128)] = None,
    by: Annotated[Text | None, Query(alias="actor", max_length=100, description="Who acted (username).")] = None,
    action: Annotated[Text | None, Query(max_length=64, description="e.g. item.read, batch.sign")] = None,
    since: Annotated[Moment | None, Query()] = None, until: Annotated[Moment | None, Query()] = None,
) -> dict:
    """Ledger entries by object, actor, action and time, oldest first."""
    filters = dict(object_type=object_type, object_id=object_id, actor=by, action=action, since=since, until=until)
    entries = query_ledger(session, **filters, limit=paging.limit, offset=paging.offset)  # type: ignore[arg-type]
    texts = describe_entries(session, entries)
    return paging.page([LedgerEntryOut(id=e.id, at=e.at, text=str(t.sentence), action_label=str(t.action),
                                       actor_name=t.actor, actor=e.actor, action=e.action,
                                       object_type=e.object_type, object_id=e.object_id, details=e.details,
                                       prev_hash=e.prev_hash, hash=e.hash)
                        for e, t in zip(entries, texts, strict=True)],
                       count_ledger(session, **filters))  # type: ignore[arg-type]


@router.get("/verify", response_model=VerificationOut, summary="Check the ledger's hash chain")
def verify(session: SessionDep, actor: AuditorDep,
           expect_head: Annotated[Text | None, Query(max_length=64)] = None) -> VerificationOut:
    """Recompute every hash: finds any entry edited, inserted or deleted; compare the head
    hash with one noted earlier to find entries deleted at the end."""
    v = verify_ledger(session, expect_head=expect_head)
    return VerificationOut(ok=v.ok, n_entries=v.n_entries, head_hash=v.head_hash, problems=[str(p) for p in v.problems])
