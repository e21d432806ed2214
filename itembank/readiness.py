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
from itembank.i18n import Message, Text
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
    source: Text  # in words: which rule gave the number


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
    minimum_source: Text
    accepted: int
    compromised: int
    by_type: dict[str, int]
    element_table_version: int | None
    elements: tuple[ElementCount, ...]
    untagged: int  # usable items tagged to no element of the current table
    shortfalls: tuple[Message, ...]
    warnings: tuple[Message, ...]

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
    shortfalls: tuple[Message, ...] = field(default=())
    warnings: tuple[Message, ...] = field(default=())

    @property
    def ready(self) -> bool:
        return not self.shortfalls

    @property
    def verdict(self) -> Message:
        if self.ready and not self.warnings:
            return Message("ready: the bank may issue official papers")
        if self.ready:
            return Message("ready, with {n} warning(s)", n=len(self.warnings))
        return Message("NOT ready: {n} shortfall(s); no official papers until they are made up",
                       n=len(self.shortfalls))

    def part(self, part: Part) -> PartReadiness:
        for p in self.parts:
            if p.part is part:
                return p
        raise KeyError(part)


# --------------------------------------------------------------------------------------
# Minimum rules


def default_minimum(part: Part, *, level: Level, category: OccupationCategory) -> Minimum:
    if part is Part.THEORY:
        return Minimum(part, DEFAULT_THEORY_MINIMUM, True, Message(
            "附件11 第7条: at least {n} theory items", n=DEFAULT_THEORY_MINIMUM))
    if part is Part.PRACTICAL:
        if category is OccupationCategory.KNOWLEDGE_SKILL:
            return Minimum(part, DEFAULT_THEORY_MINIMUM, True, Message(
                "附件11 第7条: knowledge-skill occupations keep as many practical items as theory items"))
        return Minimum(part, DEFAULT_PRACTICAL_MINIMUM, True, Message(
            "附件11 第7条: at least {n} practical tasks", n=DEFAULT_PRACTICAL_MINIMUM))
    if level.has_defence:
        return Minimum(part, DEFAULT_DEFENCE_MINIMUM, True, Message(
            "附件11 第7条: at least {n} defence or technical review topics at levels 2 and 1",
            n=DEFAULT_DEFENCE_MINIMUM))
    return Minimum(part, 0, False, Message("附件11 第7条: defence topics only at levels 2 and 1"))


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
        raise ValidationError(Message("The minimum must be a whole number of 0 or more, not {value}.",
                                      value=minimum), field="minimum")
    lvl = Level.parse(level) if level is not None else None
    cat = OccupationCategory(category) if category is not None else None
    occ_id = None
    if occupation_code is not None:
        occ_id = session.scalar(select(OccupationRecord.id).where(OccupationRecord.code == occupation_code).limit(1))
        if occ_id is None:
            raise NotFoundError(Message("There is no occupation {code}; register it first.", code=occupation_code),
                                field="occupation", code="occupation_not_found")
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
        return Minimum(part, theory.value, True, Message(
            "knowledge-skill occupation: the practical minimum equals the theory minimum ({source})",
            source=theory.source))
    if candidates:
        r = candidates[0]
        scopes: list[Message] = []
        if r.occupation_code:
            scopes.append(Message("occupation {code}", code=r.occupation_code))
        if r.category:
            scopes.append(Message("{category} occupations", category=r.category))
        if r.level:
            scopes.append(Message("level {level}", level=r.level))
        scope = Message("{scopes}", scopes=scopes) if scopes else Message("all banks")
        required = r.minimum > 0 or part is not Part.DEFENCE
        if r.note:
            return Minimum(part, r.minimum, required, Message("centre rule no. {id} ({scope}): {note}", id=r.id,
                                                              scope=scope, note=r.note))
        return Minimum(part, r.minimum, required, Message("centre rule no. {id} ({scope})", id=r.id, scope=scope))
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
    label = Message("{bank} {part}", bank=bank.label, part=part)
    shortfalls: list[Message] = []
    warnings: list[Message] = []
    if usable < minimum.value:
        if compromised:
            shortfalls.append(Message(
                "{bank}: {usable} usable accepted items, minimum {minimum}: {short} short ({compromised} more are "
                "compromised and cannot be used) [{source}]", bank=label, usable=usable, minimum=minimum.value,
                short=minimum.value - usable, compromised=compromised, source=minimum.source))
        else:
            shortfalls.append(Message(
                "{bank}: {usable} usable accepted items, minimum {minimum}: {short} short [{source}]", bank=label,
                usable=usable, minimum=minimum.value, short=minimum.value - usable, source=minimum.source))

    element_counts: list[ElementCount] = []
    table_version: int | None = None
    untagged = 0
    try:
        table = load_element_table(session, bank=bank, part=part)
    except NotFoundError:
        table = None
        if part is not Part.DEFENCE:
            shortfalls.append(Message("{bank}: no element table; papers are assembled to it, import or enter it "
                                      "first", bank=label))
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
                warnings.append(Message(
                    "{bank}: element {code} {name} (weight {weight:g}%, importance {importance}) has {count} "
                    "items; its weight calls for about {expected:.0f}", bank=label, code=ec.code, name=ec.name,
                    weight=ec.weight, importance=ec.importance.value if ec.importance else "—", count=ec.count,
                    expected=ec.expected))
        if untagged > 0:
            warnings.append(Message(
                "{bank}: {n} usable items are tied to no element of the element table (version {version})",
                bank=label, n=untagged, version=table.version))

    if part is Part.THEORY and usable > 0:
        objective = sum(n for t, n in by_type.items() if ItemType(t) in OBJECTIVE_TYPES)
        share = objective / usable
        if Level(bank.level) in (Level.L5, Level.L4, Level.L3) and share < MIN_OBJECTIVE_SHARE_LOW_LEVELS:
            warnings.append(Message(
                "{bank}: only {share:.0%} objective items; theory at levels 5 to 3 is mainly objective items "
                "(附件1 第16条)", bank=label, share=share))
        if Level(bank.level).has_defence and objective == usable:
            warnings.append(Message(
                "{bank}: no subjective items; theory at levels 2 and 1 mixes objective and subjective items "
                "(附件1 第16条)", bank=label))
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
    purpose: Text = Message("an official paper"),
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
            details={"bank": bank.label, "purpose": _data(purpose), "mode": "practice",
                     "shortfalls": [s.to_data() for s in shortfalls]},
        )
        return readiness
    raise BankNotReadyError(
        Message("{bank} does not meet its minimums and may not issue {purpose} (附件11 第7条); fill the bank "
                "first, or make a practice paper in practice mode.", bank=bank.label, purpose=purpose),
        shortfalls=shortfalls,
    )


def _data(text: Text) -> object:
    """A message as the ledger stores it (rendered in the reader's locale when shown)."""
    return text.to_data() if isinstance(text, Message) else str(text)


def readiness_to_dict(r: BankReadiness) -> dict:
    """Plain data for ``--json`` and the API."""
    return {
        "occupation_code": r.bank.occupation.code,
        "occupation": r.bank.occupation.name,
        "work_type": r.bank.occupation.work_type,
        "level": int(r.bank.level),
        "level_name": Level(r.bank.level).title_zh,
        "ready": r.ready,
        "verdict": str(r.verdict),
        "shortfalls": [str(s) for s in r.shortfalls],
        "warnings": [str(w) for w in r.warnings],
        "parts": [
            {
                "part": p.part.value,
                "required": p.required,
                "minimum": p.minimum,
                "minimum_source": str(p.minimum_source),
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
