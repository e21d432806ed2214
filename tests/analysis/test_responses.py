"""The sparse response container."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.responses import ResponseData


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_persons=st.integers(1, 30),
    n_items=st.integers(1, 10),
    density=st.floats(0.0, 1.0),
)
def test_dense_round_trip(seed: int, n_persons: int, n_items: int, density: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, (n_persons, n_items)).astype(float)
    x[rng.random(x.shape) > density] = np.nan
    data = ResponseData.from_dense(x)
    np.testing.assert_array_equal(data.to_dense(), x)
    assert data.n_responses == np.count_nonzero(~np.isnan(x))
    np.testing.assert_array_equal(data.raw_scores(), np.nansum(x, axis=1))
    Y = data.indicator_matrix()
    assert Y.shape == (n_persons, int(data.n_categories.sum()))
    np.testing.assert_array_equal(np.asarray(Y.sum(axis=1)).ravel(), data.responses_per_person())


def test_triples_are_sorted_and_validated() -> None:
    data = ResponseData.from_triples([2, 0, 1, 0], [1, 1, 0, 0], [1, 0, 2, 1])
    assert data.person_indices.tolist() == [0, 0, 1, 2]
    assert data.item_indices.tolist() == [0, 1, 0, 1]
    assert data.scores.tolist() == [1, 0, 2, 1]
    assert data.n_categories.tolist() == [3, 2]
    assert data.person_pointer.tolist() == [0, 2, 3, 4]
    with pytest.raises(ValueError, match="two responses to item 1"):
        ResponseData.from_triples([0, 0], [1, 1], [0, 1])
    with pytest.raises(ValueError, match=">= 0"):
        ResponseData.from_triples([0], [0], [-1])
    with pytest.raises(ValueError, match="whole numbers"):
        ResponseData.from_triples([0], [0], [0.5])
    with pytest.raises(ValueError, match="n_categories=2"):
        ResponseData.from_triples([0], [0], [2], n_categories=2)


def test_patterns_and_item_selection() -> None:
    data = ResponseData.from_patterns(np.array([[1, 0, 1], [0, np.nan, 1]]), [3, 2])
    assert data.person_weights.tolist() == [3, 2]
    np.testing.assert_array_equal(data.category_counts(), [2, 3, 3, 0, 0, 5])
    sub = data.select_items([2, 0])
    np.testing.assert_array_equal(sub.to_dense(), [[1, 1], [1, 0]])
    mask = np.array([[False, True], [False, False]])
    masked = ResponseData.from_dense(np.array([[1, 1], [0, 1]]), missing=mask)
    assert masked.n_responses == 3


def test_form_matrix_for_classical_analysis() -> None:
    # persons 0 and 2 sat form (items 1, 3); person 2 omitted item 3; person 1 sat another
    data = ResponseData.from_triples(
        [0, 0, 1, 1, 2], [1, 3, 0, 2, 1], [1, 0, 1, 1, 1], n_persons=3, n_items=4
    )
    persons, scores = data.form_matrix([1, 3])
    assert persons.tolist() == [0, 2]
    np.testing.assert_array_equal(scores, [[1, 0], [1, 0]])
    _, with_nan = data.form_matrix([1, 3], fill=np.nan)
    assert np.isnan(with_nan[1, 1])
