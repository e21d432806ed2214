"""Assemble parallel papers and backup papers: validate, build, solve, return a result.

Formulations (``formulation=``)
-------------------------------
``"direct"``
    One binary per (unit, paper), where a unit is a single item or a whole item set. (Ordering
    the interchangeable papers by information, a classic symmetry cut, is available in the
    builder but off: it slowed CBC's heuristics on these balanced models.) With an overlap
    allowance, one binary per (unit, set of papers sharing it) ("patterns"): the items two
    papers share are a linear sum, no binary per item and pair of papers is needed.
``"shadow"``
    Two stages after the big-shadow-test method (van der Linden 2005, *Linear Models for Optimal
    Test Design*, ch. 6 and 9). Stage 1 selects, from the whole pool, the items of all papers
    together: one slot with every row's bounds multiplied by the number of papers, one column per
    (unit, number of papers using it), enemy pairs as "uses of the two add up to at most the
    number of papers", every minimum row repeated with coefficients capped at the minimum (valid
    cuts). Every feasible set of papers gives a
    feasible stage-1 solution with the same objective, so stage 1 is a relaxation and its best
    bound is a valid bound of the whole problem. Stage 2 splits the chosen units into the papers:
    for disjoint papers by recursive halving (two-slot models, each side's rows scaled by the
    papers it stands for, enemies binding where a side is one paper); with overlap in one
    pattern model over the chosen units. With a maximin objective the halving split maximises a
    relative target (each paper's share of the shadow test's curve at every theta), which keeps
    the papers parallel at every theta and bounds the real objective from below; the pattern
    split keeps the blueprint's maximin (papers agree at the binding theta; a blueprint that
    needs them close elsewhere says so with ``parallel.information_tolerance``). The reported gap is the
    final papers' objective against the stage-1 bound. If a split fails, the whole split is
    solved in one model; if the gap is still above the requested one and time is left, the
    direct model is solved from the split as a MIP start (its bound, if better, replaces the
    stage-1 bound; skipped for models above 30,000 columns).
``"plain"``
    The reference of the benchmark: one binary per item and paper, sets linked by equalities,
    overlap through one binary per item and pair of papers, no symmetry cuts.
``"auto"``
    ``"shadow"`` for two or more new papers, else ``"direct"``.

With overlap allowed and more than four papers, an item may be shared by at most two papers
(the report says so; the bound then holds for that restricted problem).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np

from analysis.information import item_information_3pl, probability_3pl
from assembly.blueprint import Blueprint, validate_blueprint
from assembly.check import check_forms
from assembly.diagnosis import diagnose
from assembly.errors import (
    AssemblyError,
    InvalidFormsError,
    InvalidPoolError,
    UnknownSolverError,
)
from assembly.model import SOLVERS, ModelOutcome, ModelSpec, solve_model
from assembly.pool import Pool
from assembly.problem import Problem, compile_problem
from assembly.results import AssemblyResult, RowRelaxation, SolveReport

log = logging.getLogger(__name__)

FORMULATIONS = ("auto", "direct", "shadow", "plain")
_MAX_PATTERN_SMALL = 4
_MAX_POLISH_COLUMNS = 30_000  # direct-model columns up to which a shadow result is polished  # up to this many papers, an item may be shared by any number of them


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.perf_counter() + seconds

    def left(self) -> float:
        return max(0.0, self.end - time.perf_counter())


@dataclass(frozen=True)
class _Context:
    """Everything the formulations share for one run."""

    problem: Problem
    n_new: int
    fixed_units: tuple[tuple[int, ...], ...]
    fixed_curves: dict[str, np.ndarray]
    objective: str
    weights: tuple[float, ...]
    targets: tuple[float, ...]
    costs: np.ndarray
    solver: str
    rel_gap: float
    max_pattern: int
    abs_gap: float | None


# --------------------------------------------------------------------------------------
# Public API


def assemble_forms(
    pool: Pool,
    blueprint: Blueprint,
    *,
    n_forms: int | None = None,
    n_backups: int = 0,
    solver: str = "cbc",
    time_limit_s: float = 60.0,
    rel_gap: float = 0.01,
    seed: int = 0,
    fixed_forms: Sequence[Sequence[str]] | None = None,
    warm_start: Sequence[Sequence[str]] | None = None,
    formulation: str = "auto",
    explain: bool = True,
) -> AssemblyResult:
    """Assemble ``n_forms`` parallel papers and ``n_backups`` backup papers in one model.

    Parameters
    ----------
    pool, blueprint : the items and the paper specification; every paper meets every row.
    n_forms : main papers (default 1). With ``fixed_forms``: how many of the fixed papers are
        main papers (default all of them).
    n_backups : backup papers; with ``fixed_forms`` these are the only new papers, assembled
        against the fixed ones (overlap and parallelism to the fixed papers enforced).
    solver : "cbc" (bundled with PuLP) or "highs" (highspy).
    time_limit_s, rel_gap : limits for the whole run (all stages together).
    seed : seeds the tie-break between equally good items; same pool, blueprint and seed give the
        same papers whenever the run ends before its time limit.
    fixed_forms : sealed papers (item ids) to keep as they are.
    warm_start : item ids of the new papers to start from (MIP start of the direct model).
    formulation : "auto", "direct", "shadow" or "plain" (module docstring).
    explain : on infeasibility, run the elastic re-solve that names the rows to relax.

    Returns
    -------
    AssemblyResult; never raises for infeasibility or time limits (bad input raises
    :class:`~assembly.errors.AssemblyError` subclasses).
    """
    validate_blueprint(blueprint)
    fixed = [list(form) for form in fixed_forms] if fixed_forms is not None else []
    if fixed_forms is not None:
        n_main = len(fixed) if n_forms is None else n_forms
        if isinstance(n_main, int) and not 0 <= n_main <= len(fixed):
            raise InvalidFormsError(f"n_forms: {n_main} main papers but {len(fixed)} fixed papers")
        n_new = n_backups
    else:
        n_main = 1 if n_forms is None else n_forms
        n_new = n_main + n_backups
    _check_counts(n_main, n_backups, n_new)
    return _run(pool, blueprint, n_main=n_main, n_new=n_new, fixed=fixed, solver=solver,
                time_limit_s=time_limit_s, rel_gap=rel_gap, seed=seed, warm_start=warm_start,
                formulation=formulation, explain=explain, extra_reasons=None,
                insert_at=None)


def reassemble_after_leak(
    pool: Pool,
    blueprint: Blueprint,
    forms: AssemblyResult | Sequence[Sequence[str]],
    leaked_form_index: int,
    *,
    exclude_enemies: bool = True,
    solver: str = "cbc",
    time_limit_s: float = 60.0,
    rel_gap: float = 0.01,
    seed: int = 0,
    formulation: str = "direct",
    explain: bool = True,
) -> AssemblyResult:
    """Replace a leaked paper (附件16): a new paper without any item of the leaked one.

    The replacement excludes every item of the leaked paper (and their enemies when
    ``exclude_enemies``), keeps the overlap rule and stays parallel to the other papers, which
    are sealed and not changed. With a maximin objective the replacement's information curve is
    steered to the mean curve of the remaining papers (blueprint tolerances still apply).
    The result holds all papers, the replacement at ``leaked_form_index``.
    """
    validate_blueprint(blueprint)
    if isinstance(forms, AssemblyResult):
        all_forms = [list(f) for f in forms.forms]
        n_main = forms.n_forms
    else:
        all_forms = [list(f) for f in forms]
        n_main = len(all_forms)
    if not 0 <= leaked_form_index < len(all_forms):
        raise InvalidFormsError(f"leaked_form_index {leaked_form_index}: there are "
                                f"{len(all_forms)} papers")
    leaked = all_forms[leaked_form_index]
    leaked_idx = _indices(pool, leaked, f"paper {leaked_form_index}")
    extra: dict[int, str] = {i: "leaked" for i in leaked_idx}
    if exclude_enemies:
        leaked_set = set(leaked_idx)
        for i, j in pool.enemy_pairs.tolist():
            if i in leaked_set and j not in leaked_set:
                extra.setdefault(j, "enemy_of_leaked")
            if j in leaked_set and i not in leaked_set:
                extra.setdefault(i, "enemy_of_leaked")
    others = [f for k, f in enumerate(all_forms) if k != leaked_form_index]
    result = _run(pool, blueprint, n_main=n_main, n_new=1, fixed=others, solver=solver,
                  time_limit_s=time_limit_s, rel_gap=rel_gap, seed=seed, warm_start=None,
                  formulation=formulation, explain=explain, extra_reasons=extra,
                  insert_at=leaked_form_index)
    return replace(result, notes=result.notes + (
        f"replacement for leaked paper {leaked_form_index}: {len(leaked)} leaked items"
        + (f" and {sum(v == 'enemy_of_leaked' for v in extra.values())} of their enemies"
           if exclude_enemies else "") + " excluded",))


# --------------------------------------------------------------------------------------
# The run


def _check_counts(n_main: int, n_backups: int, n_new: int) -> None:
    for name, value in (("n_forms", n_main), ("n_backups", n_backups)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidFormsError(f"{name} must be a non-negative integer, got {value!r}")
    if n_new < 1:
        raise InvalidFormsError("nothing to assemble: ask for at least one new paper")


def _indices(pool: Pool, ids: Sequence[str], what: str) -> list[int]:
    out = []
    for item_id in ids:
        if item_id not in pool.index:
            raise InvalidFormsError(f"{what}: item {item_id!r} is not in the pool")
        out.append(pool.index[item_id])
    return out


def _run(pool: Pool, bp: Blueprint, *, n_main: int, n_new: int, fixed: list[list[str]],
         solver: str, time_limit_s: float, rel_gap: float, seed: int,
         warm_start: Sequence[Sequence[str]] | None, formulation: str, explain: bool,
         extra_reasons: dict[int, str] | None, insert_at: int | None) -> AssemblyResult:
    if not isinstance(pool, Pool):
        raise InvalidPoolError(f"pool must be a Pool, got {type(pool).__name__}")
    if solver not in SOLVERS:
        raise UnknownSolverError(f"solver {solver!r}: use one of {SOLVERS}")
    if formulation not in FORMULATIONS:
        raise AssemblyError(f"formulation {formulation!r}: use one of {FORMULATIONS}")
    if not (isinstance(time_limit_s, (int, float)) and time_limit_s > 0):
        raise AssemblyError(f"time_limit_s must be positive, got {time_limit_s!r}")
    if not (isinstance(rel_gap, (int, float)) and 0 <= rel_gap < 1):
        raise AssemblyError(f"rel_gap must be in [0, 1), got {rel_gap!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise AssemblyError(f"seed must be an integer, got {seed!r}")
    fixed_idx = [_indices(pool, form, f"fixed paper {h}") for h, form in enumerate(fixed)]
    deadline = _Deadline(time_limit_s)
    started = time.perf_counter()
    problem = compile_problem(pool, bp, aggregate_sets=formulation != "plain",
                              extra_reasons=extra_reasons)
    ctx = _context(problem, bp, n_new, fixed_idx, solver, rel_gap, seed)
    findings = diagnose(pool, bp, n_new, extra_reasons=extra_reasons, problem=problem)
    errors = [f for f in findings if f.severity == "error"]
    notes: list[str] = [f.message for f in findings if f.severity == "warning"]
    if ctx.objective != bp.irt.objective:
        notes.append("maximin information replaced by the mean information curve of the sealed "
                     "papers as target, so that the new papers are parallel to them")

    outcome_forms: list[list[int]] | None = None
    if errors:
        report = SolveReport(solver="none", status="infeasible", objective=None, best_bound=None,
                             rel_gap=None, time_s=time.perf_counter() - started, n_variables=0,
                             n_binaries=0, n_constraints=0, sense=_sense(ctx),
                             formulation="pre-solve count checks", time_limit_s=time_limit_s,
                             rel_gap_limit=rel_gap, solver_status="not solved: counts fail")
    else:
        chosen = formulation
        if chosen == "auto":
            chosen = "shadow" if n_new >= 2 else "direct"
        if chosen == "shadow" and n_new < 2:
            chosen = "direct"
        if chosen == "shadow":
            report, outcome_forms = _solve_shadow(ctx, deadline, time_limit_s)
        else:
            initial = _warm_columns(ctx, warm_start, pool) if warm_start else None
            report, outcome_forms = _solve_direct(ctx, deadline, time_limit_s,
                                                  plain=chosen == "plain", initial=initial)
    status = report.status
    new_forms = [_paper_order(pool, bp, items) for items in outcome_forms] if outcome_forms else []
    if status in ("optimal", "feasible"):
        new_forms = _sort_new_forms(new_forms)
    all_ids, new_positions = _place(fixed, new_forms, insert_at)
    sealed = [k for k in range(len(all_ids)) if k not in new_positions]
    checks = check_forms(pool, bp, all_ids, sealed=sealed) if new_forms else None
    diagnosis: list[str] = [f.message for f in errors]
    relaxations: tuple[RowRelaxation, ...] = ()
    if checks is not None and not checks.ok:
        # should never happen: the model and the independent checker disagree
        log.error("assembled papers fail the independent check: %s", checks.violations)
        diagnosis.append("internal check failed: " + "; ".join(checks.violations))
    if status == "infeasible" and explain:
        relaxations, messages = _elastic(ctx, deadline, max(5.0, min(30.0, time_limit_s)))
        diagnosis += messages
    elif status == "time_limit":
        diagnosis.append(f"no papers found within {time_limit_s:g} s; feasibility unknown "
                         f"(give more time, or see the warnings)")
    if status == "infeasible" and not diagnosis:
        diagnosis.append("the blueprint rows cannot all hold together")
    return AssemblyResult(
        status=status,
        forms=tuple(tuple(f) for f in all_ids) if new_forms else (),
        n_forms=n_main,
        n_backups=(len(all_ids) if new_forms else len(fixed) + n_new) - n_main,
        report=report,
        checks=checks,
        diagnosis=tuple(diagnosis),
        relaxations=relaxations,
        seed=int(seed),
        blueprint_name=bp.name,
        blueprint_version=bp.version,
        pool_fingerprint=pool.fingerprint(),
        pool_snapshot=pool.snapshot(),
        fixed_forms=tuple(tuple(f) for f in fixed),
        new_form_indices=tuple(new_positions),
        notes=tuple(notes),
    )


def _place(fixed: list[list[str]], new: list[list[str]], insert_at: int | None
           ) -> tuple[list[list[str]], list[int]]:
    if not new:
        return [list(f) for f in fixed], []
    if insert_at is None:
        return [list(f) for f in fixed] + new, list(range(len(fixed), len(fixed) + len(new)))
    out = [list(f) for f in fixed]
    out.insert(insert_at, new[0])
    return out, [insert_at]


def _paper_order(pool: Pool, bp: Blueprint, items: list[int]) -> list[str]:
    """Items of a paper in a stable order: blueprint type order, then pool order."""
    rank = {rule.item_type: k for k, rule in enumerate(bp.item_types)}
    return [pool.ids[i] for i in sorted(items, key=lambda i: (rank.get(pool.item_types[i], 99), i))]


def _sort_new_forms(forms: list[list[str]]) -> list[list[str]]:
    """New papers in a canonical order (by their first item id) so that the same solution
    always comes back in the same order."""
    return sorted(forms, key=lambda f: sorted(f)[0] if f else "")


def _context(problem: Problem, bp: Blueprint, n_new: int, fixed_idx: list[list[int]],
             solver: str, rel_gap: float, seed: int) -> _Context:
    pool = problem.pool
    thetas = problem.thetas
    fixed_units = tuple(tuple(sorted({int(problem.item_unit[i]) for i in form
                                      if problem.item_unit[i] >= 0})) for form in fixed_idx)
    curves: dict[str, np.ndarray] = {}
    if fixed_idx:
        info_rows, tcc_rows, ratings = [], [], []
        for form in fixed_idx:
            sel = np.array([i for i in form if pool.calibrated[i]], dtype=np.int64)
            info = np.zeros(len(thetas))
            tcc = np.zeros(len(thetas))
            for i in sel:
                info += item_information_3pl(thetas, pool.a[i], pool.b[i], pool.c[i],
                                             D=float(pool.D[i]))[:, 0]
                tcc += probability_3pl(thetas, pool.a[i], pool.b[i], pool.c[i],
                                       D=float(pool.D[i]))[:, 0] * pool.points[i]
            info_rows.append(info)
            tcc_rows.append(tcc)
            ratings.append(float(pool.ratings[form].sum()))
        curves = {"information": np.array(info_rows).reshape(len(fixed_idx), len(thetas)),
                  "tcc": np.array(tcc_rows).reshape(len(fixed_idx), len(thetas)),
                  "rating": np.array(ratings)}
    irt = bp.irt
    objective = irt.objective
    weights = tuple(irt.weights) if irt.weights else tuple(1.0 for _ in irt.thetas)
    targets = tuple(irt.targets)
    if objective == "maximin" and fixed_idx:
        objective = "target_information"
        targets = tuple(float(v) for v in curves["information"].mean(axis=0))
    # costs: exposure penalty plus a seeded tie-break far below the objective's resolution
    rng = np.random.default_rng(seed)
    if problem.n_units and objective != "none":
        curve = problem.information if objective != "target_tcc" else problem.tcc
        per_item = float(curve.mean()) / max(1.0, float(problem.counts.mean()))
        scale = 1e-4 * max(per_item, 1e-3)
    else:
        scale = 1e-3
    costs = bp.exposure.usage_weight * problem.usage + scale * rng.random(problem.n_units)
    k = bp.max_overlap
    max_pattern = 1 if k == 0 else (n_new if (n_new <= _MAX_PATTERN_SMALL or problem.include_units)
                                    else 2)
    # a target objective is a deviation whose optimum may be near 0, where a relative gap never
    # closes: such runs also stop within rel_gap of the mean target (absolute gap)
    abs_gap = rel_gap * float(np.mean(np.abs(targets))) \
        if objective in ("target_information", "target_tcc") and targets else None
    return _Context(problem, n_new, fixed_units, curves, objective, weights, targets, costs,
                    solver, rel_gap, max(1, min(max_pattern, n_new)), abs_gap)


def _sense(ctx: _Context) -> str:
    return "max" if ctx.objective == "maximin" else "min"


def _base_spec(ctx: _Context, **kw: object) -> dict[str, object]:
    bp = ctx.problem.blueprint
    spec: dict[str, object] = dict(
        fixed_units=ctx.fixed_units, fixed_curves=ctx.fixed_curves, objective=ctx.objective,
        objective_weights=ctx.weights, objective_targets=ctx.targets, costs=ctx.costs,
        information_tolerance=bp.parallel.information_tolerance,
        tcc_tolerance=bp.parallel.tcc_tolerance,
        rating_tolerance=bp.parallel.mean_rating_tolerance,
        n_items_per_paper=bp.n_items, max_overlap=bp.max_overlap)
    spec.update(kw)
    return spec


def _direct_columns(ctx: _Context) -> tuple[np.ndarray, tuple[tuple[int, ...], ...]]:
    n_units = ctx.problem.n_units
    patterns = [p for size in range(1, ctx.max_pattern + 1)
                for p in combinations(range(ctx.n_new), size)]
    units = np.repeat(np.arange(n_units, dtype=np.int64), len(patterns))
    slots = tuple(patterns) * n_units
    return units, slots


def _direct_spec(ctx: _Context, *, plain: bool = False, elastic: bool = False) -> ModelSpec:
    n_units = ctx.problem.n_units
    overlap = ctx.problem.blueprint.max_overlap > 0 and ctx.n_new > 1
    if plain:
        units = np.repeat(np.arange(n_units, dtype=np.int64), ctx.n_new)
        slots = tuple((s,) for s in range(ctx.n_new)) * n_units
        return ModelSpec(units=units, slots=slots, weights=np.ones(len(units), dtype=np.int64),
                         n_slots=ctx.n_new, unit_once=not overlap,
                         overlap_mode="linearised" if overlap else "none",
                         set_links=ctx.problem.set_links, name="plain",
                         **_base_spec(ctx))  # type: ignore[arg-type]
    if elastic and ctx.n_new > 1:
        # the elastic model may share units between papers, so that the overlap rule is a row
        # it can relax like any other
        patterns = min(ctx.n_new, _MAX_PATTERN_SMALL) if ctx.n_new <= _MAX_PATTERN_SMALL else 2
        if n_units * sum(math.comb(ctx.n_new, k) for k in range(1, patterns + 1)) <= 200_000:
            ctx = replace(ctx, max_pattern=patterns)
            overlap = True
    units, slots = _direct_columns(ctx)
    return ModelSpec(units=units, slots=slots, weights=np.ones(len(units), dtype=np.int64),
                     n_slots=ctx.n_new, overlap_mode="patterns" if overlap else "none",
                     symmetry=False, elastic=elastic,
                     name="elastic" if elastic else "direct",
                     **_base_spec(ctx))  # type: ignore[arg-type]


def _forms_from(ctx: _Context, spec: ModelSpec, values: np.ndarray) -> list[list[int]]:
    forms: list[list[int]] = [[] for _ in range(spec.n_slots)]
    for c in np.flatnonzero(values > 0.5):
        for s in spec.slots[c]:
            forms[s].extend(int(i) for i in ctx.problem.unit_items[spec.units[c]])
    return forms


def _objective_min(ctx: _Context, forms: list[list[int]]) -> float:
    """The objective (minimisation sense) of papers, computed from the items themselves."""
    p = ctx.problem
    unit_sets = [sorted({int(p.item_unit[i]) for i in form}) for form in forms]
    cost = sum(float(ctx.costs[units].sum()) for units in unit_sets)
    if ctx.objective == "maximin":
        values = [float(p.information[k, units].sum()) / w
                  for units in unit_sets for k, w in enumerate(ctx.weights)]
        return -min(values) + cost
    if ctx.objective in ("target_information", "target_tcc"):
        curve = p.information if ctx.objective == "target_information" else p.tcc
        dev = max(abs(float(curve[k, units].sum()) - t)
                  for units in unit_sets for k, t in enumerate(ctx.targets))
        return dev + cost
    return cost


def _report(ctx: _Context, *, status: str, forms: list[list[int]] | None, bound_min: float | None,
            time_s: float, outcome: ModelOutcome, formulation: str, time_limit_s: float,
            stages: tuple[SolveReport, ...] = ()) -> SolveReport:
    sign = -1.0 if _sense(ctx) == "max" else 1.0
    objective = _objective_min(ctx, forms) if forms else None
    gap = None
    if objective is not None and bound_min is not None:
        gap = max(0.0, objective - bound_min) / max(abs(objective), 1e-9)
    return SolveReport(
        solver=ctx.solver, status=status,
        objective=None if objective is None else sign * objective,
        best_bound=None if bound_min is None else sign * bound_min,
        rel_gap=gap, time_s=time_s, n_variables=outcome.n_variables,
        n_binaries=outcome.n_binaries, n_constraints=outcome.n_constraints, sense=_sense(ctx),
        formulation=formulation, time_limit_s=time_limit_s, rel_gap_limit=ctx.rel_gap,
        solver_status=outcome.solver_status, stages=stages)


def _stage_report(ctx: _Context, outcome: ModelOutcome, name: str, time_limit_s: float,
                  sense_sign: float) -> SolveReport:
    obj, bound = outcome.objective, outcome.best_bound
    gap = None
    if obj is not None and bound is not None:
        gap = max(0.0, obj - bound) / max(abs(obj), 1e-9)
    return SolveReport(
        solver=ctx.solver, status=outcome.status,
        objective=None if obj is None else sense_sign * obj,
        best_bound=None if bound is None else sense_sign * bound, rel_gap=gap,
        time_s=outcome.time_s, n_variables=outcome.n_variables, n_binaries=outcome.n_binaries,
        n_constraints=outcome.n_constraints, sense=_sense(ctx), formulation=name,
        time_limit_s=time_limit_s, rel_gap_limit=ctx.rel_gap, solver_status=outcome.solver_status)


def _pattern_note(ctx: _Context) -> str:
    if ctx.problem.blueprint.max_overlap == 0 or ctx.n_new < 2:
        return ""
    if ctx.max_pattern < ctx.n_new:
        return f"; an item is shared by at most {ctx.max_pattern} papers (bound for that problem)"
    return ""


def _solve_direct(ctx: _Context, deadline: _Deadline, time_limit_s: float, *, plain: bool,
                  initial: np.ndarray | None) -> tuple[SolveReport, list[list[int]] | None]:
    spec = _direct_spec(ctx, plain=plain)
    outcome = solve_model(ctx.problem, spec, solver=ctx.solver, time_limit_s=deadline.left(),
                          rel_gap=ctx.rel_gap, initial=initial, abs_gap=ctx.abs_gap)
    forms = _forms_from(ctx, spec, outcome.column_values) if outcome.column_values is not None \
        else None
    if plain:
        name = "plain: one binary per item and paper" + (
            ", one binary per item and pair of papers for overlap" if spec.overlap_mode ==
            "linearised" else "") + "; bound from the solver"
    else:
        name = ("direct: one binary per unit (item or whole set) and paper"
                if spec.overlap_mode == "none" else
                "direct: one binary per unit and pattern of papers sharing it") + \
            "; bound from the solver" + _pattern_note(ctx)
    report = _report(ctx, status=outcome.status, forms=forms, bound_min=outcome.best_bound,
                     time_s=outcome.time_s, outcome=outcome, formulation=name,
                     time_limit_s=time_limit_s)
    return report, forms


def _solve_shadow(ctx: _Context, deadline: _Deadline, time_limit_s: float
                  ) -> tuple[SolveReport, list[list[int]] | None]:
    p = ctx.problem
    n = ctx.n_new
    sense_sign = -1.0 if _sense(ctx) == "max" else 1.0
    # stage 1: the shadow test of all papers together (a relaxation: valid bound)
    m_max = ctx.max_pattern
    units = np.repeat(np.arange(p.n_units, dtype=np.int64), m_max)
    weights = np.tile(np.arange(1, m_max + 1, dtype=np.int64), p.n_units)
    spec1 = ModelSpec(units=units, slots=((0,),) * len(units), weights=weights, n_slots=1,
                      row_scale=float(n), overlap_mode="budget" if m_max > 1 else "none",
                      budget_pairs=math.comb(n, 2), name="shadow_stage1", unit_cuts=True,
                      **_base_spec(ctx, information_tolerance=None, tcc_tolerance=None,
                                   rating_tolerance=None))  # type: ignore[arg-type]
    out1 = solve_model(p, spec1, solver=ctx.solver, time_limit_s=0.45 * deadline.left(),
                       rel_gap=ctx.rel_gap / 4, abs_gap=ctx.abs_gap)
    stage1 = _stage_report(ctx, out1, "stage 1: shadow test of all papers", time_limit_s,
                           sense_sign)
    if out1.status == "infeasible":
        report = _report(ctx, status="infeasible", forms=None, bound_min=None,
                         time_s=out1.time_s, outcome=out1,
                         formulation="shadow stage 1 (a relaxation) is infeasible, so is the "
                                     "problem", time_limit_s=time_limit_s, stages=(stage1,))
        return report, None
    if out1.column_values is None:
        log.info("shadow stage 1 found nothing; solving the direct model")
        report, forms = _solve_direct(ctx, deadline, time_limit_s, plain=False, initial=None)
        return replace(report, formulation=report.formulation + " (after shadow stage 1 "
                                                                "found no solution)",
                       stages=(stage1,) + report.stages), forms
    bound1 = out1.best_bound
    chosen = np.flatnonzero(out1.column_values > 0.5)
    # stage 2: split the chosen units into the papers
    shared = any(int(spec1.weights[c]) > 1 for c in chosen)
    chosen_units = [int(spec1.units[c]) for c in chosen]
    stage2_weights = ctx.weights
    if ctx.objective == "maximin":
        # relative target: each paper's share of the shadow test's curve at every theta
        # (van der Linden 2005, ch. 5 "relative targets"). With mean curve m_k and
        # r = min_k m_k / w_k, weights m_k / r >= w_k, so a paper with information >= y * m_k / r
        # at every theta has maximin value >= y: the split's y is a lower bound of the real
        # objective, and the papers come out parallel at every theta, not only the binding one.
        mean_curve = np.array([sum(float(p.information[k, spec1.units[c]]) * int(spec1.weights[c])
                                   for c in chosen) / n for k in range(len(ctx.weights))])
        r = float(min(mean_curve / np.array(ctx.weights)))
        if r > 0:
            stage2_weights = tuple(float(v) / r for v in mean_curve)
    bp = p.blueprint
    tolerances = (bp.parallel.information_tolerance, bp.parallel.tcc_tolerance,
                  bp.parallel.mean_rating_tolerance)
    use_bisection = not shared and (not ctx.fixed_units or all(t is None for t in tolerances))
    forms: list[list[int]] | None = None
    stages: tuple[SolveReport, ...] = (stage1,)
    name = ""
    if use_bisection:
        forms, split_reports = _split_bisection(ctx, chosen_units, n, deadline, stage2_weights,
                                                time_limit_s, sense_sign,
                                                _stage2_gap(ctx, stage1) / max(1, math.ceil(math.log2(n))))
        stages = (stage1,) + tuple(split_reports)
        name = ("shadow test (van der Linden 2005, ch. 6): stage 1 selects all papers' units at "
                "once (relaxation, bound), stage 2 splits them by recursive halving")
    if not use_bisection or (forms is None and deadline.left() > 1.0):
        if use_bisection:
            log.info("a halving split failed; splitting the shadow test in one model")
            name += " (a halving split failed: split in one model instead)"
        col_units: list[int] = []
        col_slots: list[tuple[int, ...]] = []
        for c in chosen:
            m = int(spec1.weights[c])
            for pattern in combinations(range(n), m):
                col_units.append(int(spec1.units[c]))
                col_slots.append(pattern)
        spec2 = ModelSpec(units=np.array(col_units, dtype=np.int64), slots=tuple(col_slots),
                          weights=np.ones(len(col_units), dtype=np.int64), n_slots=n,
                          unit_equal=True, overlap_mode="patterns" if shared else "none",
                          name="shadow_stage2",
                          # the blueprint's own weights here: with shared items, the relative
                          # target stalled CBC on some banks (bench seeds 1, 2)
                          **_base_spec(ctx))  # type: ignore[arg-type]
        out2 = solve_model(p, spec2, solver=ctx.solver, time_limit_s=0.7 * deadline.left(),
                           rel_gap=_stage2_gap(ctx, stage1), abs_gap=ctx.abs_gap)
        stage2 = _stage_report(ctx, out2, "stage 2: split of the shadow test into papers",
                               time_limit_s, sense_sign)
        forms = _forms_from(ctx, spec2, out2.column_values) \
            if out2.column_values is not None else None
        if use_bisection:
            stages = stages + (stage2,)
        else:
            stages = (stage1, stage2)
            name = ("shadow test (van der Linden 2005, ch. 6): stage 1 selects all papers' units "
                    "at once (relaxation, bound), stage 2 splits them" + _pattern_note(ctx))
    objective = _objective_min(ctx, forms) if forms else None
    gap = None
    if objective is not None and bound1 is not None:
        gap = max(0.0, objective - bound1) / max(abs(objective), 1e-9)
    bound = bound1
    direct_size = p.n_units * len(_direct_columns(ctx)[1]) // max(1, p.n_units)
    good_enough = gap is not None and (gap <= ctx.rel_gap + 1e-9 or (
        ctx.abs_gap is not None and objective - bound1 <= ctx.abs_gap + 1e-9))
    if forms is None or not good_enough:
        # polish: the direct model from the split as MIP start; keep the better bound. Skipped
        # for very large models, whose building alone would eat the time left.
        if deadline.left() > 2.0 and direct_size <= _MAX_POLISH_COLUMNS:
            spec3 = _direct_spec(ctx)
            initial = _initial_for(ctx, spec3, forms) if forms else None
            out3 = solve_model(p, spec3, solver=ctx.solver, time_limit_s=deadline.left(),
                               rel_gap=ctx.rel_gap, initial=initial, abs_gap=ctx.abs_gap)
            stages = stages + (_stage_report(ctx, out3, "stage 3: direct model from the split",
                                             time_limit_s, sense_sign),)
            if out3.column_values is not None:
                forms3 = _forms_from(ctx, spec3, out3.column_values)
                if forms is None or _objective_min(ctx, forms3) < objective - 1e-12:
                    forms = forms3
                    objective = _objective_min(ctx, forms)
            if out3.best_bound is not None:
                bound = out3.best_bound if bound is None else max(bound, out3.best_bound)
            if out3.status == "infeasible":
                return _report(ctx, status="infeasible", forms=None, bound_min=None,
                               time_s=sum(s.time_s for s in stages), outcome=out3,
                               formulation="direct model (after the shadow split) is "
                                           "infeasible", time_limit_s=time_limit_s,
                               stages=stages), None
            name += "; then the direct model from the split (better of the two bounds)"
    if forms is None:
        status = "time_limit"
    else:
        gap = None if bound is None else max(0.0, objective - bound) / max(abs(objective), 1e-9)
        status = "optimal" if gap is not None and (
            gap <= ctx.rel_gap + 1e-9
            or (ctx.abs_gap is not None and objective - bound <= ctx.abs_gap + 1e-9)) \
            else "feasible"
    largest = max(stages, key=lambda s: s.n_variables)
    report = SolveReport(
        solver=ctx.solver, status=status,
        objective=None if forms is None else sense_sign * objective,
        best_bound=None if bound is None else sense_sign * bound,
        rel_gap=None if forms is None or bound is None else gap,
        time_s=sum(s.time_s for s in stages), n_variables=largest.n_variables,
        n_binaries=largest.n_binaries, n_constraints=largest.n_constraints, sense=_sense(ctx),
        formulation=name, time_limit_s=time_limit_s, rel_gap_limit=ctx.rel_gap,
        solver_status="; ".join(f"{s.formulation.split(':')[0]}: {s.status}" for s in stages),
        stages=stages)
    return report, forms


def _stage2_gap(ctx: _Context, stage1: SolveReport) -> float:
    """Relative gap for the split: what the requested gap leaves after stage 1's own gap.

    The split's objective is measured against its own bound, which is at least stage 1's
    bound, so the final gap against stage 1's bound is at most about the sum of both.
    """
    used = stage1.rel_gap or 0.0
    return max(ctx.rel_gap / 4, 0.9 * ctx.rel_gap - used)


def _split_bisection(ctx: _Context, units: list[int], n: int, deadline: _Deadline,
                     weights: tuple[float, ...], time_limit_s: float, sense_sign: float,
                     gap: float) -> tuple[list[list[int]] | None, list[SolveReport]]:
    """Split a disjoint shadow test of ``n`` papers by recursive halving.

    Each split is a two-slot model, slot sizes k1 = k // 2 and k2 = k - k1 papers, every row
    scaled by the slot's size, enemies binding in slots of one paper, parallelism tolerances as
    fixed bands of half the tolerance around the shadow test's mean paper (so that any two
    papers end within the tolerance). Returns the papers (item indices) or None when a split
    fails. ``gap`` is the relative gap of each split (losses add up over the levels).
    """
    p = ctx.problem
    bp = p.blueprint
    bands: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    unit_arr = np.array(units, dtype=np.int64)
    for metric, tol in (("information", bp.parallel.information_tolerance),
                        ("tcc", bp.parallel.tcc_tolerance)):
        if tol is not None:
            curve = p.information if metric == "information" else p.tcc
            mean = curve[:, unit_arr].sum(axis=1) / n
            bands[metric] = (mean - tol / 2, mean + tol / 2)
    if bp.parallel.mean_rating_tolerance is not None:
        mean = np.array([p.ratings[unit_arr].sum() / n])
        half = bp.parallel.mean_rating_tolerance * bp.n_items / 2
        bands["rating"] = (mean - half, mean + half)
    reports: list[SolveReport] = []
    splits_left = [n - 1]

    def split(node: list[int], k: int) -> list[list[int]] | None:
        if k == 1:
            return [node]
        k1, k2 = k // 2, k - k // 2
        spec = ModelSpec(
            units=np.repeat(np.array(node, dtype=np.int64), 2),
            slots=((0,), (1,)) * len(node), weights=np.ones(2 * len(node), dtype=np.int64),
            n_slots=2, unit_equal=True, slot_scales=(float(k1), float(k2)),
            fixed_bands=bands, name=f"split_{k}", unit_cuts=True,
            **_base_spec(ctx, objective_weights=weights, information_tolerance=None,
                         tcc_tolerance=None, rating_tolerance=None))  # type: ignore[arg-type]
        budget = deadline.left() * min(1.0, 2.0 * k / max(1, splits_left[0] + k - 1)) \
            if splits_left[0] > 0 else deadline.left()
        out = solve_model(p, spec, solver=ctx.solver, time_limit_s=max(0.5, budget),
                          rel_gap=gap, abs_gap=ctx.abs_gap)
        splits_left[0] -= 1
        reports.append(_stage_report(ctx, out, f"stage 2: split {k} papers into {k1} + {k2}",
                                     time_limit_s, sense_sign))
        if out.column_values is None:
            return None
        values = out.column_values.reshape(len(node), 2)
        left = [u for u, v in zip(node, values[:, 0]) if v > 0.5]
        right = [u for u, v in zip(node, values[:, 1]) if v > 0.5]
        first = split(left, k1)
        second = split(right, k2) if first is not None else None
        return None if first is None or second is None else first + second

    unit_forms = split(list(units), n)
    if unit_forms is None:
        return None, reports
    return [[int(i) for u in form for i in p.unit_items[u]] for form in unit_forms], reports


def _initial_for(ctx: _Context, spec: ModelSpec, forms: list[list[int]]) -> np.ndarray:
    """Column values of ``spec`` that reproduce ``forms`` (a MIP start)."""
    p = ctx.problem
    unit_slots: dict[int, set[int]] = {}
    for s, form in enumerate(forms):
        for i in form:
            unit_slots.setdefault(int(p.item_unit[i]), set()).add(s)
    values = np.zeros(len(spec.units))
    for c, (u, slots) in enumerate(zip(spec.units, spec.slots)):
        if set(slots) == unit_slots.get(int(u), set()):
            values[c] = 1.0
    return values


def _warm_columns(ctx: _Context, warm_start: Sequence[Sequence[str]], pool: Pool) -> np.ndarray:
    if len(warm_start) != ctx.n_new:
        raise InvalidFormsError(f"warm_start: {len(warm_start)} papers for {ctx.n_new} new papers")
    forms = [_indices(pool, form, f"warm_start paper {k}") for k, form in enumerate(warm_start)]
    forms = [[i for i in form if ctx.problem.item_unit[i] >= 0] for form in forms]
    return _initial_for(ctx, _direct_spec(ctx), forms)


# --------------------------------------------------------------------------------------
# Elastic diagnosis


def _elastic(ctx: _Context, deadline: _Deadline, limit_s: float
             ) -> tuple[tuple[RowRelaxation, ...], list[str]]:
    """Smallest set of blueprint rows to relax (one switch per row, shared by all papers)."""
    p = ctx.problem
    spec = _direct_spec(ctx, elastic=True)
    # the objective is the number of switched rows (some priced 1.25 or 1.5) plus slack totals
    # far below that: an absolute gap of 0.2 proves the smallest set
    out = solve_model(p, spec, solver=ctx.solver, time_limit_s=limit_s, rel_gap=0.0,
                      abs_gap=0.2)
    if out.column_values is None:
        if out.status == "infeasible":
            return (), ["even with every blueprint row relaxed (keeping at least one item of "
                        "each type) no papers are possible: too few eligible items or item sets "
                        "for this many papers"]
        return (), [f"the elastic re-solve found no answer within {limit_s:g} s"]
    forms = _forms_from(ctx, spec, out.column_values)
    unit_sets = [np.array(sorted({int(p.item_unit[i]) for i in form}), dtype=np.int64)
                 for form in forms]
    rows = {row.name: row for row in p.rows}
    pool = p.pool
    relaxations: list[RowRelaxation] = []
    for key in sorted(out.relaxed):
        name, _, bound = key.partition(":")
        if name in rows:
            row = rows[name]
            achieved = [float(row.coeffs[units].sum()) for units in unit_sets]
            if row.family in ("mean_rating", "mean_p"):
                bound = row.key  # rows mean_rating_min / mean_rating_max are both ">= 0"
                means = []
                for form in forms:
                    if row.family == "mean_rating":
                        means.append(float(pool.ratings[form].mean()) if form else 0.0)
                    else:
                        ps = pool.p_values[form]
                        ps = ps[~np.isnan(ps)]
                        means.append(float(ps.mean()) if len(ps) else 0.0)
                bp = p.blueprint.difficulty
                target = getattr(bp, f"{row.family}_{bound}")
                needed = min(means) if bound == "min" else max(means)
                label = "mean expert rating" if row.family == "mean_rating" else "mean p"
                relaxations.append(_relaxation(name, row.family, "mean", bound, target, needed,
                                               label))
                continue
            exact = not bound
            if exact:  # equality row
                target = float(row.lo)  # type: ignore[arg-type]
                needed = max(achieved, key=lambda v: abs(v - target))
                bound = "min" if needed < target else "max"
            else:
                target = float(row.lo if bound == "min" else row.hi)  # type: ignore[arg-type]
                needed = min(achieved) if bound == "min" else max(achieved)
            family = row.family
            if family == "time":
                relaxations.append(_relaxation(name, "time", bound, bound, target, needed,
                                               "total estimated time (s)"))
            else:
                relaxations.append(_relaxation(name, family, row.key, bound, target, needed,
                                               row.label, exact=exact))
        elif name == "include":
            relaxations.append(RowRelaxation(
                key, "include", bound, "min", 1.0, 0.0, 1.0,
                f"item {bound} cannot be included in every paper together with the other rows"))
        elif name == "max_overlap":
            all_sets = [set(u.tolist()) for u in unit_sets] + [set(f) for f in ctx.fixed_units]
            worst = 0.0
            for a, b in combinations(range(len(all_sets)), 2):
                if a >= len(unit_sets) and b >= len(unit_sets):
                    continue
                worst = max(worst, float(p.counts[list(all_sets[a] & all_sets[b])].sum()))
            relaxations.append(_relaxation("max_overlap", "overlap", "papers", "max",
                                           float(p.blueprint.max_overlap), worst,
                                           "items shared by two papers", per_paper=False))
        elif name.startswith("parallel_"):
            metric = name[len("parallel_"):]
            if metric == "mean_rating":
                sums = [float(p.ratings[u].sum()) / max(1, p.blueprint.n_items) for u in unit_sets]
                if "rating" in ctx.fixed_curves:
                    sums += [float(v) / max(1, p.blueprint.n_items)
                             for v in ctx.fixed_curves["rating"]]
                spread = max(sums) - min(sums)
                target = p.blueprint.parallel.mean_rating_tolerance
            else:
                curve = p.information if metric == "information" else p.tcc
                values = np.array([[float(curve[k, u].sum()) for k in range(curve.shape[0])]
                                   for u in unit_sets])
                if metric in ctx.fixed_curves:
                    values = np.vstack([values, ctx.fixed_curves[metric]])
                spread = float((values.max(axis=0) - values.min(axis=0)).max())
                target = getattr(p.blueprint.parallel, f"{metric}_tolerance")
            relaxations.append(_relaxation(name, name, metric, "max", float(target),
                                           spread + 1e-6, f"{metric} spread between papers",
                                           per_paper=False))
    for item_id in p.unusable_includes:  # never in the model: not in the bank or not eligible
        relaxations.append(RowRelaxation(
            f"include:{item_id}", "include", item_id, "min", 1.0, 0.0, 1.0,
            f"item {item_id} is to be included by hand but cannot be used: drop it from the "
            f"items to include"))
    messages = [r.message for r in relaxations]
    if not relaxations:
        messages.append("the elastic re-solve relaxed no row: the conflict lies in enemies or "
                        "item sets")
    else:
        messages.insert(0, f"smallest set of rows that cannot hold together ({len(relaxations)}):")
    return tuple(relaxations), messages


def _relaxation(name: str, family: str, key: str, bound: str, target: float, needed: float,
                label: str, *, exact: bool = False, per_paper: bool = True) -> RowRelaxation:
    if family in ("type_count", "band", "overlap") or (family == "element" and
                                                      float(needed).is_integer()):
        needed = float(round(needed))
    shortfall = abs(needed - target)
    word = "exactly" if exact else ("at least" if bound == "min" else "at most")
    where = " per paper" if per_paper else ""
    message = (f"{label}: the blueprint asks {word} {target:g}{where}; together with the "
               f"other rows only {needed:g} is possible (short by {shortfall:g})")
    return RowRelaxation(name, family, key, bound, float(target), float(needed),
                         float(shortfall), message)


__all__ = ["assemble_forms", "reassemble_after_leak", "FORMULATIONS"]
