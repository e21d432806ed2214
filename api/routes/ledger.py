"""The ledger (台帐): every traceable act, hash-chained (附件11 第24条). Auditors read it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.deps import PagingDep, SessionDep, SettingsDep, require_everywhere
from api.responses import download, file_response
from api.schemas.common import In, Moment, Page, Text
from itembank import ledger
from itembank.domain import Actor, Role
from itembank.errors import NotFoundError
from itembank.i18n import Message
from itembank.ledger import count_ledger, query_ledger
from itembank.ledger_text import describe_entries

router = APIRouter(prefix="/ledger", tags=["ledger"])
# the ledger is the whole centre's: auditors of every occupation read it (details name items,
# papers and people of every occupation)
AuditorDep = Annotated[Actor, require_everywhere(Role.AUDITOR)]


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


class CheckpointOut(BaseModel):
    id: int | None
    at: datetime
    entry_id: int
    n_entries: int
    head_hash: str
    key_id: str
    signature: str

    @classmethod
    def of(cls, cp: ledger.Checkpoint) -> CheckpointOut:
        return cls(id=cp.id, at=cp.at.replace(tzinfo=timezone.utc), entry_id=cp.entry_id, n_entries=cp.n_entries,
                   head_hash=cp.head_hash, key_id=cp.key_id, signature=cp.signature)


class VerificationOut(BaseModel):
    ok: bool
    n_entries: int
    head_hash: str
    problems: list[str]
    keyed: bool = Field(description="The ledger key was at hand and every keyed entry's MAC was checked.")
    n_unkeyed: int = Field(description="Entries written before the ledger was keyed (no MAC).")
    checkpoint: CheckpointOut | None = Field(description="The newest checkpoint the chain was checked against.")
    checkpoint_source: str = Field(description="database, witness (the file beside the key) or export.")
    n_after_checkpoint: int = Field(description="Entries newer than that checkpoint: not protected against "
                                                "deletion at the end until the next checkpoint.")
    proves: list[str] = Field(description="What the verification established, in words.")
    limits: list[str] = Field(description="What it could not establish, in words.")

    @classmethod
    def of(cls, v: ledger.LedgerVerification) -> VerificationOut:
        return cls(ok=v.ok, n_entries=v.n_entries, head_hash=v.head_hash, problems=[str(p) for p in v.problems],
                   keyed=v.keyed, n_unkeyed=v.n_unkeyed, checkpoint=CheckpointOut.of(v.checkpoint) if v.checkpoint else None,
                   checkpoint_source=v.checkpoint_source, n_after_checkpoint=v.n_after_checkpoint,
                   proves=[str(m) for m in v.proves], limits=[str(m) for m in v.limits])


class VerifyIn(In):
    checkpoints: list[str] = Field(default_factory=list, max_length=50,
                                   description="Exported checkpoints (the printed text) to verify against.")
    expect_head: str | None = Field(None, max_length=64)


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


@router.get("/verify", response_model=VerificationOut, summary="Check the ledger's chain, MACs and checkpoints")
def verify(session: SessionDep, actor: AuditorDep,
           expect_head: Annotated[Text | None, Query(max_length=64)] = None) -> VerificationOut:
    """Recompute every hash and MAC and check the newest checkpoint of the database and of
    the witness file; the answer says what was proved (``proves``) and what not (``limits``)."""
    return VerificationOut.of(ledger.verify_ledger(session, expect_head=expect_head))


@router.post("/verify", response_model=VerificationOut, summary="Check the ledger against exported checkpoints")
def verify_against(body: VerifyIn, session: SessionDep, actor: AuditorDep) -> VerificationOut:
    """As ``GET /ledger/verify``, and against every checkpoint given (the text of
    ``GET /ledger/checkpoints/latest``, kept in the archive)."""
    given = [ledger.parse_checkpoint(t) for t in body.checkpoints]
    return VerificationOut.of(ledger.verify_ledger(session, expect_head=body.expect_head, checkpoints=given))


@router.post("/checkpoints", response_model=CheckpointOut, status_code=201, summary="Sign a checkpoint now")
def make_checkpoint(session: SessionDep, actor: AuditorDep) -> CheckpointOut:
    """Signs the ledger's current head; it is also appended to the witness file beside the key."""
    cp = ledger.make_checkpoint(session, actor=actor.username)
    session.commit()
    ledger.write_witness(session, cp)
    return CheckpointOut.of(cp)


@router.get("/checkpoints/latest", response_class=Response, responses=file_response("text/plain"),
            summary="The newest checkpoint, printable (for the archive)")
def latest_checkpoint(session: SessionDep, settings: SettingsDep, actor: AuditorDep) -> Response:
    cp = ledger.latest_checkpoint(session)
    key = ledger.ledger_key(session)
    if cp is None or key is None:
        raise NotFoundError(Message("there is no checkpoint yet: make one (POST /ledger/checkpoints)"))
    text = ledger.export_checkpoint(cp, public_key=key.public_key, centre_name=settings.centre_name)
    return download(text.encode("utf-8"), f"ledger-checkpoint-{cp.id}.txt", "text/plain; charset=utf-8")
