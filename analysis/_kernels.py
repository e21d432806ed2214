"""Private vectorised kernels of the item response models in the working parameterisation.

Working (slope/intercept) parameters, used inside estimation and scoring:

* ``alpha = D * a`` (slope on the logit scale), ``d_k = -D * a * b_k`` (intercepts);
* dichotomous (Birnbaum, 1968):  P(1) = c + (1 - c) / (1 + exp(-(alpha x + d)));
* graded response (Samejima, 1969):  P*(k) = 1 / (1 + exp(-(alpha x + d_k))), k = 1..K-1,
  P(k) = P*(k) - P*(k+1) with P*(0) = 1, P*(K) = 0;
* generalised partial credit (Muraki, 1992):
  P(k) = exp(sum_{v<=k} (alpha x + d_v)) / sum_h exp(sum_{v<=h} (alpha x + d_v)), the empty
  sum being 0 for k = 0.

Shapes: ``x`` broadcasts against ``alpha`` (shape S); ``d`` has shape S + (K-1,); outputs have
shape S + (K,) and Jacobians S + (K, m), m = number of working parameters of the item
(alpha, d_1..d_{K-1}[, gamma]); gamma = logit(c) for the 3PL. The caller arranges S, e.g.
(n_items, n_nodes) in estimation and (n_responses,) in scoring.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import expit, log_softmax, softmax

FloatArray = npt.NDArray[np.float64]

DICHOTOMOUS = "dichotomous"
GRADED = "graded"
PARTIAL_CREDIT = "partial_credit"


def probabilities(
    family: str, x: FloatArray, alpha: FloatArray, d: FloatArray, c: FloatArray | None = None
) -> FloatArray:
    """Category probabilities, shape S + (K,)."""
    if family == DICHOTOMOUS:
        s = expit(alpha * x + d[..., 0])
        p1 = s if c is None else c + (1.0 - c) * s
        return np.stack([1.0 - p1, p1], axis=-1)
    if family == GRADED:
        s = expit((alpha * x)[..., None] + d)
        ones = np.ones(s.shape[:-1] + (1,))
        cum = np.concatenate([ones, s, np.zeros_like(ones)], axis=-1)
        return cum[..., :-1] - cum[..., 1:]
    if family == PARTIAL_CREDIT:
        return softmax(_gpcm_numerators(x, alpha, d), axis=-1)
    raise ValueError(f"unknown family {family!r}")


def log_probabilities(
    family: str, x: FloatArray, alpha: FloatArray, d: FloatArray, c: FloatArray | None = None
) -> FloatArray:
    """Log category probabilities, shape S + (K,), floored at log(1e-300)."""
    if family == DICHOTOMOUS and c is None:
        z = alpha * x + d[..., 0]
        return np.stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)], axis=-1)
    if family == PARTIAL_CREDIT:
        return log_softmax(_gpcm_numerators(x, alpha, d), axis=-1)
    return np.log(np.maximum(probabilities(family, x, alpha, d, c), 1e-300))


def probabilities_dtheta(
    family: str, x: FloatArray, alpha: FloatArray, d: FloatArray, c: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Category probabilities and their derivative in x (theta), both shape S + (K,)."""
    if family == DICHOTOMOUS:
        s = expit(alpha * x + d[..., 0])
        scale = 1.0 if c is None else 1.0 - c
        p1 = s if c is None else c + scale * s
        dp1 = scale * s * (1.0 - s) * alpha
        return np.stack([1.0 - p1, p1], axis=-1), np.stack([-dp1, dp1], axis=-1)
    if family == GRADED:
        s = expit((alpha * x)[..., None] + d)
        ones = np.ones(s.shape[:-1] + (1,))
        zeros = np.zeros_like(ones)
        cum = np.concatenate([ones, s, zeros], axis=-1)
        w = np.concatenate([zeros, s * (1.0 - s) * alpha[..., None], zeros], axis=-1)
        return cum[..., :-1] - cum[..., 1:], w[..., :-1] - w[..., 1:]
    if family == PARTIAL_CREDIT:
        p = softmax(_gpcm_numerators(x, alpha, d), axis=-1)
        k = np.arange(p.shape[-1], dtype=np.float64)
        mean_k = p @ k
        return p, p * alpha[..., None] * (k - mean_k[..., None])
    raise ValueError(f"unknown family {family!r}")


def probabilities_d2theta(
    family: str, x: FloatArray, alpha: FloatArray, d: FloatArray, c: FloatArray | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Category probabilities and their first and second derivatives in x, each S + (K,).

    Dichotomous: P1' = (1 - c) alpha s (1 - s), P1'' = (1 - c) alpha^2 s (1 - s)(1 - 2 s).
    Graded: the same for each boundary curve P*(k), differenced. Partial credit:
    P_k' = alpha P_k (k - m), P_k'' = alpha^2 P_k ((k - m)^2 - v), m and v the mean and variance
    of the category index (Muraki, 1992).
    """
    if family == DICHOTOMOUS:
        s = expit(alpha * x + d[..., 0])
        scale = 1.0 if c is None else 1.0 - c
        p1 = s if c is None else c + scale * s
        g = scale * s * (1.0 - s)
        d1 = g * alpha
        d2 = g * (1.0 - 2.0 * s) * alpha**2
        return (np.stack([1.0 - p1, p1], axis=-1), np.stack([-d1, d1], axis=-1),
                np.stack([-d2, d2], axis=-1))
    if family == GRADED:
        s = expit((alpha * x)[..., None] + d)
        ones = np.ones(s.shape[:-1] + (1,))
        zeros = np.zeros_like(ones)
        a = alpha[..., None]
        w1 = s * (1.0 - s) * a
        w2 = s * (1.0 - s) * (1.0 - 2.0 * s) * a * a
        cum = np.concatenate([ones, s, zeros], axis=-1)
        c1 = np.concatenate([zeros, w1, zeros], axis=-1)
        c2 = np.concatenate([zeros, w2, zeros], axis=-1)
        return cum[..., :-1] - cum[..., 1:], c1[..., :-1] - c1[..., 1:], c2[..., :-1] - c2[..., 1:]
    if family == PARTIAL_CREDIT:
        p = softmax(_gpcm_numerators(x, alpha, d), axis=-1)
        k = np.arange(p.shape[-1], dtype=np.float64)
        m = p @ k
        dev = k - m[..., None]
        v = np.sum(p * dev * dev, axis=-1)
        a = alpha[..., None]
        return p, a * p * dev, a * a * p * (dev * dev - v[..., None])
    raise ValueError(f"unknown family {family!r}")


def probabilities_jacobian(
    family: str,
    x: FloatArray,
    alpha: FloatArray,
    d: FloatArray,
    c: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Category probabilities S + (K,) and their Jacobian S + (K, m) in the working parameters.

    Columns: alpha, d_1..d_{K-1}, and gamma = logit(c) when ``c`` is given (3PL).
    """
    if family == DICHOTOMOUS:
        s = expit(alpha * x + d[..., 0])
        if c is None:
            p1 = s
            g = s * (1.0 - s)
            cols = [g * x, g]
        else:
            p1 = c + (1.0 - c) * s
            g = (1.0 - c) * s * (1.0 - s)
            cols = [g * x, g, (1.0 - s) * c * (1.0 - c)]
        dp1 = np.stack(np.broadcast_arrays(*cols), axis=-1)
        return np.stack([1.0 - p1, p1], axis=-1), np.stack([-dp1, dp1], axis=-2)
    if family == GRADED:
        s = expit((alpha * x)[..., None] + d)  # S + (K-1,)
        ones = np.ones(s.shape[:-1] + (1,))
        zeros = np.zeros_like(ones)
        cum = np.concatenate([ones, s, zeros], axis=-1)
        p = cum[..., :-1] - cum[..., 1:]
        n_cat = p.shape[-1]
        w = s * (1.0 - s)
        wpad = np.concatenate([zeros, w, zeros], axis=-1)
        jac = np.zeros(p.shape + (n_cat,))
        jac[..., 0] = (wpad[..., :-1] - wpad[..., 1:]) * np.asarray(x)[..., None]
        for v in range(1, n_cat):
            jac[..., v, v] += w[..., v - 1]
            jac[..., v - 1, v] -= w[..., v - 1]
        return p, jac
    if family == PARTIAL_CREDIT:
        p = softmax(_gpcm_numerators(x, alpha, d), axis=-1)
        n_cat = p.shape[-1]
        k = np.arange(n_cat, dtype=np.float64)
        mean_k = p @ k
        dlog = np.empty(p.shape + (n_cat,))
        dlog[..., 0] = np.asarray(x)[..., None] * (k - mean_k[..., None])
        # S_v = P(X >= v): reverse cumulative sum of p
        tail = np.cumsum(p[..., ::-1], axis=-1)[..., ::-1]
        for v in range(1, n_cat):
            dlog[..., v] = (k >= v).astype(np.float64) - tail[..., v : v + 1]
        return p, p[..., None] * dlog
    raise ValueError(f"unknown family {family!r}")


def _gpcm_numerators(x: FloatArray, alpha: FloatArray, d: FloatArray) -> FloatArray:
    z = (alpha * x)[..., None] + d  # S + (K-1,)
    zeros = np.zeros(z.shape[:-1] + (1,))
    return np.concatenate([zeros, np.cumsum(z, axis=-1)], axis=-1)
