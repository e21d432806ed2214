"""Infit/outfit and Andersen's LR test: the formulas by hand, and their behaviour on data that
fit and on data that do not (fixed seeds). (Agreement with eRm: test_erm.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from analysis import ItemParameters, ResponseData, andersen_lr_test, calibrate, item_fit, median_split
from analysis.errors import InvalidInputError


def _rasch(rng: np.random.Generator, thetas: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (rng.random((thetas.size, b.size)) < 1 / (1 + np.exp(-(thetas[:, None] - b[None, :])))).astype(int)


def test_infit_and_outfit_by_hand() -> None:
    params = ItemParameters.from_abc(1.0, [-0.5, 0.0, 0.8], model="rasch")
    x = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0], [1, 1, 1]])
    thetas = np.array([0.3, -0.2, np.nan, 1.1])  # person 2 left out
    fit = item_fit(ResponseData.from_dense(x), params, thetas=thetas)
    keep = [0, 1, 3]
    p = 1 / (1 + np.exp(-(thetas[keep, None] - params.b[None, :])))
    v = p * (1 - p)
    resid = x[keep] - p
    c = v * ((1 - p) ** 3 + p**3)  # fourth central moment of a 0/1 score
    outfit = np.mean(resid**2 / v, axis=0)
    infit = np.sum(resid**2, axis=0) / np.sum(v, axis=0)
    q_out = np.sqrt(np.sum(c / v**2, axis=0) / 9 - 1 / 3)
    q_in = np.sqrt(np.sum(c - v**2, axis=0) / np.sum(v, axis=0) ** 2)
    np.testing.assert_allclose(fit.outfit_msq, outfit)
    np.testing.assert_allclose(fit.infit_msq, infit)
    np.testing.assert_allclose(fit.outfit_t, (np.cbrt(outfit) - 1) * 3 / q_out + q_out / 3)
    np.testing.assert_allclose(fit.infit_t, (np.cbrt(infit) - 1) * 3 / q_in + q_in / 3)
    assert fit.n.tolist() == [3, 3, 3] and fit.n_persons == 3


def test_fit_statistics_flag_a_miskeyed_and_a_random_item_only() -> None:
    rng = np.random.default_rng(11)
    b = rng.normal(0.0, 1.0, 20)
    x = _rasch(rng, rng.normal(size=2000), b)
    x[:, 3] = 1 - x[:, 3]  # wrong key
    x[:, 7] = rng.integers(0, 2, 2000)  # answered at random
    data = ResponseData.from_dense(x)
    res = calibrate(data, "rasch", method="cml")
    fit = item_fit(data, res.params)
    bad = {3, 7}
    assert all(fit.outfit_msq[j] > 1.3 and fit.outfit_t[j] > 4 for j in bad)
    assert all(fit.infit_msq[j] > 1.2 and fit.infit_t[j] > 4 for j in bad)
    good = [j for j in range(20) if j not in bad]
    assert np.all(np.abs(fit.infit_msq[good] - 1) < 0.2)


def test_lr_test_keeps_a_rasch_model_and_rejects_differential_item_functioning() -> None:
    rng = np.random.default_rng(12)
    b = rng.normal(0.0, 1.0, 15)
    thetas = rng.normal(size=2000)
    x = _rasch(rng, thetas, b)
    data = ResponseData.from_dense(x)
    lr = andersen_lr_test(data)
    assert lr.status == "ok" and lr.df == 14
    assert lr.p_value > 0.01  # the model holds (fixed seed)
    assert lr.statistic == pytest.approx(2 * (lr.group_log_likelihoods.sum() - lr.log_likelihood))
    assert lr.group_sizes.sum() == 2000
    # DIF: item 4 is 1.2 logits harder for the second group of candidates
    group = np.repeat([0, 1], 1000)
    shifted = b.copy()
    shifted[4] += 1.2
    y = np.vstack([_rasch(rng, thetas[:1000], b), _rasch(rng, thetas[1000:], shifted)])
    dif = andersen_lr_test(ResponseData.from_dense(y), groups=group)
    assert dif.p_value < 1e-6 and dif.statistic > 40
    # the median split is computed per booklet (candidates with the same items)
    split = median_split(data)
    raw = x.sum(axis=1)
    assert np.array_equal(split, (raw > np.median(raw)).astype(int))


def test_lr_test_leaves_out_items_a_group_cannot_estimate_and_names_them() -> None:
    rng = np.random.default_rng(13)
    x = _rasch(rng, rng.normal(size=600), rng.normal(0, 1, 8))
    group = np.repeat([0, 1], 300)
    x[:300, 5] = 1  # everybody in group 0 solved item 5
    lr = andersen_lr_test(ResponseData.from_dense(x), groups=group)
    assert lr.left_out.tolist() == [5] and 5 not in lr.items.tolist()
    assert lr.df == 6
    assert lr.problems[0].params["items"] == [5]
    with pytest.raises(InvalidInputError):
        andersen_lr_test(ResponseData.from_dense(x), groups=np.zeros(600, dtype=int))
