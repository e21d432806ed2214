"""MML-EM calibration: published reference values, recovery with fixed seeds, sparse designs."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.calibration import Priors, calibrate
from analysis.errors import InsufficientDataError, InvalidInputError
from analysis.parameters import ItemParameters
from analysis.quadrature import gauss_hermite_quadrature
from analysis.responses import ResponseData

from .conftest import simulate_2pl, simulate_polytomous


def rmse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(x) - np.asarray(y)) ** 2)))


# ----------------------------------------------------------------------------------------
# Published reference values: LSAT-6 (Bock & Lieberman, 1970), 2PL by MML.
#
# Source: R package ltm (Rizopoulos, 2006, J. Statistical Software 17(5)), output of
# ``summary(ltm(LSAT ~ z1))`` as printed in its documentation and vignettes: logistic metric
# (D = 1), IRT parameterisation (Dffclt = b, Dscrmn = a), 21 Gauss-Hermite points,
# log-likelihood -2466.653. Standard errors there are from the observed Hessian.
LTM_2PL_B = [-3.3597, -1.3696, -0.2799, -1.8659, -3.1236]
LTM_2PL_A = [0.8254, 0.7229, 0.8905, 0.6886, 0.6575]
LTM_2PL_SE_B = [0.8669, 0.3073, 0.0997, 0.4341, 0.8700]
LTM_2PL_SE_A = [0.2581, 0.1867, 0.2326, 0.1852, 0.2100]
LTM_2PL_LOGLIK = -2466.653


def test_lsat6_2pl_reproduces_ltm(lsat: ResponseData) -> None:
    res = calibrate(lsat, "2pl", quadrature=gauss_hermite_quadrature(21))
    assert res.converged
    assert res.D == 1.0 and res.params.D == 1.0
    # estimates agree to 0.005 (the flat likelihood of items 1 and 5 makes b move most)
    np.testing.assert_allclose(res.params.b, LTM_2PL_B, atol=5e-3)
    np.testing.assert_allclose(res.params.a, LTM_2PL_A, atol=2e-3)
    assert res.log_likelihood == pytest.approx(LTM_2PL_LOGLIK, abs=1e-2)
    # our SEs are the cross-product (XPD) estimate, ltm's the Hessian: agree within 5%
    np.testing.assert_allclose(res.standard_errors.b, LTM_2PL_SE_B, rtol=0.05)
    np.testing.assert_allclose(res.standard_errors.a, LTM_2PL_SE_A, rtol=0.05)


def test_lsat6_rasch_and_1pl_are_nested_in_2pl(lsat: ResponseData) -> None:
    """Rasch (common slope) and 1PL (a = 1) fits of the same data, checked against each other.

    The common-slope Rasch model and the a = 1 model with N(0, s^2) ability are the same
    likelihood, so b_1PL = a_Rasch * b_Rasch... only when the 1PL latent SD is free; with
    N(0, 1) fixed, the 1PL log-likelihood cannot exceed the Rasch one, which cannot exceed
    the 2PL one.
    """
    quad = gauss_hermite_quadrature(21)
    two = calibrate(lsat, "2pl", quadrature=quad)
    rasch = calibrate(lsat, "rasch", quadrature=quad)
    one = calibrate(lsat, "1pl", quadrature=quad)
    assert rasch.converged and one.converged
    assert np.ptp(rasch.params.a) == 0.0
    assert np.all(one.params.a == 1.0)
    assert one.log_likelihood <= rasch.log_likelihood <= two.log_likelihood + 1e-6
    # likelihood-ratio of Rasch vs 2PL is small on LSAT-6 (the classic finding that the
    # Rasch model fits these data; Bock & Aitkin, 1981)
    assert 2 * (two.log_likelihood - rasch.log_likelihood) < 2.0
    assert np.isnan(one.standard_errors.a).all()
    assert np.all(np.isfinite(rasch.standard_errors.a))


def test_plain_em_increases_the_likelihood_every_step(lsat: ResponseData) -> None:
    res = calibrate(lsat, "2pl", accelerate=False, tolerance=1e-6)
    assert res.converged
    assert np.all(np.diff(res.log_likelihood_history) >= -1e-9)
    fast = calibrate(lsat, "2pl", tolerance=1e-6)
    assert fast.n_iterations < res.n_iterations
    np.testing.assert_allclose(fast.params.b, res.params.b, atol=1e-3)


def test_non_convergence_is_reported_not_raised(lsat: ResponseData) -> None:
    res = calibrate(lsat, "2pl", max_iterations=2, accelerate=False)
    assert not res.converged
    assert res.n_iterations == 2
    assert "not converged" in res.message


# ----------------------------------------------------------------------------------------
# Recovery with fixed seeds


def test_2pl_recovery_5000_persons() -> None:
    rng = np.random.default_rng(20240501)
    n_items = 30
    a = rng.lognormal(0.0, 0.3, n_items)
    b = np.clip(rng.normal(0.0, 1.0, n_items), -2.5, 2.5)
    thetas = rng.normal(size=5000)
    data = ResponseData.from_dense(simulate_2pl(rng, thetas, a, b))
    res = calibrate(data, "2pl")
    assert res.converged
    assert rmse(res.params.b, b) < 0.1
    assert rmse(res.params.a, a) < 0.1
    # the standard errors describe the actual estimation error: mean squared z near 1
    z_b = (res.params.b - b) / res.standard_errors.b
    z_a = (res.params.a - a) / res.standard_errors.a
    assert 0.4 < np.mean(z_b**2) < 2.0
    assert 0.4 < np.mean(z_a**2) < 2.0


def test_2pl_recovery_with_normal_metric_D() -> None:
    rng = np.random.default_rng(7)
    a = rng.uniform(0.5, 1.5, 20)
    b = rng.normal(0.0, 1.0, 20)
    thetas = rng.normal(size=4000)
    data = ResponseData.from_dense(simulate_2pl(rng, thetas, a, b, D=1.702))
    res = calibrate(data, "2pl", D=1.702)
    assert res.params.D == 1.702
    assert rmse(res.params.a, a) < 0.08
    assert rmse(res.params.b, b) < 0.1


def test_sparse_multiform_design_recovery() -> None:
    """Four forms sharing 10 anchor items; each candidate sits one form (75% missing)."""
    rng = np.random.default_rng(11)
    n_forms, n_anchor, n_unique, n_persons = 4, 10, 20, 8000
    n_items = n_anchor + n_forms * n_unique
    a = rng.lognormal(0.0, 0.25, n_items)
    b = rng.normal(0.0, 1.0, n_items)
    thetas = rng.normal(size=n_persons)
    form = rng.integers(0, n_forms, n_persons)
    persons, items = [], []
    for f in range(n_forms):
        members = np.flatnonzero(form == f)
        its = np.concatenate([np.arange(n_anchor), n_anchor + f * n_unique + np.arange(n_unique)])
        persons.append(np.repeat(members, its.size))
        items.append(np.tile(its, members.size))
    persons_a, items_a = np.concatenate(persons), np.concatenate(items)
    p = 1 / (1 + np.exp(-a[items_a] * (thetas[persons_a] - b[items_a])))
    scores = (rng.random(p.size) < p).astype(np.int64)
    data = ResponseData.from_triples(persons_a, items_a, scores, n_persons=n_persons)
    assert data.n_responses == n_persons * (n_anchor + n_unique)
    res = calibrate(data, "2pl")
    assert res.converged
    assert rmse(res.params.b, b) < 0.1
    assert rmse(res.params.a, a) < 0.1
    assert res.se_method == "xpd"
    # same answer from the dense matrix with NaN for the cells not administered
    dense = ResponseData.from_dense(data.to_dense())
    res2 = calibrate(dense, "2pl", compute_standard_errors=False)
    np.testing.assert_allclose(res2.params.b, res.params.b, atol=1e-10)


def test_3pl_recovery_with_beta_prior() -> None:
    rng = np.random.default_rng(3)
    n_items = 25
    a = rng.uniform(0.8, 2.0, n_items)
    b = rng.uniform(-1.5, 2.0, n_items)
    c = rng.uniform(0.12, 0.28, n_items)
    thetas = rng.normal(size=6000)
    data = ResponseData.from_dense(simulate_2pl(rng, thetas, a, b, c))
    res = calibrate(data, "3pl")
    assert res.converged
    assert res.priors.c_beta == (5.0, 17.0)
    assert rmse(res.params.b, b) < 0.15
    assert rmse(res.params.a, a) < 0.2
    assert rmse(res.params.c, c) < 0.05
    assert np.all(np.isfinite(res.standard_errors.c))
    assert res.log_posterior < res.log_likelihood  # the prior densities enter


def test_lognormal_slope_prior_shrinks_slopes() -> None:
    rng = np.random.default_rng(5)
    a = np.full(10, 2.5)
    b = rng.normal(0.0, 1.0, 10)
    data = ResponseData.from_dense(simulate_2pl(rng, rng.normal(size=300), a, b))
    free = calibrate(data, "2pl", compute_standard_errors=False)
    shrunk = calibrate(
        data, "2pl", priors=Priors(a_lognormal=(0.0, 0.2)), compute_standard_errors=False
    )
    assert np.mean(shrunk.params.a) < np.mean(free.params.a)


def grm_params(rng: np.random.Generator, n_items: int, n_cat: int) -> ItemParameters:
    a = rng.uniform(0.8, 2.0, n_items)
    thr = np.sort(rng.normal(0.0, 1.0, (n_items, n_cat - 1)), axis=1)
    thr += np.arange(n_cat - 1)[None, :] * 0.3  # keep boundaries apart
    return ItemParameters.from_thresholds("grm", a, thr)


def test_grm_recovery() -> None:
    rng = np.random.default_rng(21)
    true = grm_params(rng, 10, 4)
    thetas = rng.normal(size=3000)
    data = ResponseData.from_dense(simulate_polytomous(rng, thetas, true))
    res = calibrate(data, "grm")
    assert res.converged
    assert rmse(res.params.a, true.a) < 0.1
    assert rmse(res.params.thresholds, true.thresholds) < 0.1
    assert np.all(np.diff(res.params.thresholds, axis=1) > 0)
    assert np.all(np.isfinite(res.standard_errors.thresholds))


def test_gpcm_and_pcm_recovery() -> None:
    rng = np.random.default_rng(22)
    steps = rng.normal(0.0, 1.0, (8, 3))
    true = ItemParameters.from_thresholds("gpcm", rng.uniform(0.7, 1.8, 8), steps)
    thetas = rng.normal(size=3000)
    data = ResponseData.from_dense(simulate_polytomous(rng, thetas, true))
    res = calibrate(data, "gpcm")
    assert res.converged
    assert rmse(res.params.a, true.a) < 0.1
    assert rmse(res.params.thresholds, true.thresholds) < 0.15
    pcm_true = ItemParameters.from_thresholds("pcm", 1.0, steps)
    data = ResponseData.from_dense(simulate_polytomous(rng, thetas, pcm_true))
    pcm = calibrate(data, "pcm")
    assert np.all(pcm.params.a == 1.0)
    assert rmse(pcm.params.thresholds, steps) < 0.12


def test_mixed_format_calibration() -> None:
    """Theory items (0/1) and rubric-scored tasks (GRM) calibrated together."""
    rng = np.random.default_rng(23)
    dich = ItemParameters.from_abc(rng.uniform(0.7, 1.8, 20), rng.normal(0, 1, 20))
    poly = grm_params(rng, 5, 5)
    true = ItemParameters.concatenate([dich, poly])
    thetas = rng.normal(size=3000)
    data = ResponseData.from_dense(simulate_polytomous(rng, thetas, true))
    res = calibrate(data, ["2pl"] * 20 + ["grm"] * 5)
    assert res.models[:20] == ("2pl",) * 20 and res.models[20:] == ("grm",) * 5
    assert rmse(res.params.b[:20], dich.b) < 0.1
    assert rmse(res.params.thresholds[20:, :4], poly.thresholds) < 0.12


def test_fixed_parameter_calibration_puts_new_items_on_the_anchor_scale() -> None:
    """New items calibrated with anchors fixed at their bank values (Kim, 2006).

    The new sample is abler and more spread (N(0.5, 1.2^2)); a free calibration would put
    the new items on that sample's N(0, 1) scale, shifting b by about -0.5/1.2.
    """
    rng = np.random.default_rng(31)
    n_anchor, n_new = 20, 20
    a = rng.lognormal(0.0, 0.25, n_anchor + n_new)
    b = rng.normal(0.0, 1.0, n_anchor + n_new)
    thetas = rng.normal(0.5, 1.2, 5000)
    data = ResponseData.from_dense(simulate_2pl(rng, thetas, a, b))
    anchors = ItemParameters.from_abc(a[:n_anchor], b[:n_anchor])
    res = calibrate(data, "2pl", fixed_items=np.arange(n_anchor), fixed_params=anchors)
    assert res.converged
    np.testing.assert_allclose(res.params.a[:n_anchor], a[:n_anchor])
    np.testing.assert_allclose(res.params.b[:n_anchor], b[:n_anchor])
    assert np.all(np.isnan(res.standard_errors.b[:n_anchor]))
    assert res.population_mean == pytest.approx(0.5, abs=0.08)
    assert res.population_sd == pytest.approx(1.2, abs=0.08)
    assert rmse(res.params.b[n_anchor:], b[n_anchor:]) < 0.1
    assert rmse(res.params.a[n_anchor:], a[n_anchor:]) < 0.1
    free = calibrate(data, "2pl", compute_standard_errors=False)
    assert rmse(free.params.b[n_anchor:], b[n_anchor:]) > 0.3


# ----------------------------------------------------------------------------------------
# Input validation


def test_item_with_one_observed_category_is_refused() -> None:
    x = np.array([[0, 1], [1, 1], [0, 1], [1, 1]])
    with pytest.raises(InsufficientDataError, match="item 1"):
        calibrate(ResponseData.from_dense(x), "2pl")


def test_unobserved_middle_category_is_refused() -> None:
    x = np.array([[0, 0], [2, 1], [0, 1], [2, 0]])
    with pytest.raises(InsufficientDataError, match="category 1"):
        calibrate(ResponseData.from_dense(x), ["grm", "2pl"])


def test_fixed_items_need_params() -> None:
    rng = np.random.default_rng(0)
    data = ResponseData.from_dense(rng.integers(0, 2, (50, 4)))
    with pytest.raises(InvalidInputError, match="together"):
        calibrate(data, "2pl", fixed_items=[0])
    with pytest.raises(InvalidInputError, match="anchor"):
        calibrate(data, "2pl", estimate_population=True)


def test_booklet_and_sparse_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Candidates sharing a booklet are computed densely, others sparsely: same numbers."""
    import analysis.calibration as cal

    rng = np.random.default_rng(41)
    true = ItemParameters.concatenate(
        [
            ItemParameters.from_abc(rng.uniform(0.7, 1.8, 12), rng.normal(0, 1, 12)),
            grm_params(rng, 3, 4),
        ]
    )
    x = simulate_polytomous(rng, rng.normal(size=1500), true).astype(float)
    x[:500, :6] = np.nan  # booklet 1: items 6..14; booklet 2: all items
    data = ResponseData.from_dense(x)
    models = ["2pl"] * 12 + ["grm"] * 3
    dense = calibrate(data, models)
    monkeypatch.setattr(cal, "_MIN_BOOKLET", 10**9)
    sparse = calibrate(data, models)
    assert dense.n_iterations == sparse.n_iterations
    np.testing.assert_allclose(dense.params.thresholds, sparse.params.thresholds, atol=1e-9)
    np.testing.assert_allclose(dense.params.a, sparse.params.a, atol=1e-9)
    np.testing.assert_allclose(dense.standard_errors.b, sparse.standard_errors.b, rtol=1e-7)
    assert dense.log_likelihood == pytest.approx(sparse.log_likelihood, abs=1e-8)


def test_recovery_with_random_missing_responses() -> None:
    """40% of responses missing at random: no two candidates share a booklet."""
    rng = np.random.default_rng(43)
    a = rng.lognormal(0.0, 0.25, 30)
    b = rng.normal(0.0, 1.0, 30)
    x = simulate_2pl(rng, rng.normal(size=6000), a, b).astype(float)
    x[rng.random(x.shape) < 0.4] = np.nan
    res = calibrate(ResponseData.from_dense(x), "2pl")
    assert res.converged
    assert rmse(res.params.b, b) < 0.1
    assert rmse(res.params.a, a) < 0.1
    z_b = (res.params.b - b) / res.standard_errors.b
    assert 0.4 < np.mean(z_b**2) < 2.0


def test_item_block_standard_errors_fallback(
    lsat: ResponseData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks too large to invert densely fall back to per-item blocks, which understate:
    for a positive definite information I, [I^-1]_jj >= [I_jj]^-1 (Schur complement)."""
    import analysis.calibration as cal

    full = calibrate(lsat, "2pl")
    monkeypatch.setattr(cal, "_MAX_DENSE_BLOCK", 3)
    blocks = calibrate(lsat, "2pl")
    assert full.se_method == "xpd" and blocks.se_method == "xpd-item-blocks"
    np.testing.assert_allclose(blocks.params.b, full.params.b)
    assert np.all(np.isfinite(blocks.standard_errors.b))
    assert np.all(blocks.standard_errors.a <= full.standard_errors.a + 1e-12)
    assert np.any(blocks.standard_errors.a < 0.99 * full.standard_errors.a)
