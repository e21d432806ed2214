from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


class PageParams(BaseModel):
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=500)


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    errors: list[str] = []


class ErrorBody(BaseModel):
    error: ErrorDetail
