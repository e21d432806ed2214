"""Schemas of the expert register (专家信息库, 附件11 第19条)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.common import In, Reason
from itembank.experts import Expert, ExpertRole, TitleRank


class ExpertIn(In):
    username: str = Field(min_length=1, max_length=100, description="The expert's login name.")
    name: str = Field(min_length=1, max_length=100)
    organisation: str = Field("", max_length=200)
    title_rank: TitleRank = TitleRank.NONE
    title_name: str = Field("", max_length=100, description="e.g. 高级工程师")


class ScopeIn(In):
    occupation_code: str = Field(max_length=32)
    role: ExpertRole
    years_in_occupation: int = Field(ge=0, le=80)
    certificate_level: int | None = Field(None, ge=1, le=5, description="Level of the certificate held (2 = 技师).")
    certificate_no: str = Field("", max_length=64)
    note: str = Field("", max_length=400)


class ReasonIn(In):
    reason: Reason


class ScopeOut(BaseModel):
    occupation_code: str
    role: ExpertRole
    years_in_occupation: int
    certificate_level: int | None
    certificate_no: str
    note: str
    granted_by: str
    granted_at: datetime | None


class ExpertOut(BaseModel):
    username: str
    name: str
    organisation: str
    title_rank: TitleRank
    title_name: str
    suspended: bool
    suspended_reason: str
    scopes: list[ScopeOut]

    @classmethod
    def of(cls, e: Expert) -> ExpertOut:
        return cls(
            username=e.username, name=e.name, organisation=e.organisation, title_rank=e.title_rank,
            title_name=e.title_name, suspended=e.suspended, suspended_reason=e.suspended_reason,
            scopes=[ScopeOut(occupation_code=s.occupation_code, role=s.role, years_in_occupation=s.years_in_occupation,
                             certificate_level=int(s.certificate_level) if s.certificate_level is not None else None,
                             certificate_no=s.certificate_no, note=s.note, granted_by=s.granted_by,
                             granted_at=s.granted_at) for s in e.scopes],
        )
