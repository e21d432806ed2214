"""Loading a bank's eligible items into domain objects, fast (one query per table).

``load_pool`` is what assembly, readiness and analysis read: for 10,000 items it issues three
queries (versions with their item row, element tags, enemy pairs) and builds the objects in
Python; see bench/bank.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from itembank.domain import (
    BankRef,
    Item,
    ItemContent,
    Level,
    Option,
    Part,
    RubricPoint,
    Usage,
    VersionState,
)
from itembank.items import classical_from_columns, irt_from_columns
from itembank.orm import ItemEnemyRecord, ItemRecord, ItemVersionElementRecord, ItemVersionRecord

ELIGIBLE_STATES = (VersionState.ACCEPTED,)


def _columns():  # type: ignore[no-untyped-def]
    V, I = ItemVersionRecord, ItemRecord
    return (
        I.id, I.code, I.set_code, I.usage_count, I.last_used_on, I.compromised,
        V.id, V.version_no, V.state, V.item_type, V.stem, V.options, V.key, V.rubric,
        V.analysis, V.points, V.estimated_time_s, V.time_limit_min, V.equipment,
        V.difficulty_rating, V.p_value, V.discrimination, V.stats_n, V.irt_model, V.irt_a,
        V.irt_b, V.irt_c, V.irt_se_a, V.irt_se_b, V.irt_se_c, V.irt_thresholds, V.irt_D,
        V.calibration_id,
    )


def load_pool(
    session: Session,
    *,
    bank: BankRef,
    part: Part | None = None,
    states: Sequence[VersionState] = ELIGIBLE_STATES,
    include_compromised: bool = True,
) -> list[Item]:
    """Items of ``bank`` whose version is in ``states`` (default: accepted, i.e. eligible for
    papers), ordered by code, with statistics, usage and enemies. Compromised items are
    included unless ``include_compromised`` is False: assembly needs to see them to explain
    why they are excluded."""
    V, I = ItemVersionRecord, ItemRecord
    cond = [I.bank_id == bank.id, V.state.in_(list(states))]
    if part is not None:
        cond.append(I.part == Part(part))
    if not include_compromised:
        cond.append(I.compromised.is_(False))
    return _load(session, bank=bank, cond=cond)


def _load(session: Session, *, bank: BankRef, cond: list) -> list[Item]:
    V, I = ItemVersionRecord, ItemRecord
    rows = session.execute(
        select(*_columns()).join(V, V.item_id == I.id).where(*cond).order_by(I.code, V.version_no)
    ).all()

    elements: dict[int, list[str]] = defaultdict(list)
    for vid, code in session.execute(
        select(ItemVersionElementRecord.version_id, ItemVersionElementRecord.element_code)
        .join(V, V.id == ItemVersionElementRecord.version_id)
        .join(I, I.id == V.item_id)
        .where(*cond)
    ):
        elements[vid].append(code)

    Low, High = aliased(ItemRecord), aliased(ItemRecord)
    enemies: dict[int, list[str]] = defaultdict(list)
    for lo_id, lo_code, hi_id, hi_code in session.execute(
        select(Low.id, Low.code, High.id, High.code)
        .select_from(ItemEnemyRecord)
        .join(Low, Low.id == ItemEnemyRecord.item_low_id)
        .join(High, High.id == ItemEnemyRecord.item_high_id)
        .where(or_(Low.bank_id == bank.id, High.bank_id == bank.id))
    ):
        enemies[lo_id].append(hi_code)
        enemies[hi_id].append(lo_code)

    level = Level(bank.level)
    occ_code = bank.occupation.code
    out: list[Item] = []
    for r in rows:
        (item_id, code, set_code, usage_count, last_used_on, compromised, vid, version_no, state,
         item_type, stem, options, key, rubric, analysis, points, est_time, time_limit, equipment,
         rating, p_value, discrimination, stats_n, irt_model, a, b, c, se_a, se_b, se_c,
         thresholds, D, calibration_id) = r
        content = ItemContent(
            item_type=item_type,
            stem=stem,
            points=points,
            element_codes=tuple(sorted(elements.get(vid, ()))),
            options=tuple(Option(o["label"], o["text"]) for o in options or ()),
            key=tuple(key or ()),
            rubric=tuple(
                RubricPoint(x["description"], x["points"], x.get("criteria", "")) for x in rubric or ()
            ),
            analysis=analysis,
            time_limit_min=time_limit,
            equipment=equipment,
            estimated_time_s=est_time,
            difficulty_rating=rating,
        )
        out.append(
            Item(
                id=item_id,
                version_id=vid,
                code=code,
                version=version_no,
                content=content,
                state=state,
                occupation_code=occ_code,
                level=level,
                set_code=set_code,
                classical=classical_from_columns(p_value, discrimination, stats_n),
                irt=irt_from_columns(irt_model, a, b, c, se_a, se_b, se_c, thresholds, D, calibration_id),
                usage=Usage(count=usage_count, last_used_on=last_used_on, compromised=compromised),
                enemies=tuple(sorted(enemies.get(item_id, ()))),
            )
        )
    return out


def page_items(
    session: Session,
    *,
    bank: BankRef,
    part: Part | None = None,
    created_by: str | None = None,
    codes: Sequence[str] | None = None,
    state: VersionState | None = None,
    item_type: str | None = None,
    element_code: str | None = None,
    text: str | None = None,
    compromised: bool | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Item], int]:
    """One page of a bank's items (the latest version of each), filtered; and the total.

    ``created_by`` restricts to one writer's items and ``codes`` to a given set (need-to-know
    lists: a writer's own items, a reviewer's assigned items).
    """
    V, I = ItemVersionRecord, ItemRecord
    latest = (
        select(V.item_id, func.max(V.version_no).label("vno")).group_by(V.item_id).subquery()
    )
    q = (
        select(I.id, V.id)
        .join(latest, latest.c.item_id == I.id)
        .join(V, (V.item_id == I.id) & (V.version_no == latest.c.vno))
        .where(I.bank_id == bank.id)
    )
    if part is not None:
        q = q.where(I.part == Part(part))
    if created_by is not None:
        q = q.where(I.created_by == created_by)
    if codes is not None:
        q = q.where(I.code.in_(list(codes)))
    if state is not None:
        q = q.where(V.state == VersionState(state))
    if item_type is not None:
        q = q.where(V.item_type == item_type)
    if compromised is not None:
        q = q.where(I.compromised.is_(compromised))
    if text:
        q = q.where(or_(V.stem.contains(text, autoescape=True), I.code.contains(text, autoescape=True)))
    if element_code is not None:
        q = q.where(V.id.in_(select(ItemVersionElementRecord.version_id)
                             .where(ItemVersionElementRecord.element_code == element_code)))
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    page = session.execute(q.order_by(I.code).offset(offset).limit(limit)).all()
    if not page:
        return [], total
    version_ids = [vid for _, vid in page]
    return _load(session, bank=bank, cond=[V.id.in_(version_ids)]), total
