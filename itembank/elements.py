"""Element specification tables (认定要素细目表): validation, versioned storage, loading.

A table is a hierarchy of scopes (鉴定范围) down to elements (鉴定点). Each node carries a
weight (鉴定比重, % of the part); a node's children's weights sum to its own, the top level
sums to 100; leaves are elements with importance X (core) / Y / Z (附件11 第13条(二)).
Tables are versioned: saving makes a new version, old versions stay readable.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank.domain import BankRef, ElementNode, ElementTable, Importance, Level, Part
from itembank.errors import ElementTableError, NotFoundError
from itembank.i18n import FieldMessage, Message
from itembank.orm import ElementNodeRecord, ElementTableRecord

WEIGHT_TOLERANCE = 0.01  # percentage points
MAX_CODE_LENGTH = 64


def validate_element_nodes(nodes: Sequence[ElementNode]) -> list[FieldMessage]:
    """Every problem of a table, each naming the row (``where``: ``row {row}``, counted from
    1), the node's code and the field; empty when the table is valid."""
    errors: list[FieldMessage] = []
    if not nodes:
        return [FieldMessage(None, Message("the table has no rows"))]
    by_code: dict[str, ElementNode] = {}

    def at(i: int, n: ElementNode) -> Message:
        return Message("row {row} ({code})", row=i, code=n.code) if n.code else Message("row {row}", row=i)

    for i, n in enumerate(nodes, start=1):
        where = at(i, n)
        if not n.code or not n.code.strip():
            errors.append(FieldMessage("code", Message("the code is empty"), where=where))
            continue
        if len(n.code) > MAX_CODE_LENGTH:
            errors.append(FieldMessage("code", Message("longer than {limit} characters", limit=MAX_CODE_LENGTH),
                                       where=where))
        if n.code in by_code:
            errors.append(FieldMessage("code", Message("code {code} is used twice", code=n.code), where=where))
            continue
        by_code[n.code] = n
        if not (n.name or "").strip():
            errors.append(FieldMessage("name", Message("the name of the scope or element is empty"), where=where))
        if not isinstance(n.weight, (int, float)) or not math.isfinite(n.weight) or n.weight <= 0:
            errors.append(FieldMessage("weight", Message("{weight} is not a positive percentage", weight=n.weight),
                                       where=where))
        if n.parent_code is not None and n.parent_code == n.code:
            errors.append(FieldMessage("parent_code", Message("a node cannot be its own parent"), where=where))

    rows = {n.code: i for i, n in enumerate(nodes, start=1) if n.code}
    children: dict[str | None, list[ElementNode]] = defaultdict(list)
    for n in by_code.values():
        if n.parent_code is not None and n.parent_code not in by_code:
            errors.append(FieldMessage("parent_code", Message("the parent {parent} is not in the table",
                                                              parent=n.parent_code), where=at(rows[n.code], n)))
            continue
        children[n.parent_code].append(n)

    # cycles: walk up from every node
    for n in by_code.values():
        seen = {n.code}
        parent = n.parent_code
        while parent is not None and parent in by_code:
            if parent in seen:
                errors.append(FieldMessage("parent_code", Message("the parent chain loops back to {parent}",
                                                                  parent=parent), where=at(rows[n.code], n)))
                break
            seen.add(parent)
            parent = by_code[parent].parent_code

    def _weight(n: ElementNode) -> float:
        return n.weight if isinstance(n.weight, (int, float)) and math.isfinite(n.weight) else 0.0

    top = children.get(None, [])
    if not top:
        errors.append(FieldMessage(None, Message("the table has no top-level scope (a row without a parent)")))
    else:
        total = sum(_weight(n) for n in top)
        if abs(total - 100.0) > WEIGHT_TOLERANCE:
            errors.append(FieldMessage("weight", Message(
                "the top-level weights ({codes}) sum to {total:.2f}%, not 100%", total=total,
                codes=[n.code for n in top])))
    for code, kids in children.items():
        if code is None:
            continue
        parent = by_code[code]
        total = sum(_weight(k) for k in kids)
        if abs(total - _weight(parent)) > WEIGHT_TOLERANCE:
            errors.append(FieldMessage("weight", Message(
                "the weights of its children sum to {total:.2f}%, but it has {weight:.2f}%", total=total,
                weight=_weight(parent)), where=at(rows[code], parent)))
    for n in by_code.values():
        is_leaf = n.code not in children
        if is_leaf and n.importance is None:
            errors.append(FieldMessage("importance", Message("an element (leaf) needs an importance X, Y or Z"),
                                       where=at(rows[n.code], n)))
        if not is_leaf and n.importance is not None:
            errors.append(FieldMessage("importance", Message(
                "importance {importance} on a node with children; only elements (leaves) carry one",
                importance=n.importance.value), where=at(rows[n.code], n)))
    if by_code and all(n.code in children for n in by_code.values()):
        errors.append(FieldMessage(None, Message("the table has no elements")))
    return errors


def save_element_table(
    session: Session,
    *,
    bank: BankRef,
    part: Part,
    nodes: Sequence[ElementNode],
    note: str = "",
    actor: str = "",
) -> ElementTable:
    """Validate and store a new version of the table of ``bank`` / ``part``.

    Raises ``ElementTableError`` listing every problem; nothing is written then.
    """
    part = Part(part)
    errors = validate_element_nodes(nodes)
    if errors:
        raise ElementTableError(
            Message("The {part} element table of {bank} was not saved: {n} problem(s).", bank=bank.label, part=part,
                    n=len(errors)),
            errors=errors,
        )
    latest = session.scalar(
        select(func.max(ElementTableRecord.version)).where(
            ElementTableRecord.bank_id == bank.id, ElementTableRecord.part == part
        )
    )
    table = ElementTableRecord(
        bank_id=bank.id, part=part, version=(latest or 0) + 1, note=note, created_by=actor
    )
    session.add(table)
    session.flush()
    session.add_all(
        ElementNodeRecord(
            table_id=table.id,
            position=i,
            code=n.code.strip(),
            name=n.name.strip(),
            parent_code=n.parent_code,
            weight=float(n.weight),
            importance=n.importance,
        )
        for i, n in enumerate(nodes)
    )
    session.flush()
    return _to_domain(table, bank, list(nodes))


def load_element_table(
    session: Session, *, bank: BankRef, part: Part, version: int | None = None
) -> ElementTable:
    """The latest (or a given) version of a bank's table for ``part``."""
    part = Part(part)
    query = select(ElementTableRecord).where(
        ElementTableRecord.bank_id == bank.id, ElementTableRecord.part == part
    )
    if version is None:
        query = query.order_by(ElementTableRecord.version.desc()).limit(1)
    else:
        query = query.where(ElementTableRecord.version == version)
    table = session.scalar(query)
    if table is None:
        if version is None:
            raise NotFoundError(Message("{bank} has no {part} element table yet; import or enter it first.",
                                        bank=bank.label, part=part), field="part", code="element_table_not_found")
        raise NotFoundError(Message("{bank} has no {part} element table version {version}.", bank=bank.label,
                                    part=part, version=version), field="version", code="element_table_not_found")
    nodes = [
        ElementNode(
            code=r.code,
            name=r.name,
            weight=r.weight,
            parent_code=r.parent_code,
            importance=r.importance,
        )
        for r in table.nodes
    ]
    return _to_domain(table, bank, nodes)


def element_table_versions(session: Session, *, bank: BankRef, part: Part) -> list[int]:
    return list(
        session.scalars(
            select(ElementTableRecord.version)
            .where(ElementTableRecord.bank_id == bank.id, ElementTableRecord.part == Part(part))
            .order_by(ElementTableRecord.version)
        )
    )


def current_element_codes(session: Session, *, bank_id: int, part: Part) -> set[str] | None:
    """Leaf codes of the latest table, or None when the bank has no table for ``part``."""
    table_id = session.scalar(
        select(ElementTableRecord.id)
        .where(ElementTableRecord.bank_id == bank_id, ElementTableRecord.part == Part(part))
        .order_by(ElementTableRecord.version.desc())
        .limit(1)
    )
    if table_id is None:
        return None
    rows = session.execute(
        select(ElementNodeRecord.code, ElementNodeRecord.parent_code).where(
            ElementNodeRecord.table_id == table_id
        )
    ).all()
    parents = {p for _, p in rows if p is not None}
    return {c for c, _ in rows if c not in parents}


def _to_domain(table: ElementTableRecord, bank: BankRef, nodes: list[ElementNode]) -> ElementTable:
    return ElementTable(
        occupation_code=bank.occupation.code,
        work_type=bank.occupation.work_type,
        level=Level(bank.level),
        part=Part(table.part),
        version=table.version,
        nodes=tuple(nodes),
        created_at=table.created_at,
        note=table.note,
    )


def importance_of(value: str | None) -> Importance | None:
    """Parse an importance cell: X/Y/Z (any case) or empty."""
    if value is None or str(value).strip() == "":
        return None
    return Importance(str(value).strip().upper())


__all__ = [
    "current_element_codes",
    "element_table_versions",
    "importance_of",
    "load_element_table",
    "save_element_table",
    "validate_element_nodes",
]
