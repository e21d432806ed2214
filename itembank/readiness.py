"""Bank minimums and readiness (附件11 第7条).

Each occupation and level keeps >= 1200 theory items, >= 20 practical tasks (for
knowledge-skill occupations as many as theory items) and, for levels 二级/一级, >= 10 defence
or technical-review topics. The numbers are data: ``minimum_rules`` rows override the
defaults per centre, category, level or occupation. A bank below its minimums can be worked
on but may not issue an official paper (``require_ready``); a practice mode may override,
and the override is written to the ledger.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.domain import (
    OBJECTIVE_TYPES,
    BankRef,
    Importance,
    ItemType,
    Level,
    Occupation,
    OccupationCategory,
    Part,
    VersionState,
)
from itembank.elements import load_element_table
from itembank.errors import BankNotReadyError, NotFoundError, ValidationError
from itembank.orm import (
    ItemRecord,
    ItemVersionElementRecord,
    ItemVersionRecord,
    MinimumRuleRecord,
    OccupationRecord,
)

DEFAULT_THEORY_MINIMUM = 1200
DEFAULT_PRACTICAL_MINIMUM = 20
DEFAULT_DEFENCE_MINIMUM = 10
# An element holds "too few items for its weight" when it has fewer than this share of
# minimum x weight%: enough slack for real banks, strict enough to catch a thin element.
ELEMENT_SHARE_TOLERANCE = 0.8
# 附件1 第16条: levels 五–三 theory is mainly objective items.
MIN_OBJECTIVE_SHARE_LOW_LEVELS = 0.5


@dataclass(frozen=True, slots=True)
class MinimumRule:
    part: Part
    minimum: int
    level: Level | None = None
    category: OccupationCategory | None = None
    occupation_code: str | None = None
    note: str = ""
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Minimum:
    part: Part
    value: int
    required: bool
    source: str  # in words: which rule gave the number


@dataclass(frozen=True, slots=True)
class ElementCount:
    code: str
    name: str
    weight: float
    importance: Importance | None
    count: int
    expected: float  # minimum x weight / 100

    @property
    def short(self) -> bool:
        return self.count < math.floor(ELEMENT_SHARE_TOLERANCE * self.expected) or (
            self.importance is Importance.X and self.count == 0
        )


@dataclass(frozen=True, slots=True)
class PartReadiness:
    part: Part
    required: bool
    minimum: int
    minimum_source: str
    accepted: int
    compromised: int
    by_type: dict[str, int]
    element_table_version: int | None
    elements: tuple[ElementCount, ...]
    untagged: int  # usable items tagged to no element of the current table
    shortfalls: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def usable(self) -> int:
        return self.accepted - self.compromised

    @property
    def ready(self) -> bool:
        return not self.shortfalls


@dataclass(frozen=True, slots=True)
class BankReadiness:
    bank: BankRef
    parts: tuple[PartReadiness, ...]
    shortfalls: tuple[str, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())

    @property
    def ready(self) -> bool:
        return not self.shortfalls

    @property
    def verdict(self) -> str:
        if self.ready and not self.warnings:
            return "ready (达标): may issue official papers"
        if self.ready:
            return f"ready (达标) with {len(self.warnings)} warning(s)"
        return f"NOT ready (未达标): {len(self.shortfalls)} shortfall(s); official papers refused"

    def part(self, part: Part) -> PartReadiness:
        for p in self.parts:
            if p.part is part:
                return p
        raise KeyError(part)


# --------------------------------------------------------------------------------------
# Minimum rules


def default_minimum(part: Part, *, level: Level, category: OccupationCategory) -> Minimum:
    if part is Part.THEORY:
        return Minimum(part, DEFAULT_THEORY_MINIMUM, True, "附件11 第7条: theory >= 1200")
    if part is Part.PRACTICAL:
        if category is OccupationCategory.KNOWLEDGE_SKILL:
            return Minimum(part, DEFAULT_THEORY_MINIMUM, True,
                           "附件11 第7条: knowledge-skill occupations keep as many practical items as theory")
        return Minimum(part, DEFAULT_PRACTICAL_MINIMUM, True, "附件11 第7条: practical >= 20")
    if level.has_defence:
        return Minimum(part, DEFAULT_DEFENCE_MINIMUM, True, "附件11 第7条: levels 2 and 1, defence >= 10")
    return Minimum(part, 0, False, "附件11 第7条: defence topics only for levels 2 and 1")


def list_minimum_rules(session: Session) -> list[MinimumRule]:
    rows = session.execute(
        select(MinimumRuleRecord, OccupationRecord.code)
        .outerjoin(OccupationRecord, OccupationRecord.id == MinimumRuleRecord.occupation_id)
        .order_by(MinimumRuleRecord.id)
    ).all()
    return [
        MinimumRule(
            id=r.id, part=r.part, minimum=r.minimum,
            level=Level(r.level) if r.level is not None else None,
            category=r.category, occupation_code=code, note=r.note,
        )
        for r, code in rows
    ]


def set_minimum_rule(
    session: Session,
    *,
    part: Part,
    minimum: int,
    level: Level | int | None = None,
    category: OccupationCategory | str | None = None,
    occupation_code: str | None = None,
    note: str = "",
    actor: str,
) -> MinimumRule:
    """Add (or replace) the rule for exactly this combination of part/level/category/occupation."""
    part = Part(part)
    if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 0:
        raise ValidationError(f"minimum {minimum!r} must be a whole number >= 0", field="minimum")
    lvl = Level.parse(level) if level is not None else None
    cat = OccupationCategory(category) if category is not None else None
    occ_id = None
    if occupation_code is not None:
        occ_id = session.scalar(select(OccupationRecord.id).where(OccupationRecord.code == occupation_code).limit(1))
        if occ_id is None:
            raise NotFoundError(f"no occupation {occupation_code}", field="occupation")
    existing = session.scalars(
        select(MinimumRuleRecord).where(
            MinimumRuleRecord.part == part,
            MinimumRuleRecord.level.is_(None) if lvl is None else MinimumRuleRecord.level == int(lvl),
            MinimumRuleRecord.category.is_(None) if cat is None else MinimumRuleRecord.category == cat,
            MinimumRuleRecord.occupation_id.is_(None) if occ_id is None else MinimumRuleRecord.occupation_id == occ_id,
        )
    ).all()
    for old in existing:
        session.delete(old)
    rec = MinimumRuleRecord(part=part, minimum=minimum, level=int(lvl) if lvl else None,
                            category=cat, occupation_id=occ_id, note=note)
    session.add(rec)
    session.flush()
    ledger.append(
        session, actor=actor, action="minimum.set", object_type="minimum_rule", object_id=rec.id,
        details={"part": part.value, "minimum": minimum, "level": int(lvl) if lvl else None,
                 "category": cat.value if cat else None, "occupation": occupation_code, "note": note},
    )
    return MinimumRule(id=rec.id, part=part, minimum=minimum, level=lvl, category=cat,
                       occupation_code=occupation_code, note=note)


def resolve_minimum(
    rules: Sequence[MinimumRule], part: Part, *, occupation: Occupation, level: Level
) -> Minimum:
    """The most specific matching rule (occupation > category > level), else the default.

    For knowledge-skill occupations the practical minimum follows the theory minimum unless
    a practical rule names the occupation or the category (附件11 第7条).
    """
    def matches(r: MinimumRule) -> bool:
        return (
            r.part is part
            and (r.level is None or r.level == level)
            and (r.category is None or r.category is occupation.category)
            and (r.occupation_code is None or r.occupation_code == occupation.code)
        )

    def specificity(r: MinimumRule) -> tuple[int, int]:
        score = (4 if r.occupation_code else 0) + (2 if r.category else 0) + (1 if r.level else 0)
        return score, r.id or 0

    candidates = sorted((r for r in rules if matches(r)), key=specificity, reverse=True)
    if (
        part is Part.PRACTICAL
        and occupation.category is OccupationCategory.KNOWLEDGE_SKILL
        and not any(r.occupation_code or r.category for r in candidates)
    ):
        theory = resolve_minimum(rules, Part.THEORY, occupation=occupation, level=level)
        return Minimum(part, theory.value, True,
                       f"knowledge-skill: practical = theory minimum ({theory.source})")
    if candidates:
        r = candidates[0]
        scope = ", ".join(
            s for s in (
                f"occupation {r.occupation_code}" if r.occupation_code else "",
                f"category {r.category.value}" if r.category else "",
                f"level {int(r.level)}" if r.level else "",
            ) if s
        ) or "all banks"
        required = r.minimum > 0 or part is not Part.DEFENCE
        return Minimum(part, r.minimum, required, f"centre rule #{r.id} ({scope}){': ' + r.note if r.note else ''}")
    return default_minimum(part, level=level, category=occupation.category)


# --------------------------------------------------------------------------------------
# Readiness


def bank_readiness(session: Session, *, bank: BankRef, rules: Sequence[MinimumRule] | None = None) -> BankReadiness:
    """Counts per part, type and element against the minimums, with a verdict."""
    rules = list_minimum_rules(session) if rules is None else rules
    level = Level(bank.level)
    parts: list[PartReadiness] = []
    for part in Part:
        minimum = resolve_minimum(rules, part, occupation=bank.occupation, level=level)
        if not minimum.required and minimum.value == 0:
            continue
        parts.append(_part_readiness(session, bank=bank, part=part, minimum=minimum))
    shortfalls = tuple(s for p in parts for s in p.shortfalls)
    warnings = tuple(w for p in parts for w in p.warnings)
    return BankReadiness(bank=bank, parts=tuple(parts), shortfalls=shortfalls, warnings=warnings)


def _part_readiness(session: Session, *, bank: BankRef, part: Part, minimum: Minimum) -> PartReadiness:
    I, V, E = ItemRecord, ItemVersionRecord, ItemVersionElementRecord
    base = [I.bank_id == bank.id, I.part == part, V.state == VersionState.ACCEPTED]
    by_type_rows = session.execute(
        select(V.item_type, I.compromised, func.count())
        .join(I, I.id == V.item_id)
        .where(*base)
        .group_by(V.item_type, I.compromised)
    ).all()
    by_type: dict[str, int] = {}
    accepted = compromised = 0
    for item_type, is_compromised, n in by_type_rows:
        accepted += n
        if is_compromised:
            compromised += n
        else:
            key = ItemType(item_type).value
            by_type[key] = by_type.get(key, 0) + n
    usable = accepted - compromised
    label = f"{bank.label} {part.zh}"
    shortfalls: list[str] = []
    warnings: list[str] = []
    if usable < minimum.value:
        detail = f" ({compromised} more are compromised)" if compromised else ""
        shortfalls.append(
            f"{label}: {usable} usable accepted items, minimum {minimum.value} — "
            f"{minimum.value - usable} short{detail} [{minimum.source}]"
        )

    element_counts: list[ElementCount] = []
    table_version: int | None = None
    untagged = 0
    try:
        table = load_element_table(session, bank=bank, part=part)
    except NotFoundError:
        table = None
        if part is not Part.DEFENCE:
            shortfalls.append(f"{label}: no element table (认定要素细目表); papers are assembled to it")
    if table is not None:
        table_version = table.version
        counts = dict(
            session.execute(
                select(E.element_code, func.count(func.distinct(I.id)))
                .join(V, V.id == E.version_id)
                .join(I, I.id == V.item_id)
                .where(*base, I.compromised.is_(False))
                .group_by(E.element_code)
            ).all()
        )
        leaves = table.leaves()
        leaf_codes = {n.code for n in leaves}
        tagged_known = session.scalar(
            select(func.count(func.distinct(I.id)))
            .select_from(E)
            .join(V, V.id == E.version_id)
            .join(I, I.id == V.item_id)
            .where(*base, I.compromised.is_(False), E.element_code.in_(sorted(leaf_codes)))
        ) or 0
        untagged = usable - tagged_known
        for n in leaves:
            ec = ElementCount(
                code=n.code, name=n.name, weight=n.weight, importance=n.importance,
                count=int(counts.get(n.code, 0)), expected=minimum.value * n.weight / 100.0,
            )
            element_counts.append(ec)
            if ec.short:
                warnings.append(
                    f"{label}: element {ec.code} {ec.name} (weight {ec.weight:g}%, "
                    f"{ec.importance.value if ec.importance else '-'}) has {ec.count} items; "
                    f"its weight calls for about {ec.expected:.0f}"
                )
        if untagged > 0:
            warnings.append(
                f"{label}: {untagged} usable items are tied to no element of table version {table.version}"
            )

    if part is Part.THEORY and usable > 0:
        objective = sum(n for t, n in by_type.items() if ItemType(t) in OBJECTIVE_TYPES)
        share = objective / usable
        if Level(bank.level) in (Level.L5, Level.L4, Level.L3) and share < MIN_OBJECTIVE_SHARE_LOW_LEVELS:
            warnings.append(
                f"{label}: only {share:.0%} objective items; levels 5-3 theory is mainly objective (附件1 第16条)"
            )
        if Level(bank.level).has_defence and objective == usable:
            warnings.append(
                f"{label}: no subjective items; levels 2-1 theory mixes objective and subjective items (附件1 第16条)"
            )
    return PartReadiness(
        part=part,
        required=minimum.required,
        minimum=minimum.value,
        minimum_source=minimum.source,
        accepted=accepted,
        compromised=compromised,
        by_type=dict(sorted(by_type.items())),
        element_table_version=table_version,
        elements=tuple(element_counts),
        untagged=untagged,
        shortfalls=tuple(shortfalls),
        warnings=tuple(warnings),
    )


def require_ready(
    session: Session,
    *,
    bank: BankRef,
    parts: Sequence[Part] | None = None,
    practice: bool = False,
    actor: str,
    purpose: str = "official paper",
) -> BankReadiness:
    """Refuse (``BankNotReadyError`` naming each shortfall) unless the bank meets its minimums.

    ``practice=True`` lets a practice paper through anyway and records the override.
    """
    readiness = bank_readiness(session, bank=bank)
    wanted = set(parts) if parts is not None else {p.part for p in readiness.parts}
    shortfalls = [s for p in readiness.parts if p.part in wanted for s in p.shortfalls]
    if not shortfalls:
        return readiness
    if practice:
        ledger.append(
            session, actor=actor, action="readiness.override", object_type="bank", object_id=bank.id,  # type: ignore[arg-type]
            details={"bank": bank.label, "purpose": purpose, "mode": "practice", "shortfalls": shortfalls},
        )
        return readiness
    raise BankNotReadyError(
        f"{bank.label} is not ready for an {purpose} (附件11 第7条); fill the bank first, "
        "or use practice mode for a practice paper",
        shortfalls=shortfalls,
    )


def readiness_to_dict(r: BankReadiness) -> dict:
    """Plain data for ``--json`` and the API."""
    return {
        "occupation_code": r.bank.occupation.code,
        "occupation": r.bank.occupation.name,
        "work_type": r.bank.occupation.work_type,
        "level": int(r.bank.level),
        "level_name": Level(r.bank.level).title_zh,
        "ready": r.ready,
        "verdict": r.verdict,
        "shortfalls": list(r.shortfalls),
        "warnings": list(r.warnings),
        "parts": [
            {
                "part": p.part.value,
                "required": p.required,
                "minimum": p.minimum,
                "minimum_source": p.minimum_source,
                "accepted": p.accepted,
                "compromised": p.compromised,
                "usable": p.usable,
                "ready": p.ready,
                "by_type": p.by_type,
                "element_table_version": p.element_table_version,
                "untagged": p.untagged,
                "elements": [
                    {"code": e.code, "name": e.name, "weight": e.weight,
                     "importance": e.importance.value if e.importance else None,
                     "count": e.count, "expected": round(e.expected, 2), "short": e.short}
                    for e in p.elements
                ],
            }
            for p in r.parts
        ],
    }
