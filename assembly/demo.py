"""Synthetic demo banks: a plausible element table and item pool per level and part.

Used by the tests (each level's standard blueprint must assemble from its demo bank) and by
``bench/assembly.py`` (the 1,200- and 10,000-item benchmark banks). Everything is drawn from a
seeded ``np.random.default_rng``; the same arguments give the same bank. Bank sizes follow the
minimums of 附件11 第7条 (theory >= 1200 items, practical >= 20 tasks).
"""

from __future__ import annotations

import numpy as np

from assembly.blueprint import (
    Blueprint,
    DifficultyBand,
    DifficultyRule,
    ElementRule,
    IrtRule,
    TypeRule,
    validate_blueprint,
)
from assembly.pool import Pool, PoolItem
from assembly.presets import STANDARD_THEORY_MIX, ElementRow

_TIME_S = {"single_choice": 40.0, "true_false": 20.0, "multiple_choice": 60.0,
           "short_answer": 600.0, "calculation": 600.0, "essay": 1200.0,
           "practical_task": 3000.0}
_POINTS = {"single_choice": 1.0, "true_false": 1.0, "multiple_choice": 2.0,
           "short_answer": 5.0, "calculation": 5.0, "essay": 10.0}
_GUESSING = {"single_choice": 0.2, "true_false": 0.3, "multiple_choice": 0.05}


def demo_element_rows(part: str = "theory", *, n_scopes: int = 8,
                      elements_per_scope: int = 4) -> tuple[ElementRow, ...]:
    """An element table: ``n_scopes`` scopes (A, B, ...) of ``elements_per_scope`` elements
    (A-01, ...), weights in whole percent adding up to 100, importance X/Y/Z by position."""
    if part == "practical":
        n_scopes, elements_per_scope = 4, 1
    base = [100 // n_scopes + (1 if k < 100 % n_scopes else 0) for k in range(n_scopes)]
    rows: list[ElementRow] = []
    for k, scope_weight in enumerate(base):
        scope = chr(ord("A") + k)
        rows.append(ElementRow(scope, None, float(scope_weight), None))
        share = [scope_weight / elements_per_scope] * elements_per_scope
        for e in range(elements_per_scope):
            importance = ("X", "Y", "Y", "Z")[e % 4] if part == "theory" else ("X", "Y")[k % 2]
            rows.append(ElementRow(f"{scope}-{e + 1:02d}", scope, round(share[e], 4), importance))
    return tuple(rows)


def _draw_items(rng: np.random.Generator, item_type: str, n: int, start: int,
                elements: list[str], element_p: np.ndarray, b_shift: float,
                calibrated: bool, points: float | None = None) -> list[PoolItem]:
    items = []
    ratings = np.clip(np.round(rng.normal(3.0 + 0.4 * b_shift, 1.0, n)), 1, 5).astype(int)
    for k in range(n):
        rating = int(ratings[k])
        b = float(rng.normal(b_shift + 0.6 * (rating - 3), 0.5))
        a = float(np.exp(rng.normal(0.1, 0.3)))
        used = int(rng.poisson(1.5))
        last = int(rng.integers(0, 10)) if used else None
        items.append(PoolItem(
            id=f"{item_type[:2].upper()}{start + k:05d}",
            item_type=item_type,
            points=points if points is not None else _POINTS.get(item_type, 1.0),
            element_codes=(str(rng.choice(elements, p=element_p)),),
            time_s=_TIME_S[item_type] * float(rng.uniform(0.8, 1.2)),
            rating=rating,
            p_value=float(np.clip(0.85 - 0.12 * (rating - 1) + rng.normal(0, 0.05), 0.05, 0.98)),
            a=a if calibrated else None,
            b=b if calibrated else None,
            c=_GUESSING.get(item_type, 0.0) if calibrated else 0.0,
            usage_count=used,
            last_used_session=last,
            compromised=bool(rng.random() < 0.01),
        ))
    return items


def demo_pool(level: int, part: str = "theory", *, n_items: int = 1200, seed: int = 0,
              n_enemy_pairs: int = 60, n_sets: int = 10) -> tuple[Pool, tuple[ElementRow, ...]]:
    """A demo bank for one level and part: the pool and its element table.

    Theory: ``n_items`` items of the level's standard types, in proportion to the standard mix
    with extra subjective items; objective items calibrated (3PL), subjective ones not; some
    four-item case sets and enemy pairs. Practical: 30 practical tasks of 20-50 points taking
    30, 60 or 90 minutes (levels 5-4; 45, 60 or 75 at levels 3-1).
    The current session is 10; items were used in sessions 0-9.
    """
    rng = np.random.default_rng(seed * 1000 + level * 10 + (part == "practical"))
    rows = demo_element_rows(part)
    leaves = [row for row in rows if row.parent_code is not None]
    elements = [row.code for row in leaves]
    weights = np.array([row.weight for row in leaves])
    element_p = weights / weights.sum()
    b_shift = (3 - level) * 0.3
    items: list[PoolItem] = []
    if part == "practical":
        n_tasks = 30
        # three tasks or four tasks make 100 points (standard_blueprint)
        choices = [20.0, 30.0, 40.0, 50.0] if level >= 4 else [15.0, 20.0, 25.0, 30.0, 35.0]
        points = rng.choice(choices, size=n_tasks)
        # each task's own time (附件2): mostly an hour; papers add up to the level's fixed time
        minutes = rng.choice([30.0, 60.0, 90.0] if level >= 4 else [45.0, 60.0, 75.0], p=[0.2, 0.6, 0.2],
                             size=n_tasks)
        for k in range(n_tasks):
            task = _draw_items(rng, "practical_task", 1, k, elements, element_p, b_shift,
                               calibrated=False, points=float(points[k]))[0]
            items.append(PoolItem(**{**{f: getattr(task, f) for f in task.__slots__},
                                     "time_s": float(minutes[k]) * 60.0}))
        return Pool.from_items(items, current_session=10), rows
    mix = STANDARD_THEORY_MIX[level]
    need = np.array([rule.count for rule in mix], dtype=float)
    # subjective types are few per paper: give them a larger share of the bank
    share = np.maximum(need / need.sum(), 0.04)
    counts = np.floor(share / share.sum() * n_items).astype(int)
    counts[0] += n_items - counts.sum()
    start = 0
    for rule, n in zip(mix, counts):
        points = rule.points / rule.count if rule.points is not None else None
        items += _draw_items(rng, rule.item_type, int(n), start, elements, element_p, b_shift,
                             calibrated=rule.item_type in _GUESSING, points=points)
        start += int(n)
    items = _with_sets(rng, items, n_sets, "single_choice")
    enemies = _enemy_pairs(rng, items, n_enemy_pairs)
    return Pool.from_items(items, enemies=enemies, current_session=10), rows


def _with_sets(rng: np.random.Generator, items: list[PoolItem], n_sets: int,
               item_type: str, size: int = 4) -> list[PoolItem]:
    """Group ``n_sets`` runs of ``size`` items of one type and one element into case sets."""
    by_element: dict[str, list[int]] = {}
    for k, item in enumerate(items):
        if item.item_type == item_type and item.set_id is None:
            by_element.setdefault(item.element_codes[0], []).append(k)
    out = list(items)
    made = 0
    codes = sorted(by_element)
    while made < n_sets and codes:
        code = codes[made % len(codes)]
        free = by_element[code]
        if len(free) < size:
            codes.remove(code)
            continue
        members = [free.pop(int(rng.integers(len(free)))) for _ in range(size)]
        for k in members:
            item = out[k]
            out[k] = PoolItem(**{**{f: getattr(item, f) for f in item.__slots__},
                                 "set_id": f"S{made:03d}", "compromised": False})
        made += 1
    return out


def _enemy_pairs(rng: np.random.Generator, items: list[PoolItem], n_pairs: int
                 ) -> list[tuple[str, str]]:
    """Enemy pairs between items of the same element (they give each other away)."""
    by_element: dict[str, list[str]] = {}
    for item in items:
        if item.set_id is None:
            by_element.setdefault(item.element_codes[0], []).append(item.id)
    codes = sorted(by_element)
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < n_pairs:
        ids = by_element[codes[int(rng.integers(len(codes)))]]
        if len(ids) < 2:
            continue
        i, j = rng.choice(len(ids), size=2, replace=False)
        pairs.add(tuple(sorted((ids[int(i)], ids[int(j)]))))  # type: ignore[arg-type]
    return sorted(pairs)


# --------------------------------------------------------------------------------------
# Benchmark banks (issue 4 "Speed and quality")


def benchmark_pool(n_items: int = 1200, *, n_areas: int = 8, n_enemy_pairs: int = 200,
                   n_sets: int = 60, set_size: int = 4, seed: int = 0) -> Pool:
    """Calibrated 3PL bank: 80 % single choice, 20 % true/false, ``n_areas`` content areas,
    ratings 1-5, ``n_sets`` sets of ``set_size`` items, ``n_enemy_pairs`` enemy pairs."""
    rng = np.random.default_rng(seed)
    areas = [f"AREA{k + 1}" for k in range(n_areas)]
    area_p = np.full(n_areas, 1.0 / n_areas)
    n_tf = n_items // 5
    items = _draw_items(rng, "single_choice", n_items - n_tf, 0, areas, area_p, 0.0, True)
    items += _draw_items(rng, "true_false", n_tf, n_items - n_tf, areas, area_p, 0.0, True)
    items = [PoolItem(**{**{f: getattr(it, f) for f in it.__slots__}, "compromised": False,
                         "usage_count": 0, "last_used_session": None}) for it in items]
    items = _with_sets(rng, items, n_sets, "single_choice", size=set_size)
    enemies = _enemy_pairs(rng, items, n_enemy_pairs)
    return Pool.from_items(items, enemies=enemies, current_session=10)


def benchmark_blueprint(n_items: int = 100, *, n_areas: int = 8, max_overlap: int = 0,
                        thetas: tuple[float, ...] = (-1.0, 0.0, 1.0)) -> Blueprint:
    """The benchmark blueprint: 80 % single choice + 20 % true/false, ``n_areas`` areas with
    equal weight (within +-2 items), three difficulty bands, maximin information at ``thetas``."""
    n_tf = n_items // 5
    per_area = n_items / n_areas
    return validate_blueprint(Blueprint(
        name=f"benchmark {n_items} items, {n_areas} areas",
        version=1,
        item_types=(TypeRule("single_choice", n_items - n_tf, float(n_items - n_tf)),
                    TypeRule("true_false", n_tf, float(n_tf))),
        elements=tuple(ElementRule(f"AREA{k + 1}", min=float(np.floor(per_area - 2)),
                                   max=float(np.ceil(per_area + 2))) for k in range(n_areas)),
        difficulty=DifficultyRule(bands=(
            DifficultyBand("easy", 1, 2, min_count=int(0.2 * n_items)),
            DifficultyBand("medium", 3, 3, min_count=int(0.3 * n_items)),
            DifficultyBand("hard", 4, 5, min_count=int(0.2 * n_items)),
        )),
        irt=IrtRule(objective="maximin", thetas=thetas),
        max_overlap=max_overlap,
    ))
