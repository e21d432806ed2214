from __future__ import annotations

from pydantic import BaseModel, Field

from itembank.domain import BankRef, ElementTable, Importance, Occupation, OccupationCategory, Part


class OccupationIn(BaseModel):
    code: str = Field(examples=["6-31-01-03"])
    name: str = Field(examples=["电工"])
    category: OccupationCategory
    work_type: str | None = None
    filed: bool = True


class OccupationOut(BaseModel):
    id: int | None
    code: str
    name: str
    work_type: str | None
    category: OccupationCategory
    filed: bool

    @classmethod
    def of(cls, o: Occupation) -> OccupationOut:
        return cls(id=o.id, code=o.code, name=o.name, work_type=o.work_type, category=o.category, filed=o.filed)


class BankIn(BaseModel):
    occupation_code: str
    work_type: str | None = None
    level: int = Field(ge=1, le=5)


class BankOut(BaseModel):
    id: int
    occupation: OccupationOut
    level: int
    level_name: str
    label: str

    @classmethod
    def of(cls, b: BankRef) -> BankOut:
        return cls(id=b.id or 0, occupation=OccupationOut.of(b.occupation), level=int(b.level),
                   level_name=b.level.title_zh, label=b.label)


class ElementNodeIO(BaseModel):
    code: str
    name: str
    weight: float
    parent_code: str | None = None
    importance: Importance | None = None


class ElementTableIn(BaseModel):
    nodes: list[ElementNodeIO]
    note: str = ""


class ElementTableOut(BaseModel):
    part: Part
    version: int
    note: str
    nodes: list[ElementNodeIO]

    @classmethod
    def of(cls, t: ElementTable) -> ElementTableOut:
        return cls(part=t.part, version=t.version, note=t.note,
                   nodes=[ElementNodeIO(code=n.code, name=n.name, weight=n.weight, parent_code=n.parent_code,
                                        importance=n.importance) for n in t.nodes])
