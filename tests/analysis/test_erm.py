"""Agreement with R's eRm (Mair & Hatzinger, 2007), an independent CML implementation, on
data the tests simulate (fixed seeds) and on the shipped LSAT-6 patterns.

Targets (issue 16): centred difficulties and thresholds within 0.02, their standard errors
within 0.01, the conditional log-likelihood within 0.01; person ML estimates, infit/outfit
and Andersen's LR test as eRm reports them. eRm is required (Debian package r-cran-erm):
without it these tests fail, they never skip (see conftest.run_r).
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis import ItemParameters, ResponseData, andersen_lr_test, calibrate, item_fit, score_persons
from analysis.scoring import STATUS_OK

from .conftest import LSAT_PATTERNS, run_r, simulate_polytomous

TOL_LOCATION = 0.02
TOL_SE = 0.01
TOL_LOGLIK = 0.01


def _rasch_data(seed: int, n_persons: int, n_items: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0, 1.0, n_items)
    thetas = rng.normal(0.3, 1.2, n_persons)
    p = 1.0 / (1.0 + np.exp(-(thetas[:, None] - b[None, :])))
    return (rng.random(p.shape) < p).astype(float)


def _pcm_data(seed: int, n_persons: int, n_items: int, n_cat: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    thr = np.sort(rng.normal(0.0, 1.0, (n_items, n_cat - 1)), axis=1)
    params = ItemParameters.from_thresholds("pcm", 1.0, thr)
    return simulate_polytomous(rng, rng.normal(0.0, 1.0, n_persons), params).astype(float)


def _booklet_data(seed: int) -> np.ndarray:
    """Three forms of 15 items sharing 5 anchors (35 items); each candidate sits one form."""
    x = _rasch_data(seed, 900, 35)
    form = np.repeat([0, 1, 2], 300)
    for f in range(3):
        own = set(range(5)) | set(range(5 + 10 * f, 15 + 10 * f))
        x[np.ix_(form == f, [j for j in range(35) if j not in own])] = np.nan
    return x


def _lsat() -> np.ndarray:
    return np.repeat(LSAT_PATTERNS[:, :5], LSAT_PATTERNS[:, 5], axis=0).astype(float)


PEER_SCRIPT = r"""
rasch <- function(tag, X, fit_stats, lr_test = fit_stats) {
  fit <- RM(X)
  out(paste0(tag, ".b"), -fit$betapar)
  out(paste0(tag, ".se"), fit$se.beta)
  out(paste0(tag, ".loglik"), fit$loglik)
  if (fit_stats) {
    pp <- person.parameter(fit)
    th <- coef(pp)
    out(paste0(tag, ".theta"), th)
    f <- itemfit(pp)
    out(paste0(tag, ".outfit"), f$i.outfitMSQ)
    out(paste0(tag, ".infit"), f$i.infitMSQ)
    out(paste0(tag, ".outfitZ"), f$i.outfitZ)
    out(paste0(tag, ".infitZ"), f$i.infitZ)
  }
  if (lr_test) {
    lr <- LRtest(fit, se = FALSE)
    out(paste0(tag, ".LR"), c(lr$LR, lr$df, lr$pvalue))
  }
}
rasch("rm", rd("rm"), TRUE)
# LSAT-6: above the median (4) every candidate has full marks, so no median-split LR test
rasch("lsat", rd("lsat"), TRUE, FALSE)
rasch("booklets", rd("booklets"), FALSE)
X <- rd("pcm")
fit <- PCM(X)
th <- thresholds(fit)
out("pcm.thr", as.vector(t(th$threshtable[[1]][, -1])))
out("pcm.se", th$se.thresh)
out("pcm.loglik", fit$loglik)
pp <- person.parameter(fit)
out("pcm.theta", coef(pp))
f <- itemfit(pp)
out("pcm.outfit", f$i.outfitMSQ)
out("pcm.infit", f$i.infitMSQ)
out("pcm.outfitZ", f$i.outfitZ)
out("pcm.infitZ", f$i.infitZ)
lr <- LRtest(fit, se = FALSE)
out("pcm.LR", c(lr$LR, lr$df, lr$pvalue))
"""


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    data = {"rm": _rasch_data(61, 500, 25), "pcm": _pcm_data(62, 400, 10, 4), "booklets": _booklet_data(63),
            "lsat": _lsat()}
    erm = run_r(PEER_SCRIPT, data, tmp_path_factory.mktemp("erm"))
    return {"data": data, "erm": erm}


def _centred(x: np.ndarray) -> np.ndarray:
    return x - x.mean()


@pytest.mark.parametrize("tag", ["rm", "lsat", "booklets"])
def test_rasch_cml_agrees_with_erm(peer: dict, tag: str) -> None:
    x = peer["data"][tag]
    erm = peer["erm"]
    res = calibrate(ResponseData.from_dense(x), "rasch", method="cml")
    assert res.status == "converged" and res.converged and res.method == "cml"
    b = res.params.b
    assert np.max(np.abs(_centred(b) - _centred(erm[f"{tag}.b"]))) < TOL_LOCATION
    # our SEs are those of the centred difficulties, which is eRm's sum-zero normalisation
    assert np.max(np.abs(res.standard_errors.b - erm[f"{tag}.se"])) < TOL_SE
    assert res.log_likelihood == pytest.approx(erm[f"{tag}.loglik"][0], abs=TOL_LOGLIK)
    # the covariance matrix holds the same standard errors
    assert np.allclose(np.sqrt(res.covariance.dense().diagonal()), res.standard_errors.b)


def test_pcm_cml_agrees_with_erm(peer: dict) -> None:
    x = peer["data"]["pcm"]
    erm = peer["erm"]
    res = calibrate(ResponseData.from_dense(x), "pcm", method="cml")
    assert res.converged
    thr = res.params.thresholds.ravel()
    assert np.max(np.abs(_centred(thr) - _centred(erm["pcm.thr"]))) < TOL_LOCATION
    assert res.log_likelihood == pytest.approx(erm["pcm.loglik"][0], abs=TOL_LOGLIK)
    # eRm normalises the cumulative category parameters beta_ih = -sum_{k<=h} tau_ik to sum 0,
    # i.e. sum_i sum_k (m_i - k + 1) tau_ik = 0: the SEs of the thresholds under that constraint
    # come from our covariance matrix
    V = res.covariance.dense()
    m = res.params.n_categories - 1
    w = np.concatenate([np.arange(mi, 0, -1) for mi in m]).astype(float)
    w /= w.sum()
    C = np.eye(w.size) - np.outer(np.ones(w.size), w)
    se_erm_basis = np.sqrt(np.diag(C @ V @ C.T))
    assert np.max(np.abs(se_erm_basis - erm["pcm.se"])) < TOL_SE
    # and our own (centred) SEs differ from them by the normalisation only, which is small here
    assert np.max(np.abs(res.standard_errors.thresholds.ravel() - erm["pcm.se"])) < 0.02


@pytest.mark.parametrize("tag", ["rm", "lsat", "pcm"])
def test_person_ml_infit_outfit_and_lr_test_agree_with_erm(peer: dict, tag: str) -> None:
    x = peer["data"][tag]
    erm = peer["erm"]
    data = ResponseData.from_dense(x)
    model = "pcm" if tag == "pcm" else "rasch"
    res = calibrate(data, model, method="cml")
    ml = score_persons(data, res.params, method="ml", bounds=(-10, 10))
    ok = ml.status == STATUS_OK  # eRm extrapolates extreme scores; ML has no estimate there
    assert ok.sum() > 0.6 * data.n_persons
    # the same origin as eRm's item parameters (for the PCM eRm centres the cumulative category
    # parameters, not the thresholds: a shift of every threshold and ability alike)
    erm_thr = erm["pcm.thr"] if tag == "pcm" else erm[f"{tag}.b"]
    shift = float(np.nanmean(res.params.thresholds) - np.mean(erm_thr))
    assert np.max(np.abs(ml.thetas[ok] - shift - erm[f"{tag}.theta"][ok])) < TOL_LOCATION
    fit = item_fit(data, res.params)
    assert np.max(np.abs(fit.outfit_msq - erm[f"{tag}.outfit"])) < 0.01
    assert np.max(np.abs(fit.infit_msq - erm[f"{tag}.infit"])) < 0.01
    assert np.max(np.abs(fit.outfit_t - erm[f"{tag}.outfitZ"])) < 0.05
    assert np.max(np.abs(fit.infit_t - erm[f"{tag}.infitZ"])) < 0.05
    if tag == "lsat":
        return
    lr = andersen_lr_test(data, model)
    stat, df, p = erm[f"{tag}.LR"]
    assert lr.df == int(df)
    assert lr.statistic == pytest.approx(stat, abs=0.05)
    assert lr.p_value == pytest.approx(p, abs=0.005)
