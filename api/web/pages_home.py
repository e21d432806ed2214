"""Logging in and out, and the dashboard at ``/``: what waits for each of the user's roles."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep, SettingsDep
from api.web.alerts import alerts_for
from api.web.common import banks_for, page_router
from api.web.render import render
from api.web.session import (
    LOGIN_CSRF_COOKIE,
    FormDep,
    OpenFormDep,
    PageDep,
    clear_session_cookie,
    new_login_csrf,
    set_session_cookie,
)
from itembank import accounts, workflow
from itembank.domain import Role, VersionState
from itembank.errors import AuthenticationError, TooManyAttemptsError
from itembank.i18n import _
from itembank.pool import page_items
from itembank.workflow import BatchState
from lifecycle import sessions as exam_sessions

router = page_router()


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, no host): never an open redirect."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _login_form(request: Request, *, next_url: str, username: str = "", error: str = "",
                errors: dict | None = None, status: int = 200, expired: bool = False) -> Response:
    token = new_login_csrf()
    response = render(request, "login.html", {"login_csrf": token, "next": next_url, "username": username,
                                              "error": error, "errors": errors or {}, "expired": expired},
                      status_code=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/ui/login", max_age=3600)
    return response


def login_page(request: Request, *, next_url: str, expired: bool, status: int) -> Response:
    """The login form as the answer to a request whose session ended (``session.login_redirect``)."""
    return _login_form(request, next_url=_safe_next(next_url), expired=expired, status=status)


@router.get("/ui/login")
def login_form(request: Request, next: str = "/", expired: str = "") -> Response:
    return _login_form(request, next_url=_safe_next(next), expired=expired == "1")


@router.post("/ui/login")
def login(request: Request, session: SessionDep, settings: SettingsDep, form: OpenFormDep) -> Response:
    username = str(form.get("username") or "").strip()[:64]
    password = str(form.get("password") or "")[:200]
    next_url = _safe_next(str(form.get("next") or "/"))
    sent, expected = str(form.get("csrf_token") or ""), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(sent, expected):
        return _login_form(request, next_url=next_url, username=username, status=400,
                           error=_("The login form is out of date: enter your password again and log in."))
    errors = {}
    if not username:
        errors["username"] = [_("Enter your user name.")]
    if not password:
        errors["password"] = [_("Enter your password.")]
    if errors:
        return _login_form(request, next_url=next_url, username=username, errors=errors, status=422)
    client = request.client.host if request.client else ""
    try:
        user = accounts.authenticate(session, username=username, password=password, client=client)
    except TooManyAttemptsError as e:
        session.rollback()
        response = _login_form(request, next_url=next_url, username=username, status=429, error=e.message)
        response.headers["Retry-After"] = str(e.retry_after_s)
        return response
    except AuthenticationError as e:
        session.rollback()
        accounts.record_failure(session, username=username, client=client)
        session.commit()  # the failure counts although the login fails (as POST /auth/token)
        # one answer for unknown users, wrong passwords and disabled accounts (itembank.accounts)
        return _login_form(request, next_url=next_url, username=username, status=401,
                           errors={"password": [e.message]})
    lifetime = timedelta(hours=settings.token_lifetime_hours)
    issued = accounts.issue_token(session, user=user, lifetime=lifetime)
    session.commit()
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(request, response, issued.token, max_age=int(lifetime.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui/login")
    return response


@router.post("/ui/logout")
def logout(request: Request, session: SessionDep, ctx: PageDep, form: FormDep) -> Response:
    accounts.revoke_token(session, token=ctx.token, actor=ctx.user.username)
    session.commit()
    response = RedirectResponse("/ui/login", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/")
def home(request: Request, session: SessionDep, ctx: PageDep) -> Response:
    """The dashboard: one card per role, with what waits for the user."""
    me = ctx.user.username
    cards: dict[str, object] = {}
    if ctx.has_role(Role.ITEM_WRITER):
        rows = []
        for bank in banks_for(session, ctx, Role.ITEM_WRITER):
            counts = {s: page_items(session, bank=bank, created_by=me, state=s, limit=0)[1]
                      for s in (VersionState.DRAFT, VersionState.CHANGES_REQUESTED, VersionState.SUBMITTED,
                                VersionState.IN_REVIEW, VersionState.APPROVED, VersionState.ACCEPTED)}
            rows.append((bank, counts))
        cards["writer"] = rows
    if ctx.has_role(Role.REVIEWER):
        cards["reviewer"] = workflow.assigned_items(session, reviewer=me)
    if ctx.has_role(Role.COMMITTEE_MEMBER):
        waiting = []
        for bank in banks_for(session, ctx, Role.COMMITTEE_MEMBER):
            waiting += [b for b in workflow.list_batches(session, bank=bank, state=BatchState.OPEN)
                        if me in b.members and me in b.unsigned]
        cards["committee"] = waiting
    alerts = []
    if ctx.has_role(Role.BANK_MANAGER):
        rows = []
        managed = banks_for(session, ctx, Role.BANK_MANAGER)
        for bank in managed:
            rows.append((bank, page_items(session, bank=bank, state=VersionState.SUBMITTED, limit=0)[1],
                         page_items(session, bank=bank, state=VersionState.APPROVED, limit=0)[1]))
        cards["manager"] = rows
        alerts = alerts_for(session, managed)
    if ctx.has_role(Role.EXAM_OFFICE):
        soon = datetime.now(UTC) - timedelta(days=1)
        found = [s for s in exam_sessions.list_exam_sessions(session)
                 if ctx.actor.has(Role.EXAM_OFFICE, occupation_code=s.occupation.code)
                 and exam_sessions.aware(s.ends_at) >= soon]
        cards["office"] = sorted(found, key=lambda s: s.starts_at)[:10]
    if ctx.has_role(Role.AUDITOR):
        cards["auditor"] = True
    if ctx.actor.is_admin:
        cards["admin"] = True
    session.rollback()  # nothing here writes; release SQLite's write lock at once
    return render(request, "home.html", {"cards": cards, "alerts": alerts})


@router.get("/ui")
def ui_root() -> Response:
    return RedirectResponse("/", status_code=303)

