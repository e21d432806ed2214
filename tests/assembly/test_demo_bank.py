"""Each level's standard blueprint assembles from its demo bank (main papers + a backup)."""

from __future__ import annotations

import pytest

from assembly import assemble_forms, check_forms, demo_pool, standard_blueprint


@pytest.mark.parametrize(
    ("part", "level", "solver"),
    [("theory", 5, "cbc"), ("theory", 4, "highs"), ("theory", 3, "cbc"),
     ("theory", 2, "highs"), ("theory", 1, "cbc"),
     ("practical", 5, "highs"), ("practical", 4, "cbc"), ("practical", 3, "highs"),
     ("practical", 2, "cbc"), ("practical", 1, "highs")],
)
def test_standard_blueprint_on_demo_bank(part: str, level: int, solver: str) -> None:
    pool, rows = demo_pool(level, part, seed=0)
    assert pool.n_items >= (1200 if part == "theory" else 20)  # 附件11 第7条
    bp = standard_blueprint(level, rows, part=part)
    result = assemble_forms(pool, bp, n_forms=2, n_backups=1, solver=solver, time_limit_s=30,
                            seed=1)
    assert result.status == "optimal", (result.status, result.diagnosis, result.report)
    assert check_forms(pool, bp, result.forms).ok
    assert result.report.rel_gap <= 0.01 + 1e-9
    if bp.irt.objective == "maximin":
        assert result.checks.parallelism.max_information_spread < 0.1 * result.report.objective
