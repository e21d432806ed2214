"""The authoring workflow (附件11 第13–18条): writing, review, committee acceptance,
retirement, and the structured diff between versions (第14条).

States of one item version::

    draft -> submitted -> in_review -> approved -> accepted -> retired
                 ^            |            |          |
                 |            v            |          +-> superseded (a newer version accepted)
                 +--- changes_requested <--+ (committee did not accept, 第17条(四))
    draft / changes_requested -> superseded (the writer made a newer version)

Every act takes an ``Actor`` and checks, in this order: the role (``Actor.has`` for the
item's occupation), the expert register (writers and reviewers, 第10条), the person
(a writer submits only versions they wrote; a reviewer is assigned to the item and never one
of its writers), then the state. Only then is anything written; every state change goes
through ``items.set_version_state`` and so into the ledger with who, when and why (第24条).

Committee rule (第17条): a batch of approved versions goes to a committee of at least five
distinct members, none of whom wrote any version of any item in the batch (a writer judging
their own work would defeat the review of 第15条); every member signs the batch's manifest
(第17条(三) 全体成员签字), and only when the last member has signed are the versions accepted,
each superseding the item's previously accepted version. Any member (or the bank manager)
may instead reject the batch (第17条(四)): the named versions go back for changes, the rest
stay approved for a later batch.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from itembank import ledger
from itembank.domain import (
    Actor,
    BankRef,
    Item,
    ItemContent,
    Option,
    Part,
    Role,
    RubricPoint,
    VersionState,
)
from itembank.i18n import FieldMessage, Message, N_, Text
from itembank.errors import (
    ConflictError,
    ItemValidationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    WorkflowError,
)
from itembank.experts import require_expert
from itembank.items import (
    _item_record,
    _version_columns,
    add_item,
    content_hash,
    get_item,
    item_from_records,
    revise_item,
    set_version_state,
    validate_code,
    validate_content,
)
from itembank.elements import current_element_codes
from itembank.i18n import gettext
from itembank.ledger import LedgerEntry, query_ledger
from itembank.occupations import get_bank_by_id
from itembank.orm import ItemRecord, ItemVersionRecord, ItemVersionElementRecord
from itembank.orm_workflow import (
    AcceptanceBatchRecord,
    AcceptanceItemRecord,
    AcceptanceMemberRecord,
    AcceptanceRule,
    AcceptanceSignatureRecord,
    BatchKind,
    BatchState,
    ExpertRole,
    ReviewAssignmentRecord,
    ReviewDecision,
    ReviewKind,
    ReviewRecord,
    StagedImportRecord,
    Vote,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "MIN_APPROVALS",
    "AcceptanceRule",
    "ReviewKind",
    "Vote",
    "assign_reviewers",
    "char_diff",
    "item_events",
    "next_item_code",
    "revision_notes",
    "save_draft",
    "stage_import",
    "take_staged_import",
    "vote_batch",
    "MIN_COMMITTEE_MEMBERS",
    "AcceptanceBatch",
    "AssignedItem",
    "BatchKind",
    "BatchState",
    "FieldChange",
    "OptionChange",
    "Review",
    "ReviewDecision",
    "RubricChange",
    "Signature",
    "VersionDiff",
    "acceptance_of",
    "assign_reviewer",
    "assigned_items",
    "check_transition",
    "compare_versions",
    "create_acceptance_batch",
    "create_item",
    "diff_versions",
    "get_batch",
    "item_history",
    "list_batches",
    "record_review",
    "reject_batch",
    "retire_item",
    "revise",
    "reviewers_of",
    "reviews_of",
    "sign_batch",
    "start_review",
    "submit",
    "unassign_reviewer",
]

S = VersionState
MIN_COMMITTEE_MEMBERS = 5  # 附件11 第17条(二) 验收小组成员 5 人以上
MIN_APPROVALS = 1  # approving reviews a version needs before it may go to a committee

# (from, to) -> the act that makes the move. Every other pair is forbidden.
ALLOWED_TRANSITIONS: dict[tuple[VersionState, VersionState], str] = {
    (S.DRAFT, S.SUBMITTED): N_("the writer submits the version"),
    (S.CHANGES_REQUESTED, S.SUBMITTED): N_("the writer submits the version again"),
    (S.SUBMITTED, S.IN_REVIEW): N_("an assigned reviewer starts the review"),
    (S.IN_REVIEW, S.APPROVED): N_("an assigned reviewer approves"),
    (S.IN_REVIEW, S.CHANGES_REQUESTED): N_("an assigned reviewer requests changes"),
    (S.APPROVED, S.ACCEPTED): N_("every member of the acceptance committee has signed (第17条)"),
    (S.APPROVED, S.CHANGES_REQUESTED): N_("the acceptance committee returns the version (第17条(四))"),
    (S.ACCEPTED, S.RETIRED): N_("a bank manager retires the item, with a reason"),
    (S.ACCEPTED, S.SUPERSEDED): N_("a newer version of the item is accepted"),
    (S.DRAFT, S.SUPERSEDED): N_("the writer makes a newer version"),
    (S.CHANGES_REQUESTED, S.SUPERSEDED): N_("the writer makes a newer version"),
}
IN_FLIGHT = (S.SUBMITTED, S.IN_REVIEW, S.APPROVED)  # content frozen while reviewed / awaiting acceptance


def check_transition(old: VersionState, new: VersionState, *, where: Text | None = None) -> None:
    """Raise ``WorkflowError`` unless ``old -> new`` is a move of the workflow."""
    if (S(old), S(new)) in ALLOWED_TRANSITIONS:
        return
    allowed = [Message("{state} ({why})", state=b, why=Message(why))
               for (a, b), why in ALLOWED_TRANSITIONS.items() if a is S(old)]
    if allowed:
        text = Message("A version that is {old} cannot become {new}; from {old} it may become: {allowed}.",
                       old=S(old), new=S(new), allowed=allowed)
    else:
        text = Message("A version that is {old} cannot become {new}: {old} is a final state.", old=S(old),
                       new=S(new))
    if where is not None:
        text = Message("{where}: {message}", where=where, message=text)
    raise WorkflowError(text, from_state=S(old).value, to_state=S(new).value, code="transition_not_allowed")


# --------------------------------------------------------------------------------------
# Domain objects


@dataclass(frozen=True, slots=True)
class Review:
    """A reviewer's decision on a version, or (kind ``committee``) an acceptance committee's
    refusal that sent the version back, with the members' reasons (第17条(四))."""

    code: str
    version: int
    reviewer: str
    decision: ReviewDecision
    comment: str
    at: datetime
    kind: ReviewKind = ReviewKind.REVIEW
    batch_code: str = ""


@dataclass(frozen=True, slots=True)
class AssignedItem:
    bank_id: int
    code: str
    version: int
    state: VersionState


@dataclass(frozen=True, slots=True)
class Signature:
    """A member's signed vote: accept with an opinion, or refuse with the reason (``opinion``)
    and the items to send back (``return_codes``; empty: all)."""

    member: str
    signed_at: datetime
    opinion: str
    signature: str
    vote: Vote = Vote.ACCEPT
    return_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AcceptanceBatch:
    code: str
    bank_id: int
    kind: BatchKind
    state: BatchState
    members: tuple[str, ...]
    items: tuple[tuple[str, int], ...]  # (item code, version), ordered by code
    votes: tuple[Signature, ...]  # every member's signed vote so far, in order
    manifest_hash: str
    meeting: str = ""
    note: str = ""
    external_ref: str = ""
    created_by: str = ""
    created_at: datetime | None = None
    closed_by: str = ""
    closed_at: datetime | None = None
    close_reason: str = ""
    returned: tuple[str, ...] = ()  # item codes sent back by a rejection
    rule: AcceptanceRule = AcceptanceRule.UNANIMOUS

    @property
    def signatures(self) -> tuple[Signature, ...]:
        """The accepting votes."""
        return tuple(v for v in self.votes if v.vote is Vote.ACCEPT)

    @property
    def refusals(self) -> tuple[Signature, ...]:
        return tuple(v for v in self.votes if v.vote is Vote.REFUSE)

    @property
    def unsigned(self) -> tuple[str, ...]:
        """The members who have not voted yet."""
        voted = {v.member for v in self.votes}
        return tuple(m for m in self.members if m not in voted)

    @property
    def all_signed(self) -> bool:
        """Every member voted to accept."""
        return bool(self.members) and len(self.signatures) == len(self.members)


# --------------------------------------------------------------------------------------
# Helpers


def _occ(bank: BankRef) -> str:
    return bank.occupation.code


def _require_role(actor: Actor, role: Role, bank: BankRef, doing: str) -> None:
    """``doing``: a msgid (``N_``) naming the act, e.g. "submit items"."""
    if not actor.has(role, occupation_code=_occ(bank)):
        raise PermissionDeniedError(Message(
            "{user} may not {doing} in {bank}: it needs the role {role} for occupation {occupation}.",
            user=actor.username, doing=Message(doing), bank=bank.label, role=role, occupation=_occ(bank)))


def _locked_item(session: Session, bank: BankRef, code: str) -> ItemRecord:
    """The item row, locked against concurrent workflow acts on PostgreSQL (SQLite
    serialises writers anyway, and SQLAlchemy leaves FOR UPDATE out there)."""
    rec = session.scalar(
        select(ItemRecord).where(ItemRecord.bank_id == bank.id, ItemRecord.code == code).with_for_update()
        .execution_options(populate_existing=True)  # bulk UPDATEs (usage, compromised) bypass the identity map
    )
    if rec is None:
        return _item_record(session, bank=bank, code=code)  # raises NotFoundError
    session.expire(rec, ["versions"])  # the identity map may hold a collection loaded earlier
    return rec


def _version(rec: ItemRecord, version: int | None) -> ItemVersionRecord:
    if version is None:
        return max(rec.versions, key=lambda v: v.version_no)
    for v in rec.versions:
        if v.version_no == version:
            return v
    raise NotFoundError(
        Message("Item {code} has no version {version} (its versions: {versions}).", code=rec.code, version=version,
                versions=[v.version_no for v in rec.versions]),
        field="version", code="version_not_found",
    )


def _authors(rec: ItemRecord) -> set[str]:
    """Everyone who wrote a version of the item (and who created it)."""
    return {rec.created_by, *(v.created_by for v in rec.versions)} - {""}


def _move(
    session: Session, *, actor: Actor, bank: BankRef, rec: ItemRecord, v: ItemVersionRecord,
    to: VersionState, reason: Text,
) -> Item:
    check_transition(v.state, to, where=Message("item {code} version {version}", code=rec.code,
                                                version=v.version_no))
    return set_version_state(session, bank=bank, code=rec.code, version=v.version_no, state=to,
                             actor=actor.username, reason=reason)


def _require_state(rec: ItemRecord, v: ItemVersionRecord, states: Sequence[VersionState], doing: str) -> None:
    """``doing``: a msgid (``N_``) naming the act, e.g. "submit it"."""
    if v.state not in states:
        raise WorkflowError(
            Message("Item {code} version {version} is {state}; to {doing} it must be {states}.", code=rec.code,
                    version=v.version_no, state=S(v.state), doing=Message(doing), states=list(states)),
            from_state=S(v.state).value, code="wrong_state",
        )


def _require_reviewer(session: Session, *, actor: Actor, bank: BankRef, rec: ItemRecord, doing: str) -> None:
    _require_role(actor, Role.REVIEWER, bank, doing)
    require_expert(session, username=actor.username, occupation_code=_occ(bank), role=ExpertRole.REVIEWER)
    if actor.username in _authors(rec):
        raise PermissionDeniedError(Message(
            "{user} wrote a version of item {code} and may not review it: a writer never reviews their own items.",
            user=actor.username, code=rec.code))
    assigned = session.scalar(
        select(ReviewAssignmentRecord.id).where(
            ReviewAssignmentRecord.item_id == rec.id, ReviewAssignmentRecord.reviewer == actor.username
        )
    )
    if assigned is None:
        raise PermissionDeniedError(Message(
            "{user} is not assigned to review item {code}; a bank manager assigns the reviewers.",
            user=actor.username, code=rec.code))


# --------------------------------------------------------------------------------------
# Writing


def create_item(
    session: Session, *, actor: Actor, bank: BankRef, code: str, content: ItemContent,
    set_code: str | None = None,
) -> Item:
    """A registered writer creates an item; its first version is a draft."""
    _require_role(actor, Role.ITEM_WRITER, bank, N_("write items"))
    require_expert(session, username=actor.username, occupation_code=_occ(bank), role=ExpertRole.WRITER)
    item = add_item(session, bank=bank, code=code, content=content, actor=actor.username, set_code=set_code)
    ledger.append(session, actor=actor.username, action="item.create", object_type="item",
                  object_id=item.id, details={"code": code, "version": 1, "state": S.DRAFT.value,  # type: ignore[arg-type]
                                              "bank": bank.label, "content_hash": content_hash(content)})
    return item


def _require_writer(session: Session, actor: Actor, bank: BankRef, doing: str) -> None:
    _require_role(actor, Role.ITEM_WRITER, bank, doing)
    require_expert(session, username=actor.username, occupation_code=_occ(bank), role=ExpertRole.WRITER)


def save_draft(
    session: Session, *, actor: Actor, bank: BankRef, code: str, content: ItemContent, reason: str = "",
    set_code: str | None = None,
) -> tuple[Item, bool]:
    """A registered writer saves what they have written so far, complete or not (checked in
    full at ``submit``). Returns the draft and whether anything changed.

    A new code makes a new item. The writer's own draft that was never submitted is updated
    in place (a draft is work in progress; 第14条's old-vs-new record begins at submission);
    after changes were requested, or on an accepted item, a new draft version is made and
    the old version stays. A version under review or awaiting acceptance cannot be changed.
    """
    _require_writer(session, actor, bank, N_("write items"))
    if not (isinstance(content.points, (int, float)) and content.points > 0):
        raise ValidationError(Message("Item {code}: the points must be a number above 0.", code=code), field="points")
    if not isinstance(content.difficulty_rating, int) or not 1 <= content.difficulty_rating <= 5:
        raise ValidationError(Message("Item {code}: rate the difficulty from 1 (easiest) to 5.", code=code),
                              field="difficulty_rating")
    rec = session.scalar(select(ItemRecord).where(ItemRecord.bank_id == bank.id, ItemRecord.code == code))
    if rec is None:
        problems = validate_code(code)
        if problems:
            raise ValidationError(Message("'{code}' is not a valid item code.", code=code), errors=problems,
                                  field="code")
        item = add_item(session, bank=bank, code=code, content=content, actor=actor.username, set_code=set_code,
                        check_content=False)
        ledger.append(session, actor=actor.username, action="item.create", object_type="item",
                      object_id=item.id, details={"code": code, "version": 1, "state": S.DRAFT.value,  # type: ignore[arg-type]
                                                  "bank": bank.label, "content_hash": content_hash(content),
                                                  "draft": True})
        return item, True
    rec = _locked_item(session, bank, code)
    latest = _version(rec, None)
    if latest.created_by != actor.username and rec.created_by != actor.username:
        raise PermissionDeniedError(Message("Item {code} is not yours; writers revise only their own items (附件12).",
                                            code=code))
    if latest.state in IN_FLIGHT:
        raise WorkflowError(
            Message("Item {code} version {version} is {state}: its content is frozen until the reviewer requests "
                    "changes or the committee decides.", code=code, version=latest.version_no,
                    state=S(latest.state)),
            from_state=S(latest.state).value, code="content_frozen",
        )
    new_hash = content_hash(content)
    if latest.state is S.DRAFT and latest.created_by == actor.username:
        if latest.content_hash == new_hash:
            return item_from_records(rec, latest, bank=bank), False
        if content.part.value != rec.part.value:
            raise ValidationError(Message("Item {code} belongs to {part}; a draft cannot move it to {new_part}.",
                                          code=code, part=Part(rec.part), new_part=content.part), field="item_type")
        for name, value in _version_columns(content).items():
            setattr(latest, name, value)
        latest.elements = [ItemVersionElementRecord(element_code=c) for c in dict.fromkeys(content.element_codes)]
        latest.state_changed_at = datetime.now(timezone.utc)
        session.flush()
        ledger.append(session, actor=actor.username, action="item.draft_saved", object_type="item", object_id=rec.id,
                      details={"code": code, "version": latest.version_no, "content_hash": new_hash,
                               "reason": reason})
        return item_from_records(rec, latest, bank=bank), True
    old_no, old_state = latest.version_no, latest.state
    new = revise_item(session, bank=bank, code=code, content=content, actor=actor.username, reason=reason,
                      state=S.DRAFT, check_content=False)
    if new.version == old_no:
        return new, False
    if old_state in (S.DRAFT, S.CHANGES_REQUESTED):
        session.expire(rec, ["versions"])
        _move(session, actor=actor, bank=bank, rec=rec, v=_version(rec, old_no), to=S.SUPERSEDED,
              reason=Message("replaced by version {version}: {reason}", version=new.version, reason=reason)
              if reason else Message("replaced by version {version}", version=new.version))
    return get_item(session, bank=bank, code=code, version=new.version), True


_CODE_TAIL = re.compile(r"^(.*?)(\d+)$")
PART_LETTER = {Part.THEORY: "T", Part.PRACTICAL: "P", Part.DEFENCE: "D"}


def next_item_code(session: Session, *, bank: BankRef, part: Part) -> str:
    """The code a new item of ``part`` gets unless the writer types another: the bank's most
    used numbering of that part (prefix and width) continued past its highest number, e.g.
    ``DG5-T-0121`` after ``DG5-T-0120``; without items yet, ``<occupation>-<level><T|P|D>-0001``."""
    codes = list(session.scalars(select(ItemRecord.code).where(ItemRecord.bank_id == bank.id,
                                                               ItemRecord.part == part)))
    numbered: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for c in codes:
        m = _CODE_TAIL.match(c)
        if m:
            numbered[m.group(1)].append((int(m.group(2)), len(m.group(2))))
    if numbered:
        prefix = max(numbered, key=lambda p: (len(numbered[p]), p))
        n = max(x for x, _ in numbered[prefix]) + 1
        width = max(w for _, w in numbered[prefix])
    else:
        prefix, n, width = f"{bank.occupation.code}-{int(bank.level)}{PART_LETTER[part]}-", 1, 4
    taken = set(session.scalars(select(ItemRecord.code).where(ItemRecord.bank_id == bank.id)))
    while f"{prefix}{n:0{width}d}" in taken:
        n += 1
    return f"{prefix}{n:0{width}d}"


def revise(
    session: Session, *, actor: Actor, bank: BankRef, code: str, content: ItemContent, reason: str = "",
) -> Item:
    """A registered writer makes a new version (a draft) of an item (第14条: the old version
    stays). A pending draft or changes-requested version is superseded by it; a version under
    review or awaiting acceptance cannot be revised. Unchanged content does nothing."""
    _require_role(actor, Role.ITEM_WRITER, bank, N_("revise items"))
    require_expert(session, username=actor.username, occupation_code=_occ(bank), role=ExpertRole.WRITER)
    rec = _locked_item(session, bank, code)
    latest = _version(rec, None)
    if latest.state in IN_FLIGHT:
        raise WorkflowError(
            Message("Item {code} version {version} is {state}: its content is frozen until the reviewer requests "
                    "changes or the committee decides.", code=code, version=latest.version_no,
                    state=S(latest.state)),
            from_state=S(latest.state).value, code="content_frozen",
        )
    old_no, old_state = latest.version_no, latest.state
    new = revise_item(session, bank=bank, code=code, content=content, actor=actor.username,
                      reason=reason, state=S.DRAFT)
    if new.version == old_no:
        return new  # unchanged content: nothing to do
    if old_state in (S.DRAFT, S.CHANGES_REQUESTED):
        session.expire(rec, ["versions"])
        _move(session, actor=actor, bank=bank, rec=rec, v=_version(rec, old_no), to=S.SUPERSEDED,
              reason=Message("replaced by version {version}: {reason}", version=new.version, reason=reason)
              if reason else Message("replaced by version {version}", version=new.version))
    return get_item(session, bank=bank, code=code, version=new.version)


def submit(
    session: Session, *, actor: Actor, bank: BankRef, code: str, version: int | None = None,
    comment: str = "",
) -> Item:
    """The writer of a version submits it for review (draft or changes requested -> submitted)."""
    _require_role(actor, Role.ITEM_WRITER, bank, N_("submit items"))
    require_expert(session, username=actor.username, occupation_code=_occ(bank), role=ExpertRole.WRITER)
    rec = _locked_item(session, bank, code)
    v = _version(rec, version)
    if v.created_by != actor.username:
        raise PermissionDeniedError(Message(
            "Item {code} version {version} was written by {writer}; only its writer submits it, not {user}.",
            code=code, version=v.version_no, writer=v.created_by or "—", user=actor.username))
    _require_state(rec, v, (S.DRAFT, S.CHANGES_REQUESTED), N_("submit it"))
    # a draft may have been saved incomplete: it is checked in full before anyone reviews it
    content = item_from_records(rec, v, bank=bank).content
    problems = validate_content(content, element_codes=current_element_codes(session, bank_id=bank.id or 0,
                                                                             part=content.part))
    if problems:
        raise ItemValidationError(Message("Item {code} version {version} is not complete and was not submitted.",
                                          code=code, version=v.version_no), errors=problems)
    return _move(session, actor=actor, bank=bank, rec=rec, v=v, to=S.SUBMITTED,
                 reason=comment or Message("submitted for review"))


# --------------------------------------------------------------------------------------
# Review


def assign_reviewer(session: Session, *, actor: Actor, bank: BankRef, code: str, reviewer: str) -> bool:
    """A bank manager assigns a registered reviewer, who is none of the item's writers.
    Returns False when the reviewer was assigned already."""
    _require_role(actor, Role.BANK_MANAGER, bank, N_("assign reviewers"))
    rec = _locked_item(session, bank, code)
    require_expert(session, username=reviewer, occupation_code=_occ(bank), role=ExpertRole.REVIEWER)
    if reviewer in _authors(rec):
        raise PermissionDeniedError(Message(
            "{reviewer} wrote a version of item {code} and cannot be its reviewer; choose another reviewer.",
            reviewer=reviewer, code=code))
    exists = session.scalar(select(ReviewAssignmentRecord.id).where(
        ReviewAssignmentRecord.item_id == rec.id, ReviewAssignmentRecord.reviewer == reviewer))
    if exists is not None:
        return False
    session.add(ReviewAssignmentRecord(item_id=rec.id, reviewer=reviewer, assigned_by=actor.username))
    session.flush()
    ledger.append(session, actor=actor.username, action="review.assign", object_type="item", object_id=rec.id,
                  details={"code": code, "reviewer": reviewer})
    return True


def assign_reviewers(
    session: Session, *, actor: Actor, bank: BankRef, codes: Sequence[str], reviewer: str,
) -> list[str]:
    """Assign one reviewer to many items at once (a bank manager's list of submitted items).
    All or nothing: every item is checked first and every refusal is listed by item. Returns
    the codes newly assigned (an item the reviewer had already is left as it was)."""
    _require_role(actor, Role.BANK_MANAGER, bank, N_("assign reviewers"))
    codes = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not codes:
        raise ValidationError(Message("Choose at least one item."), field="codes")
    require_expert(session, username=reviewer, occupation_code=_occ(bank), role=ExpertRole.REVIEWER)
    problems: list[Message] = []
    recs = {}
    for code in codes:
        try:
            rec = _locked_item(session, bank, code)
        except NotFoundError:
            problems.append(Message("item {code}: not in {bank}", code=code, bank=bank.label))
            continue
        if reviewer in _authors(rec):
            problems.append(Message("item {code}: {reviewer} wrote a version of it and cannot review it", code=code,
                                    reviewer=reviewer))
        if _version(rec, None).state is S.RETIRED:
            problems.append(Message("item {code}: retired", code=code))
        recs[code] = rec
    if problems:
        raise ValidationError(Message("No reviewer was assigned: {n} problem(s).", n=len(problems)), errors=problems,
                              field="codes")
    done = []
    for code in codes:
        if assign_reviewer(session, actor=actor, bank=bank, code=code, reviewer=reviewer):
            done.append(code)
    return done


def reviewers_of(session: Session, *, bank: BankRef, code: str) -> list[str]:
    """The reviewers assigned to an item, in the order they were assigned."""
    rec = _item_record(session, bank=bank, code=code)
    return list(session.scalars(select(ReviewAssignmentRecord.reviewer)
                                .where(ReviewAssignmentRecord.item_id == rec.id).order_by(ReviewAssignmentRecord.id)))


def unassign_reviewer(session: Session, *, actor: Actor, bank: BankRef, code: str, reviewer: str,
                      reason: str = "") -> bool:
    _require_role(actor, Role.BANK_MANAGER, bank, N_("assign reviewers"))
    rec = _locked_item(session, bank, code)
    row = session.scalar(select(ReviewAssignmentRecord).where(
        ReviewAssignmentRecord.item_id == rec.id, ReviewAssignmentRecord.reviewer == reviewer))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    ledger.append(session, actor=actor.username, action="review.unassign", object_type="item", object_id=rec.id,
                  details={"code": code, "reviewer": reviewer, "reason": reason})
    return True


def start_review(session: Session, *, actor: Actor, bank: BankRef, code: str, version: int | None = None) -> Item:
    """An assigned reviewer takes a submitted version into review."""
    rec = _locked_item(session, bank, code)
    _require_reviewer(session, actor=actor, bank=bank, rec=rec, doing=N_("review items"))
    v = _version(rec, version)
    _require_state(rec, v, (S.SUBMITTED,), N_("start its review"))
    return _move(session, actor=actor, bank=bank, rec=rec, v=v, to=S.IN_REVIEW, reason=Message("review started"))


def record_review(
    session: Session, *, actor: Actor, bank: BankRef, code: str, decision: ReviewDecision | str,
    comment: str, version: int | None = None,
) -> Review:
    """An assigned reviewer comments on a version in review and decides: approve (-> approved)
    or request changes (-> changes requested; the comment says what to change)."""
    decision = ReviewDecision(decision)
    rec = _locked_item(session, bank, code)
    _require_reviewer(session, actor=actor, bank=bank, rec=rec, doing=N_("review items"))
    v = _version(rec, version)
    _require_state(rec, v, (S.IN_REVIEW,), N_("record a review decision"))
    if decision is ReviewDecision.REQUEST_CHANGES and not comment.strip():
        raise ValidationError(Message("Item {code}: say what the writer should change.", code=code), field="comment")
    now = datetime.now(timezone.utc)
    session.add(ReviewRecord(item_id=rec.id, version_id=v.id, reviewer=actor.username, decision=decision,
                             comment=comment, at=now))
    session.flush()
    ledger.append(session, actor=actor.username, action="review.record", object_type="item", object_id=rec.id,
                  details={"code": code, "version": v.version_no, "decision": decision.value, "comment": comment})
    if decision is ReviewDecision.REQUEST_CHANGES:
        _move(session, actor=actor, bank=bank, rec=rec, v=v, to=S.CHANGES_REQUESTED, reason=comment)
    elif _approvals(session, v.id) >= MIN_APPROVALS:
        _move(session, actor=actor, bank=bank, rec=rec, v=v, to=S.APPROVED, reason=comment or Message("approved"))
    return Review(code, v.version_no, actor.username, decision, comment, now)


def _approvals(session: Session, version_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(ReviewRecord).where(
            ReviewRecord.version_id == version_id, ReviewRecord.decision == ReviewDecision.APPROVE)
    ) or 0


def reviews_of(session: Session, *, bank: BankRef, code: str, version: int | None = None) -> list[Review]:
    rec = _item_record(session, bank=bank, code=code)
    numbers = {v.id: v.version_no for v in rec.versions}
    q = select(ReviewRecord).where(ReviewRecord.item_id == rec.id).order_by(ReviewRecord.at, ReviewRecord.id)
    if version is not None:
        q = q.where(ReviewRecord.version_id == _version(rec, version).id)
    return [Review(code, numbers[r.version_id], r.reviewer, r.decision, r.comment, r.at, ReviewKind(r.kind),
                   r.batch_code) for r in session.scalars(q)]


def assigned_items(
    session: Session, *, reviewer: str, bank: BankRef | None = None,
    states: Sequence[VersionState] | None = (S.SUBMITTED, S.IN_REVIEW),
) -> list[AssignedItem]:
    """The items a reviewer is assigned to, with their latest version (what the reviewer's
    page lists); ``states`` filters on that version's state (None: every state)."""
    latest = (
        select(ItemVersionRecord.item_id, func.max(ItemVersionRecord.version_no).label("n"))
        .group_by(ItemVersionRecord.item_id).subquery()
    )
    q = (
        select(ItemRecord.bank_id, ItemRecord.code, ItemVersionRecord.version_no, ItemVersionRecord.state)
        .join(ReviewAssignmentRecord, ReviewAssignmentRecord.item_id == ItemRecord.id)
        .join(latest, latest.c.item_id == ItemRecord.id)
        .join(ItemVersionRecord, (ItemVersionRecord.item_id == ItemRecord.id)
              & (ItemVersionRecord.version_no == latest.c.n))
        .where(ReviewAssignmentRecord.reviewer == reviewer)
        .order_by(ItemRecord.bank_id, ItemRecord.code)
    )
    if bank is not None:
        q = q.where(ItemRecord.bank_id == bank.id)
    if states is not None:
        q = q.where(ItemVersionRecord.state.in_(list(states)))
    return [AssignedItem(*r) for r in session.execute(q).all()]


# --------------------------------------------------------------------------------------
# Committee acceptance (附件11 第17条)


def _manifest_hash(code: str, bank_id: int, members: Sequence[str], items: Sequence[tuple[str, int, str]]) -> str:
    payload = json.dumps({"batch": code, "bank": bank_id, "members": list(members),
                          "items": [list(t) for t in sorted(items)]},
                         ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _batch_record(session: Session, batch_code: str, *, lock: bool = False) -> AcceptanceBatchRecord:
    q = select(AcceptanceBatchRecord).where(AcceptanceBatchRecord.code == batch_code)
    if lock:
        q = q.with_for_update()
    rec = session.scalar(q)
    if rec is None:
        raise NotFoundError(Message("There is no acceptance batch {batch}.", batch=batch_code), field="batch_code",
                            code="batch_not_found")
    return rec


def _batch_domain(session: Session, rec: AcceptanceBatchRecord) -> AcceptanceBatch:
    session.refresh(rec)
    rows = session.execute(
        select(ItemRecord.code, ItemVersionRecord.version_no, AcceptanceItemRecord.returned)
        .select_from(AcceptanceItemRecord)
        .join(ItemVersionRecord, ItemVersionRecord.id == AcceptanceItemRecord.version_id)
        .join(ItemRecord, ItemRecord.id == AcceptanceItemRecord.item_id)
        .where(AcceptanceItemRecord.batch_id == rec.id)
        .order_by(ItemRecord.code)
    ).all()
    return AcceptanceBatch(
        code=rec.code, bank_id=rec.bank_id, kind=rec.kind, state=rec.state,
        members=tuple(m.username for m in rec.members),
        items=tuple((c, n) for c, n, _ in rows),
        votes=tuple(Signature(s.member, s.signed_at, s.opinion, s.signature, Vote(s.vote), tuple(s.return_codes or ()))
                    for s in rec.signatures),
        manifest_hash=rec.manifest_hash, meeting=rec.meeting, note=rec.note, external_ref=rec.external_ref,
        created_by=rec.created_by, created_at=rec.created_at, closed_by=rec.closed_by,
        closed_at=rec.closed_at, close_reason=rec.close_reason,
        returned=tuple(c for c, _, r in rows if r),
        rule=AcceptanceRule(rec.rule),
    )


def create_acceptance_batch(
    session: Session,
    *,
    actor: Actor,
    bank: BankRef,
    codes: Sequence[str],
    members: Sequence[str],
    meeting: str = "",
    note: str = "",
    batch_code: str | None = None,
    capacities: dict[str, str] | None = None,
    rule: AcceptanceRule | str = AcceptanceRule.UNANIMOUS,
) -> AcceptanceBatch:
    """A bank manager puts the approved latest versions of ``codes`` to a committee.

    Refused, listing every problem, unless: at least 5 distinct members, none of them a
    writer of any item in the batch; every item's latest version approved with at least one
    approving review, not in another open batch, and the item not compromised."""
    _require_role(actor, Role.BANK_MANAGER, bank, N_("put items to an acceptance committee"))
    rule = AcceptanceRule(rule)
    problems: list[FieldMessage] = []
    members = [m.strip() for m in members]
    if len(set(members)) != len(members):
        problems.append(FieldMessage("members", Message("a member is listed twice ({members})", members=members)))
    if any(not m for m in members):
        problems.append(FieldMessage("members", Message("a member's name is empty")))
    if len(set(members)) < MIN_COMMITTEE_MEMBERS:
        problems.append(FieldMessage("members", Message(
            "{n} member(s); an acceptance committee has at least {minimum} (附件11 第17条(二))",
            n=len(set(members)), minimum=MIN_COMMITTEE_MEMBERS)))
    if not codes:
        problems.append(FieldMessage("items", Message("the batch holds no item")))
    if len(set(codes)) != len(codes):
        problems.append(FieldMessage("items", Message("an item code is listed twice")))
    recs = session.scalars(
        select(ItemRecord).where(ItemRecord.bank_id == bank.id, ItemRecord.code.in_(list(set(codes))))
        .options(selectinload(ItemRecord.versions)).with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_code = {r.code: r for r in recs}
    problems += [FieldMessage("items", Message("{bank} has no item {code}", bank=bank.label, code=c), labelled=False)
                 for c in sorted(set(codes) - set(by_code))]
    open_versions = set(session.scalars(
        select(AcceptanceItemRecord.version_id)
        .join(AcceptanceBatchRecord, AcceptanceBatchRecord.id == AcceptanceItemRecord.batch_id)
        .where(AcceptanceBatchRecord.state == BatchState.OPEN)
    ))
    chosen: list[tuple[ItemRecord, ItemVersionRecord]] = []
    for code in sorted(set(codes) & set(by_code)):
        rec = by_code[code]
        v = _version(rec, None)
        where = Message("item {code} version {version}", code=code, version=v.version_no)
        if v.state is not S.APPROVED:
            problems.append(FieldMessage("items", Message("is {state}, not approved", state=S(v.state)), where=where,
                                         labelled=False))
        elif _approvals(session, v.id) < MIN_APPROVALS:
            problems.append(FieldMessage("items", Message("has no approving review"), where=where, labelled=False))
        if v.id in open_versions:
            problems.append(FieldMessage("items", Message("is already in an open acceptance batch"), where=where,
                                         labelled=False))
        if rec.compromised:
            problems.append(FieldMessage("items", Message(
                "is compromised (leaked) and may never be accepted (附件16)"), where=where, labelled=False))
        writers = sorted(_authors(rec) & set(members))
        if writers:
            problems.append(FieldMessage("members", Message(
                "{writers} wrote it and may not sit on its acceptance committee", writers=writers), where=where,
                labelled=False))
        chosen.append((rec, v))
    n = (session.scalar(select(func.count()).select_from(AcceptanceBatchRecord)
                        .where(AcceptanceBatchRecord.bank_id == bank.id)) or 0) + 1
    code = batch_code or f"YS-{bank.id:03d}-{n:04d}"
    if session.scalar(select(AcceptanceBatchRecord.id).where(AcceptanceBatchRecord.code == code)) is not None:
        problems.append(FieldMessage("batch_code", Message("the batch code {code} is already used", code=code)))
    if problems:
        raise WorkflowError(
            Message("The acceptance batch for {bank} was not created: {n} problem(s).", bank=bank.label,
                    n=len(problems)),
            errors=problems, code="batch_refused",
        )
    manifest = _manifest_hash(code, bank.id, members, [(r.code, v.version_no, v.content_hash) for r, v in chosen])  # type: ignore[arg-type]
    batch = AcceptanceBatchRecord(code=code, bank_id=bank.id, kind=BatchKind.COMMITTEE, state=BatchState.OPEN,
                                  meeting=meeting, note=note, external_ref="", manifest_hash=manifest,
                                  created_by=actor.username, closed_by="", close_reason="", rule=rule)
    session.add(batch)
    session.flush()
    session.add_all(AcceptanceMemberRecord(batch_id=batch.id, username=m, position=i,
                                           capacity=(capacities or {}).get(m, ""))
                    for i, m in enumerate(members))
    session.add_all(AcceptanceItemRecord(batch_id=batch.id, version_id=v.id, item_id=r.id, returned=False)
                    for r, v in chosen)
    session.flush()
    ledger.append(session, actor=actor.username, action="batch.create", object_type="acceptance_batch",
                  object_id=code, details={"bank": bank.label, "members": members, "meeting": meeting,
                                           "items": [f"{r.code} v{v.version_no}" for r, v in chosen],
                                           "manifest_hash": manifest, "rule": rule.value})
    return _batch_domain(session, batch)


def vote_batch(
    session: Session, *, actor: Actor, batch_code: str, accept: bool, opinion: str = "",
    return_codes: Sequence[str] | None = None,
) -> AcceptanceBatch:
    """A committee member signs their vote on the batch's manifest: accept (with an opinion)
    or refuse (with the reason, and optionally the items to send back; default all).

    The batch is decided when every member has voted (第17条(三) 验收结果全体成员签字), by the
    batch's rule (``AcceptanceRule``; unanimous unless the centre chose otherwise): accepted,
    every version is accepted (superseding the item's earlier accepted version); not accepted,
    the items the refusing members named go back to their writers with every refusal's
    reason in their review record, the others stay approved for a later batch."""
    rec = _batch_record(session, batch_code, lock=True)
    bank = get_bank_by_id(session, rec.bank_id)
    _require_role(actor, Role.COMMITTEE_MEMBER, bank, N_("vote on acceptance batches"))
    members = [m.username for m in rec.members]
    if actor.username not in members:
        raise PermissionDeniedError(Message(
            "{user} is not a member of acceptance batch {batch} (its members: {members}).", user=actor.username,
            batch=batch_code, members=members))
    if rec.state is not BatchState.OPEN:
        raise WorkflowError(Message("Acceptance batch {batch} is {state}; it can no longer be signed.",
                                    batch=batch_code, state=rec.state), code="batch_closed")
    if any(s.member == actor.username for s in rec.signatures):
        raise ConflictError(Message("{user} has already signed acceptance batch {batch}.", user=actor.username,
                                    batch=batch_code), code="already_signed")
    vote = Vote.ACCEPT if accept else Vote.REFUSE
    codes: list[str] = []
    if vote is Vote.REFUSE:
        if not opinion.strip():
            raise ValidationError(Message("Say why the batch is not accepted (the committee's opinion)."),
                                  field="reason")
        in_batch = {c for c, _, _, _ in _batch_versions(session, rec)}
        codes = sorted(set(return_codes or ()))
        unknown = sorted(set(codes) - in_batch)
        if unknown:
            raise ValidationError(Message("Acceptance batch {batch} does not hold {codes}.", batch=batch_code,
                                          codes=unknown), field="return_codes")
    votes = {s.member: Vote(s.vote) for s in rec.signatures} | {actor.username: vote}
    complete = set(votes) >= set(members)
    n_accept = sum(1 for v in votes.values() if v is Vote.ACCEPT)
    accepted = complete and AcceptanceRule(rec.rule).accepts(n_accept, len(members))
    rows = _batch_versions(session, rec) if accepted else []
    if accepted:
        # checked when the batch was made; checked again before the deciding vote is written
        stale = [Message("item {code} version {version} is {state}", code=c, version=n, state=S(st))
                 for c, n, st, _ in rows if st is not S.APPROVED]
        stale += [Message("item {code} version {version} has no approving review", code=c, version=n)
                  for c, n, _, vid in rows if _approvals(session, vid) < MIN_APPROVALS]
        if stale:
            raise WorkflowError(Message("Acceptance batch {batch} cannot be accepted.", batch=batch_code),
                                errors=stale, code="batch_stale")
    now = datetime.now(timezone.utc)
    sig = hashlib.sha256(
        f"{rec.manifest_hash}|{actor.username}|{now.isoformat()}|{vote.value}|{opinion}".encode("utf-8")
    ).hexdigest()
    session.add(AcceptanceSignatureRecord(batch_id=rec.id, member=actor.username, signed_at=now, opinion=opinion,
                                          signature=sig, vote=vote, return_codes=codes))
    session.flush()
    ledger.append(session, actor=actor.username, action="batch.sign" if accept else "batch.refuse",
                  object_type="acceptance_batch", object_id=batch_code,
                  details={"opinion": opinion, "vote": vote.value, "return_codes": codes, "signature": sig,
                           "manifest_hash": rec.manifest_hash})
    if accepted:
        _accept(session, actor=actor, bank=bank, rec=rec, members=members, rows=rows)
    elif complete:
        session.refresh(rec)
        refusals = [s for s in rec.signatures if Vote(s.vote) is Vote.REFUSE]
        back: set[str] | None = set()
        for r in refusals:
            if not r.return_codes:
                back = None  # a member refused the whole batch
                break
            back |= set(r.return_codes)  # type: ignore[operator]
        reason = "; ".join(f"{r.member}: {r.opinion}" for r in refusals)
        _close_rejected(session, actor=actor, bank=bank, rec=rec, reason=reason, back=back,
                        votes=f"{n_accept}/{len(members)}")
    return _batch_domain(session, rec)


def sign_batch(session: Session, *, actor: Actor, batch_code: str, opinion: str = "") -> AcceptanceBatch:
    """A committee member votes to accept the batch (``vote_batch``)."""
    return vote_batch(session, actor=actor, batch_code=batch_code, accept=True, opinion=opinion)


def _batch_versions(session: Session, rec: AcceptanceBatchRecord) -> list:  # type: ignore[type-arg]
    return list(session.execute(
        select(ItemRecord.code, ItemVersionRecord.version_no, ItemVersionRecord.state, ItemVersionRecord.id)
        .select_from(AcceptanceItemRecord)
        .join(ItemVersionRecord, ItemVersionRecord.id == AcceptanceItemRecord.version_id)
        .join(ItemRecord, ItemRecord.id == AcceptanceItemRecord.item_id)
        .where(AcceptanceItemRecord.batch_id == rec.id).order_by(ItemRecord.code)
    ).all())


def _accept(session: Session, *, actor: Actor, bank: BankRef, rec: AcceptanceBatchRecord, members: list[str],
            rows: list) -> None:  # type: ignore[type-arg]
    reason = Message("accepted by committee batch {batch}, signed by {members}", batch=rec.code, members=members)
    for code, n, _, _ in rows:
        item = _locked_item(session, bank, code)
        _move(session, actor=actor, bank=bank, rec=item, v=_version(item, n), to=S.ACCEPTED, reason=reason)
    rec.state = BatchState.ACCEPTED
    rec.closed_by = actor.username
    rec.closed_at = datetime.now(timezone.utc)
    session.flush()
    ledger.append(session, actor=actor.username, action="batch.accept", object_type="acceptance_batch",
                  object_id=rec.code, details={"bank": bank.label, "n_items": len(rows), "members": members,
                                               "manifest_hash": rec.manifest_hash,
                                               "rule": AcceptanceRule(rec.rule).value})


def _close_rejected(session: Session, *, actor: Actor, bank: BankRef, rec: AcceptanceBatchRecord, reason: str,
                    back: set[str] | None, votes: str = "") -> None:
    """Close the batch as not accepted: the versions of ``back`` (None: all) go back to their
    writers with ``reason``, in the state log and in the review record (第17条(四))."""
    rows = _batch_versions(session, rec)
    back = {c for c, _, _, _ in rows} if back is None else back
    now = datetime.now(timezone.utc)
    for code, n, _, vid in rows:
        if code not in back:
            continue
        item = _locked_item(session, bank, code)
        _move(session, actor=actor, bank=bank, rec=item, v=_version(item, n), to=S.CHANGES_REQUESTED,
              reason=Message("committee batch {batch} not accepted: {reason}", batch=rec.code, reason=reason))
        session.get(AcceptanceItemRecord, (rec.id, vid)).returned = True  # type: ignore[union-attr]
        session.add(ReviewRecord(item_id=item.id, version_id=vid, reviewer=actor.username,
                                 decision=ReviewDecision.REQUEST_CHANGES, comment=reason, at=now,
                                 kind=ReviewKind.COMMITTEE, batch_code=rec.code))
    rec.state = BatchState.REJECTED
    rec.closed_by = actor.username
    rec.closed_at = now
    rec.close_reason = reason
    session.flush()
    ledger.append(session, actor=actor.username, action="batch.reject", object_type="acceptance_batch",
                  object_id=rec.code, details={"reason": reason, "returned": sorted(back), "votes": votes,
                                               "rule": AcceptanceRule(rec.rule).value})


def reject_batch(
    session: Session, *, actor: Actor, batch_code: str, reason: str, return_codes: Sequence[str] | None = None,
) -> AcceptanceBatch:
    """Not accepting a batch (第17条(四)). A member's refusal is their vote (``vote_batch``):
    the batch is decided when every member has voted. A bank manager who is not a member
    withdraws the batch at once: the versions of ``return_codes`` (default: all) go back to
    the writers with the reason; the others stay approved and may go into a new batch."""
    rec = _batch_record(session, batch_code, lock=True)
    bank = get_bank_by_id(session, rec.bank_id)
    members = [m.username for m in rec.members]
    if actor.username in members and actor.has(Role.COMMITTEE_MEMBER, occupation_code=_occ(bank)):
        return vote_batch(session, actor=actor, batch_code=batch_code, accept=False, opinion=reason,
                          return_codes=return_codes)
    if not actor.has(Role.BANK_MANAGER, occupation_code=_occ(bank)):
        raise PermissionDeniedError(Message(
            "{user} may not reject acceptance batch {batch}: only its members or a bank manager may.",
            user=actor.username, batch=batch_code))
    if rec.state is not BatchState.OPEN:
        raise WorkflowError(Message("Acceptance batch {batch} is {state}; it can no longer be rejected.",
                                    batch=batch_code, state=rec.state), code="batch_closed")
    if not reason.strip():
        raise ValidationError(Message("Say why the batch is not accepted (the committee's opinion)."),
                              field="reason")
    in_batch = {c for c, _, _, _ in _batch_versions(session, rec)}
    back = set(in_batch if return_codes is None else return_codes)
    unknown = sorted(back - in_batch)
    if unknown:
        raise ValidationError(Message("Acceptance batch {batch} does not hold {codes}.", batch=batch_code,
                                      codes=unknown), field="return_codes")
    _close_rejected(session, actor=actor, bank=bank, rec=rec, reason=reason, back=back)
    return _batch_domain(session, rec)


def get_batch(session: Session, *, batch_code: str) -> AcceptanceBatch:
    return _batch_domain(session, _batch_record(session, batch_code))


def list_batches(session: Session, *, bank: BankRef, state: BatchState | None = None) -> list[AcceptanceBatch]:
    q = select(AcceptanceBatchRecord).where(AcceptanceBatchRecord.bank_id == bank.id).order_by(AcceptanceBatchRecord.id)
    if state is not None:
        q = q.where(AcceptanceBatchRecord.state == state)
    return [_batch_domain(session, r) for r in session.scalars(q)]


def acceptance_of(session: Session, *, bank: BankRef, code: str, version: int) -> AcceptanceBatch | None:
    """The accepted batch (committee, with its signatures, or legacy, with its reference)
    that accepted this version; None when it was never accepted through one."""
    v = _version(_item_record(session, bank=bank, code=code), version)
    rec = session.scalar(
        select(AcceptanceBatchRecord)
        .join(AcceptanceItemRecord, AcceptanceItemRecord.batch_id == AcceptanceBatchRecord.id)
        .where(AcceptanceItemRecord.version_id == v.id, AcceptanceBatchRecord.state == BatchState.ACCEPTED)
    )
    return _batch_domain(session, rec) if rec is not None else None


# --------------------------------------------------------------------------------------
# Retirement


def retire_item(session: Session, *, actor: Actor, bank: BankRef, code: str, reason: str) -> Item:
    """A bank manager retires the accepted version of an item: it leaves the pool for papers."""
    _require_role(actor, Role.BANK_MANAGER, bank, N_("retire items"))
    if not reason.strip():
        raise ValidationError(Message("Item {code}: say why it is retired.", code=code), field="reason")
    rec = _locked_item(session, bank, code)
    v = next((x for x in rec.versions if x.state is S.ACCEPTED), None)
    if v is None:
        states = [Message("version {version} {state}", version=x.version_no, state=S(x.state)) for x in rec.versions]
        raise WorkflowError(Message("Item {code} has no accepted version to retire ({states}).", code=code,
                                    states=states), from_state=None, code="nothing_to_retire")
    return _move(session, actor=actor, bank=bank, rec=rec, v=v, to=S.RETIRED, reason=reason)


# --------------------------------------------------------------------------------------
# History and the structured diff (第14条: 新旧试题主要内容对比)


def item_history(session: Session, *, bank: BankRef, code: str, limit: int = 10_000) -> list[LedgerEntry]:
    """Every ledger entry about the item, oldest first: who did what, when and why."""
    rec = _item_record(session, bank=bank, code=code)
    return query_ledger(session, object_type="item", object_id=rec.id, limit=limit)


READ_ACTIONS = frozenset({"item.read", "item.view", "items.list"})


def item_events(session: Session, *, bank: BankRef, code: str) -> tuple[list[LedgerEntry], int]:
    """What happened to the item (created, saved, revised, submitted, reviewed, accepted ...),
    oldest first, without the readings; and how many readings the ledger holds."""
    entries = item_history(session, bank=bank, code=code)
    events = [e for e in entries if e.action not in READ_ACTIONS]
    return events, len(entries) - len(events)


def revision_notes(session: Session, *, bank: BankRef, code: str) -> dict[int, str]:
    """The writer's note (修订说明) on each version that has one, by version number."""
    notes: dict[int, str] = {}
    for e in item_history(session, bank=bank, code=code):
        version = e.details.get("to_version") if e.action == "item.revise" else (
            e.details.get("version") if e.action == "item.draft_saved" else None)
        reason = str(e.details.get("reason") or "").strip()
        if version is not None and reason:
            notes[int(version)] = reason
    return notes


def char_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Old vs new text, character by character (Chinese has no spaces to split words on):
    ``[(op, text), ...]`` with op ``equal``, ``delete`` (only in old) or ``insert`` (only in
    new); a replacement is a delete followed by an insert. Joining the equal and delete parts
    gives ``old``, the equal and insert parts ``new``. (difflib's Ratcliff-Obershelp matching,
    without its junk heuristic, which would treat frequent characters as noise.)"""
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(("equal", old[i1:i2]))
            continue
        if i2 > i1:
            out.append(("delete", old[i1:i2]))
        if j2 > j1:
            out.append(("insert", new[j1:j2]))
    return out


FIELD_LABELS = {  # catalog msgids, rendered in the reader's locale by ``FieldChange.label``
    "item_type": N_("Item type"),
    "stem": N_("Question"),
    "options": N_("Options"),
    "key": N_("Key"),
    "rubric": N_("Scoring points"),
    "element_codes": N_("Elements"),
    "points": N_("Points"),
    "analysis": N_("Explanation / scoring standard"),
    "estimated_time_s": N_("Time needed (seconds)"),
    "time_limit_min": N_("Time allowed (minutes)"),
    "equipment": N_("Equipment, tools and materials"),
    "difficulty_rating": N_("Difficulty"),
}


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    label_msgid: str
    old: object
    new: object

    @property
    def label(self) -> str:
        """The field's name in the reader's locale."""
        return gettext(self.label_msgid)

    @property
    def changed(self) -> bool:
        return self.old != self.new


def _side_status(old: object | None, new: object | None) -> str:
    """added / removed / unchanged / changed: one option or rubric point, old vs new."""
    if old is None:
        return "added"
    if new is None:
        return "removed"
    return "unchanged" if old == new else "changed"


@dataclass(frozen=True, slots=True)
class OptionChange:
    label: str
    old: str | None
    new: str | None

    @property
    def status(self) -> str:
        return _side_status(self.old, self.new)


@dataclass(frozen=True, slots=True)
class RubricChange:
    position: int  # 1-based
    old: RubricPoint | None
    new: RubricPoint | None

    @property
    def status(self) -> str:
        return _side_status(self.old, self.new)


@dataclass(frozen=True, slots=True)
class VersionDiff:
    """Old vs new, field by field, side by side (第14条). ``fields`` lists every field in
    a fixed order, unchanged ones included (``changed`` False)."""

    code: str
    old_version: int
    new_version: int
    fields: tuple[FieldChange, ...]
    options: tuple[OptionChange, ...]
    rubric: tuple[RubricChange, ...]
    elements_added: tuple[str, ...]
    elements_removed: tuple[str, ...]

    @property
    def changed_fields(self) -> tuple[str, ...]:
        return tuple(f.field for f in self.fields if f.changed)

    def field(self, name: str) -> FieldChange:
        for f in self.fields:
            if f.field == name:
                return f
        raise KeyError(name)


def _opts(options: Sequence[Option]) -> tuple[tuple[str, str], ...]:
    return tuple((o.label, o.text) for o in options)


def diff_versions(old: Item, new: Item) -> VersionDiff:
    """The structured diff of two versions of one item (pure)."""
    a, b = old.content, new.content
    values = {
        "item_type": (a.item_type.value, b.item_type.value),
        "stem": (a.stem, b.stem),
        "options": (_opts(a.options), _opts(b.options)),
        "key": (tuple(a.key), tuple(b.key)),
        "rubric": (tuple(a.rubric), tuple(b.rubric)),
        "element_codes": (tuple(sorted(a.element_codes)), tuple(sorted(b.element_codes))),
        "points": (float(a.points), float(b.points)),
        "analysis": (a.analysis, b.analysis),
        "estimated_time_s": (float(a.estimated_time_s), float(b.estimated_time_s)),
        "time_limit_min": (a.time_limit_min, b.time_limit_min),
        "equipment": (a.equipment, b.equipment),
        "difficulty_rating": (a.difficulty_rating, b.difficulty_rating),
    }
    fields = tuple(FieldChange(k, FIELD_LABELS[k], o, n) for k, (o, n) in values.items())
    old_opts, new_opts = dict(_opts(a.options)), dict(_opts(b.options))
    labels = list(dict.fromkeys([*old_opts, *new_opts]))
    options = tuple(OptionChange(lbl, old_opts.get(lbl), new_opts.get(lbl)) for lbl in labels)
    n = max(len(a.rubric), len(b.rubric))
    rubric = tuple(
        RubricChange(i + 1, a.rubric[i] if i < len(a.rubric) else None, b.rubric[i] if i < len(b.rubric) else None)
        for i in range(n)
    )
    return VersionDiff(
        code=new.code, old_version=old.version, new_version=new.version, fields=fields, options=options,
        rubric=rubric,
        elements_added=tuple(sorted(set(b.element_codes) - set(a.element_codes))),
        elements_removed=tuple(sorted(set(a.element_codes) - set(b.element_codes))),
    )


_CAN_READ = (Role.BANK_MANAGER, Role.ITEM_WRITER, Role.REVIEWER, Role.COMMITTEE_MEMBER, Role.AUDITOR)


def compare_versions(
    session: Session, *, actor: Actor, bank: BankRef, code: str, old: int | None = None, new: int | None = None,
) -> VersionDiff:
    """Diff two versions (default: the latest against the one before it). Reading item
    content (keys included) is an access to confidential material and goes in the ledger
    (附件11 第23条, 附件12)."""
    if not any(actor.has(r, occupation_code=_occ(bank)) for r in _CAN_READ):
        raise PermissionDeniedError(Message(
            "{user} may not read the items of {bank}: it needs one of the roles {roles} for the occupation.",
            user=actor.username, bank=bank.label, roles=list(_CAN_READ)))
    rec = _item_record(session, bank=bank, code=code)
    new_v = _version(rec, new)
    old_v = _version(rec, old if old is not None else max(1, new_v.version_no - 1))
    diff = diff_versions(item_from_records(rec, old_v, bank=bank), item_from_records(rec, new_v, bank=bank))
    ledger.append(session, actor=actor.username, action="item.view", object_type="item", object_id=rec.id,
                  details={"code": code, "versions": [old_v.version_no, new_v.version_no], "purpose": "diff"})
    return diff


# --------------------------------------------------------------------------------------
# Imports checked and waiting for confirmation (试导入 -> 确认导入)

STAGED_IMPORT_HOURS = 24


@dataclass(frozen=True, slots=True)
class StagedImport:
    token: str
    bank_id: int
    username: str
    kind: str
    filename: str
    sha256: str
    data: bytes
    options: dict
    created_at: datetime


def stage_import(
    session: Session, *, bank: BankRef, username: str, kind: str, filename: str, data: bytes, options: dict,
) -> StagedImport:
    """Keep a file that passed a trial import so that its import can be confirmed without
    choosing it again; stale staged files (older than a day) are dropped at the same time."""
    import secrets

    cutoff = datetime.now(timezone.utc) - timedelta(hours=STAGED_IMPORT_HOURS)
    for old in session.scalars(select(StagedImportRecord).where(StagedImportRecord.created_at < cutoff)):
        session.delete(old)
    rec = StagedImportRecord(token=secrets.token_urlsafe(32), bank_id=bank.id, username=username, kind=kind,
                             filename=filename, sha256=hashlib.sha256(data).hexdigest(), data=data,
                             options=dict(options))
    session.add(rec)
    session.flush()
    return _staged(rec)


def _staged(rec: StagedImportRecord) -> StagedImport:
    return StagedImport(rec.token, rec.bank_id, rec.username, rec.kind, rec.filename, rec.sha256, rec.data,
                        dict(rec.options or {}), rec.created_at)


def take_staged_import(session: Session, *, token: str, bank: BankRef, username: str, sha256: str) -> StagedImport:
    """The staged file (then deleted), only for the user and bank that staged it, with the
    hash that was shown to them, and within a day."""
    rec = session.scalar(select(StagedImportRecord).where(StagedImportRecord.token == token).with_for_update())
    created = rec.created_at if rec is not None else None
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    if (rec is None or rec.bank_id != bank.id or rec.username != username or rec.sha256 != sha256
            or created is None or created < datetime.now(timezone.utc) - timedelta(hours=STAGED_IMPORT_HOURS)):
        raise NotFoundError(Message("The checked file is no longer held (it was imported already, or is older than "
                                    "a day); choose the file again."), field="token")
    staged = _staged(rec)
    session.delete(rec)
    session.flush()
    return staged
