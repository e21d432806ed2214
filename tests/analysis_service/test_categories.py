"""Grouping of rubric scores into IRT categories (pure helpers of the analysis service)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from itembank.analysis_service import _categories, _to_categories


def test_few_distinct_scores_keep_one_category_each() -> None:
    scores = np.array([0, 1, 2, 2, 5, 5, 3.5])
    assert _categories(scores, 5.0, 6) == [0.0, 1.0, 2.0, 3.5, 5.0]
    assert _to_categories(scores, [0.0, 1.0, 2.0, 3.5, 5.0]).tolist() == [0, 1, 2, 2, 4, 4, 3]


def test_many_scores_are_banded_and_empty_bands_merged() -> None:
    # a 30-point practical task: 6 bands of 5 points; nobody scored 5 to 10
    scores = np.array([0, 2, 3, 11, 14, 16, 19, 22, 24, 26, 28, 30, 29.5])
    cuts = _categories(scores, 30.0, 6)
    assert cuts == [0.0, 10.0, 15.0, 20.0, 25.0]
    cats = _to_categories(scores, cuts)
    assert cats.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=2, max_size=200), st.integers(2, 8))
def test_every_category_is_observed_and_ordered(points: list[int], k: int) -> None:
    scores = np.array(points, dtype=float) / 2  # half points, as examiners' means give
    cuts = _categories(scores, 30.0, k)
    assert len(cuts) <= max(k, 1) and cuts == sorted(cuts)
    cats = _to_categories(scores, cuts)
    assert set(cats.tolist()) == set(range(len(cuts)))  # no empty category
    # higher scores never fall in a lower category
    order = np.argsort(scores, kind="stable")
    assert np.all(np.diff(cats[order]) >= 0)
