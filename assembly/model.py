"""The model builder and solver hand-over: the only module of ``assembly`` that sees PuLP.

A :class:`ModelSpec` says which integer program to build from a compiled
:class:`~assembly.problem.Problem`; :func:`solve_model` builds it (one commented block per
constraint family, every constraint named after family and key), solves it with CBC or HiGHS
(time limit, relative gap, ``msg=False`` always) and returns plain numpy/dataclass data.

Columns
-------
A column is a binary ``z_c`` that puts unit ``units[c]`` into every slot (paper) of
``slots[c]`` with multiplicity ``weights[c]``:

- direct model: one column per (unit, paper);
- overlap by patterns: one column per (unit, set of papers), so the items shared by two papers
  are counted by a linear sum instead of one binary per item and pair of papers;
- aggregated "shadow" model: one slot standing for all papers together, a column per
  (unit, number of papers using it) with weight = that number (van der Linden 2005, ch. 6).

Statuses (the known traps)
--------------------------
PuLP reports ``LpStatusOptimal`` for a CBC run stopped by its time limit with an incumbent, and
for HiGHS runs stopped by a limit; the *solution* status (``sol_status``) tells them apart:
``LpSolutionOptimal`` = proven within the gap, ``LpSolutionIntegerFeasible`` = stopped with an
incumbent. Every model here is built as a minimisation, so no objective sense has to survive the
hand-over to HiGHS (PuLP's HiGHS interface negates a maximisation's costs and the solver's
bound would come back negated); a maximin objective is minimised as ``-y`` and reported in its
own sense by the caller.

Best bound: HiGHS gives ``mip_dual_bound`` in ``getInfo()``. CBC through PuLP gives no bound, so
the CBC log is written to a temporary file (``logPath``) and its ``Objective value:`` and
``Lower bound:`` lines are read; when CBC proves optimality it prints no lower bound line and the
bound is the objective.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import numpy.typing as npt
import pulp

from assembly.errors import UnknownSolverError
from assembly.problem import Problem

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SOLVERS = ("cbc", "highs")


@dataclass(frozen=True)
class ModelSpec:
    """Which integer program to build.

    Attributes
    ----------
    units, slots, weights : the columns (see module docstring); arrays/tuples of length n_cols.
    n_slots : papers in the model.
    unit_equal : each unit's columns sum to exactly 1 (a split of a chosen shadow test) instead
        of at most 1.
    unit_once : each unit's columns sum to at most 1 (off in the plain overlap model, where a
        unit has one column per paper and sharing is limited by the linearised pair binaries).
    row_scale : row bounds are multiplied by this (n_papers in the aggregated model).
    overlap_mode : "patterns" (counted through pattern columns), "linearised" (one binary per
        unit and pair of papers, the plain model), "budget" (aggregated: sum over units of
        C(m,2) shared pairs <= C(n,2) * max_overlap) or "none" (columns never share units).
    max_overlap : items two papers may share.
    budget_pairs : C(n,2) for the budget mode.
    fixed_units : unit indices of each sealed paper (constants in overlap and parallel rows).
    fixed_curves : information / tcc / rating sums of the sealed papers, keyed by metric.
    objective : "maximin", "target_information", "target_tcc" or "none".
    objective_weights : maximin weights per theta; objective_targets : target curve per theta.
    costs : per-unit cost added for each use of the unit (exposure, seeded tie-break).
    information_tolerance, tcc_tolerance, rating_tolerance : parallelism bands (None = off).
    n_items_per_paper : for the mean-rating band.
    symmetry : order the interchangeable papers by information at the first theta (or summed
        rating) to cut the n! relabellings of one solution.
    elastic : every blueprint row gets slacks and a binary "relaxed" switch shared by all papers;
        the objective counts switched rows (smallest set of rows to relax).
    set_links : pairs of units that must share papers (plain model: sets not aggregated).
    slot_scales : per-slot row scale (a slot standing for k papers in a bisection split);
        overrides ``row_scale``.
    fixed_bands : metric ("information", "tcc", "rating") -> (lo, hi) per theta (per paper):
        each slot's curve within [k lo, k hi] for a slot standing for k papers.
    unit_cuts : for aggregated slots, add each minimum row again with every unit's coefficient
        capped at the minimum (valid for every real solution; see the block).
    name : model name.
    """

    units: IntArray
    slots: tuple[tuple[int, ...], ...]
    weights: IntArray
    n_slots: int
    unit_equal: bool = False
    unit_once: bool = True
    row_scale: float = 1.0
    overlap_mode: str = "none"
    max_overlap: int = 0
    budget_pairs: int = 0
    fixed_units: tuple[tuple[int, ...], ...] = ()
    fixed_curves: dict[str, FloatArray] = field(default_factory=dict)
    objective: str = "none"
    objective_weights: tuple[float, ...] = ()
    objective_targets: tuple[float, ...] = ()
    costs: FloatArray | None = None
    information_tolerance: float | None = None
    tcc_tolerance: float | None = None
    rating_tolerance: float | None = None
    n_items_per_paper: int = 0
    symmetry: bool = False
    elastic: bool = False
    set_links: tuple[tuple[int, int], ...] = ()
    slot_scales: tuple[float, ...] | None = None
    fixed_bands: dict[str, tuple[FloatArray, FloatArray]] = field(default_factory=dict)
    unit_cuts: bool = False
    name: str = "assembly"

    def scale(self, s: int) -> float:
        """Row scale of slot ``s``: how many papers the slot stands for."""
        return self.slot_scales[s] if self.slot_scales is not None else self.row_scale


@dataclass(frozen=True)
class ModelOutcome:
    """Plain data back from one solve (objective and bound in the minimisation sense)."""

    status: str  # optimal | feasible | infeasible | time_limit
    column_values: FloatArray | None  # (n_cols,), None without a solution
    objective: float | None
    best_bound: float | None
    time_s: float
    n_variables: int
    n_binaries: int
    n_constraints: int
    solver_status: str
    relaxed: tuple[str, ...] = ()  # elastic: keys of the rows switched to relaxed


class _Builder:
    """Collects variables and named constraints; names are made unique and PuLP-safe."""

    def __init__(self, name: str) -> None:
        self.lp = pulp.LpProblem(_safe(name), pulp.LpMinimize)
        self.names: set[str] = set()

    def add(self, terms: list[tuple[pulp.LpVariable, float]], sense: str, rhs: float,
            name: str) -> None:
        if not terms:
            return
        base = _safe(name)
        unique = base
        k = 1
        while unique in self.names:
            unique = f"{base}_{k}"
            k += 1
        self.names.add(unique)
        expr = pulp.LpAffineExpression(terms)
        op = {"<=": pulp.LpConstraintLE, ">=": pulp.LpConstraintGE, "==": pulp.LpConstraintEQ}[sense]
        self.lp.addConstraint(pulp.LpConstraint(expr, op, name=unique, rhs=float(rhs)))


def _safe(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", name)


def _column_index(spec: ModelSpec) -> tuple[list[np.ndarray], dict[int, list[int]]]:
    """Columns touching each slot, and columns of each unit."""
    by_slot: list[list[int]] = [[] for _ in range(spec.n_slots)]
    by_unit: dict[int, list[int]] = {}
    for c, slots in enumerate(spec.slots):
        for s in slots:
            by_slot[s].append(c)
        by_unit.setdefault(int(spec.units[c]), []).append(c)
    return [np.array(cols, dtype=np.int64) for cols in by_slot], by_unit


def build_model(problem: Problem, spec: ModelSpec
                ) -> tuple[pulp.LpProblem, list[pulp.LpVariable], dict[str, pulp.LpVariable]]:
    """Build the integer program; returns (lp, column variables, elastic switches by row key)."""
    b = _Builder(spec.name)
    n_cols = len(spec.units)
    z = [b.lp.add_variable(f"z{c}", cat=pulp.LpBinary) for c in range(n_cols)]
    by_slot, by_unit = _column_index(spec)
    weights = spec.weights.astype(np.float64)
    unit_label = [problem.pool.ids[int(items[0])] for items in problem.unit_items]
    switches: dict[str, pulp.LpVariable] = {}
    slack_terms: list[tuple[pulp.LpVariable, float]] = []

    def expr(values: FloatArray, s: int) -> list[tuple[pulp.LpVariable, float]]:
        cols = by_slot[s]
        coefs = values[spec.units[cols]] * weights[cols]
        keep = np.flatnonzero(coefs)
        return [(z[cols[k]], float(coefs[k])) for k in keep]

    def switch(key: str) -> pulp.LpVariable:
        if key not in switches:
            switches[key] = b.lp.add_variable(f"relax_{_safe(key)}", cat=pulp.LpBinary)
        return switches[key]

    slacks: dict[tuple[str, str], pulp.LpVariable] = {}

    def shared_slack(key: str, direction: str, big_m: float,
                     cap: float | None = None) -> pulp.LpVariable:
        """One slack per row and direction, shared by all papers: relaxing a row moves its
        bound for every paper alike, which is what a changed blueprint row means."""
        if (key, direction) not in slacks:
            slack = b.lp.add_variable(f"slack_{_safe(key)}_{direction}", lowBound=0, upBound=cap)
            b.add([(slack, 1.0), (switch(key), -big_m)], "<=", 0.0,
                  f"{key}_{direction}_switch")
            slack_terms.append((slack, 1.0 / max(1.0, big_m)))
            slacks[(key, direction)] = slack
        return slacks[(key, direction)]

    def elastic_row(terms, sense: str, rhs: float, name: str, key: str, big_m: float,
                    cap_down: float | None = None) -> None:
        """Add a row; in elastic mode with a slack switched on by the row's shared binary."""
        if not spec.elastic:
            b.add(terms, sense, rhs, name)
            return
        if sense == "==":  # every paper moves to the same new value
            down = shared_slack(key, "down", big_m, cap_down)
            up = shared_slack(key, "up", big_m)
            b.add(terms + [(down, 1.0), (up, -1.0)], "==", rhs, name)
        elif sense == ">=":
            b.add(terms + [(shared_slack(key, "down", big_m), 1.0)], ">=", rhs, name)
        else:
            b.add(terms + [(shared_slack(key, "up", big_m), -1.0)], "<=", rhs, name)

    # unit use: each unit at most once (or exactly once when splitting a shadow test)
    for u, cols in by_unit.items():
        if spec.unit_equal or (spec.unit_once and len(cols) > 1):
            b.add([(z[c], 1.0) for c in cols], "==" if spec.unit_equal else "<=", 1.0,
                  f"unit_{unit_label[u]}_once")

    # blueprint rows per paper: types, elements, difficulty, bands, time
    for row in problem.rows:
        big_m = float(np.abs(row.coeffs).sum()) + abs(row.lo or 0.0) + abs(row.hi or 0.0) + 1.0
        for s in range(spec.n_slots):
            scale = spec.scale(s)
            terms = expr(row.coeffs, s)
            if row.lo is not None and row.hi is not None and row.lo == row.hi:
                # a relaxed type keeps at least one item: a paper without it is no answer
                cap = scale * row.lo - 1 if row.family == "type_count" else None
                elastic_row(terms, "==", scale * row.lo, f"{row.name}_form{s}", row.name, big_m,
                            cap_down=cap)
                continue
            if row.lo is not None:
                elastic_row(terms, ">=", scale * row.lo, f"{row.name}_min_form{s}",
                            f"{row.name}:min", big_m)
            if row.hi is not None:
                elastic_row(terms, "<=", scale * row.hi, f"{row.name}_max_form{s}",
                            f"{row.name}:max", big_m)

    # minimums with coefficients capped at the minimum (aggregated slots only): in one paper
    # sum(min(c_u, lo) x_u) >= lo holds whenever sum(c_u x_u) >= lo; summed over the k papers a
    # slot stands for (a unit counted once per paper using it), the capped sum is >= k * lo.
    # A 4-item set cannot stand in for what two papers each need.
    if spec.unit_cuts:
        for row in problem.rows:
            if row.lo is None or row.lo <= 0 or (row.coeffs < 0).any() \
                    or float(row.coeffs.max()) <= row.lo:
                continue
            capped = np.minimum(row.coeffs, row.lo)
            for s in range(spec.n_slots):
                b.add(expr(capped, s), ">=", spec.scale(s) * row.lo,
                      f"{row.name}_capped_form{s}")

    # items included by hand: in every paper
    for u, key in zip(problem.include_units, problem.include_keys):
        for s in range(spec.n_slots):
            cols = [c for c in by_unit.get(u, []) if s in spec.slots[c]]
            terms = [(z[c], float(weights[c])) for c in cols]
            if not terms:
                continue
            elastic_row(terms, "==", spec.scale(s), f"include_{key}_form{s}",
                        f"include:{key}", spec.scale(s) + 1.0)

    # enemies: never together in one paper. A slot standing for k papers holds the pair's
    # uses m_u + m_v <= k (pigeonhole); for k = 1 this is the usual x_u + x_v <= 1, and it is
    # left out where it cannot bind
    for u, v in problem.enemy_units:
        for s in range(spec.n_slots):
            terms = [(z[c], float(weights[c])) for c in by_unit.get(int(u), [])
                     if s in spec.slots[c]]
            most_u = max((w for _, w in terms), default=0.0)
            more = [(z[c], float(weights[c])) for c in by_unit.get(int(v), [])
                    if s in spec.slots[c]]
            most_v = max((w for _, w in more), default=0.0)
            if terms and more and most_u + most_v > spec.scale(s):
                b.add(terms + more, "<=", spec.scale(s),
                      f"enemy_{unit_label[u]}_{unit_label[v]}_form{s}")

    # item sets in the plain model: linked units share every paper
    for u, v in spec.set_links:
        for s in range(spec.n_slots):
            cu = [c for c in by_unit.get(u, []) if s in spec.slots[c]]
            cv = [c for c in by_unit.get(v, []) if s in spec.slots[c]]
            b.add([(z[c], 1.0) for c in cu] + [(z[c], -1.0) for c in cv], "==", 0.0,
                  f"set_{unit_label[u]}_{unit_label[v]}_form{s}")

    # overlap between papers (items shared, a set counts with all its items)
    counts = problem.counts
    overlap_key = "max_overlap"
    if spec.overlap_mode == "patterns":
        for s, t in combinations(range(spec.n_slots), 2):
            terms = [(z[c], float(counts[spec.units[c]])) for c in by_slot[s] if t in spec.slots[c]]
            if terms:
                elastic_row(terms, "<=", spec.max_overlap, f"overlap_form{s}_form{t}",
                            overlap_key, float(sum(v for _, v in terms)) + 1.0)
    elif spec.overlap_mode == "budget":
        terms = [(z[c], float(math.comb(int(spec.weights[c]), 2) * counts[spec.units[c]]))
                 for c in range(n_cols) if spec.weights[c] >= 2]
        if terms:
            b.add(terms, "<=", spec.budget_pairs * spec.max_overlap, "overlap_budget")
    elif spec.overlap_mode == "linearised":
        for s, t in combinations(range(spec.n_slots), 2):
            shared_terms = []
            for u, cols in by_unit.items():
                cs = [c for c in cols if s in spec.slots[c]]
                ct = [c for c in cols if t in spec.slots[c]]
                if not cs or not ct:
                    continue
                w = b.lp.add_variable(f"w{u}_{s}_{t}", cat=pulp.LpBinary)
                b.add([(z[c], 1.0) for c in cs + ct] + [(w, -1.0)], "<=", 1.0,
                      f"overlap_link_{unit_label[u]}_form{s}_form{t}")
                shared_terms.append((w, float(counts[u])))
            b.add(shared_terms, "<=", spec.max_overlap, f"overlap_form{s}_form{t}")
    # overlap with sealed papers
    for h, fixed in enumerate(spec.fixed_units):
        fixed_set = set(fixed)
        for s in range(spec.n_slots):
            terms = [(z[c], float(counts[spec.units[c]] * weights[c])) for c in by_slot[s]
                     if int(spec.units[c]) in fixed_set]
            if terms:
                elastic_row(terms, "<=", spec.scale(s) * spec.max_overlap,
                            f"overlap_form{s}_sealed{h}",
                            overlap_key, float(sum(v for _, v in terms)) + 1.0)

    # objective: maximin information, or the largest deviation from a target curve
    objective_terms: list[tuple[pulp.LpVariable, float]] = []
    if spec.objective == "maximin" and not spec.elastic:
        y = b.lp.add_variable("y_information", lowBound=0)
        objective_terms.append((y, -1.0))
        for k, weight in enumerate(spec.objective_weights):
            for s in range(spec.n_slots):
                b.add(expr(problem.information[k], s) + [(y, -spec.scale(s) * weight)], ">=", 0.0,
                      f"information_theta{k}_maximin_form{s}")
    elif spec.objective in ("target_information", "target_tcc") and not spec.elastic:
        curve = problem.information if spec.objective == "target_information" else problem.tcc
        dev = b.lp.add_variable("d_deviation", lowBound=0)
        objective_terms.append((dev, 1.0))
        for k, target in enumerate(spec.objective_targets):
            for s in range(spec.n_slots):
                terms = expr(curve[k], s)
                scale = spec.scale(s)
                b.add(terms + [(dev, scale)], ">=", scale * target,
                      f"{spec.objective}_theta{k}_min_form{s}")
                b.add(terms + [(dev, -scale)], "<=", scale * target,
                      f"{spec.objective}_theta{k}_max_form{s}")

    # parallelism: every paper (and every sealed paper) within a band of the given width
    bands = [("information", problem.information, spec.information_tolerance),
             ("tcc", problem.tcc, spec.tcc_tolerance)]
    for metric, curve, tol in bands:
        if tol is None or spec.n_slots + len(spec.fixed_units) < 2:
            continue
        fixed_values = spec.fixed_curves.get(metric)
        for k in range(curve.shape[0]):
            lo_var = b.lp.add_variable(f"band_{metric}_{k}")
            for s in range(spec.n_slots):
                terms = expr(curve[k], s)
                big_m = float(curve[k].sum()) + tol + 1.0
                elastic_row(terms + [(lo_var, -1.0)], ">=", 0.0,
                            f"parallel_{metric}_theta{k}_lo_form{s}", f"parallel_{metric}", big_m)
                elastic_row(terms + [(lo_var, -1.0)], "<=", tol,
                            f"parallel_{metric}_theta{k}_hi_form{s}", f"parallel_{metric}", big_m)
            if fixed_values is not None:
                for h, value in enumerate(fixed_values[:, k]):
                    b.add([(lo_var, 1.0)], "<=", float(value), f"parallel_{metric}_theta{k}_lo_sealed{h}")
                    b.add([(lo_var, 1.0)], ">=", float(value) - tol,
                          f"parallel_{metric}_theta{k}_hi_sealed{h}")
    if spec.rating_tolerance is not None and spec.n_slots + len(spec.fixed_units) >= 2:
        width = spec.rating_tolerance * spec.n_items_per_paper
        lo_var = b.lp.add_variable("band_rating")
        big_m = float(problem.ratings.sum()) + width + 1.0
        for s in range(spec.n_slots):
            terms = expr(problem.ratings, s)
            elastic_row(terms + [(lo_var, -1.0)], ">=", 0.0, f"parallel_rating_lo_form{s}",
                        "parallel_mean_rating", big_m)
            elastic_row(terms + [(lo_var, -1.0)], "<=", width, f"parallel_rating_hi_form{s}",
                        "parallel_mean_rating", big_m)
        fixed_values = spec.fixed_curves.get("rating")
        if fixed_values is not None:
            for h, value in enumerate(fixed_values):
                b.add([(lo_var, 1.0)], "<=", float(value), f"parallel_rating_lo_sealed{h}")
                b.add([(lo_var, 1.0)], ">=", float(value) - width, f"parallel_rating_hi_sealed{h}")

    # fixed parallelism bands (bisection splits): each slot within k times a per-paper band
    for metric, (lows, highs) in spec.fixed_bands.items():
        values = {"information": problem.information, "tcc": problem.tcc}.get(metric)
        rows_k = [problem.ratings] if values is None else list(values)
        for k, coeffs in enumerate(rows_k):
            for s in range(spec.n_slots):
                terms = expr(coeffs, s)
                b.add(terms, ">=", spec.scale(s) * float(lows[k]), f"band_{metric}_{k}_min_form{s}")
                b.add(terms, "<=", spec.scale(s) * float(highs[k]), f"band_{metric}_{k}_max_form{s}")

    # symmetry: interchangeable papers ordered by a score (any solution can be relabelled so)
    if spec.symmetry and spec.n_slots > 1 and not spec.elastic:
        score = problem.information[0] if problem.information.shape[0] else problem.ratings
        for s in range(spec.n_slots - 1):
            b.add(expr(score, s) + [(v, -c) for v, c in expr(score, s + 1)], ">=", 0.0,
                  f"symmetry_form{s}_form{s + 1}")

    # costs: exposure (prefer less used items) and the seeded tie-break
    if spec.costs is not None and not spec.elastic:
        use = np.array([len(sl) for sl in spec.slots], dtype=np.float64) * weights
        col_costs = spec.costs[spec.units] * use
        objective_terms += [(z[c], float(col_costs[c])) for c in np.flatnonzero(col_costs)]
    if spec.elastic:
        # among equally small sets of rows, name content rows first, then parallelism, and
        # last the overlap rule and hand inclusions (disjoint papers guard against leaks)
        def price(key: str) -> float:
            if key.startswith(("max_overlap", "include:")):
                return 1.5
            return 1.25 if key.startswith("parallel_") else 1.0

        objective_terms = [(var, price(key)) for key, var in switches.items()] + \
            [(s, 1e-3 * w) for s, w in slack_terms]
    b.lp.setObjective(pulp.LpAffineExpression(objective_terms))
    return b.lp, z, switches


def _make_solver(name: str, time_limit_s: float, rel_gap: float, log_path: str | None,
                 warm: bool, abs_gap: float | None = None) -> pulp.LpSolver:
    if name == "cbc":
        # PuLP 3.3 announces PULP_CBC_CMD's removal in 4.0, but it is the only way to the CBC
        # bundled with PuLP here (COIN_CMD needs a separate CBC install)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning,
                                    message=".*PULP_CBC_CMD.*")
            return pulp.PULP_CBC_CMD(msg=False, timeLimit=max(1, int(math.ceil(time_limit_s))),
                                     gapRel=rel_gap, gapAbs=abs_gap, logPath=log_path,
                                     warmStart=warm, threads=1)
    if name == "highs":
        return _HiGHSWithStart(msg=False, timeLimit=float(time_limit_s), gapRel=rel_gap,
                               gapAbs=abs_gap, threads=1, random_seed=0, warm=warm)
    raise UnknownSolverError(f"solver {name!r}: use one of {SOLVERS}")


class _HiGHSWithStart(pulp.HiGHS):  # type: ignore[misc, valid-type]
    """PuLP's highspy interface plus a (partial) MIP start from the variables' initial values."""

    def __init__(self, *, warm: bool = False, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._warm = warm

    def callSolver(self, lp: pulp.LpProblem) -> None:  # noqa: N802 (PuLP's name)
        if self._warm:
            index, value = [], []
            for var in lp.variables():
                if var.cat == pulp.LpInteger and var.varValue is not None:
                    index.append(var.index)
                    value.append(float(var.varValue))
            if index:
                lp.solverModel.setSolution(len(index), np.array(index, dtype=np.int32),
                                           np.array(value, dtype=np.float64))
        super().callSolver(lp)


_CBC_OBJECTIVE = re.compile(r"^Objective value:\s+(\S+)", re.M)
_CBC_BOUND = re.compile(r"^Lower bound:\s+(\S+)", re.M)
_CBC_RESULT = re.compile(r"^Result - (.*)$", re.M)


def _cbc_log_figures(text: str) -> tuple[str, float | None, float | None]:
    result = _CBC_RESULT.search(text)
    obj = _CBC_OBJECTIVE.search(text)
    bound = _CBC_BOUND.search(text)

    def num(m: re.Match[str] | None) -> float | None:
        if m is None:
            return None
        try:
            return float(m.group(1))
        except ValueError:
            return None

    return (result.group(1).strip() if result else ""), num(obj), num(bound)


def solve_model(
    problem: Problem,
    spec: ModelSpec,
    *,
    solver: str,
    time_limit_s: float,
    rel_gap: float,
    initial: FloatArray | None = None,
    abs_gap: float | None = None,
) -> ModelOutcome:
    """Build and solve; never raises for infeasibility or time limits.

    ``initial`` (n_cols,) is a MIP start (CBC ``-mips``, HiGHS ``setSolution``); a start that
    breaks a row is simply not used by the solver.
    """
    if solver not in SOLVERS:
        raise UnknownSolverError(f"solver {solver!r}: use one of {SOLVERS}")
    started = time.perf_counter()
    lp, z, switches = build_model(problem, spec)
    if initial is not None:
        for var, value in zip(z, initial):
            var.setInitialValue(float(round(value)))
    log_path = None
    if solver == "cbc":
        fd, log_path = tempfile.mkstemp(prefix="assembly_cbc_", suffix=".log")
        os.close(fd)
    remaining = max(0.5, time_limit_s - (time.perf_counter() - started))
    engine = _make_solver(solver, remaining, rel_gap, log_path, initial is not None, abs_gap)
    try:
        lp.solve(engine)
        solver_status = pulp.LpStatus.get(lp.status, str(lp.status))
        objective: float | None = None
        bound: float | None = None
        if solver == "cbc":
            with open(log_path, encoding="utf-8", errors="replace") as fh:  # type: ignore[arg-type]
                text = fh.read()
            result_line, objective, bound = _cbc_log_figures(text)
            solver_status = f"{solver_status}; CBC: {result_line}"
            if lp.sol_status == pulp.LpSolutionOptimal and bound is None:
                bound = objective
        else:
            info = lp.solverModel.getInfo()
            model_status = lp.solverModel.getModelStatus()
            solver_status = f"{solver_status}; HiGHS: {lp.solverModel.modelStatusToString(model_status)}"
            if lp.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
                objective = float(info.objective_function_value)
                bound = float(info.mip_dual_bound)
                if not math.isfinite(bound):
                    bound = None
    finally:
        if log_path is not None and os.path.exists(log_path):
            os.remove(log_path)
    elapsed = time.perf_counter() - started
    n_bin = sum(1 for v in lp.variables() if v.cat == pulp.LpInteger)
    if lp.sol_status == pulp.LpSolutionOptimal:
        status = "optimal"
    elif lp.sol_status == pulp.LpSolutionIntegerFeasible:
        status = "feasible"
    elif lp.status == pulp.LpStatusInfeasible:
        status = "infeasible"
    else:
        status = "time_limit"
    values = None
    relaxed: list[str] = []
    if status in ("optimal", "feasible"):
        values = np.array([v.varValue or 0.0 for v in z], dtype=np.float64)
        if objective is None:
            objective = float(pulp.value(lp.objective) or 0.0)
        if spec.elastic:
            for key, var in switches.items():
                if (var.varValue or 0.0) > 0.5:
                    relaxed.append(key)
    log.info("solved %s with %s: %s (%s) obj=%s bound=%s in %.2fs", spec.name, solver, status,
             solver_status, objective, bound, elapsed)
    return ModelOutcome(
        status=status,
        column_values=values,
        objective=objective,
        best_bound=bound,
        time_s=elapsed,
        n_variables=len(lp.variables()),
        n_binaries=n_bin,
        n_constraints=lp.numConstraints(),
        solver_status=solver_status,
        relaxed=tuple(relaxed),
    )
