"""Conditional maximum likelihood: the ESF kernel against brute force and a log-space
reference at sizes where naive products overflow, recovery with fixed seeds, booklet designs,
anchors, and the cases the data cannot identify. (Agreement with eRm: test_erm.py.)"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

from analysis import ItemParameters, ResponseData, calibrate
from analysis import _esf
from analysis.cml import build_design, conditional_log_likelihood
from analysis.errors import InvalidInputError

from .conftest import english, simulate_polytomous


def rmse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(x) - np.asarray(y)) ** 2)))


def _one_batch(n_steps: list[int], counts: np.ndarray) -> _esf.Batch:
    steps = np.asarray(n_steps)
    offsets = np.concatenate([[0], np.cumsum(steps)])
    return _esf.Batch(np.arange(steps.size), np.ones((1, steps.size), bool), counts[None, :], steps, offsets)


def _log_esf_reference(etas: list[np.ndarray]) -> np.ndarray:
    """log gamma_r by the summation recursion in log space (logsumexp), an independent route."""
    log_g = np.array([0.0])
    for eta in etas:
        terms = np.concatenate([[0.0], eta])
        new = np.full(log_g.size + terms.size - 1, -np.inf)
        for h, t in enumerate(terms):
            new[h: h + log_g.size] = np.logaddexp(new[h: h + log_g.size], log_g + t)
        log_g = new
    return log_g


def test_esf_gradient_and_information_equal_brute_force_enumeration() -> None:
    rng = np.random.default_rng(1)
    ks = [2, 3, 2, 4, 3]
    etas = [rng.normal(size=k - 1) for k in ks]
    R = sum(k - 1 for k in ks)
    n = rng.integers(0, 6, R + 1).astype(float)
    n[0] = n[-1] = 0
    batch = _one_batch([k - 1 for k in ks], n)

    def f_of(flat: np.ndarray) -> float:
        parts = np.split(flat, np.cumsum([k - 1 for k in ks])[:-1])
        gamma = np.zeros(R + 1)
        for pattern in itertools.product(*[range(k) for k in ks]):
            gamma[sum(pattern)] += np.exp(sum(parts[i][x - 1] for i, x in enumerate(pattern) if x > 0))
        return float(np.sum(n[n > 0] * np.log(gamma[n > 0])))

    flat = np.concatenate(etas)
    f, grad, H = _esf.hessian(batch, etas)
    assert f == pytest.approx(f_of(flat), rel=1e-13)
    h = 1e-6
    eye = np.eye(flat.size)
    num_grad = np.array([(f_of(flat + h * e) - f_of(flat - h * e)) / (2 * h) for e in eye])
    np.testing.assert_allclose(grad, num_grad, atol=1e-7)

    def grad_of(v: np.ndarray) -> np.ndarray:
        return _esf.gradient(batch, list(np.split(v, np.cumsum([k - 1 for k in ks])[:-1])))[1]

    num_H = np.array([(grad_of(flat + h * e) - grad_of(flat - h * e)) / (2 * h) for e in eye])
    np.testing.assert_allclose(H, num_H, atol=1e-7)
    np.testing.assert_allclose(grad_of(flat), grad, rtol=1e-12)


def test_esf_is_stable_for_200_items_with_6_categories_and_extreme_thresholds() -> None:
    """gamma_r spans far beyond double range here (products of 200 factors up to e^40); the
    scaled summation must still give every log ESF to ~1e-12 relative, and so the likelihood."""
    rng = np.random.default_rng(2)
    n_items, n_cat = 200, 6
    taus = np.sort(rng.normal(0.0, 3.0, (n_items, n_cat - 1)), axis=1)
    etas = [-np.cumsum(t) for t in taus]
    R = n_items * (n_cat - 1)
    counts = np.zeros(R + 1)
    counts[1:-1] = rng.integers(0, 3, R - 1)
    batch = _one_batch([n_cat - 1] * n_items, counts)
    reference = _log_esf_reference(etas)
    assert reference.max() - reference.min() > 1000  # e^1000: a naive product overflows
    f = _esf.log_normaliser(batch, etas)
    expected = float(np.sum(counts * reference))
    assert f == pytest.approx(expected, rel=1e-11)
    # the gradient is the expected category count given the raw scores: it sums to the
    # weighted scores sum_r n_r r (each person's categories add up to the raw score)
    _f, grad, H = _esf.hessian(batch, etas)
    steps = np.tile(np.arange(1, n_cat), n_items)
    assert np.sum(grad * steps) == pytest.approx(np.sum(counts * np.arange(R + 1)), rel=1e-10)
    assert np.all(np.isfinite(H))
    # the information is positive semi-definite with exactly one null direction (a common
    # shift of every threshold), as theory says
    L = np.kron(np.eye(n_items), np.tril(np.ones((n_cat - 1, n_cat - 1))))
    info_tau = L.T @ H @ L
    eig = np.linalg.eigvalsh(info_tau)
    assert eig[0] > -1e-8 * eig[-1]
    assert abs(eig[0]) < 1e-8 * eig[-1] < eig[1]


def test_cml_recovers_rasch_and_pcm_parameters_on_a_long_test() -> None:
    rng = np.random.default_rng(3)
    # 120 items of a dichotomous Rasch test
    b = rng.normal(0.0, 1.2, 120)
    thetas = rng.normal(0.0, 1.0, 2000)
    x = (rng.random((2000, 120)) < 1 / (1 + np.exp(-(thetas[:, None] - b[None, :])))).astype(int)
    res = calibrate(ResponseData.from_dense(x), "rasch", method="cml")
    assert res.converged
    assert rmse(res.params.b, b - b.mean()) < 0.06
    z = (res.params.b - (b - b.mean())) / res.standard_errors.b
    assert 0.6 < np.mean(z**2) < 1.5  # the SEs describe the actual estimation error
    assert res.params.b.mean() == pytest.approx(0.0, abs=1e-10)
    # 25 rubric items with 6 categories
    thr = np.sort(rng.normal(0.0, 1.0, (25, 5)), axis=1)
    true = ItemParameters.from_thresholds("pcm", 1.0, thr)
    y = simulate_polytomous(rng, rng.normal(size=2000), true)
    pcm = calibrate(ResponseData.from_dense(y), "pcm", method="cml")
    assert pcm.converged and pcm.n_iterations < 15
    assert rmse(pcm.params.thresholds, thr - thr.mean()) < 0.12


def test_booklets_and_the_same_persons_in_one_matrix_agree() -> None:
    """Each candidate's own form: the missing-by-design cells cost nothing and the estimates
    equal those from a dense matrix with NaN; a candidate answering a single item, or with an
    extreme score on their form, carries no conditional information and is counted out."""
    rng = np.random.default_rng(4)
    b = rng.normal(0.0, 1.0, 30)
    thetas = rng.normal(size=3000)
    full = (rng.random((3000, 30)) < 1 / (1 + np.exp(-(thetas[:, None] - b[None, :])))).astype(float)
    x = full.copy()
    form = rng.integers(0, 3, 3000)
    for f in range(3):
        keep = np.r_[0:6, 6 + 8 * f: 14 + 8 * f]
        drop = np.setdiff1d(np.arange(30), keep)
        x[np.ix_(form == f, drop)] = np.nan
    x[0, 1:] = np.nan  # one answer only
    data = ResponseData.from_dense(x)
    res = calibrate(data, "rasch", method="cml")
    assert res.converged
    assert rmse(res.params.b, b - b.mean()) < 0.12
    raw = np.nansum(x, axis=1)
    top = np.sum(~np.isnan(x), axis=1)
    assert res.n_extreme == int(np.sum((raw == 0) | (raw == top)))
    design = build_design(data)
    assert sum(batch.counts.shape[0] for batch in design.batches) == 3  # three booklets
    # the same data split into persons in another order give the same estimates
    perm = rng.permutation(3000)
    again = calibrate(ResponseData.from_dense(x[perm]), "rasch", method="cml")
    np.testing.assert_allclose(again.params.b, res.params.b, atol=1e-9)
    assert again.log_likelihood == pytest.approx(res.log_likelihood, rel=1e-12)
    # random gaps (every candidate a pattern of their own) take the merged-batch path
    y = np.where(rng.random(full.shape) < 0.15, np.nan, full)
    gaps = calibrate(ResponseData.from_dense(y), "rasch", method="cml")
    assert gaps.converged and rmse(gaps.params.b, b - b.mean()) < 0.12


def test_anchored_cml_puts_new_items_on_the_anchors_scale() -> None:
    rng = np.random.default_rng(5)
    b = rng.normal(0.5, 1.0, 20)  # the bank's scale: not centred
    thetas = rng.normal(0.8, 1.0, 3000)
    x = (rng.random((3000, 20)) < 1 / (1 + np.exp(-(thetas[:, None] - b[None, :])))).astype(int)
    anchors = ItemParameters.from_abc(1.0, b[:8], model="rasch")
    res = calibrate(ResponseData.from_dense(x), "rasch", method="cml", fixed_items=np.arange(8), fixed_params=anchors)
    assert res.converged
    np.testing.assert_allclose(res.params.b[:8], b[:8])
    assert rmse(res.params.b[8:], b[8:]) < 0.08  # no centring: the anchors set the origin
    assert np.all(np.isnan(res.standard_errors.b[:8]))
    assert "anchor" in res.covariance.basis
    # an anchor that is not a Rasch item cannot enter a conditional calibration
    bad = ItemParameters.from_abc(1.4, b[:8], model="rasch")  # a Rasch item of another scale
    with pytest.raises(InvalidInputError) as err:
        calibrate(ResponseData.from_dense(x), "rasch", method="cml", fixed_items=np.arange(8), fixed_params=bad)
    assert "slope" in english(err.value)


def test_cml_refuses_models_outside_the_rasch_family() -> None:
    x = np.random.default_rng(6).integers(0, 2, (100, 5))
    with pytest.raises(InvalidInputError) as err:
        calibrate(ResponseData.from_dense(x), "2pl", method="cml")
    assert err.value.params["item"] == 0 and "Rasch family" in english(err.value)
    with pytest.raises(InvalidInputError):
        calibrate(ResponseData.from_dense(x), "rasch", method="cml", standard_errors="xpd")


def test_disconnected_forms_are_not_identified_under_cml() -> None:
    """Two forms without a common item or candidate: their difficulties cannot be compared."""
    rng = np.random.default_rng(7)
    x = (rng.random((600, 16)) < 0.6).astype(float)
    x[:300, 8:] = np.nan
    x[300:, :8] = np.nan
    res = calibrate(ResponseData.from_dense(x), "rasch", method="cml")
    assert (res.status, res.converged) == ("not_identified", False)
    assert any("2 groups" in p.english() for p in res.problems)
    # MML links them through the population assumption
    mml = calibrate(ResponseData.from_dense(x), "rasch")
    assert mml.status == "converged"


def test_an_unobserved_category_among_informative_candidates_is_named() -> None:
    rng = np.random.default_rng(8)
    x = rng.integers(0, 3, (300, 5))
    x[:, 4] = rng.integers(0, 2, 300)
    x[0, 4] = 2  # category 2 only by ...
    x[0, :4] = 2  # ... a candidate with full marks everywhere (extreme: left out)
    res = calibrate(ResponseData.from_dense(x), "pcm", method="cml")
    assert res.status == "not_identified"
    named = [p for p in res.problems if p.params.get("item") == 4]
    assert named and named[0].params["category"] == 2


def test_conditional_log_likelihood_is_invariant_to_a_common_shift() -> None:
    rng = np.random.default_rng(9)
    thr = np.sort(rng.normal(0, 1, (6, 2)), axis=1)
    y = simulate_polytomous(rng, rng.normal(size=300), ItemParameters.from_thresholds("pcm", 1.0, thr))
    design = build_design(ResponseData.from_dense(y))
    tau = thr.ravel()
    assert conditional_log_likelihood(design, tau + 1.7) == pytest.approx(conditional_log_likelihood(design, tau), rel=1e-12)
