"""Why a blueprint cannot be met, in words a bank administrator understands.

Two tools:

- :func:`diagnose` counts before any solve, in milliseconds (necessary conditions only, so an
  ``error`` finding proves infeasibility): "element B-02 needs 6 items per paper x 4 papers =
  24 different items; the bank has 17 usable: 4 are compromised, 3 were used in the last 2
  sessions". Each error says what would fix it, read off the counts ("a fix", not proven the
  smallest: that takes an elastic solve, see :mod:`assembly.assemble`).
- :func:`relax_blueprint` applies relaxations (from the elastic re-solve, or read off the
  counts) to a copy of the blueprint.

Different items needed when papers may share items: ``n`` papers of ``q`` items each use
``n q`` places; an item in ``m`` papers makes ``C(m, 2)`` pairs of papers share it, and the
blueprint allows at most ``C(n, 2) K`` shared places in all (``K`` per pair). For a given
number ``D`` of different items the fewest shared pairs come from spreading the places as
evenly as possible (``C(m, 2)`` is convex), so the smallest ``D`` whose even spread fits the
allowance is a lower bound; two papers also need at least ``2 q - K`` different items.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np

from analysis.messages import Message
from assembly.blueprint import Blueprint, validate_blueprint
from assembly.errors import InvalidBlueprintError
from assembly.pool import Pool
from assembly.problem import (
    Problem,
    band_label,
    compile_problem,
    element_coverage,
    element_name,
)
from assembly.results import RowRelaxation
from assembly.words import band_text, item_type_text, reason_text


@dataclass(frozen=True, slots=True)
class Finding:
    """One pre-solve finding. ``severity`` "error" proves the blueprint cannot be met.

    ``fix`` says in words what would make the row possible (read off the counts: a fix, not
    proven the smallest); ``relaxation`` is that fix as data when it is a change of one row
    (for :func:`relax_blueprint`).
    """

    row: str
    severity: str
    message: Message
    needed: float | None = None
    available: float | None = None
    fix: Message | None = None
    relaxation: RowRelaxation | None = None


def _breakdown(mask: np.ndarray, reasons: Sequence[str | None], bp: Blueprint) -> Message:
    """'17 usable; not usable: 4 compromised, 3 used in the last 2 sessions' for the items
    in ``mask``."""
    counts = Counter(reasons[i] for i in np.flatnonzero(mask))
    eligible = counts.pop(None, 0)
    counts.pop("type_not_in_blueprint", None)
    if not counts:
        return Message("{n} usable", n=eligible)
    parts = [Message("{n} {reason}", n=n, reason=reason_text(
        reason, recent=bp.exposure.exclude_recent_sessions, max_uses=bp.exposure.max_uses))
        for reason, n in counts.most_common()]
    return Message("{n} usable; not usable: {reasons}", n=eligible, reasons=parts)


def distinct_needed(per_paper: float, n_papers: int, max_overlap: int) -> float:
    """Fewest different items ``n_papers`` papers need when each needs ``per_paper`` of them
    and two papers share at most ``max_overlap`` (module docstring)."""
    q = int(math.ceil(per_paper - 1e-9))
    if q <= 0:
        return 0.0
    n = int(n_papers)
    if n <= 1:
        return float(q)
    k = max(0, int(max_overlap))
    places = n * q
    if k == 0:
        return float(places)
    allowance = math.comb(n, 2) * k

    def fits(d: int) -> bool:
        a, b = divmod(places, d)
        if a > n or (a == n and b > 0):
            return False
        return (d - b) * math.comb(a, 2) + b * math.comb(a + 1, 2) <= allowance

    lo, hi = q, places  # fits(places) is True (every item in one paper)
    while lo < hi:
        mid = (lo + hi) // 2
        if fits(mid):
            hi = mid
        else:
            lo = mid + 1
    return float(max(lo, 2 * q - k, q))


def most_papers(per_paper: float, available: int, max_overlap: int, limit: int = 1000) -> int:
    """The most papers whose ``per_paper`` items fit into ``available`` different items."""
    if per_paper <= 0:
        return limit
    n = 0
    while n < limit and distinct_needed(per_paper, n + 1, max_overlap) <= available:
        n += 1
    return n


def _largest_per_paper(available: int, n_papers: int, max_overlap: int) -> int:
    """The largest per-paper minimum that ``available`` different items can serve."""
    q = 0
    while distinct_needed(q + 1, n_papers, max_overlap) <= available:
        q += 1
    return q


def diagnose(
    pool: Pool,
    blueprint: Blueprint,
    n_forms: int,
    *,
    extra_reasons: dict[int, str] | None = None,
    problem: Problem | None = None,
) -> tuple[Finding, ...]:
    """Count checks before solving: enough usable items for every row of ``n_forms`` papers?

    Parameters
    ----------
    pool, blueprint : what to assemble from and to.
    n_forms : papers to assemble together (main forms plus backups).
    extra_reasons : item index -> reason key of further exclusions (leaked papers).
    problem : the compiled problem when the caller has it already (saves compiling twice).

    Returns
    -------
    Findings, errors first. An error is a proof of infeasibility (a necessary condition fails)
    with a fix read off the counts; a warning is a tight spot worth knowing.
    """
    validate_blueprint(blueprint)
    if problem is None:
        problem = compile_problem(pool, blueprint, extra_reasons=extra_reasons)
    reasons = problem.reasons
    eligible = problem.eligible
    k_overlap = blueprint.max_overlap
    findings: list[Finding] = []
    n_per_paper = blueprint.n_items

    def need_text(what: Message | str, per: float, needed: float) -> Message:
        if n_forms == 1:
            return Message("{what}: {per:g} needed", what=what, per=per)
        if k_overlap == 0:
            return Message("{what}: {per:g} per paper x {papers} papers = {needed:g} different "
                           "items needed", what=what, per=per, papers=n_forms, needed=needed)
        return Message("{what}: {per:g} per paper x {papers} papers, at most {overlap} shared "
                       "by two papers: at least {needed:g} different items needed", what=what,
                       per=per, papers=n_forms, overlap=k_overlap, needed=needed)

    def count_check(row: str, what: Message | str, mask: np.ndarray, per: float,
                    relax: tuple[str, str, Message] | None = None) -> None:
        """``relax``: (family, key, label) when lowering this row's minimum is a fix."""
        if per <= 0:
            return
        needed = distinct_needed(per, n_forms, k_overlap)
        available = int((mask & eligible).sum())
        if available < needed:
            short = needed - available
            papers = most_papers(per, available, k_overlap, limit=n_forms)
            relaxation = None
            if relax is not None:
                q = _largest_per_paper(available, n_forms, k_overlap)
                fix = Message("a fix: lower the minimum of {what} from {per:g} to {q} per paper, "
                              "or add {short:g} usable items, or assemble at most {papers} papers",
                              what=what, per=per, q=q, short=short, papers=papers)
                family, key, label = relax
                relaxation = _relaxation(row, family, key, "min", per, float(q), label)
            else:
                fix = Message("a fix: add {short:g} usable items of {what}, or assemble at most "
                              "{papers} papers", what=what, short=short, papers=papers)
            findings.append(Finding(
                row, "error", Message("{need}; the bank has {have}",
                                      need=need_text(what, per, needed),
                                      have=_breakdown(mask, reasons, blueprint)),
                needed, available, fix, relaxation))
        elif available < needed * 1.1:
            findings.append(Finding(
                row, "warning", Message("{need}; the bank has only {available} usable",
                                        need=need_text(what, per, needed), available=available),
                needed, available))

    item_types = np.array(pool.item_types, dtype=object)
    # item types: counts, and points when every item of the type has the same points
    for rule in blueprint.item_types:
        mask = item_types == rule.item_type
        what = Message("{item_type} items", item_type=item_type_text(rule.item_type))
        count_check(f"type_{rule.item_type}_count", what, mask, rule.count)
        if rule.points is not None:
            values = np.unique(pool.points[mask & eligible])
            if len(values) == 1 and not math.isclose(values[0] * rule.count, rule.points):
                findings.append(Finding(
                    f"type_{rule.item_type}_points", "error",
                    Message("{item_type} items: {count} items x {each:g} points = {total:g} "
                            "points, but the blueprint asks for {asked:g}",
                            item_type=item_type_text(rule.item_type), count=rule.count,
                            each=float(values[0]), total=float(values[0] * rule.count),
                            asked=rule.points),
                    rule.points, float(values[0] * rule.count),
                    Message("a fix: set the points of {item_type} items to {total:g}",
                            item_type=item_type_text(rule.item_type),
                            total=float(values[0] * rule.count))))
    total = int(eligible.sum())
    needed_total = distinct_needed(n_per_paper, n_forms, k_overlap)
    if total < needed_total:
        papers = most_papers(n_per_paper, total, k_overlap, limit=n_forms)
        findings.append(Finding(
            "total_items", "error",
            Message("{need}; the bank has {have}",
                    need=need_text(Message("items"), n_per_paper, needed_total),
                    have=_breakdown(np.ones(pool.n_items, bool), reasons, blueprint)),
            needed_total, total,
            Message("a fix: assemble at most {papers} papers, allow more items shared between "
                    "papers, or add {short:g} usable items", papers=papers,
                    short=needed_total - total)))

    # element coverage minimums; maximums that make the paper size impossible
    cover = element_coverage(pool, blueprint)
    for rule in blueprint.elements:
        mask = cover[rule.code]
        name = element_name(blueprint, rule.code)
        if rule.basis == "count":
            count_check(f"element_{rule.code}_count", name, mask, rule.min,
                        relax=("element", rule.code, Message("{element}: items", element=name)))
        elif rule.min > 0:
            available = float(pool.points[mask & eligible].sum())
            needed = rule.min * (n_forms if k_overlap == 0 else 1)
            if available < needed:
                findings.append(Finding(
                    f"element_{rule.code}_points", "error",
                    Message("{element} needs {per:g} points per paper x {papers} papers = "
                            "{needed:g} points; the usable items carry {available:g} points "
                            "({have})", element=name, per=rule.min, papers=n_forms if
                            k_overlap == 0 else 1, needed=needed, available=available,
                            have=_breakdown(mask, reasons, blueprint)),
                    needed, available,
                    Message("a fix: add usable items of {element} worth {short:g} points, or "
                            "lower its minimum", element=name, short=needed - available)))
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
            where: Message = Message("the paper")
        else:
            parent_rule = next(r for r in blueprint.elements if r.code == parent)
            cap = parent_rule.max if parent_rule.basis == basis else None
            where = element_name(blueprint, parent)
        if cap is not None and mins > cap + 1e-9 and single_coded:
            findings.append(Finding(
                f"element_{parent or 'top'}_children", "error",
                Message("the minimums under {where} add up to {mins:g} {unit}, more than its "
                        "{cap:g}", where=where, mins=mins, cap=cap,
                        unit=Message("items") if basis == "count" else Message("points")),
                mins, cap,
                Message("a fix: lower these minimums by {excess:g} in total", excess=mins - cap)))

    # difficulty bands: supply, and the minimums against the paper's length
    bands = blueprint.difficulty.bands
    for band in bands:
        mask = (pool.ratings >= band.rating_min) & (pool.ratings <= band.rating_max)
        what = Message("difficulty {band} (rating {lo}-{hi})", band=band_text(band.name),
                       lo=band.rating_min, hi=band.rating_max)
        count_check(f"band_{band.name}_count", what, mask, band.min_count,
                    relax=("band", band.name, band_label(band)))
    findings += _band_length_checks(blueprint)

    # mean rating and total time reachable at all with n items per paper
    ratings = np.sort(pool.ratings[eligible])
    d = blueprint.difficulty
    if len(ratings) >= n_per_paper > 0:
        lowest = float(ratings[:n_per_paper].mean())
        highest = float(ratings[-n_per_paper:].mean())
        if d.mean_rating_max is not None and lowest > d.mean_rating_max + 1e-9:
            findings.append(Finding(
                "mean_rating_max", "error",
                Message("the mean difficulty rating must be at most {limit:g}, but the {n} "
                        "easiest usable items average {value:.2f}", limit=d.mean_rating_max,
                        n=n_per_paper, value=lowest),
                d.mean_rating_max, lowest,
                Message("a fix: raise the largest mean rating to {value:.2f}", value=lowest),
                _relaxation("mean_rating_max", "mean_rating", "mean", "max", d.mean_rating_max,
                            math.ceil(lowest * 100) / 100, Message("mean difficulty rating"))))
        if d.mean_rating_min is not None and highest < d.mean_rating_min - 1e-9:
            findings.append(Finding(
                "mean_rating_min", "error",
                Message("the mean difficulty rating must be at least {limit:g}, but the {n} "
                        "hardest usable items average {value:.2f}", limit=d.mean_rating_min,
                        n=n_per_paper, value=highest),
                d.mean_rating_min, highest,
                Message("a fix: lower the smallest mean rating to {value:.2f}", value=highest),
                _relaxation("mean_rating_min", "mean_rating", "mean", "min", d.mean_rating_min,
                            math.floor(highest * 100) / 100, Message("mean difficulty rating"))))
    times = np.sort(pool.times[eligible])
    if len(times) >= n_per_paper > 0:
        shortest = float(times[:n_per_paper].sum())
        longest = float(times[-n_per_paper:].sum())
        limits = [("time_max_s", blueprint.time_max_s, "max"), ("time_min_s", blueprint.time_min_s,
                                                               "min")]
        if blueprint.time_total_s is not None:
            tol = blueprint.time_total_tolerance_s
            limits += [("fixed_time", blueprint.time_total_s + tol, "max"),
                       ("fixed_time", blueprint.time_total_s - tol, "min")]
        for row, limit, side in limits:
            if limit is None:
                continue
            if side == "max" and shortest > limit + 1e-9:
                findings.append(Finding(
                    "total_time" if row != "fixed_time" else row, "error",
                    Message("the total time must be at most {limit:g} min, but the {n} quickest "
                            "usable items take {value:g} min", limit=limit / 60, n=n_per_paper,
                            value=round(shortest / 60, 1)),
                    limit, shortest,
                    Message("a fix: allow at least {value:g} min", value=math.ceil(shortest / 60))))
            if side == "min" and longest < limit - 1e-9:
                findings.append(Finding(
                    "total_time" if row != "fixed_time" else row, "error",
                    Message("the total time must be at least {limit:g} min, but the {n} longest "
                            "usable items take {value:g} min", limit=limit / 60, n=n_per_paper,
                            value=round(longest / 60, 1)),
                    limit, longest,
                    Message("a fix: ask for at most {value:g} min", value=math.floor(longest / 60))))

    findings += _include_checks(pool, blueprint, problem, n_forms)
    findings.sort(key=lambda f: (f.severity != "error", f.row))
    return tuple(findings)


def _band_length_checks(blueprint: Blueprint) -> list[Finding]:
    """Band minimums that cannot fit into one paper, and band maximums that cannot fill it.

    Bands whose rating ranges do not overlap count different items, so their minimums add up;
    when such bands cover every rating 1-5 their maximums must reach the paper's length.
    """
    bands = blueprint.difficulty.bands
    n_items = blueprint.n_items
    out: list[Finding] = []
    if not bands:
        return out
    # the largest sum of minimums over bands with disjoint rating ranges (few bands: all subsets)
    best: tuple[float, tuple] = (0.0, ())
    for size in range(1, len(bands) + 1):
        for group in combinations(bands, size):
            ranges = sorted((b.rating_min, b.rating_max) for b in group)
            if all(ranges[i][1] < ranges[i + 1][0] for i in range(len(ranges) - 1)):
                total = float(sum(b.min_count for b in group))
                if total > best[0]:
                    best = (total, group)
    total, group = best
    if total > n_items:
        excess = total - n_items
        largest = max(group, key=lambda b: b.min_count)
        names = [band_text(b.name) for b in group]
        fix_one = largest.min_count >= excess
        out.append(Finding(
            "band_minimums", "error",
            Message("the minimums of the difficulty bands {bands} add up to {total:g} items, "
                    "but a paper has {n} items", bands=names, total=total, n=n_items),
            total, float(n_items),
            Message("a fix: lower these minimums by {excess:g} in total, for example difficulty "
                    "{band} from {old} to {new}", excess=excess, band=band_text(largest.name),
                    old=largest.min_count, new=int(largest.min_count - excess))
            if fix_one else Message("a fix: lower these minimums by {excess:g} in total",
                                    excess=excess),
            _relaxation(f"band_{largest.name}_count", "band", largest.name, "min",
                        float(largest.min_count), float(largest.min_count - excess),
                        band_label(largest)) if fix_one else None))
    covered = set()
    for b in bands:
        covered |= set(range(b.rating_min, b.rating_max + 1))
    ranges = sorted((b.rating_min, b.rating_max) for b in bands)
    disjoint = all(ranges[i][1] < ranges[i + 1][0] for i in range(len(ranges) - 1))
    if disjoint and covered >= {1, 2, 3, 4, 5} and all(b.max_count is not None for b in bands):
        most = float(sum(b.max_count for b in bands))  # type: ignore[misc]
        if most < n_items:
            out.append(Finding(
                "band_maximums", "error",
                Message("the maximums of the difficulty bands add up to {total:g} items, but a "
                        "paper has {n} items", total=most, n=n_items),
                float(n_items), most,
                Message("a fix: raise these maximums by {short:g} in total",
                        short=n_items - most)))
    return out


def _include_checks(pool: Pool, blueprint: Blueprint, problem: Problem, n_forms: int
                    ) -> list[Finding]:
    out: list[Finding] = []
    reasons = problem.reasons
    for item_id in problem.unusable_includes:
        if item_id not in pool.index:
            why: Message = Message("is not in the bank")
        else:
            reason = reasons[pool.index[item_id]]
            why = Message("may not be used ({reason})", reason=reason_text(
                reason or "type_not_in_blueprint", recent=blueprint.exposure.exclude_recent_sessions,
                max_uses=blueprint.exposure.max_uses))
        out.append(Finding(
            f"include:{item_id}", "error",
            Message("item {item} is to be included in every paper but {why}", item=item_id,
                    why=why), None, None,
            Message("a fix: drop item {item} from the items to include", item=item_id),
            RowRelaxation(f"include:{item_id}", "include", item_id, "min", 1.0, 0.0, 1.0,
                          Message("drop item {item} from the items to include", item=item_id))))
    n_include = len(blueprint.include_items)
    k_overlap = blueprint.max_overlap
    if n_include and n_forms > 1 and k_overlap < n_include:
        out.append(Finding(
            "max_overlap", "error",
            Message("{n} items are to be included in every paper, so two papers share at least "
                    "{n}, but the blueprint allows at most {k} shared items", n=n_include,
                    k=k_overlap), float(n_include), float(k_overlap),
            Message("a fix: allow {n} shared items, or include fewer items by hand", n=n_include),
            _relaxation("max_overlap", "overlap", "papers", "max", float(k_overlap),
                        float(n_include), Message("items shared by two papers"), per_paper=False)))
    # included items that are enemies of each other can never share a paper
    included = [pool.index[i] for i in blueprint.include_items if i in pool.index]
    in_set = set(included)
    for i, j in pool.enemy_pairs.tolist():
        if i in in_set and j in in_set:
            out.append(Finding(
                f"include:{pool.ids[i]}+{pool.ids[j]}", "error",
                Message("items {first} and {second} are both to be included in every paper, but "
                        "they are enemies (one gives the other away)", first=pool.ids[i],
                        second=pool.ids[j]), None, None,
                Message("a fix: include only one of {first} and {second}", first=pool.ids[i],
                        second=pool.ids[j]),
                RowRelaxation(f"include:{pool.ids[j]}", "include", pool.ids[j], "min", 1.0, 0.0,
                              1.0, Message("drop item {item} from the items to include",
                                           item=pool.ids[j]))))
    # more items of a type included than the type's count
    per_type = Counter(pool.item_types[i] for i in included)
    counts = {rule.item_type: rule.count for rule in blueprint.item_types}
    for item_type, n in sorted(per_type.items()):
        if item_type in counts and n > counts[item_type]:
            out.append(Finding(
                f"type_{item_type}_count", "error",
                Message("{n} {item_type} items are to be included in every paper, but a paper "
                        "has only {count}", n=n, item_type=item_type_text(item_type),
                        count=counts[item_type]), float(n), float(counts[item_type]),
                Message("a fix: include at most {count} {item_type} items by hand",
                        count=counts[item_type], item_type=item_type_text(item_type))))
    return out


def count_relaxations(findings: Sequence[Finding]) -> tuple[RowRelaxation, ...]:
    """The one-row fixes that the count checks found (not proven the smallest set)."""
    seen: set[str] = set()
    out = []
    for finding in findings:
        rel = finding.relaxation
        if finding.severity == "error" and rel is not None and rel.name not in seen:
            seen.add(rel.name)
            out.append(rel)
    return tuple(out)


def _relaxation(name: str, family: str, key: str, bound: str, target: float, needed: float,
                label: Message, *, exact: bool = False, per_paper: bool = True,
                proven: bool = False) -> RowRelaxation:
    """A relaxation with its sentence: 'difficulty hard: the blueprint asks for at least 20 per
    paper; together with the other rows 16 is possible (off by 4)'. ``bound`` is the side
    that moves ("min" or "max"); ``exact`` for a row that asks for exactly ``target``."""
    shortfall = abs(needed - target)
    if exact:
        asked: Message = Message("exactly {value:g}", value=target)
    elif bound == "min":
        asked = Message("at least {value:g}", value=target)
    else:
        asked = Message("at most {value:g}", value=target)
    if per_paper:
        message = Message("{row}: the blueprint asks for {asked} per paper; together with the "
                          "other rows {needed:g} is possible (off by {shortfall:g})", row=label,
                          asked=asked, needed=needed, shortfall=shortfall)
    else:
        message = Message("{row}: the blueprint asks for {asked}; together with the other rows "
                          "{needed:g} is possible (off by {shortfall:g})", row=label, asked=asked,
                          needed=needed, shortfall=shortfall)
    return RowRelaxation(name, family, key, bound, float(target), float(needed), float(shortfall),
                         message, proven)


# --------------------------------------------------------------------------------------
# Relaxations found by the elastic re-solve or the counts


def relax_blueprint(blueprint: Blueprint, relaxations: Sequence[RowRelaxation]) -> Blueprint:
    """Apply relaxations (from :attr:`AssemblyResult.relaxations`) to a copy of the blueprint.

    Each relaxation moves one bound of one row to the value the elastic re-solve (or the
    counts) needed; the copy keeps the version (the caller stores it as a new version if it
    adopts it).
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
        elif family == "fixed_time":
            total = bp.time_total_s or 0.0
            bp = replace(bp, time_total_tolerance_s=max(bp.time_total_tolerance_s,
                                                        abs(needed - total)))
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
