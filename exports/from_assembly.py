"""Adapter: a recorded assembly run and its papers -> ``AssemblyReportData`` for the report.

Curves are computed from the papers' items with ``analysis.information`` (3PL, each item's
own D); items without dichotomous IRT parameters contribute nothing to them (the report says
how many).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.information import expected_score_3pl, test_information_3pl
from exports.assembly_report import AssemblyReportData, ConstraintRow, PaperAssembly, SolverReport
from itembank.assembly_service import DICHOTOMOUS_MODELS, PaperView, RunView
from itembank.domain import PaperKind
from itembank.i18n import render

THETAS = np.linspace(-3.0, 3.0, 61)
_STATUS = {"optimal": "optimal", "feasible": "feasible", "infeasible": "infeasible"}


def _label(view: PaperView) -> str:
    p = view.paper
    return f"{p.form_label}卷" if p.kind is PaperKind.FORM else p.form_label  # "A卷", "备用1"


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


def report_data(run: RunView, papers: Sequence[PaperView], *, title: str,
                centre_name: str = "职业技能等级认定中心") -> AssemblyReportData:
    report = run.report.get("report", {})
    status = _STATUS.get(str(run.report.get("status", "")), "time_limit")
    notes = [render(n) for n in list(run.report.get("notes", [])) + list(run.report.get("diagnosis", []))]
    out = []
    for view in papers:
        info, tcc, n_cal = _curves(view)
        rows = tuple(
            ConstraintRow(name=render(r.get("label")) or r.get("name", ""), achieved=float(r["achieved"]),
                          lower=r.get("lo"), upper=r.get("hi"))
            for r in view.checks.get("rows", [])
        )
        if n_cal < len(view.paper.items):
            notes.append(f"{view.paper.code}: {len(view.paper.items) - n_cal} items without IRT parameters "
                         "are not in its curves")
        out.append(PaperAssembly(code=view.paper.code, label=_label(view), n_items=len(view.paper.items),
                                 total_points=view.paper.total_points, constraints=rows, information=info,
                                 expected_scores=tcc))
    solver = SolverReport(
        solver=str(report.get("solver", "")), status=status, time_s=float(report.get("time_s", 0.0)),
        n_variables=int(report.get("n_variables", 0)), n_constraints=int(report.get("n_constraints", 0)),
        objective=report.get("objective"), best_bound=report.get("best_bound"), gap=report.get("rel_gap"),
        time_limit_s=report.get("time_limit_s"), message=render(report.get("method") or report.get("formulation", "")),
    )
    return AssemblyReportData(title=title, thetas=THETAS, papers=tuple(out), solver=solver,
                              run_label=f"组卷任务 #{run.id}", created_at=run.finished_at, centre_name=centre_name,
                              notes=tuple(notes))
