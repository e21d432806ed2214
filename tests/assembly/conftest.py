"""Small pools and blueprints for the assembly tests (no DB, no app)."""

from __future__ import annotations

import numpy as np
import pytest

from assembly import (
    Blueprint,
    DifficultyRule,
    ElementRule,
    IrtRule,
    Pool,
    PoolItem,
    TypeRule,
)


def make_items(n: int = 60, *, seed: int = 0, n_elements: int = 3,
               calibrated: bool = True) -> list[PoolItem]:
    """``n`` items: 3/4 single choice, 1/4 true/false, spread over elements E1..En."""
    rng = np.random.default_rng(seed)
    items = []
    for k in range(n):
        item_type = "single_choice" if k % 4 else "true_false"
        items.append(PoolItem(
            id=f"I{k:03d}",
            item_type=item_type,
            points=1.0,
            element_codes=(f"E{k % n_elements + 1}",),
            time_s=float(rng.integers(20, 60)),
            rating=int(rng.integers(1, 6)),
            p_value=float(rng.uniform(0.3, 0.9)),
            a=float(rng.uniform(0.6, 2.0)) if calibrated else None,
            b=float(rng.normal(0, 1)) if calibrated else None,
            c=0.2 if calibrated and item_type == "single_choice" else 0.0,
            usage_count=int(rng.integers(0, 4)),
        ))
    return items


def small_blueprint(*, n_sc: int = 6, n_tf: int = 2, n_elements: int = 3,
                    objective: str = "maximin", max_overlap: int = 0) -> Blueprint:
    return Blueprint(
        name="small",
        version=1,
        item_types=(TypeRule("single_choice", n_sc, float(n_sc)),
                    TypeRule("true_false", n_tf, float(n_tf))),
        elements=tuple(ElementRule(f"E{k + 1}", min=1.0, max=float(n_sc + n_tf))
                       for k in range(n_elements)),
        difficulty=DifficultyRule(mean_rating_min=1.5, mean_rating_max=4.5),
        irt=IrtRule(objective=objective, thetas=(-1.0, 0.0, 1.0)) if objective != "none"
        else IrtRule(),
        max_overlap=max_overlap,
    )


@pytest.fixture()
def small_pool() -> Pool:
    items = make_items(60)
    return Pool.from_items(items, enemies=[("I001", "I002"), ("I005", "I009")],
                           current_session=5)
