"""Speed and quality of paper assembly (issues 4 and 18): every case, our formulation beside
the plain one-model formulation, both solvers, in one run.

Reproduce (from the repository root; timings are wall-clock on a shared machine, so compare
rows within one run; the load average is printed first)::

    python bench/assembly.py                      # every case, both solvers
    python bench/assembly.py --cases overlap8,infeasible --solvers highs
    python bench/assembly.py --time-limit 60 --plain-time 120

Cases (banks from :func:`assembly.benchmark_pool`: 3PL items, 80 % single choice / 20 %
true-false, 8 content areas, ratings 1-5 in three difficulty bands, 200 enemy pairs, 60
four-item sets; blueprint from :func:`assembly.benchmark_blueprint`: 100 items, maximin
information at theta -1, 0, 1):

- standard: 1,200 items; 2 forms + 2 backups, disjoint. Goal: within 1 % in under 3 s.
- overlap: 1,200 items; 2 + 2, two papers share at most 10 items. Goal: 1 % in 15 s.
- overlap8: 1,200 items; 4 + 4, at most 10 shared by two papers. Goal: 1 % of a valid bound
  in 15 s.
- large: 10,000 items; 10 forms, disjoint. Goal: 1 % in under 10 s.
- overlap10: 10,000 items; 10 forms, at most 20 shared. Goal: 1 % of a valid bound in 30 s.
- huge: 50,000 items; 20 forms, disjoint. Goal: under 10 s.
- infeasible: 13 forms of 100 from 1,200 items. Goal: the answer, with the reason in plain
  words, in under 1 s.

For every case and solver the script prints our formulation ("auto": the shadow test, see
:mod:`assembly.assemble`) and the plain formulation (one binary per item and paper given
straight to the solver, overlap through one binary per item and pair of papers, no count
checks first; not built when it is too large to build in the time given), and for the disjoint cases two baselines
without a solver (greedy by information; random draw): wall time, status, objective (the
smallest information of any paper at the three thetas), the bound, the relative gap, the
largest difference between two papers' information at one theta, the largest overlap,
whether the independent checker accepts the papers, and where the bound comes from.

Measured here (2 shared cores, load average about 5-10 while others worked; HiGHS / CBC):
see the report of issue 18 for the table of the run that closed it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# ``assembly`` package: drop the folder so that the package is imported.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import numpy as np  # noqa: E402

from analysis.information import item_information_3pl  # noqa: E402
from assembly import (  # noqa: E402
    AssemblyResult,
    Blueprint,
    Pool,
    assemble_forms,
    benchmark_blueprint,
    benchmark_pool,
    check_forms,
)

CASES: dict[str, dict[str, float]] = {
    "standard": dict(n_items=1200, n_forms=2, n_backups=2, max_overlap=0, goal_s=3.0),
    "overlap": dict(n_items=1200, n_forms=2, n_backups=2, max_overlap=10, goal_s=15.0),
    "overlap8": dict(n_items=1200, n_forms=4, n_backups=4, max_overlap=10, goal_s=15.0),
    "large": dict(n_items=10_000, n_forms=10, n_backups=0, max_overlap=0, goal_s=10.0),
    "overlap10": dict(n_items=10_000, n_forms=10, n_backups=0, max_overlap=20, goal_s=30.0),
    "huge": dict(n_items=50_000, n_forms=20, n_backups=0, max_overlap=0, goal_s=10.0),
    "infeasible": dict(n_items=1200, n_forms=13, n_backups=0, max_overlap=0, goal_s=1.0),
}
HEADER = (f"{'case':10} {'solver':6} {'method':7} {'time s':>7} {'status':10} {'objective':>9} "
          f"{'bound':>9} {'gap %':>6} {'spread':>6} {'ovl':>4} {'valid':>5}  bound from")

SOURCES = {  # short names of the bound's source, for the table
    "the linear relaxation of the shadow test": "LP of the shadow test (relaxation of the "
                                                "whole problem)",
    "the shadow test of all papers together solved as an integer": "shadow test IP (relaxation "
                                                                   "of the whole problem)",
    "the solver's bound of the whole direct model": "solver bound, whole direct model",
    "the solver's bound of the whole model": "solver bound, whole model",
}


def _source(result: AssemblyResult | None) -> str:
    if result is None or result.report.bound_source is None:
        return "-"
    text = result.report.bound_source.english()
    for start, short in SOURCES.items():
        if text.startswith(start):
            return short
    return text


def _row(case: str, solver: str, method: str, seconds: float, status: str,
         objective: float | None, bound: float | None, gap: float | None, spread: float | None,
         overlap: int | None, valid: bool | None, source: str) -> str:
    def num(value: float | None, fmt: str) -> str:
        return format(value, fmt) if value is not None else "-"

    return (f"{case:10} {solver:6} {method:7} {seconds:7.2f} {status:10} {num(objective, '9.3f')} "
            f"{num(bound, '9.3f')} {num(None if gap is None else 100 * gap, '6.2f')} "
            f"{num(spread, '6.2f')} {num(overlap, '4d')} "
            f"{'-' if valid is None else str(valid):>5}  {source}")


def _unit_table(pool: Pool, blueprint: Blueprint) -> list[list[int]]:
    """Units (single items or whole sets) of eligible items of the blueprint's types."""
    types = {rule.item_type for rule in blueprint.item_types}
    units: dict[object, list[int]] = {}
    for i, item in enumerate(pool.items):
        if item.compromised or item.item_type not in types:
            continue
        units.setdefault(item.set_id if item.set_id is not None else ("single", i), []).append(i)
    return list(units.values())


def draw_baseline(pool: Pool, blueprint: Blueprint, n_papers: int,
                  order: Callable[[list[list[int]]], list[list[int]]]) -> list[list[str]]:
    """Fill papers one after the other, taking units in ``order`` when they fit: type counts,
    element maximums, enemies, disjointness. No look-ahead, no solver."""
    enemies: dict[int, set[int]] = {}
    for i, j in pool.enemy_pairs.tolist():
        enemies.setdefault(i, set()).add(j)
        enemies.setdefault(j, set()).add(i)
    cover = {rule.code: rule for rule in blueprint.elements}
    need = {rule.item_type: rule.count for rule in blueprint.item_types}
    used: set[int] = set()
    papers: list[list[str]] = []
    units = order(_unit_table(pool, blueprint))
    for _ in range(n_papers):
        chosen: list[int] = []
        counts = dict.fromkeys(need, 0)
        per_element = dict.fromkeys(cover, 0)
        for unit in units:
            if any(i in used for i in unit):
                continue
            types = [pool.item_types[i] for i in unit]
            if any(counts[t] + types.count(t) > need[t] for t in set(types)):
                continue
            codes = [code for i in unit for code in pool.items[i].element_codes if code in cover]
            if any(cover[c].max is not None and per_element[c] + codes.count(c) > cover[c].max
                   for c in set(codes)):
                continue
            if any(enemies.get(i, set()) & set(chosen) for i in unit):
                continue
            chosen += unit
            for t in types:
                counts[t] += 1
            for c in codes:
                per_element[c] += 1
            if counts == need:
                break
        used |= set(chosen)
        papers.append([pool.ids[i] for i in chosen])
    return papers


def _maximin(pool: Pool, papers: list[list[str]], thetas: tuple[float, ...]) -> float:
    values = []
    for paper in papers:
        idx = [pool.index[i] for i in paper]
        info = item_information_3pl(thetas, pool.a[idx], pool.b[idx], pool.c[idx]).sum(axis=1)
        values.append(float(info.min()))
    return min(values)


def run_case(name: str, solvers: list[str], plain_time: float, time_limit: float,
             seed: int) -> list[str]:
    spec = CASES[name]
    n_items = int(spec["n_items"])
    n_papers = int(spec["n_forms"]) + int(spec["n_backups"])
    pool = benchmark_pool(n_items, n_enemy_pairs=200, n_sets=60, seed=seed)
    blueprint = benchmark_blueprint(100, max_overlap=int(spec["max_overlap"]))
    thetas = blueprint.irt.thetas
    lines = []
    for solver in solvers:
        for method, formulation, limit in (("ours", "auto", time_limit),
                                           ("plain", "plain", plain_time)):
            started = time.perf_counter()
            result = assemble_forms(pool, blueprint, n_forms=int(spec["n_forms"]),
                                    n_backups=int(spec["n_backups"]), solver=solver,
                                    time_limit_s=limit, rel_gap=0.01, seed=seed,
                                    formulation=formulation, count_checks=method == "ours")
            seconds = time.perf_counter() - started
            rep = result.report
            par = result.checks.parallelism if result.checks else None
            lines.append(_row(name, solver, method, seconds, result.status, rep.objective,
                              rep.best_bound, rep.rel_gap,
                              par.max_information_spread if par else None,
                              par.max_overlap if par else None,
                              result.checks.ok if result.checks else None, _source(result)))
            print(lines[-1], flush=True)
            if method == "ours":
                if rep.restricted is not None:
                    print(f"{'':25} papers from: {rep.restricted.english()}", flush=True)
                if rep.stages:
                    print(f"{'':25} stages: " + ", ".join(
                        f"{s.formulation} {s.status} {s.time_s:.2f}s" for s in rep.stages),
                        flush=True)
                if result.status == "infeasible":
                    for line in result.diagnosis[:2]:
                        print(f"{'':25} why: {line.english()}", flush=True)
    if spec["max_overlap"] == 0 and name != "infeasible":
        rng = np.random.default_rng(seed)
        for method, order in (
            ("greedy", lambda units: sorted(units, key=lambda u: -float(
                item_information_3pl(thetas, pool.a[u], pool.b[u], pool.c[u]).sum(axis=1).min()))),
            ("random", lambda units: [units[k] for k in rng.permutation(len(units))]),
        ):
            started = time.perf_counter()
            papers = draw_baseline(pool, blueprint, n_papers, order)
            seconds = time.perf_counter() - started
            report = check_forms(pool, blueprint, papers)
            complete = all(len(p) == blueprint.n_items for p in papers)
            lines.append(_row(name, "-", method, seconds, "complete" if complete else "short",
                              _maximin(pool, papers, thetas) if all(papers) else None, None,
                              None, report.parallelism.max_information_spread,
                              report.parallelism.max_overlap, report.ok, "-"))
            print(lines[-1], flush=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--solvers", default="highs,cbc")
    parser.add_argument("--time-limit", type=float, default=60.0,
                        help="time limit of our formulation (s); it stops at 1 % gap")
    parser.add_argument("--plain-time", type=float, default=60.0,
                        help="time limit of the plain formulation (s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores; "
          "objective = smallest information of any paper at theta -1, 0, 1 (maximise); "
          "spread = largest difference between two papers' information at one theta")
    for name in args.cases.split(","):
        spec = CASES[name]
        print(f"\n== {name}: {spec['n_items']:,.0f} items, {spec['n_forms']:.0f} forms + "
              f"{spec['n_backups']:.0f} backups of 100 items, max overlap "
              f"{spec['max_overlap']:.0f}; goal: {'gap <= 1 % of a valid bound in' if name != 'infeasible' else 'the answer in'}"
              f" under {spec['goal_s']:g} s")
        print(HEADER)
        run_case(name, args.solvers.split(","), args.plain_time, args.time_limit, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
