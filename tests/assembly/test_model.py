"""The solver hand-over: reading CBC's log, honest bounds of the decomposition."""

from __future__ import annotations

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


def test_cbc_log_figures() -> None:
    assert _cbc_log_figures(CBC_STOPPED) == ("Stopped on time limit", 2.0, 0.0)
    assert _cbc_log_figures(CBC_NO_SOLUTION) == ("Stopped on time limit", None, 6.0)
    assert _cbc_log_figures(CBC_GAP) == ("Optimal solution found (within gap tolerance)",
                                         -21652.0, -21656.583)


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
