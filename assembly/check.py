"""Independent checker: do these papers meet this blueprint? No solver, no model code.

Written separately from the model builder on purpose (it re-derives element coverage,
eligibility and every row from the pool and the blueprint) so that tests and the item bank
can trust a paper without trusting the solver. Used to fill every result's achieved-vs-target
table and to re-check a stored paper later against its pool snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import combinations

import numpy as np

from analysis.information import item_information_3pl, probability_3pl
from analysis.messages import Message
from assembly.blueprint import Blueprint, validate_blueprint
from assembly.errors import InvalidFormsError
from assembly.pool import Pool
from assembly.problem import (
    MEAN_P_LABEL,
    MEAN_RATING_LABEL,
    TIME_LABEL,
    band_label,
    element_label,
    fixed_time_label,
    information_label,
    tcc_label,
    type_count_label,
    type_points_label,
)
from assembly.results import CheckReport, PaperCheck, Parallelism, RowCheck
from assembly.words import paper_text, reason_text

_EPS = 1e-6


def _within(value: float, lo: float | None, hi: float | None) -> bool:
    if lo is not None and value < lo - _EPS * max(1.0, abs(lo)):
        return False
    if hi is not None and value > hi + _EPS * max(1.0, abs(hi)):
        return False
    return True


def _row(name: str, family: str, key: str, label: Message, value: float,
         lo: float | None, hi: float | None, hard: bool = True) -> RowCheck:
    return RowCheck(name, family, key, label, float(value), lo, hi,
                    _within(value, lo, hi) if hard else None)


def _covered_codes(codes: Iterable[str], parents: dict[str, str | None]) -> set[str]:
    out: set[str] = set()
    for code in codes:
        while code is not None and code not in out:
            out.add(code)
            code = parents.get(code)  # type: ignore[assignment]
    return out


def _ineligibility(pool: Pool, bp: Blueprint, i: int) -> Message | None:
    item = pool.items[i]
    n_recent = bp.exposure.exclude_recent_sessions
    if item.compromised:
        return reason_text("compromised")
    if item.retired:
        return reason_text("retired")
    if item.id in bp.exclude_items:
        return reason_text("excluded_by_hand")
    if n_recent and item.last_used_session is not None and \
            pool.current_session - item.last_used_session <= n_recent:
        return reason_text("recently_used", recent=n_recent)
    if bp.exposure.max_uses is not None and item.usage_count > bp.exposure.max_uses:
        return reason_text("over_used", max_uses=bp.exposure.max_uses)
    d = bp.difficulty
    if item.p_value is not None and (
        (d.item_p_min is not None and item.p_value < d.item_p_min)
        or (d.item_p_max is not None and item.p_value > d.item_p_max)
    ):
        return reason_text("p_out_of_range")
    needs_irt = bp.irt.objective != "none" or bp.parallel.information_tolerance is not None \
        or bp.parallel.tcc_tolerance is not None
    if needs_irt and (item.a is None or item.b is None):
        return reason_text("not_calibrated")
    return None


def check_forms(
    pool: Pool,
    blueprint: Blueprint,
    forms: Sequence[Sequence[str]],
    *,
    sealed: Iterable[int] = (),
) -> CheckReport:
    """Check every paper against every blueprint row, and the papers against each other.

    Parameters
    ----------
    pool : the pool (snapshot) the papers were drawn from.
    blueprint : the blueprint they must meet.
    forms : item ids of each paper.
    sealed : indices of papers sealed earlier (e.g. the main forms when backups are added
        later, or the other papers after a leak): their items' eligibility is not re-checked,
        since the items' usage has moved on since they were sealed.

    Returns
    -------
    CheckReport with one :class:`PaperCheck` per paper, the cross-paper rows (overlap,
    parallelism), the parallelism figures and a list of violations in words.
    """
    validate_blueprint(blueprint)
    sealed_set = set(sealed)
    idx_forms: list[list[int]] = []
    for f, form in enumerate(forms):
        indices = []
        for item_id in form:
            if item_id not in pool.index:
                raise InvalidFormsError(f"paper {f}: item {item_id!r} is not in the pool")
            indices.append(pool.index[item_id])
        idx_forms.append(indices)
    parents = {rule.code: rule.parent_code for rule in blueprint.elements}
    thetas = np.asarray(blueprint.irt.thetas, dtype=np.float64)
    enemies = {(min(i, j), max(i, j)) for i, j in pool.enemy_pairs.tolist()}
    set_members: dict[str, set[int]] = {}
    for i, item in enumerate(pool.items):
        if item.set_id is not None:
            set_members.setdefault(item.set_id, set()).add(i)

    papers: list[PaperCheck] = []
    infos: list[np.ndarray] = []
    tccs: list[np.ndarray] = []
    means: list[float] = []
    for f, indices in enumerate(idx_forms):
        items = [pool.items[i] for i in indices]
        chosen = set(indices)
        rows: list[RowCheck] = []
        rows.append(_row("duplicate_items", "integrity", "duplicates",
                         Message("items listed twice"), len(indices) - len(chosen), None, 0))
        types = {rule.item_type for rule in blueprint.item_types}
        rows.append(_row("other_types", "type_count", "other",
                         Message("items of a type the blueprint does not ask for"),
                         sum(item.item_type not in types for item in items), None, 0))
        for rule in blueprint.item_types:
            of_type = [item for item in items if item.item_type == rule.item_type]
            rows.append(_row(f"type_{rule.item_type}_count", "type_count", rule.item_type,
                             type_count_label(rule.item_type), len(of_type),
                             rule.count, rule.count))
            if rule.points is not None:
                rows.append(_row(f"type_{rule.item_type}_points", "type_points", rule.item_type,
                                 type_points_label(rule.item_type),
                                 sum(item.points for item in of_type), rule.points, rule.points))
        coverage = [_covered_codes(item.element_codes, parents) for item in items]
        for rule in blueprint.elements:
            value = sum((item.points if rule.basis == "points" else 1.0)
                        for item, codes in zip(items, coverage) if rule.code in codes)
            rows.append(_row(f"element_{rule.code}_{rule.basis}", "element", rule.code,
                             element_label(blueprint, rule.code),
                             value, rule.min if rule.min > 0 else None, rule.max))
        d = blueprint.difficulty
        mean_rating = float(np.mean([item.rating for item in items])) if items else 0.0
        means.append(mean_rating)
        if d.mean_rating_min is not None or d.mean_rating_max is not None:
            rows.append(_row("mean_rating", "mean_rating", "mean", MEAN_RATING_LABEL,
                             mean_rating, d.mean_rating_min, d.mean_rating_max))
        if d.mean_p_min is not None or d.mean_p_max is not None:
            ps = [item.p_value for item in items if item.p_value is not None]
            mean_p = float(np.mean(ps)) if ps else (d.mean_p_min or 0.0)
            rows.append(_row("mean_p", "mean_p", "mean", MEAN_P_LABEL,
                             mean_p, d.mean_p_min, d.mean_p_max))
        for band in d.bands:
            n_band = sum(band.rating_min <= item.rating <= band.rating_max for item in items)
            rows.append(_row(f"band_{band.name}_count", "band", band.name,
                             band_label(band), n_band,
                             band.min_count if band.min_count > 0 else None, band.max_count))
        if blueprint.time_min_s is not None or blueprint.time_max_s is not None:
            rows.append(_row("total_time", "time", "total", TIME_LABEL,
                             sum(item.time_s for item in items),
                             blueprint.time_min_s, blueprint.time_max_s))
        if blueprint.time_total_s is not None:
            tol = blueprint.time_total_tolerance_s
            rows.append(_row("fixed_time", "fixed_time", "total",
                             fixed_time_label(blueprint.time_total_s, tol),
                             sum(item.time_s for item in items),
                             max(0.0, blueprint.time_total_s - tol), blueprint.time_total_s + tol))
        if f not in sealed_set:
            bad = [(item.id, _ineligibility(pool, blueprint, i)) for i, item in zip(indices, items)]
            bad = [(item_id, why) for item_id, why in bad if why is not None]
            label = Message("items that may not be used")
            if bad:
                label = Message("items that may not be used: {items}", items=[
                    Message("{item} ({why})", item=a, why=b) for a, b in bad[:5]])
            rows.append(_row("ineligible_items", "eligibility", "items", label, len(bad), None, 0))
        missing = [item_id for item_id in blueprint.include_items
                   if item_id not in {item.id for item in items}]
        if blueprint.include_items:
            rows.append(_row("include_items", "include", "items",
                             Message("items to include that are missing")
                             if not missing else Message("items to include that are missing: "
                                                         "{items}", items=missing[:5]),
                             len(missing), None, 0))
        broken = sorted(s for s, members in set_members.items()
                        if members & chosen and not members <= chosen)
        rows.append(_row("sets_whole", "set", "sets",
                         Message("item sets not taken whole: {sets}", sets=broken[:5]) if broken
                         else Message("item sets not taken whole"), len(broken), None, 0))
        pairs = [(pool.ids[i], pool.ids[j]) for i, j in combinations(sorted(chosen), 2)
                 if (min(i, j), max(i, j)) in enemies]
        rows.append(_row("enemies", "enemy", "pairs",
                         Message("enemy pairs in the paper: {pairs}", pairs=[
                             Message("{first} and {second}", first=a, second=b)
                             for a, b in pairs[:5]]) if pairs
                         else Message("enemy pairs in the paper"), len(pairs), None, 0))
        if len(thetas):
            sel = np.array(indices, dtype=np.int64)
            calibrated = sel[~(np.isnan(pool.a[sel]) | np.isnan(pool.b[sel]))]
            info = np.zeros(len(thetas))
            tcc = np.zeros(len(thetas))
            for i in calibrated:
                info += item_information_3pl(thetas, pool.a[i], pool.b[i], pool.c[i],
                                             D=float(pool.D[i]))[:, 0]
                tcc += probability_3pl(thetas, pool.a[i], pool.b[i], pool.c[i],
                                       D=float(pool.D[i]))[:, 0] * pool.points[i]
            infos.append(info)
            tccs.append(tcc)
            irt = blueprint.irt
            for k, theta in enumerate(thetas):
                target = None
                if irt.objective == "target_information":
                    target = irt.targets[k]
                rows.append(_row(f"information_theta{k}", "information", f"{theta:g}",
                                 information_label(theta), info[k],
                                 target, target, hard=False))
                target = irt.targets[k] if irt.objective == "target_tcc" else None
                rows.append(_row(f"tcc_theta{k}", "tcc", f"{theta:g}",
                                 tcc_label(theta), tcc[k],
                                 target, target, hard=False))
        papers.append(PaperCheck(f, tuple(rows)))

    # cross-paper rows: overlap and parallelism
    cross: list[RowCheck] = []
    max_overlap = 0
    sets = [set(indices) for indices in idx_forms]
    for f, g in combinations(range(len(sets)), 2):
        shared = len(sets[f] & sets[g])
        max_overlap = max(max_overlap, shared)
        cross.append(_row(f"overlap_form{f}_form{g}", "overlap", f"{f}-{g}",
                          Message("items shared by {first} and {second}",
                                  first=paper_text(f), second=paper_text(g)), shared, None,
                          blueprint.max_overlap))
    p = blueprint.parallel
    info_spread: tuple[float, ...] = ()
    tcc_spread: tuple[float, ...] = ()
    if infos:
        info_arr = np.array(infos)
        tcc_arr = np.array(tccs)
        info_spread = tuple(float(v) for v in info_arr.max(axis=0) - info_arr.min(axis=0))
        tcc_spread = tuple(float(v) for v in tcc_arr.max(axis=0) - tcc_arr.min(axis=0))
        for k, theta in enumerate(thetas):
            cross.append(_row(f"parallel_information_theta{k}", "parallel_information",
                              f"{theta:g}", Message("largest difference in test information "
                                                    "between papers at θ = {theta:g}",
                                                    theta=float(theta)),
                              info_spread[k], None, p.information_tolerance,
                              hard=p.information_tolerance is not None))
            cross.append(_row(f"parallel_tcc_theta{k}", "parallel_tcc", f"{theta:g}",
                              Message("largest difference in expected score between papers "
                                      "at θ = {theta:g}", theta=float(theta)),
                              tcc_spread[k], None, p.tcc_tolerance,
                              hard=p.tcc_tolerance is not None))
    rating_spread = float(max(means) - min(means)) if means else 0.0
    cross.append(_row("parallel_mean_rating", "parallel_mean_rating", "mean",
                      Message("largest difference in mean difficulty rating between papers"),
                      rating_spread, None, p.mean_rating_tolerance,
                      hard=p.mean_rating_tolerance is not None))
    violations: list[Message] = []
    for paper in papers:
        for row in paper.rows:
            if row.ok is False:
                violations.append(Message("{paper}: {row} is {value:g}; allowed: {allowed}",
                                          paper=paper_text(paper.paper), row=row.label,
                                          value=row.achieved, allowed=_bounds(row.lo, row.hi)))
    for row in cross:
        if row.ok is False:
            violations.append(Message("{row} is {value:g}; allowed: {allowed}", row=row.label,
                                      value=row.achieved, allowed=_bounds(row.lo, row.hi)))
    parallelism = Parallelism(
        thetas=tuple(float(t) for t in thetas),
        information=tuple(tuple(float(v) for v in info) for info in infos),
        information_spread=info_spread,
        max_information_spread=max(info_spread) if info_spread else 0.0,
        tcc_spread=tcc_spread,
        mean_ratings=tuple(means),
        mean_rating_spread=rating_spread,
        max_overlap=max_overlap,
    )
    return CheckReport(tuple(papers), tuple(cross), parallelism, tuple(violations))


def _bounds(lo: float | None, hi: float | None) -> Message:
    if lo is not None and hi is not None:
        if lo == hi:
            return Message("exactly {value:g}", value=lo)
        return Message("{lo:g} to {hi:g}", lo=lo, hi=hi)
    if lo is not None:
        return Message("at least {value:g}", value=lo)
    return Message("at most {value:g}", value=hi)
