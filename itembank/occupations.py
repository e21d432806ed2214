"""Occupations and banks (one bank = occupation x level)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank.domain import BankRef, Level, Occupation, OccupationCategory
from itembank.errors import (
    ConflictError,
    NotFoundError,
    OccupationNotFiledError,
    ValidationError,
)
from itembank.orm import BankRecord, OccupationRecord

# National occupation codes of the 2022 classification: major-medium-minor-detail, e.g. 6-31-01-03.
OCCUPATION_CODE_RE = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")


def occupation_from_record(rec: OccupationRecord) -> Occupation:
    return Occupation(
        id=rec.id,
        code=rec.code,
        name=rec.name,
        category=rec.category,
        work_type=rec.work_type or None,
        filed=rec.filed,
    )


def bank_from_record(rec: BankRecord) -> BankRef:
    return BankRef(id=rec.id, occupation=occupation_from_record(rec.occupation), level=Level(rec.level))


def validate_occupation(
    *, code: str, name: str, category: object, work_type: str | None
) -> list[str]:
    errors: list[str] = []
    if not OCCUPATION_CODE_RE.match(code or ""):
        errors.append(
            f"code: {code!r} is not a national occupation code; write it as 6-31-01-03"
        )
    if not (name or "").strip():
        errors.append("name: the occupation name is empty")
    elif len(name) > 200:
        errors.append(f"name: {len(name)} characters; at most 200")
    try:
        OccupationCategory(category)
    except ValueError:
        errors.append(
            f"category: {category!r} is not one of technical_skill (技术技能型), "
            "knowledge_skill (知识技能型), composite_skill (复合技能型)"
        )
    if work_type is not None and len(work_type) > 200:
        errors.append("work_type: at most 200 characters")
    return errors


def create_occupation(
    session: Session,
    *,
    code: str,
    name: str,
    category: OccupationCategory | str,
    work_type: str | None = None,
    filed: bool = True,
) -> Occupation:
    """Register an occupation (and work type). ``filed``: 备案 with the authority."""
    work_type = (work_type or "").strip() or None
    errors = validate_occupation(code=code, name=name, category=category, work_type=work_type)
    if errors:
        raise ValidationError(f"occupation {code} {name} was not saved", errors=errors)
    existing = session.scalar(
        select(OccupationRecord).where(
            OccupationRecord.code == code, OccupationRecord.work_type == (work_type or "")
        )
    )
    if existing is not None:
        raise ConflictError(
            f"occupation {code} {name} ({work_type or '无工种'}) already exists", field="code"
        )
    rec = OccupationRecord(
        code=code,
        name=name.strip(),
        work_type=work_type or "",
        category=OccupationCategory(category),
        filed=filed,
    )
    session.add(rec)
    session.flush()
    return occupation_from_record(rec)


def set_filed(session: Session, *, code: str, work_type: str | None = None, filed: bool) -> Occupation:
    rec = _occupation_record(session, code=code, work_type=work_type)
    rec.filed = filed
    session.flush()
    return occupation_from_record(rec)


def _occupation_record(
    session: Session, *, code: str, work_type: str | None = None
) -> OccupationRecord:
    rec = session.scalar(
        select(OccupationRecord).where(
            OccupationRecord.code == code, OccupationRecord.work_type == (work_type or "")
        )
    )
    if rec is None:
        suffix = f" with work type {work_type}" if work_type else ""
        raise NotFoundError(
            f"no occupation {code}{suffix}; register it first (itembank occupations add)",
            field="occupation",
        )
    return rec


def get_occupation(session: Session, *, code: str, work_type: str | None = None) -> Occupation:
    return occupation_from_record(_occupation_record(session, code=code, work_type=work_type))


def list_occupations(session: Session) -> list[Occupation]:
    rows = session.scalars(
        select(OccupationRecord).order_by(OccupationRecord.code, OccupationRecord.work_type)
    )
    return [occupation_from_record(r) for r in rows]


def create_bank(
    session: Session, *, occupation_code: str, level: Level | int, work_type: str | None = None
) -> BankRef:
    """Create the bank of an occupation at a level; only for filed occupations."""
    level = Level.parse(level)
    occ = _occupation_record(session, code=occupation_code, work_type=work_type)
    if not occ.filed:
        raise OccupationNotFiledError(
            f"occupation {occ.code} {occ.name} is not filed (未备案); the centre may only "
            "keep banks for filed occupations — record the filing first",
            field="occupation",
        )
    exists = session.scalar(
        select(BankRecord).where(BankRecord.occupation_id == occ.id, BankRecord.level == int(level))
    )
    if exists is not None:
        raise ConflictError(
            f"the bank {occ.code} {occ.name} {level.title_zh} already exists", field="level"
        )
    rec = BankRecord(occupation_id=occ.id, level=int(level))
    rec.occupation = occ
    session.add(rec)
    session.flush()
    return bank_from_record(rec)


def bank_record(
    session: Session, *, occupation_code: str, level: Level | int, work_type: str | None = None
) -> BankRecord:
    level = Level.parse(level)
    occ = _occupation_record(session, code=occupation_code, work_type=work_type)
    rec = session.scalar(
        select(BankRecord).where(BankRecord.occupation_id == occ.id, BankRecord.level == int(level))
    )
    if rec is None:
        raise NotFoundError(
            f"no bank for {occ.code} {occ.name} {level.title_zh}; create it first",
            field="level",
        )
    return rec


def get_bank(
    session: Session, *, occupation_code: str, level: Level | int, work_type: str | None = None
) -> BankRef:
    return bank_from_record(
        bank_record(session, occupation_code=occupation_code, level=level, work_type=work_type)
    )


def get_bank_by_id(session: Session, bank_id: int) -> BankRef:
    rec = session.get(BankRecord, bank_id)
    if rec is None:
        raise NotFoundError(f"no bank with id {bank_id}", field="bank_id")
    return bank_from_record(rec)


def list_banks(session: Session) -> list[BankRef]:
    rows = session.scalars(
        select(BankRecord)
        .join(BankRecord.occupation)
        .order_by(OccupationRecord.code, OccupationRecord.work_type, BankRecord.level.desc())
    )
    return [bank_from_record(r) for r in rows]
