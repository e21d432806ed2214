"""Blueprints from the element table, and the standard blueprint of each level.

:func:`derive_blueprint` turns the element table (认定要素细目表: scopes down to elements, each
with a weight 鉴定比重 in % and elements with an importance X/Y/Z) into coverage rows: each
scope's and element's share of the paper is its weight, within a tolerance; X (core) elements
are always covered.

:func:`standard_blueprint` gives the house standard per level and part: levels 五-三 theory
mainly objective items, levels 二-一 theory objective and subjective items (附件1 第16条);
theory and practical each on a 100-point scale (附件1 第25条); practical papers are a few
practical tasks adding up to 100 points.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assembly.blueprint import (
    Blueprint,
    DifficultyBand,
    DifficultyRule,
    ElementRule,
    ExposureRule,
    IrtRule,
    ParallelRule,
    TypeRule,
    validate_blueprint,
)
from assembly.errors import InvalidBlueprintError

_WEIGHT_TOLERANCE = 0.5  # percentage points: children's weights must add up to the parent's


@dataclass(frozen=True, slots=True)
class ElementRow:
    """One row of the element table as plain data (scopes have importance None)."""

    code: str
    parent_code: str | None
    weight: float
    importance: str | None = None
    name: str | None = None


def _as_rows(rows: Iterable[Any]) -> list[ElementRow]:
    out = []
    for k, row in enumerate(rows):
        if isinstance(row, ElementRow):
            out.append(row)
        elif isinstance(row, Mapping):
            try:
                out.append(ElementRow(row["code"], row.get("parent_code"), row["weight"],
                                      row.get("importance"), row.get("name")))
            except KeyError as exc:
                raise InvalidBlueprintError(f"element row {k}: missing field {exc.args[0]!r}") from None
        elif isinstance(row, Sequence) and len(row) in (3, 4, 5):
            out.append(ElementRow(*row))
        else:
            raise InvalidBlueprintError(
                f"element row {k}: expected (code, parent_code, weight, importance), got {row!r}")
    return out


def _check_table(rows: list[ElementRow]) -> set[str]:
    """Validate the tree and weights; return the codes of the leaves (elements)."""
    codes: dict[str, ElementRow] = {}
    for k, row in enumerate(rows):
        if not isinstance(row.code, str) or not row.code:
            raise InvalidBlueprintError(f"element row {k}: code must be a non-empty string")
        if row.code in codes:
            raise InvalidBlueprintError(f"element {row.code}: listed twice")
        if isinstance(row.weight, bool) or not isinstance(row.weight, (int, float)) \
                or not math.isfinite(row.weight) or not 0 <= row.weight <= 100:
            raise InvalidBlueprintError(f"element {row.code}: weight must be 0..100 %, "
                                        f"got {row.weight!r}")
        codes[row.code] = row
    children: dict[str | None, list[ElementRow]] = {}
    for row in rows:
        if row.parent_code is not None and row.parent_code not in codes:
            raise InvalidBlueprintError(f"element {row.code}: parent {row.parent_code!r} "
                                        f"is not in the table")
        children.setdefault(row.parent_code, []).append(row)
    if not children.get(None):
        raise InvalidBlueprintError("element table: no top-level scope")
    for parent, kids in children.items():
        total = sum(kid.weight for kid in kids)
        expected = 100.0 if parent is None else codes[parent].weight
        if abs(total - expected) > _WEIGHT_TOLERANCE:
            where = "top-level scopes" if parent is None else f"children of {parent}"
            raise InvalidBlueprintError(f"element table: weights of the {where} add up to "
                                        f"{total:g} %, expected {expected:g} %")
    leaves = {row.code for row in rows if row.code not in children}
    for row in rows:
        if row.code in leaves and row.importance not in ("X", "Y", "Z"):
            raise InvalidBlueprintError(f"element {row.code}: an element needs importance "
                                        f"X, Y or Z, got {row.importance!r}")
        if row.code not in leaves and row.importance is not None:
            raise InvalidBlueprintError(f"element {row.code}: a scope has no importance, "
                                        f"got {row.importance!r}")
    return leaves


def derive_blueprint(
    element_rows: Iterable[Any],
    item_types: Sequence[TypeRule],
    *,
    name: str,
    version: int = 1,
    level: int | None = None,
    part: str = "theory",
    basis: str = "count",
    tolerance: float = 0.25,
    min_tolerance: float = 1.0,
    difficulty: DifficultyRule | None = None,
    irt: IrtRule | None = None,
    parallel: ParallelRule | None = None,
    time_min_s: float | None = None,
    time_max_s: float | None = None,
    time_total_s: float | None = None,
    exposure: ExposureRule | None = None,
    max_overlap: int = 0,
    note: str = "",
) -> Blueprint:
    """Blueprint whose coverage rows come from the element table's weights.

    For each scope and element with weight w (%), the expected share is
    ``E = total * w / 100`` (total = items per paper, or points with ``basis="points"``);
    the row allows ``[ceil(E - s), floor(E + s)]`` with ``s = max(min_tolerance * step,
    tolerance * E)``, never below 0, where ``step`` is 1 item (count basis) or the points of the
    largest item (points basis); X elements get at least one item (always covered).

    Parameters
    ----------
    element_rows : rows (code, parent code or None, weight %, importance X/Y/Z or None for
        scopes) as :class:`ElementRow`, dicts or tuples.
    item_types : count (and points) per type.
    Other parameters fill the blueprint fields of the same name.

    Raises
    ------
    InvalidBlueprintError naming the element when the table is malformed (weights not adding
    up, elements without importance), or when more X elements must be covered than the paper
    has items.
    """
    rows = _as_rows(element_rows)
    leaves = _check_table(rows)
    if basis not in ("count", "points"):
        raise InvalidBlueprintError(f"basis must be 'count' or 'points', got {basis!r}")
    if tolerance < 0 or min_tolerance < 0:
        raise InvalidBlueprintError("tolerance and min_tolerance must be >= 0")
    types = tuple(item_types)
    n_items = sum(rule.count for rule in types)
    if basis == "points":
        if any(rule.points is None for rule in types):
            raise InvalidBlueprintError("basis 'points' needs the points of every item type")
        total = float(sum(rule.points for rule in types))  # type: ignore[misc]
    else:
        total = float(n_items)
    n_core = sum(1 for row in rows if row.code in leaves and row.importance == "X")
    if n_core > n_items:
        raise InvalidBlueprintError(f"element table: {n_core} X elements must each be covered, "
                                    f"but a paper has only {n_items} items")
    # on a points basis the smallest step is the largest item's points, not one point
    step = smallest = 1.0
    if basis == "points":
        per_item = [float(rule.points) / rule.count for rule in types]  # type: ignore[arg-type]
        step, smallest = max(per_item), min(per_item)
    rules = []
    for row in rows:
        expected = total * row.weight / 100.0
        slack = max(min_tolerance * step, tolerance * expected)
        lo = max(0.0, math.ceil(expected - slack - 1e-9))
        hi = float(math.floor(expected + slack + 1e-9))
        if row.code in leaves and row.importance == "X":
            lo = max(lo, smallest)  # at least one item (its points on a points basis)
            hi = max(hi, lo)
        rules.append(ElementRule(code=row.code, min=float(lo), max=hi, basis=basis,
                                 parent_code=row.parent_code, importance=row.importance,
                                 weight=float(row.weight), name=row.name or None))
    return validate_blueprint(Blueprint(
        name=name, version=version, item_types=types, part=part, level=level,
        elements=tuple(rules), difficulty=difficulty or DifficultyRule(),
        irt=irt or IrtRule(), parallel=parallel or ParallelRule(), time_min_s=time_min_s,
        time_max_s=time_max_s, time_total_s=time_total_s, exposure=exposure or ExposureRule(), max_overlap=max_overlap,
        note=note))


# --------------------------------------------------------------------------------------
# Standard blueprints per level (附件1 第16条: 五-三 objective; 二-一 objective + subjective)

STANDARD_THEORY_MIX: dict[int, tuple[TypeRule, ...]] = {
    5: (TypeRule("single_choice", 80, 80.0), TypeRule("true_false", 20, 20.0)),
    4: (TypeRule("single_choice", 60, 60.0), TypeRule("true_false", 20, 20.0),
        TypeRule("multiple_choice", 10, 20.0)),
    3: (TypeRule("single_choice", 50, 50.0), TypeRule("true_false", 10, 10.0),
        TypeRule("multiple_choice", 20, 40.0)),
    2: (TypeRule("single_choice", 40, 40.0), TypeRule("true_false", 10, 10.0),
        TypeRule("multiple_choice", 10, 20.0), TypeRule("short_answer", 4, 20.0),
        TypeRule("essay", 1, 10.0)),
    1: (TypeRule("single_choice", 30, 30.0), TypeRule("true_false", 10, 10.0),
        TypeRule("multiple_choice", 10, 20.0), TypeRule("short_answer", 2, 10.0),
        TypeRule("calculation", 2, 10.0), TypeRule("essay", 1, 20.0)),
}
STANDARD_PRACTICAL_TASKS: dict[int, int] = {5: 3, 4: 3, 3: 4, 2: 4, 1: 4}
# mean expert rating window per level (1 easiest .. 5 hardest): harder papers at higher levels
STANDARD_RATING: dict[int, tuple[float, float]] = {
    5: (2.2, 3.2), 4: (2.4, 3.4), 3: (2.6, 3.6), 2: (2.8, 3.8), 1: (3.0, 4.0)}
STANDARD_TIME_S: dict[str, dict[int, float]] = {
    "theory": {5: 5400.0, 4: 5400.0, 3: 5400.0, 2: 7200.0, 1: 7200.0},
    "practical": {5: 14400.0, 4: 14400.0, 3: 14400.0, 2: 18000.0, 1: 18000.0},
}
# 考核时间 of a practical paper (house standard): fixed, so that every paper and backup is held
# to it and main and backup papers take the same time; the tasks' own times (附件2) add up to it
STANDARD_PRACTICAL_TIME_S: dict[int, float] = {5: 10800.0, 4: 10800.0, 3: 14400.0, 2: 14400.0, 1: 14400.0}
STANDARD_THETAS = (-1.0, 0.0, 1.0)


def standard_blueprint(
    level: int,
    element_rows: Iterable[Any],
    *,
    part: str = "theory",
    name: str | None = None,
    version: int = 1,
    objective: str | None = None,
    max_overlap: int = 0,
    tolerance: float = 0.25,
    note: str = "standard blueprint (附件1 第16条, 第25条)",
) -> Blueprint:
    """The house standard blueprint for one level (5..1) and part ("theory"/"practical").

    Theory 五级: 80 single choice + 20 true/false x 1 point; 四级 and 三级 add multiple choice
    (2 points); 二级 and 一级 mix in short answer, calculation and essay items (附件1 第16条).
    Practical: 3 or 4 practical tasks adding up to 100 points and to the level's fixed time
    (``STANDARD_PRACTICAL_TIME_S``: 180 min at levels 五-四, 240 min at 三-一), the same for
    every paper and backup. Element coverage comes from
    ``element_rows`` (:func:`derive_blueprint`; points basis where item points differ), mean
    expert rating within a level window, three difficulty bands, papers' mean ratings within
    0.2 of each other, items used in the last session excluded, less used items preferred.
    ``objective`` defaults to maximin information at theta -1, 0, 1 for levels 五-三 theory
    (objective, calibrated items) and to none otherwise.
    """
    if level not in STANDARD_THEORY_MIX:
        raise InvalidBlueprintError(f"level must be 1..5, got {level!r}")
    if part not in ("theory", "practical"):
        raise InvalidBlueprintError(f"part must be 'theory' or 'practical', got {part!r}")
    if part == "theory":
        types = STANDARD_THEORY_MIX[level]
        n_items = sum(rule.count for rule in types)
        basis = "count" if all(rule.points == rule.count for rule in types) else "points"
    else:
        n_items = STANDARD_PRACTICAL_TASKS[level]
        types = (TypeRule("practical_task", n_items, 100.0),)
        basis = "count"
    if objective is None:
        objective = "maximin" if (part == "theory" and level >= 3) else "none"
    lo, hi = STANDARD_RATING[level]
    bands: tuple[DifficultyBand, ...] = ()
    if n_items >= 20:
        bands = (
            DifficultyBand("easy", 1, 2, min_count=int(0.15 * n_items)),
            DifficultyBand("medium", 3, 3, min_count=int(0.3 * n_items)),
            DifficultyBand("hard", 4, 5, min_count=int(0.1 * n_items)),
        )
    irt = IrtRule(objective=objective, thetas=STANDARD_THETAS) if objective != "none" \
        else IrtRule()
    return derive_blueprint(
        element_rows, types,
        name=name or f"standard {part} level {level}", version=version, level=level, part=part,
        basis=basis, tolerance=tolerance,
        difficulty=DifficultyRule(mean_rating_min=lo, mean_rating_max=hi, bands=bands),
        irt=irt,
        parallel=ParallelRule(mean_rating_tolerance=0.2 if n_items >= 20 else None),
        time_max_s=STANDARD_TIME_S[part][level] if part == "theory" else None,
        time_total_s=STANDARD_PRACTICAL_TIME_S[level] if part == "practical" else None,
        exposure=ExposureRule(exclude_recent_sessions=1,
                              usage_weight=0.0005 if objective != "none" else 0.01),
        max_overlap=max_overlap,
        note=note)
