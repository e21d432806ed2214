"""Administration: user accounts with their roles (system administrators, as ``/users`` of the
API), and the expert register (专家信息库, 附件11 第19条) with each expert's occupations and
qualifications (bank managers and administrators, as ``/experts``).

A writer's or reviewer's role lets them open the pages; only the expert register lets them
save items or reviews (附件11 第10条). The user page says, for every such role, whether the
register holds the person for that occupation, and links to the register to fix it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.web.common import page_router
from api.web.render import field_errors, flash_of, problem_text, render
from api.web.session import FormDep, PageContext, page_role
from itembank import accounts, occupations
from itembank.domain import Level, Role
from itembank.errors import ItemBankError, NotFoundError, NotQualifiedError, ValidationError
from itembank.experts import (
    ExpertRole,
    TitleRank,
    get_expert,
    grant_scope,
    list_experts,
    register_expert,
    reinstate_expert,
    revoke_scope,
    suspend_expert,
)
from itembank.i18n import Message, N_

router = page_router()
AdminDep = Annotated[PageContext, page_role(Role.ADMIN)]
RegisterDep = Annotated[PageContext, page_role(Role.BANK_MANAGER)]
MAX_ROLE_ROWS = 12
EXPERT_ROLE_OF = {Role.ITEM_WRITER: ExpertRole.WRITER, Role.REVIEWER: ExpertRole.REVIEWER}
FLASH = {
    "created": N_("The user was created."), "roles": N_("The roles were saved."),
    "active": N_("The account was enabled."), "inactive": N_("The account was disabled; its sessions ended."),
    "password": N_("The password was changed; the user's sessions ended."),
    "registered": N_("The expert was registered; now grant the occupations they work for."),
    "granted": N_("The occupation was granted."), "revoked": N_("The occupation was withdrawn."),
    "suspended": N_("The expert was suspended."), "reinstated": N_("The expert was reinstated."),
}


def _role_rows(form) -> tuple[list[tuple[str, str]], list[tuple[Role, str | None]], list]:  # type: ignore[no-untyped-def]
    """The posted role rows as typed, the roles they give, and the problems."""
    n = min(int(form.get("n_roles") or 0) if str(form.get("n_roles") or "").isdigit() else 0, MAX_ROLE_ROWS)
    if form.get("action") == "add_role":
        n += 1
    rows, roles, problems = [], [], []
    for i in range(n):
        role, scope = str(form.get(f"role_{i}") or ""), str(form.get(f"scope_{i}") or "")
        rows.append((role, scope))
        if not role:
            continue
        try:
            roles.append((Role(role), scope or None))
        except ValueError:
            problems.append((f"role_{i}", Message("Choose a role from the list.")))
    return rows, roles, problems


def _register_gaps(session: Session, user: accounts.User) -> list[dict]:
    """For each writer or reviewer role: is the person in the expert register for it?"""
    gaps = []
    try:
        expert = get_expert(session, username=user.username)
    except NotFoundError:
        expert = None
    for role, scope in user.roles:
        er = EXPERT_ROLE_OF.get(role)
        if er is None:
            continue
        if expert is None:
            ok = False
        elif scope is None:
            ok = any(s.role is er for s in expert.scopes)
        else:
            ok = expert.scope(scope, er) is not None
        gaps.append({"role": role, "scope": scope, "expert_role": er, "ok": ok and not (expert and expert.suspended),
                     "registered": expert is not None, "suspended": bool(expert and expert.suspended)})
    return gaps


# --------------------------------------------------------------------------------------
# Users


def _users_page(request: Request, session: Session, *, values: dict | None = None, errors: dict | None = None,
                status: int = 200) -> Response:
    users = accounts.list_users(session)
    experts = {e.username: e for e in list_experts(session)}
    occs = occupations.list_occupations(session)
    session.rollback()
    return render(request, "admin_users.html", {
        "users": users, "experts": experts, "occupations": occs, "roles": list(Role),
        "values": values or {"rows": [("", "")]}, "errors": errors or {}, **flash_of(request, FLASH)},
        status_code=status)


@router.get("/ui/admin/users")
def users(request: Request, session: SessionDep, ctx: AdminDep) -> Response:
    return _users_page(request, session)


@router.post("/ui/admin/users")
def create_user(request: Request, session: SessionDep, ctx: AdminDep, form: FormDep) -> Response:
    username = str(form.get("username") or "").strip()[:64]
    display_name = str(form.get("display_name") or "").strip()[:100]
    password = str(form.get("password") or "")[:200]
    rows, roles, problems = _role_rows(form)
    values = {"username": username, "display_name": display_name, "rows": rows or [("", "")]}
    if form.get("action") == "add_role":
        return _users_page(request, session, values=values)
    if not problems:
        try:
            accounts.create_user(session, username=username, password=password, roles=roles,
                                 display_name=display_name, actor=ctx.user.username)
        except ItemBankError as e:
            session.rollback()
            problems = list(e.errors) if isinstance(e, ValidationError) else [(e.field or "username", e.text)]
        else:
            session.commit()
            return RedirectResponse(f"/ui/admin/users/{username}?done=created", status_code=303)
    known = ["username", "password", "roles", *(f"role_{i}" for i in range(len(rows)))]
    return _users_page(request, session, values=values, errors=field_errors(problems, known=known), status=422)


def _user_page(request: Request, session: Session, username: str, *, values: dict | None = None,
               errors: dict | None = None, status: int = 200) -> Response:
    user = accounts.get_user(session, username=username)
    gaps = _register_gaps(session, user)
    occs = occupations.list_occupations(session)
    session.rollback()
    rows = [(r.value, c or "") for r, c in user.roles] or [("", "")]
    return render(request, "admin_user.html", {
        "user": user, "gaps": gaps, "occupations": occs, "roles": list(Role),
        "values": values or {"rows": rows}, "errors": errors or {}, **flash_of(request, FLASH)}, status_code=status)


@router.get("/ui/admin/users/{username}")
def user_page(request: Request, username: str, session: SessionDep, ctx: AdminDep) -> Response:
    return _user_page(request, session, username)


@router.post("/ui/admin/users/{username}/roles")
def save_roles(request: Request, username: str, session: SessionDep, ctx: AdminDep, form: FormDep) -> Response:
    rows, roles, problems = _role_rows(form)
    if form.get("action") == "add_role" or problems:
        errors = field_errors(problems, known=[f"role_{i}" for i in range(len(rows))]) if problems else {}
        return _user_page(request, session, username, values={"rows": rows}, errors=errors,
                          status=422 if problems else 200)
    if not roles:
        return _user_page(request, session, username, values={"rows": rows}, status=422,
                          errors={"roles": [problem_text(Message("Give the user at least one role."))]})
    accounts.set_roles(session, username=username, roles=roles, actor=ctx.user.username)
    session.commit()
    return RedirectResponse(f"/ui/admin/users/{username}?done=roles", status_code=303)


@router.post("/ui/admin/users/{username}/active")
def set_active(username: str, session: SessionDep, ctx: AdminDep, form: FormDep) -> Response:
    active = form.get("active") == "1"
    if not active and username == ctx.user.username:
        raise ValidationError(Message("You cannot disable your own account."), field="active")
    accounts.set_active(session, username=username, active=active, actor=ctx.user.username)
    session.commit()
    return RedirectResponse(f"/ui/admin/users/{username}?done={'active' if active else 'inactive'}", status_code=303)


@router.post("/ui/admin/users/{username}/password")
def set_password(request: Request, username: str, session: SessionDep, ctx: AdminDep, form: FormDep) -> Response:
    try:
        accounts.change_password(session, username=username, new_password=str(form.get("password") or "")[:200],
                                 actor=ctx.user.username)
    except ValidationError as e:
        session.rollback()
        return _user_page(request, session, username, status=422,
                          errors={"password": [problem_text(x) for x in e.errors]})
    session.commit()
    return RedirectResponse(f"/ui/admin/users/{username}?done=password", status_code=303)


# --------------------------------------------------------------------------------------
# The expert register


def _experts_page(request: Request, session: Session, ctx: PageContext, *, values: dict | None = None,
                  errors: dict | None = None, status: int = 200) -> Response:
    experts = list_experts(session)
    known = {e.username for e in experts}
    candidates = [u for u in accounts.list_users(session)
                  if u.username not in known and any(r in EXPERT_ROLE_OF for r, _ in u.roles)]
    session.rollback()
    return render(request, "admin_experts.html", {
        "experts": experts, "candidates": candidates, "ranks": list(TitleRank), "values": values or {},
        "errors": errors or {}, **flash_of(request, FLASH)}, status_code=status)


@router.get("/ui/admin/experts")
def experts(request: Request, session: SessionDep, ctx: RegisterDep) -> Response:
    return _experts_page(request, session, ctx)


@router.post("/ui/admin/experts")
def register(request: Request, session: SessionDep, ctx: RegisterDep, form: FormDep) -> Response:
    values = {k: str(form.get(k) or "").strip()[:200] for k in ("username", "name", "organisation", "title_rank",
                                                                 "title_name")}
    try:
        register_expert(session, actor=ctx.actor, username=values["username"], name=values["name"],
                        organisation=values["organisation"], title_rank=values["title_rank"] or TitleRank.NONE,
                        title_name=values["title_name"])
    except ItemBankError as e:
        session.rollback()
        problems = list(e.errors) if isinstance(e, ValidationError) else [(e.field or "username", e.text)]
        return _experts_page(request, session, ctx, values=values, status=422,
                             errors=field_errors(problems, known=list(values)))
    session.commit()
    return RedirectResponse(f"/ui/admin/experts/{values['username']}?done=registered", status_code=303)


def _expert_page(request: Request, session: Session, ctx: PageContext, username: str, *, values: dict | None = None,
                 errors: dict | None = None, status: int = 200) -> Response:
    expert = get_expert(session, username=username)
    occs = occupations.list_occupations(session)
    session.rollback()
    return render(request, "admin_expert.html", {
        "expert": expert, "occupations": occs, "expert_roles": list(ExpertRole),
        "levels": list(Level), "values": values or {"years": "5"}, "errors": errors or {},
        "may_change": ctx.has(Role.BANK_MANAGER), **flash_of(request, FLASH)}, status_code=status)


@router.get("/ui/admin/experts/{username}")
def expert_page(request: Request, username: str, session: SessionDep, ctx: RegisterDep) -> Response:
    return _expert_page(request, session, ctx, username)


@router.post("/ui/admin/experts/{username}/scopes")
def grant(request: Request, username: str, session: SessionDep, ctx: RegisterDep, form: FormDep) -> Response:
    values = {k: str(form.get(k) or "").strip()[:100] for k in ("occupation_code", "role", "years",
                                                                 "certificate_level", "certificate_no")}
    errors: dict[str, list[str]] = {}
    if not values["years"].isdigit():
        errors["years"] = [problem_text(Message("Give the years worked in the occupation as a whole number."))]
    if values["role"] not in (r.value for r in ExpertRole):
        errors["role"] = [problem_text(Message("Choose writer or reviewer."))]
    if not values["occupation_code"]:
        errors["occupation_code"] = [problem_text(Message("Choose the occupation."))]
    if not errors:
        try:
            grant_scope(session, actor=ctx.actor, username=username, occupation_code=values["occupation_code"],
                        role=values["role"], years_in_occupation=int(values["years"]),
                        certificate_level=int(values["certificate_level"]) if values["certificate_level"] else None,
                        certificate_no=values["certificate_no"])
        except NotQualifiedError as e:
            session.rollback()
            errors = {"_form": [problem_text(x) for x in (e.head, *e.missing)]}
        except ItemBankError as e:
            session.rollback()
            errors = {e.field if e.field in values else "_form": [problem_text(e.head)]}
        else:
            session.commit()
            return RedirectResponse(f"/ui/admin/experts/{username}?done=granted", status_code=303)
    return _expert_page(request, session, ctx, username, values=values, errors=errors, status=422)


@router.post("/ui/admin/experts/{username}/scopes/{occupation_code}/{role}/revoke")
def revoke(request: Request, username: str, occupation_code: str, role: str, session: SessionDep, ctx: RegisterDep,
           form: FormDep) -> Response:
    reason = str(form.get("reason") or "").strip()[:2000]
    if not reason:
        return _expert_page(request, session, ctx, username, status=422, errors={
            "revoke_reason": [problem_text(Message("Say why the occupation is withdrawn."))]})
    revoke_scope(session, actor=ctx.actor, username=username, occupation_code=occupation_code, role=role,
                 reason=reason)
    session.commit()
    return RedirectResponse(f"/ui/admin/experts/{username}?done=revoked", status_code=303)


@router.post("/ui/admin/experts/{username}/suspension")
def suspension(request: Request, username: str, session: SessionDep, ctx: RegisterDep, form: FormDep) -> Response:
    reason = str(form.get("reason") or "").strip()[:2000]
    if form.get("action") == "reinstate":
        reinstate_expert(session, actor=ctx.actor, username=username, reason=reason)
        done = "reinstated"
    else:
        if not reason:
            return _expert_page(request, session, ctx, username, status=422, errors={
                "suspend_reason": [problem_text(Message("Say why the expert is suspended (附件11 第10条(三))."))]})
        suspend_expert(session, actor=ctx.actor, username=username, reason=reason)
        done = "suspended"
    session.commit()
    return RedirectResponse(f"/ui/admin/experts/{username}?done={done}", status_code=303)
