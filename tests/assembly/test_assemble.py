"""assemble_forms / reassemble_after_leak on small pools: validity, honesty, reproducibility."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assembly import (
    AssemblyError,
    ExposureRule,
    InvalidFormsError,
    Pool,
    UnknownSolverError,
    assemble_forms,
    benchmark_blueprint,
    benchmark_pool,
    check_forms,
    diagnose,
    reassemble_after_leak,
    relax_blueprint,
)
from tests.assembly.conftest import make_items, small_blueprint

SOLVERS = ["cbc", "highs"]


def assert_valid(pool: Pool, bp, result, sealed=()) -> None:
    assert result.ok, (result.status, result.diagnosis)
    report = check_forms(pool, bp, result.forms, sealed=sealed)
    assert report.ok, report.violations
    assert result.checks is not None and result.checks.ok


@pytest.mark.parametrize("solver", SOLVERS)
def test_main_and_backup_papers(small_pool: Pool, solver: str) -> None:
    bp = small_blueprint()
    result = assemble_forms(small_pool, bp, n_forms=2, n_backups=1, solver=solver,
                            time_limit_s=20, rel_gap=0.05, seed=3)
    assert_valid(small_pool, bp, result)
    assert result.status == "optimal"
    assert len(result.main_forms) == 2 and len(result.backup_forms) == 1
    assert all(len(form) == 8 for form in result.forms)
    rep = result.report
    assert rep.solver == solver and rep.sense == "max"
    assert rep.objective <= rep.best_bound + 1e-6  # a bound above a maximum
    assert rep.rel_gap <= rep.rel_gap_limit + 1e-9
    assert result.blueprint_version == bp.version and result.seed == 3
    assert result.pool_fingerprint == small_pool.fingerprint()
    assert result.paper_versions(0)[0][1] == 1
    # the achieved-vs-target table has every blueprint row for every paper
    names = {row.name for row in result.checks.papers[0].rows}
    assert {"type_single_choice_count", "element_E1_count", "mean_rating", "enemies",
            "sets_whole", "information_theta0"} <= names


@pytest.mark.parametrize("formulation", ["direct", "shadow", "plain"])
def test_formulations_agree_on_validity(small_pool: Pool, formulation: str) -> None:
    bp = small_blueprint()
    result = assemble_forms(small_pool, bp, n_forms=3, solver="highs", time_limit_s=20,
                            rel_gap=0.05, formulation=formulation)
    assert_valid(small_pool, bp, result)
    assert formulation.split()[0] in result.report.formulation or formulation == "shadow"


def test_solvers_agree_and_keep_the_objective_sense(small_pool: Pool) -> None:
    """Maximin solved to optimality by both solvers: same value, bounds on the right side."""
    bp = small_blueprint()
    values = []
    for solver in SOLVERS:
        result = assemble_forms(small_pool, bp, n_forms=2, solver=solver, time_limit_s=30,
                                rel_gap=0.0, formulation="direct")
        assert result.status == "optimal"
        assert result.report.best_bound >= result.report.objective - 1e-3
        values.append(result.report.objective)
    assert values[0] == pytest.approx(values[1], abs=1e-3)


@pytest.mark.parametrize("solver", SOLVERS)
def test_time_limit_is_not_reported_as_optimal(solver: str) -> None:
    """The CBC trap: PuLP says "Optimal" for a run stopped at its limit with an incumbent."""
    pool = benchmark_pool(1200, seed=0)
    bp = benchmark_blueprint(100)
    result = assemble_forms(pool, bp, n_forms=4, solver=solver, time_limit_s=2, rel_gap=0.0,
                            formulation="plain")
    assert result.status in ("feasible", "time_limit")
    if result.status == "feasible":
        assert result.report.best_bound > result.report.objective
        assert result.report.rel_gap > 0
        assert result.checks.ok


def test_same_seed_same_papers_other_seed_other_papers(small_pool: Pool) -> None:
    bp = small_blueprint(objective="none")
    runs = [assemble_forms(small_pool, bp, n_forms=2, solver="cbc", time_limit_s=20, seed=s)
            for s in (7, 7, 8)]
    assert all(run.status == "optimal" for run in runs)
    assert runs[0].forms == runs[1].forms
    assert runs[0].forms != runs[2].forms


def test_overlap_allowance(small_pool: Pool) -> None:
    bp = small_blueprint(max_overlap=3)
    for formulation in ("shadow", "direct", "plain"):
        result = assemble_forms(small_pool, bp, n_forms=3, n_backups=1, solver="highs",
                                time_limit_s=10, rel_gap=0.05, formulation=formulation)
        assert_valid(small_pool, bp, result)
        assert result.checks.parallelism.max_overlap <= 3


def test_exposure_rules_exclude_items() -> None:
    items = make_items(60)
    items = [replace(it, last_used_session=4) if k % 5 == 0 else it for k, it in enumerate(items)]
    items = [replace(it, usage_count=9) if k % 7 == 0 else it for k, it in enumerate(items)]
    items = [replace(it, compromised=True) if k % 11 == 0 else it for k, it in enumerate(items)]
    pool = Pool.from_items(items, current_session=5)
    bp = replace(small_blueprint(), exposure=ExposureRule(exclude_recent_sessions=1, max_uses=5),
                 exclude_items=("I001",))
    result = assemble_forms(pool, bp, n_forms=2, solver="cbc", time_limit_s=20)
    assert_valid(pool, bp, result)
    used = {item_id for form in result.forms for item_id in form}
    for k in range(60):
        if k % 5 == 0 or k % 7 == 0 or k % 11 == 0 or k == 1:
            assert f"I{k:03d}" not in used


def test_included_items_are_in_every_paper(small_pool: Pool) -> None:
    bp = replace(small_blueprint(max_overlap=2), include_items=("I003", "I004"))
    result = assemble_forms(small_pool, bp, n_forms=2, solver="highs", time_limit_s=20)
    assert_valid(small_pool, bp, result)
    assert all({"I003", "I004"} <= set(form) for form in result.forms)
    # disjoint papers cannot share the included items: proven before solving
    bp0 = replace(bp, max_overlap=0)
    result = assemble_forms(small_pool, bp0, n_forms=2, solver="highs", time_limit_s=20)
    assert result.status == "infeasible"
    assert any("included in every paper" in line.english() for line in result.diagnosis)
    assert assemble_forms(small_pool, relax_blueprint(bp0, result.relaxations), n_forms=2,
                          solver="highs", time_limit_s=20).ok


def test_backups_against_fixed_main_forms(small_pool: Pool) -> None:
    bp = small_blueprint()
    main = assemble_forms(small_pool, bp, n_forms=2, solver="cbc", time_limit_s=20, rel_gap=0.05)
    later = assemble_forms(small_pool, bp, fixed_forms=main.forms, n_backups=2, solver="cbc",
                           time_limit_s=20, rel_gap=0.05)
    assert later.forms[:2] == main.forms
    assert later.n_forms == 2 and later.n_backups == 2 and later.new_form_indices == (2, 3)
    assert_valid(small_pool, bp, later, sealed=[0, 1])
    assert any("mean information curve" in note.english() for note in later.notes)


def test_warm_start_is_accepted(small_pool: Pool) -> None:
    bp = small_blueprint()
    first = assemble_forms(small_pool, bp, n_forms=2, solver="cbc", time_limit_s=20, rel_gap=0.05)
    for solver in SOLVERS:
        again = assemble_forms(small_pool, bp, n_forms=2, solver=solver, time_limit_s=20,
                               rel_gap=0.05, warm_start=first.forms, formulation="direct")
        assert_valid(small_pool, bp, again)
        assert again.report.objective >= first.report.objective - 0.02 * abs(first.report.objective)


@pytest.mark.parametrize("solver", SOLVERS)
def test_leak_replacement(small_pool: Pool, solver: str) -> None:
    bp = small_blueprint()
    result = assemble_forms(small_pool, bp, n_forms=2, n_backups=1, solver=solver,
                            time_limit_s=20, rel_gap=0.05)
    leaked = set(result.forms[1])
    enemies_of_leaked = {small_pool.ids[j] for i, j in small_pool.enemy_pairs.tolist()
                         if small_pool.ids[i] in leaked} | \
                        {small_pool.ids[i] for i, j in small_pool.enemy_pairs.tolist()
                         if small_pool.ids[j] in leaked}
    new = reassemble_after_leak(small_pool, bp, result, 1, solver=solver, time_limit_s=20,
                                rel_gap=0.05)
    assert new.ok and new.new_form_indices == (1,)
    assert new.forms[0] == result.forms[0] and new.forms[2] == result.forms[2]
    assert not set(new.forms[1]) & (leaked | enemies_of_leaked - leaked)
    assert check_forms(small_pool, bp, new.forms, sealed=[0, 2]).ok
    assert new.n_forms == 2 and new.n_backups == 1


def test_count_diagnosis_names_element_and_reasons() -> None:
    items = make_items(60)
    # element E3 (items 2, 5, 8, ...): a third compromised, a third used in the last session
    for n, k in enumerate(range(2, 60, 3)):
        if n % 3 == 0:
            items[k] = replace(items[k], compromised=True)
        elif n % 3 == 1:
            items[k] = replace(items[k], last_used_session=4)
    pool = Pool.from_items(items, current_session=5)
    bp = small_blueprint()
    bp = replace(bp, elements=tuple(replace(r, min=4.0) if r.code == "E3" else r
                                    for r in bp.elements),
                 exposure=ExposureRule(exclude_recent_sessions=2))
    findings = diagnose(pool, bp, 3)
    errors = [f for f in findings if f.severity == "error"]
    assert errors and errors[0].row == "element_E3_count"
    text = errors[0].message.english()
    assert "element E3: 4 per paper x 3 papers = 12 different items needed" in text
    assert "compromised" in text and "used in the last 2 sessions" in text
    result = assemble_forms(pool, bp, n_forms=3, solver="cbc", time_limit_s=20)
    assert result.status == "infeasible" and result.report.solver == "none"
    assert result.diagnosis[0].english() == text
    assert any(r.name == "element_E3_count" and r.bound == "min" for r in result.relaxations)
    relaxed = relax_blueprint(bp, result.relaxations)
    assert assemble_forms(pool, relaxed, n_forms=3, solver="cbc", time_limit_s=20).ok


def test_elastic_diagnosis_after_an_infeasible_solve(small_pool: Pool) -> None:
    """Counts pass, but the mean rating and the hard band cannot hold together."""
    bp = small_blueprint(objective="none")
    bp = replace(bp, difficulty=replace(bp.difficulty, mean_rating_min=4.0, mean_rating_max=5.0,
                                        bands=(replace_band(),)))
    assert not [f for f in diagnose(small_pool, bp, 2) if f.severity == "error"]
    result = assemble_forms(small_pool, bp, n_forms=2, solver="highs", time_limit_s=20)
    assert result.status == "infeasible"
    assert result.relaxations and result.diagnosis[0].english().startswith("the smallest fix")
    assert result.diagnosis_proven and all(r.proven for r in result.relaxations)
    relaxed = relax_blueprint(bp, result.relaxations)
    assert_valid(small_pool, relaxed,
                 assemble_forms(small_pool, relaxed, n_forms=2, solver="highs", time_limit_s=20))


def replace_band():
    from assembly import DifficultyBand

    return DifficultyBand("easy", 1, 2, min_count=6)


def test_bad_input_raises(small_pool: Pool) -> None:
    bp = small_blueprint()
    with pytest.raises(UnknownSolverError):
        assemble_forms(small_pool, bp, solver="gurobi", time_limit_s=5)
    with pytest.raises(AssemblyError, match="time_limit_s"):
        assemble_forms(small_pool, bp, time_limit_s=0)
    with pytest.raises(AssemblyError, match="rel_gap"):
        assemble_forms(small_pool, bp, time_limit_s=5, rel_gap=1.5)
    with pytest.raises(InvalidFormsError, match="NOPE"):
        assemble_forms(small_pool, bp, fixed_forms=[["NOPE"]], n_backups=1, time_limit_s=5)
    with pytest.raises(InvalidFormsError, match="leaked_form_index"):
        reassemble_after_leak(small_pool, bp, [["I000"]], 3, time_limit_s=5)


@pytest.mark.parametrize("objective", ["target_information", "target_tcc"])
def test_target_curves(small_pool: Pool, objective: str) -> None:
    """Target objectives: every paper's curve near the target, deviation reported as a minimum."""
    from assembly import IrtRule

    targets = (1.5, 2.0, 1.5) if objective == "target_information" else (4.0, 5.0, 6.0)
    bp = replace(small_blueprint(), irt=IrtRule(objective, thetas=(-1.0, 0.0, 1.0),
                                                targets=targets))
    result = assemble_forms(small_pool, bp, n_forms=2, solver="highs", time_limit_s=20,
                            rel_gap=0.05)
    assert_valid(small_pool, bp, result)
    assert result.report.sense == "min"
    assert 0 <= result.report.best_bound <= result.report.objective + 1e-6
    family = "information" if objective == "target_information" else "tcc"
    for paper in result.checks.papers:
        achieved = [row.achieved for row in paper.rows if row.family == family]
        assert max(abs(a - t) for a, t in zip(achieved, targets)) <= result.report.objective + 1e-3


def test_same_papers_again_at_bank_scale() -> None:
    """Reproducible: the same pool, blueprint and seed give the same papers (shadow test)."""
    pool = benchmark_pool(1200, seed=2)
    bp = benchmark_blueprint(100)
    runs = [assemble_forms(pool, bp, n_forms=2, n_backups=1, solver="highs", time_limit_s=30,
                           seed=5) for _ in range(2)]
    assert runs[0].status == "optimal"
    assert runs[0].forms == runs[1].forms


@pytest.mark.parametrize("solver", SOLVERS)
def test_every_phase_keeps_the_one_deadline(solver: str) -> None:
    """A run with a 3 s limit on a model too large for it (10,000 items, 10 papers sharing up
    to 20 items, and an infeasible row that calls for the elastic diagnosis) comes back within
    its limit plus the solvers' stopping grace, whatever phase it is in. (Not a speed claim:
    before issue 19 a 5 s limit took 17 minutes.)"""
    import time

    pool = benchmark_pool(10_000, seed=1)
    bp = benchmark_blueprint(100, max_overlap=20)
    started = time.perf_counter()
    result = assemble_forms(pool, bp, n_forms=10, solver=solver, time_limit_s=3.0)
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0 + 12.0, elapsed
    assert result.report.time_s <= elapsed + 1e-6
    # too little time for papers is said in words, and never claimed to be infeasible
    assert result.status in ("optimal", "feasible", "time_limit")


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_papers_of_the_shadow_split_keep_every_row_of_every_paper(solver: str) -> None:
    """A case hypothesis found: four usable items rated 3, 4, 1, 3, papers of three with a mean
    rating of at most 3, three papers sharing up to two items. CBC's shadow-test split once put
    3, 4, 3 on one paper (mean 3.33); the papers handed on must pass the independent check."""
    from assembly import Blueprint, DifficultyRule, PoolItem, TypeRule

    ratings = [3, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1]
    usable = {0, 1, 8, 11}
    items = [PoolItem(id=f"I{i:02d}", item_type="single_choice", points=1.0, element_codes=("E1",), time_s=10.0,
                      rating=ratings[i], p_value=None, a=None, b=None, c=0.0, D=1.0, usage_count=0,
                      last_used_session=None, compromised=i not in usable, set_id=None, version=1, retired=False)
             for i in range(14)]
    pool = Pool.from_items(items, current_session=5)
    bp = Blueprint(name="random", version=1, item_types=(TypeRule("single_choice", 3, 3.0),), part="theory",
                   level=None, elements=(), difficulty=DifficultyRule(mean_rating_max=3.0), max_overlap=2)
    result = assemble_forms(pool, bp, n_forms=2, n_backups=1, solver=solver, time_limit_s=10, rel_gap=0.1, seed=1,
                            formulation="auto")
    assert result.ok and len(result.forms) == 3
    assert check_forms(pool, bp, list(result.forms)).ok
    for form in result.forms:
        assert sum(ratings[int(i[1:])] for i in form) <= 9
