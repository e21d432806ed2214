"""Person scoring (EAP, MAP, ML) and raw-score tables."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.information import category_probabilities, expected_score
from analysis.parameters import ItemParameters
from analysis.quadrature import rectangular_quadrature
from analysis.responses import ResponseData
from analysis.scoring import (
    STATUS_ALL_MAXIMUM,
    STATUS_ALL_MINIMUM,
    STATUS_AT_BOUND,
    STATUS_NO_RESPONSES,
    STATUS_OK,
    invert_tcc,
    score_distribution,
    score_persons,
    summed_score_table,
)

from .conftest import LSAT_PATTERNS, simulate_2pl, simulate_polytomous

# ltm's published 2PL estimates for LSAT-6 (see test_calibration.py for the source) and its
# "Empirical Bayes" (posterior mode, N(0, 1) prior) factor scores z1 and se.z1 for the first
# eight response patterns, printed by ``factor.scores(ltm(LSAT ~ z1))`` in ltm's documentation.
LTM_PARAMS = ItemParameters.from_abc(
    [0.8253715, 0.7229499, 0.8904748, 0.6885502, 0.6574516],
    [-3.3597341, -1.3696497, -0.2798983, -1.8659189, -3.1235725],
)
LTM_MAP_Z1 = [-1.895, -1.479, -1.460, -1.041, -1.331, -0.911, -0.891, -0.463]
LTM_MAP_SE = [0.795, 0.796, 0.796, 0.800, 0.797, 0.802, 0.803, 0.812]
LTM_MAP_Z1_ALL_CORRECT = 0.606  # pattern 11111
LTM_MAP_SE_ALL_CORRECT = 0.855


def test_map_scores_reproduce_ltm(lsat: ResponseData) -> None:
    s = score_persons(lsat, LTM_PARAMS, method="map")
    np.testing.assert_allclose(s.thetas[:8], LTM_MAP_Z1, atol=1.5e-3)
    np.testing.assert_allclose(s.standard_errors[:8], LTM_MAP_SE, atol=1.5e-3)
    assert s.thetas[-1] == pytest.approx(LTM_MAP_Z1_ALL_CORRECT, abs=1.5e-3)
    assert s.standard_errors[-1] == pytest.approx(LTM_MAP_SE_ALL_CORRECT, abs=1.5e-3)
    assert np.all(s.status == STATUS_OK)
    assert s.method == "map" and s.D == 1.0


def test_eap_equals_brute_force_integration(lsat: ResponseData) -> None:
    s = score_persons(lsat, LTM_PARAMS, method="eap")
    x = np.linspace(-8, 8, 4001)
    prior = np.exp(-0.5 * x**2)
    probs = category_probabilities(x, LTM_PARAMS)[:, :, 1]  # (n_x, 5)
    for row in (0, 10, 29):
        pattern = LSAT_PATTERNS[row, :5]
        lik = np.prod(np.where(pattern[None, :] == 1, probs, 1 - probs), axis=1) * prior
        mean = np.sum(x * lik) / lik.sum()
        sd = np.sqrt(np.sum((x - mean) ** 2 * lik) / lik.sum())
        assert s.thetas[row] == pytest.approx(mean, abs=2e-3)
        assert s.standard_errors[row] == pytest.approx(sd, abs=2e-3)


def test_ml_handles_extreme_patterns(lsat: ResponseData) -> None:
    s = score_persons(lsat, LTM_PARAMS, method="ml", bounds=(-5, 5))
    assert (
        s.status[0] == STATUS_ALL_MINIMUM and s.thetas[0] == -5 and np.isnan(s.standard_errors[0])
    )
    assert s.status[-1] == STATUS_ALL_MAXIMUM and s.thetas[-1] == 5
    middle = s.status == STATUS_OK
    assert middle.sum() >= 20
    # at the ML estimate the score function is zero: check with a numerical derivative
    resp = lsat.to_dense()
    for row in np.flatnonzero(middle)[:5]:

        def loglik(t: float, pattern: np.ndarray = resp[row]) -> float:
            p = category_probabilities([t], LTM_PARAMS)[0, :, 1]
            return float(np.sum(np.where(pattern == 1, np.log(p), np.log(1 - p))))

        h = 1e-5
        grad = (loglik(s.thetas[row] + h) - loglik(s.thetas[row] - h)) / (2 * h)
        assert abs(grad) < 1e-4


def test_ml_recovers_abilities_on_a_long_polytomous_test() -> None:
    rng = np.random.default_rng(8)
    steps = np.sort(rng.normal(0, 1.2, (40, 3)), axis=1)
    params = ItemParameters.from_thresholds("gpcm", rng.uniform(1.0, 2.0, 40), steps)
    thetas = rng.uniform(-2, 2, 400)
    data = ResponseData.from_dense(simulate_polytomous(rng, thetas, params))
    ml = score_persons(data, params, method="ml")
    assert np.all(ml.status == STATUS_OK)
    z = (ml.thetas - thetas) / ml.standard_errors
    assert 0.7 < np.mean(z**2) < 1.4  # SEs from the test information are calibrated
    eap = score_persons(data, params, method="eap")
    assert np.corrcoef(eap.thetas, thetas)[0, 1] > 0.95


def test_persons_without_responses() -> None:
    data = ResponseData.from_triples([0, 0], [0, 1], [1, 0], n_persons=2, n_items=2)
    params = ItemParameters.from_abc([1.0, 1.2], [0.0, 0.5])
    for method, expect_theta in (("eap", 0.3), ("map", 0.3), ("ml", np.nan)):
        s = score_persons(data, params, method=method, prior_mean=0.3)
        assert s.status[1] == STATUS_NO_RESPONSES
        np.testing.assert_allclose(s.thetas[1], expect_theta, equal_nan=True)


def test_3pl_pattern_below_chance_hits_bound() -> None:
    params = ItemParameters.from_abc([2.0, 2.0, 2.0], [-1.0, 0.0, 1.0], [0.25, 0.25, 0.25])
    # right on the hardest item, wrong on the easy ones: likelihood rises towards -inf
    data = ResponseData.from_dense(np.array([[0, 0, 1]]))
    s = score_persons(data, params, method="ml", bounds=(-4, 4))
    assert s.status[0] == STATUS_AT_BOUND and s.thetas[0] == -4


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_items=st.integers(1, 8), mean=st.floats(-1, 1))
def test_eap_lies_within_the_quadrature_range(seed: int, n_items: int, mean: float) -> None:
    rng = np.random.default_rng(seed)
    params = ItemParameters.from_abc(rng.uniform(0.3, 3, n_items), rng.normal(0, 2, n_items))
    data = ResponseData.from_dense(rng.integers(0, 2, (20, n_items)).astype(float))
    quad = rectangular_quadrature(21, bound=3.0)
    s = score_persons(data, params, method="eap", prior_mean=mean, quadrature=quad)
    assert np.all(s.thetas >= mean - 3.0 - 1e-12) and np.all(s.thetas <= mean + 3.0 + 1e-12)
    assert np.all(s.standard_errors > 0)


def test_lord_wingersky_matches_enumeration() -> None:
    params = ItemParameters.concatenate(
        [
            ItemParameters.from_abc(
                [1.0, 1.5, 0.7], [-0.5, 0.3, 1.0], [0.0, 0.2, 0.1], model="3pl"
            ),
            ItemParameters.from_thresholds("grm", [1.2], [[-1.0, 0.5]]),
        ]
    )
    x = np.array([-1.0, 0.0, 1.5])
    dist = score_distribution(x, params)
    probs = category_probabilities(x, params)
    brute = np.zeros((6, x.size))
    for pattern in itertools.product(range(2), range(2), range(2), range(3)):
        p = np.prod([probs[:, j, k] for j, k in enumerate(pattern)], axis=0)
        brute[sum(pattern)] += p
    np.testing.assert_allclose(dist, brute, atol=1e-14)


def test_summed_score_table() -> None:
    table = summed_score_table(LTM_PARAMS)
    assert table.raw_scores.tolist() == [0, 1, 2, 3, 4, 5]
    assert table.probabilities.sum() == pytest.approx(1.0)
    assert np.all(np.diff(table.eap) > 0)
    # the summed-score EAP is the average of the pattern EAPs with that raw score, each
    # pattern weighted by its marginal probability under the model
    all_patterns = np.array(list(itertools.product([0, 1], repeat=5)), dtype=float)
    full = ResponseData.from_dense(all_patterns)
    s = score_persons(full, LTM_PARAMS, method="eap")
    x = rectangular_quadrature(61).nodes
    w = rectangular_quadrature(61).weights
    probs = category_probabilities(x, LTM_PARAMS)[:, :, 1]
    marg = np.array(
        [np.sum(w * np.prod(np.where(p == 1, probs, 1 - probs), axis=1)) for p in all_patterns]
    )
    sums = all_patterns.sum(axis=1)
    for score in range(6):
        sel = sums == score
        assert table.eap[score] == pytest.approx(
            np.sum(marg[sel] * s.thetas[sel]) / marg[sel].sum(), abs=1e-9
        )
    # TCC inversion: interior scores map to theta with expected score = raw score
    ok = table.tcc_status == STATUS_OK
    np.testing.assert_allclose(
        expected_score(table.tcc_thetas[ok], LTM_PARAMS), table.raw_scores[ok], atol=1e-9
    )
    assert table.tcc_status[0] == STATUS_AT_BOUND and table.tcc_status[-1] == STATUS_AT_BOUND


def test_invert_tcc_below_guessing_floor() -> None:
    params = ItemParameters.from_abc(np.ones(10), np.zeros(10), np.full(10, 0.25), model="3pl")
    thetas, status = invert_tcc([1.0, 2.0, 5.0], params)
    assert status.tolist() == [STATUS_AT_BOUND, STATUS_AT_BOUND, STATUS_OK]
    # sum c = 2.5 is the floor; 10 (0.25 + 0.75 s) = 5 gives s = 1/3, theta = ln(1/2)
    assert thetas[2] == pytest.approx(np.log(0.5), abs=1e-9)


def test_scoring_validates_inputs(lsat: ResponseData) -> None:
    with pytest.raises(ValueError, match="method"):
        score_persons(lsat, LTM_PARAMS, method="mle")
    with pytest.raises(ValueError, match="items"):
        score_persons(lsat, LTM_PARAMS.subset([0, 1]))
    rng = np.random.default_rng(1)
    dense = simulate_2pl(rng, rng.normal(size=10), np.ones(5), np.zeros(5)) * 2
    with pytest.raises(ValueError, match="categories"):
        score_persons(ResponseData.from_dense(dense), LTM_PARAMS)


def test_wle_solves_warms_equation_and_is_finite_for_extreme_patterns() -> None:
    """WLE (Warm, 1989) checked against a root finder on Warm's estimating equation,
    written out independently: sum_j (x_j - P_j) D a_j + J / (2 I) for the 2PL."""
    from scipy.optimize import brentq

    rng = np.random.default_rng(8)
    a = rng.uniform(0.6, 1.8, 12)
    b = rng.normal(0.0, 1.0, 12)
    params = ItemParameters.from_abc(a, b, D=1.702)
    x = simulate_2pl(rng, rng.normal(size=40), a, b, D=1.702)
    x[0] = 0
    x[1] = 1
    res = score_persons(ResponseData.from_dense(x), params, method="wle")
    assert res.method == "wle" and np.all(res.status == 0)
    for p in range(x.shape[0]):
        def g(t: float, row: np.ndarray = x[p]) -> float:
            s = 1 / (1 + np.exp(-1.702 * a * (t - b)))
            da = 1.702 * a
            info = np.sum(da**2 * s * (1 - s))
            j = np.sum(da**3 * s * (1 - s) * (1 - 2 * s))
            return float(np.sum(da * (row - s)) + j / (2 * info))
        assert res.thetas[p] == pytest.approx(brentq(g, -8, 8, xtol=1e-12), abs=1e-6)
    # finite for all-wrong and all-right patterns, where ML has no estimate
    assert -6 < res.thetas[0] < -1 and 1 < res.thetas[1] < 6
    # the standard error is 1 / sqrt(I(theta))
    s = 1 / (1 + np.exp(-1.702 * a * (res.thetas[5] - b)))
    assert res.standard_errors[5] == pytest.approx(1 / np.sqrt(np.sum((1.702 * a) ** 2 * s * (1 - s))))


def test_wle_for_the_partial_credit_model_maximises_the_likelihood_times_root_information() -> None:
    """For the Rasch family the WLE maximises L(theta) sqrt(I(theta)) (Warm, 1989)."""
    from scipy.optimize import minimize_scalar

    from analysis.information import category_probabilities, test_information

    rng = np.random.default_rng(9)
    thr = np.sort(rng.normal(0, 1, (6, 3)), axis=1)
    params = ItemParameters.from_thresholds("pcm", 1.0, thr)
    x = simulate_polytomous(rng, rng.normal(size=15), params)
    res = score_persons(ResponseData.from_dense(x), params, method="wle")
    for p in range(x.shape[0]):
        def neg(t: float, row: np.ndarray = x[p]) -> float:
            probs = category_probabilities(np.array([t]), params)[0]
            ll = np.sum(np.log(probs[np.arange(6), row]))
            return -(ll + 0.5 * np.log(test_information(np.array([t]), params)[0]))
        best = minimize_scalar(neg, bounds=(-8, 8), method="bounded", options={"xatol": 1e-10})
        assert res.thetas[p] == pytest.approx(best.x, abs=1e-5)
