"""The one place that maps domain errors to HTTP status codes and a consistent error body:

    {"error": {"code": "...", "message": "words", "field": "name or null", "errors": [...]}}
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from itembank import errors as e

STATUS: list[tuple[type[e.ItemBankError], int]] = [
    (e.AuthenticationError, 401),
    (e.PermissionDeniedError, 403),
    (e.NotFoundError, 404),
    (e.TooManyAttemptsError, 429),
    (e.BankNotReadyError, 409),
    (e.ConflictError, 409),
    (e.ValidationError, 422),
    (e.ItemBankError, 400),
]


def status_for(exc: e.ItemBankError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def error_body(code: str, message: str, *, field: str | None = None, errors: list[str] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "field": field, "errors": errors or []}}


def install(app: FastAPI) -> None:
    @app.exception_handler(e.ItemBankError)
    async def _domain(_request: Request, exc: e.ItemBankError) -> JSONResponse:
        status = status_for(exc)
        errors = list(getattr(exc, "errors", []) or getattr(exc, "shortfalls", []))
        headers = {}
        if isinstance(exc, e.AuthenticationError):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, e.TooManyAttemptsError):
            headers["Retry-After"] = str(exc.retry_after_s)
        message = exc.message.split("\n")[0] if errors else exc.message
        return JSONResponse(error_body(exc.code, message, field=exc.field, errors=errors),
                            status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        first_field = None
        for err in exc.errors():
            loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path")]
            name = ".".join(loc) or "request"
            first_field = first_field or name
            errors.append(f"{name}: {err.get('msg', 'invalid')}")
        return JSONResponse(error_body("validation_error", "the request is not valid", field=first_field,
                                       errors=errors), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "not_authenticated", 403: "permission_denied", 404: "not_found",
                405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
