"""Dichotomous IRT kernels: response probabilities, item/test information, expected scores.

Parameterisation (stated everywhere, stored with every result):
the three-parameter logistic model in the a/b/c form

    P(theta) = c + (1 - c) / (1 + exp(-D * a * (theta - b)))

with the logistic scale constant ``D`` passed explicitly (``D = 1.0`` is the logistic
metric used throughout this project; ``D = 1.702`` approximates the normal ogive).
Rasch/1PL is a = 1, c = 0; 2PL is c = 0.

Reference: Lord, F. M. (1980). *Applications of Item Response Theory to Practical Testing
Problems*, eq. 5-6 (item information of the 3PL); Baker & Kim (2004), *Item Response Theory:
Parameter Estimation Techniques*, 2nd ed., ch. 2.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from analysis import _kernels as _K
from analysis.parameters import ItemParameters

FloatArray = npt.NDArray[np.float64]

D_LOGISTIC = 1.0
D_NORMAL = 1.702


def _as_params(
    a: npt.ArrayLike, b: npt.ArrayLike, c: npt.ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    a_arr = np.atleast_1d(np.asarray(a, dtype=np.float64))
    b_arr = np.atleast_1d(np.asarray(b, dtype=np.float64))
    c_arr = np.zeros_like(b_arr) if c is None else np.atleast_1d(np.asarray(c, dtype=np.float64))
    a_arr, b_arr, c_arr = np.broadcast_arrays(a_arr, b_arr, c_arr)
    return a_arr, b_arr, c_arr


def probability_3pl(
    thetas: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    c: npt.ArrayLike | None = None,
    *,
    D: float = D_LOGISTIC,
) -> FloatArray:
    """Probability of a correct response under the 3PL (2PL when ``c`` is None or 0).

    Parameters
    ----------
    thetas : array, shape (n_thetas,)
    a, b, c : arrays, shape (n_items,)
        Discrimination, difficulty, lower asymptote.
    D : float
        Logistic scale constant.

    Returns
    -------
    array, shape (n_thetas, n_items)
    """
    t = np.atleast_1d(np.asarray(thetas, dtype=np.float64))[:, None]
    a_arr, b_arr, c_arr = _as_params(a, b, c)
    z = D * a_arr[None, :] * (t - b_arr[None, :])
    logistic = 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic
    return c_arr[None, :] + (1.0 - c_arr[None, :]) * logistic


def item_information_3pl(
    thetas: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    c: npt.ArrayLike | None = None,
    *,
    D: float = D_LOGISTIC,
) -> FloatArray:
    """Fisher information of 3PL items at each theta (Lord, 1980, eq. 5-6).

    I(theta) = D^2 a^2 (Q / P) ((P - c) / (1 - c))^2

    Returns
    -------
    array, shape (n_thetas, n_items)
    """
    a_arr, b_arr, c_arr = _as_params(a, b, c)
    p = probability_3pl(thetas, a_arr, b_arr, c_arr, D=D)
    p = np.clip(p, 1e-12, 1.0 - 1e-12)
    q = 1.0 - p
    ratio = (p - c_arr[None, :]) / (1.0 - c_arr[None, :])
    return (D * a_arr[None, :]) ** 2 * (q / p) * ratio**2


def test_information_3pl(
    thetas: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    c: npt.ArrayLike | None = None,
    *,
    D: float = D_LOGISTIC,
) -> FloatArray:
    """Test information: the sum of item information. Returns shape (n_thetas,)."""
    return item_information_3pl(thetas, a, b, c, D=D).sum(axis=1)


def expected_score_3pl(
    thetas: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    c: npt.ArrayLike | None = None,
    *,
    D: float = D_LOGISTIC,
    points: npt.ArrayLike | None = None,
) -> FloatArray:
    """Test characteristic curve: expected (weighted) number-correct score at each theta.

    ``points`` (shape (n_items,)) weights each item; default 1 point per item.

    Returns
    -------
    array, shape (n_thetas,)
    """
    p = probability_3pl(thetas, a, b, c, D=D)
    if points is None:
        return p.sum(axis=1)
    return p @ np.asarray(points, dtype=np.float64)


# --------------------------------------------------------------------------------------
# Any model (dichotomous and polytomous), through ItemParameters.
#
# Item information of a polytomous item is I(theta) = sum_k P_k'(theta)^2 / P_k(theta)
# (Samejima, 1969; Baker & Kim, 2004, eq. 9.33), which reduces to Lord's 3PL formula for
# K = 2. Expected item score is sum_k k P_k(theta).


def category_probabilities(thetas: npt.ArrayLike, params: ItemParameters) -> FloatArray:
    """Probability of each score category at each theta.

    Parameters
    ----------
    thetas : array, shape (n_thetas,)
    params : ItemParameters (any mix of models)

    Returns
    -------
    array, shape (n_thetas, n_items, max_categories)
        Zero beyond an item's last category; sums to 1 over the last axis.
    """
    x = np.atleast_1d(np.asarray(thetas, dtype=np.float64))
    out = np.zeros((x.size, params.n_items, int(params.n_categories.max())))
    for family, n_cat, is_3pl, items in params.groups():
        alpha, d, c = params.working(items)
        p = _K.probabilities(
            family, x[:, None], alpha[None, :], d[None, :, :], c[None, :] if is_3pl else None
        )
        out[:, items, :n_cat] = p
    return out


def item_information(thetas: npt.ArrayLike, params: ItemParameters) -> FloatArray:
    """Fisher information of each item at each theta, shape (n_thetas, n_items).

    Reference: Samejima (1969); Baker & Kim (2004), eq. 9.33; Muraki (1993) for the GPCM.
    """
    x = np.atleast_1d(np.asarray(thetas, dtype=np.float64))
    out = np.zeros((x.size, params.n_items))
    for family, _n_cat, is_3pl, items in params.groups():
        alpha, d, c = params.working(items)
        p, dp = _K.probabilities_dtheta(
            family, x[:, None], alpha[None, :], d[None, :, :], c[None, :] if is_3pl else None
        )
        out[:, items] = np.sum(dp * dp / np.maximum(p, 1e-300), axis=-1)
    return out


def test_information(thetas: npt.ArrayLike, params: ItemParameters) -> FloatArray:
    """Test information (sum of item information), shape (n_thetas,)."""
    return item_information(thetas, params).sum(axis=1)


def expected_item_scores(thetas: npt.ArrayLike, params: ItemParameters) -> FloatArray:
    """Expected score sum_k k P_k(theta) of each item, shape (n_thetas, n_items)."""
    probs = category_probabilities(thetas, params)
    return probs @ np.arange(probs.shape[-1], dtype=np.float64)


def expected_score(
    thetas: npt.ArrayLike, params: ItemParameters, *, points: npt.ArrayLike | None = None
) -> FloatArray:
    """Test characteristic curve: expected summed score at each theta, shape (n_thetas,).

    ``points`` (shape (n_items,)) multiplies each item's score (default 1 per score point).
    Reference: Lord (1980), eq. 4-5 (true score as the sum of item response functions).
    """
    scores = expected_item_scores(thetas, params)
    if points is None:
        return scores.sum(axis=1)
    return scores @ np.asarray(points, dtype=np.float64)
