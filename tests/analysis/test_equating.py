"""Observed-score and IRT true-score equating."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.equating import (
    equate_equipercentile,
    equate_irt_true_score,
    equate_linear,
    loglinear_smooth,
    score_frequencies,
)
from analysis.information import expected_score
from analysis.parameters import ItemParameters
from analysis.scoring import invert_tcc


@settings(max_examples=40, deadline=None)
@given(
    freqs=st.lists(st.integers(0, 200), min_size=3, max_size=30).filter(lambda f: sum(f) > 0),
    degree=st.sampled_from([None, 2, 3]),
)
def test_equating_a_form_to_itself_is_the_identity(freqs: list[int], degree: int | None) -> None:
    f = np.asarray(freqs, dtype=float)
    if degree is not None and degree >= f.size:
        degree = f.size - 1
    x = np.arange(f.size)
    if degree is not None and np.count_nonzero(f) <= degree:
        with pytest.raises(ValueError, match="non-zero frequency"):
            equate_equipercentile(f, f, presmoothing_degree=degree)
        return
    eq = equate_equipercentile(f, f, presmoothing_degree=degree)
    np.testing.assert_allclose(eq.equated, x, atol=1e-6)
    if np.count_nonzero(f) >= 2:
        np.testing.assert_allclose(equate_linear(f, f).equated, x, atol=1e-9)


def test_linear_equating_formula() -> None:
    """Kolen & Brennan (2014), linear: l(x) = sd_Y / sd_X (x - mu_X) + mu_Y, by hand.

    X frequencies (0..2) = (1, 2, 1): mean 1, sd sqrt(1/2). Y frequencies (0..4) = (1, 0, 2,
    0, 1): mean 2, sd sqrt(2). Slope = 2, intercept = 2 - 2 = 0.
    """
    eq = equate_linear([1, 2, 1], [1, 0, 2, 0, 1])
    assert eq.slope == pytest.approx(2.0) and eq.intercept == pytest.approx(0.0)
    np.testing.assert_allclose(eq.equated, [0.0, 2.0, 4.0])


def test_equipercentile_by_hand() -> None:
    """Uniform X on 0..1 and uniform Y on 0..3 (Kolen & Brennan eqs. 2.14, 2.18, by hand).

    P_X(0) = 100 (0 + 0.5 * 0.5) = 25, P_X(1) = 75. For Y, F = (.25, .5, .75, 1): the score
    with percentile rank 25 is x_U = 1 with Q = (0.25 - 0.25) / 0.25 + 1 - 0.5 = 0.5; rank 75
    gives x_U = 3, Q = (0.75 - 0.75) / 0.25 + 3 - 0.5 = 2.5.
    """
    eq = equate_equipercentile([5, 5], [3, 3, 3, 3], presmoothing_degree=None)
    np.testing.assert_allclose(eq.equated, [0.5, 2.5])


def test_harder_form_scores_map_upwards() -> None:
    rng = np.random.default_rng(3)
    fx = score_frequencies(rng.binomial(40, 0.5, 5000), 40)  # harder form X
    fy = score_frequencies(rng.binomial(40, 0.6, 5000), 40)
    eq = equate_equipercentile(fx, fy, presmoothing_degree=4)
    mid = slice(10, 31)
    assert np.all(eq.equated[mid] > np.arange(41)[mid])
    assert np.all(np.diff(eq.equated) > 0)
    # the equated X scores reproduce Y's mean (equipercentile preserves the distribution)
    mean_equated = fx @ eq.equated / fx.sum()
    assert mean_equated == pytest.approx(fy @ np.arange(41) / fy.sum(), abs=0.1)


def test_loglinear_presmoothing_preserves_moments() -> None:
    rng = np.random.default_rng(5)
    f = score_frequencies(rng.binomial(30, 0.65, 800), 30)
    smooth = loglinear_smooth(f, 3)
    x = np.arange(31)
    assert smooth.sum() == pytest.approx(f.sum())
    for power in (1, 2, 3):
        assert smooth @ x**power == pytest.approx(f @ x**power, rel=1e-8)
    assert np.all(smooth > 0)


def test_irt_true_score_equating() -> None:
    rng = np.random.default_rng(6)
    px = ItemParameters.from_abc(
        rng.uniform(0.7, 1.5, 20), rng.normal(0.3, 1, 20), np.full(20, 0.2), model="3pl"
    )
    same = equate_irt_true_score(px, px)
    np.testing.assert_allclose(same.equated, same.raw_scores, atol=1e-6)
    py = ItemParameters.from_abc(px.a, px.b - 0.5, px.c, model="3pl")  # easier form Y
    eq = equate_irt_true_score(px, py)
    # Kolen & Brennan (2014), sec. 6.6: between the guessing floor and the top score the
    # form-Y equivalent is T_Y(T_X^{-1}(x)); the top score maps to the top score
    floor = 20 * 0.2
    inner = (eq.raw_scores > floor + 0.5) & (eq.raw_scores < 20)
    t, _ = invert_tcc(eq.raw_scores[inner].astype(float), px)
    np.testing.assert_allclose(eq.equated[inner], expected_score(t, py), atol=1e-9)
    assert np.all(eq.equated[inner] > eq.raw_scores[inner])
    assert eq.equated[0] == 0.0 and eq.equated[-1] == 20
    below = eq.raw_scores <= floor
    np.testing.assert_allclose(np.diff(eq.equated[below]), np.diff(eq.equated[below])[0])


def test_frequency_validation() -> None:
    with pytest.raises(ValueError, match="0..3"):
        score_frequencies([0, 4], 3)
    with pytest.raises(ValueError, match="freq_x"):
        equate_linear([0, 0], [1, 1])
