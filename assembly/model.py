"""The model builder and solver hand-over: the only module of ``assembly`` that builds and
solves integer programs.

A :class:`ModelSpec` says which integer program to build from a compiled
:class:`~assembly.problem.Problem`; :func:`build_model` turns it into a :class:`LinearModel`
(sparse arrays, one commented block per constraint family, every row named after family and
key) and :func:`solve_model` solves it with CBC or HiGHS and returns plain numpy/dataclass
data. Nothing else in the package sees a solver object.

Why arrays and not PuLP expressions: building a 100,000-column model term by term in PuLP and
writing it as MPS took 4-5 s of a 10 s budget; the arrays take milliseconds. The solvers are
still PuLP's: HiGHS through ``highspy`` (the interface PuLP uses), CBC as the binary bundled
with PuLP, run as a child process that this module watches.

Columns
-------
A column is a binary ``z_c`` that puts unit ``units[c]`` into every slot (paper) of
``slots[c]`` with multiplicity ``weights[c]``:

- direct model: one column per (unit, paper);
- overlap by patterns: one column per (unit, set of papers), so the items shared by two papers
  are counted by a linear sum instead of one binary per item and pair of papers;
- aggregated "shadow" model: one slot standing for all papers together, a column per
  (unit, number of papers using it) with weight = that number (van der Linden 2005, ch. 6).

Deadlines
---------
Every solve gets the seconds left of the run's one deadline. HiGHS gets them as its time limit
and a callback interrupts it when they are used up (presolve of a large model does not always
look at the clock); CBC gets them as ``-sec`` in wall-clock mode, and the process is asked to
stop (SIGINT: it writes its best solution) and then killed if it runs past them.

Bounds and statuses
-------------------
Every model is a minimisation (a maximin objective is minimised as ``-y`` and reported in its
own sense by the caller). HiGHS gives ``mip_dual_bound``; CBC's bound and result are read from
its log (``Objective value:``, ``Lower bound:``, ``Result - ...``). "optimal" means proven
within the requested gap; "feasible" means a solution without that proof.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import numpy.typing as npt

from analysis.messages import Message
from assembly.errors import UnknownSolverError
from assembly.problem import Problem

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SOLVERS = ("cbc", "highs")
SOLVER_NAMES = {"cbc": "CBC", "highs": "HiGHS"}  # as their makers write them (reports, pages)
INF = float("inf")


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
    budget_coeffs : per column, the pairs of papers its use adds to the budget (items of the
        unit times pairs); default C(weight, 2) times the unit's items. The aggregated model
        uses one column per *copy* of a unit (the j-th copy adds j - 1 pairs), which needs no
        row per unit: copies are alike but for their budget cost, so any solution can take
        them in order.
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
    elastic_scale : elastic only: switch prices times ``elastic_scale``, slack prices
        times ``elastic_scale ** 2`` (default 1: slacks barely count; 100: a second solve
        that keeps the fewest rows and then finds their smallest changes within the solvers'
        tolerances).
    set_links : pairs of units that must share papers (plain model: sets not aggregated).
    slot_scales : per-slot row scale (a slot standing for k papers in a bisection split);
        overrides ``row_scale``.
    fixed_bands : metric ("information", "tcc", "rating") -> (lo, hi) per theta (per paper):
        each slot's curve within [k lo, k hi] for a slot standing for k papers.
    unit_cuts : for aggregated slots, add each minimum row again with every unit's coefficient
        capped at the minimum (valid for every real solution; see the block).
    offsets : what units placed outside the model already bring to each slot (the shared
        items of a split): row name -> (n_slots,), "information"/"tcc" -> (n_slots, n_thetas),
        "rating" -> (n_slots,), "sealed{h}" -> (n_slots,) items shared with sealed paper h.
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
    elastic_scale: float = 1.0
    set_links: tuple[tuple[int, int], ...] = ()
    slot_scales: tuple[float, ...] | None = None
    fixed_bands: dict[str, tuple[FloatArray, FloatArray]] = field(default_factory=dict)
    unit_cuts: bool = False
    offsets: dict[str, FloatArray] = field(default_factory=dict)
    budget_coeffs: FloatArray | None = None
    name: str = "assembly"

    def scale(self, s: int) -> float:
        """Row scale of slot ``s``: how many papers the slot stands for."""
        return self.slot_scales[s] if self.slot_scales is not None else self.row_scale

    def offset(self, key: str, s: int, k: int | None = None) -> float:
        """What units outside the model bring to slot ``s`` for row ``key`` (0 if nothing)."""
        values = self.offsets.get(key)
        if values is None:
            return 0.0
        return float(values[s] if k is None else values[s, k])


@dataclass(frozen=True)
class LinearModel:
    """An integer program as arrays: ``row_lower <= A x <= row_upper``, bounds on x, min cost.

    ``A`` is stored by rows (CSR: ``indptr``, ``indices``, ``data``). The first ``n_z``
    columns are the spec's columns, in order; the rest are auxiliary (objective variable,
    band variables, elastic switches and slacks).
    """

    name: str
    col_lower: FloatArray
    col_upper: FloatArray
    col_integer: npt.NDArray[np.bool_]
    cost: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    indptr: IntArray
    indices: IntArray
    data: FloatArray
    row_names: tuple[str, ...]
    n_z: int
    switches: dict[str, int]

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    def with_columns(self, z_cols: IntArray, *, artificial_cost: float = 0.0) -> "LinearModel":
        """The same rows with only the spec columns ``z_cols`` (and every auxiliary column);
        with ``artificial_cost`` > 0 every row gets a slack column of that cost on each
        finite side, so that the model always has a solution (column generation)."""
        keep = np.zeros(self.n_cols, dtype=bool)
        keep[np.asarray(z_cols, dtype=np.int64)] = True
        keep[self.n_z:] = True
        new_index = np.full(self.n_cols, -1, dtype=np.int64)
        new_index[keep] = np.arange(int(keep.sum()))
        rows_of_nz = np.repeat(np.arange(self.n_rows, dtype=np.int64), np.diff(self.indptr))
        live = keep[self.indices]
        rows = rows_of_nz[live]
        cols = new_index[self.indices[live]]
        data = self.data[live]
        n_keep = int(keep.sum())
        lower, upper = self.col_lower[keep], self.col_upper[keep]
        integer, cost = self.col_integer[keep], self.cost[keep]
        if artificial_cost > 0:
            up_rows = np.flatnonzero(np.isfinite(self.row_lower))
            down_rows = np.flatnonzero(np.isfinite(self.row_upper))
            k = len(up_rows) + len(down_rows)
            rows = np.concatenate([rows, up_rows, down_rows])
            cols = np.concatenate([cols, n_keep + np.arange(k)])
            data = np.concatenate([data, np.ones(len(up_rows)), -np.ones(len(down_rows))])
            lower = np.concatenate([lower, np.zeros(k)])
            upper = np.concatenate([upper, np.full(k, INF)])
            integer = np.concatenate([integer, np.zeros(k, dtype=bool)])
            cost = np.concatenate([cost, np.full(k, artificial_cost)])
        order = np.argsort(rows, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=self.n_rows))])
        return LinearModel(
            name=self.name, col_lower=lower, col_upper=upper, col_integer=integer, cost=cost,
            row_lower=self.row_lower, row_upper=self.row_upper, indptr=indptr.astype(np.int64),
            indices=cols[order], data=data[order], row_names=self.row_names,
            n_z=int(keep[: self.n_z].sum()), switches={})

    def reduced_costs(self, row_duals: FloatArray) -> FloatArray:
        """c - A^T y for every column, shape (n_cols,)."""
        rows_of_nz = np.repeat(np.arange(self.n_rows, dtype=np.int64), np.diff(self.indptr))
        return self.cost - np.bincount(self.indices, weights=self.data * row_duals[rows_of_nz],
                                       minlength=self.n_cols)

    def row_activity(self, x: FloatArray) -> FloatArray:
        """A x for a column vector x, shape (n_rows,)."""
        out = np.zeros(self.n_rows)
        products = self.data * x[self.indices]
        np.add.at(out, np.repeat(np.arange(self.n_rows), np.diff(self.indptr)), products)
        return out


@dataclass(frozen=True)
class SolverTick:
    """What a running solver reports (minimisation sense of the model)."""

    elapsed_s: float
    incumbent: float | None
    bound: float | None
    values: FloatArray | None = None  # the new incumbent's columns (HiGHS only)


@dataclass(frozen=True)
class ModelOutcome:
    """Plain data back from one solve (objective and bound in the minimisation sense)."""

    status: str  # optimal | feasible | infeasible | time_limit
    column_values: FloatArray | None  # (n_cols,) of the spec's columns, None without a solution
    objective: float | None
    best_bound: float | None
    time_s: float
    n_variables: int
    n_binaries: int
    n_constraints: int
    solver_status: Message
    relaxed: tuple[str, ...] = ()  # elastic: keys of the rows switched to relaxed
    reduced_costs: FloatArray | None = None  # LP relaxation: per spec column
    stopped_by_deadline: bool = False
    row_duals: FloatArray | None = None  # LP relaxation: per row of the model
    all_values: FloatArray | None = None  # every column of the model, auxiliary ones too


# --------------------------------------------------------------------------------------
# Building


class _Builder:
    """Collects columns and named rows as arrays."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lower: list[FloatArray] = []
        self.upper: list[FloatArray] = []
        self.integer: list[npt.NDArray[np.bool_]] = []
        self.cost: list[FloatArray] = []
        self.n_cols = 0
        self.row_cols: list[IntArray] = []
        self.row_vals: list[FloatArray] = []
        self.row_lo: list[float] = []
        self.row_hi: list[float] = []
        self.row_names: list[str] = []

    def add_cols(self, n: int, *, lower: float = 0.0, upper: float = 1.0, integer: bool = True,
                 cost: FloatArray | float = 0.0) -> IntArray:
        start = self.n_cols
        self.lower.append(np.full(n, lower, dtype=np.float64))
        self.upper.append(np.full(n, upper, dtype=np.float64))
        self.integer.append(np.full(n, integer, dtype=bool))
        self.cost.append(np.broadcast_to(np.asarray(cost, dtype=np.float64), (n,)).copy())
        self.n_cols += n
        return np.arange(start, start + n, dtype=np.int64)

    def add_col(self, *, lower: float = 0.0, upper: float = INF, integer: bool = False) -> int:
        return int(self.add_cols(1, lower=lower, upper=upper, integer=integer)[0])

    def set_cost(self, col: int, value: float) -> None:
        block, offset = self._locate(col)
        self.cost[block][offset] = value

    def _locate(self, col: int) -> tuple[int, int]:
        start = 0
        for block, values in enumerate(self.cost):
            if col < start + len(values):
                return block, col - start
            start += len(values)
        raise IndexError(col)

    def add(self, cols: IntArray, vals: FloatArray, lo: float, hi: float, name: str) -> int | None:
        """Row ``lo <= vals @ x[cols] <= hi``; rows without terms are left out."""
        cols = np.asarray(cols, dtype=np.int64)
        vals = np.asarray(vals, dtype=np.float64)
        keep = vals != 0
        if not keep.any():
            return None
        self.row_cols.append(cols[keep])
        self.row_vals.append(vals[keep])
        self.row_lo.append(float(lo))
        self.row_hi.append(float(hi))
        self.row_names.append(name)
        return len(self.row_names) - 1

    def add_many(self, cols: IntArray, vals: FloatArray, lo: FloatArray, hi: FloatArray,
                 prefix: str) -> None:
        """Rows of the same shape at once: ``cols`` and ``vals`` of shape (n_rows, k)."""
        for k in range(len(cols)):
            self.row_cols.append(cols[k])
            self.row_vals.append(vals[k])
        self.row_lo.extend(np.asarray(lo, dtype=np.float64).tolist())
        self.row_hi.extend(np.asarray(hi, dtype=np.float64).tolist())
        self.row_names.extend(f"{prefix}_{k}" for k in range(len(cols)))

    def build(self, n_z: int, switches: dict[str, int]) -> LinearModel:
        lengths = np.array([len(c) for c in self.row_cols], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        cat = np.concatenate
        return LinearModel(
            name=self.name,
            col_lower=cat(self.lower) if self.lower else np.zeros(0),
            col_upper=cat(self.upper) if self.upper else np.zeros(0),
            col_integer=cat(self.integer) if self.integer else np.zeros(0, dtype=bool),
            cost=cat(self.cost) if self.cost else np.zeros(0),
            row_lower=np.array(self.row_lo, dtype=np.float64),
            row_upper=np.array(self.row_hi, dtype=np.float64),
            indptr=indptr,
            indices=cat(self.row_cols) if self.row_cols else np.zeros(0, dtype=np.int64),
            data=cat(self.row_vals) if self.row_vals else np.zeros(0),
            row_names=tuple(self.row_names),
            n_z=n_z,
            switches=switches,
        )


def _column_index(spec: ModelSpec) -> tuple[list[IntArray], dict[int, IntArray]]:
    """Columns touching each slot, and columns of each unit."""
    by_slot: list[list[int]] = [[] for _ in range(spec.n_slots)]
    for c, slots in enumerate(spec.slots):
        for s in slots:
            by_slot[s].append(c)
    units = np.asarray(spec.units, dtype=np.int64)
    order = np.argsort(units, kind="stable")
    sorted_units = units[order]
    bounds = np.flatnonzero(np.diff(sorted_units)) + 1
    groups = np.split(order, bounds) if len(order) else []
    by_unit = {int(units[g[0]]): g.astype(np.int64) for g in groups}
    return [np.array(cols, dtype=np.int64) for cols in by_slot], by_unit


def model_size(n_cols: int, n_rows_per_slot: int, n_slots: int) -> int:
    """A rough count of nonzeros, to refuse models too large to build in the time left."""
    return n_cols * (n_rows_per_slot + 2) + n_slots * n_rows_per_slot


def build_model(problem: Problem, spec: ModelSpec) -> LinearModel:
    """Build the integer program (no solving here)."""
    b = _Builder(spec.name)
    n_cols = len(spec.units)
    z = b.add_cols(n_cols)
    by_slot, by_unit = _column_index(spec)
    units = np.asarray(spec.units, dtype=np.int64)
    weights = np.asarray(spec.weights, dtype=np.float64)
    unit_label = [problem.pool.ids[int(items[0])] for items in problem.unit_items]
    switches: dict[str, int] = {}
    slack_cols: list[tuple[int, float]] = []
    slacks: dict[tuple[str, str], int] = {}

    def expr(values: FloatArray, s: int) -> tuple[IntArray, FloatArray]:
        cols = by_slot[s]
        return z[cols], values[units[cols]] * weights[cols]

    def switch(key: str) -> int:
        if key not in switches:
            switches[key] = int(b.add_cols(1)[0])
        return switches[key]

    def shared_slack(key: str, direction: str, big_m: float, cap: float | None = None) -> int:
        """One slack per row and direction, shared by all papers: relaxing a row moves its
        bound for every paper alike, which is what a changed blueprint row means."""
        if (key, direction) not in slacks:
            slack = b.add_col(upper=INF if cap is None else max(0.0, cap))
            b.add(np.array([slack, switch(key)]), np.array([1.0, -big_m]), -INF, 0.0,
                  f"{key}_{direction}_switch")
            slack_cols.append((slack, 1.0 / max(1.0, big_m)))
            slacks[(key, direction)] = slack
        return slacks[(key, direction)]

    def row(cols: IntArray, vals: FloatArray, lo: float, hi: float, name: str, key: str,
            big_m: float, cap_down: float | None = None) -> None:
        """Add a row; in elastic mode with slacks switched on by the row's shared binary."""
        if not spec.elastic:
            b.add(cols, vals, lo, hi, name)
            return
        extra_cols, extra_vals = [], []
        if lo > -INF:
            extra_cols.append(shared_slack(key, "down", big_m, cap_down if lo == hi else None))
            extra_vals.append(1.0)
        if hi < INF:
            extra_cols.append(shared_slack(key, "up", big_m))
            extra_vals.append(-1.0)
        b.add(np.concatenate([cols, extra_cols]).astype(np.int64),
              np.concatenate([vals, extra_vals]), lo, hi, name)

    # unit use: each unit at most once (or exactly once when splitting a shadow test)
    for u, cols in by_unit.items():
        if spec.unit_equal:
            b.add(z[cols], np.ones(len(cols)), 1.0, 1.0, f"unit_{unit_label[u]}_once")
        elif spec.unit_once and len(cols) > 1:
            b.add(z[cols], np.ones(len(cols)), -INF, 1.0, f"unit_{unit_label[u]}_once")

    # blueprint rows per paper: types, elements, difficulty, bands, time
    for lr in problem.rows:
        big_m = float(np.abs(lr.coeffs).sum()) + abs(lr.lo or 0.0) + abs(lr.hi or 0.0) + 1.0
        for s in range(spec.n_slots):
            scale = spec.scale(s)
            off = spec.offset(lr.name, s)
            cols, vals = expr(lr.coeffs, s)
            if lr.lo is not None and lr.hi is not None and lr.lo == lr.hi:
                # a relaxed type keeps at least one item: a paper without it is no answer
                cap = scale * lr.lo - 1 if lr.family == "type_count" else None
                row(cols, vals, scale * lr.lo - off, scale * lr.lo - off, f"{lr.name}_form{s}",
                    lr.name, big_m, cap_down=cap)
                continue
            if lr.lo is not None:
                row(cols, vals, scale * lr.lo - off, INF, f"{lr.name}_min_form{s}",
                    f"{lr.name}:min", big_m)
            if lr.hi is not None:
                row(cols, vals, -INF, scale * lr.hi - off, f"{lr.name}_max_form{s}",
                    f"{lr.name}:max", big_m)

    # minimums with coefficients capped at the minimum (aggregated slots only): in one paper
    # sum(min(c_u, lo) x_u) >= lo holds whenever sum(c_u x_u) >= lo; summed over the k papers a
    # slot stands for (a unit counted once per paper using it), the capped sum is >= k * lo.
    # A 4-item set cannot stand in for what two papers each need. Units placed outside the
    # model (offsets) lower the right-hand side; the cap stays valid since lo >= what is left.
    if spec.unit_cuts:
        for lr in problem.rows:
            if lr.lo is None or lr.lo <= 0 or (lr.coeffs < 0).any() \
                    or float(lr.coeffs.max()) <= lr.lo:
                continue
            capped = np.minimum(lr.coeffs, lr.lo)
            for s in range(spec.n_slots):
                cols, vals = expr(capped, s)
                b.add(cols, vals, spec.scale(s) * lr.lo - spec.offset(lr.name, s), INF,
                      f"{lr.name}_capped_form{s}")

    # items included by hand: in every paper
    for u, key in zip(problem.include_units, problem.include_keys):
        cols_u = by_unit.get(u, np.zeros(0, dtype=np.int64))
        for s in range(spec.n_slots):
            cols = np.array([c for c in cols_u if s in spec.slots[c]], dtype=np.int64)
            if not len(cols):
                continue
            row(z[cols], weights[cols], spec.scale(s), spec.scale(s), f"include_{key}_form{s}",
                f"include:{key}", spec.scale(s) + 1.0)

    # enemies: never together in one paper. A slot standing for k papers holds the pair's
    # uses m_u + m_v <= k (pigeonhole); for k = 1 this is the usual x_u + x_v <= 1, and it is
    # left out where it cannot bind
    empty = np.zeros(0, dtype=np.int64)
    for u, v in problem.enemy_units.tolist():
        cu_all, cv_all = by_unit.get(u, empty), by_unit.get(v, empty)
        if not len(cu_all) or not len(cv_all):
            continue
        for s in range(spec.n_slots):
            cu = np.array([c for c in cu_all if s in spec.slots[c]], dtype=np.int64)
            cv = np.array([c for c in cv_all if s in spec.slots[c]], dtype=np.int64)
            if not len(cu) or not len(cv):
                continue
            # the most uses a unit can have here: one column (exclusive columns) or all
            exclusive = spec.unit_once or spec.unit_equal
            most_u = weights[cu].max() if exclusive else weights[cu].sum()
            most_v = weights[cv].max() if exclusive else weights[cv].sum()
            if most_u + most_v > spec.scale(s):
                cols = np.concatenate([cu, cv])
                b.add(z[cols], weights[cols], -INF, spec.scale(s),
                      f"enemy_{unit_label[u]}_{unit_label[v]}_form{s}")

    # item sets in the plain model: linked units share every paper
    for u, v in spec.set_links:
        for s in range(spec.n_slots):
            cu = [c for c in by_unit.get(u, empty) if s in spec.slots[c]]
            cv = [c for c in by_unit.get(v, empty) if s in spec.slots[c]]
            b.add(z[np.array(cu + cv, dtype=np.int64)],
                  np.array([1.0] * len(cu) + [-1.0] * len(cv)), 0.0, 0.0,
                  f"set_{unit_label[u]}_{unit_label[v]}_form{s}")

    # overlap between papers (items shared, a set counts with all its items)
    counts = problem.counts
    overlap_key = "max_overlap"
    if spec.overlap_mode == "patterns":
        slot_sets = [set(sl) for sl in spec.slots]
        for s, t in combinations(range(spec.n_slots), 2):
            cols = np.array([c for c in by_slot[s] if t in slot_sets[c]], dtype=np.int64)
            if len(cols):
                vals = counts[units[cols]]
                row(z[cols], vals, -INF, float(spec.max_overlap), f"overlap_form{s}_form{t}",
                    overlap_key, float(vals.sum()) + 1.0)
    elif spec.overlap_mode == "budget":
        if spec.budget_coeffs is not None:
            pair_costs = np.asarray(spec.budget_coeffs, dtype=np.float64)
        else:
            pair_costs = weights * (weights - 1) / 2.0 * counts[units]
        sel = np.flatnonzero(pair_costs > 0)
        if len(sel):
            b.add(z[sel], pair_costs[sel], -INF,
                  float(spec.budget_pairs * spec.max_overlap), "overlap_budget")
    elif spec.overlap_mode == "linearised":
        # w >= z_us + z_ut - 1 as z_us + z_ut - w <= 1, for every unit in both papers; built
        # in bulk (the plain model of a 10,000-item bank has 450,000 of these rows)
        col_of = np.full((problem.n_units, spec.n_slots), -1, dtype=np.int64)
        for c, slots in enumerate(spec.slots):
            if len(slots) == 1:
                col_of[units[c], slots[0]] = c
        for s, t in combinations(range(spec.n_slots), 2):
            both = np.flatnonzero((col_of[:, s] >= 0) & (col_of[:, t] >= 0))
            if not len(both):
                continue
            w = b.add_cols(len(both))
            cols = np.stack([z[col_of[both, s]], z[col_of[both, t]], w], axis=1)
            vals = np.tile(np.array([1.0, 1.0, -1.0]), (len(both), 1))
            b.add_many(cols, vals, np.full(len(both), -INF), np.ones(len(both)),
                       f"overlap_link_form{s}_form{t}")
            b.add(w, counts[both], -INF, float(spec.max_overlap), f"overlap_form{s}_form{t}")
    # overlap with sealed papers
    for h, fixed in enumerate(spec.fixed_units):
        in_fixed = np.zeros(problem.n_units, dtype=bool)
        in_fixed[list(fixed)] = True
        for s in range(spec.n_slots):
            cols = by_slot[s][in_fixed[units[by_slot[s]]]]
            if len(cols):
                vals = counts[units[cols]] * weights[cols]
                row(z[cols], vals, -INF,
                    spec.scale(s) * spec.max_overlap - spec.offset(f"sealed{h}", s),
                    f"overlap_form{s}_sealed{h}", overlap_key, float(vals.sum()) + 1.0)

    # objective: maximin information, or the largest deviation from a target curve
    objective_col: int | None = None
    if spec.objective == "maximin" and not spec.elastic:
        objective_col = b.add_col()
        b.set_cost(objective_col, -1.0)
        for k, weight in enumerate(spec.objective_weights):
            for s in range(spec.n_slots):
                cols, vals = expr(problem.information[k], s)
                b.add(np.concatenate([cols, [objective_col]]),
                      np.concatenate([vals, [-spec.scale(s) * weight]]),
                      -spec.offset("information", s, k), INF,
                      f"information_theta{k}_maximin_form{s}")
    elif spec.objective in ("target_information", "target_tcc") and not spec.elastic:
        metric = "information" if spec.objective == "target_information" else "tcc"
        curve = problem.information if metric == "information" else problem.tcc
        objective_col = b.add_col()
        b.set_cost(objective_col, 1.0)
        for k, target in enumerate(spec.objective_targets):
            for s in range(spec.n_slots):
                cols, vals = expr(curve[k], s)
                scale = spec.scale(s)
                rhs = scale * target - spec.offset(metric, s, k)
                b.add(np.concatenate([cols, [objective_col]]), np.concatenate([vals, [scale]]),
                      rhs, INF, f"{spec.objective}_theta{k}_min_form{s}")
                b.add(np.concatenate([cols, [objective_col]]), np.concatenate([vals, [-scale]]),
                      -INF, rhs, f"{spec.objective}_theta{k}_max_form{s}")

    # parallelism: every paper (and every sealed paper) within a band of the given width
    bands = [("information", problem.information, spec.information_tolerance),
             ("tcc", problem.tcc, spec.tcc_tolerance)]
    for metric, curve, tol in bands:
        if tol is None or spec.n_slots + len(spec.fixed_units) < 2:
            continue
        fixed_values = spec.fixed_curves.get(metric)
        for k in range(curve.shape[0]):
            lo_var = b.add_col(lower=-INF)
            big_m = float(curve[k].sum()) + tol + 1.0
            for s in range(spec.n_slots):
                cols, vals = expr(curve[k], s)
                cols = np.concatenate([cols, [lo_var]])
                vals = np.concatenate([vals, [-1.0]])
                off = spec.offset(metric, s, k)
                row(cols, vals, -off, INF, f"parallel_{metric}_theta{k}_lo_form{s}",
                    f"parallel_{metric}", big_m)
                row(cols, vals, -INF, tol - off, f"parallel_{metric}_theta{k}_hi_form{s}",
                    f"parallel_{metric}", big_m)
            if fixed_values is not None:
                for h, value in enumerate(fixed_values[:, k]):
                    b.add(np.array([lo_var]), np.array([1.0]), float(value) - tol, float(value),
                          f"parallel_{metric}_theta{k}_sealed{h}")
    if spec.rating_tolerance is not None and spec.n_slots + len(spec.fixed_units) >= 2:
        width = spec.rating_tolerance * spec.n_items_per_paper
        lo_var = b.add_col(lower=-INF)
        big_m = float(problem.ratings.sum()) + width + 1.0
        for s in range(spec.n_slots):
            cols, vals = expr(problem.ratings, s)
            cols = np.concatenate([cols, [lo_var]])
            vals = np.concatenate([vals, [-1.0]])
            off = spec.offset("rating", s)
            row(cols, vals, -off, INF, f"parallel_rating_lo_form{s}", "parallel_mean_rating",
                big_m)
            row(cols, vals, -INF, width - off, f"parallel_rating_hi_form{s}",
                "parallel_mean_rating", big_m)
        fixed_values = spec.fixed_curves.get("rating")
        if fixed_values is not None:
            for h, value in enumerate(fixed_values):
                b.add(np.array([lo_var]), np.array([1.0]), float(value) - width, float(value),
                      f"parallel_rating_sealed{h}")

    # fixed parallelism bands (bisection splits): each slot within k times a per-paper band
    for metric, (lows, highs) in spec.fixed_bands.items():
        values = {"information": problem.information, "tcc": problem.tcc}.get(metric)
        rows_k = [problem.ratings] if values is None else list(values)
        for k, coeffs in enumerate(rows_k):
            for s in range(spec.n_slots):
                cols, vals = expr(coeffs, s)
                off = spec.offset(metric, s, None if values is None else k)
                b.add(cols, vals, spec.scale(s) * float(lows[k]) - off,
                      spec.scale(s) * float(highs[k]) - off, f"band_{metric}_{k}_form{s}")

    # symmetry: interchangeable papers ordered by a score (any solution can be relabelled so)
    if spec.symmetry and spec.n_slots > 1 and not spec.elastic:
        score = problem.information[0] if problem.information.shape[0] else problem.ratings
        for s in range(spec.n_slots - 1):
            c1, v1 = expr(score, s)
            c2, v2 = expr(score, s + 1)
            b.add(np.concatenate([c1, c2]), np.concatenate([v1, -v2]), 0.0, INF,
                  f"symmetry_form{s}_form{s + 1}")

    # costs: exposure (prefer less used items) and the seeded tie-break
    if spec.costs is not None and not spec.elastic:
        uses = np.array([len(sl) for sl in spec.slots], dtype=np.float64) * weights
        b.cost[0] = b.cost[0] + np.asarray(spec.costs)[units] * uses
    model = b.build(n_cols, switches)
    if spec.elastic:
        # among equally small sets of rows, name content rows first, then parallelism, and
        # last the overlap rule and hand inclusions (disjoint papers guard against leaks)
        cost = model.cost.copy()
        scale = float(spec.elastic_scale)
        for key, col in switches.items():
            cost[col] = _switch_price(key) * scale
        for col, w in slack_cols:
            cost[col] = 1e-3 * w * scale * scale
        model = LinearModel(**{**model.__dict__, "cost": cost})
    return model


def _switch_price(key: str) -> float:
    if key.startswith(("max_overlap", "include:")):
        return 1.5
    return 1.25 if key.startswith("parallel_") else 1.0


def elastic_step() -> float:
    """Objective values of the elastic model are sums of switch prices (steps of 0.25) plus
    slack costs below 0.05 in total; an absolute gap below this step proves the set smallest."""
    return 0.2


# --------------------------------------------------------------------------------------
# Solving

_BANNER_LOCK = threading.Lock()
_BANNER_DONE = False


def _silence_highs_banner() -> None:
    """HiGHS prints its banner to the process's stdout when the first ``Highs`` object is made,
    whatever its options say. Make that first object with stdout pointed at /dev/null, once."""
    global _BANNER_DONE
    with _BANNER_LOCK:
        if _BANNER_DONE:
            return
        import highspy

        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _BANNER_DONE = True


_STATUS_TEXT = {
    "optimal": Message("proven optimal within the requested gap"),
    "feasible": Message("stopped with a solution, optimality not proven"),
    "infeasible": Message("proven infeasible"),
    "time_limit": Message("stopped at the time limit without a solution"),
    "not_solved": Message("not solved: no time was left"),
}


def solver_words(status: str, solver: str) -> Message:
    """What the solver said, in one phrase: '{solver}: proven optimal within the gap'."""
    return Message("{solver}: {outcome}", solver=SOLVER_NAMES.get(solver, solver),
                   outcome=_STATUS_TEXT.get(status, _STATUS_TEXT["time_limit"]))


def solve_model(
    problem: Problem,
    spec: ModelSpec,
    *,
    solver: str,
    time_limit_s: float,
    rel_gap: float,
    initial: FloatArray | None = None,
    abs_gap: float | None = None,
    seed: int = 0,
    relax: bool = False,
    on_tick: Callable[[SolverTick], None] | None = None,
) -> ModelOutcome:
    """Build and solve; never raises for infeasibility or time limits.

    ``initial`` (n_cols,) is a MIP start (CBC ``-mips``, HiGHS ``setSolution``); a start that
    breaks a row is simply not used by the solver. ``relax`` solves the linear relaxation and
    returns the reduced costs of the spec's columns as well. ``seed`` seeds the solver's own
    random choices (it never changes which solution is optimal). ``on_tick`` is called with
    the solver's incumbent and bound while it runs (HiGHS: at every improvement and from its
    interrupt callback; CBC: from its log, line by line).
    """
    if solver not in SOLVERS:
        raise UnknownSolverError(f"solver {solver!r}: use one of {SOLVERS}")
    started = time.perf_counter()
    model = build_model(problem, spec)
    left = time_limit_s - (time.perf_counter() - started)
    return solve_linear(model, solver=solver, time_limit_s=left, rel_gap=rel_gap, abs_gap=abs_gap,
                        initial=initial, seed=seed, relax=relax, on_tick=on_tick, started=started)


def solve_linear(
    model: LinearModel,
    *,
    solver: str,
    time_limit_s: float,
    rel_gap: float,
    abs_gap: float | None = None,
    initial: FloatArray | None = None,
    seed: int = 0,
    relax: bool = False,
    on_tick: Callable[[SolverTick], None] | None = None,
    started: float | None = None,
) -> ModelOutcome:
    """Solve a built model within ``time_limit_s`` seconds (see :func:`solve_model`)."""
    if solver not in SOLVERS:
        raise UnknownSolverError(f"solver {solver!r}: use one of {SOLVERS}")
    started = time.perf_counter() if started is None else started
    n_bin = int(model.col_integer.sum()) if not relax else 0
    if time_limit_s <= 0.05:
        return ModelOutcome("time_limit", None, None, None, time.perf_counter() - started,
                            model.n_cols, n_bin, model.n_rows, solver_words("not_solved", solver),
                            stopped_by_deadline=True)
    if solver == "highs":
        raw = _solve_highs(model, time_limit_s, rel_gap, abs_gap, initial, seed, relax, on_tick,
                           started)
    else:
        raw = _solve_cbc(model, time_limit_s, rel_gap, abs_gap, initial, seed, relax, on_tick,
                         started)
    status, values, objective, bound, lp_duals, stopped = raw
    reduced = lp_duals[0] if lp_duals is not None else None
    if values is not None and not relax and not _satisfies(model, values):
        # a solver stopped in the middle (CBC interrupted) may leave a file that is no
        # solution at all: never hand on values that break a row or an integrality
        log.warning("%s: the solver's values break the model; treated as no solution",
                    model.name)
        values, objective = None, None
        status = "time_limit"
    relaxed: list[str] = []
    if values is not None:
        for key, col in model.switches.items():
            if values[col] > 0.5:
                relaxed.append(key)
        if objective is None:
            objective = float(model.cost @ values)
    elapsed = time.perf_counter() - started
    log.info("solved %s with %s: %s obj=%s bound=%s in %.2fs", model.name, solver, status,
             objective, bound, elapsed)
    return ModelOutcome(
        status=status,
        column_values=None if values is None else values[: model.n_z],
        objective=objective,
        best_bound=bound,
        time_s=elapsed,
        n_variables=model.n_cols,
        n_binaries=n_bin,
        n_constraints=model.n_rows,
        solver_status=solver_words(status, solver),
        relaxed=tuple(sorted(relaxed)),
        reduced_costs=None if reduced is None else reduced[: model.n_z],
        stopped_by_deadline=stopped,
        row_duals=None if lp_duals is None else lp_duals[1],
        all_values=values,
    )


_Raw = tuple[str, "FloatArray | None", "float | None", "float | None",
             "tuple[FloatArray, FloatArray] | None", bool]


def _solve_highs(model: LinearModel, time_limit_s: float, rel_gap: float, abs_gap: float | None,
                 initial: FloatArray | None, seed: int, relax: bool,
                 on_tick: Callable[[SolverTick], None] | None, started: float) -> _Raw:
    _silence_highs_banner()
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_ = model.n_cols
    lp.num_row_ = model.n_rows
    big = highspy.kHighsInf
    lp.col_cost_ = model.cost
    lp.col_lower_ = np.where(np.isinf(model.col_lower), -big, model.col_lower)
    lp.col_upper_ = np.where(np.isinf(model.col_upper), big, model.col_upper)
    lp.row_lower_ = np.where(np.isinf(model.row_lower), -big, model.row_lower)
    lp.row_upper_ = np.where(np.isinf(model.row_upper), big, model.row_upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = model.indptr.astype(np.int32)
    lp.a_matrix_.index_ = model.indices.astype(np.int32)
    lp.a_matrix_.value_ = model.data
    if not relax and model.col_integer.any():
        kinds = (highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous)
        lp.integrality_ = [kinds[0] if flag else kinds[1] for flag in model.col_integer.tolist()]
    h.passModel(lp)
    deadline = started + time_limit_s
    h.setOptionValue("time_limit", max(0.05, deadline - time.perf_counter()))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    if abs_gap is not None:
        h.setOptionValue("mip_abs_gap", float(abs_gap))
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", int(seed) % 2_147_483_647)
    if initial is not None and not relax:
        idx = np.arange(len(initial), dtype=np.int32)
        h.setSolution(len(idx), idx, np.round(initial).astype(np.float64))
    stopped = [False]

    def interrupt(event: object) -> None:
        if time.perf_counter() >= deadline:
            stopped[0] = True
            event.data_in.user_interrupt = True  # type: ignore[attr-defined]
        if on_tick is not None and event.data_out is not None:  # type: ignore[attr-defined]
            out = event.data_out  # type: ignore[attr-defined]
            on_tick(SolverTick(time.perf_counter() - started, _finite(out.mip_primal_bound),
                               _finite(out.mip_dual_bound)))

    def improving(event: object) -> None:
        if on_tick is not None:
            out = event.data_out  # type: ignore[attr-defined]
            on_tick(SolverTick(time.perf_counter() - started,
                               _finite(out.objective_function_value),
                               _finite(out.mip_dual_bound),
                               np.array(out.mip_solution, dtype=np.float64)))

    h.cbMipInterrupt += interrupt
    h.cbSimplexInterrupt += interrupt
    h.cbIpmInterrupt += interrupt
    h.cbMipImprovingSolution += improving
    h.run()
    status_code = h.getModelStatus()
    ms = highspy.HighsModelStatus
    info = h.getInfo()
    values = None
    objective = bound = None
    reduced = None
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status_code == ms.kOptimal:
        status = "optimal"
    elif status_code in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        status = "infeasible"
    elif has_solution:
        status = "feasible"
    else:
        status = "time_limit"
    if status in ("optimal", "feasible"):
        solution = h.getSolution()
        values = np.array(solution.col_value, dtype=np.float64)
        objective = float(info.objective_function_value)
        if relax:
            bound = objective if status == "optimal" else None
            reduced = (np.array(solution.col_dual, dtype=np.float64),
                       np.array(solution.row_dual, dtype=np.float64))
            if status != "optimal":
                status = "time_limit"
                values = None
        else:
            bound = _finite(info.mip_dual_bound)
            if status == "optimal" and bound is None:
                bound = objective
    return status, values, objective, bound, reduced, stopped[0] or status_code == ms.kInterrupt


def _satisfies(model: LinearModel, values: FloatArray, tol: float = 1e-6) -> bool:
    """Do the values meet every row, bound and integrality (within a tolerance)?"""
    if len(values) != model.n_cols or not np.isfinite(values).all():
        return False
    activity = model.row_activity(values)
    scale = 1.0 + np.abs(np.where(np.isfinite(model.row_lower), model.row_lower, 0.0)) \
        + np.abs(np.where(np.isfinite(model.row_upper), model.row_upper, 0.0))
    if (activity < model.row_lower - tol * scale).any() or \
            (activity > model.row_upper + tol * scale).any():
        return False
    if (values < model.col_lower - tol).any() or (values > model.col_upper + tol).any():
        return False
    ints = values[model.col_integer]
    return bool((np.abs(ints - np.round(ints)) <= 1e-5).all())


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) and abs(value) < 1e29 else None


def solve_lp_by_pricing(
    problem: Problem,
    spec: ModelSpec,
    start: IntArray,
    *,
    solver: str,
    time_limit_s: float,
    seed: int = 0,
    on_tick: Callable[[SolverTick], None] | None = None,
) -> ModelOutcome:
    """The linear relaxation of a model with many columns, by column generation.

    Solve it over the columns ``start`` (plus a costly slack per row side, so that it always
    has a solution), price every other column with the rows' duals (``c - A^T y``, numpy),
    add the most attractive ones and repeat until none is attractive: then the restricted
    optimum is the optimum over all columns. Stopped early, the bound returned is still valid:
    the restricted optimum plus every negative reduced cost times its column's upper bound
    (Lagrangian bound, columns at most 1). ``best_bound`` None means no valid bound.
    ``column_values`` and ``reduced_costs`` cover every spec column.
    """
    started = time.perf_counter()
    deadline = started + time_limit_s
    model = build_model(problem, spec)
    scale = max(1.0, float(np.abs(model.cost).max()) if model.n_cols else 1.0)
    big = 1e4 * scale * max(1.0, float(np.abs(model.data).max()) if len(model.data) else 1.0)
    active = np.zeros(model.n_z, dtype=bool)
    active[np.asarray(start, dtype=np.int64)] = True
    bound: float | None = None
    last: ModelOutcome | None = None
    values = np.zeros(model.n_z)
    reduced_all = np.zeros(model.n_z)
    rounds = 0
    while True:
        rounds += 1
        cols = np.flatnonzero(active)
        sub = model.with_columns(cols, artificial_cost=big)
        left = deadline - time.perf_counter()
        out = solve_linear(sub, solver=solver, time_limit_s=left, rel_gap=0.0, seed=seed,
                           relax=True)
        last = out
        if out.status != "optimal" or out.row_duals is None:
            break
        reduced_all = model.reduced_costs(out.row_duals)[: model.n_z]
        n_sub_z = len(cols)
        values = np.zeros(model.n_z)
        sub_values = out.column_values  # the sub-model's spec columns, in order
        if sub_values is not None:
            values[cols] = sub_values[:n_sub_z]
        candidates = np.flatnonzero(~active & (reduced_all < -1e-9))
        # valid bound: the restricted optimum plus what the attractive columns could add
        lagrange = float(out.objective or 0.0) + float(np.minimum(0.0, reduced_all[~active]).sum())
        bound = lagrange if bound is None else max(bound, lagrange)
        if on_tick is not None:
            on_tick(SolverTick(time.perf_counter() - started, None, bound))
        if not len(candidates):
            bound = float(out.objective or 0.0)
            break
        if time.perf_counter() >= deadline:
            break
        batch = max(1000, len(cols))
        pick = candidates[np.argsort(reduced_all[candidates])[:batch]]
        active[pick] = True
    elapsed = time.perf_counter() - started
    done = last is not None and last.status == "optimal" and bound is not None and \
        not (~active & (reduced_all < -1e-9)).any()
    status = "optimal" if done else ("infeasible" if last is not None and
                                     last.status == "infeasible" else "time_limit")
    if done and last is not None and last.all_values is not None:
        # slack columns in use mean the rows cannot all hold: the relaxation is infeasible
        n_real = int(active.sum()) + (model.n_cols - model.n_z)
        if float(last.all_values[n_real:].sum()) > 1e-6:
            status, bound = "infeasible", None
    log.info("LP by pricing (%s): %s in %d rounds, %d of %d columns, bound %s, %.2fs",
             spec.name, status, rounds, int(active.sum()), model.n_z, bound, elapsed)
    return ModelOutcome(
        status=status, column_values=values if status == "optimal" else None,
        objective=bound if status == "optimal" else None,
        best_bound=bound if status != "infeasible" else None, time_s=elapsed,
        n_variables=model.n_cols, n_binaries=0, n_constraints=model.n_rows,
        solver_status=solver_words(status, solver), reduced_costs=reduced_all,
        stopped_by_deadline=status == "time_limit")


# CBC ---------------------------------------------------------------------------------


def _cbc_path() -> str:
    """The CBC binary bundled with PuLP (or one on the PATH)."""
    import pulp

    with warnings.catch_warnings():
        # PuLP 3.3 announces PULP_CBC_CMD's removal in 4.0; it is the bundled CBC's locator
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        try:
            path = pulp.PULP_CBC_CMD(msg=False).path
        except Exception:  # noqa: BLE001 - any failure: look on the PATH instead
            path = None
    if path and os.access(path, os.X_OK):
        return path
    found = shutil.which("cbc")
    if found:
        return found
    raise UnknownSolverError("CBC is not available: install PuLP with its bundled CBC, or cbc")


def write_mps(model: LinearModel, path: str) -> None:
    """The model in fixed MPS with short generated names (R0000001, X0000001)."""
    n, m = model.n_cols, model.n_rows
    lo, hi = model.row_lower, model.row_upper
    finite_lo, finite_hi = np.isfinite(lo), np.isfinite(hi)
    row_type = np.full(m, "E", dtype="<U1")
    row_type[finite_lo & ~finite_hi] = "G"
    row_type[~finite_lo & finite_hi] = "L"
    ranged = finite_lo & finite_hi & (lo != hi)
    row_type[ranged] = "G"
    row_type[~finite_lo & ~finite_hi] = "N"
    rhs = np.where(row_type == "L", hi, np.where(finite_lo, lo, 0.0))
    live = row_type != "N"
    # the matrix by columns, with each column's objective entry first (row -1)
    rows_of_nz = np.repeat(np.arange(m, dtype=np.int64), np.diff(model.indptr))
    keep = live[rows_of_nz]
    cols = np.concatenate([np.arange(n, dtype=np.int64), model.indices[keep]])
    rows = np.concatenate([np.full(n, -1, dtype=np.int64), rows_of_nz[keep]])
    vals = np.concatenate([model.cost, model.data[keep]])
    order = np.lexsort((rows, cols))
    cols, rows, vals = cols[order].tolist(), rows[order].tolist(), vals[order].tolist()
    out = [f"NAME          {re.sub(r'[^0-9A-Za-z_]', '_', model.name)[:8] or 'MODEL'}", "ROWS",
           " N  OBJ"]
    out += [" %s  R%07d" % (t, i) for i, t in enumerate(row_type.tolist()) if t != "N"]
    out.append("COLUMNS")
    integer = model.col_integer
    # runs of integer / continuous columns between markers
    bounds = np.flatnonzero(np.diff(integer.astype(np.int8))) + 1
    run_starts = np.concatenate([[0], bounds]).tolist() if n else []
    col_start = np.searchsorted(np.asarray(cols), np.arange(n + 1)).tolist() if n else [0]
    for k, start in enumerate(run_starts):
        end = run_starts[k + 1] if k + 1 < len(run_starts) else n
        is_int = bool(integer[start])
        if is_int:
            out.append("    MARKER                 'MARKER'                 'INTORG'")
        a, b = col_start[start], col_start[end]
        out += ["    X%07d  OBJ       %.17g" % (c, v) if r < 0 else
                "    X%07d  R%07d  %.17g" % (c, r, v)
                for c, r, v in zip(cols[a:b], rows[a:b], vals[a:b])]
        if is_int:
            out.append("    MARKER                 'MARKER'                 'INTEND'")
    out.append("RHS")
    out += ["    RHS       R%07d  %.17g" % (i, rhs[i]) for i in np.flatnonzero(live & (rhs != 0))]
    if ranged.any():
        out.append("RANGES")
        out += ["    RNG       R%07d  %.17g" % (i, hi[i] - lo[i]) for i in np.flatnonzero(ranged)]
    out.append("BOUNDS")
    lower, upper = model.col_lower, model.col_upper
    free = np.isinf(lower) & np.isinf(upper)
    out += [" FR BND       X%07d" % j for j in np.flatnonzero(free)]
    out += [" MI BND       X%07d" % j for j in np.flatnonzero(np.isinf(lower) & ~free)]
    nonzero_lo = np.isfinite(lower) & (lower != 0)
    out += [" LO BND       X%07d  %.17g" % (j, lower[j]) for j in np.flatnonzero(nonzero_lo)]
    out += [" UP BND       X%07d  %.17g" % (j, upper[j]) for j in np.flatnonzero(np.isfinite(upper))]
    out += [" PL BND       X%07d" % j for j in np.flatnonzero(np.isinf(upper) & integer)]
    out.append("ENDATA")
    with open(path, "w", encoding="ascii") as fh:
        fh.write("\n".join(out))
        fh.write("\n")


_CBC_OBJECTIVE = re.compile(r"^Objective value:\s+(\S+)", re.M)
_CBC_BOUND = re.compile(r"^Lower bound:\s+(\S+)", re.M)
_CBC_RESULT = re.compile(r"^Result - (.*)$", re.M)
_CBC_PROGRESS = re.compile(r"(-?[\d.eE+-]+) best solution, best possible (-?[\d.eE+-]+)")
_CBC_FOUND = re.compile(r"Integer solution of (-?[\d.eE+-]+)")
_CBC_PARTIAL = re.compile(r"best objective (-?[\d.eE+-]+) \(best possible (-?[\d.eE+-]+)\)")


def _printed_lower_bound(figure: str) -> float:
    """A lower bound as CBC prints it, moved down by one unit of its last printed digit: CBC
    rounds what it prints (the summary's "Lower bound" to three decimals), and a bound rounded
    up would claim more than the solver proved."""
    value = float(figure)
    mantissa, _, exponent = figure.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return value - 10.0 ** (int(exponent or 0) - decimals)


def _cbc_log_figures(text: str) -> tuple[str, float | None, float | None]:
    """(result line, objective, lower bound) from CBC's log: the summary at its end, and the
    tightest of the bounds it printed (the summary's and the last progress line's), each
    loosened by its printing precision."""
    result = _CBC_RESULT.search(text)
    obj = _CBC_OBJECTIVE.search(text)
    bounds: list[float] = []
    candidates = [m.group(1) for m in _CBC_BOUND.finditer(text)][-1:]
    if candidates:  # no summary bound: none at all (a proven optimum says so in its result line)
        progress = sorted((*_CBC_PROGRESS.finditer(text), *_CBC_PARTIAL.finditer(text)), key=lambda m: m.start())
        candidates += [m.group(2) for m in progress][-1:]
    for figure in candidates:
        try:
            bounds.append(_printed_lower_bound(figure))
        except ValueError:
            continue
    objective = None
    if obj is not None:
        try:
            objective = float(obj.group(1))
        except ValueError:
            objective = None
    bound = max(bounds) if bounds else None
    if bound is not None and objective is not None:
        bound = min(bound, objective)  # never above a solution found (the printing rounded it)
    return (result.group(1).strip() if result else ""), objective, bound


def _read_cbc_solution(path: str, n_cols: int, n_rows: int = 0
                       ) -> tuple[str, FloatArray | None, FloatArray | None, FloatArray | None]:
    """CBC's solution file: first line the status, then ``index name value dual`` for rows
    (R...) and columns (X...). Returns (status line, values, reduced costs, row duals)."""
    if not os.path.exists(path):
        return "", None, None, None
    values = np.zeros(n_cols)
    reduced = np.zeros(n_cols)
    duals = np.zeros(n_rows)
    with open(path, encoding="ascii", errors="replace") as fh:
        head = fh.readline().strip()
        for line in fh:
            parts = line.split()
            if parts and parts[0] == "**":
                parts = parts[1:]
            if len(parts) < 3:
                continue
            name = parts[1]
            try:
                j = int(name[1:])
                if name[0] == "X" and j < n_cols:
                    values[j] = float(parts[2])
                    if len(parts) > 3:
                        reduced[j] = float(parts[3])
                elif name[0] == "R" and j < n_rows and len(parts) > 3:
                    duals[j] = float(parts[3])
            except ValueError:
                continue
    return head, values, reduced, duals


def _write_cbc_start(path: str, values: FloatArray) -> None:
    with open(path, "w", encoding="ascii") as fh:
        fh.write("Stopped on time - objective value 0\n")
        for j, v in enumerate(values.tolist()):
            fh.write(f"{j:>7} X{j:07d} {round(v):>15} {0:>23}\n")


def _solve_cbc(model: LinearModel, time_limit_s: float, rel_gap: float, abs_gap: float | None,
               initial: FloatArray | None, seed: int, relax: bool,
               on_tick: Callable[[SolverTick], None] | None, started: float) -> _Raw:
    deadline = started + time_limit_s
    with tempfile.TemporaryDirectory(prefix="assembly_cbc_") as tmp:
        mps = os.path.join(tmp, "model.mps")
        sol = os.path.join(tmp, "model.sol")
        write_mps(model, mps)
        left = deadline - time.perf_counter()
        args = [_cbc_path(), mps, "-timeMode", "elapsed", "-sec", f"{max(0.1, left):.2f}",
                "-threads", "1", "-randomCbcSeed", str(1 + int(seed) % 1_000_000),
                "-randomSeed", str(1 + int(seed) % 1_000_000)]
        if not relax:
            args += ["-ratio", f"{rel_gap:g}"]
            if abs_gap is not None:
                args += ["-allow", f"{abs_gap:g}"]
            if initial is not None:
                start = os.path.join(tmp, "start.sol")
                _write_cbc_start(start, np.asarray(initial, dtype=np.float64))
                args += ["-mips", start]
            args += ["-solve"]
        else:
            args += ["-initialSolve"]
        args += ["-printingOptions", "all", "-solution", sol]
        stdbuf = shutil.which("stdbuf")
        if stdbuf:  # CBC's output to a pipe is block-buffered: ask for lines, for progress
            args = [stdbuf, "-oL"] + args
        cbc_started = time.perf_counter()
        text, stopped = _run_cbc(args, deadline, started, on_tick)
        cbc_time = time.perf_counter() - cbc_started
        head, values, reduced, duals = _read_cbc_solution(sol, model.n_cols, model.n_rows)
    result, objective, bound = _cbc_log_figures(text)
    lowered = (result + " " + head).lower()
    # CBC 2.10 stopped by its clock (or by us) during preprocessing may say "infeasible":
    # believe it only from a run that ended well before its time limit
    if stopped or cbc_time >= 0.9 * max(0.1, left):
        lowered = lowered.replace("infeasible", "stopped")
    if relax:
        if head.startswith("Optimal"):
            objective = float(model.cost @ values) if values is not None else None
            return "optimal", values, objective, objective, (reduced, duals), stopped
        if "infeasible" in lowered:
            return "infeasible", None, None, None, None, stopped
        return "time_limit", None, None, None, None, stopped
    has_solution = values is not None and "objective value" in head and \
        "infeasible" not in head.lower()
    if "infeasible" in lowered and not has_solution:
        status = "infeasible"
    elif result.startswith("Optimal") and has_solution:
        status = "optimal"
    elif has_solution:
        status = "feasible"
    else:
        status = "time_limit"
    if status == "optimal" and bound is None:
        bound = objective
    if not has_solution:
        values = None
        objective = None
    elif values is not None:
        objective = float(model.cost @ values)
    return status, values, objective, bound, None, stopped


def _run_cbc(args: list[str], deadline: float, started: float,
             on_tick: Callable[[SolverTick], None] | None) -> tuple[str, bool]:
    """Run CBC, read its log as it comes, stop it at the deadline. Returns (log, stopped).

    A thread reads the log; progress is handed to ``on_tick`` from the calling thread."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, errors="replace")
    lines: list[str] = []
    ticks: list[SolverTick] = []
    best: list[float | None] = [None, None]

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            found = _CBC_FOUND.search(line)
            progress = _CBC_PROGRESS.search(line) or _CBC_PARTIAL.search(line)
            try:
                if found:
                    best[0] = float(found.group(1))
                elif progress:
                    best[0], best[1] = float(progress.group(1)), float(progress.group(2))
                else:
                    continue
            except ValueError:
                continue
            ticks.append(SolverTick(time.perf_counter() - started, best[0], best[1]))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    stopped = False
    seen = 0
    # CBC checks its clock between nodes; a long LP or preprocessing of a large model does not.
    # Past the deadline: ask it to stop (it writes its best solution), then kill it.
    grace = 1.0
    while True:
        try:
            proc.wait(timeout=0.2)
            finished = True
        except subprocess.TimeoutExpired:
            finished = False
        if on_tick is not None and len(ticks) > seen:
            seen = len(ticks)
            on_tick(ticks[seen - 1])
        if finished:
            break
        now = time.perf_counter()
        if now > deadline + grace and not stopped:
            stopped = True
            log.warning("CBC ran past the deadline; asking it to stop")
            proc.send_signal(signal.SIGINT)
        elif now > deadline + 4 * grace:
            log.warning("CBC did not stop; killing it")
            proc.kill()
            proc.wait()
            break
    thread.join(timeout=2.0)
    return "".join(lines), stopped


__all__ = ["LinearModel", "ModelOutcome", "ModelSpec", "SOLVERS", "SolverTick", "build_model",
           "solve_linear", "solve_model", "solver_words", "write_mps"]
