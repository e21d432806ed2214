"""Adapter: a recorded assembly run and its papers -> ``AssemblyReportData`` for the report.

Curves are computed from the papers' items with ``analysis.information`` (3PL, each item's
own D); items without dichotomous IRT parameters contribute nothing to them (the report says
how many, and leaves the curves out where no item has parameters, as on a practical paper).
The blueprint rows are named in the reader's words from their family and key, elements with
their names (``element_names``: code -> name of the part's element table).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from analysis.information import expected_score_3pl, test_information_3pl
from exports.assembly_report import AssemblyReportData, ConstraintRow, PaperAssembly, SolverReport
from exports.wording import type_name
from itembank.assembly_service import DICHOTOMOUS_MODELS, PaperView, RunView
from itembank.domain import ItemType, PaperKind
from itembank.i18n import Message, _, render
from itembank.similarity_service import KIND_WORDS

THETAS = np.linspace(-3.0, 3.0, 61)
_STATUS = {"optimal": "optimal", "feasible": "feasible", "infeasible": "infeasible"}
_CUEING = {kind.value: Message(words) for kind, words in KIND_WORDS.items()}
_BANDS = {"easy": Message("easy"), "medium": Message("medium"), "hard": Message("hard")}


def _label(view: PaperView) -> str:
    p = view.paper
    return _("Paper {label}", label=p.form_label) if p.kind is PaperKind.FORM else p.form_label  # "A卷", "备用1"


def _curves(view: PaperView) -> tuple[np.ndarray, np.ndarray, int]:
    items = [it for it in view.paper.items if it.irt is not None and it.irt.model in DICHOTOMOUS_MODELS]
    if not items:
        return np.zeros_like(THETAS), np.zeros_like(THETAS), 0
    info = np.zeros_like(THETAS)
    tcc = np.zeros_like(THETAS)
    for D in sorted({it.irt.D for it in items}):  # type: ignore[union-attr]
        group = [it for it in items if it.irt.D == D]  # type: ignore[union-attr]
        a = [it.irt.a for it in group]  # type: ignore[union-attr]
        b = [it.irt.b for it in group]  # type: ignore[union-attr]
        c = [it.irt.c for it in group]  # type: ignore[union-attr]
        info += test_information_3pl(THETAS, a, b, c, D=D)
        tcc += expected_score_3pl(THETAS, a, b, c, D=D, points=[it.points for it in group])
    return info, tcc, len(items)


def _type(key: str) -> str:
    try:
        return type_name(ItemType(key))
    except ValueError:
        return key


def constraint_row(r: Mapping[str, Any], element_names: Mapping[str, str]) -> ConstraintRow:
    """One stored check row as the report prints it: named in the reader's words, seconds in
    minutes, no target where the row has none."""
    family, key = str(r.get("family", "")), str(r.get("key", ""))
    name = render(r.get("label")) or str(r.get("name", ""))
    achieved = float(r["achieved"])
    lo, hi = r.get("lo"), r.get("hi")
    if family == "type_count":
        name = _("{type}: items", type=_type(key)) if key != "other" else _("items of a type the blueprint has not")
    elif family == "type_points":
        name = _("{type}: points", type=_type(key))
    elif family == "element":
        element = f"{key} {element_names.get(key, '')}".strip()
        basis = str(r.get("name", "")).rsplit("_", 1)[-1]
        name = _("element {element}: points", element=element) if basis == "points" else \
            _("element {element}: items", element=element)
    elif family == "mean_rating":
        name = _("mean expert rating")
    elif family == "mean_p":
        name = _("mean facility p")
    elif family == "band":
        name = _("difficulty band {band}: items", band=render(_BANDS[key]) if key in _BANDS else key)
    elif family == "time":
        name = _("total time (min)")
        achieved = achieved / 60.0
        lo = None if lo is None else float(lo) / 60.0
        hi = None if hi is None else float(hi) / 60.0
    elif family == "eligibility":
        name = _("items not eligible")
    elif family == "include":
        name = _("items to include that are missing")
    elif family == "set":
        name = _("item sets not taken whole")
    elif family == "enemy":
        name = _("enemy pairs in the paper")
    elif family == "integrity":
        name = _("items listed twice")
    elif family == "information":
        name = _("test information at θ = {theta}", theta=key)
    elif family == "tcc":
        name = _("expected score at θ = {theta}", theta=key)
    return ConstraintRow(name=name, achieved=achieved, lower=lo, upper=hi)


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if values else None


def paper_assembly(view: PaperView, element_names: Mapping[str, str]) -> PaperAssembly:
    info, tcc, n_cal = _curves(view)
    items = view.paper.items
    rows = tuple(constraint_row(r, element_names) for r in view.checks.get("rows", []))
    counts: Counter[str] = Counter(code for it in items for code in dict.fromkeys(it.content.element_codes))
    return PaperAssembly(
        code=view.paper.code, label=_label(view), n_items=len(items), total_points=view.paper.total_points,
        constraints=rows, information=info, expected_scores=tcc, element_counts=dict(counts),
        mean_rating=_mean([it.content.difficulty_rating for it in items]),
        mean_p=_mean([it.classical.p_value for it in items if it.classical and it.classical.p_value is not None]),
        mean_b=_mean([it.irt.b for it in items if it.irt is not None and it.irt.model in DICHOTOMOUS_MODELS]),
        n_calibrated=n_cal, item_codes=tuple(it.code for it in items),
        time_allowed_min=float(view.paper.time_allowed_min),
        n_cueing=len(view.checks["cueing"]) if "cueing" in view.checks else None,
    )


def report_data(run: RunView, papers: Sequence[PaperView], *, title: str,
                centre_name: str = "职业技能等级认定中心",
                element_names: Mapping[str, str] | None = None) -> AssemblyReportData:
    """The report of a recorded run. ``element_names`` (code -> name) puts the names of the
    elements beside their codes; without it the codes stand alone."""
    names = dict(element_names or {})
    report = run.report.get("report", {})
    status = _STATUS.get(str(run.report.get("status", "")), "time_limit")
    notes = [render(n) for n in list(run.report.get("notes", [])) + list(run.report.get("diagnosis", []))]
    out = []
    for view in papers:
        pa = paper_assembly(view, names)
        if pa.n_calibrated and pa.n_calibrated < pa.n_items:
            notes.append(_("{code}: {n} items without IRT parameters are not in its curves", code=view.paper.code,
                           n=pa.n_items - pa.n_calibrated))
        for m in view.checks.get("cueing", []):
            notes.append(_("{code}: items {a} and {b} give each other away ({kind}); confirm them as enemies and "
                           "assemble again",
                           code=view.paper.code, a=m.get("code_a", ""), b=m.get("code_b", ""),
                           kind=_CUEING.get(str(m.get("kind", "")), str(m.get("kind", "")))))
        out.append(pa)
    solver = SolverReport(
        solver=str(report.get("solver", "")), status=status, time_s=float(report.get("time_s", 0.0)),
        n_variables=int(report.get("n_variables", 0)), n_constraints=int(report.get("n_constraints", 0)),
        objective=report.get("objective"), best_bound=report.get("best_bound"), gap=report.get("rel_gap"),
        time_limit_s=report.get("time_limit_s"), message=render(report.get("method") or report.get("formulation", "")),
    )
    return AssemblyReportData(title=title, thetas=THETAS, papers=tuple(out), solver=solver,
                              run_label=_("assembly run #{id}", id=run.id), created_at=run.finished_at,
                              centre_name=centre_name, notes=tuple(notes), element_names=names)
