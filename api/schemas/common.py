"""Shared schema pieces: pages, paging parameters, the error body, and the input rules every
request body follows (no NUL characters or lone surrogates, no NaN/Infinity, bounded numbers
and text) so that nothing a client sends reaches the database as a value it rejects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from itembank.i18n import FieldMessage, Message
from itembank.textcheck import text_problem
T = TypeVar("T")

MAX_ID = 2_147_483_647  # PostgreSQL ``integer``; larger ids cannot exist and overflow SQLite/PG parameters
MAX_OFFSET = 10_000_000
MAX_TEXT = 20_000  # default bound of any text field (stems and essays stay well below)
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)  # date arithmetic (working days, anniversaries) must not reach year 9999


def bad_text_reason(value: str) -> Message | None:
    """Why ``value`` cannot be stored or printed (PostgreSQL refuses NUL; no database encodes a
    lone surrogate; documents hold no control characters: ``itembank.textcheck``), or None."""
    return text_problem(value)


def _clean_text(value: str) -> str:
    reason = bad_text_reason(value)
    if reason:
        raise ValueError(reason)
    return value


def _walk(value: Any, path: str) -> FieldMessage | None:
    if isinstance(value, str):
        reason = bad_text_reason(value)
        return FieldMessage(path or "body", reason) if reason else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = _walk(k, path) if isinstance(k, str) else None
            found = found or _walk(v, f"{path}.{k}" if path else str(k))
            if found:
                return found
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _walk(v, f"{path}[{i}]")
            if found:
                return found
    return None


Text = Annotated[str, AfterValidator(_clean_text)]
"""A string parameter (query, form) that is safe to store."""
ShortText = Annotated[str, StringConstraints(max_length=64), AfterValidator(_clean_text)]
"""A code in a repeated query or form parameter."""


class In(BaseModel):
    """Base of every request body."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=MAX_TEXT)

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        problem = _walk(data, "")
        if problem:
            raise ValueError(problem)
        return data


# bounded scalar types of request bodies
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]
Moment = Annotated[datetime, AfterValidator(lambda v: _moment(v))]
Code = Annotated[str, Field(min_length=1, max_length=64)]
Name = Annotated[str, Field(max_length=100)]
Reason = Annotated[str, Field(max_length=2000)]
Amount = Annotated[float, Field(ge=0, le=1_000_000)]


def _moment(v: datetime) -> datetime:
    if not FIRST_DAY <= v.date() <= LAST_DAY:
        raise ValueError(Message("{value} is outside the years {first}–{last}", value=v.isoformat(),
                                 first=str(FIRST_DAY.year), last=str(LAST_DAY.year)))
    return v


# path and query parameters
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
CodePath = Annotated[str, Path(min_length=1, max_length=64)]
DayQuery = Annotated[date | None, Query(ge=FIRST_DAY, le=LAST_DAY)]


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items`` from ``offset``, at most ``limit``, of ``total``."""

    items: list[T]
    total: int
    offset: int
    limit: int


class Paging:
    """``offset`` and ``limit`` of a list (the query parameters: ``api.deps.PagingDep``)."""

    def __init__(self, offset: int = 0, limit: int = 50) -> None:
        self.offset = offset
        self.limit = limit

    def page(self, items: Sequence[T], total: int | None = None) -> dict[str, Any]:
        """A page of ``items``: sliced here when ``total`` is None (a list held in memory),
        else ``items`` is already the page the database returned."""
        if total is None:
            total, items = len(items), list(items[self.offset:self.offset + self.limit])
        return {"items": list(items), "total": total, "offset": self.offset, "limit": self.limit}


class Problem(BaseModel):
    """One located problem of an uploaded file."""

    sheet: str
    row: int | None = None
    column: str | None = None
    message: str


class FieldProblem(BaseModel):
    """One listed problem with the request field it concerns (null when none)."""

    field: str | None = None
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. not_found, bank_not_found, "
                                  "permission_denied, import_invalid.")
    message: str = Field(description="What went wrong, in words, in the request's language "
                                     "(Accept-Language; default zh-CN).")
    field: str | None = Field(None, description="The request field concerned, when there is one.")
    params: dict[str, Any] = Field({}, description="The parameters of the message (names, numbers, limits).")
    errors: list[str] = Field([], description="Every problem found, one sentence each.")
    details: list[FieldProblem] = Field([], description="The same problems, each with its field.")
    problems: list[Problem] = Field([], description="Uploaded files: every problem with its sheet, row and column.")


class ErrorBody(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Not logged in, or the token expired or was revoked."},
    403: {"model": ErrorBody, "description": "Your roles or occupations do not allow this."},
    404: {"model": ErrorBody, "description": "No such object."},
    409: {"model": ErrorBody, "description": "The object's current state does not allow this."},
    422: {"model": ErrorBody, "description": "The request is not valid; every problem is listed."},
}
