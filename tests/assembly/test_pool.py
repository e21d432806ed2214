"""Pool construction, validation, snapshot and fingerprint."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from assembly import InvalidPoolError, Pool
from tests.assembly.conftest import make_items


def test_columns_and_enemies() -> None:
    items = make_items(10)
    items[3] = replace(items[3], set_id="S1")
    items[4] = replace(items[4], set_id="S1")
    pool = Pool.from_items(items, enemies=[("I002", "I001"), ("I001", "I002"), ("I001", "GONE")])
    assert pool.n_items == 10
    assert pool.enemy_pairs.tolist() == [[1, 2]]
    assert pool.ignored_enemies == (("I001", "GONE"),)
    assert pool.set_ids == ("S1",)
    assert pool.set_indices.tolist() == [-1, -1, -1, 0, 0, -1, -1, -1, -1, -1]
    assert pool.points.shape == (10,)
    assert pool.current_session == 0  # nobody used: one after "never"


def test_uncalibrated_items_are_nan() -> None:
    pool = Pool.from_items(make_items(4, calibrated=False))
    assert np.isnan(pool.a).all()
    assert not pool.calibrated.any()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rating": 6}, "rating"),
        ({"points": 0.0}, "points"),
        ({"p_value": 1.5}, "p_value"),
        ({"a": None}, "both a and b"),
        ({"c": 1.0}, "c must be"),
        ({"element_codes": ["E1"]}, "element_codes"),
        ({"id": ""}, "id"),
    ],
)
def test_bad_items_are_named(change: dict, message: str) -> None:
    items = make_items(3)
    items[1] = replace(items[1], **change)
    with pytest.raises(InvalidPoolError, match=message):
        Pool.from_items(items)


def test_duplicate_ids_and_self_enemies() -> None:
    items = make_items(3)
    with pytest.raises(InvalidPoolError, match="duplicate id 'I000'"):
        Pool.from_items(items + [items[0]])
    with pytest.raises(InvalidPoolError, match="own enemy"):
        Pool.from_items(items, enemies=[("I000", "I000")])


def test_fingerprint_tracks_content() -> None:
    items = make_items(5)
    first = Pool.from_items(items).fingerprint()
    assert Pool.from_items(items).fingerprint() == first
    changed = list(items)
    changed[2] = replace(changed[2], usage_count=changed[2].usage_count + 1)
    assert Pool.from_items(changed).fingerprint() != first
    assert Pool.from_items(items).snapshot()[0] == ("I000", 1)
