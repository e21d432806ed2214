"""Assemble parallel papers and backup papers: validate, count, build, solve, return a result.

Formulations (``formulation=``)
-------------------------------
``"shadow"`` (the default for two or more new papers)
    After the big-shadow-test method (van der Linden 2005, *Linear Models for Optimal Test
    Design*, ch. 6 and 9), in stages that share the run's one deadline:

    1. *Stage 1, the bound.* One model selects the items of all papers together: every row's
       bounds multiplied by the number of papers, one column per (unit, number of papers using
       it), a unit (an item or a whole item set) shared by up to all papers when the overlap
       rule allows it, the sharing limited by the overlap allowance summed over all pairs of
       papers (``sum C(m_u, 2) * items_u <= C(n, 2) * max_overlap``), enemies as "uses of the
       two add up to at most the number of papers", every minimum row repeated with
       coefficients capped at the minimum. Every valid set of papers is a solution of this
       model with the same objective, so it is a relaxation of the user's problem; the bound
       reported is its linear relaxation's optimum (or the tighter bound of a later stage that
       is also a relaxation of the whole problem) and the report says so.
    2. *Stage 1, the selection.* The same model as an integer program over the units that its
       linear relaxation uses or nearly uses (reduced costs), which is small and solves fast.
    3. *Stage 2, the split.* Units shared by several papers are given their papers first,
       greedily, within the overlap allowance of every pair of papers, and keeping the papers'
       shares of every row even. The other units are split by recursive halving: two-slot
       models, each slot's rows scaled by the papers it stands for minus what the shared units
       already bring, enemies binding where a slot is one paper. With a maximin objective the
       halving maximises a relative target (each paper's share of the selection's information
       at every theta, van der Linden 2005, ch. 5), which keeps the papers parallel at every
       theta. A failed halving falls back to one split model of all papers.
    4. *Polish.* When the whole problem's direct model is small enough, it is solved from the
       split as a MIP start; its bound, a bound of the whole problem, replaces stage 1's when
       tighter.
``"direct"``
    One binary per (unit, paper), or with an overlap allowance per (unit, set of papers
    sharing it) up to four papers ("patterns": the items two papers share are a linear sum).
    With more than four papers and overlap, an item may then be shared by at most two papers:
    that is a restricted sub-problem, labelled as such, and the bound reported is stage 1's.
``"plain"``
    The reference of the benchmark: one binary per item and paper, sets linked by equalities,
    overlap through one binary per item and pair of papers. It is the whole problem; its bound
    is the solver's.
``"auto"``
    ``"shadow"`` for two or more new papers, else ``"direct"``.

Before any model, count checks (:func:`assembly.diagnose`) prove in milliseconds what cannot
work and say why; an infeasible model is then explained by the elastic re-solve (smallest set
of rows to relax: "the smallest fix" only when that solve was proven optimal, else "a fix").

Objective and tie-break
-----------------------
The objective reported is the user's: the blueprint's IRT objective and its exposure penalty
(``usage_weight`` per past use). Without an IRT objective a seeded tie-break picks among the
equally good papers; it is scaled below a quarter of the smallest difference the exposure
penalty can make, so it never changes which papers are optimal, and it is never part of the
objective or bound reported. With an IRT objective there is no tie-break in the model (two
items may differ by 5e-6 in information); the seed goes to the solvers' own random choices.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np

from analysis.information import item_information_3pl, probability_3pl
from analysis.messages import Message
from assembly.blueprint import Blueprint, validate_blueprint
from assembly.check import check_forms
from assembly.diagnosis import Finding, _relaxation, count_relaxations, diagnose
from assembly.errors import (
    AssemblyError,
    InvalidFormsError,
    InvalidPoolError,
    UnknownSolverError,
)
from assembly.model import (
    SOLVERS,
    ModelOutcome,
    ModelSpec,
    SolverTick,
    elastic_step,
    solve_lp_by_pricing,
    solve_model,
    solver_words,
)
from assembly.pool import Pool
from assembly.problem import Problem, compile_problem
from assembly.results import (
    AssemblyResult,
    CurveComparison,
    ReplacementParallelism,
    RowRelaxation,
    SolveProgress,
    SolveReport,
)
from assembly.words import paper_text

log = logging.getLogger(__name__)

FORMULATIONS = ("auto", "direct", "shadow", "plain")
_MAX_PATTERN_DIRECT = 4  # the direct model holds every pattern of papers up to this many
_MAX_MODEL_COLUMNS = 600_000  # larger direct / plain models are not built at all
_MAX_POLISH_COLUMNS = 30_000  # direct-model columns up to which a shadow result is polished
_MAX_ELASTIC_COLUMNS = 60_000
_CANDIDATE_MARGIN = 400  # stage 1 selection: units beyond the linear relaxation's support

ProgressCallback = Callable[[SolveProgress], None]


class Deadline:
    """The run's one deadline: every phase gets what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.start = time.perf_counter()
        self.seconds = float(seconds)
        self.end = self.start + self.seconds

    def left(self) -> float:
        return max(0.0, self.end - time.perf_counter())

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


_STAGE_TEXT = {
    "checks": Message("counting the usable items for every row"),
    "stage1_bound": Message("bounding: all papers' items selected together (relaxation)"),
    "stage1": Message("selecting the items of all papers together"),
    "split": Message("splitting the selected items into papers"),
    "polish": Message("improving the papers with the whole model"),
    "direct": Message("solving the whole model"),
    "elastic": Message("finding which rows to relax"),
    "done": Message("done"),
}


class _Progress:
    """Reports progress to the caller's callback, never faster than every 0.2 s except at
    phase boundaries and improvements. A failing callback is logged, not raised."""

    def __init__(self, callback: ProgressCallback | None, deadline: Deadline, sign: float,
                 ids: Sequence[str]) -> None:
        self.callback = callback
        self.deadline = deadline
        self.sign = sign
        self.ids = ids
        self.stage = "checks"
        self.lo, self.hi = 0.0, 0.02
        self.phase_start = deadline.start
        self.phase_budget = 0.1
        self.fraction = 0.0
        self.incumbent: float | None = None  # minimisation sense
        self.bound: float | None = None
        self.forms: tuple[tuple[str, ...], ...] | None = None
        self.last_emit = -1.0

    def phase(self, stage: str, lo: float, hi: float, budget_s: float) -> None:
        self.stage, self.lo, self.hi = stage, lo, hi
        self.phase_start = time.perf_counter()
        self.phase_budget = max(budget_s, 0.05)
        self.emit(force=True)

    def found(self, forms: list[list[int]], objective_min: float) -> None:
        if self.incumbent is None or objective_min < self.incumbent - 1e-12:
            self.incumbent = objective_min
            self.forms = tuple(tuple(self.ids[i] for i in form) for form in forms)
            self.emit(force=True)

    def bounded(self, bound_min: float | None) -> None:
        if bound_min is not None and (self.bound is None or bound_min > self.bound):
            self.bound = bound_min
            self.emit(force=False)

    def tick(self, _tick: SolverTick | None = None) -> None:
        self.emit(force=False)

    def emit(self, *, force: bool) -> None:
        if self.callback is None:
            return
        now = time.perf_counter()
        if not force and now - self.last_emit < 0.2:
            return
        self.last_emit = now
        within = min(1.0, (now - self.phase_start) / self.phase_budget)
        if self.stage == "done":
            fraction = 1.0
        else:
            fraction = min(0.99, max(self.fraction, self.lo + (self.hi - self.lo) * within))
        self.fraction = fraction
        gap = None
        if self.incumbent is not None and self.bound is not None:
            gap = max(0.0, self.incumbent - self.bound) / max(abs(self.incumbent), 1e-9)
        try:
            self.callback(SolveProgress(
                stage=self.stage, stage_text=_STAGE_TEXT.get(self.stage, Message(self.stage)),
                fraction=fraction, elapsed_s=self.deadline.elapsed(),
                incumbent=None if self.incumbent is None else self.sign * self.incumbent + 0.0,
                bound=None if self.bound is None else self.sign * self.bound + 0.0,
                gap=gap, best_forms=self.forms))
        except Exception:  # noqa: BLE001 - a progress display must not stop a solve
            log.exception("the progress callback failed; the run goes on")


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
    user_costs: np.ndarray  # exposure penalty per use of each unit (the user's objective)
    tie: np.ndarray  # seeded tie-break per use (zeros with an IRT objective)
    tie_max: float  # no set of papers gets more tie-break than this in total
    lattice: float  # without an IRT objective: the objective moves in steps of this (0: flat)
    solver: str
    rel_gap: float
    abs_gap: float | None
    seed: int
    shareable: np.ndarray  # units that two papers may share (items <= max_overlap)

    @property
    def costs(self) -> np.ndarray:
        return self.user_costs + self.tie

    @property
    def sign(self) -> float:
        return -1.0 if self.objective == "maximin" else 1.0


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
    in_use_forms: Sequence[Sequence[str]] = (),
    leaked_forms: Sequence[Sequence[str]] = (),
    warm_start: Sequence[Sequence[str]] | None = None,
    formulation: str = "auto",
    explain: bool = True,
    progress: ProgressCallback | None = None,
    count_checks: bool = True,
) -> AssemblyResult:
    """Assemble ``n_forms`` parallel papers and ``n_backups`` backup papers.

    Parameters
    ----------
    pool, blueprint : the items and the paper specification; every paper meets every row.
    n_forms : main papers (default 1). With ``fixed_forms``: how many of the fixed papers are
        main papers (default all of them).
    n_backups : backup papers; with ``fixed_forms`` these are the only new papers, assembled
        against the fixed ones (overlap and parallelism to the fixed papers enforced).
    solver : "cbc" (bundled with PuLP) or "highs" (highspy).
    time_limit_s, rel_gap : the run's one deadline (every phase, the diagnosis included) and
        the relative gap to prove.
    seed : seeds the tie-break between equally good papers (no IRT objective) and the solvers'
        random choices; the same pool, blueprint and seed give the same papers whenever the
        run ends before its time limit.
    fixed_forms : sealed papers (item ids) to keep as they are.
    in_use_forms : further papers in use (other runs' papers issued to sessions that have not
        ended): the new papers keep the overlap and parallelism rules with them too.
    leaked_forms : papers that leaked: their items and their items' enemies are never used.
    warm_start : item ids of the new papers to start from (MIP start of the direct model).
    formulation : "auto", "direct", "shadow" or "plain" (module docstring).
    explain : on infeasibility, run the elastic re-solve that names the rows to relax.
    progress : called with a :class:`~assembly.results.SolveProgress` at every phase boundary
        and while the solvers run.
    count_checks : run the count checks before any model (default). The benchmark turns them
        off to show what the plain model alone does.

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
    leaked = [list(form) for form in leaked_forms]
    extra = _leak_exclusions(pool, leaked) if leaked else None
    return _run(pool, blueprint, n_main=n_main, n_new=n_new, fixed=fixed,
                in_use=[list(f) for f in in_use_forms], leaked=leaked, solver=solver,
                time_limit_s=time_limit_s, rel_gap=rel_gap, seed=seed, warm_start=warm_start,
                formulation=formulation, explain=explain, extra_reasons=extra, insert_at=None,
                progress=progress, count_checks=count_checks)


def reassemble_after_leak(
    pool: Pool,
    blueprint: Blueprint,
    forms: AssemblyResult | Sequence[Sequence[str]],
    leaked_form_index: int,
    *,
    leaked_before: Sequence[Sequence[str]] = (),
    in_use: Sequence[Sequence[str]] = (),
    n_forms: int | None = None,
    solver: str = "cbc",
    time_limit_s: float = 60.0,
    rel_gap: float = 0.01,
    seed: int = 0,
    formulation: str = "direct",
    explain: bool = True,
    progress: ProgressCallback | None = None,
) -> AssemblyResult:
    """Replace a leaked paper (附件16): a new paper without any item of any leaked paper.

    The replacement never holds an item of the leaked paper, of a paper that leaked before
    (``leaked_before``, and the ``leaked_forms`` of a result passed as ``forms``: a chain of
    replacements remembers every leak), nor an enemy of one of those items; this function
    enforces it itself, whatever the pool's compromised flags say. It keeps the blueprint's
    overlap and parallelism rules with every other paper of ``forms`` and with every paper of
    ``in_use`` (papers of other runs still in use), all of which stay as they are. With a
    maximin objective the replacement's information curve is steered to the mean curve of the
    papers in use (the blueprint's tolerances still apply), and the result reports its
    parallelism against them (:attr:`AssemblyResult.parallelism`) with a warning in words when
    it falls outside the tolerance.

    The result holds the papers of ``forms``, the replacement at ``leaked_form_index``.
    """
    validate_blueprint(blueprint)
    history: list[list[str]] = [list(f) for f in leaked_before]
    extra_in_use = [list(f) for f in in_use]
    if isinstance(forms, AssemblyResult):
        all_forms = [list(f) for f in forms.forms]
        n_main = forms.n_forms if n_forms is None else n_forms
        history = [list(f) for f in forms.leaked_forms] + history
        extra_in_use = [list(f) for f in forms.in_use_forms] + extra_in_use
    else:
        all_forms = [list(f) for f in forms]
        n_main = len(all_forms) if n_forms is None else n_forms
    if not 0 <= leaked_form_index < len(all_forms):
        raise InvalidFormsError(f"leaked_form_index {leaked_form_index}: there are "
                                f"{len(all_forms)} papers")
    leaked = all_forms[leaked_form_index]
    for k, form in enumerate([leaked] + history):
        _indices(pool, form, f"leaked paper {k}")
    history = history + [leaked]
    extra = _leak_exclusions(pool, history)
    others = [f for k, f in enumerate(all_forms) if k != leaked_form_index]
    result = _run(pool, blueprint, n_main=min(n_main, len(all_forms)), n_new=1, fixed=others,
                  in_use=extra_in_use, leaked=history, solver=solver, time_limit_s=time_limit_s,
                  rel_gap=rel_gap, seed=seed, warm_start=None, formulation=formulation,
                  explain=explain, extra_reasons=extra, insert_at=leaked_form_index,
                  progress=progress)
    n_leaked = sum(v == "leaked" for v in extra.values())
    n_enemies = sum(v == "enemy_of_leaked" for v in extra.values())
    notes = [Message("replacement for leaked {paper}: the {n} items of the leaked papers and "
                     "{enemies} of their enemies are not used",
                     paper=paper_text(leaked_form_index), n=n_leaked, enemies=n_enemies)]
    leaked_set = set(leaked)
    for k, form in enumerate(others + extra_in_use):
        shared = len(leaked_set & set(form))
        if shared:
            notes.append(Message("a paper in use shares {n} items with the leaked paper: those "
                                 "items are leaked too; consider replacing that paper as well",
                                 n=shared))
    return replace(result, notes=result.notes + tuple(notes))


def _leak_exclusions(pool: Pool, leaked_forms: Sequence[Sequence[str]]) -> dict[int, str]:
    """Item index -> "leaked" / "enemy_of_leaked" for every item of the leaked papers and every
    enemy of one of those items."""
    leaked_idx = {pool.index[i] for form in leaked_forms for i in form if i in pool.index}
    extra: dict[int, str] = {i: "leaked" for i in leaked_idx}
    for i, j in pool.enemy_pairs.tolist():
        if i in leaked_idx and j not in leaked_idx:
            extra.setdefault(j, "enemy_of_leaked")
        if j in leaked_idx and i not in leaked_idx:
            extra.setdefault(i, "enemy_of_leaked")
    # an item set with a leaked member is not whole any more: problem.item_reasons spoils it
    return extra


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
         in_use: list[list[str]], leaked: list[list[str]], solver: str, time_limit_s: float,
         rel_gap: float, seed: int, warm_start: Sequence[Sequence[str]] | None,
         formulation: str, explain: bool, extra_reasons: dict[int, str] | None,
         insert_at: int | None, progress: ProgressCallback | None,
         count_checks: bool = True) -> AssemblyResult:
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
    deadline = Deadline(time_limit_s)
    constraining = fixed + in_use
    fixed_idx = [_indices(pool, form, f"fixed paper {h}") for h, form in enumerate(fixed)]
    fixed_idx += [_indices(pool, form, f"paper in use {h}") for h, form in enumerate(in_use)]
    problem = compile_problem(pool, bp, aggregate_sets=formulation != "plain",
                              extra_reasons=extra_reasons)
    ctx = _context(problem, bp, n_new, fixed_idx, solver, rel_gap, int(seed))
    prog = _Progress(progress, deadline, ctx.sign, pool.ids)
    prog.phase("checks", 0.0, 0.02, 0.05)
    findings = diagnose(pool, bp, n_new, extra_reasons=extra_reasons, problem=problem) \
        if count_checks else ()
    if count_checks and fixed_idx:
        findings = tuple(findings) + tuple(_parallel_counts(ctx))
    errors = [f for f in findings if f.severity == "error"]
    notes: list[Message] = [f.message for f in findings if f.severity == "warning"]
    if ctx.objective != bp.irt.objective:
        notes.append(Message("maximin information is replaced by the mean information curve of "
                             "the papers in use as target, so that the new papers are parallel "
                             "to them"))

    unit_forms: list[list[int]] | None = None
    diagnosis: list[Message] = []
    relaxations: tuple[RowRelaxation, ...] = ()
    proven = False
    if errors:
        report = SolveReport(
            solver="none", status="infeasible", objective=None, best_bound=None, rel_gap=None,
            time_s=deadline.elapsed(), n_variables=0, n_binaries=0, n_constraints=0,
            sense=_sense(ctx), formulation="counts", time_limit_s=time_limit_s,
            rel_gap_limit=rel_gap, solver_status=Message("not solved: the counts already prove "
                                                         "that no papers are possible"),
            method=Message("count checks before any model: usable items against what every "
                           "row needs, with the overlap allowance"),
            bound_source=None)
        diagnosis = [f.message for f in errors]
        diagnosis += [f.fix for f in errors if f.fix is not None]
        relaxations = count_relaxations(errors)
    else:
        chosen = formulation
        if chosen == "auto":
            chosen = "shadow" if n_new >= 2 else "direct"
        if chosen == "shadow" and n_new < 2:
            chosen = "direct"
        if chosen == "shadow":
            report, unit_forms = _solve_shadow(ctx, deadline, time_limit_s, prog)
            if unit_forms is not None and report.status in ("optimal", "feasible") and \
                    not _placed_and_checked(pool, bp, problem, fixed, unit_forms, insert_at, in_use)[3].ok:
                # the split stages missed a per-paper row: never hand such papers on; the direct
                # model has every row of every paper
                log.warning("the shadow-test papers break a row of the blueprint; solving the direct model")
                report, unit_forms = _solve_direct(ctx, deadline, time_limit_s, prog, plain=False,
                                                   initial=None)
        else:
            initial = _warm_columns(ctx, warm_start, pool) if warm_start else None
            report, unit_forms = _solve_direct(ctx, deadline, time_limit_s, prog,
                                               plain=chosen == "plain", initial=initial)
    status = report.status
    solved = unit_forms if unit_forms is not None and status in ("optimal", "feasible") else []
    new_forms, all_ids, new_positions, checked = _placed_and_checked(pool, bp, problem, fixed, solved,
                                                                    insert_at, in_use)
    checks = checked if new_forms else None
    parallelism: tuple[ReplacementParallelism, ...] = ()
    if new_forms:
        if not checks.ok:
            # should never happen: the model and the independent checker disagree
            log.error("assembled papers fail the independent check: %s",
                      [v.english() for v in checks.violations])
            diagnosis.append(Message("internal check failed: {violations}",
                                     violations=list(checks.violations)))
        if constraining and len(problem.thetas):
            parallelism = tuple(
                _parallelism(ctx, pool.index, all_ids[k], k, constraining, problem)
                for k in new_positions)
            for par in parallelism:
                notes += list(par.warnings)
    if status == "infeasible" and not errors and explain:
        prog.phase("elastic", 0.9, 0.99, deadline.left())
        relaxations, messages, proven = _elastic(ctx, deadline)
        diagnosis += messages
    elif status == "infeasible" and not errors:
        diagnosis.append(Message("the blueprint rows cannot all hold together"))
    elif status == "time_limit":
        diagnosis.append(Message("no papers found within {seconds:g} s; whether papers are "
                                 "possible is not known: give more time, or see the warnings",
                                 seconds=time_limit_s))
    if errors and explain and ctx.n_new * problem.n_units <= 5_000 and deadline.left() > 0.3:
        # small enough to prove which rows must change: a one-paper structural conflict
        prog.phase("elastic", 0.9, 0.99, deadline.left())
        elastic_rel, messages, elastic_proven = _elastic(ctx, deadline)
        if elastic_proven:
            relaxations, proven = elastic_rel, True
            diagnosis += messages
    prog.stage = "done"
    prog.emit(force=True)
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
        diagnosis_proven=proven,
        leaked_forms=tuple(tuple(f) for f in leaked),
        in_use_forms=tuple(tuple(f) for f in in_use),
        parallelism=parallelism,
    )


def _items_of(problem: Problem, units: Sequence[int]) -> list[int]:
    return [int(i) for u in units for i in problem.unit_items[int(u)]]


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


def _placed_and_checked(pool: Pool, bp: Blueprint, problem: Problem, fixed: list[list[str]],
                        unit_forms: Sequence[Sequence[int]], insert_at: int | None, in_use: list[list[str]]
                        ):  # type: ignore[no-untyped-def]
    """The solved papers in print order, placed among the fixed ones: (new papers, all papers,
    positions of the new ones, the independent check of them all with the papers in use)."""
    new_forms = _sort_new_forms([_paper_order(pool, bp, _items_of(problem, units)) for units in unit_forms])
    all_ids, new_positions = _place(fixed, new_forms, insert_at)
    sealed = [k for k in range(len(all_ids)) if k not in new_positions]
    sealed += list(range(len(all_ids), len(all_ids) + len(in_use)))
    return new_forms, all_ids, new_positions, check_forms(pool, bp, all_ids + in_use, sealed=sealed)


def _sort_new_forms(forms: list[list[str]]) -> list[list[str]]:
    """New papers in a canonical order (by their first item id) so that the same solution
    always comes back in the same order."""
    return sorted(forms, key=lambda f: sorted(f)[0] if f else "")


def _curves(pool: Pool, thetas: np.ndarray, form: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Information and expected score of one paper at ``thetas``, shape (n_thetas,) each."""
    sel = np.array([i for i in form if pool.calibrated[i]], dtype=np.int64)
    info = np.zeros(len(thetas))
    tcc = np.zeros(len(thetas))
    for d_value in np.unique(pool.D[sel]) if len(sel) else ():
        part = sel[pool.D[sel] == d_value]
        info += item_information_3pl(thetas, pool.a[part], pool.b[part], pool.c[part],
                                     D=float(d_value)).sum(axis=1)
        tcc += (probability_3pl(thetas, pool.a[part], pool.b[part], pool.c[part],
                                D=float(d_value)) * pool.points[part][None, :]).sum(axis=1)
    return info, tcc


def _context(problem: Problem, bp: Blueprint, n_new: int, fixed_idx: list[list[int]],
             solver: str, rel_gap: float, seed: int) -> _Context:
    pool = problem.pool
    thetas = problem.thetas
    fixed_units = tuple(tuple(sorted({int(problem.item_unit[i]) for i in form
                                      if problem.item_unit[i] >= 0})) for form in fixed_idx)
    curves: dict[str, np.ndarray] = {}
    if fixed_idx:
        pairs = [_curves(pool, thetas, form) for form in fixed_idx]
        curves = {"information": np.array([p[0] for p in pairs]).reshape(len(fixed_idx),
                                                                          len(thetas)),
                  "tcc": np.array([p[1] for p in pairs]).reshape(len(fixed_idx), len(thetas)),
                  "rating": np.array([float(pool.ratings[form].sum()) for form in fixed_idx])}
    irt = bp.irt
    objective = irt.objective
    weights = tuple(irt.weights) if irt.weights else tuple(1.0 for _ in irt.thetas)
    targets = tuple(irt.targets)
    if objective == "maximin" and fixed_idx:
        objective = "target_information"
        targets = tuple(float(v) for v in curves["information"].mean(axis=0))
    user_costs = bp.exposure.usage_weight * problem.usage
    places = max(1, n_new * bp.n_items)
    lattice = 0.0
    tie = np.zeros(problem.n_units)
    tie_max = 0.0
    if objective == "none" and problem.n_units:
        # the exposure penalty moves in steps of usage_weight (uses are whole numbers): a
        # tie-break below a quarter step in total never changes which papers are optimal
        lattice = float(bp.exposure.usage_weight)
        per_use = (lattice if lattice > 0 else 1.0) / (4.0 * places)
        tie = per_use * np.random.default_rng(seed).random(problem.n_units)
        tie_max = per_use * places
    # a target objective is a deviation whose optimum may be near 0, where a relative gap never
    # closes: such runs also stop within rel_gap of the mean target (absolute gap)
    abs_gap = rel_gap * float(np.mean(np.abs(targets))) \
        if objective in ("target_information", "target_tcc") and targets else None
    shareable = (problem.counts <= bp.max_overlap) & (bp.max_overlap > 0)
    return _Context(problem, n_new, fixed_units, curves, objective, weights, targets, user_costs,
                    tie, tie_max, lattice, solver, rel_gap, abs_gap, seed, shareable)


def _sense(ctx: _Context) -> str:
    return "max" if ctx.objective == "maximin" else "min"


def _base_spec(ctx: _Context, *, tie: bool = True, **kw: object) -> dict[str, object]:
    bp = ctx.problem.blueprint
    spec: dict[str, object] = dict(
        fixed_units=ctx.fixed_units, fixed_curves=ctx.fixed_curves, objective=ctx.objective,
        objective_weights=ctx.weights, objective_targets=ctx.targets,
        costs=ctx.costs if tie else ctx.user_costs,
        information_tolerance=bp.parallel.information_tolerance,
        tcc_tolerance=bp.parallel.tcc_tolerance,
        rating_tolerance=bp.parallel.mean_rating_tolerance,
        n_items_per_paper=bp.n_items, max_overlap=bp.max_overlap)
    spec.update(kw)
    return spec


def _user_objective(ctx: _Context, unit_forms: list[list[int]]) -> float:
    """The user's objective (minimisation sense) of new papers given as unit lists: the IRT
    objective plus the exposure penalty, never the tie-break."""
    p = ctx.problem
    cost = sum(float(ctx.user_costs[units].sum()) for units in unit_forms)
    if ctx.objective == "maximin":
        values = [float(p.information[k, units].sum()) / w
                  for units in unit_forms for k, w in enumerate(ctx.weights)]
        return -min(values) + cost
    if ctx.objective in ("target_information", "target_tcc"):
        curve = p.information if ctx.objective == "target_information" else p.tcc
        dev = max(abs(float(curve[k, units].sum()) - t)
                  for units in unit_forms for k, t in enumerate(ctx.targets))
        return dev + cost
    return cost


def _user_bound(ctx: _Context, bound_min: float | None, *, with_tie: bool) -> float | None:
    """A model's bound as a bound of the user's problem: the tie-break taken off (it adds at
    most ``tie_max``) and, on the exposure penalty's lattice, rounded up to the next step."""
    if bound_min is None:
        return None
    value = bound_min - (ctx.tie_max if with_tie else 0.0)
    if ctx.lattice > 0:
        value = math.ceil(value / ctx.lattice - 1e-6) * ctx.lattice
    elif ctx.objective == "none":
        value = max(value, 0.0) if with_tie else value
    return value


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)


def _proven(ctx: _Context, objective: float, bound: float | None) -> bool:
    if bound is None:
        return False
    if objective - bound <= 1e-6 * max(1.0, abs(objective)):  # the solvers' own tolerance
        return True
    gap = _gap(objective, bound)
    return (gap is not None and gap <= ctx.rel_gap + 1e-9) or (
        ctx.abs_gap is not None and objective - bound <= ctx.abs_gap + 1e-9)


# --------------------------------------------------------------------------------------
# Direct and plain models


def _patterns(n: int, size: int) -> list[tuple[int, ...]]:
    return [p for k in range(1, size + 1) for p in combinations(range(n), k)]


def _direct_pattern_size(ctx: _Context) -> int:
    """Papers a unit may join in the direct model; below ``n_new`` it is a restricted model."""
    bp = ctx.problem.blueprint
    if bp.max_overlap == 0 or ctx.n_new == 1:
        return 1
    return ctx.n_new if ctx.n_new <= _MAX_PATTERN_DIRECT else 2


def _direct_spec(ctx: _Context, *, plain: bool = False, elastic: bool = False,
                 tie: bool = True) -> ModelSpec:
    p = ctx.problem
    n_units = p.n_units
    overlap = p.blueprint.max_overlap > 0 and ctx.n_new > 1
    if plain:
        units = np.repeat(np.arange(n_units, dtype=np.int64), ctx.n_new)
        slots = tuple((s,) for s in range(ctx.n_new)) * n_units
        return ModelSpec(units=units, slots=slots, weights=np.ones(len(units), dtype=np.int64),
                         n_slots=ctx.n_new, unit_once=not overlap,
                         overlap_mode="linearised" if overlap else "none",
                         set_links=p.set_links, name="plain",
                         **_base_spec(ctx, tie=tie))  # type: ignore[arg-type]
    size = _direct_pattern_size(ctx)
    patterns = _patterns(ctx.n_new, size)
    units_list, slots_list = [], []
    for u in range(n_units):
        for pattern in patterns:
            if len(pattern) > 1 and not ctx.shareable[u]:
                continue
            units_list.append(u)
            slots_list.append(pattern)
    return ModelSpec(units=np.array(units_list, dtype=np.int64), slots=tuple(slots_list),
                     weights=np.ones(len(units_list), dtype=np.int64), n_slots=ctx.n_new,
                     overlap_mode="patterns" if overlap else "none", elastic=elastic,
                     name="elastic" if elastic else "direct",
                     **_base_spec(ctx, tie=tie))  # type: ignore[arg-type]


def _direct_is_whole(ctx: _Context) -> bool:
    return _direct_pattern_size(ctx) >= ctx.n_new or ctx.problem.blueprint.max_overlap == 0


def _direct_columns(ctx: _Context) -> int:
    size = _direct_pattern_size(ctx)
    shareable = int(ctx.shareable.sum())
    return ctx.problem.n_units * ctx.n_new + shareable * (len(_patterns(ctx.n_new, size))
                                                          - ctx.n_new)


def _forms_from(ctx: _Context, spec: ModelSpec, values: np.ndarray) -> list[list[int]]:
    """Unit lists of the papers of a model solution."""
    forms: list[list[int]] = [[] for _ in range(spec.n_slots)]
    for c in np.flatnonzero(values > 0.5):
        for s in spec.slots[c]:
            forms[s].append(int(spec.units[c]))
    return forms


def _solve_direct(ctx: _Context, deadline: Deadline, time_limit_s: float, prog: _Progress, *,
                  plain: bool, initial: np.ndarray | None
                  ) -> tuple[SolveReport, list[list[int]] | None]:
    size = _direct_columns(ctx) if not plain else ctx.problem.n_units * ctx.n_new
    whole = plain or _direct_is_whole(ctx)
    code = "plain" if plain else "direct"
    if size > _MAX_MODEL_COLUMNS:
        report = SolveReport(
            solver=ctx.solver, status="time_limit", objective=None, best_bound=None,
            rel_gap=None, time_s=deadline.elapsed(), n_variables=size, n_binaries=size,
            n_constraints=0, sense=_sense(ctx), formulation=code, time_limit_s=time_limit_s,
            rel_gap_limit=ctx.rel_gap, solver_status=solver_words("not_solved", ctx.solver),
            method=Message("the whole model was not built: {columns} columns are more than "
                           "this machine can solve in the time given; use the shadow test",
                           columns=size))
        return report, None
    spec = _direct_spec(ctx, plain=plain)
    prog.phase("direct", 0.02, 0.95, deadline.left())
    decode = _tick_decoder(ctx, spec, prog, user_objective=True)
    outcome = solve_model(ctx.problem, spec, solver=ctx.solver, time_limit_s=deadline.left(),
                          rel_gap=ctx.rel_gap, initial=initial, abs_gap=ctx.abs_gap,
                          seed=ctx.seed, on_tick=decode)
    forms = _forms_from(ctx, spec, outcome.column_values) \
        if outcome.column_values is not None else None
    if plain:
        method = Message("the plain model: one binary per item and paper, and one per item and "
                         "pair of papers for the overlap rule; solved in one piece")
    elif spec.overlap_mode == "none":
        method = Message("the direct model: one binary per item (or whole item set) and paper, "
                         "solved in one piece")
    else:
        method = Message("the direct model: one binary per item (or whole item set) and group "
                         "of papers sharing it, solved in one piece")
    bound = _user_bound(ctx, outcome.best_bound, with_tie=True) if whole else None
    restricted = None
    source: Message | None = Message("the solver's bound of the whole model") if whole else None
    stages: tuple[SolveReport, ...] = ()
    if not whole:
        restricted = Message("an item may join at most {m} papers in this model, fewer than the "
                             "overlap rule allows: a restricted sub-problem",
                             m=_direct_pattern_size(ctx))
        # a valid bound of the user's problem from the shadow relaxation
        relax_bound, relax_report = _stage1_bound(ctx, deadline, time_limit_s, prog)
        bound = relax_bound
        stages = (relax_report,) if relax_report is not None else ()
        source = _STAGE1_SOURCE if relax_bound is not None else None
    # a proven infeasible whole model proves the user's problem infeasible; a restricted
    # one proves nothing (items might need to join more papers)
    infeasible = outcome.status == "infeasible" and whole
    return _final_report(ctx, forms, bound, outcome, code, method, source, time_limit_s,
                         deadline, stages=stages, restricted=restricted,
                         infeasible=infeasible), forms


def _tick_decoder(ctx: _Context, spec: ModelSpec, prog: _Progress, *, user_objective: bool
                  ) -> Callable[[SolverTick], None]:
    """Solver ticks -> progress: a new incumbent of a whole-problem model is decoded into
    papers (HiGHS gives its columns); bounds of relaxations of the whole problem count."""

    def on_tick(tick: SolverTick) -> None:
        if user_objective and tick.values is not None:
            forms = _forms_from(ctx, spec, tick.values[: len(spec.units)])
            prog.found([_items_of(ctx.problem, f) for f in forms], _user_objective(ctx, forms))
        prog.tick(tick)

    return on_tick


def _final_report(ctx: _Context, forms: list[list[int]] | None, bound: float | None,
                  outcome: ModelOutcome | None, code: str, method: Message,
                  source: Message | None, time_limit_s: float, deadline: Deadline, *,
                  stages: tuple[SolveReport, ...] = (), restricted: Message | None = None,
                  infeasible: bool = False) -> SolveReport:
    objective = _user_objective(ctx, forms) if forms else None
    if objective is not None and bound is not None and bound > objective:
        bound = objective  # solver tolerances: a bound never beats the papers found
    if infeasible:
        status = "infeasible"
    elif forms is None:
        status = "time_limit"
    else:
        status = "optimal" if _proven(ctx, objective, bound) else "feasible"  # type: ignore[arg-type]
    sign = ctx.sign
    largest = max(stages, key=lambda s: s.n_variables, default=None)
    n_var = outcome.n_variables if outcome is not None else (largest.n_variables if largest else 0)
    n_bin = outcome.n_binaries if outcome is not None else (largest.n_binaries if largest else 0)
    n_con = outcome.n_constraints if outcome is not None else (
        largest.n_constraints if largest else 0)
    return SolveReport(
        solver=ctx.solver, status=status,
        objective=None if objective is None else sign * objective + 0.0,
        best_bound=None if bound is None else sign * bound + 0.0,
        rel_gap=_gap(objective, bound), time_s=deadline.elapsed(), n_variables=n_var,
        n_binaries=n_bin, n_constraints=n_con, sense=_sense(ctx), formulation=code,
        time_limit_s=time_limit_s, rel_gap_limit=ctx.rel_gap,
        solver_status=outcome.solver_status if outcome is not None else None,
        stages=stages, method=method, bound_source=source if bound is not None else None,
        restricted=restricted)


def _stage_report(ctx: _Context, outcome: ModelOutcome, code: str, method: Message,
                  source: Message | None, time_limit_s: float) -> SolveReport:
    sign = ctx.sign
    obj, bound = outcome.objective, outcome.best_bound
    return SolveReport(
        solver=ctx.solver, status=outcome.status,
        objective=None if obj is None else sign * obj + 0.0,
        best_bound=None if bound is None else sign * bound + 0.0, rel_gap=_gap(obj, bound),
        time_s=outcome.time_s, n_variables=outcome.n_variables, n_binaries=outcome.n_binaries,
        n_constraints=outcome.n_constraints, sense=_sense(ctx), formulation=code,
        time_limit_s=time_limit_s, rel_gap_limit=ctx.rel_gap,
        solver_status=outcome.solver_status, method=method, bound_source=source)


# --------------------------------------------------------------------------------------
# Shadow test: stage 1


_STAGE1_SOURCE = Message("the linear relaxation of the shadow test of all papers together "
                         "(items shared up to the overlap allowance): a relaxation of the whole "
                         "problem")
_STAGE1_MIP_SOURCE = Message("the shadow test of all papers together solved as an integer "
                             "program (items shared up to the overlap allowance): a relaxation "
                             "of the whole problem")
_RESTRICTED_SOURCE = Message("bound of a restricted sub-problem (only some items): not a bound "
                             "of the whole problem")


def _stage1_columns(ctx: _Context, units: np.ndarray | None = None, most: int | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(unit, copy) columns: the j-th copy of a shareable unit puts it into a j-th paper and
    adds j - 1 pairs of papers sharing it; a unit that may not be shared has one copy."""
    p = ctx.problem
    n = ctx.n_new if most is None else min(most, ctx.n_new)
    if units is None:
        units = np.arange(p.n_units, dtype=np.int64)
    top = np.where(ctx.shareable[units], n, 1)
    col_units = np.repeat(units, top)
    starts = np.repeat(np.cumsum(top) - top, top)
    copies = np.arange(len(col_units), dtype=np.int64) - starts + 1
    return col_units, copies


def _stage1_spec(ctx: _Context, col_units: np.ndarray, copies: np.ndarray) -> ModelSpec:
    n = ctx.n_new
    p = ctx.problem
    return ModelSpec(
        units=col_units, slots=((0,),) * len(col_units),
        weights=np.ones(len(col_units), dtype=np.int64), n_slots=1, unit_once=False,
        row_scale=float(n), overlap_mode="budget" if (copies > 1).any() else "none",
        budget_coeffs=(copies - 1) * p.counts[col_units], budget_pairs=math.comb(n, 2),
        name="shadow_stage1", unit_cuts=True,
        **_base_spec(ctx, tie=False, information_tolerance=None, tcc_tolerance=None,
                     rating_tolerance=None))  # type: ignore[arg-type]


def _start_columns(ctx: _Context, col_units: np.ndarray, copies: np.ndarray) -> np.ndarray:
    """Columns to start the stage-1 relaxation's column generation from: the first copy of
    the most promising units (most information, least exposure), about three times what the
    papers need, and of the units that serve every row with a minimum best; pricing adds
    further copies and units as they pay."""
    p = ctx.problem
    n_need = ctx.n_new * p.blueprint.n_items / max(1.0, float(p.counts.mean()))
    size = int(min(p.n_units, max(600, 3 * n_need)))
    if p.information.shape[0]:
        score = (p.information / np.maximum(p.counts, 1)).min(axis=0)
    else:
        score = -ctx.user_costs / np.maximum(p.counts, 1)
    keep = np.zeros(p.n_units, dtype=bool)
    keep[np.argsort(-score, kind="stable")[:size]] = True
    for row in p.rows:
        if row.lo is None or row.lo <= 0:
            continue
        serving = np.flatnonzero(row.coeffs > 0)
        want = int(min(len(serving), 3 * ctx.n_new * row.lo))
        keep[serving[np.argsort(-score[serving], kind="stable")[:want]]] = True
    keep[list(p.include_units)] = True
    first = copies == 1
    included = np.zeros(p.n_units, dtype=bool)
    included[list(p.include_units)] = True
    return np.flatnonzero((keep[col_units] & first) | included[col_units])


def _multiplicities(spec: ModelSpec, values: np.ndarray) -> dict[int, int]:
    """Unit -> papers using it, from a stage-1 solution."""
    chosen = spec.units[values > 0.5]
    units, uses = np.unique(chosen, return_counts=True)
    return {int(u): int(m) for u, m in zip(units, uses)}


def _stage1_bound(ctx: _Context, deadline: Deadline, time_limit_s: float, prog: _Progress
                  ) -> tuple[float | None, SolveReport | None]:
    """The linear relaxation of stage 1 alone: a valid bound of the whole problem."""
    col_units, col_weights = _stage1_columns(ctx)
    spec = _stage1_spec(ctx, col_units, col_weights)
    prog.phase("stage1_bound", 0.02, 0.1, 0.2 * deadline.left())
    out = solve_lp_by_pricing(ctx.problem, spec, _start_columns(ctx, col_units, col_weights),
                              solver=ctx.solver, seed=ctx.seed,
                              time_limit_s=min(deadline.left(), max(1.0, 0.3 * deadline.left())))
    bound = _user_bound(ctx, out.best_bound, with_tie=False)
    prog.bounded(bound)
    return bound, _stage_report(ctx, out, "stage1_bound",
                                Message("stage 1: linear relaxation of the shadow test"),
                                _STAGE1_SOURCE, time_limit_s)


def _solve_stage1(ctx: _Context, deadline: Deadline, time_limit_s: float, prog: _Progress
                  ) -> tuple[str, float | None, dict[int, int] | None, list[SolveReport], bool]:
    """Stage 1. Returns (status, valid bound, unit -> papers using it, reports, mip_bound):
    status "infeasible" proves the whole problem infeasible."""
    p = ctx.problem
    reports: list[SolveReport] = []
    col_units, col_weights = _stage1_columns(ctx)
    spec_full = _stage1_spec(ctx, col_units, col_weights)
    # the linear relaxation: the bound, and which units matter (reduced costs)
    prog.phase("stage1_bound", 0.02, 0.12, 0.15 * deadline.left())
    lp = solve_lp_by_pricing(p, spec_full, _start_columns(ctx, col_units, col_weights), solver=ctx.solver,
                             seed=ctx.seed, on_tick=prog.tick,
                             time_limit_s=min(deadline.left(), max(1.0, 0.35 * deadline.left())))
    reports.append(_stage_report(ctx, lp, "stage1_bound",
                                 Message("stage 1: linear relaxation of the shadow test"),
                                 _STAGE1_SOURCE, time_limit_s))
    if lp.status == "infeasible":
        return "infeasible", None, None, reports, False
    bound = _user_bound(ctx, lp.best_bound, with_tie=False)
    prog.bounded(bound)
    candidates: np.ndarray | None = None
    if lp.column_values is not None and lp.reduced_costs is not None:
        values, reduced = lp.column_values, lp.reduced_costs
        used = np.zeros(p.n_units, dtype=bool)
        used[col_units[values > 1e-6]] = True
        best_rc = np.full(p.n_units, np.inf)
        np.minimum.at(best_rc, col_units, reduced)
        best_rc[used] = -np.inf
        margin = max(_CANDIDATE_MARGIN, int(used.sum()))
        order = np.argsort(best_rc, kind="stable")
        keep = np.zeros(p.n_units, dtype=bool)
        keep[order[: int(used.sum()) + margin]] = True
        keep[list(p.include_units)] = True
        if keep.sum() < p.n_units:
            candidates = np.flatnonzero(keep)
    mult: dict[int, int] | None = None
    mip_bound_valid = False
    # the selection: the integer program over the candidates (or all units)
    for attempt, units in enumerate((candidates, None) if candidates is not None else (None,)):
        if deadline.left() < 0.3:
            break
        if units is None:
            cu, cw, spec = col_units, col_weights, spec_full
        else:
            cu, cw = _stage1_columns(ctx, units)
            spec = _stage1_spec(ctx, cu, cw)
        prog.phase("stage1", 0.12, 0.35, 0.3 * deadline.left())
        share = 0.3 if attempt == 0 else 0.45
        out = solve_model(p, spec, solver=ctx.solver,
                          time_limit_s=min(deadline.left(), max(1.0, share * deadline.left())),
                          rel_gap=min(ctx.rel_gap / 4, 0.0025), abs_gap=ctx.abs_gap,
                          seed=ctx.seed, on_tick=prog.tick)
        whole = units is None
        reports.append(_stage_report(
            ctx, out, "stage1",
            Message("stage 1: the shadow test of all papers together as an integer program")
            if whole else Message("stage 1: the shadow test over the {n} units its linear "
                                  "relaxation uses or nearly uses", n=len(units)),
            _STAGE1_MIP_SOURCE if whole else _RESTRICTED_SOURCE, time_limit_s))
        if whole and out.status == "infeasible":
            return "infeasible", None, None, reports, False
        if whole and out.best_bound is not None:
            mip = _user_bound(ctx, out.best_bound, with_tie=False)
            if bound is None or mip > bound:
                bound = mip
                mip_bound_valid = True
            prog.bounded(bound)
        if out.column_values is not None:
            mult = _multiplicities(spec, out.column_values)
            break
    if mult is None:
        return ("time_limit" if bound is None or deadline.left() < 0.3 else "no_selection",
                bound, None, reports, mip_bound_valid)
    return "ok", bound, mult, reports, mip_bound_valid


# --------------------------------------------------------------------------------------
# Shadow test: the split


def _solve_shadow(ctx: _Context, deadline: Deadline, time_limit_s: float, prog: _Progress
                  ) -> tuple[SolveReport, list[list[int]] | None]:
    p = ctx.problem
    n = ctx.n_new
    status1, bound, mult, stages, _ = _solve_stage1(ctx, deadline, time_limit_s, prog)
    method = Message("shadow test (van der Linden 2005, ch. 6): the items of all papers are "
                     "selected together in one model, then split into parallel papers")
    if status1 == "infeasible":
        return _final_report(ctx, None, None, None, "shadow", Message(
            "shadow test: the selection of all papers together, a relaxation of the whole "
            "problem, is infeasible, so no papers are possible"), None, time_limit_s, deadline,
            stages=tuple(stages), infeasible=True), None
    forms: list[list[int]] | None = None
    restricted: Message | None = None
    if mult is None:
        # stage 1 found no selection: the direct model, only when it can be built and solved
        # in the time left (never unguarded: every phase shares the one deadline)
        if status1 == "no_selection" and _direct_columns(ctx) <= _MAX_POLISH_COLUMNS \
                and deadline.left() > 1.0:
            report, forms = _solve_direct(ctx, deadline, time_limit_s, prog, plain=False,
                                          initial=None)
            if report.best_bound is None and bound is not None:
                report = _final_report(ctx, forms, bound, None, "shadow", method,
                                       _STAGE1_SOURCE, time_limit_s, deadline,
                                       stages=tuple(stages) + (report,))
            return replace(report, stages=tuple(stages) + report.stages), forms
        return _final_report(ctx, None, bound, None, "shadow", method, _STAGE1_SOURCE,
                             time_limit_s, deadline, stages=tuple(stages)), None
    prog.phase("split", 0.35, 0.8, 0.6 * deadline.left())
    shared = {u: m for u, m in mult.items() if m > 1}
    singles = sorted(u for u, m in mult.items() if m == 1)
    base: list[list[int]] | None = [[] for _ in range(n)]
    if shared:
        placed = _assign_shared(ctx, shared, set(mult), np.random.default_rng(ctx.seed))
        if placed is None:
            restricted_mult = _restricted_selection(ctx, deadline, time_limit_s, stages, prog)
            base = None
            if restricted_mult is not None:
                shared = {u: m for u, m in restricted_mult.items() if m > 1}
                singles = sorted(u for u, m in restricted_mult.items() if m == 1)
                placed = _assign_shared(ctx, shared, set(restricted_mult),
                                        np.random.default_rng(ctx.seed + 1))
                restricted = Message("the papers come from a selection where an item joins at "
                                     "most two papers: a restricted sub-problem (the bound is "
                                     "still that of the whole problem)")
        if placed is not None:
            base, subs = placed
            in_base = {u for b in base for u in b}
            # a unit stage 1 shared that ended in one paper only counts as placed there
            singles = sorted(set(singles) - in_base) + sorted(subs)
    if base is not None:
        weights = _relative_weights(ctx, singles, base)
        forms, split_reports = _split_bisection(ctx, singles, base, deadline, weights,
                                                time_limit_s, _split_gap(ctx, stages, n))
        stages += split_reports
        if forms is None and deadline.left() > 1.0:
            forms, report = _split_one_model(ctx, singles, base, deadline, time_limit_s)
            stages.append(report)
    if forms is not None:
        prog.found([_items_of(p, f) for f in forms], _user_objective(ctx, forms))
    # polish: the whole problem's direct model from the split (MIP start)
    objective = _user_objective(ctx, forms) if forms else None
    if (forms is None or not _proven(ctx, objective, bound)) and _direct_is_whole(ctx) \
            and _direct_columns(ctx) <= _MAX_POLISH_COLUMNS and deadline.left() > 2.0:
        prog.phase("polish", 0.8, 0.97, deadline.left())
        spec3 = _direct_spec(ctx)
        initial = _initial_for(ctx, spec3, forms) if forms else None
        out3 = solve_model(p, spec3, solver=ctx.solver, time_limit_s=deadline.left(),
                           rel_gap=ctx.rel_gap, initial=initial, abs_gap=ctx.abs_gap,
                           seed=ctx.seed, on_tick=_tick_decoder(ctx, spec3, prog,
                                                                user_objective=True))
        stages.append(_stage_report(ctx, out3, "polish",
                                    Message("polish: the whole direct model from the split"),
                                    Message("the solver's bound of the whole model"),
                                    time_limit_s))
        if out3.status == "infeasible":
            return _final_report(ctx, None, None, out3, "shadow", method, None, time_limit_s,
                                 deadline, stages=tuple(stages), infeasible=True), None
        if out3.column_values is not None:
            forms3 = _forms_from(ctx, spec3, out3.column_values)
            if forms is None or _user_objective(ctx, forms3) < objective - 1e-12:
                forms = forms3
                restricted = None
        polish_bound = _user_bound(ctx, out3.best_bound, with_tie=True)
        if polish_bound is not None and (bound is None or polish_bound > bound):
            bound = polish_bound
    source = _STAGE1_SOURCE
    if stages and stages[-1].formulation == "polish" and bound is not None and \
            stages[-1].best_bound is not None and \
            abs(ctx.sign * stages[-1].best_bound - bound) < 1e-9:
        source = Message("the solver's bound of the whole direct model")
    elif any(s.formulation == "stage1" and s.bound_source == _STAGE1_MIP_SOURCE
             and s.best_bound is not None and abs(ctx.sign * s.best_bound - bound) < 1e-9
             for s in stages if bound is not None):
        source = _STAGE1_MIP_SOURCE
    return _final_report(ctx, forms, bound, None, "shadow", method, source, time_limit_s,
                         deadline, stages=tuple(stages), restricted=restricted), forms


def _split_gap(ctx: _Context, stages: list[SolveReport], n: int) -> float:
    """Relative gap of each halving: what the requested gap leaves after stage 1, shared over
    the halving levels (losses add up over them)."""
    used = max((s.rel_gap or 0.0) for s in stages if s.formulation == "stage1") \
        if any(s.formulation == "stage1" for s in stages) else 0.0
    left = max(ctx.rel_gap / 4, 0.9 * ctx.rel_gap - used)
    return left / max(1, math.ceil(math.log2(max(2, n))))


def _restricted_selection(ctx: _Context, deadline: Deadline, time_limit_s: float,
                          stages: list[SolveReport], prog: _Progress) -> dict[int, int] | None:
    """Stage 1 again with an item joining at most two papers (easier to split)."""
    p = ctx.problem
    cu, cw = _stage1_columns(ctx, most=2)
    spec = _stage1_spec(ctx, cu, cw)
    out = solve_model(p, spec, solver=ctx.solver, time_limit_s=0.4 * deadline.left(),
                      rel_gap=min(ctx.rel_gap / 4, 0.0025), abs_gap=ctx.abs_gap, seed=ctx.seed,
                      on_tick=prog.tick)
    stages.append(_stage_report(ctx, out, "stage1_restricted",
                                Message("stage 1 again, an item joining at most two papers"),
                                _RESTRICTED_SOURCE, time_limit_s))
    if out.column_values is None:
        return None
    return _multiplicities(spec, out.column_values)


def _enemy_map(problem: Problem) -> dict[int, set[int]]:
    enemies: dict[int, set[int]] = {}
    for u, v in problem.enemy_units.tolist():
        enemies.setdefault(u, set()).add(v)
        enemies.setdefault(v, set()).add(u)
    return enemies


def _assign_shared(ctx: _Context, shared: dict[int, int], selected: set[int],
                   rng: np.random.Generator, attempts: int = 6
                   ) -> tuple[list[list[int]], list[int]] | None:
    """Give every shared unit its papers: ``shared[u]`` different papers, every pair of papers
    within the overlap allowance (with the sealed papers too), no enemies together, no paper
    above a row's maximum; keeping every paper's share of every row and of the information
    near the even share.

    Groups of three or more papers are placed first, largest first (the hardest to place);
    then units shared by two papers, the one with the fewest pairs of papers left first, each
    to the pair with the most allowance left. A unit that does not fit into as many papers as
    stage 1 chose joins fewer, and an unselected unit of the same kind (type, element,
    difficulty) takes each missing place as a single. Returns (shared units per paper, the
    substitutes) or None.
    """
    p = ctx.problem
    n = ctx.n_new
    k_max = float(p.blueprint.max_overlap)
    rows = list(p.rows)
    coeffs = np.array([r.coeffs for r in rows]).reshape(len(rows), p.n_units)
    his = np.array([np.inf if r.hi is None else r.hi for r in rows])
    info = p.information
    units = list(shared)
    total_rows = (coeffs[:, units] * np.array([shared[u] for u in units])).sum(axis=1) / n \
        if units else np.zeros(len(rows))
    total_info = (info[:, units] * np.array([shared[u] for u in units])).sum(axis=1) / n \
        if units else np.zeros(info.shape[0])
    scale_rows = np.maximum(1.0, np.abs(total_rows))
    scale_info = np.maximum(1e-6, np.abs(total_info)) / 3.0  # information weighs more
    enemies = _enemy_map(p)
    sealed_sets = [set(f) for f in ctx.fixed_units]
    counts = p.counts
    best: tuple[int, list[list[int]], dict[int, int]] | None = None

    for attempt in range(attempts):
        jitter = (lambda: rng.random()) if attempt else (lambda: 0.0)
        acc = np.zeros((n, len(rows)))
        acc_info = np.zeros((n, info.shape[0]))
        load = np.zeros((n, n))
        sealed_load = np.zeros((n, len(sealed_sets)))
        members: list[set[int]] = [set() for _ in range(n)]
        missing: dict[int, int] = {}

        def allowed(u: int) -> list[int]:
            c = float(counts[u])
            in_sealed = [h for h, s_ in enumerate(sealed_sets) if u in s_]
            out = []
            for q in range(n):
                if enemies.get(u, set()) & members[q]:
                    continue
                if (acc[q] + coeffs[:, u] > his + 1e-9).any():
                    continue
                if in_sealed and (sealed_load[q, in_sealed] + c > k_max).any():
                    continue
                out.append(q)
            return out

        def score(u: int, q: int) -> float:
            d_rows = (acc[q] + coeffs[:, u] - total_rows) ** 2 - (acc[q] - total_rows) ** 2
            d_info = (acc_info[q] + info[:, u] - total_info) ** 2 - (acc_info[q] - total_info) ** 2
            return float((d_rows / scale_rows ** 2).sum() + (d_info / scale_info ** 2).sum())

        def place(u: int, chosen: list[int]) -> None:
            c = float(counts[u])
            in_sealed = [h for h, s_ in enumerate(sealed_sets) if u in s_]
            for q in chosen:
                acc[q] += coeffs[:, u]
                acc_info[q] += info[:, u]
                members[q].add(u)
                if in_sealed:
                    sealed_load[q, in_sealed] += c
            for q, r in combinations(chosen, 2):
                load[q, r] += c
                load[r, q] += c

        # groups of three or more papers
        big = sorted((u for u in units if shared[u] >= 3),
                     key=lambda u: (-shared[u], -counts[u], -float(info[:, u].sum()), jitter()))
        for u in big:
            m, c = shared[u], float(counts[u])
            options = allowed(u)
            chosen: list[int] = []
            while len(chosen) < m:
                fits = [q for q in options if q not in chosen
                        and all(load[q, r] + c <= k_max for r in chosen)]
                if not fits:
                    break
                # the paper with the most allowance left to the others, then the best balance
                chosen.append(min(fits, key=lambda q: (
                    float(load[q].sum()) / max(1.0, k_max) + score(u, q) + 1e-6 * jitter())))
            if len(chosen) < 2:
                chosen = chosen[:1] if chosen else []
            place(u, chosen)
            if len(chosen) < m:
                missing[u] = m - len(chosen)
        # pairs: the unit with the fewest pairs left first, to the pair with most allowance
        pending = sorted((u for u in units if shared[u] == 2),
                         key=lambda u: (-counts[u], jitter()))
        while pending:
            options_of = {}
            for u in pending:
                c = float(counts[u])
                ok = allowed(u)
                options_of[u] = [(q, r) for q, r in combinations(ok, 2) if load[q, r] + c <= k_max]
            u = min(pending, key=lambda v: (len(options_of[v]) if options_of[v] else 10 ** 9,
                                            -counts[v]))
            pending.remove(u)
            pairs = options_of[u]
            if pairs:
                q, r = min(pairs, key=lambda qr: (load[qr[0], qr[1]], score(u, qr[0])
                                                  + score(u, qr[1]) + 1e-6 * jitter()))
                place(u, [q, r])
            else:
                ok = allowed(u)
                if ok:
                    place(u, [min(ok, key=lambda q: score(u, q))])
                    missing[u] = 1
                else:
                    missing[u] = 2
        base = [sorted(members[q]) for q in range(n)]
        lost = sum(missing.values())
        if best is None or lost < best[0]:
            best = (lost, base, dict(missing))
        if lost == 0:
            break
    assert best is not None
    lost, base, missing = best
    if not lost:
        return base, []
    # the places that did not fit go to unselected units of the same kind, as singles
    placed = {u for b in base for u in b}
    subs = _substitutes(ctx, missing, selected | placed)
    if subs is None:
        log.info("could not place %d shared places nor find substitutes", lost)
        return None
    # a unit that joined no paper at all is gone; one that joined one paper stays shared
    return base, subs


def _substitutes(ctx: _Context, missing: dict[int, int], taken: set[int]) -> list[int] | None:
    """For each missing place of a unit, an unselected unit of the same kind: the same
    coefficient in every blueprint row (type, element, difficulty band ...), else the same
    type; the most informative first."""
    p = ctx.problem
    coeffs = np.array([r.coeffs for r in p.rows]).reshape(len(p.rows), p.n_units)
    is_type = [k for k, r in enumerate(p.rows) if r.family in ("type_count", "type_points")]
    free = np.ones(p.n_units, dtype=bool)
    free[list(taken)] = False
    value = p.information.sum(axis=0) if p.information.shape[0] else -ctx.user_costs
    out: list[int] = []
    for u, k in sorted(missing.items()):
        for _ in range(k):
            same = free & (np.abs(coeffs - coeffs[:, [u]]) < 1e-9).all(axis=0) \
                & (p.counts == p.counts[u])
            if not same.any():
                same = free & (np.abs(coeffs[is_type] - coeffs[is_type][:, [u]]) < 1e-9).all(
                    axis=0) & (p.counts == p.counts[u])
            if not same.any():
                return None
            pick = int(np.flatnonzero(same)[np.argmax(value[same])])
            free[pick] = False
            out.append(pick)
    return out


def _relative_weights(ctx: _Context, singles: list[int], base: list[list[int]]
                      ) -> tuple[float, ...]:
    """Maximin split target: each paper's share of the selection's information at every theta
    (van der Linden 2005, ch. 5 "relative targets"). With mean curve m_k and
    r = min_k m_k / w_k, weights m_k / r >= w_k, so a paper with information >= y m_k / r at
    every theta has maximin value >= y: the split's y bounds the real objective from below."""
    if ctx.objective != "maximin":
        return ctx.weights
    p = ctx.problem
    total = p.information[:, singles].sum(axis=1) + sum(
        (p.information[:, b].sum(axis=1) for b in base), np.zeros(p.information.shape[0]))
    mean = total / ctx.n_new
    r = float(min(mean / np.array(ctx.weights)))
    return tuple(float(v) / r for v in mean) if r > 0 else ctx.weights


def _offsets(ctx: _Context, base: list[list[int]], slots: list[list[int]]
             ) -> dict[str, np.ndarray]:
    """What the shared units already bring to each slot (a slot is a group of papers)."""
    p = ctx.problem
    out: dict[str, np.ndarray] = {}
    groups = [[u for q in group for u in base[q]] for group in slots]
    if not any(groups):
        return out
    for lr in p.rows:
        out[lr.name] = np.array([float(lr.coeffs[g].sum()) for g in groups])
    out["information"] = np.array([p.information[:, g].sum(axis=1) for g in groups]
                                  ).reshape(len(slots), p.information.shape[0])
    out["tcc"] = np.array([p.tcc[:, g].sum(axis=1) for g in groups]
                          ).reshape(len(slots), p.tcc.shape[0])
    out["rating"] = np.array([float(p.ratings[g].sum()) for g in groups])
    for h, fixed in enumerate(ctx.fixed_units):
        fixed_set = set(fixed)
        out[f"sealed{h}"] = np.array([float(sum(p.counts[u] for u in g if u in fixed_set))
                                      for g in groups])
    return out


def _allowed_columns(ctx: _Context, singles: list[int], base: list[list[int]],
                     slots: list[list[int]]) -> tuple[list[int], list[tuple[int, ...]]]:
    """Columns (single unit, slot) of a split model: a single may not go to a slot whose every
    paper holds one of its enemies among the shared units."""
    enemies = _enemy_map(ctx.problem)
    base_sets = [set(b) for b in base]
    col_units: list[int] = []
    col_slots: list[tuple[int, ...]] = []
    for u in singles:
        foes = enemies.get(u, set())
        for s, group in enumerate(slots):
            if foes and all(foes & base_sets[q] for q in group):
                continue
            col_units.append(u)
            col_slots.append((s,))
    return col_units, col_slots


def _parallel_bands(ctx: _Context, singles: list[int], base: list[list[int]]
                    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-paper bands of half the tolerance around the selection's mean paper, so that any
    two papers end within the tolerance."""
    p = ctx.problem
    bp = p.blueprint
    n = ctx.n_new
    everything = list(singles) + [u for b in base for u in b]
    bands: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for metric, tol in (("information", bp.parallel.information_tolerance),
                        ("tcc", bp.parallel.tcc_tolerance)):
        if tol is not None:
            curve = p.information if metric == "information" else p.tcc
            mean = curve[:, everything].sum(axis=1) / n
            bands[metric] = (mean - tol / 2, mean + tol / 2)
    if bp.parallel.mean_rating_tolerance is not None:
        mean = np.array([p.ratings[everything].sum() / n])
        half = bp.parallel.mean_rating_tolerance * bp.n_items / 2
        bands["rating"] = (mean - half, mean + half)
    return bands


def _split_bisection(ctx: _Context, singles: list[int], base: list[list[int]],
                     deadline: Deadline, weights: tuple[float, ...], time_limit_s: float,
                     gap: float) -> tuple[list[list[int]] | None, list[SolveReport]]:
    """Split the single units (each in one paper) by recursive halving, on top of the shared
    units already placed (``base``, per paper).

    Each split is a two-slot model; slot sizes k1 = k // 2 and k2 = k - k1 papers, every row
    scaled by the slot's size minus what its papers' shared units bring, enemies binding in
    slots of one paper, parallelism tolerances as fixed bands around the mean paper. Returns
    the papers (unit lists, shared units included) or None when a split fails.
    """
    p = ctx.problem
    n = ctx.n_new
    bands = _parallel_bands(ctx, singles, base)
    reports: list[SolveReport] = []
    splits_left = [n - 1]

    def split(node: list[int], papers: list[int]) -> list[list[int]] | None:
        k = len(papers)
        if k == 1:
            return [sorted(node + base[papers[0]])]
        k1 = k // 2
        groups = [papers[:k1], papers[k1:]]
        col_units, col_slots = _allowed_columns(ctx, node, base, groups)
        spec = ModelSpec(
            units=np.array(col_units, dtype=np.int64), slots=tuple(col_slots),
            weights=np.ones(len(col_units), dtype=np.int64), n_slots=2, unit_equal=True,
            slot_scales=(float(k1), float(k - k1)), fixed_bands=bands, unit_cuts=True,
            offsets=_offsets(ctx, base, groups), name=f"split_{k}",
            **_base_spec(ctx, objective_weights=weights, information_tolerance=None,
                         tcc_tolerance=None, rating_tolerance=None))  # type: ignore[arg-type]
        share = min(1.0, 2.0 * k / max(1, splits_left[0] + k - 1)) if splits_left[0] > 0 else 1.0
        out = solve_model(p, spec, solver=ctx.solver,
                          time_limit_s=min(deadline.left(), max(0.5, share * deadline.left())),
                          rel_gap=gap, abs_gap=ctx.abs_gap, seed=ctx.seed)
        splits_left[0] -= 1
        reports.append(_stage_report(
            ctx, out, "split", Message("split {k} papers into {k1} + {k2}", k=k, k1=k1,
                                       k2=k - k1), None, time_limit_s))
        if out.column_values is None:
            return None
        left = [int(spec.units[c]) for c in np.flatnonzero(out.column_values > 0.5)
                if spec.slots[c] == (0,)]
        right = [int(spec.units[c]) for c in np.flatnonzero(out.column_values > 0.5)
                 if spec.slots[c] == (1,)]
        first = split(left, groups[0])
        second = split(right, groups[1]) if first is not None else None
        return None if first is None or second is None else first + second

    forms = split(list(singles), list(range(n)))
    return forms, reports


def _split_one_model(ctx: _Context, singles: list[int], base: list[list[int]],
                     deadline: Deadline, time_limit_s: float
                     ) -> tuple[list[list[int]] | None, SolveReport]:
    """The split in one model: every single unit into one of the n papers."""
    p = ctx.problem
    n = ctx.n_new
    groups = [[q] for q in range(n)]
    col_units, col_slots = _allowed_columns(ctx, singles, base, groups)
    spec = ModelSpec(units=np.array(col_units, dtype=np.int64), slots=tuple(col_slots),
                     weights=np.ones(len(col_units), dtype=np.int64), n_slots=n,
                     unit_equal=True, offsets=_offsets(ctx, base, groups), name="split_all",
                     **_base_spec(ctx))  # type: ignore[arg-type]
    out = solve_model(p, spec, solver=ctx.solver, time_limit_s=0.7 * deadline.left(),
                      rel_gap=ctx.rel_gap / 2, abs_gap=ctx.abs_gap, seed=ctx.seed)
    report = _stage_report(ctx, out, "split_all", Message("split of the selection in one model"),
                           None, time_limit_s)
    if out.column_values is None:
        return None, report
    forms = _forms_from(ctx, spec, out.column_values)
    return [sorted(f + base[q]) for q, f in enumerate(forms)], report


def _initial_for(ctx: _Context, spec: ModelSpec, forms: list[list[int]]) -> np.ndarray:
    """Column values of ``spec`` that reproduce papers given as unit lists (a MIP start)."""
    unit_slots: dict[int, set[int]] = {}
    for s, form in enumerate(forms):
        for u in form:
            unit_slots.setdefault(int(u), set()).add(s)
    values = np.zeros(len(spec.units))
    for c, (u, slots) in enumerate(zip(spec.units, spec.slots)):
        if set(slots) == unit_slots.get(int(u), set()):
            values[c] = 1.0
    return values


def _warm_columns(ctx: _Context, warm_start: Sequence[Sequence[str]], pool: Pool) -> np.ndarray:
    if len(warm_start) != ctx.n_new:
        raise InvalidFormsError(f"warm_start: {len(warm_start)} papers for {ctx.n_new} new papers")
    forms = [_indices(pool, form, f"warm_start paper {k}") for k, form in enumerate(warm_start)]
    unit_forms = [sorted({int(ctx.problem.item_unit[i]) for i in form
                          if ctx.problem.item_unit[i] >= 0}) for form in forms]
    return _initial_for(ctx, _direct_spec(ctx), unit_forms)


# --------------------------------------------------------------------------------------
# Parallelism of new papers against the papers in use


def _parallelism(ctx: _Context, index: dict[str, int], new_form: Sequence[str], position: int,
                 in_use: list[list[str]], problem: Problem) -> ReplacementParallelism:
    """The new paper's information and characteristic curves against every paper in use at
    the blueprint's thetas, and plain-words warnings with what the pool lacks."""
    pool = problem.pool
    bp = problem.blueprint
    thetas = problem.thetas
    new_idx = [index[i] for i in new_form]
    new_info, new_tcc = _curves(pool, thetas, new_idx)
    used = [_curves(pool, thetas, [index[i] for i in form]) for form in in_use]
    points = float(pool.points[new_idx].sum()) or float(bp.n_items)
    comparisons: list[CurveComparison] = []
    warnings: list[Message] = []
    for metric, new, others, tol, default in (
        ("information", new_info, [u[0] for u in used], bp.parallel.information_tolerance,
         None),
        ("tcc", new_tcc, [u[1] for u in used], bp.parallel.tcc_tolerance, 0.05 * points),
    ):
        others_arr = np.array(others).reshape(len(others), len(thetas))
        mean = others_arr.mean(axis=0) if len(others) else new
        from_blueprint = tol is not None
        if tol is None:
            # the blueprint sets no tolerance: 10 % of the papers in use's mean information,
            # 5 % of the paper's points for the expected score
            tol = float(default) if default is not None else float(0.1 * mean.min())
        largest = np.abs(new[None, :] - others_arr).max(axis=0) if len(others) else \
            np.zeros(len(thetas))
        ok = bool((largest <= tol + 1e-9).all())
        comparisons.append(CurveComparison(
            metric=metric, thetas=tuple(float(t) for t in thetas),
            new=tuple(float(v) for v in new),
            in_use=tuple(tuple(float(v) for v in row) for row in others_arr),
            differences=tuple(float(v) for v in new - mean),
            largest=tuple(float(v) for v in largest), tolerance=float(tol),
            tolerance_from_blueprint=from_blueprint, ok=ok))
        for k, theta in enumerate(thetas):
            if largest[k] <= tol + 1e-9:
                continue
            what = Message("test information") if metric == "information" else \
                Message("expected score")
            warnings.append(Message(
                "{paper} is not parallel to the papers in use: its {what} at θ = {theta:g} is "
                "{value:.1f}, the papers in use have {low:.1f} to {high:.1f} (allowed "
                "difference {tol:.1f}{source})", paper=paper_text(position), what=what,
                theta=float(theta), value=float(new[k]), low=float(others_arr[:, k].min()),
                high=float(others_arr[:, k].max()), tol=float(tol),
                source="" if from_blueprint else Message(", the blueprint sets none: default")))
            warnings.append(_lack(ctx, problem, float(theta), new_idx, in_use, index))
    return ReplacementParallelism(paper=position, compared_with=tuple(range(len(in_use))),
                                  curves=tuple(comparisons), warnings=tuple(_dedupe(warnings)))


def _parallel_counts(ctx: _Context) -> list[Finding]:
    """Parallelism to the papers in use, counted: at each theta a new paper holds at most the
    sum of the n most informative usable items (and at least the n least informative); when
    that cannot come within the blueprint's tolerance of every paper in use, no solve can."""
    p = ctx.problem
    bp = p.blueprint
    out: list[Finding] = []
    n = bp.n_items
    eligible = p.eligible & p.pool.calibrated
    if not len(p.thetas) or not eligible.any():
        return out
    pool = p.pool
    idx = np.flatnonzero(eligible)
    # a new paper shares at most max_overlap items with each paper in use: those items count
    # only up to that many per paper in use
    in_fixed = np.zeros(pool.n_items, dtype=bool)
    fixed_items = [[int(i) for u in units for i in p.unit_items[u]] for units in ctx.fixed_units]
    for items in fixed_items:
        in_fixed[items] = True
    for metric, tol in (("information", bp.parallel.information_tolerance),
                        ("tcc", bp.parallel.tcc_tolerance)):
        fixed = ctx.fixed_curves.get(metric)
        if tol is None or fixed is None or not len(fixed):
            continue
        values = np.zeros((len(p.thetas), len(idx)))
        for d_value in np.unique(pool.D[idx]):
            sel = pool.D[idx] == d_value
            part = idx[sel]
            if metric == "information":
                values[:, sel] = item_information_3pl(p.thetas, pool.a[part], pool.b[part],
                                                      pool.c[part], D=float(d_value))
            else:
                values[:, sel] = probability_3pl(p.thetas, pool.a[part], pool.b[part],
                                                 pool.c[part], D=float(d_value)) \
                    * pool.points[part][None, :]
        position = {int(i): j for j, i in enumerate(idx)}
        free = np.array([not in_fixed[i] for i in idx], dtype=bool)
        for k, theta in enumerate(p.thetas):
            shared = [sorted((values[k, position[i]] for i in items if i in position),
                             reverse=True)[: bp.max_overlap] for items in fixed_items]
            candidates = np.concatenate([values[k, free]] + [np.array(v) for v in shared])
            most = float(np.sort(candidates)[::-1][:n].sum())
            least = float(np.sort(values[k])[:n].sum())
            need_lo = float(fixed[:, k].max()) - tol
            need_hi = float(fixed[:, k].min()) + tol
            what = Message("test information") if metric == "information" else \
                Message("expected score")
            label = Message("largest difference in test information between papers") \
                if metric == "information" else \
                Message("largest difference in expected score between papers")
            if most < need_lo - 1e-9:
                needed = math.ceil((float(fixed[:, k].max()) - most) * 1000 + 1) / 1000
                out.append(Finding(
                    f"parallel_{metric}", "error",
                    Message("parallel to the papers in use: at θ = {theta:g} a new paper needs a "
                            "{what} of at least {need:.2f} (the papers in use reach {high:.2f}, "
                            "allowed difference {tol:g}), but even the {n} usable items highest "
                            "there give only {best:.2f}", theta=float(theta), what=what,
                            need=need_lo, high=float(fixed[:, k].max()), tol=tol, n=n, best=most),
                    need_lo, most,
                    Message("a fix: allow a difference of {needed:g}, or add usable items "
                            "informative at θ = {theta:g}", needed=needed, theta=float(theta)),
                    _relaxation(f"parallel_{metric}", f"parallel_{metric}", metric, "max", tol,
                                needed, label, per_paper=False)))
            elif least > need_hi + 1e-9:
                needed = math.ceil((least - float(fixed[:, k].min())) * 1000 + 1) / 1000
                out.append(Finding(
                    f"parallel_{metric}", "error",
                    Message("parallel to the papers in use: at θ = {theta:g} a new paper may have "
                            "a {what} of at most {need:.2f}, but even the {n} usable items "
                            "lowest there give {best:.2f}", theta=float(theta), what=what,
                            need=need_hi, n=n, best=least),
                    need_hi, least,
                    Message("a fix: allow a difference of {needed:g}", needed=needed),
                    _relaxation(f"parallel_{metric}", f"parallel_{metric}", metric, "max", tol,
                                needed, label, per_paper=False)))
    return out


def _dedupe(messages: list[Message]) -> list[Message]:
    out: list[Message] = []
    for m in messages:
        if m not in out:
            out.append(m)
    return out


def _lack(ctx: _Context, problem: Problem, theta: float, new_idx: list[int],
          in_use: list[list[str]], index: dict[str, int]) -> Message:
    """What the pool lacks at ``theta``: usable items as informative there as the typical item
    of the papers in use (at least their median item information at ``theta``), against how
    many of those the papers in use and the new paper hold."""
    pool = problem.pool
    bp = problem.blueprint
    info = np.zeros(pool.n_items)
    cal = np.flatnonzero(pool.calibrated)
    for d_value in np.unique(pool.D[cal]) if len(cal) else ():
        part = cal[pool.D[cal] == d_value]
        info[part] = item_information_3pl(np.array([theta]), pool.a[part], pool.b[part],
                                          pool.c[part], D=float(d_value))[0]
    in_use_idx = [[index[i] for i in form] for form in in_use]
    typical = float(np.median(np.concatenate([info[f] for f in in_use_idx]))) if in_use_idx else 0.0
    strong = info >= typical
    per_paper = float(np.mean([strong[f].sum() for f in in_use_idx])) if in_use_idx else 0.0
    usable = int((strong & problem.eligible).sum())
    best = float(np.sort(info[problem.eligible])[::-1][: bp.n_items].sum())
    message = Message(
        "what the bank lacks at θ = {theta:g}: items with information of at least {typical:.2f} "
        "there (the median item of the papers in use); the papers in use hold {held:.0f} such "
        "items each, the new paper {new}, and {usable} usable ones are left in the bank",
        theta=float(theta), typical=typical, held=per_paper, new=int(strong[new_idx].sum()),
        usable=usable)
    in_use_low = min((float(info[f].sum()) for f in in_use_idx), default=0.0)
    if best < in_use_low:
        message = Message("{lack}; even the {n} usable items most informative at θ = {theta:g} "
                          "would give only {best:.1f}", lack=message, n=bp.n_items,
                          theta=float(theta), best=best)
    return message


# --------------------------------------------------------------------------------------
# Elastic diagnosis


def _elastic(ctx: _Context, deadline: Deadline
             ) -> tuple[tuple[RowRelaxation, ...], list[Message], bool]:
    """Rows to relax (one switch per row, shared by all papers), within the run's deadline.

    Returns (relaxations, messages, proven): ``proven`` when the elastic model is the whole
    problem and was solved to optimality, so that no smaller set of rows would do.
    """
    p = ctx.problem
    if deadline.left() < 0.3:
        return (), [Message("no time was left to find which rows to relax; run again with more "
                            "time to get a fix")], False
    size = _direct_columns(ctx)
    if size > _MAX_ELASTIC_COLUMNS:
        return (), [Message("the model is too large to find which rows to relax in the time "
                            "given; see the counts above, or assemble fewer papers")], False
    whole = _direct_is_whole(ctx)
    spec = _direct_spec(ctx, elastic=True)
    out = solve_model(p, spec, solver=ctx.solver, time_limit_s=deadline.left(), rel_gap=0.0,
                      abs_gap=elastic_step(), seed=ctx.seed)
    if out.column_values is None:
        if out.status == "infeasible":
            return (), [Message("even with every blueprint row relaxed (keeping at least one item "
                                "of each type) no papers are possible: too few usable items or "
                                "item sets for this many papers")], whole
        return (), [Message("no fix was found within the time given ({seconds:.0f} s); see the "
                            "counts above, or run again with more time",
                            seconds=out.time_s)], False
    proven = whole and out.status == "optimal"
    if proven and deadline.left() > 0.3:
        # the rows are proven; solve again with the slacks priced high enough for the solvers'
        # tolerances (a row's switch still dominates: the same number of rows) to find the
        # smallest changes of those rows
        exact = solve_model(p, replace(spec, elastic_scale=100.0), solver=ctx.solver,
                            time_limit_s=deadline.left(), rel_gap=0.0, abs_gap=1e-4,
                            seed=ctx.seed)
        if exact.status == "optimal" and exact.column_values is not None:
            out = exact
    forms = _forms_from(ctx, spec, out.column_values)
    unit_sets = [np.array(sorted(set(f)), dtype=np.int64) for f in forms]
    item_forms = [_items_of(p, f) for f in forms]
    rows = {row.name: row for row in p.rows}
    pool = p.pool
    relaxations: list[RowRelaxation] = []
    for key in sorted(out.relaxed):
        name, _, side = key.partition(":")
        rel: RowRelaxation | None = None
        if name in rows:
            row = rows[name]
            achieved = [float(row.coeffs[units].sum()) for units in unit_sets]
            if row.family in ("mean_rating", "mean_p"):
                bound = row.key
                means = []
                for form in item_forms:
                    if row.family == "mean_rating":
                        means.append(float(pool.ratings[form].mean()) if form else 0.0)
                    else:
                        ps = pool.p_values[form]
                        ps = ps[~np.isnan(ps)]
                        means.append(float(ps.mean()) if len(ps) else 0.0)
                d = p.blueprint.difficulty
                target = getattr(d, f"{row.family}_{bound}")
                needed = min(means) if bound == "min" else max(means)
                if (bound == "min" and needed >= target - 1e-9) or \
                        (bound == "max" and needed <= target + 1e-9):
                    continue  # the row holds after all: nothing to relax
                needed = math.floor(needed * 100) / 100 if bound == "min" \
                    else math.ceil(needed * 100) / 100
                rel = _relaxation(name, row.family, "mean", bound, target, needed, row.label,
                                  proven=proven)
            else:
                exact = not side
                if exact:
                    target = float(row.lo)  # type: ignore[arg-type]
                    needed = max(achieved, key=lambda v: abs(v - target))
                    bound = "min" if needed < target else "max"
                else:
                    bound = side
                    target = float(row.lo if bound == "min" else row.hi)  # type: ignore[arg-type]
                    needed = min(achieved) if bound == "min" else max(achieved)
                if row.family in ("type_count", "band", "element") and \
                        float(needed).is_integer() is False and row.family != "element":
                    needed = float(round(needed))
                if abs(needed - target) < 1e-9 or (not exact and (
                        (bound == "min" and needed >= target) or
                        (bound == "max" and needed <= target))):
                    continue  # switched on but not needed: not a relaxation
                rel = _relaxation(name, row.family, row.key, bound, target, needed, row.label,
                                  exact=exact, proven=proven)
        elif name == "include":
            rel = RowRelaxation(key, "include", side, "min", 1.0, 0.0, 1.0,
                                Message("item {item} cannot be in every paper together with the "
                                        "other rows: drop it from the items to include",
                                        item=side), proven)
        elif name == "max_overlap":
            all_sets = [set(u.tolist()) for u in unit_sets] + [set(f) for f in ctx.fixed_units]
            worst = 0.0
            for a, b in combinations(range(len(all_sets)), 2):
                if a >= len(unit_sets) and b >= len(unit_sets):
                    continue
                worst = max(worst, float(p.counts[list(all_sets[a] & all_sets[b])].sum()))
            if worst > p.blueprint.max_overlap:
                rel = _relaxation("max_overlap", "overlap", "papers", "max",
                                  float(p.blueprint.max_overlap), worst,
                                  Message("items shared by two papers"), per_paper=False,
                                  proven=proven)
        elif name.startswith("parallel_"):
            metric = name[len("parallel_"):]
            if metric == "mean_rating":
                sums = [float(p.ratings[u].sum()) / max(1, p.blueprint.n_items) for u in unit_sets]
                if "rating" in ctx.fixed_curves:
                    sums += [float(v) / max(1, p.blueprint.n_items)
                             for v in ctx.fixed_curves["rating"]]
                spread = max(sums) - min(sums)
                target = p.blueprint.parallel.mean_rating_tolerance
                label = Message("largest difference in mean difficulty rating between papers")
            else:
                curve = p.information if metric == "information" else p.tcc
                values = np.array([[float(curve[k, u].sum()) for k in range(curve.shape[0])]
                                   for u in unit_sets])
                if metric in ctx.fixed_curves:
                    values = np.vstack([values, ctx.fixed_curves[metric]])
                spread = float((values.max(axis=0) - values.min(axis=0)).max())
                target = getattr(p.blueprint.parallel, f"{metric}_tolerance")
                label = Message("largest difference in test information between papers") \
                    if metric == "information" else \
                    Message("largest difference in expected score between papers")
            if spread > float(target) + 1e-9:
                rel = _relaxation(name, name, metric, "max", float(target),
                                  math.ceil((spread + 1e-6) * 1000) / 1000, label,
                                  per_paper=False, proven=proven)
        if rel is not None:
            relaxations.append(rel)
    for item_id in p.unusable_includes:  # never in the model: not in the bank or not usable
        relaxations.append(RowRelaxation(
            f"include:{item_id}", "include", item_id, "min", 1.0, 0.0, 1.0,
            Message("item {item} is to be included by hand but cannot be used: drop it from "
                    "the items to include", item=item_id), proven))
    messages: list[Message] = []
    if not relaxations:
        messages.append(Message("the elastic re-solve relaxed no row: the conflict lies in "
                                "enemies or item sets"))
        return (), messages, False
    if proven:
        messages.append(Message("the smallest fix (proven by solving to optimality): relax "
                                "{n} rows", n=len(relaxations)))
    else:
        messages.append(Message("a fix (not proven to be the smallest: the solve was stopped "
                                "or worked on a restricted model): relax {n} rows",
                                n=len(relaxations)))
    messages += [r.message for r in relaxations]
    return tuple(relaxations), messages, proven


__all__ = ["Deadline", "FORMULATIONS", "assemble_forms", "reassemble_after_leak"]
