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
from itembank.i18n import render
from itembank.similarity_service import SimilarItem


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


class SimilarOut(BaseModel):
    """A bank item the written item repeats or gives away (``itembank.similarity_service``).
    ``code``, ``other_place`` and ``other_text`` are null when you may not read that item."""

    kind: str = Field(description="statement_is_key | near_duplicate | statement_is_option")
    description: str = Field(description="The kind in words.")
    score: float = Field(description="Similarity 0..1 (Jaccard of character trigrams).")
    place: str = Field(description="Where in your item the matching text stands.")
    text: str
    code: str | None
    other_place: str | None
    other_text: str | None
    enemy: bool = Field(description="Already recorded as an enemy pair (never on one paper).")

    @classmethod
    def of(cls, s: SimilarItem) -> SimilarOut:
        return cls(kind=s.kind.value, description=render(s.kind_words), score=round(s.score, 4),
                   place=render(s.place), text=s.text, code=s.code,
                   other_place=render(s.other_place) if s.other_place is not None else None,
                   other_text=s.other_text, enemy=s.enemy)


class ItemWrittenOut(ItemOut):
    """The item as written, with the bank's items it repeats or gives away: show them to the
    writer, who may reword the item before submitting it."""

    similar: list[SimilarOut] = Field(description="The strongest matches (at most 10).")
    similar_total: int = Field(description="How many bank items match in all.")

    @classmethod
    def written(cls, it: Item, similar: list[SimilarItem], total: int) -> ItemWrittenOut:
        return cls(**ItemOut.of(it).model_dump(), similar=[SimilarOut.of(s) for s in similar], similar_total=total)
