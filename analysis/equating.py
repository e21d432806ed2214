"""Observed-score and IRT true-score equating of raw scores between forms.

Random-groups designs (each form taken by a randomly equivalent group; with one-of-many
forms per session this is how forms are spread), raw scores 0..max on each form.

* Linear equating (Kolen & Brennan, 2014, eq. 2.2x):
  l_Y(x) = (sd_Y / sd_X) (x - mean_X) + mean_Y.
* Equipercentile equating with optional log-linear presmoothing (Kolen & Brennan, 2014,
  sec. 2.5 and 3.2): percentile ranks with the continuisation x - 0.5 .. x + 0.5
  (eq. 2.14), e_Y(x) = Q_Y(P_X(x)) through the upper-percentile inverse (eq. 2.18).
  Presmoothing fits a polynomial log-linear model of degree C to each frequency
  distribution (Holland & Thayer, 2000), which preserves the first C moments. Without
  presmoothing, relative frequencies are floored at 1e-6 so that the inverse exists
  (Kolen & Brennan, 2014, p. 54 suggest such an adjustment).
* IRT true-score equating (Lord, 1980; Kolen & Brennan, 2014, sec. 6.6): for each raw score x
  of form X, theta = T_X^{-1}(x) and e_Y(x) = T_Y(theta); scores below the sum of the 3PL
  lower asymptotes follow Kolen & Brennan's linear extrapolation (eq. 6.26) between (0, 0)
  and (sum c_X, sum c_Y); the top score maps to the top score. Parameters of both forms
  must be on one scale (see :mod:`analysis.linking`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.errors import InvalidInputError
from analysis.information import expected_score
from analysis.parameters import ItemParameters
from analysis.scoring import invert_tcc

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class EquatingResult:
    """Raw scores of form X and their equivalents on the scale of form Y.

    Attributes
    ----------
    raw_scores : int array, shape (max_x + 1,)
    equated : array, shape (max_x + 1,)
        Form-Y equivalent of each form-X raw score (not rounded).
    method : str
        ``"linear"``, ``"equipercentile"`` or ``"irt_true_score"``.
    presmoothing_degree : int or None
    slope, intercept : float
        Linear method only (NaN otherwise).
    """

    raw_scores: IntArray
    equated: FloatArray
    method: str
    presmoothing_degree: int | None
    slope: float
    intercept: float


def score_frequencies(scores: npt.ArrayLike, max_score: int) -> FloatArray:
    """Frequency of each raw score 0..max_score, shape (max_score + 1,)."""
    s = np.asarray(scores)
    if s.ndim != 1 or s.size == 0:
        raise InvalidInputError("scores must be a non-empty 1-D array")
    if np.any(s != np.round(s)) or s.min() < 0 or s.max() > max_score:
        raise InvalidInputError(f"scores must be whole numbers in 0..{max_score}")
    return np.bincount(s.astype(np.int64), minlength=max_score + 1).astype(np.float64)


def equate_linear(freq_x: npt.ArrayLike, freq_y: npt.ArrayLike) -> EquatingResult:
    """Linear equating of form X to form Y from raw-score frequency distributions.

    Parameters
    ----------
    freq_x : array, shape (max_x + 1,)
    freq_y : array, shape (max_y + 1,)
    """
    fx, fy = _validate_freq(freq_x, "freq_x"), _validate_freq(freq_y, "freq_y")
    mx, sx = _moments(fx)
    my, sy = _moments(fy)
    if sx <= 0 or sy <= 0:
        raise InvalidInputError("linear equating needs scores with non-zero spread on both forms")
    slope = sy / sx
    intercept = my - slope * mx
    raw = np.arange(fx.size, dtype=np.int64)
    return EquatingResult(raw, slope * raw + intercept, "linear", None, slope, intercept)


def equate_equipercentile(
    freq_x: npt.ArrayLike,
    freq_y: npt.ArrayLike,
    *,
    presmoothing_degree: int | None = 4,
) -> EquatingResult:
    """Equipercentile equating of form X to form Y, optionally log-linear presmoothed.

    Parameters
    ----------
    freq_x : array, shape (max_x + 1,)
    freq_y : array, shape (max_y + 1,)
    presmoothing_degree : int or None
        Degree C of the log-linear model (moments preserved); None for no presmoothing.
    """
    fx, fy = _validate_freq(freq_x, "freq_x"), _validate_freq(freq_y, "freq_y")
    if presmoothing_degree is not None:
        fx = loglinear_smooth(fx, presmoothing_degree)
        fy = loglinear_smooth(fy, presmoothing_degree)
    gx = _relative(fx)
    gy = _relative(fy)
    pr = _percentile_ranks(gx)  # P_X(x) for x = 0..max_x
    equated = _inverse_percentile_rank(pr, gy)
    raw = np.arange(fx.size, dtype=np.int64)
    return EquatingResult(raw, equated, "equipercentile", presmoothing_degree, np.nan, np.nan)


def equate_irt_true_score(
    params_x: ItemParameters, params_y: ItemParameters, *, bounds: tuple[float, float] = (-8.0, 8.0)
) -> EquatingResult:
    """IRT true-score equating of form X to form Y (parameters on one scale)."""
    max_x = int(params_x.max_scores.sum())
    max_y = int(params_y.max_scores.sum())
    raw = np.arange(max_x + 1, dtype=np.int64)
    thetas, status = invert_tcc(raw.astype(np.float64), params_x, bounds=bounds)
    equated = expected_score(thetas, params_y)
    floor_x = float(expected_score(np.array([bounds[0]]), params_x)[0])
    floor_y = float(expected_score(np.array([bounds[0]]), params_y)[0])
    low = (raw <= floor_x) | ((status != 0) & (raw < max_x / 2))  # below the TCC's floor
    if floor_x > 1e-9:
        equated[low] = raw[low] * floor_y / floor_x
    else:
        equated[low] = 0.0
    equated[raw == max_x] = max_y
    return EquatingResult(raw, equated, "irt_true_score", None, np.nan, np.nan)


def loglinear_smooth(freq: npt.ArrayLike, degree: int) -> FloatArray:
    """Polynomial log-linear presmoothing of a frequency distribution.

    Fits log m_x = b_0 + sum_{i=1}^{C} b_i x^i by Poisson maximum likelihood (Newton on an
    orthonormalised polynomial basis); the fitted frequencies keep the total and the first
    C moments of the data (Holland & Thayer, 2000).

    Returns
    -------
    array, shape (n_scores,): fitted frequencies (all positive).
    """
    f = _validate_freq(freq, "freq")
    n = f.size
    if not (1 <= degree < n):
        raise InvalidInputError(f"presmoothing degree must be in 1..{n - 1}, got {degree}")
    if np.count_nonzero(f) <= degree:
        # the maximum-likelihood fit does not exist (it diverges towards the observed points)
        raise InvalidInputError(
            f"presmoothing of degree {degree} needs at least {degree + 1} scores with a "
            f"non-zero frequency (got {np.count_nonzero(f)}); lower the degree"
        )
    z = np.linspace(-1.0, 1.0, n)
    basis, _ = np.linalg.qr(np.vander(z, degree + 1, increasing=True))
    # start from the uniform distribution with the observed total
    beta = np.linalg.lstsq(basis, np.full(n, np.log(f.sum() / n)), rcond=None)[0]
    for _ in range(200):
        m = np.exp(basis @ beta)
        grad = basis.T @ (f - m)
        hess = basis.T @ (basis * m[:, None])
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        # halve until the Poisson log-likelihood does not decrease
        ll0 = f @ (basis @ beta) - m.sum()
        t = 1.0
        while t > 1e-8:
            cand = beta + t * step
            eta = basis @ cand
            if np.all(eta < 700) and f @ eta - np.exp(eta).sum() >= ll0 - 1e-12:
                break
            t *= 0.5
        beta = beta + t * step
        if np.max(np.abs(t * step)) < 1e-10:
            break
    return np.exp(basis @ beta)


# --------------------------------------------------------------------------------------


def _validate_freq(freq: npt.ArrayLike, name: str) -> FloatArray:
    f = np.asarray(freq, dtype=np.float64)
    if f.ndim != 1 or f.size < 2:
        raise InvalidInputError(f"{name} must be a 1-D array over raw scores 0..max (>= 2 entries)")
    if np.any(~np.isfinite(f)) or np.any(f < 0) or f.sum() <= 0:
        raise InvalidInputError(f"{name} must be non-negative with a positive total")
    return f


def _moments(f: FloatArray) -> tuple[float, float]:
    x = np.arange(f.size, dtype=np.float64)
    g = f / f.sum()
    mean = float(g @ x)
    return mean, float(np.sqrt(g @ (x - mean) ** 2))


def _relative(f: FloatArray) -> FloatArray:
    # relative frequencies floored at 1e-6 so the percentile-rank function is strictly
    # increasing and its inverse exists (Kolen & Brennan, 2014, p. 54)
    g = f / f.sum()
    g = np.maximum(g, 1e-6)
    return g / g.sum()


def _percentile_ranks(g: FloatArray) -> FloatArray:
    """P(x) = 100 [F(x - 1) + 0.5 g(x)] for integer x (Kolen & Brennan, 2014, eq. 2.14)."""
    F = np.cumsum(g)
    F_prev = np.concatenate([[0.0], F[:-1]])
    return 100.0 * (F_prev + 0.5 * g)


def _inverse_percentile_rank(pr: FloatArray, g: FloatArray) -> FloatArray:
    """Q(P) via the upper score x_U (Kolen & Brennan, 2014, eq. 2.18).

    Q(P) = (P/100 - F(x_U - 1)) / g(x_U) + x_U - 0.5, with x_U the smallest score whose
    cumulative proportion F(x_U) exceeds P/100.
    """
    F = np.cumsum(g)
    F = F / F[-1]
    F_prev = np.concatenate([[0.0], F[:-1]])
    p = np.clip(pr / 100.0, 0.0, 1.0)
    upper = np.searchsorted(F, p, side="right")
    upper = np.clip(upper, 0, g.size - 1)
    out = (p - F_prev[upper]) / g[upper] + upper - 0.5
    return np.clip(out, -0.5, g.size - 0.5)
