"""Kernels: probabilities, information, expected scores (dichotomous and polytomous)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis import information as info_mod
from analysis.information import (
    category_probabilities,
    expected_item_scores,
    expected_score,
    expected_score_3pl,
    item_information,
    item_information_3pl,
    probability_3pl,
)

# test_information* are used through the module: pytest would collect names "test_*"
from analysis.parameters import ItemParameters
from analysis.polytomous import (
    expected_score_gpcm,
    item_information_gpcm,
    item_information_grm,
    probability_gpcm,
    probability_grm,
)

PROPS = settings(max_examples=60, deadline=None)
thetas_st = arrays(np.float64, st.integers(1, 12), elements=st.floats(-6, 6))


@st.composite
def mixed_params(draw: st.DrawFn) -> ItemParameters:
    n = draw(st.integers(1, 6))
    models, a_s, thr_rows, c_s = [], [], [], []
    for _ in range(n):
        model = draw(st.sampled_from(["2pl", "3pl", "1pl", "grm", "gpcm", "pcm"]))
        a = 1.0 if model in ("1pl", "pcm") else draw(st.floats(0.2, 3.0))
        if model in ("grm", "gpcm", "pcm"):
            k = draw(st.integers(1, 4))
            steps = draw(st.lists(st.floats(-3, 3), min_size=k, max_size=k))
            if model == "grm":
                steps = sorted(steps)
                steps = [s + 0.05 * i for i, s in enumerate(steps)]  # strictly increasing
        else:
            steps = [draw(st.floats(-3, 3))]
        c = draw(st.floats(0.0, 0.35)) if model == "3pl" else 0.0
        models.append(model)
        a_s.append(a)
        thr_rows.append(steps)
        c_s.append(c)
    width = max(len(r) for r in thr_rows)
    thr = np.full((n, width), np.nan)
    for i, r in enumerate(thr_rows):
        thr[i, : len(r)] = r
    D = draw(st.sampled_from([1.0, 1.702]))
    return ItemParameters.from_thresholds(models, a_s, thr, c=c_s, D=D)


@PROPS
@given(params=mixed_params(), thetas=thetas_st)
def test_category_probabilities_are_a_distribution(
    params: ItemParameters, thetas: np.ndarray
) -> None:
    probs = category_probabilities(thetas, params)
    assert probs.shape == (thetas.size, params.n_items, params.n_categories.max())
    assert np.all(probs >= -1e-12) and np.all(probs <= 1 + 1e-12)
    np.testing.assert_allclose(probs.sum(axis=2), 1.0, atol=1e-10)
    # categories beyond an item's last one have probability 0
    for j, k in enumerate(params.n_categories):
        assert np.all(probs[:, j, k:] == 0)


@PROPS
@given(params=mixed_params(), thetas=thetas_st)
def test_test_information_is_sum_of_item_information(
    params: ItemParameters, thetas: np.ndarray
) -> None:
    info = item_information(thetas, params)
    assert info.shape == (thetas.size, params.n_items)
    assert np.all(info >= 0)
    np.testing.assert_allclose(
        info_mod.test_information(thetas, params), info.sum(axis=1), rtol=1e-12
    )


@PROPS
@given(params=mixed_params(), thetas=thetas_st)
def test_expected_score_increases_with_theta(params: ItemParameters, thetas: np.ndarray) -> None:
    x = np.sort(thetas)
    tcc = expected_score(x, params)
    assert np.all(np.diff(tcc) >= -1e-12)
    assert np.all(tcc >= -1e-12) and np.all(tcc <= params.max_scores.sum() + 1e-12)


@PROPS
@given(params=mixed_params(), theta=st.floats(-4, 4))
def test_information_equals_derivative_identity(params: ItemParameters, theta: float) -> None:
    """I(theta) = sum_k P_k'^2 / P_k, checked against central differences of P_k."""
    h = 1e-5
    p = category_probabilities([theta], params)[0]
    dp = (
        category_probabilities([theta + h], params)[0]
        - category_probabilities([theta - h], params)[0]
    ) / (2 * h)
    with np.errstate(divide="ignore", invalid="ignore"):
        numeric = np.nansum(np.where(p > 1e-12, dp**2 / p, 0.0), axis=1)
    np.testing.assert_allclose(item_information([theta], params)[0], numeric, rtol=1e-4, atol=1e-8)


@PROPS
@given(
    a=st.floats(0.2, 3),
    b=st.floats(-3, 3),
    c=st.floats(0, 0.4),
    thetas=thetas_st,
    D=st.sampled_from([1.0, 1.702]),
)
def test_generic_kernels_match_3pl_kernels(
    a: float, b: float, c: float, thetas: np.ndarray, D: float
) -> None:
    params = ItemParameters.from_abc([a], [b], [c], model="3pl", D=D)
    np.testing.assert_allclose(
        category_probabilities(thetas, params)[:, :, 1],
        probability_3pl(thetas, a, b, c, D=D),
        atol=1e-12,
    )
    np.testing.assert_allclose(
        item_information(thetas, params),
        item_information_3pl(thetas, a, b, c, D=D),
        rtol=1e-6,
        atol=1e-9,  # the 3PL kernel clips P to [1e-12, 1 - 1e-12]
    )
    np.testing.assert_allclose(
        expected_score(thetas, params), expected_score_3pl(thetas, a, b, c, D=D), atol=1e-12
    )


def test_3pl_information_known_value() -> None:
    """Lord (1980), eq. 5-6 at theta = b: I = D^2 a^2 (1 - c) / 4 * ... worked by hand.

    With a = 1, b = 0, c = 0.2, D = 1 and theta = 0: P = 0.2 + 0.8 * 0.5 = 0.6, Q = 0.4,
    I = 1 * (0.4 / 0.6) * ((0.6 - 0.2) / 0.8)^2 = (2/3) * 0.25 = 1/6.
    """
    assert item_information_3pl([0.0], [1.0], [0.0], [0.2])[0, 0] == pytest.approx(1 / 6)
    assert info_mod.test_information_3pl([0.0], [1.0, 1.0], [0.0, 0.0])[0] == pytest.approx(0.5)


def test_two_category_polytomous_models_equal_2pl() -> None:
    x = np.linspace(-4, 4, 17)
    a, b = np.array([0.7, 1.8]), np.array([-1.0, 0.5])
    p2 = probability_3pl(x, a, b)
    np.testing.assert_allclose(probability_grm(x, a, b[:, None])[:, :, 1], p2, atol=1e-12)
    np.testing.assert_allclose(probability_gpcm(x, a, b[:, None])[:, :, 1], p2, atol=1e-12)
    i2 = item_information_3pl(x, a, b)
    np.testing.assert_allclose(item_information_grm(x, a, b[:, None]), i2, rtol=1e-9)
    np.testing.assert_allclose(item_information_gpcm(x, a, b[:, None]), i2, rtol=1e-9)


def test_gpcm_information_is_d2_a2_variance() -> None:
    """Muraki (1993): GPCM item information equals D^2 a^2 Var(X | theta)."""
    x = np.linspace(-3, 3, 13)
    a, steps, D = np.array([1.3]), np.array([[-1.0, 0.2, 0.9]]), 1.702
    probs = probability_gpcm(x, a, steps, D=D)[:, 0, :]
    k = np.arange(4)
    var = probs @ k**2 - (probs @ k) ** 2
    np.testing.assert_allclose(
        item_information_gpcm(x, a, steps, D=D)[:, 0], D**2 * 1.3**2 * var, rtol=1e-10
    )
    np.testing.assert_allclose(expected_score_gpcm(x, a, steps, D=D)[:, 0], probs @ k, rtol=1e-12)


def test_grm_category_probabilities_by_hand() -> None:
    """Samejima (1969): P(X >= k) logistic in D a (theta - b_k); P(X = k) by differences."""
    x = np.array([0.0])
    probs = probability_grm(x, [1.0], [[-1.0, 1.0]])[0, 0]
    s = 1 / (1 + np.exp(-np.array([1.0, -1.0])))  # P(X >= 1), P(X >= 2) at theta = 0
    np.testing.assert_allclose(probs, [1 - s[0], s[0] - s[1], s[1]], atol=1e-12)


def test_expected_item_scores_with_points() -> None:
    params = ItemParameters.from_abc([1.0, 1.0], [0.0, 0.0])
    x = np.array([0.0])
    assert expected_item_scores(x, params)[0].tolist() == pytest.approx([0.5, 0.5])
    assert expected_score(x, params, points=[2.0, 3.0])[0] == pytest.approx(2.5)


def test_item_parameters_validate() -> None:
    with pytest.raises(ValueError, match="item 0"):
        ItemParameters.from_abc([0.0], [0.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        ItemParameters.from_thresholds("grm", [1.0], [[1.0, 0.0]])
    # signed slopes: a reverse-keyed item is a valid item with a < 0 (GRM thresholds then decrease)
    assert ItemParameters.from_abc([-0.8], [0.5]).a[0] == -0.8
    assert ItemParameters.from_thresholds("grm", [-1.0], [[1.0, 0.0]]).n_categories[0] == 3
    # an infinite difficulty is refused, naming the item
    for bad in (np.inf, -np.inf):
        with pytest.raises(ValueError, match="item 1: thresholds must be finite"):
            ItemParameters.from_abc([1.0, 1.0], [0.0, bad])
        with pytest.raises(ValueError, match="item 0: thresholds must be finite"):
            ItemParameters.from_thresholds("gpcm", [1.0], [[0.0, bad]])
    with pytest.raises(ValueError, match="unknown model"):
        ItemParameters.from_abc([1.0], [0.0], model="4pl")
    p = ItemParameters.from_abc([1.0, 2.0], [0.5, -0.5], D=1.702)
    q = p.rescaled_D(1.0)
    np.testing.assert_allclose(
        probability_3pl([0.3], q.a, q.b, D=1.0), probability_3pl([0.3], p.a, p.b, D=1.702)
    )
