"""Assembly for bank managers: blueprints (list, derive the standard one, edit into a new
version), an assembly run started as a job on the queue (``api.jobs``) with its live progress
(stage, best objective, bound, gap, elapsed) polled every second and a 取消 button, and the
result: papers side by side, blueprint vs achieved, the solver report and the information /
characteristic curves (``exports.plot_curves``)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

import assembly as asm
from api.deps import SessionDep, check_scope
from api.jobs import Jobs
from api.web.common import page_router, scoped_bank
from api.web.render import field_errors, render, zh_problem
from api.web.session import FormDep, PageContext, page_role
from assembly.blueprint import OBJECTIVES
from exports import from_assembly, plot_curves
from itembank import assembly_service as svc
from itembank import i18n, ledger, occupations
from itembank.domain import BankRef, ItemType, Part, Role
from itembank.errors import BankNotReadyError, ValidationError

router = page_router()
ManagerDep = Annotated[PageContext, page_role(Role.BANK_MANAGER)]
def job_runner(request: Request) -> Jobs:
    """The app's jobs (``app.state.jobs``: the queue, opened when the app starts)."""
    return request.app.state.jobs


def _bank(session, ctx: PageContext, bank_id: int) -> BankRef:  # type: ignore[no-untyped-def]
    return scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)


# --------------------------------------------------------------------------------------
# Blueprints


@router.get("/ui/banks/{bank_id}/blueprints")
def blueprints(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep) -> Response:
    bank = _bank(session, ctx, bank_id)
    stored = svc.list_blueprints(session, bank=bank)
    session.rollback()
    return render(request, "blueprints.html", {"bank": bank, "blueprints": stored[::-1],
                                               "flash": "组卷方案已保存为新版本。" if request.query_params.get("done") else None})


@router.post("/ui/banks/{bank_id}/blueprints/derive")
def derive(bank_id: int, session: SessionDep, ctx: ManagerDep, form: FormDep) -> Response:
    """The house standard blueprint of the bank's level, from the current element table."""
    bank = _bank(session, ctx, bank_id)
    part = Part(str(form.get("part") or "theory")) if form.get("part") in ("theory", "practical") else Part.THEORY
    stored = svc.derive_standard_blueprint(session, bank=bank, part=part, actor=ctx.user.username)
    session.commit()
    return RedirectResponse(f"/ui/banks/{bank_id}/blueprints/{stored.id}?done=derived", status_code=303)  # type: ignore[union-attr]


def _stored_of(session, ctx: PageContext, bank_id: int, blueprint_id: int) -> tuple[BankRef, svc.StoredBlueprint]:  # type: ignore[no-untyped-def]
    bank = _bank(session, ctx, bank_id)
    stored = svc.get_blueprint(session, blueprint_id)
    if stored.bank_id != bank.id:
        raise ValidationError(f"blueprint {blueprint_id} belongs to another bank", field="blueprint_id")
    return bank, stored


def _form_of(bp: asm.Blueprint) -> dict[str, Any]:
    """The editable fields of a blueprint, as the form shows them (strings)."""
    def s(x: Any) -> str:
        return "" if x is None else (str(int(x)) if isinstance(x, float) and x.is_integer() else str(x))
    return {
        "name": bp.name, "note": bp.note,
        "types": [(r.item_type, s(r.count), s(r.points)) for r in bp.item_types],
        "elements": [(r.code, s(r.min), s(r.max), r.basis, r.importance or "", s(r.weight)) for r in bp.elements],
        "mean_rating_min": s(bp.difficulty.mean_rating_min), "mean_rating_max": s(bp.difficulty.mean_rating_max),
        "item_p_min": s(bp.difficulty.item_p_min), "item_p_max": s(bp.difficulty.item_p_max),
        "objective": bp.irt.objective, "thetas": ", ".join(s(t) for t in bp.irt.thetas),
        "exclude_recent_sessions": s(bp.exposure.exclude_recent_sessions), "max_uses": s(bp.exposure.max_uses),
        "usage_weight": s(bp.exposure.usage_weight), "max_overlap": s(bp.max_overlap),
        "time_min_s": s(bp.time_min_s), "time_max_s": s(bp.time_max_s),
    }


def _editor(request: Request, bank: BankRef, stored: svc.StoredBlueprint, values: dict[str, Any],
            errors: dict | None = None, status: int = 200) -> Response:
    return render(request, "blueprint_edit.html", {
        "bank": bank, "stored": stored, "bp": stored.blueprint, "v": values, "errors": errors or {},
        "types": [t for t in ItemType if t.part is stored.part], "objectives": OBJECTIVES,
        "flash": "已由认定要素细目表生成标准组卷方案。" if request.query_params.get("done") == "derived" else None},
        status_code=status)


@router.get("/ui/banks/{bank_id}/blueprints/{blueprint_id}")
def blueprint_edit(request: Request, bank_id: int, blueprint_id: int, session: SessionDep, ctx: ManagerDep) -> Response:
    bank, stored = _stored_of(session, ctx, bank_id, blueprint_id)
    session.rollback()
    return _editor(request, bank, stored, _form_of(stored.blueprint))


# form field <- blueprint path, for the first bad field that ``assembly.validate_blueprint`` names
_PATH = [
    (re.compile(r"^item_types\[(\d+)\]\.(count|points|item_type)"), lambda m: f"type_{m[2]}_{m[1]}"),
    (re.compile(r"^elements\[(\d+)\][^.]*\.(min|max|basis)"), lambda m: f"el_{m[2]}_{m[1]}"),
    (re.compile(r"^(difficulty|exposure|irt)\.(\w+)"), lambda m: m[2]),
    (re.compile(r"^(\w+)"), lambda m: m[1]),
]


def _field_of(message: str) -> tuple[str, str]:
    m = re.search(r"blueprint field (.+?): (.*)$", message, re.DOTALL)
    if not m:
        return "_form", message
    path, what = m.group(1), m.group(2)
    for pattern, name in _PATH:
        found = pattern.match(path)
        if found:
            return name(found), what
    return "_form", message


def _read_blueprint(form, base: asm.Blueprint) -> tuple[dict[str, Any], dict[str, Any], list[str]]:  # type: ignore[no-untyped-def]
    """The posted values (kept as typed), the blueprint dict they make, and input problems."""
    problems: list[str] = []

    def num(name: str, label: str, *, integer: bool = False, optional: bool = True) -> float | int | None:
        raw = str(form.get(name) or "").strip()
        if not raw:
            if not optional:
                problems.append(f"{name}: 请填写{label}")
            return None
        try:
            value = float(raw)
        except ValueError:
            problems.append(f"{name}: {label}“{raw}”不是数字")
            return None
        if integer:
            if not value.is_integer():
                problems.append(f"{name}: {label}须为整数")
                return None
            return int(value)
        return value

    n_types = min(int(form.get("n_types") or 0) if str(form.get("n_types") or "").isdigit() else 0, 12)
    if form.get("action") == "add_type":
        n_types += 1
    types, type_values = [], []
    for i in range(n_types):
        t = str(form.get(f"type_item_type_{i}") or "")
        count, points = num(f"type_count_{i}", "题量", integer=True), num(f"type_points_{i}", "分值")
        type_values.append((t, str(form.get(f"type_count_{i}") or ""), str(form.get(f"type_points_{i}") or "")))
        if t and (count is not None or form.get(f"type_count_{i}")):
            types.append({"item_type": t, "count": count, "points": points})
    elements, element_values = [], []
    base_rows = asm.blueprint_to_dict(base)["elements"]
    for i, rule in enumerate(base.elements):
        lo, hi = num(f"el_min_{i}", f"{rule.code} 下限"), num(f"el_max_{i}", f"{rule.code} 上限")
        basis = str(form.get(f"el_basis_{i}") or rule.basis)
        element_values.append((rule.code, str(form.get(f"el_min_{i}") or ""), str(form.get(f"el_max_{i}") or ""),
                               basis, rule.importance or "", "" if rule.weight is None else f"{rule.weight:g}"))
        elements.append({**base_rows[i], "min": lo if lo is not None else 0.0, "max": hi, "basis": basis})
    thetas_raw = str(form.get("thetas") or "")
    thetas = []
    for part in re.split(r"[,，\s]+", thetas_raw.strip()):
        if part:
            try:
                thetas.append(float(part))
            except ValueError:
                problems.append(f"thetas: “{part}”不是数字")
    spec = asm.blueprint_to_dict(base)
    objective = str(form.get("objective") or "none")
    spec.update(
        name=str(form.get("name") or "").strip()[:100], note=str(form.get("note") or "")[:2000], item_types=types,
        elements=elements, max_overlap=num("max_overlap", "最大重叠", integer=True) or 0,
        time_min_s=num("time_min_s", "最短用时"), time_max_s=num("time_max_s", "最长用时"),
    )
    spec["difficulty"] = {**spec["difficulty"], "mean_rating_min": num("mean_rating_min", "平均难度下限"),
                          "mean_rating_max": num("mean_rating_max", "平均难度上限"),
                          "item_p_min": num("item_p_min", "单题 p 下限"), "item_p_max": num("item_p_max", "单题 p 上限")}
    irt = dict(spec["irt"])
    if objective != irt["objective"] or thetas != list(irt["thetas"]):
        irt.update(objective=objective, thetas=thetas, targets=[] if objective in ("none", "maximin") else irt["targets"],
                   weights=[] if len(irt["weights"]) != len(thetas) else irt["weights"])
    spec["irt"] = irt
    spec["exposure"] = {"exclude_recent_sessions": num("exclude_recent_sessions", "排除近期场次", integer=True) or 0,
                        "max_uses": num("max_uses", "最多使用次数", integer=True),
                        "usage_weight": num("usage_weight", "使用次数惩罚") or 0.0}
    values = {k: str(form.get(k) or "") for k in (
        "name", "note", "mean_rating_min", "mean_rating_max", "item_p_min", "item_p_max", "objective", "thetas",
        "exclude_recent_sessions", "max_uses", "usage_weight", "max_overlap", "time_min_s", "time_max_s")}
    values.update(types=type_values, elements=element_values)
    if not values["name"]:
        problems.append("name: 请填写方案名称")
    return values, spec, problems


@router.post("/ui/banks/{bank_id}/blueprints/{blueprint_id}")
def blueprint_save(request: Request, bank_id: int, blueprint_id: int, session: SessionDep, ctx: ManagerDep,
                   form: FormDep) -> Response:
    """Save the edited blueprint as the next version of its name (``assembly_service.save_blueprint``
    validates it; the first bad field is shown next to its input)."""
    bank, stored = _stored_of(session, ctx, bank_id, blueprint_id)
    values, spec, problems = _read_blueprint(form, stored.blueprint)
    if form.get("action") == "add_type" or problems:
        session.rollback()
        errors = field_errors(problems, known=_known(values)) if problems else {}
        return _editor(request, bank, stored, values, errors, status=422 if problems else 200)
    try:
        saved = svc.save_blueprint(session, bank=bank, blueprint=spec, actor=ctx.user.username,
                                   element_table_version=stored.element_table_version)
    except ValidationError as e:
        session.rollback()
        name, what = _field_of(e.message)
        return _editor(request, bank, stored, values, {name: [zh_problem(what)]}, status=422)
    session.commit()
    return RedirectResponse(f"/ui/banks/{bank_id}/blueprints?done=saved#bp-{saved.id}", status_code=303)


def _known(values: dict[str, Any]) -> set[str]:
    names = set(values) - {"types", "elements"}
    names |= {f"type_{f}_{i}" for i in range(len(values["types"])) for f in ("count", "points", "item_type")}
    names |= {f"el_{f}_{i}" for i in range(len(values["elements"])) for f in ("min", "max", "basis")}
    return names


# --------------------------------------------------------------------------------------
# Runs


def _assemble_page(request: Request, session, bank: BankRef, values: dict[str, str] | None = None,  # type: ignore[no-untyped-def]
                   errors: dict | None = None, status: int = 200) -> Response:
    stored = svc.list_blueprints(session, bank=bank)
    runs, _ = svc.list_runs(session, bank=bank, limit=10)
    session.rollback()
    return render(request, "assemble.html", {
        "bank": bank, "blueprints": stored[::-1], "runs": runs, "solvers": asm.SOLVERS, "errors": errors or {},
        "v": values or {"n_forms": "2", "n_backups": "1", "solver": "cbc", "time_limit_s": "60", "seed": "0",
                        "blueprint_id": str(stored[-1].id) if stored else ""}}, status_code=status)


@router.get("/ui/banks/{bank_id}/assemble")
def assemble_form(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep) -> Response:
    return _assemble_page(request, session, _bank(session, ctx, bank_id))


RUN_FIELDS = ("blueprint_id", "n_forms", "n_backups", "solver", "time_limit_s", "seed", "practice")


@router.post("/ui/banks/{bank_id}/assemble")
def assemble(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep, form: FormDep) -> Response:
    """Queue the run (``assembly_service.request_run``: parameters and readiness checked) and
    hand it to the job runner; the run's page shows its progress."""
    bank = _bank(session, ctx, bank_id)
    values = {k: str(form.get(k) or "").strip()[:32] for k in RUN_FIELDS}
    problems: list[str] = []

    def integer(name: str, label: str) -> int:
        try:
            return int(values[name])
        except ValueError:
            problems.append(f"{name}: 请填写整数{label}")
            return 0

    blueprint_id = integer("blueprint_id", "（请选择组卷方案）")
    params = svc.RunParams(n_forms=integer("n_forms", "正式卷份数"), n_backups=integer("n_backups", "备用卷份数"),
                           solver=values["solver"], time_limit_s=float(integer("time_limit_s", "时限（秒）")),
                           seed=integer("seed", "随机种子"), practice=values["practice"] == "1")
    if not problems:
        try:
            stored = svc.get_blueprint(session, blueprint_id)
            if stored.bank_id != bank.id:
                raise ValidationError("blueprint_id: 该方案不属于本题库", field="blueprint_id")
            run = svc.request_run(session, bank=bank, blueprint=stored, params=params, actor=ctx.user.username)
        except BankNotReadyError as e:
            session.rollback()
            return _assemble_page(request, session, bank, values, status=409, errors={
                "_form": ["题库未达到最低题量，不得正式组卷（附件11 第7条）；可勾选“练习卷”。", *e.shortfalls]})
        except ValidationError as e:
            session.rollback()
            problems = list(e.errors)
        else:
            session.commit()
            job_runner(request).launch_assembly(run.id)
            return RedirectResponse(f"/ui/runs/{run.id}", status_code=303)
    return _assemble_page(request, session, bank, values, errors=field_errors(problems, known=RUN_FIELDS), status=422)


def _run_of(session, ctx: PageContext, run_id: int) -> tuple[BankRef, svc.RunView]:  # type: ignore[no-untyped-def]
    run = svc.get_run(session, run_id=run_id)
    bank = occupations.get_bank_by_id(session, run.bank_id)
    check_scope(ctx.actor, bank.occupation.code, Role.BANK_MANAGER)
    return bank, run


@router.get("/ui/runs/{run_id}")
def run_page(request: Request, run_id: int, session: SessionDep, ctx: ManagerDep) -> Response:
    bank, run = _run_of(session, ctx, run_id)
    papers = [svc.get_paper(session, code=c) for c in run.paper_codes]
    blueprint = svc.get_blueprint(session, run.blueprint_id)
    if papers:
        ledger.append(session, actor=ctx.user.username, action="papers.view", object_type="assembly_run",
                      object_id=run.id, details={"papers": list(run.paper_codes), "via": "web"})
    session.commit()
    return render(request, "run.html", {"bank": bank, "run": run, "papers": papers, "blueprint": blueprint,
                                        "checks": _check_rows(run, papers), "done": _done(run),
                                        "live": live_view(run)})


def _done(run: svc.RunView) -> bool:
    return run.done


@router.post("/ui/runs/{run_id}/cancel")
def cancel_run(request: Request, run_id: int, session: SessionDep, ctx: ManagerDep, form: FormDep) -> Response:
    """The 取消 button: stop a queued or running run (``assembly_service.request_cancel``)."""
    _run_of(session, ctx, run_id)
    run = svc.request_cancel(session, run_id=run_id, actor=ctx.user.username)
    session.commit()
    job_runner(request).cancel_assembly(run.id, run.queue_job_id)
    return RedirectResponse(f"/ui/runs/{run_id}", status_code=303)


def live_view(run: svc.RunView) -> dict[str, Any]:
    """The run's live progress for the page: the stage in words (the reader's locale) and the
    solver's figures."""
    from itembank.i18n import Message

    live = dict(run.live or {})
    text = live.get("stage_text")
    return {**live, "text": str(Message.from_data(text)) if text else ""}


# Chinese for the check rows' labels (assembly.check); others are shown as the checker wrote them
_CHECK_LABELS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^(\w+): number of items$"), lambda m: f"{_type_zh(m[1])}：题数"),
    (re.compile(r"^(\w+): points$"), lambda m: f"{_type_zh(m[1])}：分值"),
    (re.compile(r"^element (\S+): (items|points)$"), lambda m: f"鉴定点 {m[1]}：{'题数' if m[2] == 'items' else '分值'}"),
    (re.compile(r"^items listed twice$"), lambda m: "重复试题"),
    (re.compile(r"^items of a type not in the blueprint$"), lambda m: "方案外题型的试题"),
    (re.compile(r"^ineligible items$"), lambda m: "不可用试题（未验收、泄密或被排除）"),
    (re.compile(r"^item sets not taken whole$"), lambda m: "未整组选入的题组"),
    (re.compile(r"^enemy pairs in the paper$"), lambda m: "同卷互斥试题对"),
]


def _type_zh(value: str) -> str:
    try:
        return ItemType(value).zh
    except ValueError:
        return value


def _check_label(label: Any) -> str:
    if isinstance(label, dict):  # a stored message (assembly reports since issue 14)
        return i18n.render(label)
    for pattern, zh in _CHECK_LABELS:
        m = pattern.match(label)
        if m:
            return zh(m)
    return label


def _required(lo: float | None, hi: float | None) -> str:
    def n(x: float) -> str:
        return f"{x:g}"
    if lo is not None and hi is not None:
        return f"= {n(lo)}" if lo == hi else f"{n(lo)} – {n(hi)}"
    if hi is not None:
        return f"≤ {n(hi)}"
    return f"≥ {n(lo)}" if lo is not None else ""


def _check_rows(run: svc.RunView, papers: list[svc.PaperView]) -> list[dict[str, Any]]:
    """Blueprint vs achieved: one row per constraint, one cell per paper."""
    rows: dict[str, dict[str, Any]] = {}
    for k, view in enumerate(papers):
        for r in view.checks.get("rows", []):
            row = rows.setdefault(r["name"], {"label": _check_label(r.get("label") or r["name"]),
                                              "required": _required(r.get("lo"), r.get("hi")),
                                              "cells": [None] * len(papers)})
            row["cells"][k] = (r.get("achieved"), r.get("ok"))
            row["bad"] = row.get("bad", False) or r.get("ok") is False
    return list(rows.values())


@router.get("/ui/runs/{run_id}/progress")
def run_progress(request: Request, run_id: int, session: SessionDep, ctx: ManagerDep) -> Response:
    """The progress fragment, polled every second; a finished run reloads the page."""
    _, run = _run_of(session, ctx, run_id)
    session.rollback()
    response = render(request, "run_progress.html", {"run": run, "done": _done(run), "live": live_view(run)})
    if _done(run):
        response.headers["HX-Refresh"] = "true"
    return response


@router.get("/ui/runs/{run_id}/curves.png")
def run_curves(request: Request, run_id: int, session: SessionDep, ctx: ManagerDep) -> Response:
    bank, run = _run_of(session, ctx, run_id)
    papers = [svc.get_paper(session, code=c) for c in run.paper_codes]
    if not papers:
        raise ValidationError("this run made no papers: there are no curves to draw", field="run_id")
    ledger.append(session, actor=ctx.user.username, action="assembly_run.curves", object_type="assembly_run",
                  object_id=run.id, details={"format": "png", "via": "web"})
    session.commit()
    data = from_assembly.report_data(run, papers, title=f"{bank.label} 组卷任务 #{run.id}")
    return Response(plot_curves(data, fmt="png", dpi=110), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=3600"})
