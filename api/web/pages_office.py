"""The exam office (考务): exam plans and their sessions, requesting sealed papers, the
two-person opening within the session's window (the button says from when), downloads (each
one ledgered), incidents with the backup activated (附件12, 附件16). Every rule is
``lifecycle.sealing``'s and ``lifecycle.sessions``'; the exam office never sees paper content
before two of its users have confirmed the opening.

In a session its papers are labelled A, B … and its backups 备用1, 备用2 … in the order they
were sealed for it (a paper's own label counts the bank's papers, not the session's)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from api.deps import LifecycleSettingsDep, SessionDep, check_scope
from api.responses import DOCX
from api.web.alerts import alerts_for
from api.web.common import banks_for, page_router
from api.web.render import field_errors, flash_of, pager, paging, problem_text, render
from api.web.session import FormDep, PageContext, page_role
from itembank import i18n, ledger, occupations
from itembank import assembly_service as asvc
from itembank.domain import Part, Role
from itembank.errors import ConflictError, ItemBankError, NotFoundError, ValidationError
from itembank.i18n import Message, N_, _
from itembank.orm_sealing import IncidentKind, SealRole, SealState
from lifecycle import sealing
from lifecycle import sessions as exam_sessions

router = page_router()
ReaderDep = Annotated[PageContext, page_role(Role.EXAM_OFFICE, Role.AUDITOR)]
OfficeDep = Annotated[PageContext, page_role(Role.EXAM_OFFICE)]
FLASH = {
    "sealed": N_("The papers were sealed for this session (the use of the paper is recorded)."),
    "confirmed": N_("Your confirmation is recorded; a second exam-office user must confirm too (two-person rule)."),
    "opened": N_("Two people confirmed: the paper is open and its documents can be downloaded."),
    "plan": N_("The exam plan was made."), "session": N_("The exam session was made."),
}


def _session_of(session, ctx: PageContext, code: str, *roles: Role):  # type: ignore[no-untyped-def]
    s = exam_sessions.get_exam_session(session, code=code)
    check_scope(ctx.actor, s.occupation.code, *(roles or (Role.EXAM_OFFICE,)))
    return s


def _covers(ctx: PageContext, occupation_code: str) -> bool:
    """Does the reader hold exam office or auditor for this occupation (a grant per role)."""
    return any(ctx.actor.has(r, occupation_code=occupation_code) for r in (Role.EXAM_OFFICE, Role.AUDITOR))


def session_labels(sealed: list[sealing.SealedPaperView]) -> dict[str, str]:
    """A, B … for the session's papers and 备用1, 备用2 … for its backups, in sealing order."""
    labels: dict[str, str] = {}
    n_main = n_backup = 0
    for p in sealed:
        if p.role is SealRole.MAIN:
            labels[p.paper_code] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n_main % 26]
            n_main += 1
        else:
            n_backup += 1
            labels[p.paper_code] = _("Backup {n}", n=n_backup)
    return labels


def seal_state(sealed: list[sealing.SealedPaperView], incidents: list) -> tuple[str, str]:  # type: ignore[type-arg]
    """The session's state for the list: (css state, words)."""
    live = [p for p in sealed if p.state in (SealState.SEALED, SealState.OPENED)]
    if not sealed:
        return "planned", _("No sealed paper yet")
    if any(p.state is SealState.OPENED for p in live):
        state = ("opened", _("Opened"))
    elif live:
        state = ("sealed", _("Sealed, waiting to be opened"))
    else:
        state = ("void", _("No usable paper"))
    if incidents:
        return state[0], _("{state}; {n} incidents", state=state[1], n=len(incidents))
    return state


@router.get("/ui/sessions")
def sessions_list(request: Request, session: SessionDep, ctx: ReaderDep, settings: LifecycleSettingsDep,
                  part: str = "", q: str = "", plan: str = "") -> Response:
    found = [s for s in exam_sessions.list_exam_sessions(session) if _covers(ctx, s.occupation.code)]
    if part in (p.value for p in Part):
        found = [s for s in found if s.part.value == part]
    if plan.strip():
        found = [s for s in found if s.plan_code == plan.strip()]
    if q.strip():
        found = [s for s in found if q.strip() in s.code or q.strip() in s.plan_code or q.strip() in s.place]
    found.sort(key=lambda s: exam_sessions.aware(s.starts_at), reverse=True)
    offset, limit = paging(request)
    shown = found[offset:offset + limit]
    by_session = defaultdict(list)
    for inc in sealing.list_incidents(session):
        by_session[inc.exam_session_code].append(inc)
    states = {s.code: seal_state(sealing.sealed_papers_of(session, exam_session_code=s.code, settings=settings),
                                 by_session[s.code]) for s in shown}
    session.rollback()
    return render(request, "sessions.html", {"rows": shown, "part": part, "q": q, "plan": plan, "states": states,
                                             "pager": pager(request, offset, limit, len(found))})


def _opening(p: sealing.SealedPaperView, now: datetime) -> dict[str, Any]:
    """Whether the paper may be confirmed now, and the words for the button when not."""
    if p.state is not SealState.SEALED:
        return {"open_now": False, "why": ""}
    opens, closes = exam_sessions.aware(p.window_opens_at), exam_sessions.aware(p.window_closes_at)
    if now < opens:
        return {"open_now": False, "why": _("From {at} it can be opened", at=opens)}
    if now > closes:
        return {"open_now": False, "why": _("The opening window closed at {at}; the paper stays sealed", at=closes)}
    return {"open_now": True, "why": ""}


def _session_context(session, ctx: PageContext, code: str, settings) -> dict:  # type: ignore[no-untyped-def]
    s = _session_of(session, ctx, code, Role.EXAM_OFFICE, Role.AUDITOR)
    sealed = sealing.sealed_papers_of(session, exam_session_code=code, settings=settings)
    incidents = sealing.list_incidents(session, exam_session_code=code)
    office = ctx.has(Role.EXAM_OFFICE, s.occupation.code)
    me = ctx.user.username
    now = datetime.now(UTC)
    live_main = any(p.role is SealRole.MAIN and p.state in (SealState.SEALED, SealState.OPENED) for p in sealed)
    labels = session_labels(sealed)
    return {"s": s, "sealed": sealed, "incidents": [_incident_outcome(session, i, labels) for i in reversed(incidents)],
            "office": office, "me": me, "labels": labels, "opening": {p.paper_code: _opening(p, now) for p in sealed},
            "may_seal": office and not live_main, "openable": [p for p in sealed if p.state is SealState.SEALED],
            "in_use": [p for p in sealed if p.state in (SealState.SEALED, SealState.OPENED)],
            "kinds": list(IncidentKind), "errors": {}, "values": {}}


@router.get("/ui/sessions/{code}")
def session_page(request: Request, code: str, session: SessionDep, ctx: ReaderDep,
                 settings: LifecycleSettingsDep) -> Response:
    context = _session_context(session, ctx, code, settings)
    session.rollback()
    return render(request, "session_page.html", {**context, **flash_of(request, FLASH),
                                                 "reported": request.query_params.get("reported", "")})


def _again(request: Request, session, ctx: PageContext, code: str, settings, errors: dict, values: dict,  # type: ignore[no-untyped-def]
           status: int = 422, **extra) -> Response:
    context = _session_context(session, ctx, code, settings)
    session.rollback()
    return render(request, "session_page.html", {**context, "errors": errors, "values": values, **extra},
                  status_code=status)


@router.post("/ui/sessions/{code}/seal")
def seal(request: Request, code: str, session: SessionDep, ctx: OfficeDep, settings: LifecycleSettingsDep,
         form: FormDep) -> Response:
    """Issue a paper and its backup(s) to the session, sealed (assembled papers of the bank
    first; else assembled now with the bank's latest blueprint)."""
    _session_of(session, ctx, code)
    raw = str(form.get("n_backups") or "1")
    if not raw.isdigit() or not 0 <= int(raw) <= 5:
        return _again(request, session, ctx, code, settings,
                      {"n_backups": [problem_text(Message("Give a whole number from 0 to 5."))]}, {"n_backups": raw})
    try:
        sealing.seal_papers(session, exam_session_code=code, actor=ctx.actor, settings=settings, n_backups=int(raw))
    except ValidationError as e:
        session.rollback()
        return _again(request, session, ctx, code, settings, {e.field or "n_backups": [problem_text(e.head)]},
                      {"n_backups": raw})
    session.commit()
    return RedirectResponse(f"/ui/sessions/{quote(code)}?done=sealed", status_code=303)


@router.post("/ui/sessions/{code}/papers/{paper_code}/confirm")
def confirm(code: str, paper_code: str, session: SessionDep, ctx: OfficeDep, settings: LifecycleSettingsDep,
            form: FormDep) -> Response:
    """One exam-office user's confirmation; the second, different user's opens the paper."""
    view = sealing.confirm_opening(session, exam_session_code=code, paper_code=paper_code, actor=ctx.actor,
                                   settings=settings)
    session.commit()
    done = "opened" if view.state is SealState.OPENED else "confirmed"
    return RedirectResponse(f"/ui/sessions/{quote(code)}?done={done}#paper-{paper_code}", status_code=303)


@router.get("/ui/sessions/{code}/papers/{paper_code}/documents/{name}")
def download(code: str, paper_code: str, name: str, session: SessionDep, ctx: OfficeDep,
             settings: LifecycleSettingsDep) -> Response:
    """A document of an opened paper, decrypted and checked against its manifest; ledgered."""
    try:
        content, info = sealing.open_document(session, exam_session_code=code, paper_code=paper_code, name=name,
                                              actor=ctx.actor, settings=settings)
    except sealing.TamperedError:
        session.commit()  # the failed attempt stays in the ledger; nothing is released (409)
        raise
    session.commit()
    return Response(content, media_type=DOCX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(info.name)}", "Cache-Control": "no-store"})


# --------------------------------------------------------------------------------------
# Incidents: confirm first, then say exactly what was done and what to do


def _consequences(session, sealed: list[sealing.SealedPaperView], paper_code: str, kind: IncidentKind,  # type: ignore[no-untyped-def]
                  labels: dict[str, str]) -> list[str]:
    """What registering the incident will do, in words, before anything is done."""
    paper = next(p for p in sealed if p.paper_code == paper_code)
    standby = next((p for p in sealed if p.state is SealState.STANDBY and p.paper_code != paper_code), None)
    out = []
    name = labels.get(paper_code, paper.form_label) + " (" + paper_code + ")"
    if kind is IncidentKind.LEAK:
        n_items = len(asvc.get_paper(session, code=paper_code).paper.items)  # a count, no content shown
        out.append(_("Paper {paper} becomes void in every session it was sealed for.", paper=name))
        out.append(_("Its {n} items are marked as leaked and will never be used again (附件16); the bank may fall "
                     "below its minimum.", n=n_items))
    else:
        out.append(_("This session's copy of paper {paper} becomes void.", paper=name))
    if paper.role is SealRole.MAIN or kind is IncidentKind.LEAK:
        if standby is not None:
            backup = labels.get(standby.paper_code, "") + " (" + standby.paper_code + ")"
            out.append(_("Backup paper {paper} is activated for this session; two exam-office users then confirm "
                         "its opening.", paper=backup))
        else:
            out.append(_("This session has no backup paper left to activate."))
    if kind is IncidentKind.LEAK:
        out.append(_("A new backup paper without the leaked items is assembled and sealed if the bank allows it; "
                     "you will be told whether it could be."))
    out.append(_("This cannot be undone."))
    return out


@router.post("/ui/sessions/{code}/incidents")
def incident(request: Request, code: str, session: SessionDep, ctx: OfficeDep, settings: LifecycleSettingsDep,
             form: FormDep) -> Response:
    """Report an incident (附件16): first the consequences are shown for confirmation; then a
    leak voids the paper wherever it went, flags its items compromised, activates the backup
    and tries to seal a replacement; damage or loss voids this copy and activates the backup.
    The page then says what was done, and what was not."""
    values = {k: str(form.get(k) or "")[:4000] for k in ("paper_code", "kind", "description")}
    errors: dict[str, list[str]] = {}
    if not values["paper_code"]:
        errors["paper_code"] = [problem_text(Message("Choose the paper concerned."))]
    if values["kind"] not in (k.value for k in IncidentKind):
        errors["kind"] = [problem_text(Message("Choose what happened."))]
    if not values["description"].strip():
        errors["description"] = [problem_text(Message("Describe what happened (附件16: first report within 10 "
                                                      "minutes)."))]
    if errors:
        return _again(request, session, ctx, code, settings, errors, values)
    _session_of(session, ctx, code)
    if form.get("confirmed") != "1":
        sealed = sealing.sealed_papers_of(session, exam_session_code=code, settings=settings)
        if values["paper_code"] not in {p.paper_code for p in sealed}:
            return _again(request, session, ctx, code, settings,
                          {"paper_code": [problem_text(Message("Choose the paper concerned."))]}, values)
        consequences = _consequences(session, sealed, values["paper_code"], IncidentKind(values["kind"]),
                                     session_labels(sealed))
        return _again(request, session, ctx, code, settings, {}, values, status=200, confirm=consequences)
    try:
        inc = sealing.report_incident(session, exam_session_code=code, paper_code=values["paper_code"],
                                      kind=values["kind"], description=values["description"], actor=ctx.actor,
                                      settings=settings)
    except (ValidationError, ConflictError) as e:
        session.rollback()
        return _again(request, session, ctx, code, settings,
                      {e.field if e.field in ("paper_code", "kind") else "description": [problem_text(e.head)]}, values)
    session.commit()
    return RedirectResponse(f"/ui/sessions/{quote(code)}?reported={quote(inc.code)}#incident-{inc.code}",
                            status_code=303)


def _replacement_failure(session, paper_code: str) -> str:  # type: ignore[no-untyped-def]
    """Why no replacement backup was made for a leaked paper: the re-assembly run's own words."""
    found = ledger.query_ledger(session, object_type="paper", object_id=paper_code,
                                action="assembly.leak_replacement", limit=1, newest_first=True)
    if not found:
        return ""
    try:
        run = asvc.get_run(session, run_id=int(found[0].details.get("run") or 0))
    except (NotFoundError, ValueError):
        return ""
    # the first line of the solver's diagnosis says what the bank lacks; the run page has the rest
    diagnosis = run.report.get("diagnosis") or []
    first = diagnosis[0] if diagnosis else run.message
    if isinstance(first, dict):
        first = i18n.Message.from_data(first)
    return problem_text(first) if first else ""


def _incident_outcome(session, inc: sealing.IncidentView, labels: dict[str, str]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What the incident did, line by line, and what the exam office must do next."""
    a = inc.actions or {}
    done, todo = [], []
    if a.get("voided"):
        done.append(_("Paper {paper} is void in: {sessions}.", paper=inc.paper_code,
                      sessions="、".join(str(x) for x in a["voided"])))
    if a.get("compromised_items"):
        done.append(_("{n} items were marked as leaked; they will never be used again.", n=a["compromised_items"]))
    backup = a.get("activated_backup")
    if backup:
        done.append(_("Backup paper {label} ({paper}) is activated for this session.",
                      label=labels.get(backup, ""), paper=backup))
        todo.append(_("Two exam-office users confirm the opening of {label} in its window.",
                      label=labels.get(backup, backup)))
    elif inc.kind is IncidentKind.LEAK or a.get("voided"):
        done.append(_("No backup paper could be activated: this session has none left."))
        todo.append(_("Request new sealed papers for this session (“Request sealed papers” above), or move the "
                      "session; tell the bank manager."))
    if inc.kind is IncidentKind.LEAK:
        if a.get("replacement"):
            done.append(_("A replacement backup paper {paper} without the leaked items was assembled and sealed for "
                          "this session.", paper=a["replacement"]))
        else:
            why = _replacement_failure(session, inc.paper_code)
            done.append(_("No replacement backup paper was made: {why}", why=why or _("the bank could not provide one")))
            todo.append(_("Ask the bank manager to add and accept items (the bank may now be below its minimum), "
                          "then request a backup paper for this session."))
    return {"inc": inc, "done": done, "todo": todo}


# --------------------------------------------------------------------------------------
# Exam plans and their sessions


@router.get("/ui/plans")
def plans(request: Request, session: SessionDep, ctx: ReaderDep) -> Response:
    found = [p for p in exam_sessions.list_exam_plans(session) if _covers(ctx, p.occupation.code)]
    counts: dict[str, int] = defaultdict(int)
    for s in exam_sessions.list_exam_sessions(session):
        counts[s.plan_code] += 1
    offset, limit = paging(request)
    banks = banks_for(session, ctx, Role.EXAM_OFFICE)
    session.rollback()
    return render(request, "plans.html", {"rows": found[offset:offset + limit], "counts": counts, "banks": banks,
                                          "pager": pager(request, offset, limit, len(found)), "values": {},
                                          "errors": {}, **flash_of(request, FLASH)})


@router.post("/ui/plans")
def create_plan(request: Request, session: SessionDep, ctx: OfficeDep, form: FormDep) -> Response:
    values = {k: str(form.get(k) or "").strip()[:200] for k in ("code", "bank_id", "title")}
    errors: dict[str, list[str]] = {}
    bank = None
    if not values["code"]:
        errors["code"] = [problem_text(Message("Give the plan a code."))]
    try:
        bank = occupations.get_bank_by_id(session, int(values["bank_id"]))
        check_scope(ctx.actor, bank.occupation.code, Role.EXAM_OFFICE)
    except (ValueError, NotFoundError):
        errors["bank_id"] = [problem_text(Message("Choose the bank (occupation and level)."))]
    if not errors and bank is not None:
        try:
            exam_sessions.create_exam_plan(session, code=values["code"], occupation_code=bank.occupation.code,
                                           work_type=bank.occupation.work_type, level=bank.level,
                                           actor=ctx.user.username, title=values["title"])
        except ItemBankError as e:
            session.rollback()
            errors = field_errors([*getattr(e, "errors", [])] if isinstance(e, ValidationError) else
                                  [(e.field or "code", e.text)], known=("code", "bank_id", "title"))
        else:
            session.commit()
            return RedirectResponse(f"/ui/plans/{quote(values['code'])}?done=plan", status_code=303)
    found = [p for p in exam_sessions.list_exam_plans(session) if _covers(ctx, p.occupation.code)]
    offset, limit = paging(request)
    banks = banks_for(session, ctx, Role.EXAM_OFFICE)
    session.rollback()
    return render(request, "plans.html", {"rows": found[offset:offset + limit], "counts": defaultdict(int),
                                          "banks": banks, "pager": pager(request, offset, limit, len(found)),
                                          "values": values, "errors": errors}, status_code=422)


def _plan_page(request: Request, session, ctx: PageContext, code: str, settings, *, values: dict | None = None,  # type: ignore[no-untyped-def]
               errors: dict | None = None, status: int = 200) -> Response:
    plan = exam_sessions.get_exam_plan(session, code=code)
    check_scope(ctx.actor, plan.occupation.code, Role.EXAM_OFFICE, Role.AUDITOR)
    rows = exam_sessions.list_exam_sessions(session, plan_code=code)
    by_session = defaultdict(list)
    for inc in sealing.list_incidents(session):
        by_session[inc.exam_session_code].append(inc)
    states = {s.code: seal_state(sealing.sealed_papers_of(session, exam_session_code=s.code, settings=settings),
                                 by_session[s.code]) for s in rows}
    bank = occupations.get_bank_by_id(session, plan.bank_id)
    alerts = alerts_for(session, [bank])
    session.rollback()
    parts = [p for p in Part if p is not Part.DEFENCE or plan.level.has_defence]
    return render(request, "plan_page.html", {
        "plan": plan, "rows": rows, "states": states, "parts": parts, "alerts": alerts,
        "office": ctx.has(Role.EXAM_OFFICE, plan.occupation.code), "values": values or {"part": "theory"},
        "errors": errors or {}, **flash_of(request, FLASH)}, status_code=status)


@router.get("/ui/plans/{code}")
def plan_page(request: Request, code: str, session: SessionDep, ctx: ReaderDep, settings: LifecycleSettingsDep) -> Response:
    return _plan_page(request, session, ctx, code, settings)


def _local(raw: str, name: str, errors: dict[str, list[str]]) -> datetime | None:
    """A ``datetime-local`` input, in the centre's time zone."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        errors[name] = [problem_text(Message("Give the date and time, e.g. 2026-12-06 09:00."))]
        return None
    zone: ZoneInfo = i18n.time_zone()
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


@router.post("/ui/plans/{code}/sessions")
def create_session(request: Request, code: str, session: SessionDep, ctx: OfficeDep, settings: LifecycleSettingsDep,
                   form: FormDep) -> Response:
    plan = exam_sessions.get_exam_plan(session, code=code)
    check_scope(ctx.actor, plan.occupation.code, Role.EXAM_OFFICE)
    values = {k: str(form.get(k) or "").strip()[:200] for k in ("code", "part", "starts_at", "ends_at", "place")}
    errors: dict[str, list[str]] = {}
    if not values["code"]:
        errors["code"] = [problem_text(Message("Give the session a code."))]
    if values["part"] not in (p.value for p in Part):
        errors["part"] = [problem_text(Message("Choose the part."))]
    starts = _local(values["starts_at"], "starts_at", errors)
    ends = _local(values["ends_at"], "ends_at", errors)
    if starts and ends and ends <= starts:
        errors["ends_at"] = [problem_text(Message("The session must end after it starts."))]
    if not values["place"]:
        errors["place"] = [problem_text(Message("Give the place."))]
    if not errors:
        try:
            exam_sessions.create_exam_session(session, plan_code=code, code=values["code"], part=values["part"],
                                              starts_at=starts, ends_at=ends, place=values["place"],  # type: ignore[arg-type]
                                              actor=ctx.user.username)
        except ItemBankError as e:
            session.rollback()
            errors = field_errors([*e.errors] if isinstance(e, ValidationError) else [(e.field or "code", e.text)],
                                  known=("code", "part", "starts_at", "ends_at", "place"))
        else:
            session.commit()
            return RedirectResponse(f"/ui/plans/{quote(code)}?done=session", status_code=303)
    session.rollback()
    return _plan_page(request, session, ctx, code, settings, values=values, errors=errors, status=422)
