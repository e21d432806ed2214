"""The assembly report (组卷报告): per paper the blueprint targets against what the paper
achieved, the solver's report, and the papers' test information and characteristic curves.

``assembly/`` is pure and does not know this package; the caller (the API, a CLI) turns an
assembly result into ``AssemblyReportData``, a plain input type defined here, and passes it in.
The curves are arrays over a theta grid, computed by the caller with the kernels of
``analysis.information`` (e.g. ``test_information_3pl`` and ``expected_score_3pl``, D = 1).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from docx.document import Document as DocxDocument

from exports import layout as L
from exports.curves import plot_curves
from exports.errors import ReportDataError
from exports.wording import chinese_numeral, fmt_points

FloatArray = npt.NDArray[np.float64]
_TOL = 1e-6

STATUS_ZH = {
    "optimal": "最优解",
    "feasible": "可行解（未证明最优）",
    "infeasible": "无可行解",
    "time_limit": "达到时间上限",
}


@dataclass(frozen=True, slots=True)
class ConstraintRow:
    """One blueprint constraint of one paper.

    name
        In words a bank administrator reads, e.g. "鉴定点 A-02-01 直流电路基础：题数".
    achieved
        What the paper has.
    lower, upper
        The target: ``lower == upper`` for an equality, either None for a one-sided bound.
    unit
        "题", "分", "%", "分钟" ... printed after the numbers.
    """

    name: str
    achieved: float
    lower: float | None = None
    upper: float | None = None
    unit: str = ""

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
    def met(self) -> bool:
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
        Test information I(theta) of the paper on the report's theta grid.
    expected_scores : array, shape (n_thetas,)
        Test characteristic curve: expected score at each theta.
    """

    code: str
    label: str  # "A卷", "B卷", "备用卷"
    n_items: int
    total_points: float
    constraints: tuple[ConstraintRow, ...]
    information: FloatArray
    expected_scores: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class AssemblyReportData:
    """Everything the assembly report prints.

    thetas : array, shape (n_thetas,)
        The ability grid the curves are given on (increasing).
    target_information : array, shape (n_thetas,), optional
        The blueprint's target information curve, drawn dashed.
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
        raise ReportDataError("assembly report data:\n" + "\n".join(f"  - {p}" for p in problems), field="data")


def _num(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}g}"


def _solver_rows(s: SolverReport) -> list[tuple[str, str]]:
    size = f"{s.n_variables}个变量，{s.n_constraints}个约束"
    if s.n_nonzeros is not None:
        size += f"，{s.n_nonzeros}个非零系数"
    rows = [
        ("求解器", s.solver),
        ("求解状态", f"{STATUS_ZH[s.status]}（{s.status}）"),
        ("目标函数值", _num(s.objective, 6)),
        ("最优界", _num(s.best_bound, 6)),
        ("相对间隙", "—" if s.gap is None else f"{s.gap * 100:.2f}%"),
        ("求解时间", f"{s.time_s:.2f} 秒" + (f"（上限 {s.time_limit_s:g} 秒）" if s.time_limit_s else "")),
        ("模型规模", size),
    ]
    if s.message:
        rows.append(("说明", s.message))
    return rows


SUMMARY_THETAS = (-2.0, -1.0, 0.0, 1.0, 2.0)


def build_assembly_report(data: AssemblyReportData, *, chart_png: bytes | None = None) -> DocxDocument:
    validate_report_data(data)
    title = "组卷报告"
    doc = L.new_document(L.DocumentInfo(title=f"{data.title} {title}", subject=data.run_label,
                                        author=data.centre_name, keywords="组卷报告", created=data.created_at))
    sec = doc.sections[0]
    L.running_header(sec, left=f"{data.title} {title}", right=data.run_label)
    L.page_footer(sec)
    L.para(doc, "绝密★（含试卷构成信息，按试卷管理）", L.S_SECRET)
    L.para(doc, data.centre_name, L.S_CENTRE)
    L.para(doc, title, L.S_TITLE)
    L.para(doc, data.title, L.S_SUBTITLE)
    info = f"组卷批次：{data.run_label or '—'}\u3000试卷数：{len(data.papers)}"
    if data.created_at:
        info += f"\u3000日期：{data.created_at.year}年{data.created_at.month}月{data.created_at.day}日"
    L.para(doc, info, L.S_INFO)

    section = 1
    L.para(doc, f"{chinese_numeral(section)}、求解情况", L.S_HEADING)
    widths = (3.2, L.TEXT_W_CM - 3.2)
    rows = _solver_rows(data.solver)
    t = L.table(doc, len(rows), widths, cell_style=L.S_CELL_LEFT)
    for r, (label, value) in zip(t.rows, rows):
        L.cell_text(r.cells[0], label, east_asia=L.HEI, style=L.S_CELL)
        L.cell_text(r.cells[1], value)

    section += 1
    L.para(doc, f"{chinese_numeral(section)}、蓝图约束达成情况", L.S_HEADING)
    cw = (1.0, 7.8, 2.4, 2.4, 2.2)
    for p in data.papers:
        n_met = sum(1 for c in p.constraints if c.met)
        L.para(doc, f"{p.label}（试卷编号 {p.code}）：{p.n_items}题，满分{fmt_points(p.total_points)}分；"
                    f"约束{len(p.constraints)}项，满足{n_met}项。", L.S_SECTION)
        if not p.constraints:
            continue
        ct = L.table(doc, 1, cw, cell_style=L.S_CELL_SMALL)
        for c, text in zip(ct.rows[0].cells, ("序号", "约束", "目标", "实际", "是否满足")):
            L.cell_text(c, text, east_asia=L.HEI)
        for i, row in enumerate(p.constraints, start=1):
            cells = L.add_row(ct, cw, style=L.S_CELL_SMALL)
            cells[0].paragraphs[0].add_run(str(i))
            L.cell_text(cells[1], row.name, style=L.S_CELL_LEFT)
            cells[2].paragraphs[0].add_run(row.target_text)
            cells[3].paragraphs[0].add_run(f"{fmt_points(round(row.achieved, 4))}{row.unit}")
            L.run(cells[4].paragraphs[0], "满足" if row.met else "未满足", bold=not row.met)
        L.repeat_header(ct)

    section += 1
    L.para(doc, f"{chinese_numeral(section)}、测验信息函数与测验特征曲线", L.S_HEADING)
    png = chart_png if chart_png is not None else plot_curves(data, fmt="png")
    doc.add_picture(io.BytesIO(png), width=L.Cm(L.TEXT_W_CM))
    L.set_style(doc.paragraphs[-1], L.S_CAPTION)
    L.para(doc, "图：各试卷的测验信息函数（左）与测验特征曲线（右），3PL 模型，D = 1", L.S_CAPTION)
    thetas = np.asarray(data.thetas, dtype=np.float64)
    grid = [x for x in SUMMARY_THETAS if thetas[0] <= x <= thetas[-1]]
    if grid:
        vw = [3.2] + [(L.TEXT_W_CM - 3.2) / (2 * len(grid))] * (2 * len(grid))
        vt = L.table(doc, 2, vw, cell_style=L.S_CELL_SMALL)
        L.cell_text(vt.rows[0].cells[0], "试卷", east_asia=L.HEI)
        L.cell_text(vt.rows[1].cells[0], "θ", east_asia=L.HEI)
        L.cell_text(vt.rows[0].cells[1], "信息量 I(θ)", east_asia=L.HEI)
        L.cell_text(vt.rows[0].cells[1 + len(grid)], "期望得分", east_asia=L.HEI)
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
        L.para(doc, "表：各试卷在若干能力点上的信息量和期望得分（平行试卷应相近）", L.S_CAPTION)
    if data.notes:
        section += 1
        L.para(doc, f"{chinese_numeral(section)}、说明", L.S_HEADING)
        for i, note in enumerate(data.notes, start=1):
            L.para(doc, f"{i}．{note}", L.S_NOTE)
    return doc


def render_assembly_report(data: AssemblyReportData) -> bytes:
    """组卷报告 as .docx bytes: solver report, blueprint vs achieved per paper, and the chart
    of information and characteristic curves (PNG, embedded).

    Raises
    ------
    ReportDataError
        Curve shapes differ from the theta grid, no papers, unknown solver status ...
    """
    return L.save(build_assembly_report(data))

