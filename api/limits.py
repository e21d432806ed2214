"""Request bodies have a size limit, enforced before they are read (a request never takes the
service down).

Every request may carry at most ``Settings.max_body_bytes`` (JSON and forms: 2 MiB by
default); routes that take a file (imports) at most ``Settings.max_upload_bytes`` (50 MiB);
``Settings.body_limits`` overrides single routes (``{"POST /banks/{bank_id}/imports/qti":
104857600}``). A request announcing a larger ``Content-Length`` is answered 413 at once, before
any route, authentication or parsing runs; a body sent without a length is counted while it is
read and stopped, with 413, at the first byte over the limit. The limit is the whole body as
sent (multipart framing included).

Memory: a request holds at most its limit in memory (uploads are spooled to disk by the form
parser above 1 MiB and read once by the import), and the decompression of what it carries is
bounded separately (``itembank.archive``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from itembank.errors import ConfigurationError
from itembank.i18n import Message

# Routes that take a file: besides the API's (found from their File(...) parameters), the
# import page, whose form the page reads itself.
UPLOAD_PAGES = (("POST", "/ui/banks/{bank_id}/import"),)


class BodyTooLarge(HTTPException):
    """Raised while a body is read past its limit (propagates through FastAPI's parsing)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_too_large(limit))
        self.limit = limit


def _too_large(limit: int) -> Message:
    return Message("The request body is larger than {mib:.1f} MiB, the limit of this address; send a smaller file "
                "or split it", mib=limit / 2**20)


def too_large_response(limit: int) -> JSONResponse:
    from api.errors import error_body

    return JSONResponse(error_body("payload_too_large", str(_too_large(limit)), field="body"), status_code=413,
                        headers={"Connection": "close", "Cache-Control": "no-store"})


@dataclass(frozen=True)
class RouteLimit:
    method: str
    pattern: re.Pattern[str]
    limit: int


def _template_regex(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


def upload_routes(routers: Iterable[object]) -> list[tuple[str, str]]:
    """(method, path) of the routes of ``routers`` with a ``File(...)`` parameter (their paths
    are final: the app includes them without a prefix), and the upload pages."""
    from fastapi.params import File
    from fastapi.routing import APIRoute

    found = list(UPLOAD_PAGES)
    for router in routers:
        for route in getattr(router, "routes", []):
            if isinstance(route, APIRoute) and any(isinstance(p.field_info, File)
                                                   for p in route.dependant.body_params):
                found += [(m, route.path) for m in sorted(route.methods)]
    return found


class BodyLimit:
    """Pure ASGI middleware enforcing the body limits (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, default: int,
                 routes: Callable[[], Iterable[tuple[str, str, int]]]) -> None:
        # ``routes`` is called when the middleware stack is built (the app's routes are known)
        self.app = app
        self.default = default
        self.routes = [RouteLimit(m.upper(), _template_regex(p), n) for m, p, n in routes()]

    def limit_for(self, method: str, path: str) -> int:
        for r in self.routes:
            if r.method == method and r.pattern.match(path):
                return r.limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope.get("path", ""))
        declared = next((v for k, v in scope.get("headers") or () if k == b"content-length"), None)
        if declared is not None and (not declared.strip().isdigit() or int(declared) > limit):
            await too_large_response(limit)(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> AsgiMessage:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: AsgiMessage) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await too_large_response(limit)(scope, receive, send)


def route_limits(routers: Iterable[object], *, upload: int, overrides: dict[str, int]) -> list[tuple[str, str, int]]:
    """The per-route limits: the configured overrides (``"POST /path/{x}"``) first, then the
    upload routes."""
    out = []
    for key, limit in overrides.items():
        method, _, path = key.strip().partition(" ")
        if not path.startswith("/"):
            raise ConfigurationError(Message(
                "ITEMBANK_BODY_LIMITS: {key!r} names no route: write the method and the path, e.g. "
                "'POST /banks/{{bank_id}}/imports/qti'", key=key), field="body_limits")
        out.append((method, path.strip(), int(limit)))
    out += [(m, p, upload) for m, p in upload_routes(routers)]
    return out


__all__ = ["BodyLimit", "BodyTooLarge", "route_limits", "upload_routes"]
