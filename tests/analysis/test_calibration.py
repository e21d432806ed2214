"""MML-EM calibration: published reference values, recovery with fixed seeds, sparse designs."""

from __future__ import annotations

import numpy as np
import pytest

from scipy.optimize import minimize

from analysis import _estep, _information
from analysis.calibration import Priors, calibrate
from analysis.errors import InsufficientDataError, InvalidInputError
from analysis.parameters import ItemParameters
from analysis.quadrature import Quadrature, gauss_hermite_quadrature
from analysis.responses import ResponseData
from analysis.scoring import _loglik_inputs

from .conftest import english, simulate_2pl, simulate_polytomous


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
    # both are SEs from the observed information (ltm: the Hessian): agree within 1%
    assert res.se_method == "observed"
    np.testing.assert_allclose(res.standard_errors.b, LTM_2PL_SE_B, rtol=0.01)
    np.testing.assert_allclose(res.standard_errors.a, LTM_2PL_SE_A, rtol=0.01)
    # the cross-product estimate stays available as a documented option; it differs
    xpd = calibrate(lsat, "2pl", quadrature=gauss_hermite_quadrature(21), standard_errors="xpd")
    assert xpd.se_method == "xpd"
    assert np.max(np.abs(xpd.standard_errors.b / res.standard_errors.b - 1)) > 0.02


def _marginal_loglik(data: ResponseData, params: ItemParameters, quad: Quadrature, mean: float, sd: float) -> float:
    """Independent marginal log-likelihood: sum_p w_p log sum_q A_q prod_j P_j(x_pj | X_q)."""
    nodes = mean + sd * quad.nodes
    Y, table = _loglik_inputs(data, params, nodes)
    L = np.asarray(Y @ table) + np.log(quad.weights)[None, :]
    peak = L.max(axis=1)
    return float(data.person_weights @ (peak + np.log(np.exp(L - peak[:, None]).sum(axis=1))))


def test_rasch_mml_estimates_the_population_sd_and_matches_a_direct_maximisation(lsat: ResponseData) -> None:
    """Rasch-family MML: a = 1 and the latent SD estimated (mean 0). Checked against a direct
    quasi-Newton maximisation of the same marginal likelihood (scipy), whose numerical Hessian
    also gives the standard errors of b and sigma."""
    quad = gauss_hermite_quadrature(21)
    res = calibrate(lsat, "rasch", quadrature=quad, tolerance=1e-7)
    assert res.converged and res.status == "converged"
    assert np.all(res.params.a == 1.0) and res.population_mean == 0.0

    def negative(theta: np.ndarray) -> float:
        params = ItemParameters.from_abc(1.0, theta[:5], model="rasch")
        return -_marginal_loglik(lsat, params, quad, 0.0, float(np.exp(theta[5])))

    best = minimize(negative, np.zeros(6), method="BFGS", options={"gtol": 1e-9})
    np.testing.assert_allclose(res.params.b, best.x[:5], atol=2e-4)
    assert res.population_sd == pytest.approx(np.exp(best.x[5]), abs=2e-4)
    assert res.log_likelihood == pytest.approx(-best.fun, abs=1e-6)
    # SEs: numerical Hessian in (b, sigma) against the observed information (Louis)
    point = np.concatenate([best.x[:5], [np.exp(best.x[5])]])

    def f(v: np.ndarray) -> float:
        return negative(np.concatenate([v[:5], [np.log(v[5])]]))

    H = _numerical_hessian(f, point, 1e-4)
    se = np.sqrt(np.diag(np.linalg.inv(H)))
    np.testing.assert_allclose(res.standard_errors.b, se[:5], rtol=2e-3)
    cov = res.covariance
    assert cov.kinds[-1] == "sd"
    assert np.sqrt(cov.dense()[-1, -1]) == pytest.approx(se[5], rel=2e-3)
    # the Rasch model fits LSAT-6 about as well as the 2PL (Bock & Aitkin, 1981): LR < 4 on 4 df
    two = calibrate(lsat, "2pl", quadrature=quad)
    assert 0.0 <= 2 * (two.log_likelihood - res.log_likelihood) < 4.0
    # "1pl" is the same model under another name
    one = calibrate(lsat, "1pl", quadrature=quad, tolerance=1e-7)
    np.testing.assert_allclose(one.params.b, res.params.b, atol=1e-5)
    # the SD can still be fixed at 1 on request (a different, worse-fitting model)
    fixed = calibrate(lsat, "rasch", quadrature=quad, estimate_population=False)
    assert fixed.population_sd == 1.0 and fixed.log_likelihood < res.log_likelihood


def _numerical_hessian(f, x: np.ndarray, h: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    n = x.size
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            e_i, e_j = np.eye(n)[i] * h, np.eye(n)[j] * h
            H[i, j] = H[j, i] = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (4 * h * h)
    return H


@pytest.mark.parametrize("model", ["2pl", "3pl", "grm", "gpcm", "pcm"])
def test_observed_information_equals_the_numerical_hessian_of_the_marginal_likelihood(model: str) -> None:
    """The Louis-identity covariance equals the inverse of a finite-difference Hessian of the
    marginal log-posterior in the reported parameters (a, thresholds, c, population SD)."""
    rng = np.random.default_rng(97)
    n_items = 4
    if model in ("2pl", "3pl"):
        true = ItemParameters.from_abc(rng.uniform(0.8, 1.6, n_items), rng.normal(0, 1, n_items),
                                       [0.2] * n_items if model == "3pl" else None, model=model)
    else:
        thr = np.sort(rng.normal(0, 1, (n_items, 2)), axis=1) + np.array([[-0.3, 0.3]])
        true = ItemParameters.from_thresholds(model, 1.0 if model == "pcm" else rng.uniform(0.8, 1.6, n_items), thr)
    n_persons = 2500 if model == "3pl" else 600  # the 3PL needs more candidates to be stable
    data = ResponseData.from_dense(simulate_polytomous(rng, rng.normal(size=n_persons), true))
    quad = gauss_hermite_quadrature(21)
    res = calibrate(data, model, quadrature=quad, tolerance=1e-8)
    assert res.converged and res.se_method == "observed"
    cov = res.covariance
    p = res.params
    rows = list(zip(cov.items.tolist(), cov.kinds, cov.steps.tolist()))

    def log_posterior(v: np.ndarray) -> float:
        a, c, thr = p.a.copy(), p.c.copy(), p.thresholds.copy()
        sd = res.population_sd
        for value, (j, kind, step) in zip(v, rows):
            if kind == "a":
                a[j] = value
            elif kind == "c":
                c[j] = value
            elif kind == "threshold":
                thr[j, step - 1] = value
            elif kind == "sd":
                sd = value
        params = ItemParameters.from_thresholds(p.models, a, thr, c=c, D=p.D)
        prior = 0.0
        if model == "3pl":  # the Beta(5, 17) prior on c enters the MAP information
            prior = float(np.sum(4 * np.log(c) + 16 * np.log1p(-c)))
        return _marginal_loglik(data, params, quad, 0.0, sd) + prior

    point = []
    for j, kind, step in rows:
        point.append({"a": p.a[j], "c": p.c[j], "threshold": p.thresholds[j, step - 1] if step else 0.0,
                      "sd": res.population_sd}[kind])
    H = _numerical_hessian(lambda v: -log_posterior(v), np.asarray(point), 1e-4)
    V = np.linalg.inv(H)
    np.testing.assert_allclose(np.sqrt(np.diag(cov.dense())), np.sqrt(np.diag(V)), rtol=5e-3)
    np.testing.assert_allclose(cov.dense(), V, atol=5e-3 * np.max(np.abs(V)))


def test_observed_information_with_anchors_includes_the_population_mean_and_sd() -> None:
    rng = np.random.default_rng(98)
    a = rng.lognormal(0.0, 0.2, 8)
    b = rng.normal(0.0, 1.0, 8)
    data = ResponseData.from_dense(simulate_2pl(rng, rng.normal(0.4, 1.3, 800), a, b))
    anchors = ItemParameters.from_abc(a[:4], b[:4])
    quad = gauss_hermite_quadrature(21)
    res = calibrate(data, "2pl", fixed_items=np.arange(4), fixed_params=anchors, quadrature=quad, tolerance=1e-8)
    assert res.converged
    cov = res.covariance
    assert cov.kinds[-2:] == ("mean", "sd") and set(cov.items[:-2].tolist()) == {4, 5, 6, 7}
    p = res.params
    rows = list(zip(cov.items.tolist(), cov.kinds, cov.steps.tolist()))

    def negative(v: np.ndarray) -> float:
        a_, thr = p.a.copy(), p.thresholds.copy()
        mean, sd = res.population_mean, res.population_sd
        for value, (j, kind, step) in zip(v, rows):
            if kind == "a":
                a_[j] = value
            elif kind == "threshold":
                thr[j, 0] = value
            elif kind == "mean":
                mean = value
            else:
                sd = value
        return -_marginal_loglik(data, ItemParameters.from_thresholds(p.models, a_, thr), quad, mean, sd)

    point = np.array([{"a": p.a[j], "threshold": p.thresholds[j, 0], "mean": res.population_mean,
                       "sd": res.population_sd}[kind] for j, kind, _s in rows])
    V = np.linalg.inv(_numerical_hessian(negative, point, 1e-4))
    np.testing.assert_allclose(np.sqrt(np.diag(cov.dense())), np.sqrt(np.diag(V)), rtol=1e-2)
    # centred SEs can be formed from the covariance: b_j - mean(b) of the free items
    se_c = cov.centred_threshold_errors()
    assert np.all(np.isfinite(se_c[np.asarray(cov.kinds) == "threshold"]))


def test_plain_em_increases_the_likelihood_every_step(lsat: ResponseData) -> None:
    res = calibrate(lsat, "2pl", accelerate=False, tolerance=1e-6)
    assert res.converged
    assert np.all(np.diff(res.log_likelihood_history) >= -1e-9)
    fast = calibrate(lsat, "2pl", tolerance=1e-6)
    assert fast.n_iterations < res.n_iterations
    np.testing.assert_allclose(fast.params.b, res.params.b, atol=1e-3)


def test_non_convergence_is_reported_not_raised(lsat: ResponseData) -> None:
    res = calibrate(lsat, "2pl", max_iterations=2, accelerate=False)
    assert not res.converged and res.status == "not_converged"
    assert res.n_iterations == 2
    assert "not converged" in res.message.english()
    assert any("not converged" in p.english() for p in res.problems)


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
    assert res.se_method == "observed"
    # same answer from the dense matrix with NaN for the cells not administered
    dense = ResponseData.from_dense(data.to_dense())
    res2 = calibrate(dense, "2pl", standard_errors="none")
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
    free = calibrate(data, "2pl", standard_errors="none")
    shrunk = calibrate(data, "2pl", priors=Priors(a_lognormal=(0.0, 0.2)), standard_errors="none")
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
    free = calibrate(data, "2pl", standard_errors="none")
    assert rmse(free.params.b[n_anchor:], b[n_anchor:]) > 0.3


# ----------------------------------------------------------------------------------------
# Input validation


def test_item_with_one_observed_category_is_refused() -> None:
    x = np.array([[0, 1], [1, 1], [0, 1], [1, 1]])
    with pytest.raises(InsufficientDataError) as err:
        calibrate(ResponseData.from_dense(x), "2pl")
    assert err.value.params["item"] == 1 and "never observed" in english(err.value)


def test_unobserved_middle_category_is_refused() -> None:
    x = np.array([[0, 0], [2, 1], [0, 1], [2, 0]])
    with pytest.raises(InsufficientDataError) as err:
        calibrate(ResponseData.from_dense(x), ["grm", "2pl"])
    assert "score category 1 was never observed" in english(err.value)


def test_fixed_items_need_params() -> None:
    rng = np.random.default_rng(0)
    data = ResponseData.from_dense(rng.integers(0, 2, (50, 4)))
    with pytest.raises(InvalidInputError) as err:
        calibrate(data, "2pl", fixed_items=[0])
    assert "together" in english(err.value)
    with pytest.raises(InvalidInputError) as err:
        calibrate(data, "2pl", estimate_population=True)
    assert "anchor items" in english(err.value) and "not identified" in english(err.value)


def test_booklet_and_sparse_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Candidates sharing a booklet are computed densely, others sparsely: same numbers."""
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
    monkeypatch.setattr(_estep, "MIN_BOOKLET", 10**9)
    sparse = calibrate(data, models)
    assert dense.n_iterations == sparse.n_iterations
    np.testing.assert_allclose(dense.params.thresholds, sparse.params.thresholds, atol=1e-9)
    np.testing.assert_allclose(dense.params.a, sparse.params.a, atol=1e-9)
    np.testing.assert_allclose(dense.standard_errors.b, sparse.standard_errors.b, rtol=1e-7)
    np.testing.assert_allclose(dense.covariance.dense(), sparse.covariance.dense(), atol=1e-9)
    # the XPD option too
    monkeypatch.setattr(_estep, "MIN_BOOKLET", 32)
    x_dense = calibrate(data, models, standard_errors="xpd")
    monkeypatch.setattr(_estep, "MIN_BOOKLET", 10**9)
    x_sparse = calibrate(data, models, standard_errors="xpd")
    np.testing.assert_allclose(x_dense.standard_errors.b, x_sparse.standard_errors.b, rtol=1e-7)
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
    full = calibrate(lsat, "2pl")
    monkeypatch.setattr(_information, "MAX_DENSE_BLOCK", 3)
    blocks = calibrate(lsat, "2pl")
    assert full.se_method == "observed" and blocks.se_method == "observed-item-blocks"
    np.testing.assert_allclose(blocks.params.b, full.params.b)
    assert np.all(np.isfinite(blocks.standard_errors.b))
    assert np.all(blocks.standard_errors.a <= full.standard_errors.a + 1e-12)
    assert np.any(blocks.standard_errors.a < 0.99 * full.standard_errors.a)


# ----------------------------------------------------------------------------------------
# Models must fit the data; negative discrimination; identification


@pytest.mark.parametrize("model", ["2pl", "3pl", "rasch", "1pl"])
def test_a_dichotomous_model_on_rubric_scores_is_refused_naming_the_item(model: str) -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2, (200, 4))
    x[:, 2] = rng.integers(0, 3, 200)  # scored 0..2
    with pytest.raises(InvalidInputError) as err:
        calibrate(ResponseData.from_dense(x), model)
    assert err.value.params["item"] == 2
    assert f"model {model} is for items scored 0/1" in english(err.value)
    assert "3 score categories" in english(err.value) and "gpcm, grm or pcm" in english(err.value)
    # per-item models: the rubric item gets a polytomous model and the calibration runs
    ok = calibrate(ResponseData.from_dense(x), [model, model, "gpcm", model], standard_errors="none")
    assert ok.models[2] == "gpcm"


def test_a_reverse_keyed_item_gets_a_negative_slope_and_is_flagged_as_a_suspected_miskey() -> None:
    rng = np.random.default_rng(17)
    a = rng.uniform(0.8, 1.6, 12)
    b = rng.normal(0.0, 0.8, 12)
    x = simulate_2pl(rng, rng.normal(size=3000), a, b)
    x[:, 5] = 1 - x[:, 5]  # the key of item 5 is wrong: abler candidates "fail" it
    res = calibrate(ResponseData.from_dense(x), "2pl")
    assert res.converged
    # estimated with a signed slope: a < 0 and a finite difficulty, not a = 6e-10, b = 1e9
    assert res.params.a[5] == pytest.approx(-a[5], abs=0.2)
    assert res.params.b[5] == pytest.approx(b[5], abs=0.2)
    assert np.isfinite(res.standard_errors.a[5]) and res.standard_errors.a[5] < 0.2
    assert res.suspected_miskeys.tolist() == [5]
    note = [p for p in res.problems if p.params.get("item") == 5]
    assert note and "suspected miskey" in note[0].english() and note[0].params["r"] < 0
    # the other items are unaffected
    others = np.delete(np.arange(12), 5)
    assert rmse(res.params.a[others], a[others]) < 0.1
    # in a Rasch-family model the slope cannot turn; the classical statistics flag the item
    rasch = calibrate(ResponseData.from_dense(x), "rasch", method="cml")
    assert rasch.suspected_miskeys.tolist() == [5]
    assert "item-rest correlation is negative" in [p for p in rasch.problems if p.params.get("item") == 5][0].english()


def _status(res) -> tuple[str, bool, list[str]]:  # type: ignore[no-untyped-def]
    return res.status, res.converged, [p.english() for p in res.problems]


@pytest.mark.parametrize("model", ["2pl", "rasch"])
def test_one_item_is_not_identified(model: str) -> None:
    x = np.random.default_rng(1).integers(0, 2, (500, 1))
    status, converged, problems = _status(calibrate(ResponseData.from_dense(x), model))
    assert (status, converged) == ("not_identified", False)
    assert "distinct answer patterns" in problems[0]
    cml = calibrate(ResponseData.from_dense(x), "rasch", method="cml")
    assert (cml.status, cml.converged) == ("not_identified", False)


def test_two_candidates_do_not_identify_a_2pl_calibration() -> None:
    x = np.array([[1, 0, 1, 1, 0, 1, 0, 1, 1, 0], [0, 1, 0, 0, 1, 0, 1, 0, 0, 1]])
    status, converged, problems = _status(calibrate(ResponseData.from_dense(x), "2pl"))
    assert (status, converged) == ("not_identified", False)
    assert "20 free parameters" in problems[0] and "2 distinct answer patterns" in problems[0]


@pytest.mark.parametrize(("model", "method"), [("2pl", "mml"), ("rasch", "mml"), ("rasch", "cml")])
def test_guttman_data_are_not_identified(model: str, method: str) -> None:
    """Every candidate who got a harder item right got every easier one right too."""
    n_items = 6
    rows = [[1] * k + [0] * (n_items - k) for k in range(n_items + 1)]
    pure = calibrate(ResponseData.from_dense(np.array(rows * 50)), model, method=method)
    assert (pure.status, pure.converged) == ("not_identified", False)
    assert pure.problems
    # a Guttman pattern between two groups of items, with plenty of distinct patterns: whoever
    # scored on any of the hard items 3..7 had all easy items 0..2 right
    rng = np.random.default_rng(4)
    easy = rng.integers(0, 2, (400, 3))
    hard = rng.integers(0, 2, (400, 5))
    low = rng.random(400) < 0.5
    x = np.where(low[:, None], np.hstack([easy, np.zeros((400, 5), int)]), np.hstack([np.ones((400, 3), int), hard]))
    res = calibrate(ResponseData.from_dense(x), model, method=method)
    assert (res.status, res.converged) == ("not_identified", False)
    guttman = [p for p in res.problems if "Guttman" in p.english()]
    assert guttman and guttman[0].params["items"] == [0, 1, 2]


def test_estimates_running_off_are_not_reported_as_converged() -> None:
    """Perfect separation on one item (everyone above the middle scores on it, nobody below)
    passes the structural checks but drives its slope off: reported, not 'converged'."""
    rng = np.random.default_rng(9)
    thetas = rng.normal(size=2000)
    b = rng.normal(0, 1, 8)
    x = simulate_2pl(rng, thetas, np.ones(8), b)
    x[:, 0] = (thetas > 0).astype(int)
    res = calibrate(ResponseData.from_dense(x), "2pl")
    assert (res.status, res.converged) == ("not_identified", False)
    assert any("ran beyond" in p.english() or "not positive definite" in p.english() for p in res.problems)
