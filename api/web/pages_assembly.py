"""Assembly for bank managers: blueprints (list, derive the standard one, edit into a new
version), an assembly run started as a job on the queue (``api.jobs``) with its live progress
(stage, best objective, bound, gap, elapsed) polled every second and a 取消 button, and the
result: papers side by side, blueprint vs achieved, the solver report and the information /
characteristic curves (``exports.plot_curves``)."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

import assembly as asm
from api.deps import SessionDep, SettingsDep, check_scope
from api.jobs import Jobs
from api.web.common import page_router, scoped_bank
from api.web.render import field_errors, flash_of, label, problem_text, render
from api.web.session import FormDep, PageContext, page_role
from assembly.blueprint import OBJECTIVES
from exports import from_assembly, plot_curves
from exports.pdf import docx_to_pdf
from exports.service import DOCX_MEDIA_TYPE, DocumentKind, export_assembly_report, export_paper
from itembank import assembly_service as svc
from itembank import i18n, ledger, occupations
from itembank.domain import BankRef, ItemType, Part, Role
from itembank.elements import load_element_table
from itembank.errors import BankNotReadyError, NotFoundError, ValidationError
from itembank.i18n import Message, N_, _

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
                                               **flash_of(request, BLUEPRINT_FLASH)})


BLUEPRINT_FLASH = {"saved": N_("The blueprint was saved as a new version; the earlier versions are kept."),
                   "saved_as": N_("The blueprint was saved under its new name as version 1."),
                   "derived": N_("The standard blueprint was made from the element table.")}


@router.post("/ui/banks/{bank_id}/blueprints/derive")
def derive(bank_id: int, session: SessionDep, ctx: ManagerDep, form: FormDep) -> Response:
    """The house standard blueprint of the bank's level, from the current element table, named
    in the centre's words (e.g. 五级/初级工 理论知识 标准方案)."""
    bank = _bank(session, ctx, bank_id)
    part = Part(str(form.get("part") or "theory")) if form.get("part") in ("theory", "practical") else Part.THEORY
    stored = svc.derive_standard_blueprint(session, bank=bank, part=part, actor=ctx.user.username)
    session.commit()
    return RedirectResponse(f"/ui/banks/{bank_id}/blueprints/{stored.id}?done=derived", status_code=303)  # type: ignore[union-attr]


def _stored_of(session, ctx: PageContext, bank_id: int, blueprint_id: int) -> tuple[BankRef, svc.StoredBlueprint]:  # type: ignore[no-untyped-def]
    bank = _bank(session, ctx, bank_id)
    stored = svc.get_blueprint(session, blueprint_id)
    if stored.bank_id != bank.id:
        raise ValidationError(Message("Blueprint {id} belongs to another bank.", id=blueprint_id), field="blueprint_id")
    return bank, stored


def _s(x: Any) -> str:
    return "" if x is None else (str(int(x)) if isinstance(x, float) and x.is_integer() else str(x))


def _form_of(bp: asm.Blueprint) -> dict[str, Any]:
    """The editable fields of a blueprint, as the form shows them (strings)."""
    return {
        "name": bp.name, "new_name": "", "note": bp.note,
        "types": [(r.item_type, _s(r.count), _s(r.points)) for r in bp.item_types],
        "elements": [(r.code, _s(r.min), _s(r.max), r.basis, r.importance or "", _s(r.weight)) for r in bp.elements],
        "mean_rating_min": _s(bp.difficulty.mean_rating_min), "mean_rating_max": _s(bp.difficulty.mean_rating_max),
        "item_p_min": _s(bp.difficulty.item_p_min), "item_p_max": _s(bp.difficulty.item_p_max),
        "objective": bp.irt.objective, "thetas": ", ".join(_s(t) for t in bp.irt.thetas),
        "targets": ", ".join(_s(t) for t in bp.irt.targets),
        "exclude_recent_sessions": _s(bp.exposure.exclude_recent_sessions), "max_uses": _s(bp.exposure.max_uses),
        "usage_weight": _s(bp.exposure.usage_weight), "max_overlap": _s(bp.max_overlap),
        "time_min_s": _s(bp.time_min_s), "time_max_s": _s(bp.time_max_s),
        "time_total_min": _s(bp.time_total_s / 60 if bp.time_total_s is not None else None),
    }


def _element_names(session, bank: BankRef, stored: svc.StoredBlueprint) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Element and scope names of the table the blueprint was made from (the current one when
    that version is gone), by code."""
    try:
        table = load_element_table(session, bank=bank, part=stored.part, version=stored.element_table_version)
    except NotFoundError:
        try:
            table = load_element_table(session, bank=bank, part=stored.part)
        except NotFoundError:
            return {}
    return {n.code: n.name for n in table.nodes}


def _editor(request: Request, session, bank: BankRef, stored: svc.StoredBlueprint, values: dict[str, Any],  # type: ignore[no-untyped-def]
            errors: dict | None = None, status: int = 200) -> Response:
    latest = max(b.version for b in svc.list_blueprints(session, bank=bank, part=stored.part) if b.name == stored.name)
    names = _element_names(session, bank, stored)
    session.rollback()
    return render(request, "blueprint_edit.html", {
        "bank": bank, "stored": stored, "bp": stored.blueprint, "v": values, "errors": errors or {},
        "next_version": latest + 1, "element_names": names,
        "types": [t for t in ItemType if t.part is stored.part], "objectives": OBJECTIVES,
        **flash_of(request, BLUEPRINT_FLASH)}, status_code=status)


@router.get("/ui/banks/{bank_id}/blueprints/{blueprint_id}")
def blueprint_edit(request: Request, bank_id: int, blueprint_id: int, session: SessionDep, ctx: ManagerDep) -> Response:
    bank, stored = _stored_of(session, ctx, bank_id, blueprint_id)
    return _editor(request, session, bank, stored, _form_of(stored.blueprint))


# form field <- blueprint path, for a bad field that ``assembly.validate_blueprint`` names
_PATH = [
    (re.compile(r"^item_types\[(\d+)\]\.(count|points|item_type)"), lambda m: f"type_{m[2]}_{m[1]}"),
    (re.compile(r"^elements\[(\d+)\][^.]*\.(min|max|basis)"), lambda m: f"el_{m[2]}_{m[1]}"),
    (re.compile(r"^irt\.targets"), lambda m: "targets"),
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


class _Reader:
    """Reads the posted numbers, collecting every problem (field, message) on the way."""

    def __init__(self, form) -> None:  # type: ignore[no-untyped-def]
        self.form = form
        self.problems: list[tuple[str, Message]] = []

    def raw(self, name: str) -> str:
        return str(self.form.get(name) or "").strip()

    def num(self, name: str, *, integer: bool = False, lo: float | None = None, hi: float | None = None,
            required: bool = False) -> float | int | None:
        raw = self.raw(name)
        if not raw:
            if required:
                self.problems.append((name, Message("Fill in this number.")))
            return None
        try:
            value = float(raw)
        except ValueError:
            self.problems.append((name, Message("“{text}” is not a number.", text=raw)))
            return None
        if integer and not value.is_integer():
            self.problems.append((name, Message("Give a whole number.")))
            return None
        if lo is not None and value < lo:
            self.problems.append((name, Message("At least {lo}.", lo=_s(float(lo)))))
            return None
        if hi is not None and value > hi:
            self.problems.append((name, Message("At most {hi}.", hi=_s(float(hi)))))
            return None
        return int(value) if integer else value

    def numbers(self, name: str, *, lo: float, hi: float | None = None) -> list[float]:
        out = []
        for part in re.split(r"[,，\s]+", self.raw(name)):
            if not part:
                continue
            try:
                value = float(part)
            except ValueError:
                self.problems.append((name, Message("“{text}” is not a number.", text=part)))
                continue
            if value < lo or (hi is not None and value > hi):
                self.problems.append((name, Message("{value} is outside {lo} to {hi}.", value=part, lo=_s(lo),
                                                    hi=_s(hi) if hi is not None else "∞")))
                continue
            out.append(value)
        return out

    def order(self, lo_name: str, hi_name: str, lo: float | None, hi: float | None) -> None:
        if lo is not None and hi is not None and lo > hi:
            self.problems.append((hi_name, Message("The upper bound is below the lower bound ({lo}).", lo=_s(lo))))


def _read_blueprint(form, base: asm.Blueprint) -> tuple[dict[str, Any], dict[str, Any], list[tuple[str, Message]]]:  # type: ignore[no-untyped-def]
    """The posted values (kept as typed), the blueprint dict they make, and every problem."""
    r = _Reader(form)
    n_types = min(int(form.get("n_types") or 0) if str(form.get("n_types") or "").isdigit() else 0, 12)
    if form.get("action") == "add_type":
        n_types += 1
    types, type_values, seen = [], [], set()
    for i in range(n_types):
        t = str(form.get(f"type_item_type_{i}") or "")
        type_values.append((t, str(form.get(f"type_count_{i}") or ""), str(form.get(f"type_points_{i}") or "")))
        if not t:
            continue  # "(remove this row)"
        if t in seen:
            r.problems.append((f"type_item_type_{i}", Message("This item type is listed twice.")))
        seen.add(t)
        count = r.num(f"type_count_{i}", integer=True, lo=1, required=form.get("action") != "add_type")
        points = r.num(f"type_points_{i}", lo=0)
        types.append({"item_type": t, "count": count or 1, "points": points})
    if not types and form.get("action") != "add_type":
        r.problems.append(("item_types", Message("The paper needs at least one item type.")))
    elements, element_values = [], []
    base_rows = asm.blueprint_to_dict(base)["elements"]
    for i, rule in enumerate(base.elements):
        lo, hi = r.num(f"el_min_{i}", lo=0), r.num(f"el_max_{i}", lo=0)
        r.order(f"el_min_{i}", f"el_max_{i}", lo, hi)
        basis = str(form.get(f"el_basis_{i}") or rule.basis)
        if basis not in ("count", "points"):
            basis = rule.basis
        element_values.append((rule.code, str(form.get(f"el_min_{i}") or ""), str(form.get(f"el_max_{i}") or ""),
                               basis, rule.importance or "", "" if rule.weight is None else f"{rule.weight:g}"))
        elements.append({**base_rows[i], "min": lo if lo is not None else 0.0, "max": hi, "basis": basis})
    rmin, rmax = r.num("mean_rating_min", lo=1, hi=5), r.num("mean_rating_max", lo=1, hi=5)
    r.order("mean_rating_min", "mean_rating_max", rmin, rmax)
    pmin, pmax = r.num("item_p_min", lo=0, hi=1), r.num("item_p_max", lo=0, hi=1)
    r.order("item_p_min", "item_p_max", pmin, pmax)
    tmin, tmax = r.num("time_min_s", lo=0), r.num("time_max_s", lo=0)
    r.order("time_min_s", "time_max_s", tmin, tmax)
    ttotal = r.num("time_total_min", lo=1, hi=600)  # 考核时间 fixed for every paper and backup
    objective = str(form.get("objective") or "none")
    if objective not in OBJECTIVES:
        r.problems.append(("objective", Message("Choose one of the listed targets.")))
        objective = "none"
    thetas = r.numbers("thetas", lo=-6, hi=6)
    targets = r.numbers("targets", lo=0)
    if objective != "none" and not thetas and not any(n == "thetas" for n, _ in r.problems):
        r.problems.append(("thetas", Message("This target needs at least one ability point θ.")))
    if objective in ("target_information", "target_tcc") and len(targets) != len(thetas):
        r.problems.append(("targets", Message("Give one target value per ability point ({n}).", n=len(thetas))))
    spec = asm.blueprint_to_dict(base)
    spec.update(
        name=base.name, note=str(form.get("note") or "")[:2000], item_types=types, elements=elements,
        max_overlap=r.num("max_overlap", integer=True, lo=0) or 0, time_min_s=tmin, time_max_s=tmax,
        time_total_s=ttotal * 60 if ttotal is not None else None,
    )
    spec["difficulty"] = {**spec["difficulty"], "mean_rating_min": rmin, "mean_rating_max": rmax,
                          "item_p_min": pmin, "item_p_max": pmax}
    irt = dict(spec["irt"])
    irt.update(objective=objective, thetas=thetas,
               targets=targets if objective in ("target_information", "target_tcc") else [],
               weights=irt["weights"] if len(irt["weights"]) == len(thetas) else [])
    spec["irt"] = irt
    spec["exposure"] = {"exclude_recent_sessions": r.num("exclude_recent_sessions", integer=True, lo=0) or 0,
                        "max_uses": r.num("max_uses", integer=True, lo=0),
                        "usage_weight": r.num("usage_weight", lo=0) or 0.0}
    values = {k: str(form.get(k) or "") for k in (
        "new_name", "note", "mean_rating_min", "mean_rating_max", "item_p_min", "item_p_max", "objective", "thetas",
        "targets", "exclude_recent_sessions", "max_uses", "usage_weight", "max_overlap", "time_min_s", "time_max_s",
        "time_total_min")}
    values.update(name=base.name, types=type_values, elements=element_values)
    if form.get("action") == "save_as":
        new_name = values["new_name"].strip()[:100]
        if not new_name:
            r.problems.append(("new_name", Message("Give the new blueprint a name.")))
        spec["name"] = new_name
    return values, spec, r.problems


@router.post("/ui/banks/{bank_id}/blueprints/{blueprint_id}")
def blueprint_save(request: Request, bank_id: int, blueprint_id: int, session: SessionDep, ctx: ManagerDep,
                   form: FormDep) -> Response:
    """Save the edited blueprint: ``save`` as the next version of this blueprint (its name is
    its identity), ``save_as`` as version 1 of a new one under a new name. Every problem is
    shown at once next to its input (``assembly_service.save_blueprint`` checks again)."""
    bank, stored = _stored_of(session, ctx, bank_id, blueprint_id)
    values, spec, problems = _read_blueprint(form, stored.blueprint)
    action = str(form.get("action") or "save")
    if action == "save_as" and not problems:
        taken = {b.name for b in svc.list_blueprints(session, bank=bank, part=stored.part)}
        if spec["name"] in taken:
            problems.append(("new_name", Message("A blueprint of this part is already called “{name}”: choose "
                                                 "another name, or save as a new version of that one.",
                                                 name=spec["name"])))
    if action == "add_type" or problems:
        errors = field_errors(problems, known=_known(values)) if problems else {}
        return _editor(request, session, bank, stored, values, errors, status=422 if problems else 200)
    try:
        saved = svc.save_blueprint(session, bank=bank, blueprint=spec, actor=ctx.user.username,
                                   element_table_version=stored.element_table_version)
    except ValidationError as e:
        session.rollback()
        name, what = _field_of(e.message)
        return _editor(request, session, bank, stored, values, {name: [problem_text(what)]}, status=422)
    session.commit()
    done = "saved_as" if action == "save_as" else "saved"
    return RedirectResponse(f"/ui/banks/{bank_id}/blueprints?done={done}#bp-{saved.id}", status_code=303)


def _known(values: dict[str, Any]) -> set[str]:
    names = set(values) - {"types", "elements"} | {"item_types"}
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
    problems: list = []

    def integer(name: str) -> int:
        try:
            return int(values[name])
        except ValueError:
            problems.append((name, Message("Choose a blueprint.") if name == "blueprint_id"
                             else Message("Give a whole number.")))
            return 0

    blueprint_id = integer("blueprint_id")
    params = svc.RunParams(n_forms=integer("n_forms"), n_backups=integer("n_backups"),
                           solver=values["solver"], time_limit_s=float(integer("time_limit_s")),
                           seed=integer("seed"), practice=values["practice"] == "1")
    if not problems:
        try:
            stored = svc.get_blueprint(session, blueprint_id)
            if stored.bank_id != bank.id:
                raise ValidationError(Message("This blueprint belongs to another bank."), field="blueprint_id")
            run = svc.request_run(session, bank=bank, blueprint=stored, params=params, actor=ctx.user.username)
        except BankNotReadyError as e:
            session.rollback()
            return _assemble_page(request, session, bank, values, status=409, errors={
                "_form": [_("The bank is below its minimums: no official paper may be assembled (附件11 第7条). "
                            "Tick “practice paper” to assemble one for practice."),
                          *(problem_text(x) for x in e.shortfalls)]})
        except ValidationError as e:
            session.rollback()
            problems = list(e.errors) if e.errors != [e.text] else [(e.field or "_form", e.text)]
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


# the check rows' labels (assembly.check) in the reader's words; others as the checker wrote them
_CHECK_LABELS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^(\w+): number of items$"), lambda m: _("{type}: number of items", type=_type_label(m[1]))),
    (re.compile(r"^(\w+): points$"), lambda m: _("{type}: points", type=_type_label(m[1]))),
    (re.compile(r"^element (\S+): items$"), lambda m: _("Element {code}: items", code=m[1])),
    (re.compile(r"^element (\S+): points$"), lambda m: _("Element {code}: points", code=m[1])),
    (re.compile(r"^items listed twice$"), lambda m: _("Items listed twice")),
    (re.compile(r"^items of a type not in the blueprint$"), lambda m: _("Items of a type not in the blueprint")),
    (re.compile(r"^ineligible items$"), lambda m: _("Items not eligible (not accepted, leaked or excluded)")),
    (re.compile(r"^item sets not taken whole$"), lambda m: _("Item sets not taken whole")),
    (re.compile(r"^enemy pairs in the paper$"), lambda m: _("Enemy items in one paper")),
]


def _type_label(value: str) -> str:
    try:
        return label(ItemType(value))
    except ValueError:
        return value


def _check_label(text: Any) -> str:
    if isinstance(text, dict):  # a stored message (assembly reports since issue 14)
        return i18n.render(text)
    for pattern, make in _CHECK_LABELS:
        m = pattern.match(text)
        if m:
            return make(m)
    return text


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
        raise ValidationError(Message("This run made no papers: there are no curves to draw."), field="run_id")
    ledger.append(session, actor=ctx.user.username, action="assembly_run.curves", object_type="assembly_run",
                  object_id=run.id, details={"format": "png", "via": "web"})
    session.commit()
    data = from_assembly.report_data(run, papers, title=_("{bank} assembly run #{n}", bank=bank.label, n=run.id))
    return Response(plot_curves(data, fmt="png", dpi=110), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=3600"})


# --------------------------------------------------------------------------------------
# Downloads: each paper's documents and the run's assembly report, in Word or PDF (ledgered)

FORMATS = {"docx": DOCX_MEDIA_TYPE, "pdf": "application/pdf"}


def _document(content: bytes, filename: str, fmt: str) -> tuple[bytes, str]:
    """The .docx as rendered, or converted to PDF (``exports.pdf``, LibreOffice)."""
    if fmt == "pdf":
        return docx_to_pdf(content), filename.rsplit(".", 1)[0] + ".pdf"
    return content, filename


def _download(content: bytes, filename: str, fmt: str) -> Response:
    return Response(content, media_type=FORMATS[fmt], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}", "Cache-Control": "no-store"})


def _split(name: str) -> tuple[str, str]:
    stem, _, fmt = name.rpartition(".")
    if fmt not in FORMATS or not stem:
        raise NotFoundError(Message("There is no document {name}: ask for .docx or .pdf.", name=name), field="name")
    return stem, fmt


@router.get("/ui/papers/{paper_code}/documents/{name}")
def paper_document(paper_code: str, name: str, session: SessionDep, settings: SettingsDep, ctx: ManagerDep) -> Response:
    """A paper's document (paper, key, answer sheet, task or scoring sheet) as .docx or .pdf,
    recorded in the ledger as the API records it (``paper.exported``)."""
    kind_name, fmt = _split(name)
    try:
        kind = DocumentKind(kind_name)
    except ValueError as e:
        raise NotFoundError(Message("There is no document {name}.", name=name), field="name") from e
    view = svc.get_paper(session, code=paper_code, centre_name=settings.centre_name)
    check_scope(ctx.actor, view.paper.occupation.code, Role.BANK_MANAGER)
    (doc,) = export_paper(view.paper, kinds=[kind], answer_sheet=kind is DocumentKind.ANSWER_SHEET)
    content, filename = _document(doc.content, doc.filename, fmt)
    ledger.append(session, actor=ctx.user.username, action="paper.exported", object_type="paper", object_id=paper_code,
                  details={"document": filename, "format": fmt, "sha256": hashlib.sha256(content).hexdigest(),
                           "via": "web"})
    session.commit()
    return _download(content, filename, fmt)


@router.get("/ui/runs/{run_id}/report.{fmt}")
def run_report(run_id: int, fmt: str, session: SessionDep, settings: SettingsDep, ctx: ManagerDep) -> Response:
    """The assembly report (blueprint vs achieved, solver report, curves) as .docx or .pdf;
    ledgered (``run.document``)."""
    if fmt not in FORMATS:
        raise NotFoundError(Message("There is no document report.{fmt}: ask for .docx or .pdf.", fmt=fmt),
                            field="name")
    bank, run = _run_of(session, ctx, run_id)
    if not run.paper_codes:
        raise ValidationError(Message("This run made no papers: there is no report to download."), field="run_id")
    papers = [svc.get_paper(session, code=c, centre_name=settings.centre_name) for c in run.paper_codes]
    data = from_assembly.report_data(run, papers, title=_("{bank} assembly run #{n}", bank=bank.label, n=run.id),
                                     centre_name=settings.centre_name)
    (report, *_charts) = export_assembly_report(data, stem=f"run-{run.id}")
    content, filename = _document(report.content, report.filename, fmt)
    ledger.append(session, actor=ctx.user.username, action="run.document", object_type="assembly_run",
                  object_id=run.id, details={"document": filename, "format": fmt,
                                             "sha256": hashlib.sha256(content).hexdigest(), "via": "web"})
    session.commit()
    return _download(content, filename, fmt)
