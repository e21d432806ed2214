from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from api.schemas.common import Code, In

from itembank.domain import (
    ClassicalStats,
    IrtParams,
    Item,
    ItemContent,
    ItemType,
    Option,
    RubricPoint,
    VersionState,
)


class OptionIO(BaseModel):
    label: str
    text: str


class RubricPointIO(BaseModel):
    description: str
    points: float
    criteria: str = ""


class OptionIn(In):
    label: str = Field(max_length=8)
    text: str = Field(max_length=4000)


class RubricPointIn(In):
    description: str = Field(max_length=4000)
    points: float = Field(ge=0, le=1000)
    criteria: str = Field("", max_length=4000)


class ItemContentIn(In):
    """What a writer writes (附件11 第13条: content, key and scoring standard)."""

    item_type: ItemType
    stem: str
    points: float = Field(ge=0, le=1000)
    element_codes: list[str] = Field(max_length=50)
    options: list[OptionIn] = Field([], max_length=26)
    key: list[str] = Field([], max_length=26)
    rubric: list[RubricPointIn] = Field([], max_length=100)
    analysis: str = ""
    time_limit_min: float | None = Field(None, ge=0, le=10_000)
    equipment: str = ""
    estimated_time_s: float = Field(60.0, ge=0, le=1_000_000)
    difficulty_rating: int = Field(3, ge=1, le=5)

    def to_domain(self) -> ItemContent:
        return ItemContent(
            item_type=self.item_type, stem=self.stem, points=self.points,
            element_codes=tuple(self.element_codes),
            options=tuple(Option(o.label, o.text) for o in self.options), key=tuple(self.key),
            rubric=tuple(RubricPoint(r.description, r.points, r.criteria) for r in self.rubric),
            analysis=self.analysis, time_limit_min=self.time_limit_min, equipment=self.equipment,
            estimated_time_s=self.estimated_time_s, difficulty_rating=self.difficulty_rating,
        )


class ItemContentIO(BaseModel):
    item_type: ItemType
    stem: str
    points: float
    element_codes: list[str]
    options: list[OptionIO] = []
    key: list[str] = []
    rubric: list[RubricPointIO] = []
    analysis: str = ""
    time_limit_min: float | None = None
    equipment: str = ""
    estimated_time_s: float = 60.0
    difficulty_rating: int = 3

    @classmethod
    def of(cls, c: ItemContent) -> ItemContentIO:
        return cls(
            item_type=c.item_type, stem=c.stem, points=c.points, element_codes=list(c.element_codes),
            options=[OptionIO(label=o.label, text=o.text) for o in c.options], key=list(c.key),
            rubric=[RubricPointIO(description=r.description, points=r.points, criteria=r.criteria) for r in c.rubric],
            analysis=c.analysis, time_limit_min=c.time_limit_min, equipment=c.equipment,
            estimated_time_s=c.estimated_time_s, difficulty_rating=c.difficulty_rating,
        )


class ItemIn(In):
    code: Code = Field(examples=["Q0001"])
    content: ItemContentIn
    set_code: str | None = Field(None, max_length=64)


class ItemRevisionIn(In):
    content: ItemContentIn
    reason: str = Field("", max_length=2000)


class ClassicalOut(BaseModel):
    p_value: float | None
    discrimination: float | None
    n: int


class IrtOut(BaseModel):
    model: str
    a: float
    b: float
    c: float
    se_a: float | None
    se_b: float | None
    se_c: float | None
    thresholds: list[float]
    D: float
    calibration_id: int | None


class UsageOut(BaseModel):
    count: int
    last_used_on: date | None
    compromised: bool


class ItemSummary(BaseModel):
    code: str
    version: int
    state: VersionState
    item_type: ItemType
    points: float
    element_codes: list[str]
    difficulty_rating: int
    usage: UsageOut
    stem_preview: str


class ItemOut(BaseModel):
    code: str
    version: int
    state: VersionState
    set_code: str | None
    content: ItemContentIO
    classical: ClassicalOut | None
    irt: IrtOut | None
    usage: UsageOut
    enemies: list[str]

    @classmethod
    def of(cls, it: Item) -> ItemOut:
        return cls(
            code=it.code, version=it.version, state=it.state, set_code=it.set_code,
            content=ItemContentIO.of(it.content), classical=_classical(it.classical), irt=_irt(it.irt),
            usage=UsageOut(count=it.usage.count, last_used_on=it.usage.last_used_on,
                           compromised=it.usage.compromised),
            enemies=list(it.enemies),
        )


def _classical(c: ClassicalStats | None) -> ClassicalOut | None:
    return None if c is None else ClassicalOut(p_value=c.p_value, discrimination=c.discrimination, n=c.n)


def _irt(p: IrtParams | None) -> IrtOut | None:
    if p is None:
        return None
    return IrtOut(model=p.model.value, a=p.a, b=p.b, c=p.c, se_a=p.se_a, se_b=p.se_b, se_c=p.se_c,
                  thresholds=list(p.thresholds), D=p.D, calibration_id=p.calibration_id)
