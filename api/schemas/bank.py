from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import In
from itembank.domain import BankRef, ElementTable, Importance, Occupation, OccupationCategory, Part


class OccupationIn(In):
    code: str = Field(max_length=32, examples=["6-31-01-03"])
    name: str = Field(max_length=200, examples=["电工"])
    category: OccupationCategory
    work_type: str | None = Field(None, max_length=200)
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


class BankIn(In):
    occupation_code: str = Field(max_length=32)
    work_type: str | None = Field(None, max_length=200)
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
                   level_name=str(b.level.title), label=b.label)


class ElementNodeIO(BaseModel):
    code: str
    name: str
    weight: float
    parent_code: str | None = None
    importance: Importance | None = None


class ElementNodeIn(In):
    code: str = Field(max_length=64)
    name: str = Field(max_length=400)
    weight: float = Field(ge=0, le=100)
    parent_code: str | None = Field(None, max_length=64)
    importance: Importance | None = None


class ElementTableIn(In):
    nodes: list[ElementNodeIn] = Field(max_length=5000)
    note: str = Field("", max_length=4000)


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
