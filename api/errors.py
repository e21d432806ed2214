"""The one place that maps domain errors to HTTP status codes and a consistent error body:

    {"error": {"code": "...", "message": "words", "field": "name or null",
               "errors": ["every problem, one sentence each"],
               "problems": [{"sheet", "row", "column", "message"}]}}

``problems`` is filled for uploaded files (imports), ``errors`` for every error that lists
more than one problem (validation, eligibility refusals, missing qualifications, shortfalls).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

import assembly as asm
from exports import errors as x
from itembank import errors as e
from itembank import i18n
from itembank.i18n import Message
from api.deps import BusyError
from api.retry import RETRY_HEADER, RetryOnConflict
from itembank.db import is_busy, is_retryable
from lifecycle.errors import IneligibleError

log = logging.getLogger(__name__)

STATUS: list[tuple[type[e.ItemBankError], int]] = [
    (BusyError, 503),
    (e.AuthenticationError, 401),
    (e.PermissionDeniedError, 403),
    (e.NotFoundError, 404),
    (e.TooManyAttemptsError, 429),
    # an application that meets no eligibility alternative is refused input (附件1 第7条 不予受理)
    (IneligibleError, 422),
    (e.BankNotReadyError, 409),
    (e.ConflictError, 409),
    (e.ValidationError, 422),
    (e.ItemBankError, 400),
]


EXPORT_STATUS: list[tuple[type[x.ExportError], int]] = [
    (x.UnknownDocumentError, 404),
    (x.PdfConversionError, 503),  # LibreOffice missing or failing: the service, not the request
    (x.ExportError, 422),
]


def status_for(exc: e.ItemBankError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def error_body(code: str, message: str, *, field: str | None = None, errors: list[str] | None = None,
               problems: list[dict] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "field": field, "errors": errors or [],
                      "problems": problems or []}}


def _listed(exc: e.ItemBankError) -> list[str]:
    """The list of problems an error carries, whatever its class calls it."""
    for attr in ("errors", "shortfalls", "missing", "reasons"):
        found = getattr(exc, attr, None)
        if found:
            return [str(x) for x in found]
    return []


def _problems(exc: e.ItemBankError) -> list[dict]:
    out = []
    for p in getattr(exc, "problems", None) or []:
        if dataclasses.is_dataclass(p) and not isinstance(p, type):
            d = dataclasses.asdict(p)
            out.append({"sheet": str(d.get("sheet", "")), "row": d.get("row"), "column": d.get("column"),
                        "message": str(d.get("message", ""))})
    return out


class RequestLocale:
    """The reader's locale for the request (``itembank.i18n``): ``?lang=`` first, then the
    ``Accept-Language`` header, else the centre's default (zh_CN). Outermost, so that error
    handlers and pages render in it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = None
        for part in (scope.get("query_string") or b"").decode("latin-1").split("&"):
            if part.startswith("lang="):
                chosen = i18n.normalize_locale(part[5:]) if part[5:] else None
        if chosen is None:
            header = next((v.decode("latin-1") for k, v in scope.get("headers") or () if k == b"accept-language"), None)
            chosen = i18n.locale_from_accept_language(header)
        with i18n.use_locale(chosen):
            await self.app(scope, receive, send)


class RejectUnstorableUrl:
    """Refuse a path or query string holding a NUL character (``%00``) before any route sees
    it: PostgreSQL cannot store or even compare such text, and no identifier holds one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogatepass")
            query = scope.get("query_string") or b""
            if b"%00" in raw or b"\x00" in raw or b"%00" in query or b"\x00" in query:
                response = JSONResponse(error_body(
                    "validation_error", str(Message("The request is not valid.")), field="url",
                    errors=[str(Message("url: the path or query contains a NUL character (%00)."))]), status_code=422)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install(app: FastAPI, *, body_limit: tuple[type, dict[str, Any]] | None = None) -> None:
    """The error handlers and the middleware around them. ``body_limit`` (a middleware and its
    arguments, ``api.limits.BodyLimit``) goes outside the retry, which keeps the body it reads:
    an oversized body is refused before anything reads it, in the reader's language."""
    app.add_middleware(RetryOnConflict)  # innermost: replays a request the database refused
    if body_limit is not None:
        app.add_middleware(body_limit[0], **body_limit[1])
    app.add_middleware(RejectUnstorableUrl)
    app.add_middleware(RequestLocale)  # added last: outermost

    @app.exception_handler(e.ItemBankError)
    async def _domain(_request: Request, exc: e.ItemBankError) -> JSONResponse:
        status = status_for(exc)
        errors = _listed(exc)
        headers = {}
        if isinstance(exc, e.AuthenticationError):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, e.TooManyAttemptsError):
            headers["Retry-After"] = str(exc.retry_after_s)
        if isinstance(exc, BusyError):
            headers["Retry-After"] = str(exc.retry_after_s)
        message = exc.message.split("\n")[0] if errors else exc.message
        return JSONResponse(error_body(exc.code, message, field=exc.field, errors=errors, problems=_problems(exc)),
                            status_code=status, headers=headers)

    @app.exception_handler(x.ExportError)
    async def _export(_request: Request, exc: x.ExportError) -> JSONResponse:
        status = next(code for cls, code in EXPORT_STATUS if isinstance(exc, cls))
        return JSONResponse(error_body(exc.code, exc.message, field=exc.field), status_code=status)

    @app.exception_handler(asm.AssemblyError)
    async def _assembly(_request: Request, exc: asm.AssemblyError) -> JSONResponse:
        # bad input to the assembler (a blueprint or papers that do not fit the pool)
        return JSONResponse(error_body("assembly_input_invalid", str(exc), field=getattr(exc, "field", None)),
                            status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        first_field = None
        for err in exc.errors():
            loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path", "form")]
            name = ".".join(loc) or "request"
            first_field = first_field or name
            msg = str(err.get("msg", "invalid"))
            errors.append(f"{name}: {msg.removeprefix('Value error, ')}")
        return JSONResponse(error_body("validation_error", str(Message("The request is not valid.")),
                                       field=first_field, errors=errors), status_code=422)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        # The services check uniqueness first; two requests racing past that check meet the
        # database's constraint instead. The loser's transaction is rolled back.
        log.warning("integrity error: %s", exc.orig)
        return JSONResponse(error_body("conflict", str(Message(
            "Another request changed the same data at the same time; reload and try again."))),
            status_code=409)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # Contention, not a fault: SQLite "database is locked" after its busy timeout, a stale
        # snapshot, a PostgreSQL deadlock or serialization failure. Nothing was written (the
        # transaction is rolled back); retryable ones are run again by api.retry first.
        if not is_busy(exc):
            return await _unexpected(request, exc)
        log.info("database busy on %s %s: %s", request.method, request.url.path, exc.orig)
        busy = BusyError(Message("The database is busy with other users' changes; nothing was saved. "
                                 "Try again in a few seconds."))
        headers = {"Retry-After": str(busy.retry_after_s)}
        if is_retryable(exc):
            headers[RETRY_HEADER] = "1"
        return JSONResponse(error_body(busy.code, busy.message), status_code=503, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "not_authenticated", 403: "permission_denied", 404: "not_found",
                405: "method_not_allowed", 413: "payload_too_large"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal_error", str(Message(
            "The server failed on this request; the error is logged for the administrator."))),
            status_code=500)
