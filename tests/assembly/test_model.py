"""The solver hand-over: reading CBC's log, honest bounds of the decomposition."""

from __future__ import annotations

import pytest

from assembly import Pool, assemble_forms
from assembly.model import _cbc_log_figures
from tests.assembly.conftest import small_blueprint

CBC_STOPPED = """
Result - Stopped on time limit

Objective value:                2.00000000
Lower bound:                    0.000
Gap:                            inf
Enumerated nodes:               253517
"""
CBC_NO_SOLUTION = """
Result - Stopped on time limit

No feasible solution found
Lower bound:                    6.000
"""
CBC_GAP = """
Result - Optimal solution found (within gap tolerance)

Objective value:                -21652.00000000
Lower bound:                    -21656.583
Gap:                            0.00
"""


CBC_ROUNDED = """
Cbc0010I After 100 nodes, 3 on tree, -0.41141194 best solution, best possible -0.41350000 (0.31 seconds)
Cbc0010I After 200 nodes, 2 on tree, -0.41141194 best solution, best possible -0.41309000 (0.52 seconds)
Result - Optimal solution found (within gap tolerance)

Objective value:                -0.41141194
Lower bound:                    -0.413
Gap:                            0.00
"""


def test_cbc_log_figures() -> None:
    """The bounds CBC prints are rounded: each is loosened by its last printed digit, and the
    tightest of the summary's and the last progress line's is kept."""
    assert _cbc_log_figures(CBC_STOPPED) == ("Stopped on time limit", 2.0, -0.001)
    assert _cbc_log_figures(CBC_NO_SOLUTION) == ("Stopped on time limit", None, 5.999)
    result, objective, bound = _cbc_log_figures(CBC_GAP)
    assert (result, objective) == ("Optimal solution found (within gap tolerance)", -21652.0)
    assert bound == pytest.approx(-21656.584)


def test_a_rounded_cbc_bound_never_claims_more_than_was_proved() -> None:
    """"Lower bound: -0.413" stands for a bound between -0.4135 and -0.4125; the solver had
    proved -0.41309 (its last progress line), which is what is reported: not -0.413, which a
    set of papers scoring 0.41308 (maximized: -0.41308) would beat."""
    _, objective, bound = _cbc_log_figures(CBC_ROUNDED)
    assert objective == -0.41141194
    assert bound == pytest.approx(-0.41309001)
    assert bound <= -0.41308


def test_shadow_bound_is_a_bound_of_the_whole_problem(small_pool: Pool) -> None:
    """The stage-1 bound must not cut below the true optimum (found here by the direct model
    with a zero gap)."""
    bp = small_blueprint()
    exact = assemble_forms(small_pool, bp, n_forms=2, solver="highs", time_limit_s=30,
                           rel_gap=0.0, formulation="direct")
    assert exact.status == "optimal"
    for solver in ("cbc", "highs"):
        shadow = assemble_forms(small_pool, bp, n_forms=2, solver=solver, time_limit_s=30,
                                rel_gap=0.05, formulation="shadow")
        assert shadow.ok
        assert shadow.report.best_bound >= exact.report.objective - 1e-3
        assert shadow.report.objective <= exact.report.objective + 1e-6
        assert shadow.report.stages[0].formulation == "stage1_bound"
        assert "relaxation of the whole problem" in shadow.report.bound_source.english()


def test_highs_prints_nothing_to_stdout() -> None:
    """HiGHS prints a banner to the process's stdout when its first model is made, whatever
    ``msg=False`` says; the assembler must keep stdout clean (a CLI's JSON output, a job log)."""
    import subprocess
    import sys

    code = (
        "from assembly import assemble_forms\n"
        "from tests.assembly.conftest import make_items, small_blueprint\n"
        "from assembly import Pool\n"
        "pool = Pool.from_items(make_items(40))\n"
        "r = assemble_forms(pool, small_blueprint(), n_forms=2, solver='highs', time_limit_s=20)\n"
        "assert r.ok\n"
        "r = assemble_forms(pool, small_blueprint(), n_forms=1, solver='cbc', time_limit_s=20)\n"
        "assert r.ok\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
