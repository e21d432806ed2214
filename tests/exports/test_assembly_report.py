"""Assembly report: blueprint vs achieved, solver report, information and characteristic curves."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.information import expected_score_3pl
from analysis.information import test_information_3pl as information_3pl
from exports import (
    AssemblyReportData,
    ConstraintRow,
    PaperAssembly,
    ReportDataError,
    SolverReport,
    plot_curves,
    render_assembly_report,
)
from exports.curves import cjk_font_path

from tests.exports.conftest import open_docx, table_texts

THETAS = np.linspace(-4.0, 4.0, 81)


def report_data(demo, *, n_papers: int = 2) -> AssemblyReportData:  # type: ignore[no-untyped-def]
    calibrated = [it for it in demo.pool5 if it.irt is not None and it.item_type.is_objective]
    papers = []
    for k in range(n_papers):
        items = calibrated[k * 50:(k + 1) * 50]
        a = np.array([it.irt.a for it in items])
        b = np.array([it.irt.b for it in items])
        c = np.array([it.irt.c for it in items])
        pts = np.array([it.points for it in items])
        papers.append(PaperAssembly(
            code=f"DG5-2026-03-{'AB'[k]}", label=f"{'AB'[k]}卷", n_items=len(items), total_points=float(pts.sum()),
            constraints=(
                ConstraintRow("题目总数", len(items), 50, 50, "题"),
                ConstraintRow("鉴定点 A-02-01 直流电路基础：分值", 4 + k, 3, 5, "分"),
                ConstraintRow("核心要素（X）覆盖", 0.9 + 0.1 * k, 1.0, None),
            ),
            information=information_3pl(THETAS, a, b, c, D=1.0),
            expected_scores=expected_score_3pl(THETAS, a, b, c, D=1.0, points=pts),
        ))
    return AssemblyReportData(
        title="电工（五级/初级工）理论知识 2026年第3次认定", thetas=THETAS, papers=tuple(papers),
        solver=SolverReport(solver="HiGHS (PuLP)", status="optimal", time_s=2.5, n_variables=600, n_constraints=80,
                            objective=3.25, best_bound=3.25, gap=0.0, n_nonzeros=4000, time_limit_s=60.0),
        target_information=np.full(THETAS.shape, 5.0), run_label="RUN-7", created_at=datetime(2026, 3, 1),
    )


def test_report_tables_and_embedded_chart(demo) -> None:  # type: ignore[no-untyped-def]
    data = report_data(demo)
    out = render_assembly_report(data)
    d = open_docx(out)
    tables = table_texts(d)
    solver = dict((r[0], r[1]) for r in tables[0])
    assert solver["求解器"] == "HiGHS (PuLP)" and solver["求解状态"] == "最优解"
    assert solver["相对间隙"] == "0.00%" and "600个变量，80个约束，4000个非零系数" == solver["模型规模"]
    blueprint = [rows for rows in tables if rows[0][:2] == ["序号", "约束"]]
    assert len(blueprint) == 2
    assert blueprint[0][1][1:] == ["题目总数", "= 50题", "50题", "满足"]
    assert blueprint[0][2][2:] == ["3～5分", "4分", "满足"]
    assert blueprint[0][3][2:] == ["≥ 1", "0.9", "未满足"] and blueprint[1][3][4] == "满足"
    assert len(d.inline_shapes) == 1
    with zipfile.ZipFile(io.BytesIO(out)) as z:
        images = [n for n in z.namelist() if n.startswith("word/media/")]
        assert len(images) == 1 and z.read(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    values = next(rows for rows in tables if rows[0][0] == "试卷")
    a_row = next(r for r in values if r[0] == "A卷")
    i0 = float(a_row[3])  # information at theta = 0
    assert i0 == pytest.approx(float(np.interp(0.0, THETAS, data.papers[0].information)), abs=0.01)
    assert render_assembly_report(data) == out


def test_curves_png_and_svg_alone_are_deterministic(demo) -> None:  # type: ignore[no-untyped-def]
    data = report_data(demo, n_papers=3 if len(demo.pool5) > 400 else 2)
    png = plot_curves(data, fmt="png", dpi=80)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and plot_curves(data, fmt="png", dpi=80) == png
    svg = plot_curves(data, fmt="svg")
    assert svg.startswith(b"<?xml") and b"<svg" in svg and plot_curves(data, fmt="svg") == svg
    english = plot_curves(data, fmt="svg", english=True)
    assert english != svg or cjk_font_path() is None
    with pytest.raises(ReportDataError):
        plot_curves(data, fmt="pdf")


def test_bad_report_data_is_explained(demo) -> None:  # type: ignore[no-untyped-def]
    data = report_data(demo)
    bad = AssemblyReportData(title="x", thetas=THETAS[:10], papers=data.papers,
                             solver=SolverReport("HiGHS", "done", 1.0, 1, 1))
    with pytest.raises(ReportDataError) as e:
        render_assembly_report(bad)
    assert "information has shape (81,), thetas (10,)" in e.value.message
    assert "solver status 'done'" in e.value.message


@given(lower=st.one_of(st.none(), st.floats(-100, 100)), width=st.one_of(st.none(), st.floats(0, 50)),
       achieved=st.floats(-200, 200))
def test_constraint_met_agrees_with_its_bounds(lower, width, achieved) -> None:  # type: ignore[no-untyped-def]
    upper = None if width is None else (lower if lower is not None else 0.0) + width
    row = ConstraintRow("x", achieved, lower, upper)
    expected = (lower is None or achieved >= lower - 1e-6) and (upper is None or achieved <= upper + 1e-6)
    # a row without a target is neither met nor missed: the report prints no 满足 on it
    assert row.met == (None if lower is None and upper is None else expected)
    assert row.target_text != "—" or (lower is None and upper is None)


def test_without_a_cjk_font_the_chart_falls_back_to_english_and_says_so(demo, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    import exports.curves as curves

    data = report_data(demo)
    monkeypatch.setattr(curves, "cjk_font_path", lambda: None)
    with caplog.at_level("WARNING", logger="exports.curves"):
        fallback = plot_curves(data, fmt="svg")
    assert "labels in English" in caplog.text
    assert fallback == plot_curves(data, fmt="svg", english=True)
