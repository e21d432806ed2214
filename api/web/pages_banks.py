"""Banks for bank managers (and the exam office and auditors, who read readiness): banks by
occupation and level against the minimums (附件11 第7条), one bank's counts per part, type and
element with shortfalls (and the leak incident that took it below, 附件16), its papers with
their Word and PDF downloads, the element table, Excel imports with the row-level error report
and the confirmation of a checked file, item statistics with flags and filters, and usage and
exposure (附件1 第15条)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Annotated

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from api.deps import SessionDep
from api.routes.banks import ELEMENT_READERS, READINESS_READERS
from api.routes.imports import MAX_UPLOAD
from api.schemas.common import bad_text_reason
from api.web.alerts import bank_alerts
from api.web.common import banks_for, page_router, scoped_bank
from api.web.render import pager, paging, problem_text, render
from api.web.session import FormDep, PageContext, page_role
from itembank import analysis_service, elements, imports, readiness, workflow
from itembank import assembly_service as asvc
from itembank.domain import ItemType, Part, Role
from itembank.errors import ItemBankError, NotFoundError
from itembank.i18n import Message
from itembank.imports import ImportMode
from itembank.pool import load_pool
from itembank.usage import sessions_used

router = page_router()
ReadinessDep = Annotated[PageContext, page_role(*READINESS_READERS)]
ElementsDep = Annotated[PageContext, page_role(*ELEMENT_READERS)]
ManagerDep = Annotated[PageContext, page_role(Role.BANK_MANAGER)]


@router.get("/ui/banks")
def banks(request: Request, session: SessionDep, ctx: ReadinessDep) -> Response:
    """Every bank the user's roles cover, grouped by occupation, with its readiness."""
    rules = readiness.list_minimum_rules(session)
    by_occupation: dict[str, list] = defaultdict(list)
    for bank in banks_for(session, ctx, *READINESS_READERS):
        by_occupation[bank.occupation.code].append(readiness.bank_readiness(session, bank=bank, rules=rules))
    session.rollback()
    return render(request, "banks.html", {"groups": list(by_occupation.values())})


@router.get("/ui/banks/{bank_id}")
def bank_page(request: Request, bank_id: int, session: SessionDep, ctx: ReadinessDep) -> Response:
    """Counts per part, item type and element against the minimums; shortfalls highlighted."""
    bank = scoped_bank(session, ctx, bank_id, *READINESS_READERS)
    report = readiness.bank_readiness(session, bank=bank)
    versions = {p: elements.element_table_versions(session, bank=bank, part=p) for p in Part}
    manager = ctx.has(Role.BANK_MANAGER, bank.occupation.code)
    papers, n_papers = asvc.list_papers(session, bank=bank, limit=10) if manager else ([], 0)
    alerts = bank_alerts(session, [report])
    session.rollback()
    return render(request, "bank_page.html", {"bank": bank, "report": report, "table_versions": versions,
                                              "manager": manager, "papers": papers, "n_papers": n_papers,
                                              "alerts": alerts})


@router.get("/ui/banks/{bank_id}/papers")
def bank_papers(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep) -> Response:
    """Every paper of the bank, newest first, with its documents in Word and PDF."""
    bank = scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)
    offset, limit = paging(request)
    papers, total = asvc.list_papers(session, bank=bank, offset=offset, limit=limit)
    session.rollback()
    return render(request, "papers.html", {"bank": bank, "papers": papers, "pager": pager(request, offset, limit, total)})


@router.get("/ui/banks/{bank_id}/elements/{part}")
def element_table(request: Request, bank_id: int, part: Part, session: SessionDep, ctx: ElementsDep,
                  version: int | None = None) -> Response:
    bank = scoped_bank(session, ctx, bank_id, *ELEMENT_READERS)
    try:
        table = elements.load_element_table(session, bank=bank, part=part, version=version)
    except NotFoundError:
        table = None
    versions = elements.element_table_versions(session, bank=bank, part=part)
    session.rollback()
    rows = []
    if table is not None:
        depth = {}
        for n in table.nodes:
            depth[n.code] = 0 if n.parent_code is None else depth.get(n.parent_code, 0) + 1
        leaves = {n.code for n in table.leaves()}
        rows = [(n, depth[n.code], n.code in leaves) for n in table.nodes]
    return render(request, "elements.html", {"bank": bank, "part": part, "table": table, "rows": rows,
                                             "versions": versions})


# --------------------------------------------------------------------------------------
# Imports


def _import_page(request: Request, bank, *, kind: str = "items", mode: str = "draft", batch_ref: str = "",  # type: ignore[no-untyped-def]
                 dry_run: bool = True, part: str = "", report=None, element_report=None, problems=(),  # type: ignore[no-untyped-def]
                 errors: dict | None = None, message: str = "", staged=None, status: int = 200) -> Response:  # type: ignore[no-untyped-def]
    return render(request, "import.html", {
        "bank": bank, "kind": kind, "mode": mode, "batch_ref": batch_ref, "dry_run": dry_run, "part": part,
        "report": report, "element_report": element_report, "problems": list(problems), "errors": errors or {},
        "message": message, "staged": staged}, status_code=status)


@router.get("/ui/banks/{bank_id}/import")
def import_form(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep) -> Response:
    bank = scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)
    session.rollback()
    return _import_page(request, bank)


def _run_import(session, ctx: PageContext, bank, *, kind: str, data: bytes, name: str, mode: str,  # type: ignore[no-untyped-def]
                batch_ref: str, part: str, dry_run: bool):
    if kind == "items":
        return imports.import_items(session, actor=ctx.actor, bank=bank, data=data, filename=name,
                                    mode=ImportMode(mode), batch_ref=batch_ref, dry_run=dry_run), None
    return None, imports.import_elements(session, actor=ctx.actor, bank=bank, data=data, filename=name,
                                         default_part=Part(part) if part else None, dry_run=dry_run)


def _refused(request: Request, session, bank, e: ItemBankError, keep: dict) -> Response:  # type: ignore[no-untyped-def]
    session.rollback()
    listed = getattr(e, "problems", None)
    return _import_page(request, bank, problems=listed or (), status=422, message=problem_text(e.head),
                        errors={} if listed else {"_form": [problem_text(x) for x in getattr(e, "errors", [e.head])]},
                        **keep)


@router.post("/ui/banks/{bank_id}/import")
def import_file(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep, form: FormDep) -> Response:
    """Items (.xlsx/.csv) or element tables (.xlsx), all or nothing (``itembank.imports``);
    a refused file lists every problem with its sheet, row and column. A file that passes a
    trial import is kept (``workflow.stage_import``) and offered for 确认导入 as it is."""
    bank = scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)
    kind = "elements" if form.get("kind") == "elements" else "items"
    mode = str(form.get("mode") or "draft")
    batch_ref = str(form.get("batch_ref") or "")[:200]
    dry_run = form.get("dry_run") == "1"
    part = str(form.get("part") or "")
    keep = {"kind": kind, "mode": mode, "batch_ref": batch_ref, "dry_run": dry_run, "part": part}
    upload = form.get("file")
    errors: dict[str, list[str]] = {}
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = [problem_text(Message("Choose the file to import."))]
    if mode not in (m.value for m in ImportMode):
        errors["mode"] = [problem_text(Message("Choose how the items are imported."))]
    if kind == "elements" and part and part not in (p.value for p in Part):
        errors["part"] = [problem_text(Message("Choose the part."))]
    if errors:
        return _import_page(request, bank, errors=errors, status=422, **keep)
    data = upload.file.read(MAX_UPLOAD + 1)  # type: ignore[union-attr]
    name = (upload.filename or "upload").strip()[-200:]  # type: ignore[union-attr]
    if len(data) > MAX_UPLOAD or bad_text_reason(name):
        return _import_page(request, bank, status=422, **keep, errors={"file": [problem_text(Message(
            "The file is larger than {mb} MB or its name is not valid.", mb=MAX_UPLOAD // 2**20))]})
    try:
        report, element_report = _run_import(session, ctx, bank, kind=kind, data=data, name=name, mode=mode,
                                             batch_ref=batch_ref, part=part, dry_run=dry_run)
    except ItemBankError as e:
        return _refused(request, session, bank, e, keep)
    staged = None
    if dry_run:
        session.rollback()
        staged = workflow.stage_import(session, bank=bank, username=ctx.user.username, kind=kind, filename=name,
                                       data=data, options={"mode": mode, "batch_ref": batch_ref, "part": part})
    session.commit()
    return _import_page(request, bank, report=report, element_report=element_report, staged=staged, **keep)


@router.post("/ui/banks/{bank_id}/import/confirm")
def import_confirm(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep, form: FormDep) -> Response:
    """确认导入: import exactly the file that was checked (same user, bank and hash), with the
    options it was checked with; checked again on the way in (the bank may have changed)."""
    bank = scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)
    staged = workflow.take_staged_import(session, token=str(form.get("token") or "")[:64], bank=bank,
                                         username=ctx.user.username, sha256=str(form.get("sha256") or "")[:64])
    o = staged.options
    keep = {"kind": staged.kind, "mode": str(o.get("mode") or "draft"), "batch_ref": str(o.get("batch_ref") or ""),
            "dry_run": False, "part": str(o.get("part") or "")}
    try:
        report, element_report = _run_import(session, ctx, bank, kind=staged.kind, data=staged.data,
                                             name=staged.filename, mode=keep["mode"], batch_ref=keep["batch_ref"],
                                             part=keep["part"], dry_run=False)
    except ItemBankError as e:
        return _refused(request, session, bank, e, keep)
    session.commit()
    return _import_page(request, bank, report=report, element_report=element_report, **keep)


TEMPLATES = {
    "items.xlsx": (imports.items_template, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "items.csv": (imports.items_csv_template, "text/csv; charset=utf-8"),
    "elements.xlsx": (imports.elements_template, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


@router.get("/ui/templates/{name}")
def template(name: str, ctx: ManagerDep) -> Response:
    """The empty import templates (as ``GET /templates/{name}`` of the API)."""
    if name not in TEMPLATES:
        raise NotFoundError(Message("There is no template {name}; there are {names}.", name=name,
                                    names=", ".join(TEMPLATES)), field="name")
    made, media = TEMPLATES[name]
    return Response(made(), media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --------------------------------------------------------------------------------------
# Statistics and usage


def _float(raw: str) -> float | None:
    try:
        return float(raw) if raw.strip() else None
    except ValueError:
        return None


@router.get("/ui/banks/{bank_id}/statistics")
def statistics(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep, part: Part = Part.THEORY,
               item_type: str = "", flagged: str = "", p_min: str = "", p_max: str = "", r_max: str = "",
               compromised: str = "", sort: str = "code") -> Response:
    """Accepted items with their classical and IRT statistics, the flags of their latest
    analysis (``analysis_service.items_needing_review``), filtered and sorted."""
    bank = scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)
    items = load_pool(session, bank=bank, part=part)
    flags = {r.code: r for r in analysis_service.items_needing_review(session, bank=bank, part=part)}
    session.rollback()
    lo, hi, rmax = _float(p_min), _float(p_max), _float(r_max)

    def keep(it) -> bool:  # type: ignore[no-untyped-def]
        p = it.classical.p_value if it.classical else None
        r = it.classical.discrimination if it.classical else None
        return ((not item_type or it.item_type.value == item_type)
                and (flagged != "1" or it.code in flags)
                and (compromised != "1" or it.usage.compromised)
                and (lo is None or (p is not None and p >= lo)) and (hi is None or (p is not None and p <= hi))
                and (rmax is None or (r is not None and r <= rmax)))

    rows = [it for it in items if keep(it)]
    sorters = {
        "code": lambda it: it.code,
        "p": lambda it: (it.classical.p_value if it.classical and it.classical.p_value is not None else 9),
        "r": lambda it: (it.classical.discrimination if it.classical and it.classical.discrimination is not None else 9),
        "uses": lambda it: -it.usage.count,
    }
    rows.sort(key=sorters.get(sort, sorters["code"]))
    offset, limit = paging(request, 50)
    with_p = [it.classical.p_value for it in items if it.classical and it.classical.p_value is not None]
    summary = {"n": len(items), "n_stats": len(with_p), "n_irt": sum(1 for it in items if it.irt is not None),
               "n_flagged": len(flags), "mean_p": sum(with_p) / len(with_p) if with_p else None,
               "n_miskey": sum(1 for r in flags.values() if r.suspected_miskey),
               "n_misfit": sum(1 for r in flags.values() if r.misfit)}
    return render(request, "statistics.html", {
        "bank": bank, "part": part, "rows": rows[offset:offset + limit], "flags": flags, "summary": summary,
        "flag_label": analysis_service.flag_label,
        "pager": pager(request, offset, limit, len(rows)), "types": [t for t in ItemType if t.part is part],
        "filters": {"item_type": item_type, "flagged": flagged, "p_min": p_min, "p_max": p_max, "r_max": r_max,
                    "compromised": compromised, "sort": sort},
        "bad_filters": [n for n, raw, v in (("p_min", p_min, lo), ("p_max", p_max, hi), ("r_max", r_max, rmax))
                        if raw.strip() and v is None]})


@router.get("/ui/banks/{bank_id}/usage")
def usage(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep, part: Part = Part.THEORY,
          min_uses: str = "", show: str = "") -> Response:
    """How often the accepted items were issued, over the bank's past sessions: the
    distribution, the most exposed items, and the compromised ones (附件1 第15条, 附件16)."""
    bank = scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)
    items = load_pool(session, bank=bank, part=part)
    past = sessions_used(session, bank=bank)
    session.rollback()
    n_sessions = len(past)
    distribution = sorted(Counter(it.usage.count for it in items).items())
    floor = _float(min_uses)
    rows = [it for it in items if (floor is None or it.usage.count >= floor)
            and (show != "compromised" or it.usage.compromised) and (show != "unused" or it.usage.count == 0)]
    rows.sort(key=lambda it: (-it.usage.count, it.code))
    offset, limit = paging(request, 50)
    last = past[0][1] if past else None
    return render(request, "usage.html", {
        "bank": bank, "part": part, "rows": rows[offset:offset + limit], "pager": pager(request, offset, limit, len(rows)),
        "sessions": past, "n_sessions": n_sessions, "distribution": distribution,
        "max_count": max((n for _, n in distribution), default=1), "n_items": len(items),
        "n_unused": sum(1 for it in items if it.usage.count == 0),
        "n_compromised": sum(1 for it in items if it.usage.compromised),
        "n_last": sum(1 for it in items if last is not None and it.usage.last_used_on == last),
        "filters": {"min_uses": min_uses, "show": show}})
