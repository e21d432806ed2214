"""Why a blueprint cannot be met, in words a bank administrator understands.

Two tools:

- :func:`diagnose` counts before any solve (necessary conditions only, so an ``error`` finding
  proves infeasibility): "element B-02 needs 6 items per paper x 4 papers = 24; the bank has 17
  eligible: 4 are compromised, 3 were used in the last 2 sessions".
- :func:`relax_blueprint` applies the relaxations found by the elastic re-solve of
  :func:`assembly.assemble.assemble_forms` (smallest set of rows to relax, with the shortfall).

The distinct-items bound for papers that may share items uses the Bonferroni inequality
|A_1 ∪ ... ∪ A_n| >= sum |A_f| - sum_{f<g} |A_f ∩ A_g| (Feller 1968, IV.5).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from assembly.blueprint import Blueprint, validate_blueprint
from assembly.errors import InvalidBlueprintError
from assembly.pool import Pool
from assembly.problem import REASON_TEXT, Problem, compile_problem, element_coverage
from assembly.results import RowRelaxation


@dataclass(frozen=True, slots=True)
class Finding:
    """One pre-solve finding. ``severity`` "error" proves the blueprint cannot be met."""

    row: str
    severity: str
    message: str
    needed: float | None = None
    available: float | None = None


def _reason_text(reason: str, bp: Blueprint) -> str:
    return REASON_TEXT[reason].format(n=bp.exposure.exclude_recent_sessions,
                                      k=bp.exposure.max_uses)


def _breakdown(mask: np.ndarray, reasons: Sequence[str | None], bp: Blueprint) -> str:
    """'17 eligible: 4 are compromised, 3 used in the last 2 sessions' for items in mask."""
    counts = Counter(reasons[i] for i in np.flatnonzero(mask))
    eligible = counts.pop(None, 0)
    counts.pop("type_not_in_blueprint", None)
    parts = [f"{n} {_reason_text(reason, bp)}" for reason, n in counts.most_common()]
    text = f"{eligible} eligible"
    return text + (": " + ", ".join(parts) + " (not eligible)" if parts else "")


def distinct_needed(per_paper: float, n_papers: int, max_overlap: int) -> float:
    """Fewest distinct items ``n_papers`` papers need when each needs ``per_paper`` of them
    and two papers share at most ``max_overlap`` (Bonferroni)."""
    if per_paper <= 0:
        return 0.0
    return max(per_paper, n_papers * per_paper - math.comb(n_papers, 2) * max_overlap)


def diagnose(
    pool: Pool,
    blueprint: Blueprint,
    n_forms: int,
    *,
    extra_reasons: dict[int, str] | None = None,
    problem: Problem | None = None,
) -> tuple[Finding, ...]:
    """Count checks before solving: enough eligible items for every row of ``n_forms`` papers?

    Parameters
    ----------
    pool, blueprint : what to assemble from and to.
    n_forms : papers to assemble together (main forms plus backups).
    extra_reasons : item index -> reason key of further exclusions (a leaked paper).
    problem : the compiled problem when the caller has it already (saves compiling twice).

    Returns
    -------
    Findings, errors first. An error is a proof of infeasibility (a necessary condition fails);
    a warning is a tight spot worth knowing.
    """
    validate_blueprint(blueprint)
    if problem is None:
        problem = compile_problem(pool, blueprint, extra_reasons=extra_reasons)
    reasons = problem.reasons
    eligible = problem.eligible
    k_overlap = blueprint.max_overlap
    findings: list[Finding] = []
    n_per_paper = blueprint.n_items
    papers = f"{n_forms} paper{'s' if n_forms != 1 else ''}"

    def need_text(per: float, unit: str = "items") -> tuple[float, str]:
        needed = distinct_needed(per, n_forms, k_overlap)
        if n_forms == 1:
            return needed, f"{per:g} {unit}"
        if k_overlap == 0:
            return needed, f"{per:g} {unit} per paper x {papers} = {needed:g}"
        return needed, (f"{per:g} {unit} per paper x {papers}, at most {k_overlap} shared by two "
                        f"papers: at least {needed:g} distinct")

    def count_check(row: str, label: str, mask: np.ndarray, per: float) -> None:
        if per <= 0:
            return
        needed, text = need_text(per)
        available = int((mask & eligible).sum())
        if available < needed:
            findings.append(Finding(row, "error",
                                    f"{label} needs {text}; the bank has {_breakdown(mask, reasons, blueprint)}",
                                    needed, available))
        elif available < needed * 1.1:
            findings.append(Finding(row, "warning",
                                    f"{label} needs {text}; the bank has only {available} eligible",
                                    needed, available))

    item_types = np.array(pool.item_types, dtype=object)
    # item types: counts, and points when every item of the type has the same points
    for rule in blueprint.item_types:
        mask = item_types == rule.item_type
        count_check(f"type_{rule.item_type}_count", f"type {rule.item_type}", mask, rule.count)
        if rule.points is not None:
            values = np.unique(pool.points[mask & eligible])
            if len(values) == 1 and not math.isclose(values[0] * rule.count, rule.points):
                findings.append(Finding(
                    f"type_{rule.item_type}_points", "error",
                    f"type {rule.item_type}: {rule.count} items x {values[0]:g} points = "
                    f"{values[0] * rule.count:g} points, but the blueprint asks {rule.points:g}",
                    rule.points, values[0] * rule.count))
    total = int(eligible.sum())
    if total < distinct_needed(n_per_paper, n_forms, k_overlap):
        _, text = need_text(n_per_paper)
        findings.append(Finding("total_items", "error",
                                f"the papers need {text}; the bank has "
                                f"{_breakdown(np.ones(pool.n_items, bool), reasons, blueprint)}",
                                distinct_needed(n_per_paper, n_forms, k_overlap), total))

    # element coverage minimums; maximums that make the paper size impossible
    cover = element_coverage(pool, blueprint)
    for rule in blueprint.elements:
        mask = cover[rule.code]
        if rule.basis == "count":
            count_check(f"element_{rule.code}_count", f"element {rule.code}", mask, rule.min)
        elif rule.min > 0:
            available = float(pool.points[mask & eligible].sum())
            needed = rule.min * (n_forms if k_overlap == 0 else 1)
            if available < needed:
                findings.append(Finding(
                    f"element_{rule.code}_points", "error",
                    f"element {rule.code} needs {rule.min:g} points per paper"
                    f"{f' x {papers}' if k_overlap == 0 and n_forms > 1 else ''} = {needed:g}; "
                    f"eligible items carry {available:g} points "
                    f"({_breakdown(mask, reasons, blueprint)})", needed, available))
    # sibling scopes/elements: the children's minimums must fit into the parent's maximum
    single_coded = all(len(item.element_codes) <= 1 for item in pool.items)
    by_parent: dict[str | None, list] = {}
    for rule in blueprint.elements:
        by_parent.setdefault(rule.parent_code, []).append(rule)
    for parent, children in by_parent.items():
        bases = {child.basis for child in children}
        if len(bases) != 1:
            continue
        basis = bases.pop()
        mins = sum(child.min for child in children)
        if parent is None:
            cap = n_per_paper if basis == "count" else blueprint.total_points
            where = "the paper"
        else:
            parent_rule = next(r for r in blueprint.elements if r.code == parent)
            cap = parent_rule.max if parent_rule.basis == basis else None
            where = f"scope {parent} (max {cap})"
        if cap is not None and mins > cap + 1e-9 and single_coded:
            findings.append(Finding(
                f"element_{parent or 'top'}_children", "error",
                f"the minimums under {where} add up to {mins:g} {basis}, more than {cap:g}",
                mins, cap))

    # difficulty bands
    for band in blueprint.difficulty.bands:
        mask = (pool.ratings >= band.rating_min) & (pool.ratings <= band.rating_max)
        count_check(f"band_{band.name}_count",
                    f"difficulty band {band.name} (rating {band.rating_min}-{band.rating_max})",
                    mask, band.min_count)

    # mean rating and total time reachable at all with n items per paper
    ratings = np.sort(pool.ratings[eligible])
    d = blueprint.difficulty
    if len(ratings) >= n_per_paper > 0:
        lowest = float(ratings[:n_per_paper].mean())
        highest = float(ratings[-n_per_paper:].mean())
        if d.mean_rating_max is not None and lowest > d.mean_rating_max + 1e-9:
            findings.append(Finding("mean_rating_max", "error",
                                    f"mean expert rating must be <= {d.mean_rating_max:g}, but the "
                                    f"{n_per_paper} easiest eligible items average {lowest:.2f}",
                                    d.mean_rating_max, lowest))
        if d.mean_rating_min is not None and highest < d.mean_rating_min - 1e-9:
            findings.append(Finding("mean_rating_min", "error",
                                    f"mean expert rating must be >= {d.mean_rating_min:g}, but the "
                                    f"{n_per_paper} hardest eligible items average {highest:.2f}",
                                    d.mean_rating_min, highest))
    times = np.sort(pool.times[eligible])
    if len(times) >= n_per_paper > 0:
        shortest = float(times[:n_per_paper].sum())
        longest = float(times[-n_per_paper:].sum())
        if blueprint.time_max_s is not None and shortest > blueprint.time_max_s + 1e-9:
            findings.append(Finding("total_time", "error",
                                    f"total time must be <= {blueprint.time_max_s:g} s, but the "
                                    f"{n_per_paper} quickest eligible items take {shortest:g} s",
                                    blueprint.time_max_s, shortest))
        if blueprint.time_min_s is not None and longest < blueprint.time_min_s - 1e-9:
            findings.append(Finding("total_time", "error",
                                    f"total time must be >= {blueprint.time_min_s:g} s, but the "
                                    f"{n_per_paper} longest eligible items take {longest:g} s",
                                    blueprint.time_min_s, longest))

    # items included by hand
    for item_id in problem.unusable_includes:
        if item_id not in pool.index:
            why = "is not in the bank"
        else:
            why = f"is not eligible ({_reason_text(reasons[pool.index[item_id]], blueprint)})"
        findings.append(Finding(f"include:{item_id}", "error",
                                f"item {item_id} is to be included by hand but {why}"))
    n_include = len(blueprint.include_items)
    if n_include and n_forms > 1 and k_overlap < n_include:
        findings.append(Finding("max_overlap", "error",
                                f"{n_include} item(s) are to be included in every paper, so two "
                                f"papers share at least {n_include}, but at most {k_overlap} may "
                                f"be shared", n_include, k_overlap))
    findings.sort(key=lambda f: (f.severity != "error", f.row))
    return tuple(findings)


# --------------------------------------------------------------------------------------
# Relaxations found by the elastic re-solve


def relax_blueprint(blueprint: Blueprint, relaxations: Sequence[RowRelaxation]) -> Blueprint:
    """Apply relaxations (from :attr:`AssemblyResult.relaxations`) to a copy of the blueprint.

    Each relaxation moves one bound of one row to the value the elastic re-solve needed; the
    copy keeps the version (the caller stores it as a new version if it adopts it).
    """
    bp = blueprint
    for rel in relaxations:
        family, key, bound, needed = rel.family, rel.key, rel.bound, rel.needed
        if family == "type_count":
            # a type relaxed to no items leaves the blueprint
            bp = replace(bp, item_types=tuple(
                replace(r, count=int(round(needed))) if r.item_type == key else r
                for r in bp.item_types if r.item_type != key or round(needed) >= 1))
        elif family == "type_points":
            bp = replace(bp, item_types=tuple(
                replace(r, points=needed) if r.item_type == key else r for r in bp.item_types))
        elif family == "element":
            field_name = "min" if bound == "min" else "max"
            bp = replace(bp, elements=tuple(
                replace(r, **{field_name: needed}) if r.code == key else r for r in bp.elements))
        elif family == "band":
            field_name = "min_count" if bound == "min" else "max_count"
            bands = tuple(replace(b, **{field_name: int(round(needed))}) if b.name == key else b
                          for b in bp.difficulty.bands)
            bp = replace(bp, difficulty=replace(bp.difficulty, bands=bands))
        elif family in ("mean_rating", "mean_p"):
            bp = replace(bp, difficulty=replace(bp.difficulty, **{f"{family}_{bound}": needed}))
        elif family == "time":
            bp = replace(bp, **{f"time_{bound}_s": needed})
        elif family == "include":
            dropped = set(key.split("+"))
            bp = replace(bp, include_items=tuple(i for i in bp.include_items if i not in dropped))
        elif family == "overlap":
            bp = replace(bp, max_overlap=int(round(needed)))
        elif family in ("parallel_information", "parallel_tcc", "parallel_mean_rating"):
            name = {"parallel_information": "information_tolerance",
                    "parallel_tcc": "tcc_tolerance",
                    "parallel_mean_rating": "mean_rating_tolerance"}[family]
            bp = replace(bp, parallel=replace(bp.parallel, **{name: needed}))
        else:
            raise InvalidBlueprintError(f"relaxation {rel.name!r}: unknown row family {family!r}")
    return validate_blueprint(bp)
