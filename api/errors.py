"""The one place that maps domain errors to HTTP status codes and a consistent error body:

    {"error": {"code": "...", "message": "words", "field": "name or null",
               "params": {"name": value, ...},
               "errors": ["every problem, one sentence each"],
               "details": [{"field": "name or null", "message": "..."}],
               "problems": [{"sheet", "row", "column", "message"}]}}

``code`` is stable (the error's kind, for programs); ``params`` are the parameters of the
message (the occupation, the item, the limit ...). ``message``, ``errors`` and ``details``
are rendered in the request's locale (``Accept-Language`` / ``?lang=``, default the
centre's, zh_CN). ``problems`` is filled for uploaded files (imports), ``errors`` for every
error that lists more than one problem (validation, eligibility refusals, missing
qualifications, shortfalls); ``details`` gives each of them with its field where it has one.
"""

from __future__ import annotations

import dataclasses
import logging
import re
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
from itembank.i18n import FieldMessage, Message, N_, Text, render
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


def error_body(code: str, message: Text, *, field: str | None = None, errors: list[Any] | None = None,
               problems: list[dict] | None = None, params: dict[str, Any] | None = None) -> dict:
    """The error body; ``message`` and each of ``errors`` (messages, messages about a field,
    or final strings) are rendered in the current locale."""
    listed = list(errors or [])
    details = [{"field": x.field if isinstance(x, FieldMessage) else None, "message": render(x)} for x in listed]
    return {"error": {"code": code, "message": render(message), "field": field, "params": params or {},
                      "errors": [d["message"] for d in details], "details": details,
                      "problems": problems or []}}


def _problems(exc: e.ItemBankError) -> list[dict]:
    out = []
    for p in getattr(exc, "problems", None) or []:
        if dataclasses.is_dataclass(p) and not isinstance(p, type):
            out.append({"sheet": render(p.sheet), "row": p.row, "column": p.column,
                        "message": render(p.message)})
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
                    "validation_error", Message("The request is not valid."), field="url",
                    errors=[FieldMessage("url", Message("the path or query contains a NUL character (%00)."))]),
                    status_code=422)
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
        headers = {}
        if isinstance(exc, e.AuthenticationError):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, e.TooManyAttemptsError):
            headers["Retry-After"] = str(exc.retry_after_s)
        if isinstance(exc, BusyError):
            headers["Retry-After"] = str(exc.retry_after_s)
        return JSONResponse(error_body(exc.code, exc.head_text, field=exc.field, errors=exc.errors,
                                       problems=_problems(exc), params=exc.params),
                            status_code=status, headers=headers)

    @app.exception_handler(x.ExportError)
    async def _export(_request: Request, exc: x.ExportError) -> JSONResponse:
        status = next(code for cls, code in EXPORT_STATUS if isinstance(exc, cls))
        return JSONResponse(error_body(exc.code, exc.text, field=exc.field, params=_params(exc.text)),
                            status_code=status)

    @app.exception_handler(asm.AssemblyError)
    async def _assembly(_request: Request, exc: asm.AssemblyError) -> JSONResponse:
        # bad input to the assembler (a blueprint or papers that do not fit the pool)
        text = exc.args[0] if exc.args and isinstance(exc.args[0], (str, Message)) else str(exc)
        return JSONResponse(error_body("assembly_input_invalid", text, field=getattr(exc, "field", None),
                                       params=_params(text)), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = request_validation_messages(exc.errors())
        first_field = next((m.field for m in errors), None)
        return JSONResponse(error_body("validation_error", Message("The request is not valid."),
                                       field=first_field, errors=errors), status_code=422)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        # The services check uniqueness first; two requests racing past that check meet the
        # database's constraint instead. The loser's transaction is rolled back.
        log.warning("integrity error: %s", exc.orig)
        return JSONResponse(error_body("conflict", Message(
            "Another request changed the same data at the same time; reload and try again.")),
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
        return JSONResponse(error_body(code, http_message(exc.status_code, exc.detail, _request)),
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal_error", Message(
            "The server failed on this request; the error is logged for the administrator.")),
            status_code=500)


def _params(text: object) -> dict[str, Any]:
    return i18n.plain_params(text)


def http_message(status: int, detail: object, request: Request | None = None) -> Text:
    """The words for an HTTP error raised outside the domain (no such address, wrong method):
    Starlette's English reason phrases are replaced by sentences in the reader's locale."""
    if isinstance(detail, (Message, FieldMessage)):
        return detail if isinstance(detail, Message) else detail.as_message()
    path = request.url.path if request is not None else ""
    if status == 404:
        return Message("There is no page or resource at {path}; check the address.", path=path)
    if status == 405:
        method = request.method if request is not None else ""
        return Message("{path} does not accept {method} requests.", path=path, method=method)
    if status == 401:
        return Message("Log in first.")
    if status == 403:
        return Message("You may not do this.")
    return Message("The request failed (HTTP {status}).", status=status)


# --------------------------------------------------------------------------------------
# Request validation (pydantic): every error type in words, the field by its label

_LOCATION_PARTS = ("body", "query", "path", "form", "header", "cookie")


def _ctx(err: dict[str, Any], name: str) -> Any:
    value = (err.get("ctx") or {}).get(name)
    if name == "expected" and isinstance(value, str) and "'" in value:
        # pydantic words the choices in English ("'a', 'b' or 'c'"): the values, listed in the
        # reader's locale (a、b、c)
        return re.findall(r"'([^']*)'", value)
    return value if isinstance(value, (int, float, str)) else str(value)


def _type_message(err: dict[str, Any]) -> Text:
    """The words for one pydantic error, by its type (pydantic-core's error types)."""
    kind = str(err.get("type", ""))
    if kind in ("value_error", "assertion_error"):
        cause = (err.get("ctx") or {}).get("error")
        arg = cause.args[0] if isinstance(cause, BaseException) and cause.args else None
        if isinstance(arg, (Message, FieldMessage)):
            return arg if isinstance(arg, Message) else arg.as_message()
        return Message("is not valid: {reason}", reason=str(arg if arg is not None else err.get("msg", "")))
    simple = {
        "missing": N_("is required"),
        "extra_forbidden": N_("is not a field of this request"),
        "string_type": N_("must be text"),
        "string_unicode": N_("must be text (UTF-8)"),
        "string_pattern_mismatch": N_("does not have the expected form"),
        "int_type": N_("must be a whole number"),
        "int_parsing": N_("must be a whole number"),
        "int_from_float": N_("must be a whole number"),
        "int_parsing_size": N_("is too large a number"),
        "float_type": N_("must be a number"),
        "float_parsing": N_("must be a number"),
        "finite_number": N_("must be a finite number"),
        "decimal_parsing": N_("must be a number"),
        "decimal_type": N_("must be a number"),
        "bool_type": N_("must be true or false"),
        "bool_parsing": N_("must be true or false"),
        "dict_type": N_("must be an object"),
        "model_type": N_("must be an object"),
        "model_attributes_type": N_("must be an object"),
        "list_type": N_("must be a list"),
        "tuple_type": N_("must be a list"),
        "set_type": N_("must be a list"),
        "date_type": N_("must be a date such as 2026-12-06"),
        "date_parsing": N_("must be a date such as 2026-12-06"),
        "date_from_datetime_parsing": N_("must be a date such as 2026-12-06"),
        "date_from_datetime_inexact": N_("must be a date such as 2026-12-06"),
        "datetime_type": N_("must be a date and time such as 2026-12-06T08:30+08:00"),
        "datetime_parsing": N_("must be a date and time such as 2026-12-06T08:30+08:00"),
        "datetime_from_date_parsing": N_("must be a date and time such as 2026-12-06T08:30+08:00"),
        "time_parsing": N_("must be a time such as 08:30"),
        "time_type": N_("must be a time such as 08:30"),
        "uuid_parsing": N_("must be a UUID"),
        "uuid_type": N_("must be a UUID"),
        "url_parsing": N_("must be a web address"),
        "json_invalid": N_("is not valid JSON"),
        "json_type": N_("is not valid JSON"),
        "bytes_type": N_("must be a file or bytes"),
        "none_required": N_("must be empty"),
        "frozen_field": N_("cannot be changed"),
    }
    if kind in simple:
        return Message(simple[kind])
    bounded = {
        "string_too_short": N_("must have at least {min_length} character(s)"),
        "string_too_long": N_("must have at most {max_length} characters"),
        "too_short": N_("must have at least {min_length} entries"),
        "too_long": N_("must have at most {max_length} entries"),
        "bytes_too_short": N_("must have at least {min_length} bytes"),
        "bytes_too_long": N_("must have at most {max_length} bytes"),
        "greater_than": N_("must be greater than {gt}"),
        "greater_than_equal": N_("must be at least {ge}"),
        "less_than": N_("must be less than {lt}"),
        "less_than_equal": N_("must be at most {le}"),
        "multiple_of": N_("must be a multiple of {multiple_of}"),
        "enum": N_("must be one of {expected}"),
        "literal_error": N_("must be one of {expected}"),
        "decimal_max_digits": N_("must have at most {max_digits} digits"),
        "decimal_max_places": N_("must have at most {decimal_places} decimal places"),
    }
    if kind in bounded:
        template = bounded[kind]
        names = [n for n in ("min_length", "max_length", "gt", "ge", "lt", "le", "multiple_of", "expected",
                             "max_digits", "decimal_places") if "{" + n + "}" in template]
        return Message(template, **{n: _ctx(err, n) for n in names})
    return Message("is not valid")


def request_validation_messages(errors: list[dict[str, Any]]) -> list[FieldMessage]:
    """Pydantic's errors as messages about their fields, in the reader's locale when shown."""
    out = []
    for err in errors:
        loc = [str(x) for x in err.get("loc", ()) if x not in _LOCATION_PARTS]
        # a union or a tagged model adds the member's type name to the path: not a field
        loc = [x for x in loc if not (x[:1].isupper() or x.startswith(("function-", "json-or-python")))
               and x not in ("str", "int", "float", "bool", "list", "dict", "none", "lax-or-strict")]
        name = ".".join(loc) or "request"
        out.append(FieldMessage(name, _type_message(err)))
    return out
