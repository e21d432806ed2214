"""Items and their versions.

Content never changes in place: a revision makes a new version and the old one stays
readable (附件11 第14条 keeps old vs new). Statistics and usage attach to the version used.
Every item has a key and a scoring standard (附件11 第13条(四)).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from itembank import ledger, media
from itembank.domain import (
    BankRef,
    ClassicalStats,
    IrtModel,
    IrtParams,
    Item,
    ItemContent,
    ItemType,
    Level,
    Option,
    Part,
    RubricPoint,
    Usage,
    VersionState,
)
from itembank.db import BULK_ROWS, refresh_statistics
from itembank.elements import current_element_codes
from itembank.textcheck import text_problem
from itembank.errors import ItemValidationError, NotFoundError, ValidationError
from itembank.i18n import FieldMessage, Message, Text
from itembank.orm import (
    ItemEnemyRecord,
    ItemRecord,
    ItemVersionElementRecord,
    ItemVersionRecord,
)

ITEM_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
POINTS_TOLERANCE = 1e-6
TRUE_FALSE_KEYS = ("T", "F")


# --------------------------------------------------------------------------------------
# Validation


def validate_content(
    content: ItemContent, *, element_codes: set[str] | None = None, where: Text | None = None
) -> list[FieldMessage]:
    """Every problem of one item's content, each about one field (``stem``, ``points``,
    ``key``, ``options``, ``rubric`` ...); ``where`` names the item or row in each.

    ``element_codes``: leaf codes of the bank's current element table for the item's part;
    None skips the check (no table yet).
    """
    errors: list[FieldMessage] = []

    def bad(field: str, message: Message) -> None:
        errors.append(FieldMessage(field, message, where=where))

    t = content.item_type
    if not isinstance(t, ItemType):
        bad("item_type", Message("'{value}' is not a known item type", value=t))
        return errors
    for fld, problem in _text_problems(content):
        bad(fld, problem)
    if not (content.stem or "").strip():
        bad("stem", Message("the question text is empty"))
    if not _positive(content.points):
        bad("points", Message("{value} is not a positive number", value=content.points))
    if not _positive(content.estimated_time_s):
        bad("estimated_time_s", Message("{value} is not a positive number", value=content.estimated_time_s))
    if not isinstance(content.difficulty_rating, int) or not 1 <= content.difficulty_rating <= 5:
        bad("difficulty_rating", Message("{value} is not a whole number from 1 (easiest) to 5 (hardest)",
                                         value=content.difficulty_rating))
    if not content.element_codes:
        bad("element_codes", Message("the item is tied to no element of the element table"))
    elif element_codes is not None:
        unknown = [c for c in content.element_codes if c not in element_codes]
        if unknown:
            bad("element_codes", Message("{codes} is not an element of the current {part} element table",
                                         codes=unknown, part=t.part))
    if len(set(content.element_codes)) != len(content.element_codes):
        bad("element_codes", Message("an element is listed twice"))

    labels = [o.label for o in content.options]
    if t.has_options:
        if len(content.options) < 2:
            bad("options", Message("a {item_type} needs at least 2 options", item_type=t))
        if len(set(labels)) != len(labels):
            bad("options", Message("option labels repeat ({labels})", labels=labels))
        for o in content.options:
            if not (o.text or "").strip():
                bad("options", Message("option {label} is empty", label=o.label))
        missing = [k for k in content.key if k not in labels]
        if missing:
            bad("key", Message("{keys} is not among the options {labels}", keys=missing, labels="".join(labels)))
        if t is ItemType.SINGLE_CHOICE and len(content.key) != 1:
            bad("key", Message("a single choice item has exactly one key, not {n}", n=len(content.key)))
        if t is ItemType.MULTIPLE_CHOICE and len(content.key) < 2:
            bad("key", Message("a multiple choice item has at least two keys"))
        if len(set(content.key)) != len(content.key):
            bad("key", Message("a key is listed twice"))
    elif content.options:
        bad("options", Message("a {item_type} has no options", item_type=t))

    if t is ItemType.TRUE_FALSE and (len(content.key) != 1 or content.key[0] not in TRUE_FALSE_KEYS):
        bad("key", Message("the key of a true/false item is T (true) or F (false)"))
    if t is ItemType.FILL_IN and not any((k or "").strip() for k in content.key):
        bad("key", Message("a fill-in item needs the expected answer(s)"))

    subjective = t in (ItemType.SHORT_ANSWER, ItemType.CALCULATION, ItemType.ESSAY)
    if subjective and not content.rubric and not (content.analysis or "").strip():
        bad("rubric", Message("a {item_type} needs a scoring standard: scoring points or text", item_type=t))
    if t is ItemType.DEFENCE_TOPIC and not content.rubric and not (content.analysis or "").strip():
        bad("rubric", Message("a defence topic needs its review points"))
    if t is ItemType.PRACTICAL_TASK:
        if not content.rubric:
            bad("rubric", Message("a practical task needs its scoring points"))
        if content.time_limit_min is None or not _positive(content.time_limit_min):
            bad("time_limit_min", Message("a practical task needs a time limit in minutes"))
    for i, r in enumerate(content.rubric, start=1):
        if not (r.description or "").strip():
            bad("rubric", Message("scoring point {n} has no description", n=i))
        if not _positive(r.points):
            bad("rubric", Message("scoring point {n} is worth {value} points; it must be worth more than 0",
                                  n=i, value=r.points))
    if content.rubric and _positive(content.points):
        total = sum(r.points for r in content.rubric if _positive(r.points))
        if abs(total - content.points) > POINTS_TOLERANCE:
            bad("rubric", Message("the scoring points sum to {total:g}, but the item is worth {points:g}",
                                  total=total, points=content.points))
    errors += media.reference_problems(content, where=where)  # pictures: ![caption](media:<sha256>)
    return errors


def _text_problems(content: ItemContent) -> list[tuple[str, Message]]:
    """(field, problem) of every text that documents cannot hold (``itembank.textcheck``):
    refused here, so that imports, QTI, the API, the pages and the CLI all refuse it."""
    texts = [("stem", content.stem), ("analysis", content.analysis), ("equipment", content.equipment)]
    texts += [("element_codes", c) for c in content.element_codes] + [("key", k) for k in content.key]
    texts += [("options", t) for o in content.options for t in (o.label, o.text)]
    texts += [("rubric", t) for r in content.rubric for t in (r.description, r.criteria)]
    found = []
    for fld, text in texts:
        problem = text_problem(text) if isinstance(text, str) else None
        if problem is not None and fld not in {f for f, _ in found}:
            found.append((fld, problem))
    return found


def _positive(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def validate_code(code: str, *, where: Text | None = None) -> list[FieldMessage]:
    if not ITEM_CODE_RE.match(code or ""):
        return [FieldMessage("code", Message(
            "'{code}' is not a valid item code: use 1-64 letters, digits, '-', '_' or '.', starting with a "
            "letter or digit", code=code), where=where)]
    return []


def content_hash(content: ItemContent) -> str:
    """SHA-256 over the canonical JSON of the content: equal content, equal hash."""
    payload = json.dumps(
        content_to_dict(content), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def content_to_dict(content: ItemContent) -> dict:
    return {
        "item_type": content.item_type.value,
        "stem": content.stem,
        "points": float(content.points),
        "element_codes": sorted(content.element_codes),
        "options": [{"label": o.label, "text": o.text} for o in content.options],
        "key": list(content.key),
        "rubric": [
            {"description": r.description, "points": float(r.points), "criteria": r.criteria}
            for r in content.rubric
        ],
        "analysis": content.analysis,
        "time_limit_min": content.time_limit_min,
        "equipment": content.equipment,
        "estimated_time_s": float(content.estimated_time_s),
        "difficulty_rating": content.difficulty_rating,
    }


# --------------------------------------------------------------------------------------
# Record <-> domain


def _content_from_record(v: ItemVersionRecord, element_codes: Sequence[str]) -> ItemContent:
    return ItemContent(
        item_type=v.item_type,
        stem=v.stem,
        points=v.points,
        element_codes=tuple(element_codes),
        options=tuple(Option(o["label"], o["text"]) for o in (v.options or [])),
        key=tuple(v.key or []),
        rubric=tuple(
            RubricPoint(r["description"], r["points"], r.get("criteria", "")) for r in (v.rubric or [])
        ),
        analysis=v.analysis,
        time_limit_min=v.time_limit_min,
        equipment=v.equipment,
        estimated_time_s=v.estimated_time_s,
        difficulty_rating=v.difficulty_rating,
    )


def classical_from_columns(p_value, discrimination, n) -> ClassicalStats | None:  # type: ignore[no-untyped-def]
    if p_value is None and discrimination is None:
        return None
    return ClassicalStats(p_value=p_value, discrimination=discrimination, n=n or 0)


def irt_from_columns(model, a, b, c, se_a, se_b, se_c, thresholds, D, calibration_id) -> IrtParams | None:  # type: ignore[no-untyped-def]
    if model is None:
        return None
    return IrtParams(
        model=IrtModel(model),
        a=a if a is not None else 1.0,
        b=b if b is not None else 0.0,
        c=c if c is not None else 0.0,
        se_a=se_a,
        se_b=se_b,
        se_c=se_c,
        thresholds=tuple(thresholds or ()),
        D=D if D is not None else 1.0,
        calibration_id=calibration_id,
    )


def item_from_records(
    item: ItemRecord, v: ItemVersionRecord, *, enemies: Sequence[str] = (), bank: BankRef | None = None
) -> Item:
    return Item(
        id=item.id,
        version_id=v.id,
        code=item.code,
        version=v.version_no,
        content=_content_from_record(v, sorted(e.element_code for e in v.elements)),
        state=v.state,
        occupation_code=bank.occupation.code if bank else "",
        level=Level(bank.level) if bank else None,
        set_code=item.set_code,
        classical=classical_from_columns(v.p_value, v.discrimination, v.stats_n),
        irt=irt_from_columns(
            v.irt_model, v.irt_a, v.irt_b, v.irt_c, v.irt_se_a, v.irt_se_b, v.irt_se_c,
            v.irt_thresholds, v.irt_D, v.calibration_id,
        ),
        usage=Usage(count=item.usage_count, last_used_on=item.last_used_on, compromised=item.compromised),
        enemies=tuple(enemies),
    )


def _version_columns(content: ItemContent) -> dict:
    return {
        "item_type": content.item_type,
        "stem": content.stem,
        "options": [{"label": o.label, "text": o.text} for o in content.options],
        "key": list(content.key),
        "rubric": [
            {"description": r.description, "points": float(r.points), "criteria": r.criteria}
            for r in content.rubric
        ],
        "analysis": content.analysis,
        "points": float(content.points),
        "estimated_time_s": float(content.estimated_time_s),
        "time_limit_min": content.time_limit_min,
        "equipment": content.equipment,
        "difficulty_rating": content.difficulty_rating,
        "content_hash": content_hash(content),
    }


# --------------------------------------------------------------------------------------
# Writing


@dataclass(frozen=True, slots=True)
class NewItem:
    """Input of ``add_items``: one item with its first version, optional statistics."""

    code: str
    content: ItemContent
    set_code: str | None = None
    classical: ClassicalStats | None = None
    irt: IrtParams | None = None


def _item_record(session: Session, *, bank: BankRef, code: str) -> ItemRecord:
    rec = session.scalar(select(ItemRecord).where(ItemRecord.bank_id == bank.id, ItemRecord.code == code))
    if rec is None:
        raise NotFoundError(Message("{bank} has no item {code}.", bank=bank.label, code=code), field="code",
                            code="item_not_found")
    return rec


def add_item(
    session: Session,
    *,
    bank: BankRef,
    code: str,
    content: ItemContent,
    actor: str,
    set_code: str | None = None,
    state: VersionState = VersionState.DRAFT,
    check_content: bool = True,
) -> Item:
    """Create an item with its first version (a draft unless ``state`` says otherwise).
    ``check_content=False`` stores an incomplete draft (``workflow.save_draft``); its content
    is checked in full when it is submitted."""
    return add_items(
        session, bank=bank, items=[NewItem(code, content, set_code)], actor=actor, state=state,
        check_content=check_content,
    )[0]


def add_items(
    session: Session,
    *,
    bank: BankRef,
    items: Sequence[NewItem],
    actor: str,
    state: VersionState = VersionState.DRAFT,
    reason: Text = "",
    check_content: bool = True,
) -> list[Item]:
    """Create many items at once (import, demo). All are validated first: on any error
    nothing is written and the ``ItemValidationError`` lists every problem by item code.
    ``check_content=False`` (drafts only) checks the codes but not the content."""
    if not check_content and state is not VersionState.DRAFT:
        raise ValueError("only drafts may be stored without checking their content")
    errors: list[FieldMessage] = []
    codes_by_part: dict[Part, set[str] | None] = {}
    seen: set[str] = set()
    for i, new in enumerate(items, start=1):
        where = Message("item {code}", code=new.code) if new.code else Message("item no. {n}", n=i)
        errors += validate_code(new.code, where=where)
        if new.code in seen:
            errors.append(FieldMessage("code", Message("the code appears twice in this batch"), where=where))
        seen.add(new.code)
        part = new.content.part
        if not check_content:
            continue
        if part not in codes_by_part:
            codes_by_part[part] = current_element_codes(session, bank_id=bank.id, part=part)  # type: ignore[arg-type]
        errors += validate_content(new.content, element_codes=codes_by_part[part], where=where)
    if seen:
        taken = _existing_codes(session, bank_id=bank.id, codes=seen)  # type: ignore[arg-type]
        errors += [FieldMessage("code", Message("the code is already used in {bank}", bank=bank.label),
                                where=Message("item {code}", code=c)) for c in sorted(taken)]
    errors += media.check_references(session, bank=bank, contents=[(n.code, n.content) for n in items])
    if errors:
        raise ItemValidationError(Message("{bank}: {n} problem(s); nothing was saved.", bank=bank.label,
                                          n=len(errors)), errors=errors)
    if not items:
        return []

    now = datetime.now(timezone.utc)
    item_rows = [
        {
            "bank_id": bank.id,
            "part": new.content.part,
            "code": new.code,
            "set_code": new.set_code,
            "usage_count": 0,
            "compromised": False,
            "compromised_reason": "",
            "created_by": actor,
            "created_at": now,
        }
        for new in items
    ]
    session.execute(insert(ItemRecord), item_rows)
    ids = _ids_for_codes(session, bank_id=bank.id, codes=[n.code for n in items])  # type: ignore[arg-type]
    version_rows = []
    for new in items:
        row = {
            "item_id": ids[new.code],
            "version_no": 1,
            "state": state,
            "state_changed_at": now,
            "created_by": actor,
            "created_at": now,
            "stats_n": 0,
            "usage_count": 0,
            **_version_columns(new.content),
        }
        row.update(_stats_columns(new.classical, new.irt))
        version_rows.append(row)
    session.execute(insert(ItemVersionRecord), version_rows)
    vids = _version_ids(session, item_ids=list(ids.values()))
    element_rows = [
        {"version_id": vids[ids[new.code]], "element_code": code}
        for new in items
        for code in dict.fromkeys(new.content.element_codes)
    ]
    if element_rows:  # a draft may be tied to no element yet
        session.execute(insert(ItemVersionElementRecord), element_rows)
    media.link_versions(session, [(vids[ids[new.code]], new.content) for new in items])
    ledger.append(
        session,
        actor=actor,
        action="items.create",
        object_type="bank",
        object_id=bank.id,  # type: ignore[arg-type]
        details={
            "bank": bank.label,
            "n_items": len(items),
            "state": VersionState(state).value,
            "first_code": items[0].code,
            "last_code": items[-1].code,
            "reason": reason,
        },
    )
    session.flush()
    if len(items) >= BULK_ROWS:
        refresh_statistics(session, ItemRecord.__tablename__, ItemVersionRecord.__tablename__,
                           ItemVersionElementRecord.__tablename__)
    session.expire_all()
    if len(items) > 200:
        # bulk callers (import, demo) do not need the objects back one by one
        return [
            Item(code=n.code, version=1, content=n.content, state=state, id=ids[n.code],
                 version_id=vids[ids[n.code]], set_code=n.set_code,
                 occupation_code=bank.occupation.code, level=bank.level,
                 classical=n.classical, irt=n.irt)
            for n in items
        ]
    return [get_item(session, bank=bank, code=n.code) for n in items]


def _stats_columns(classical: ClassicalStats | None, irt: IrtParams | None) -> dict:
    cols: dict = {}
    if classical is not None:
        cols.update(p_value=classical.p_value, discrimination=classical.discrimination, stats_n=classical.n)
    if irt is not None:
        cols.update(
            irt_model=irt.model.value, irt_a=irt.a, irt_b=irt.b, irt_c=irt.c,
            irt_se_a=irt.se_a, irt_se_b=irt.se_b, irt_se_c=irt.se_c,
            irt_thresholds=list(irt.thresholds) or None, irt_D=irt.D,
            calibration_id=irt.calibration_id,
        )
    return cols


def set_version_statistics(
    session: Session,
    *,
    classical: Mapping[int, ClassicalStats] | None = None,
    irt: Mapping[int, IrtParams] | None = None,
) -> int:
    """Write the current statistics onto item versions, keyed by version id, in bulk.

    ``classical`` sets ``p_value``, ``discrimination``, ``stats_n``; ``irt`` sets the ``irt_*``
    columns and ``calibration_id`` (a/b/c form with ``D`` stored beside them). Versions not
    named keep what they had. Content is untouched: statistics attach to the version used
    (附件1 第15条). The analysis service keeps the history (``item_statistics``); this is
    the copy that ``load_pool`` and assembly read. Returns the number of versions updated.
    """
    rows = [
        {"id": vid, "p_value": st.p_value, "discrimination": st.discrimination, "stats_n": st.n}
        for vid, st in (classical or {}).items()
    ]
    if rows:
        # ORM bulk UPDATE by primary key: one executemany, no objects loaded
        session.execute(update(ItemVersionRecord), rows)
    rows = [{"id": vid, **_stats_columns(None, p)} for vid, p in (irt or {}).items()]
    if rows:
        session.execute(update(ItemVersionRecord), rows)
    # bulk UPDATE by primary key does not refresh loaded objects: expire the ones it changed
    changed = set(classical or {}) | set(irt or {})
    for obj in list(session.identity_map.values()):
        if isinstance(obj, ItemVersionRecord) and obj.id in changed:
            session.expire(obj)
    return len(changed)


def _chunks(seq: Sequence, size: int = 900) -> Iterable[Sequence]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def _existing_codes(session: Session, *, bank_id: int, codes: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(codes)
    for chunk in _chunks(ordered):
        found.update(
            session.scalars(
                select(ItemRecord.code).where(ItemRecord.bank_id == bank_id, ItemRecord.code.in_(chunk))
            )
        )
    return found


def _ids_for_codes(session: Session, *, bank_id: int, codes: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(list(codes)):
        out.update(
            session.execute(
                select(ItemRecord.code, ItemRecord.id).where(
                    ItemRecord.bank_id == bank_id, ItemRecord.code.in_(chunk)
                )
            ).all()
        )
    return out


def _version_ids(session: Session, *, item_ids: Sequence[int]) -> dict[int, int]:
    """item id -> id of its latest version."""
    out: dict[int, int] = {}
    for chunk in _chunks(list(item_ids)):
        rows = session.execute(
            select(ItemVersionRecord.item_id, func.max(ItemVersionRecord.id))
            .where(ItemVersionRecord.item_id.in_(chunk))
            .group_by(ItemVersionRecord.item_id)
        ).all()
        out.update(rows)
    return out


def revise_item(
    session: Session,
    *,
    bank: BankRef,
    code: str,
    content: ItemContent,
    actor: str,
    reason: str = "",
    state: VersionState = VersionState.DRAFT,
    check_content: bool = True,
) -> Item:
    """Make a new version with ``content``; the previous versions stay as they were.

    Unchanged content makes no new version and returns the latest one. ``check_content=False``
    (drafts only, ``workflow.save_draft``) stores incomplete content.
    """
    if not check_content and state is not VersionState.DRAFT:
        raise ValueError("only drafts may be stored without checking their content")
    rec = _item_record(session, bank=bank, code=code)
    if content.part.value != rec.part.value:
        raise ItemValidationError(
            Message("Item {code} belongs to {part}; a revision cannot move it to {new_part}.", code=code,
                    part=Part(rec.part), new_part=content.part),
            field="item_type",
        )
    errors = validate_content(
        content, element_codes=current_element_codes(session, bank_id=bank.id, part=content.part),  # type: ignore[arg-type]
        where=Message("item {code}", code=code),
    ) if check_content else []
    errors += media.check_references(session, bank=bank, contents=[(code, content)])
    if errors:
        raise ItemValidationError(Message("The revision of item {code} was not saved.", code=code), errors=errors)
    latest = max(rec.versions, key=lambda v: v.version_no)
    new_hash = content_hash(content)
    if latest.content_hash == new_hash:
        return item_from_records(rec, latest, enemies=enemy_codes(session, item_id=rec.id), bank=bank)
    now = datetime.now(timezone.utc)
    v = ItemVersionRecord(
        item_id=rec.id,
        version_no=latest.version_no + 1,
        state=state,
        state_changed_at=now,
        created_by=actor,
        created_at=now,
        stats_n=0,
        usage_count=0,
        **_version_columns(content),
    )
    v.elements = [ItemVersionElementRecord(element_code=c) for c in dict.fromkeys(content.element_codes)]
    session.add(v)
    session.flush()
    media.link_versions(session, [(v.id, content)])
    # the loaded ``rec.versions`` does not know the new row; a caller holding ``rec`` (or a
    # second revision in this session) would otherwise reuse the version number
    session.expire(rec, ["versions"])
    ledger.append(
        session, actor=actor, action="item.revise", object_type="item", object_id=rec.id,
        details={"code": code, "from_version": latest.version_no, "to_version": v.version_no,
                 "reason": reason},
    )
    return item_from_records(rec, v, enemies=enemy_codes(session, item_id=rec.id), bank=bank)


def set_version_state(
    session: Session,
    *,
    bank: BankRef,
    code: str,
    version: int,
    state: VersionState,
    actor: str,
    reason: str = "",
) -> Item:
    """Low-level state change (the workflow module checks who may do what before calling).

    Accepting a version supersedes the item's previously accepted version, so an item has
    at most one version eligible for papers.
    """
    rec = _item_record(session, bank=bank, code=code)
    v = next((x for x in rec.versions if x.version_no == version), None)
    if v is None:
        raise NotFoundError(Message("Item {code} has no version {version}.", code=code, version=version),
                            field="version", code="version_not_found")
    old = v.state
    now = datetime.now(timezone.utc)
    if state is VersionState.ACCEPTED:
        for other in rec.versions:
            if other.id != v.id and other.state is VersionState.ACCEPTED:
                other.state = VersionState.SUPERSEDED
                other.state_changed_at = now
    v.state = state
    v.state_changed_at = now
    session.flush()
    ledger.append(
        session, actor=actor, action="item.state", object_type="item", object_id=rec.id,
        details={"code": code, "version": version, "from": VersionState(old).value,
                 "to": VersionState(state).value, "reason": reason},
    )
    return item_from_records(rec, v, enemies=enemy_codes(session, item_id=rec.id), bank=bank)


# --------------------------------------------------------------------------------------
# Reading


def get_item(session: Session, *, bank: BankRef, code: str, version: int | None = None) -> Item:
    """One version of an item (default: the latest)."""
    rec = _item_record(session, bank=bank, code=code)
    if version is None:
        v = max(rec.versions, key=lambda x: x.version_no)
    else:
        v = next((x for x in rec.versions if x.version_no == version), None)  # type: ignore[assignment]
        if v is None:
            raise NotFoundError(
                Message("Item {code} has no version {version} (its versions: {versions}).", code=code,
                        version=version, versions=[x.version_no for x in rec.versions]),
                field="version", code="version_not_found",
            )
    return item_from_records(rec, v, enemies=enemy_codes(session, item_id=rec.id), bank=bank)


def list_versions(session: Session, *, bank: BankRef, code: str) -> list[Item]:
    rec = _item_record(session, bank=bank, code=code)
    enemies = enemy_codes(session, item_id=rec.id)
    return [item_from_records(rec, v, enemies=enemies, bank=bank) for v in rec.versions]


def accepted_version(session: Session, *, bank: BankRef, code: str) -> Item | None:
    rec = _item_record(session, bank=bank, code=code)
    for v in rec.versions:
        if v.state is VersionState.ACCEPTED:
            return item_from_records(rec, v, enemies=enemy_codes(session, item_id=rec.id), bank=bank)
    return None


# --------------------------------------------------------------------------------------
# Enemies


def enemy_codes(session: Session, *, item_id: int) -> list[str]:
    low = select(ItemEnemyRecord.item_high_id).where(ItemEnemyRecord.item_low_id == item_id)
    high = select(ItemEnemyRecord.item_low_id).where(ItemEnemyRecord.item_high_id == item_id)
    return sorted(
        session.scalars(select(ItemRecord.code).where(or_(ItemRecord.id.in_(low), ItemRecord.id.in_(high))))
    )


def add_enemies(
    session: Session, *, bank: BankRef, pairs: Sequence[tuple[str, str]], actor: str, reason: str = ""
) -> int:
    """Declare pairs of items that must never share a paper (symmetric). Returns pairs added."""
    codes = {c for pair in pairs for c in pair}
    ids = _ids_for_codes(session, bank_id=bank.id, codes=sorted(codes))  # type: ignore[arg-type]
    errors: list[Message] = [Message("enemy pair: {bank} has no item {code}", bank=bank.label, code=c)
                             for c in sorted(codes - set(ids))]
    errors += [Message("enemy pair ({a}, {b}): an item cannot be its own enemy", a=a, b=b) for a, b in pairs if a == b]
    if errors:
        raise ValidationError(Message("The enemy pairs were not saved."), errors=errors, field="pairs")
    wanted = {tuple(sorted((ids[a], ids[b]))) for a, b in pairs}
    existing: set[tuple[int, int]] = set()
    for chunk in _chunks(sorted(wanted), 400):
        conds = [and_(ItemEnemyRecord.item_low_id == lo, ItemEnemyRecord.item_high_id == hi) for lo, hi in chunk]
        existing.update(
            tuple(r) for r in session.execute(
                select(ItemEnemyRecord.item_low_id, ItemEnemyRecord.item_high_id).where(or_(*conds))
            ).all()
        )
    new = sorted(wanted - existing)
    if new:
        session.execute(
            insert(ItemEnemyRecord),
            [{"item_low_id": lo, "item_high_id": hi, "reason": reason} for lo, hi in new],
        )
        ledger.append(
            session, actor=actor, action="items.enemies", object_type="bank", object_id=bank.id,  # type: ignore[arg-type]
            details={"n_pairs": len(new), "reason": reason},
        )
    return len(new)


def remove_enemy(session: Session, *, bank: BankRef, code_a: str, code_b: str, actor: str) -> bool:
    ids = _ids_for_codes(session, bank_id=bank.id, codes=[code_a, code_b])  # type: ignore[arg-type]
    if code_a not in ids or code_b not in ids:
        missing = code_a if code_a not in ids else code_b
        raise NotFoundError(Message("{bank} has no item {code}.", bank=bank.label, code=missing), field="code",
                            code="item_not_found")
    lo, hi = sorted((ids[code_a], ids[code_b]))
    rec = session.get(ItemEnemyRecord, (lo, hi))
    if rec is None:
        return False
    session.delete(rec)
    session.flush()
    ledger.append(
        session, actor=actor, action="items.enemy_removed", object_type="bank", object_id=bank.id,  # type: ignore[arg-type]
        details={"pair": [code_a, code_b]},
    )
    return True


def item_writer(session: Session, *, bank: BankRef, code: str) -> str:
    """Username of the writer who created the item (need-to-know checks)."""
    return _item_record(session, bank=bank, code=code).created_by
