"""Schemas of the authoring workflow: submission, review, acceptance batches, diffs, history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import MAX_ID, Code, In, Name, Reason
from itembank.domain import Item, VersionState
from itembank.ledger import LedgerEntry
from itembank.ledger_text import EntryText
from itembank.workflow import AcceptanceBatch, AssignedItem, BatchKind, BatchState, Review, ReviewDecision, VersionDiff

Version = Field(None, ge=1, le=MAX_ID, description="The version number; default the latest.")


class SubmitIn(In):
    version: int | None = Version
    comment: str = Field("", max_length=2000)


class ReviewerIn(In):
    reviewer: str = Field(min_length=1, max_length=100, description="Username of a registered reviewer.")


class AssignmentOut(BaseModel):
    code: str
    reviewer: str
    assigned: bool = Field(description="False when nothing changed (already assigned / not assigned).")


class StartReviewIn(In):
    version: int | None = Version


class ReviewIn(In):
    decision: ReviewDecision
    comment: str = Field("", max_length=4000, description="Required when requesting changes: what to change.")
    version: int | None = Version


class ReviewOut(BaseModel):
    code: str
    version: int
    reviewer: str
    decision: ReviewDecision
    comment: str
    at: datetime

    @classmethod
    def of(cls, r: Review) -> ReviewOut:
        return cls(code=r.code, version=r.version, reviewer=r.reviewer, decision=r.decision, comment=r.comment,
                   at=r.at)


class RetireIn(In):
    reason: Reason


class StateOut(BaseModel):
    """An item version's state after a workflow act."""

    code: str
    version: int
    state: VersionState

    @classmethod
    def of(cls, it: Item) -> StateOut:
        return cls(code=it.code, version=it.version, state=it.state)


class AssignedItemOut(BaseModel):
    bank_id: int
    code: str
    version: int
    state: VersionState

    @classmethod
    def of(cls, a: AssignedItem) -> AssignedItemOut:
        return cls(bank_id=a.bank_id, code=a.code, version=a.version, state=a.state)


class FieldChangeOut(BaseModel):
    field: str
    label: str
    old: Any
    new: Any
    changed: bool


class OptionChangeOut(BaseModel):
    label: str
    old: str | None
    new: str | None
    status: str


class RubricChangeOut(BaseModel):
    position: int
    old: dict | None
    new: dict | None
    status: str


def _plain(value: Any) -> Any:
    """Tuples of dataclasses -> JSON-friendly lists and dicts."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class DiffOut(BaseModel):
    """Old vs new, field by field (附件11 第14条 新旧试题主要内容对比)."""

    code: str
    old_version: int
    new_version: int
    changed_fields: list[str]
    fields: list[FieldChangeOut]
    options: list[OptionChangeOut]
    rubric: list[RubricChangeOut]
    elements_added: list[str]
    elements_removed: list[str]

    @classmethod
    def of(cls, d: VersionDiff) -> DiffOut:
        return cls(
            code=d.code, old_version=d.old_version, new_version=d.new_version, changed_fields=list(d.changed_fields),
            fields=[FieldChangeOut(field=f.field, label=f.label, old=_plain(f.old), new=_plain(f.new),
                                   changed=f.changed) for f in d.fields],
            options=[OptionChangeOut(label=o.label, old=o.old, new=o.new, status=o.status) for o in d.options],
            rubric=[RubricChangeOut(position=r.position, old=_plain(r.old), new=_plain(r.new), status=r.status)
                    for r in d.rubric],
            elements_added=list(d.elements_added), elements_removed=list(d.elements_removed),
        )


class HistoryEntryOut(BaseModel):
    """One entry: what happened in words (``text``, the reader's locale, with the people's
    display names) and the stored codes and details."""

    at: datetime
    actor: str
    actor_name: str
    action: str
    action_label: str
    text: str
    details: dict[str, Any]

    @classmethod
    def of(cls, e: LedgerEntry, t: EntryText) -> HistoryEntryOut:
        return cls(at=e.at, actor=e.actor, actor_name=t.actor, action=e.action, action_label=str(t.action),
                   text=str(t.sentence), details=e.details)


class BatchIn(In):
    codes: list[Code] = Field(min_length=1, max_length=5000, description="Items whose approved latest version goes to the committee.")
    members: list[Name] = Field(min_length=1, max_length=50, description="Usernames of the committee, at least 5 (附件11 第17条).")
    meeting: str = Field("", max_length=400)
    note: str = Field("", max_length=2000)
    batch_code: str | None = Field(None, min_length=1, max_length=64, description="Default: YS-<bank>-<n>.")
    capacities: dict[Name, str] | None = Field(None, description="Member -> capacity on the committee (e.g. 组长).")


class SignIn(In):
    opinion: str = Field("", max_length=2000)


class RejectIn(In):
    reason: Reason
    return_codes: list[Code] | None = Field(None, max_length=5000, description="Default: every item of the batch.")


class SignatureOut(BaseModel):
    member: str
    signed_at: datetime
    opinion: str
    signature: str


class BatchItemOut(BaseModel):
    code: str
    version: int


class BatchOut(BaseModel):
    code: str
    bank_id: int
    kind: BatchKind
    state: BatchState
    members: list[str]
    items: list[BatchItemOut]
    signatures: list[SignatureOut] = Field(description="Who signed, when, with what opinion.")
    unsigned: list[str]
    all_signed: bool
    manifest_hash: str
    meeting: str
    note: str
    external_ref: str
    created_by: str
    created_at: datetime | None
    closed_by: str
    closed_at: datetime | None
    close_reason: str
    returned: list[str]

    @classmethod
    def of(cls, b: AcceptanceBatch) -> BatchOut:
        return cls(
            code=b.code, bank_id=b.bank_id, kind=b.kind, state=b.state, members=list(b.members),
            items=[BatchItemOut(code=c, version=n) for c, n in b.items],
            signatures=[SignatureOut(member=s.member, signed_at=s.signed_at, opinion=s.opinion,
                                     signature=s.signature) for s in b.signatures],
            unsigned=list(b.unsigned), all_signed=b.all_signed, manifest_hash=b.manifest_hash, meeting=b.meeting,
            note=b.note, external_ref=b.external_ref, created_by=b.created_by, created_at=b.created_at,
            closed_by=b.closed_by, closed_at=b.closed_at, close_reason=b.close_reason, returned=list(b.returned),
        )
