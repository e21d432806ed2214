from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import SessionDep, require
from itembank.domain import Actor, Role
from itembank.ledger import query_ledger, verify_ledger

router = APIRouter(prefix="/ledger", tags=["ledger"])
AuditorDep = Annotated[Actor, require(Role.AUDITOR)]


class LedgerEntryOut(BaseModel):
    id: int
    at: datetime
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


@router.get("", response_model=list[LedgerEntryOut])
def list_entries(
    session: SessionDep, actor: AuditorDep,
    object_type: str | None = None, object_id: str | None = None, by: str | None = Query(None, alias="actor"),
    action: str | None = None, since: datetime | None = None, until: datetime | None = None,
    offset: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000),
) -> list[LedgerEntryOut]:
    """Ledger entries by object, actor, action and time, oldest first."""
    entries = query_ledger(session, object_type=object_type, object_id=object_id, actor=by, action=action,
                           since=since, until=until, limit=limit, offset=offset)
    return [LedgerEntryOut(id=e.id, at=e.at, actor=e.actor, action=e.action, object_type=e.object_type,
                           object_id=e.object_id, details=e.details, prev_hash=e.prev_hash, hash=e.hash)
            for e in entries]


@router.get("/verify", response_model=VerificationOut)
def verify(session: SessionDep, actor: AuditorDep, expect_head: str | None = None) -> VerificationOut:
    v = verify_ledger(session, expect_head=expect_head)
    return VerificationOut(ok=v.ok, n_entries=v.n_entries, head_hash=v.head_hash, problems=list(v.problems))
