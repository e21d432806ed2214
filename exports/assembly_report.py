"""The assembly report (组卷报告): the solver's report, the parallel papers side by side, per
paper the blueprint targets against what the paper achieved, the papers' test information and
characteristic curves (only where the papers' items have IRT parameters), and the lines for
the assembler's and the checker's signatures (组卷人, 审核人).

``assembly/`` is pure and does not know this package; the caller (the API, a CLI) turns an
assembly result into ``AssemblyReportData``, a plain input type defined here, and passes it in
(``exports.from_assembly.report_data`` does it for recorded runs). The curves are arrays over a
theta grid, computed by the caller with the kernels of ``analysis.information``
(``test_information_3pl`` and ``expected_score_3pl``, D = 1).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations

import numpy as np
import numpy.typing as npt

from docx.document import Document as DocxDocument

from assembly import SOLVER_NAMES
from itembank.i18n import Message, _, format_date, render

from exports import layout as L
from exports.curves import plot_curves
from exports.errors import ReportDataError
from exports.key import signature_lines
from exports.wording import fmt_points, section_numeral

FloatArray = npt.NDArray[np.float64]
_TOL = 1e-6

STATUS_ZH = {
    "optimal": "最优解",
    "feasible": "可行解（未证明最优）",
    "infeasible": "无可行解",
    "time_limit": "达到时间上限",
}
_STATUS = {"optimal": Message("optimal"), "feasible": Message("feasible (not proved optimal)"),
           "infeasible": Message("infeasible"), "time_limit": Message("time limit reached")}


@dataclass(frozen=True, slots=True)
class ConstraintRow:
    """One blueprint constraint of one paper.

    name
        In words a bank administrator reads, e.g. "鉴定点 A-02-01 直流电路基础：题数".
    achieved
        What the paper has.
    lower, upper
        The target: ``lower == upper`` for an equality, either None for a one-sided bound,
        both None for a figure reported without a target (then it is neither met nor missed).
    unit
        "题", "分", "%", "分钟" ... printed after the numbers.
    """

    name: str
    achieved: float
    lower: float | None = None
    upper: float | None = None
    unit: str = ""

    @property
    def has_target(self) -> bool:
        return self.lower is not None or self.upper is not None

    @property
    def target_text(self) -> str:
        u = self.unit
        lo, hi = self.lower, self.upper
        if lo is not None and hi is not None:
            if abs(lo - hi) <= _TOL:
                return f"= {fmt_points(lo)}{u}"
            return f"{fmt_points(lo)}～{fmt_points(hi)}{u}"
        if lo is not None:
            return f"≥ {fmt_points(lo)}{u}"
        if hi is not None:
            return f"≤ {fmt_points(hi)}{u}"
        return "—"

    @property
    def met(self) -> bool | None:
        """Whether the paper meets the target; None when the row has no target."""
        if not self.has_target:
            return None
        if self.lower is not None and self.achieved < self.lower - _TOL:
            return False
        if self.upper is not None and self.achieved > self.upper + _TOL:
            return False
        return True


@dataclass(frozen=True, slots=True)
class SolverReport:
    """What the solver said. ``status`` is one of optimal | feasible | infeasible | time_limit;
    ``gap`` is relative (0.01 = 1 %); model size is the integer program's."""

    solver: str
    status: str
    time_s: float
    n_variables: int
    n_constraints: int
    objective: float | None = None
    best_bound: float | None = None
    gap: float | None = None
    n_nonzeros: int | None = None
    time_limit_s: float | None = None
    message: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class PaperAssembly:
    """One assembled paper in the report.

    information : array, shape (n_thetas,)
        Test information I(theta) of the paper on the report's theta grid (zeros without IRT).
    expected_scores : array, shape (n_thetas,)
        Test characteristic curve: expected score at each theta.
    element_counts
        Items per element code (an item counts for each element it is tagged with).
    mean_rating, mean_p, mean_b
        Mean expert rating (1-5), mean classical facility and mean IRT difficulty of the items
        that have them (None when none has).
    n_calibrated
        Items with dichotomous IRT parameters (the curves are theirs).
    item_codes
        The paper's items (the overlap between papers is counted from them).
    time_allowed_min
        The time the paper allows (minutes).
    n_cueing
        Pairs of its items that repeat each other or give each other away (the similarity
        check every paper passes before it is recorded; None when it was not checked).
    """

    code: str
    label: str  # "A卷", "B卷", "备用1"
    n_items: int
    total_points: float
    constraints: tuple[ConstraintRow, ...]
    information: FloatArray
    expected_scores: FloatArray
    element_counts: Mapping[str, int] = field(default_factory=dict)
    mean_rating: float | None = None
    mean_p: float | None = None
    mean_b: float | None = None
    n_calibrated: int | None = None
    item_codes: tuple[str, ...] = ()
    time_allowed_min: float | None = None
    n_cueing: int | None = None  # pairs of its items that give each other away (None: not checked)


@dataclass(frozen=True, slots=True, eq=False)
class AssemblyReportData:
    """Everything the assembly report prints.

    thetas : array, shape (n_thetas,)
        The ability grid the curves are given on (increasing).
    target_information : array, shape (n_thetas,), optional
        The blueprint's target information curve, drawn dashed.
    element_names
        Element code -> name, printed beside the codes.
    """

    title: str  # e.g. "电工（五级/初级工）理论知识 2026年第3次认定"
    thetas: FloatArray
    papers: tuple[PaperAssembly, ...]
    solver: SolverReport
    target_information: FloatArray | None = None
    run_label: str = ""  # the assembly run's id or name
    created_at: datetime | None = None
    centre_name: str = "职业技能等级认定中心"
    notes: tuple[str, ...] = field(default=())
    element_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def has_irt(self) -> bool:
        """Whether any paper's curves rest on IRT parameters (a practical part has none)."""
        for p in self.papers:
            if p.n_calibrated is not None:
                if p.n_calibrated > 0:
                    return True
            elif np.any(np.asarray(p.information) > 0):
                return True
        return False


def validate_report_data(data: AssemblyReportData) -> None:
    """Raise ``ReportDataError`` naming every inconsistent field."""
    problems: list[str] = []
    thetas = np.asarray(data.thetas, dtype=np.float64)
    if thetas.ndim != 1 or thetas.size < 2:
        problems.append(f"thetas must be a 1-d grid of >= 2 points, got shape {thetas.shape}")
    elif not np.all(np.isfinite(thetas)) or np.any(np.diff(thetas) <= 0):
        problems.append("thetas must be finite and strictly increasing")
    if not data.papers:
        problems.append("no papers")
    for p in data.papers:
        for what, arr in (("information", p.information), ("expected_scores", p.expected_scores)):
            a = np.asarray(arr, dtype=np.float64)
            if a.shape != thetas.shape:
                problems.append(f"paper {p.code}: {what} has shape {a.shape}, thetas {thetas.shape}")
            elif not np.all(np.isfinite(a)):
                problems.append(f"paper {p.code}: {what} holds non-finite values")
    if data.target_information is not None and np.asarray(data.target_information).shape != thetas.shape:
        problems.append(f"target_information has shape {np.asarray(data.target_information).shape}, "
                        f"thetas {thetas.shape}")
    if data.solver.status not in STATUS_ZH:
        problems.append(f"solver status {data.solver.status!r}: use one of {', '.join(STATUS_ZH)}")
    if problems:
        raise ReportDataError(Message("assembly report data:\n{problems}",
                                      problems="\n".join(f"  - {p}" for p in problems)), field="data")


def _num(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}g}"


def _solver_rows(s: SolverReport) -> list[tuple[str, str]]:
    size = _("{variables} variables, {constraints} constraints", variables=s.n_variables,
             constraints=s.n_constraints)
    if s.n_nonzeros is not None:
        size += _(", {nonzeros} nonzeros", nonzeros=s.n_nonzeros)
    limit = _(" (limit {seconds:g} s)", seconds=s.time_limit_s) if s.time_limit_s else ""
    rows = [
        (_("Solver"), SOLVER_NAMES.get(s.solver, s.solver)),
        (_("Status"), render(_STATUS[s.status])),
        (_("Objective"), _num(s.objective, 6)),
        (_("Best bound"), _num(s.best_bound, 6)),
        (_("Relative gap"), "—" if s.gap is None else f"{s.gap * 100:.2f}%"),
        (_("Time the solver took"), _("{seconds:.2f} s", seconds=s.time_s) + limit),
        (_("Model size"), size),
    ]
    if s.message:
        rows.append((_("Note"), s.message))
    return rows


SUMMARY_THETAS = (-2.0, -1.0, 0.0, 1.0, 2.0)


def _heading(doc: DocxDocument, number: int, text: str) -> None:
    L.para(doc, _("{numeral}. {title}", numeral=section_numeral(number), title=text), L.S_HEADING)


def _element_label(code: str, names: Mapping[str, str]) -> str:
    name = names.get(code, "")
    return f"{code} {name}".strip()


def _side_by_side(doc: DocxDocument, data: AssemblyReportData, grid: list[float]) -> None:
    """The parallel papers side by side: size, difficulty, information, time, items per
    element; then the items each pair of papers shares."""
    papers = data.papers
    first_w = 5.2
    col = (L.TEXT_W_CM - first_w) / len(papers)
    widths = [first_w] + [col] * len(papers)
    rows: list[tuple[str, list[str]]] = [
        (_("Number of items"), [str(p.n_items) for p in papers]),
        (_("Total points"), [fmt_points(p.total_points) for p in papers]),
    ]
    if any(p.time_allowed_min for p in papers):
        rows.append((_("Time allowed (min)"), [fmt_points(p.time_allowed_min or 0) for p in papers]))
    if any(p.n_cueing is not None for p in papers):
        rows.append((_("Pairs of items that repeat or give each other away"),
                     ["—" if p.n_cueing is None else str(p.n_cueing) for p in papers]))
    if any(p.mean_rating is not None for p in papers):
        rows.append((_("Mean expert rating (1-5)"), [_num(p.mean_rating, 3) for p in papers]))
    if any(p.mean_p is not None for p in papers):
        rows.append((_("Mean facility p"), [_num(p.mean_p, 3) for p in papers]))
    thetas = np.asarray(data.thetas, dtype=np.float64)
    if data.has_irt:
        rows.append((_("Mean IRT difficulty b"), [_num(p.mean_b, 3) for p in papers]))
        for x in grid:
            rows.append((_("Information at θ = {theta:g}", theta=x),
                         [f"{float(np.interp(x, thetas, np.asarray(p.information, dtype=np.float64))):.2f}"
                          for p in papers]))
    codes = sorted({c for p in papers for c in p.element_counts})
    t = L.table(doc, 1, widths, cell_style=L.S_CELL_SMALL)
    L.cell_text(t.rows[0].cells[0], "", east_asia=L.HEI)
    for cell, p in zip(t.rows[0].cells[1:], papers):
        L.cell_text(cell, p.label, east_asia=L.HEI)
    for label, values in rows:
        cells = L.add_row(t, widths, style=L.S_CELL_SMALL)
        L.cell_text(cells[0], label, style=L.S_CELL_LEFT)
        for c, v in zip(cells[1:], values):
            c.paragraphs[0].add_run(v)
    if codes:
        cells = L.add_row(t, widths, style=L.S_CELL_SMALL)
        L.cell_text(cells[0], _("Items per element"), east_asia=L.HEI, style=L.S_CELL_LEFT)
        for code in codes:
            cells = L.add_row(t, widths, style=L.S_CELL_SMALL)
            L.cell_text(cells[0], _element_label(code, data.element_names), style=L.S_CELL_LEFT)
            for c, p in zip(cells[1:], papers):
                c.paragraphs[0].add_run(str(p.element_counts.get(code, 0)))
    L.repeat_header(t)
    L.keep_rows_together(t)
    L.para(doc, _("Table: the papers side by side (parallel papers should be close in every row)"), L.S_CAPTION)
    if len(papers) > 1 and all(p.item_codes for p in papers):
        ow = (L.TEXT_W_CM - 3.0) / len(papers)
        ot = L.table(doc, 1, [3.0] + [ow] * len(papers), cell_style=L.S_CELL_SMALL)
        for cell, p in zip(ot.rows[0].cells[1:], papers):
            L.cell_text(cell, p.label, east_asia=L.HEI)
        sets = [set(p.item_codes) for p in papers]
        for i, p in enumerate(papers):
            cells = L.add_row(ot, [3.0] + [ow] * len(papers), style=L.S_CELL_SMALL)
            L.cell_text(cells[0], p.label, east_asia=L.HEI)
            for j in range(len(papers)):
                cells[1 + j].paragraphs[0].add_run("—" if i == j else str(len(sets[i] & sets[j])))
        L.keep_together(ot)
        shared = max((len(a & b) for a, b in combinations(sets, 2)), default=0)
        L.para(doc, _("Table: items shared by two papers (most: {shared})", shared=shared), L.S_CAPTION)


def build_assembly_report(data: AssemblyReportData, *, chart_png: bytes | None = None) -> DocxDocument:
    validate_report_data(data)
    title = _("Assembly report")
    doc = L.new_document(L.DocumentInfo(title=f"{data.title} {title}", subject=data.run_label,
                                        author=data.centre_name, keywords=title, created=data.created_at))
    sec = doc.sections[0]
    L.running_header(sec, left=f"{data.title} {title}", right=data.run_label)
    L.page_footer(sec)
    L.para(doc, _("TOP SECRET (shows how the papers are made up; kept as papers are)"), L.S_SECRET)
    L.para(doc, data.centre_name, L.S_CENTRE)
    L.para(doc, title, L.S_TITLE)
    L.para(doc, data.title, L.S_SUBTITLE)
    info = _("Assembly run: {run}\u3000Papers: {n}", run=data.run_label or "—", n=len(data.papers))
    if data.created_at:
        info += "\u3000" + _("Date: {date}", date=format_date(data.created_at))
    L.para(doc, info, L.S_INFO)
    thetas = np.asarray(data.thetas, dtype=np.float64)
    grid = [x for x in SUMMARY_THETAS if thetas[0] <= x <= thetas[-1]]

    section = 1
    _heading(doc, section, _("How the solver did"))
    widths = (3.2, L.TEXT_W_CM - 3.2)
    rows = _solver_rows(data.solver)
    t = L.table(doc, len(rows), widths, cell_style=L.S_CELL_LEFT)
    for r, (label, value) in zip(t.rows, rows):
        L.cell_text(r.cells[0], label, east_asia=L.HEI, style=L.S_CELL)
        L.cell_text(r.cells[1], value)
    L.keep_together(t)

    section += 1
    _heading(doc, section, _("The papers side by side"))
    _side_by_side(doc, data, grid)

    section += 1
    _heading(doc, section, _("Blueprint targets and what each paper achieved"))
    cw = (1.0, 7.8, 2.4, 2.4, 2.2)
    for p in data.papers:
        targeted = [c for c in p.constraints if c.has_target]
        n_met = sum(1 for c in targeted if c.met)
        L.para(doc, _("{label} (paper code {code}): {n} items, {points} points; {targets} targets, {met} met.",
                      label=p.label, code=p.code, n=p.n_items, points=fmt_points(p.total_points),
                      targets=len(targeted), met=n_met), L.S_SECTION)
        if not p.constraints:
            continue
        ct = L.table(doc, 1, cw, cell_style=L.S_CELL_SMALL)
        for c, text in zip(ct.rows[0].cells, (_("No."), _("Target"), _("Target value"), _("Achieved"), _("Met"))):
            L.cell_text(c, text, east_asia=L.HEI)
        for i, row in enumerate(p.constraints, start=1):
            cells = L.add_row(ct, cw, style=L.S_CELL_SMALL)
            cells[0].paragraphs[0].add_run(str(i))
            L.cell_text(cells[1], row.name, style=L.S_CELL_LEFT)
            cells[2].paragraphs[0].add_run(row.target_text)
            cells[3].paragraphs[0].add_run(f"{fmt_points(round(row.achieved, 4))}{row.unit}")
            met = row.met
            if met is None:
                cells[4].paragraphs[0].add_run("—")
            else:
                L.run(cells[4].paragraphs[0], _("met") if met else _("not met"), bold=not met)
        L.repeat_header(ct)

    if data.has_irt:
        section += 1
        _heading(doc, section, _("Test information and test characteristic curves"))
        png = chart_png if chart_png is not None else plot_curves(data, fmt="png")
        doc.add_picture(io.BytesIO(png), width=L.Cm(L.TEXT_W_CM))
        L.set_style(doc.paragraphs[-1], L.S_CAPTION)
        L.para(doc, _("Figure: each paper's test information (left) and test characteristic curve (right), "
                      "3PL model, D = 1"), L.S_CAPTION)
        if grid:
            vw = [3.2] + [(L.TEXT_W_CM - 3.2) / (2 * len(grid))] * (2 * len(grid))
            vt = L.table(doc, 2, vw, cell_style=L.S_CELL_SMALL)
            L.cell_text(vt.rows[0].cells[0], _("Paper"), east_asia=L.HEI)
            L.cell_text(vt.rows[1].cells[0], "θ", east_asia=L.HEI)
            L.cell_text(vt.rows[0].cells[1], _("Information I(θ)"), east_asia=L.HEI)
            L.cell_text(vt.rows[0].cells[1 + len(grid)], _("Expected score"), east_asia=L.HEI)
            for j, x in enumerate(grid):
                vt.rows[1].cells[1 + j].paragraphs[0].add_run(f"{x:g}")
                vt.rows[1].cells[1 + len(grid) + j].paragraphs[0].add_run(f"{x:g}")
            vt.cell(0, 1).merge(vt.cell(0, len(grid)))
            vt.cell(0, 1 + len(grid)).merge(vt.cell(0, 2 * len(grid)))
            for p in data.papers:
                cells = L.add_row(vt, vw, style=L.S_CELL_SMALL)
                cells[0].paragraphs[0].add_run(p.label)
                info = np.interp(grid, thetas, np.asarray(p.information, dtype=np.float64))
                tcc = np.interp(grid, thetas, np.asarray(p.expected_scores, dtype=np.float64))
                for j in range(len(grid)):
                    cells[1 + j].paragraphs[0].add_run(f"{info[j]:.2f}")
                    cells[1 + len(grid) + j].paragraphs[0].add_run(f"{tcc[j]:.1f}")
            L.keep_together(vt)
            L.para(doc, _("Table: each paper's information and expected score at some abilities (parallel papers "
                          "should be close)"), L.S_CAPTION)
    if data.notes:
        section += 1
        _heading(doc, section, _("Explanatory notes"))
        for i, note in enumerate(data.notes, start=1):
            L.para(doc, f"{i}．{note}", L.S_NOTE)
    L.para(doc, "")
    signature_lines(doc)
    return doc


def render_assembly_report(data: AssemblyReportData) -> bytes:
    """组卷报告 as .docx bytes: solver report, the papers side by side, blueprint vs achieved per
    paper, the chart of information and characteristic curves (PNG, embedded; only where the
    papers have IRT parameters), and the 组卷人/审核人 signature lines.

    Raises
    ------
    ReportDataError
        Curve shapes differ from the theta grid, no papers, unknown solver status ...
    """
    return L.save(build_assembly_report(data))
