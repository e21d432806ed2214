"""Compile a blueprint against a pool into arrays: eligibility, units, linear rows.

This is the solver-independent half of the model: every per-paper blueprint rule becomes a
:class:`LinearRow` ``lo <= coeffs @ x_f <= hi`` over *units*, where a unit is an eligible
single item or a whole eligible item set (sets are taken whole, so they enter the model as
one column: van der Linden 2005, ch. 7, "item sets"). The model builder (:mod:`assembly.model`)
turns these arrays into an integer program; the diagnosis uses the same rows for its counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.information import item_information_3pl, probability_3pl
from analysis.messages import Message
from assembly.blueprint import Blueprint, DifficultyBand
from assembly.pool import Pool
from assembly.words import band_text, element_text, item_type_text

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Why an item is not eligible, in the order they are reported (first reason wins); the words
# are in ``assembly.words.reason_text``.
REASONS = (
    "compromised",
    "retired",
    "excluded_by_hand",
    "recently_used",
    "over_used",
    "p_out_of_range",
    "not_calibrated",
    "type_not_in_blueprint",
    "set_not_whole",
    "leaked",
    "enemy_of_leaked",
)


@dataclass(frozen=True)
class LinearRow:
    """One per-paper blueprint row: ``lo <= coeffs @ x <= hi`` with ``x`` over units.

    ``family`` and ``key`` name the blueprint rule (``element``/``B-02``); ``label`` is what
    an administrator reads.
    """

    name: str
    family: str
    key: str
    label: Message
    coeffs: FloatArray  # (n_units,)
    lo: float | None
    hi: float | None


@dataclass(frozen=True)
class Problem:
    """A blueprint compiled against a pool.

    Attributes
    ----------
    reasons : tuple of length n_items; None for eligible items, else a key of ``REASONS``.
    unit_items : tuple of n_units int arrays: the pool indices of each unit, in pool order.
    item_unit : array (n_items,), the unit of each eligible item, -1 otherwise.
    rows : per-paper linear rows.
    information : array (n_thetas, n_units); ``tcc`` : array (n_thetas, n_units), points-weighted.
    ratings, usage : arrays (n_units,): summed expert ratings and past uses.
    counts : array (n_units,), items per unit.
    enemy_units : array (n_pairs, 2) of unit indices that must not share a paper.
    include_units : units that every paper must contain; ``include_keys`` names them by the
        included item ids ("I03+I04" when two included items share a set).
    """

    pool: Pool
    blueprint: Blueprint
    reasons: tuple[str | None, ...]
    unit_items: tuple[IntArray, ...]
    item_unit: IntArray
    rows: tuple[LinearRow, ...]
    thetas: FloatArray
    information: FloatArray
    tcc: FloatArray
    ratings: FloatArray
    counts: FloatArray
    usage: FloatArray
    enemy_units: IntArray
    include_units: tuple[int, ...]
    unusable_includes: tuple[str, ...]
    include_keys: tuple[str, ...] = ()
    set_links: tuple[tuple[int, int], ...] = ()

    @property
    def n_units(self) -> int:
        return len(self.unit_items)

    @property
    def eligible(self) -> BoolArray:
        return np.array([r is None for r in self.reasons], dtype=bool)


def element_coverage(pool: Pool, blueprint: Blueprint) -> dict[str, BoolArray]:
    """For each element rule, which items cover it (own code or a code below it).

    Returns ``{code: bool array (n_items,)}``. Item codes unknown to the blueprint's tree
    cover only rules with exactly that code.
    """
    parents = {rule.code: rule.parent_code for rule in blueprint.elements}
    ancestors: dict[str, set[str]] = {}

    def up(code: str) -> set[str]:
        if code not in ancestors:
            out = {code}
            parent = parents.get(code)
            while parent is not None:
                out.add(parent)
                parent = parents.get(parent)
            ancestors[code] = out
        return ancestors[code]

    cover = {rule.code: np.zeros(pool.n_items, dtype=bool) for rule in blueprint.elements}
    for i, item in enumerate(pool.items):
        for code in item.element_codes:
            for covered in up(code):
                if covered in cover:
                    cover[covered][i] = True
    return cover


def item_reasons(
    pool: Pool, blueprint: Blueprint, extra_reasons: dict[int, str] | None = None
) -> tuple[str | None, ...]:
    """Why each item is ineligible (first reason of ``REASONS``), None when eligible.

    Rules: compromised items never (附件16); exclusions by hand; exposure (used in the last
    ``exclude_recent_sessions`` sessions, or more than ``max_uses`` times); item p range;
    IRT parameters needed when the blueprint has an IRT objective; a set is eligible only when
    all its items are (it is taken whole) and it has no enemy pair inside. ``extra_reasons``
    (item index -> reason key) adds exclusions of the caller, e.g. a leaked paper's items.
    """
    extra_reasons = extra_reasons or {}
    exposure = blueprint.exposure
    d = blueprint.difficulty
    types = {rule.item_type for rule in blueprint.item_types}
    excluded = set(blueprint.exclude_items)
    needs_irt = blueprint.irt.objective != "none" or (
        blueprint.parallel.information_tolerance is not None
        or blueprint.parallel.tcc_tolerance is not None
    )
    calibrated = pool.calibrated
    reasons: list[str | None] = []
    for i, item in enumerate(pool.items):
        reason: str | None = None
        p = pool.p_values[i]
        if i in extra_reasons:
            reason = extra_reasons[i]
        elif item.compromised:
            reason = "compromised"
        elif item.retired:
            reason = "retired"
        elif item.id in excluded:
            reason = "excluded_by_hand"
        elif (
            exposure.exclude_recent_sessions > 0
            and item.last_used_session is not None
            and item.last_used_session > pool.current_session - 1 - exposure.exclude_recent_sessions
        ):
            reason = "recently_used"
        elif exposure.max_uses is not None and item.usage_count > exposure.max_uses:
            reason = "over_used"
        elif not np.isnan(p) and (
            (d.item_p_min is not None and p < d.item_p_min)
            or (d.item_p_max is not None and p > d.item_p_max)
        ):
            reason = "p_out_of_range"
        elif needs_irt and not calibrated[i]:
            reason = "not_calibrated"
        elif item.item_type not in types:
            reason = "type_not_in_blueprint"
        reasons.append(reason)
    # a set is taken whole: one ineligible member, or an enemy pair inside, spoils it
    if pool.set_ids:
        bad_sets = {int(pool.set_indices[i]) for i, r in enumerate(reasons)
                    if r is not None and pool.set_indices[i] >= 0}
        for i, j in pool.enemy_pairs:
            if pool.set_indices[i] >= 0 and pool.set_indices[i] == pool.set_indices[j]:
                bad_sets.add(int(pool.set_indices[i]))
        for i in range(pool.n_items):
            if reasons[i] is None and pool.set_indices[i] in bad_sets:
                reasons[i] = "set_not_whole"
    return tuple(reasons)


def compile_problem(
    pool: Pool,
    blueprint: Blueprint,
    *,
    aggregate_sets: bool = True,
    extra_reasons: dict[int, str] | None = None,
) -> Problem:
    """Eligibility, units and per-paper rows of ``blueprint`` over ``pool``.

    With ``aggregate_sets=False`` (the plain model of the benchmark) every item is its own
    unit and ``set_links`` lists the unit pairs that must share papers.
    """
    reasons = item_reasons(pool, blueprint, extra_reasons)
    eligible = np.array([r is None for r in reasons], dtype=bool)

    # units: singles and whole sets, ordered by their first item so the order is stable
    groups: dict[int, list[int]] = defaultdict(list)
    singles: list[list[int]] = []
    for i in np.flatnonzero(eligible):
        s = int(pool.set_indices[i])
        if s >= 0 and aggregate_sets:
            groups[s].append(int(i))
        else:
            singles.append([int(i)])
    unit_lists = sorted(singles + list(groups.values()), key=lambda members: members[0])
    unit_items = tuple(np.array(members, dtype=np.int64) for members in unit_lists)
    n_units = len(unit_items)
    item_unit = np.full(pool.n_items, -1, dtype=np.int64)
    for u, members in enumerate(unit_items):
        item_unit[members] = u
    members_mask = item_unit >= 0
    member_units = item_unit[members_mask]

    def per_unit(values: FloatArray) -> FloatArray:
        """Sum an item attribute over each unit's items: shape (n_units,)."""
        return np.bincount(member_units, weights=np.nan_to_num(values)[members_mask],
                           minlength=n_units).astype(np.float64)

    counts = per_unit(np.ones(pool.n_items))
    rows: list[LinearRow] = []

    # item types: count and points per type
    for rule in blueprint.item_types:
        is_type = np.array([t == rule.item_type for t in pool.item_types], dtype=np.float64)
        rows.append(LinearRow(
            f"type_{rule.item_type}_count", "type_count", rule.item_type,
            type_count_label(rule.item_type), per_unit(is_type), rule.count, rule.count))
        if rule.points is not None:
            rows.append(LinearRow(
                f"type_{rule.item_type}_points", "type_points", rule.item_type,
                type_points_label(rule.item_type), per_unit(is_type * pool.points),
                rule.points, rule.points))

    # element coverage (scopes and elements of the element table)
    cover = element_coverage(pool, blueprint)
    for rule in blueprint.elements:
        values = cover[rule.code].astype(np.float64)
        if rule.basis == "points":
            values = values * pool.points
        rows.append(LinearRow(
            f"element_{rule.code}_{rule.basis}", "element", rule.code,
            element_label(blueprint, rule.code), per_unit(values),
            rule.min if rule.min > 0 else None, rule.max))

    # difficulty: mean expert rating and mean p as linear rows sum((r_i - lo) x_i) >= 0
    d = blueprint.difficulty
    if d.mean_rating_min is not None:
        rows.append(LinearRow("mean_rating_min", "mean_rating", "min", MEAN_RATING_LABEL,
                              per_unit(pool.ratings - d.mean_rating_min), 0.0, None))
    if d.mean_rating_max is not None:
        rows.append(LinearRow("mean_rating_max", "mean_rating", "max", MEAN_RATING_LABEL,
                              per_unit(d.mean_rating_max - pool.ratings), 0.0, None))
    has_p = ~np.isnan(pool.p_values)
    if d.mean_p_min is not None:
        rows.append(LinearRow("mean_p_min", "mean_p", "min", MEAN_P_LABEL,
                              per_unit(np.where(has_p, pool.p_values - d.mean_p_min, 0.0)),
                              0.0, None))
    if d.mean_p_max is not None:
        rows.append(LinearRow("mean_p_max", "mean_p", "max", MEAN_P_LABEL,
                              per_unit(np.where(has_p, d.mean_p_max - pool.p_values, 0.0)),
                              0.0, None))
    for band in d.bands:
        in_band = ((pool.ratings >= band.rating_min) & (pool.ratings <= band.rating_max))
        rows.append(LinearRow(
            f"band_{band.name}_count", "band", band.name, band_label(band),
            per_unit(in_band.astype(np.float64)),
            band.min_count if band.min_count > 0 else None, band.max_count))

    # total estimated time
    if blueprint.time_min_s is not None or blueprint.time_max_s is not None:
        rows.append(LinearRow("total_time", "time", "total", TIME_LABEL,
                              per_unit(pool.times), blueprint.time_min_s, blueprint.time_max_s))
    # a fixed total time (考核时间, practical papers): every paper and backup is held to it
    if blueprint.time_total_s is not None:
        tol = blueprint.time_total_tolerance_s
        rows.append(LinearRow("fixed_time", "fixed_time", "total",
                              fixed_time_label(blueprint.time_total_s, tol), per_unit(pool.times),
                              max(0.0, blueprint.time_total_s - tol), blueprint.time_total_s + tol))

    # IRT curves per unit
    thetas = np.asarray(blueprint.irt.thetas, dtype=np.float64)
    information = np.zeros((len(thetas), n_units))
    tcc = np.zeros((len(thetas), n_units))
    calibrated = pool.calibrated & eligible
    if len(thetas) and calibrated.any():
        idx = np.flatnonzero(calibrated)
        info_items = np.zeros((len(thetas), pool.n_items))
        tcc_items = np.zeros((len(thetas), pool.n_items))
        for d_value in np.unique(pool.D[idx]):
            sel = idx[pool.D[idx] == d_value]
            info_items[:, sel] = item_information_3pl(
                thetas, pool.a[sel], pool.b[sel], pool.c[sel], D=float(d_value))
            probabilities = probability_3pl(
                thetas, pool.a[sel], pool.b[sel], pool.c[sel], D=float(d_value))
            tcc_items[:, sel] = probabilities * pool.points[sel][None, :]
        information = np.array([per_unit(row) for row in info_items]).reshape(len(thetas), n_units)
        tcc = np.array([per_unit(row) for row in tcc_items]).reshape(len(thetas), n_units)

    enemy_units = []
    for i, j in pool.enemy_pairs:
        u, v = item_unit[i], item_unit[j]
        if u >= 0 and v >= 0 and u != v:
            enemy_units.append((min(u, v), max(u, v)))
    set_links: list[tuple[int, int]] = []
    if not aggregate_sets:
        first_of_set: dict[int, int] = {}
        for u, members in enumerate(unit_items):
            s = int(pool.set_indices[members[0]])
            if s >= 0:
                if s in first_of_set:
                    set_links.append((first_of_set[s], u))
                else:
                    first_of_set[s] = u
    include_units: list[int] = []
    include_ids: list[list[str]] = []
    unusable: list[str] = []
    for item_id in blueprint.include_items:
        i = pool.index.get(item_id)
        if i is None or item_unit[i] < 0:
            unusable.append(item_id)
        elif int(item_unit[i]) not in include_units:
            include_units.append(int(item_unit[i]))
            include_ids.append([item_id])
        else:
            include_ids[include_units.index(int(item_unit[i]))].append(item_id)
    return Problem(
        pool=pool,
        blueprint=blueprint,
        reasons=reasons,
        unit_items=unit_items,
        item_unit=item_unit,
        rows=tuple(rows),
        thetas=thetas,
        information=information,
        tcc=tcc,
        ratings=per_unit(pool.ratings),
        counts=counts,
        usage=per_unit(pool.usage_counts.astype(np.float64)),
        enemy_units=np.array(sorted(set(enemy_units)), dtype=np.int64).reshape(-1, 2),
        include_units=tuple(include_units),
        include_keys=tuple("+".join(ids) for ids in include_ids),
        unusable_includes=tuple(unusable),
        set_links=tuple(set_links),
    )



# --------------------------------------------------------------------------------------
# Row labels, as a bank manager says them (shared with the independent checker)

MEAN_RATING_LABEL = Message("mean difficulty rating (expert rating 1-5)")
MEAN_P_LABEL = Message("mean classical difficulty p (items with p)")
TIME_LABEL = Message("total estimated answering time (s)")


def type_count_label(item_type: str) -> Message:
    return Message("{item_type} items: number", item_type=item_type_text(item_type))


def type_points_label(item_type: str) -> Message:
    return Message("{item_type} items: points", item_type=item_type_text(item_type))


def element_label(blueprint: Blueprint, code: str) -> Message:
    rule = next((r for r in blueprint.elements if r.code == code), None)
    if rule is None:
        return Message("{element}: items", element=element_text(code))
    named = element_text(code, rule.name, scope=rule.importance is None and any(
        r.parent_code == code for r in blueprint.elements))
    if rule.basis == "points":
        return Message("{element}: points", element=named)
    return Message("{element}: items", element=named)


def element_name(blueprint: Blueprint, code: str) -> Message:
    """鉴定点 A-01-01 电工安全用具 / 鉴定范围 A for a blueprint row."""
    rule = next((r for r in blueprint.elements if r.code == code), None)
    scope = rule is not None and rule.importance is None and any(
        r.parent_code == code for r in blueprint.elements)
    return element_text(code, rule.name if rule else None, scope=scope)


def band_label(band: DifficultyBand) -> Message:
    return Message("difficulty {band} (rating {lo}-{hi}): items", band=band_text(band.name),
                   lo=band.rating_min, hi=band.rating_max)


def fixed_time_label(total_s: float, tolerance_s: float) -> Message:
    if tolerance_s > 0:
        return Message("time of the tasks against the fixed time of {minutes:g} min "
                       "(within {tolerance:g} min) (s)", minutes=total_s / 60,
                       tolerance=tolerance_s / 60)
    return Message("time of the tasks against the fixed time of {minutes:g} min (s)",
                   minutes=total_s / 60)


def information_label(theta: float) -> Message:
    return Message("test information at θ = {theta:g}", theta=float(theta))


def tcc_label(theta: float) -> Message:
    return Message("expected score at θ = {theta:g}", theta=float(theta))
