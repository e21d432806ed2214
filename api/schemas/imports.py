"""Schemas of imports and the minimum rules."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import In
from itembank.domain import OccupationCategory, Part
from itembank.imports import ElementImportReport, ImportMode, ImportReport
from itembank.readiness import MinimumRule


class ImportReportOut(BaseModel):
    """What an item import did (or, with ``dry_run``, would do)."""

    source: str
    sha256: str
    mode: ImportMode
    batch_ref: str
    dry_run: bool
    n_items: int
    created: list[str]
    revised: list[str]
    unchanged: list[str]
    set_code_changed: list[str]
    summary: str

    @classmethod
    def of(cls, r: ImportReport) -> ImportReportOut:
        return cls(source=r.source, sha256=r.sha256, mode=r.mode, batch_ref=r.batch_ref, dry_run=r.dry_run,
                   n_items=r.n_items, created=list(r.created), revised=list(r.revised),
                   unchanged=list(r.unchanged), set_code_changed=list(r.set_code_changed), summary=str(r.summary()))


class ElementImportOut(BaseModel):
    source: str
    versions: dict[str, int | None] = Field(description="Part -> new table version; null: unchanged (or dry run).")
    n_rows: int
    dry_run: bool

    @classmethod
    def of(cls, r: ElementImportReport) -> ElementImportOut:
        return cls(source=r.source, versions=dict(r.versions), n_rows=r.n_rows, dry_run=r.dry_run)


class MinimumRuleIn(In):
    """A centre rule for the bank minimums (附件11 第7条 sets the defaults). The most specific
    matching rule wins: occupation > category > level."""

    part: Part
    minimum: int = Field(ge=0, le=1_000_000)
    level: int | None = Field(None, ge=1, le=5)
    category: OccupationCategory | None = None
    occupation_code: str | None = Field(None, max_length=32)
    note: str = Field("", max_length=400)


class MinimumRuleOut(BaseModel):
    id: int | None
    part: Part
    minimum: int
    level: int | None
    category: OccupationCategory | None
    occupation_code: str | None
    note: str

    @classmethod
    def of(cls, r: MinimumRule) -> MinimumRuleOut:
        return cls(id=r.id, part=r.part, minimum=r.minimum, level=int(r.level) if r.level is not None else None,
                   category=r.category, occupation_code=r.occupation_code, note=r.note)

