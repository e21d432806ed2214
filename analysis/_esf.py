"""Elementary symmetric functions (ESF) of the partial credit model and their derivatives.

For the items of one booklet, with category parameters ``eta[i, h]`` (h = 1..K_i-1, eta_i0 = 0)
and ``eps[i, h] = exp(eta[i, h])``, the ESF of order r is the coefficient of z^r of the
generating polynomial

    prod_i (1 + eps_i1 z + eps_i2 z^2 + ... + eps_{i,K_i-1} z^{K_i-1}),

i.e. the sum over all response patterns with total score r of prod_i eps_{i,x_i}. It is the
normalising constant of the conditional likelihood of a pattern given its raw score
(Andersen, 1972; Fischer, 1995, ch. 3; Masters, 1982, for the PCM).

Algorithm (the booklets of a batch at once; ``rows`` = booklets, arrays (rows, R + 1)):

* forward summation in log space: log G_0 = [0, -inf, ...], G_t = G_{t-1} * e_{i_t} (the
  polynomial product with the item's polynomial; the identity for booklets without the
  item), each step a log-sum-exp over the item's categories. This is the summation
  algorithm (Verhelst, Glas & van der Sluis, 1984); no ESF is ever obtained by subtraction,
  and in log space nothing under- or overflows, however many items and categories (the
  coefficients of a 200-item, 6-category test span more than e^1000).
* everything else is expressed in bounded conditional probabilities,
  W_t[h, r] = eps_h G_{t-1}[r - h] / G_t[r] = P(item t in category h | score r on items 1..t),
  which sum to 1 over h:
  - adjoint (reverse) pass for the gradient of f = sum_r n_r log gamma_r: with
    Ã_t[r] = A_t[r] G_t[r] (expected persons with partial score r after item t),
    Ã_u = n, Ã_{t-1}[s] = sum_h W_t[h, s + h] Ã_t[s + h], and
    d f / d eta_th = sum_r Ã_t[r] W_t[h, r] (the expected count of category h);
  - tangent pass for the Hessian: T̃^(th)_m = (d G_m / d eta_th) / G_m, started as W_t[h]
    and carried forward, T̃_m[r] = sum_k W_m[k, r] T̃_{m-1}[r - k]; at the end
    T̃^(ih)_u[r] = P(x_i = h | r), and for j after i
    sum_r (n_r / gamma_r) d^2 gamma_r / d eta_ih d eta_jk = sum_r Ã_m[r] W_m[k, r] T̃_{m-1}[r - k],
    which gives the conditional information
    I = sum_r n_r Cov(indicators | r) = H1 + H1' + diag(sum_r n_r P_ih|r) - sum_r n_r P P'.

Cost per batch: forward and adjoint O(u R K rows); the Hessian O(P u R K rows) with u the
items of the batch, P their parameters, R the largest raw score and K the categories.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Batch:
    """Booklets (item sets) whose ESFs are computed together.

    Attributes
    ----------
    items : int array (u,)
        Global indices of the items of any booklet of the batch, increasing.
    mask : bool array (rows, u)
        Which of these items each booklet has.
    counts : float array (rows, R + 1)
        Weighted number of persons of each booklet with each raw score (extreme scores 0).
    n_steps : int array (u,)
        K_i - 1 of each item.
    param_offsets : int array (u + 1,)
        Start of each item's block in the batch's parameter vector (item-major, h = 1..K-1).
    """

    items: IntArray
    mask: BoolArray
    counts: FloatArray
    n_steps: IntArray
    param_offsets: IntArray

    @property
    def max_score(self) -> int:
        return self.counts.shape[1] - 1

    @property
    def n_params(self) -> int:
        return int(self.param_offsets[-1])


class NumericalFailure(ArithmeticError):
    """The ESF of an observed raw score is not a finite positive number."""


def _log_forward(batch: Batch, etas: list[FloatArray]) -> FloatArray:
    """log G_t for t = 0..u, shape (u + 1, rows, R + 1); -inf where a score is impossible."""
    rows, R1 = batch.counts.shape
    u = batch.items.size
    logG = np.full((u + 1, rows, R1), -np.inf)
    logG[0][:, 0] = 0.0
    full = batch.mask.all(axis=0)
    for t in range(u):
        prev = logG[t]
        cur = logG[t + 1]
        if full[t]:
            cur[:] = prev
            for h, eta in enumerate(etas[t], start=1):
                np.logaddexp(cur[:, h:], prev[:, :-h] + eta, out=cur[:, h:])
            continue
        cur[:] = prev
        m = batch.mask[:, t]
        if m.any():
            sub = prev[m]
            acc = sub.copy()
            for h, eta in enumerate(etas[t], start=1):
                np.logaddexp(acc[:, h:], sub[:, :-h] + eta, out=acc[:, h:])
            cur[m] = acc
    return logG


def _weights(batch: Batch, etas: list[FloatArray], logG: FloatArray) -> list[FloatArray]:
    """W_t (rows, K_t, R + 1) for each item step t: P(category h | partial score r); rows
    without the item get the identity (category 0 with probability 1)."""
    rows, R1 = batch.counts.shape
    out = []
    mask = batch.mask
    with np.errstate(invalid="ignore", over="ignore"):
        for t, eta in enumerate(etas):
            K = eta.size + 1
            cur = logG[t + 1]
            prev = logG[t]
            ok = np.isfinite(cur)
            safe = np.where(ok, cur, 0.0)
            W = np.zeros((rows, K, R1))
            W[:, 0, :] = np.where(ok, np.exp(np.minimum(prev - safe, 0.0)), 0.0)
            for h in range(1, K):
                W[:, h, h:] = np.where(ok[:, h:], np.exp(np.minimum(prev[:, :-h] + eta[h - 1] - safe[:, h:], 0.0)), 0.0)
            m = mask[:, t]
            if not m.all():
                W[~m] = 0.0
                W[~m, 0, :] = 1.0
            out.append(W)
    return out


def _f_value(batch: Batch, logG: FloatArray) -> float:
    n = batch.counts
    obs = n > 0
    last = logG[-1]
    if not np.all(np.isfinite(last[obs])):
        raise NumericalFailure("an elementary symmetric function of an observed score is not finite")
    return float(np.sum(np.where(obs, n * np.where(obs, last, 0.0), 0.0)))


def log_normaliser(batch: Batch, etas: list[FloatArray]) -> float:
    """f = sum_b sum_r n_br log gamma_br (the conditional likelihood's normalising part)."""
    return _f_value(batch, _log_forward(batch, etas))


def _adjoints(batch: Batch, W: list[FloatArray]) -> list[FloatArray]:
    """Ã_t for t = 1..u (index t), each (rows, R + 1)."""
    u = batch.items.size
    A: list[FloatArray] = [np.zeros(0)] * (u + 1)
    cur = batch.counts.astype(np.float64)
    A[u] = cur
    for t in range(u - 1, 0, -1):
        Wt = W[t]
        new = Wt[:, 0, :] * cur
        for h in range(1, Wt.shape[1]):
            new[:, :-h] += Wt[:, h, h:] * cur[:, h:]
        cur = new
        A[t] = cur
    return A


def gradient(batch: Batch, etas: list[FloatArray]) -> tuple[float, FloatArray]:
    """f and d f / d eta for the batch's parameters, shape (P,)."""
    logG = _log_forward(batch, etas)
    f = _f_value(batch, logG)
    W = _weights(batch, etas, logG)
    A = _adjoints(batch, W)
    grad = np.zeros(batch.n_params)
    for t in range(batch.items.size):
        Wt = W[t]
        off = batch.param_offsets[t]
        for h in range(1, Wt.shape[1]):
            grad[off + h - 1] = np.sum(A[t + 1] * Wt[:, h, :])
    return f, grad


def hessian(batch: Batch, etas: list[FloatArray]) -> tuple[float, FloatArray, FloatArray]:
    """f, its gradient (P,) and its Hessian (P, P) in eta (the conditional information).

    Raises NumericalFailure when an ESF of an observed score is not finite.
    """
    logG = _log_forward(batch, etas)
    f = _f_value(batch, logG)
    W = _weights(batch, etas, logG)
    A = _adjoints(batch, W)
    u = batch.items.size
    rows, R1 = batch.counts.shape
    n = batch.counts
    P = batch.n_params
    offsets = batch.param_offsets
    H1 = np.zeros((P, P))
    T = np.zeros((rows, P, R1))  # normalised tangents of the parameters started so far
    for t in range(u):
        Wt = W[t]
        K = Wt.shape[1]
        At = A[t + 1]
        off = int(offsets[t])
        if off > 0:
            prev = T[:, :off, :]
            # cross second derivatives of every earlier parameter with this item's parameters
            for k in range(1, K):
                w = At[:, k:] * Wt[:, k, k:]  # (rows, R1 - k)
                H1[:off, off + k - 1] = np.einsum("bs,bps->p", w, prev[:, :, : R1 - k])
            # carry the earlier tangents through this item
            cur = prev * Wt[:, None, 0, :]
            for k in range(1, K):
                cur[:, :, k:] += Wt[:, None, k, k:] * prev[:, :, :-k]
            T[:, :off, :] = cur
        for h in range(1, K):
            T[:, off + h - 1, :] = Wt[:, h, :]
    nPi = T * n[:, None, :]  # T is now P(x_i = h | r)
    grad = nPi.sum(axis=(0, 2))
    H = H1 + H1.T
    H[np.diag_indices(P)] += grad
    H -= np.einsum("bpr,bqr->pq", nPi, T)
    return f, grad, H
