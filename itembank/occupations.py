"""Occupations and banks (one bank = occupation x level)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank.domain import NO_WORK_TYPE, BankRef, Level, Occupation, OccupationCategory
from itembank.errors import (
    ConflictError,
    NotFoundError,
    OccupationNotFiledError,
    ValidationError,
)
from itembank.i18n import FieldMessage, Message
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
) -> list[FieldMessage]:
    errors: list[FieldMessage] = []
    if not OCCUPATION_CODE_RE.match(code or ""):
        errors.append(FieldMessage("code", Message(
            "'{code}' is not a national occupation code; write it as 6-31-01-03", code=code)))
    if not (name or "").strip():
        errors.append(FieldMessage("name", Message("the occupation name is empty")))
    elif len(name) > 200:
        errors.append(FieldMessage("name", Message("{n} characters; at most {limit}", n=len(name), limit=200)))
    try:
        OccupationCategory(category)
    except ValueError:
        errors.append(FieldMessage("category", Message(
            "'{value}' is not an occupation category; use technical_skill (技术技能型), knowledge_skill "
            "(知识技能型) or composite_skill (复合技能型)", value=category)))
    if work_type is not None and len(work_type) > 200:
        errors.append(FieldMessage("work_type", Message("{n} characters; at most {limit}", n=len(work_type),
                                                        limit=200)))
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
        raise ValidationError(Message("Occupation {code} {name} was not saved.", code=code, name=name), errors=errors)
    existing = session.scalar(
        select(OccupationRecord).where(
            OccupationRecord.code == code, OccupationRecord.work_type == (work_type or "")
        )
    )
    if existing is not None:
        raise ConflictError(
            Message("Occupation {code} {name} (work type {work_type}) already exists.", code=code, name=name,
                    work_type=work_type or NO_WORK_TYPE) if work_type else
            Message("Occupation {code} {name} already exists.", code=code, name=name),
            field="code", code="occupation_exists",
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
        raise NotFoundError(
            Message("There is no occupation {code} with work type {work_type}; register it first.", code=code,
                    work_type=work_type) if work_type else
            Message("There is no occupation {code}; register it first.", code=code),
            field="occupation", code="occupation_not_found",
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
            Message("Occupation {code} {name} is not filed (未备案); the centre keeps banks only for filed "
                    "occupations. Record the filing first.", code=occ.code, name=occ.name),
            field="occupation",
        )
    exists = session.scalar(
        select(BankRecord).where(BankRecord.occupation_id == occ.id, BankRecord.level == int(level))
    )
    if exists is not None:
        raise ConflictError(
            Message("The bank {code} {name}, level {level}, already exists.", code=occ.code, name=occ.name, level=level),
            field="level", code="bank_exists",
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
            Message("There is no bank for {code} {name}, level {level}; create it first.", code=occ.code, name=occ.name,
                    level=level),
            field="level", code="bank_not_found",
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
        raise NotFoundError(Message("There is no bank number {bank_id}.", bank_id=bank_id), field="bank_id",
                            code="bank_not_found")
    return bank_from_record(rec)


def list_banks(session: Session) -> list[BankRef]:
    rows = session.scalars(
        select(BankRecord)
        .join(BankRecord.occupation)
        .order_by(OccupationRecord.code, OccupationRecord.work_type, BankRecord.level.desc())
    )
    return [bank_from_record(r) for r in rows]
