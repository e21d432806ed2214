"""Issue 19, point 4: a diagnosis states "the smallest fix" only when an optimal elastic solve
proved it; otherwise "a fix", with the counts. Every case here has a smallest fix known by
construction, and the fix is applied to show that it works."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assembly import (
    Blueprint,
    DifficultyBand,
    DifficultyRule,
    ElementRule,
    Pool,
    PoolItem,
    TypeRule,
    assemble_forms,
    benchmark_blueprint,
    benchmark_pool,
    diagnose,
    relax_blueprint,
)
from tests.assembly.conftest import make_items, small_blueprint

SOLVERS = ["highs", "cbc"]
SMALLEST = "the smallest fix (proven by solving to optimality): relax {n} rows"
A_FIX = ("a fix (not proven to be the smallest: the solve was stopped or worked on a "
         "restricted model): relax {n} rows")


def _bands_over_length(n_items: int, excess: int) -> tuple[DifficultyBand, ...]:
    """Three bands with disjoint ratings whose minimums add up to ``n_items + excess``."""
    easy = n_items // 3
    medium = n_items // 3
    hard = n_items - easy - medium + excess
    return (DifficultyBand("easy", 1, 2, min_count=easy), DifficultyBand("medium", 3, 3, min_count=medium),
            DifficultyBand("hard", 4, 5, min_count=hard))


@pytest.mark.parametrize("solver", SOLVERS)
def test_band_minimums_over_the_paper_length_need_one_row(solver: str) -> None:
    """The issue's case: band minimums adding up to 104 in a 100-item paper. Lowering one
    band by 4 is enough (one row); the counts say so at once and the elastic solve proves that
    no fix with fewer rows exists."""
    pool = benchmark_pool(1200, seed=2)
    bp = benchmark_blueprint(100)
    bp = replace(bp, difficulty=replace(bp.difficulty, bands=_bands_over_length(100, 4)))
    findings = [f for f in diagnose(pool, bp, 1) if f.severity == "error"]
    (band,) = [f for f in findings if f.row == "band_minimums"]
    assert (band.needed, band.available) == (104.0, 100.0)
    assert band.fix is not None and band.fix.msgid.startswith("a fix:")
    assert band.relaxation is not None and band.relaxation.needed == band.relaxation.target - 4
    result = assemble_forms(pool, bp, n_forms=1, solver=solver, time_limit_s=60)
    assert result.status == "infeasible" and result.report.formulation == "counts"
    assert len(result.relaxations) == 1, [r.message.english() for r in result.relaxations]
    (rel,) = result.relaxations
    assert rel.family == "band" and rel.bound == "min"
    # the counts are in the diagnosis whatever the elastic solve says
    assert band.message in result.diagnosis
    if result.diagnosis_proven:
        assert message_ids(result).count(SMALLEST) == 1 and rel.proven
        assert rel.target - rel.needed == pytest.approx(4)
    relaxed = relax_blueprint(bp, result.relaxations)
    assert sum(b.min_count for b in relaxed.difficulty.bands) <= 100
    assert assemble_forms(pool, relaxed, n_forms=1, solver=solver, time_limit_s=60).ok


def message_ids(result) -> list[str]:  # noqa: N802 - reads like the type it lists
    return [m.msgid for m in result.diagnosis]


def _type_element_pool() -> Pool:
    """Element E1 has only true/false items, all rated 1 (easy); E2/E3 only single choice,
    rated 2-5."""
    items = make_items(60)
    items = [replace(it, element_codes=("E1",), rating=1) if it.item_type == "true_false" else
             replace(it, element_codes=(f"E{2 + k % 2}",), rating=max(2, it.rating))
             for k, it in enumerate(items)]
    return Pool.from_items(items, current_session=5)


def _typed_blueprint(**difficulty) -> Blueprint:
    """6 single-choice and 2 true/false items per paper (points free), element E1 at least 4,
    and a mean-rating rule every paper meets."""
    return Blueprint(
        name="typed", version=1,
        item_types=(TypeRule("single_choice", 6), TypeRule("true_false", 2)),
        elements=(ElementRule("E1", min=4.0), ElementRule("E2", min=1.0), ElementRule("E3", min=1.0)),
        difficulty=DifficultyRule(mean_rating_min=1.0, mean_rating_max=4.6, **difficulty))


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_rule_already_met_is_never_named(solver: str) -> None:
    """Element E1 needs 4 items but has only true/false items, and a paper takes 2 of them:
    the counts pass (15 usable E1 items), the solve proves infeasibility, and the smallest fix
    is one row (E1's minimum or the true/false count). The mean-rating rule, which the
    papers meet, is not named."""
    pool = _type_element_pool()
    bp = _typed_blueprint()
    assert not [f for f in diagnose(pool, bp, 2) if f.severity == "error"]
    result = assemble_forms(pool, bp, n_forms=2, solver=solver, time_limit_s=30)
    assert result.status == "infeasible" and result.diagnosis_proven
    assert message_ids(result)[0] == SMALLEST and result.diagnosis[0].params["n"] == 1
    (rel,) = result.relaxations
    assert rel.proven and rel.name in ("element_E1_count", "type_true_false_count")
    relaxed = relax_blueprint(bp, result.relaxations)
    assert assemble_forms(pool, relaxed, n_forms=2, solver=solver, time_limit_s=30).ok


@pytest.mark.parametrize("solver", SOLVERS)
def test_one_row_that_fixes_two_conflicts_is_the_smallest_fix(solver: str) -> None:
    """E1 needs 4 items and the easy band 3, both served by true/false items only, of which a
    paper takes 2. Lowering both minimums fixes it with two rows; raising the true/false count
    to 4 fixes both with one row, and that is the only one-row fix: the proven smallest."""
    pool = _type_element_pool()
    bp = _typed_blueprint(bands=(DifficultyBand("easy", 1, 1, min_count=3),))
    assert not [f for f in diagnose(pool, bp, 1) if f.severity == "error"]
    result = assemble_forms(pool, bp, n_forms=1, solver=solver, time_limit_s=30)
    assert result.status == "infeasible" and result.diagnosis_proven
    assert message_ids(result)[0] == SMALLEST and result.diagnosis[0].params["n"] == 1
    (rel,) = result.relaxations
    assert (rel.name, rel.bound, rel.target, rel.needed) == ("type_true_false_count", "max", 2.0, 4.0)
    relaxed = relax_blueprint(bp, result.relaxations)
    assert assemble_forms(pool, relaxed, n_forms=1, solver=solver, time_limit_s=30).ok


def test_a_restricted_elastic_model_gives_a_fix_not_the_smallest() -> None:
    """Five papers sharing up to one item: the elastic model lets an item join at most two
    papers (a restricted model), so whatever it finds is "a fix" with its counts, never "the
    smallest fix", and no relaxation claims to be proven."""
    pool = _type_element_pool()
    bp = replace(_typed_blueprint(), max_overlap=1)
    assert not [f for f in diagnose(pool, bp, 5) if f.severity == "error"]
    result = assemble_forms(pool, bp, n_forms=5, solver="highs", time_limit_s=60)
    assert result.status == "infeasible" and not result.diagnosis_proven
    ids = message_ids(result)
    assert SMALLEST not in ids and A_FIX in ids
    assert result.diagnosis[ids.index(A_FIX)].params["n"] == len(result.relaxations) >= 1
    assert not any(r.proven for r in result.relaxations)
    # each relaxation says what the blueprint asks and what is possible (the counts)
    for r in result.relaxations:
        assert {"asked", "needed", "shortfall"} <= set(r.message.params)
    relaxed = relax_blueprint(bp, result.relaxations)
    assert assemble_forms(pool, relaxed, n_forms=5, solver="highs", time_limit_s=60).ok


def test_included_enemies_are_named_as_a_pair() -> None:
    pool = Pool.from_items(make_items(60), enemies=[("I003", "I007")], current_session=5)
    bp = replace(small_blueprint(max_overlap=2), include_items=("I003", "I007"))
    result = assemble_forms(pool, bp, n_forms=1, solver="highs", time_limit_s=20)
    assert result.status == "infeasible" and result.report.formulation == "counts"
    pair = [d for d in result.diagnosis if "first" in d.params and "second" in d.params]
    assert {(d.params["first"], d.params["second"]) for d in pair} == {("I003", "I007")}
    assert any(d.msgid.startswith("items {first} and {second} are both to be included") for d in pair)
    assert len(result.relaxations) == 1 and result.relaxations[0].family == "include"
    relaxed = relax_blueprint(bp, result.relaxations)
    assert len(relaxed.include_items) == 1
    assert assemble_forms(pool, relaxed, n_forms=1, solver="highs", time_limit_s=20).ok
