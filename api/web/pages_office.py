"""The exam office (考务): sessions, requesting sealed papers, the two-person opening within the
session's window, downloads (each one ledgered), incidents with the backup activated
(附件12, 附件16). Every rule is ``lifecycle.sealing``'s; the exam office never sees paper
content before two of its users have confirmed the opening."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from api.deps import LifecycleSettingsDep, SessionDep, check_scope
from api.responses import DOCX
from api.web.common import page_router
from api.web.render import pager, paging, render
from api.web.session import FormDep, PageContext, page_role
from itembank.domain import Part, Role
from itembank.errors import ValidationError
from itembank.orm_sealing import IncidentKind, SealState
from lifecycle import sealing
from lifecycle import sessions as exam_sessions

router = page_router()
ReaderDep = Annotated[PageContext, page_role(Role.EXAM_OFFICE, Role.AUDITOR)]
OfficeDep = Annotated[PageContext, page_role(Role.EXAM_OFFICE)]
FLASH = {
    "sealed": "试卷已密封并分发到本场次（正式卷的使用已记录）。", "confirmed": "已确认启封；还需另一名考务人员确认（双人启封）。",
    "opened": "两人已确认：试卷已启封，可以下载。", "incident": "事件已登记并已处置。",
}


def _session_of(session, ctx: PageContext, code: str, *roles: Role):  # type: ignore[no-untyped-def]
    s = exam_sessions.get_exam_session(session, code=code)
    check_scope(ctx.actor, s.occupation.code, *(roles or (Role.EXAM_OFFICE,)))
    return s


@router.get("/ui/sessions")
def sessions_list(request: Request, session: SessionDep, ctx: ReaderDep, part: str = "", q: str = "") -> Response:
    found = [s for s in exam_sessions.list_exam_sessions(session)
             if any(ctx.actor.has(r, occupation_code=s.occupation.code) for r in (Role.EXAM_OFFICE, Role.AUDITOR))]
    if part in (p.value for p in Part):
        found = [s for s in found if s.part.value == part]
    if q.strip():
        found = [s for s in found if q.strip() in s.code or q.strip() in s.plan_code or q.strip() in s.place]
    found.sort(key=lambda s: exam_sessions.aware(s.starts_at), reverse=True)
    offset, limit = paging(request)
    session.rollback()
    return render(request, "sessions.html", {"rows": found[offset:offset + limit], "part": part, "q": q,
                                             "pager": pager(request, offset, limit, len(found))})


def _session_context(session, ctx: PageContext, code: str, settings) -> dict:  # type: ignore[no-untyped-def]
    s = _session_of(session, ctx, code, Role.EXAM_OFFICE, Role.AUDITOR)
    sealed = sealing.sealed_papers_of(session, exam_session_code=code, settings=settings)
    incidents = sealing.list_incidents(session, exam_session_code=code)
    office = ctx.has(Role.EXAM_OFFICE, s.occupation.code)
    me = ctx.user.username
    live_main = any(p.role.value == "main" and p.state in (SealState.SEALED, SealState.OPENED) for p in sealed)
    return {"s": s, "sealed": sealed, "incidents": incidents, "office": office, "me": me,
            "may_seal": office and not live_main, "openable": [p for p in sealed if p.state is SealState.SEALED],
            "in_use": [p for p in sealed if p.state in (SealState.SEALED, SealState.OPENED)],
            "kinds": list(IncidentKind), "errors": {}, "values": {}}


@router.get("/ui/sessions/{code}")
def session_page(request: Request, code: str, session: SessionDep, ctx: ReaderDep,
                 settings: LifecycleSettingsDep) -> Response:
    context = _session_context(session, ctx, code, settings)
    session.rollback()
    return render(request, "session_page.html", {**context, "flash": FLASH.get(request.query_params.get("done", ""))})


def _again(request: Request, session, ctx: PageContext, code: str, settings, errors: dict, values: dict,  # type: ignore[no-untyped-def]
           status: int = 422) -> Response:
    context = _session_context(session, ctx, code, settings)
    session.rollback()
    return render(request, "session_page.html", {**context, "errors": errors, "values": values}, status_code=status)


@router.post("/ui/sessions/{code}/seal")
def seal(request: Request, code: str, session: SessionDep, ctx: OfficeDep, settings: LifecycleSettingsDep,
         form: FormDep) -> Response:
    """Issue a paper and its backup(s) to the session, sealed (assembled papers of the bank
    first; else assembled now with the bank's latest blueprint)."""
    _session_of(session, ctx, code)
    raw = str(form.get("n_backups") or "1")
    if not raw.isdigit():
        return _again(request, session, ctx, code, settings, {"n_backups": ["请填写 0–5 的整数"]}, {"n_backups": raw})
    try:
        sealing.seal_papers(session, exam_session_code=code, actor=ctx.actor, settings=settings, n_backups=int(raw))
    except ValidationError as e:
        session.rollback()
        return _again(request, session, ctx, code, settings, {e.field or "n_backups": [e.message]}, {"n_backups": raw})
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


@router.post("/ui/sessions/{code}/incidents")
def incident(request: Request, code: str, session: SessionDep, ctx: OfficeDep, settings: LifecycleSettingsDep,
             form: FormDep) -> Response:
    """Report an incident (附件16): a leak voids the paper wherever it went, flags its items
    compromised, activates the backup and seals a replacement; damage or loss voids this copy
    and activates the backup."""
    values = {k: str(form.get(k) or "")[:4000] for k in ("paper_code", "kind", "description")}
    errors: dict[str, list[str]] = {}
    if not values["paper_code"]:
        errors["paper_code"] = ["请选择出事的试卷"]
    if values["kind"] not in (k.value for k in IncidentKind):
        errors["kind"] = ["请选择事件类型"]
    if not values["description"].strip():
        errors["description"] = ["请描述发生了什么（附件16：10 分钟内首报）"]
    if errors:
        return _again(request, session, ctx, code, settings, errors, values)
    _session_of(session, ctx, code)
    try:
        sealing.report_incident(session, exam_session_code=code, paper_code=values["paper_code"],
                                kind=values["kind"], description=values["description"], actor=ctx.actor,
                                settings=settings)
    except ValidationError as e:
        session.rollback()
        return _again(request, session, ctx, code, settings, {e.field or "description": [e.message]}, values)
    session.commit()
    return RedirectResponse(f"/ui/sessions/{quote(code)}?done=incident#incidents", status_code=303)
