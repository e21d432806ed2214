"""Who is looking at a page: the cookie session, CSRF tokens, role checks, and error pages.

The session cookie holds an API token (``itembank.accounts.issue_token``): the same accounts,
expiry, revocation and rate limit as the HTTP API. It is HttpOnly, SameSite=Lax, and Secure
when the request came over https. Every POST form carries a CSRF token derived from the session
token (HMAC), so another site cannot post a form in the user's name; the login form, before any
session, uses a double-submit cookie.

Role checks reuse the API's own (``api.deps.check_roles``, ``api.deps.check_scope``); need-to-know
for item content is ``itembank.visibility``. Domain errors raised by a page become an HTML page
with the status code ``api.errors.status_for`` gives them; a missing or expired session
redirects to the login form.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlparse

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import FormData

from api.deps import BusyError, SessionDep, check_centre_wide, check_roles
from api.errors import request_validation_messages, status_for
from api.retry import RETRY_HEADER
from itembank import accounts
from itembank.accounts import User
from itembank.db import is_busy, is_retryable
from itembank.domain import Actor, Role
from itembank.errors import AuthenticationError, ItemBankError, ValidationError
from itembank.i18n import Message, N_, Text, gettext
from itembank.textcheck import text_problem

log = logging.getLogger(__name__)

COOKIE = "itembank_session"
LOGIN_CSRF_COOKIE = "itembank_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class LoginRequired(Exception):
    """No valid session: the page redirects to the login form. ``expired``: there was a
    session cookie, but its session has ended (expired, revoked, or the account changed)."""

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired


class CsrfError(ItemBankError):
    code = "csrf_failed"


def csrf_for(token: str) -> str:
    return hmac.new(token.encode("utf-8"), b"itembank-web-csrf", hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class PageContext:
    user: User
    actor: Actor
    token: str

    @property
    def csrf(self) -> str:
        return csrf_for(self.token)

    def has(self, role: Role, occupation_code: str | None = None) -> bool:
        """Does the user hold ``role`` for ``occupation_code`` (``Actor.has``). Without an
        occupation (templates' menus only): for some occupation, as :meth:`has_role`."""
        if occupation_code is None:
            return self.actor.has_role(role)
        return self.actor.has(role, occupation_code=occupation_code)

    def has_role(self, *roles: Role) -> bool:
        """Does the user hold one of ``roles`` for some occupation (menus, not permissions)."""
        return self.actor.has_role(*roles)


def page_context(request: Request, session: SessionDep) -> PageContext:
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired()
    try:
        user = accounts.user_for_token(session, token=token)
    except AuthenticationError as e:
        raise LoginRequired(expired=True) from e
    ctx = PageContext(user=user, actor=user.actor(), token=token)
    request.state.page = ctx
    return ctx


PageDep = Annotated[PageContext, Depends(page_context)]


def page_role(*roles: Role) -> Any:
    """Dependency: the page's user holds one of ``roles`` (the API's own check: admin passes)."""

    def _check(ctx: PageDep) -> PageContext:
        check_roles(ctx.actor, *roles)
        return ctx

    return Depends(_check)


def page_role_everywhere(*roles: Role) -> Any:
    """Dependency: the page's user holds one of ``roles`` for every occupation (centre-wide
    registers: the ledger; ``api.deps.check_centre_wide``)."""

    def _check(ctx: PageDep) -> PageContext:
        check_roles(ctx.actor, *roles)
        check_centre_wide(ctx.actor, *roles)
        return ctx

    return Depends(_check)


def _storable(form: FormData) -> FormData:
    """Refuse a form with text that cannot be stored or printed (``itembank.textcheck``): every
    page's form passes here, whatever it does with the values."""
    for key, value in form.multi_items():
        if isinstance(value, str):
            problem = text_problem(value)
            if problem is not None:
                raise ValidationError(Message("the field {field} {problem}", field=key, problem=problem), field=key)
    return form


async def form_data(request: Request) -> FormData:
    return _storable(await request.form())


async def checked_form(request: Request, ctx: PageDep) -> FormData:
    """The posted form, after its CSRF token was checked against the session's, and its text
    checked (``_storable``)."""
    form = await request.form()
    sent = str(form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or "")
    if not hmac.compare_digest(sent, ctx.csrf):
        raise CsrfError(Message("The form's security token does not match your session (the page may be out of "
                                "date): reload the page and try again."))
    return _storable(form)


FormDep = Annotated[FormData, Depends(checked_form)]
OpenFormDep = Annotated[FormData, Depends(form_data)]  # login only: checked by double submit


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def set_session_cookie(request: Request, response: Response, token: str, *, max_age: int) -> None:
    response.set_cookie(COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def login_redirect(request: Request, *, expired: bool = False) -> Response:
    """To the login form, back here afterwards. A form posted (or an htmx request sent) after
    the session ended is not lost silently: the answer is the login form itself (401) saying
    登录已过期, leading back to the page the form was on, where the browser keeps what was typed
    (``static/pages.js`` restores it)."""
    if request.method == "GET" and request.headers.get("HX-Request") != "true":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        flag = "&expired=1" if expired else ""
        return RedirectResponse(f"/ui/login?next={quote(target, safe='')}{flag}", status_code=303)
    from api.web.pages_home import login_page

    return login_page(request, next_url=_referring_page(request), expired=True, status=401)


def _referring_page(request: Request) -> str:
    """The path of the page the request came from, when it is a page of this site."""
    referer = request.headers.get("referer") or ""
    parsed = urlparse(referer)
    if parsed.netloc and parsed.netloc != request.url.netloc:
        return "/"
    path = parsed.path or "/"
    return path + (f"?{parsed.query}" if parsed.query else "") if path.startswith("/") else "/"


ERROR_TITLES = {
    401: N_("Please log in"), 403: N_("Not allowed"), 404: N_("Not found"),
    409: N_("Not possible in the current state"), 422: N_("Please check your input"), 429: N_("Too many attempts"),
    503: N_("Busy: please try again shortly"),
}


def error_page(request: Request, status: int, message: Text, errors: list[Text] | None = None,
               headers: dict[str, str] | None = None) -> Response:
    from api.web.render import PAGE_HEADERS, problem_text, templates

    return templates.TemplateResponse(
        request, "error.html",
        {"status": status, "title": gettext(ERROR_TITLES.get(status, N_("The action was not completed"))),
         "message": problem_text(message), "errors": [problem_text(e) for e in errors or []],
         "page": getattr(request.state, "page", None)},
        status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


class PageRoute(APIRoute):
    """A page: domain errors become an HTML page with the API's status code, a missing
    session a redirect to the login form, bad query parameters a 422 page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired as exc:
                return login_redirect(request, expired=exc.expired)
            except ItemBankError as exc:
                status = status_for(exc)
                listed = list(getattr(exc, "errors", None) or [])
                wait = getattr(exc, "retry_after_s", None)  # too many attempts: when to try again
                return error_page(request, status, exc.head.split("\n")[0], listed,
                                  headers={"Retry-After": str(wait)} if wait else None)
            except RequestValidationError as exc:
                return error_page(request, 422, Message("The address or its parameters are not valid."),
                                  list(request_validation_messages(exc.errors())))
            except DBAPIError as exc:
                if not is_busy(exc):
                    raise
                busy = BusyError(Message("The database is busy with other users' changes; nothing was saved. "
                                         "Try again in a few seconds."))
                headers = {"Retry-After": str(busy.retry_after_s)}
                if is_retryable(exc):
                    headers[RETRY_HEADER] = "1"  # api.retry runs the whole request again first
                return error_page(request, 503, busy.head_text, headers=headers)

        return page_handler

