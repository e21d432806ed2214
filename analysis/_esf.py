"""Elementary symmetric functions (ESF) of the partial credit model and their derivatives.

For the items of one booklet, with category parameters ``eta[i, h]`` (h = 1..K_i-1, eta_i0 = 0)
and ``eps[i, h] = exp(eta[i, h])``, the ESF of order r is the coefficient of z^r of the
generating polynomial

    prod_i (1 + eps_i1 z + eps_i2 z^2 + ... + eps_{i,K_i-1} z^{K_i-1}),

i.e. the sum over all response patterns with total score r of prod_i eps_{i,x_i}. It is the
normalising constant of the conditional likelihood of a pattern given its raw score
(Andersen, 1972; Fischer, 1995, ch. 3; Masters, 1982, for the PCM).

Algorithm (all booklets of a batch at once, ``rows`` = booklets, arrays (rows, R + 1)):

* forward summation: G_0 = 1, G_t = G_{t-1} * e_{i_t} (polynomial product with the item's
  polynomial; the identity for booklets without the item). Each G_t is divided by its
  largest entry (row-wise factor c_t), so nothing overflows for hundreds of items or many
  categories; only ratios of ESFs enter the likelihood and its derivatives. This is the
  summation algorithm, which is numerically stable (Verhelst, Glas & van der Sluis, 1984);
  no ESF is ever obtained by subtraction.
* adjoint (reverse) pass for the gradient of f = sum_r n_r log gamma_r:
  A_u = n / G_u, A_{t-1}[s] = sum_h eps_h A_t[s + h] / c_t; then
  d f / d eta_ih = sum_s A_t[s + h] G_{t-1}[s] eps_ih / c_t.
* tangent (forward-mode) pass for the Hessian: T^(ih)_m = d G_m / d eta_ih, started at the
  item's step and carried forward through the later items. At the end
  T^(ih)_u[r] / G_u[r] = P(x_i = h | r), and for j after i
  sum_r (n_r / gamma_r) d^2 gamma_r / d eta_ih d eta_jk = sum_s A_m[s + k] T^(ih)_{m-1}[s] eps_jk / c_m,
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
    """An ESF of an observed raw score under- or overflowed (parameters far apart)."""


def _forward(batch: Batch, eps: list[FloatArray]) -> tuple[FloatArray, FloatArray]:
    """Scaled prefix polynomials G (u + 1, rows, R + 1) and the factors c (u + 1, rows)."""
    rows, R1 = batch.counts.shape
    u = batch.items.size
    G = np.empty((u + 1, rows, R1))
    c = np.ones((u + 1, rows))
    G[0] = 0.0
    G[0][:, 0] = 1.0
    maskf = batch.mask.astype(np.float64)
    for t in range(u):
        prev = G[t]
        cur = G[t + 1]
        cur[:] = prev
        m = maskf[:, t]
        e = eps[t]
        for h in range(1, e.size + 1):
            cur[:, h:] += (e[h - 1] * m)[:, None] * prev[:, :-h]
        top = cur.max(axis=1)
        top = np.where(top > 0, top, 1.0)
        cur /= top[:, None]
        c[t + 1] = top
    return G, c


def log_normaliser(batch: Batch, eps: list[FloatArray]) -> float:
    """f = sum_b sum_r n_br log gamma_br (the conditional likelihood's normalising part)."""
    G, c = _forward(batch, eps)
    return _f_value(batch, G, c)


def _f_value(batch: Batch, G: FloatArray, c: FloatArray) -> float:
    n = batch.counts
    obs = n > 0
    g = G[-1]
    if np.any(g[obs] <= 0) or not np.all(np.isfinite(g[obs])):
        raise NumericalFailure("an elementary symmetric function of an observed score vanished")
    log_scale = np.log(c).sum(axis=0)  # (rows,)
    logg = np.where(obs, np.log(np.where(obs, g, 1.0)), 0.0)
    return float(np.sum(n * logg) + np.sum(n.sum(axis=1) * log_scale))


def gradient(batch: Batch, eps: list[FloatArray]) -> tuple[float, FloatArray]:
    """f and d f / d eta for the batch's parameters, shape (P,)."""
    G, c = _forward(batch, eps)
    f = _f_value(batch, G, c)
    u = batch.items.size
    n = batch.counts
    A = np.where(n > 0, n / np.where(n > 0, G[-1], 1.0), 0.0)
    grad = np.zeros(batch.n_params)
    maskf = batch.mask.astype(np.float64)
    for t in range(u - 1, -1, -1):
        e = eps[t]
        m = maskf[:, t]
        prev = G[t]
        off = batch.param_offsets[t]
        inv_c = 1.0 / c[t + 1]
        for h in range(1, e.size + 1):
            grad[off + h - 1] = e[h - 1] * np.sum(m * inv_c * np.einsum("bs,bs->b", A[:, h:], prev[:, :-h]))
        new = A.copy()
        for h in range(1, e.size + 1):
            new[:, :-h] += (e[h - 1] * m)[:, None] * A[:, h:]
        A = new * inv_c[:, None]
    return f, grad


def hessian(batch: Batch, eps: list[FloatArray]) -> tuple[float, FloatArray, FloatArray]:
    """f, its gradient (P,) and its Hessian (P, P) in eta (the conditional information).

    Raises NumericalFailure when an ESF of an observed score is 0 or not finite.
    """
    G, c = _forward(batch, eps)
    f = _f_value(batch, G, c)
    u = batch.items.size
    rows, R1 = batch.counts.shape
    n = batch.counts
    P = batch.n_params
    offsets = batch.param_offsets
    maskf = batch.mask.astype(np.float64)

    # adjoints A_t for t = u..1 (A_list[t]), kept for the cross terms
    A_list: list[FloatArray | None] = [None] * (u + 1)
    A = np.where(n > 0, n / np.where(n > 0, G[-1], 1.0), 0.0)
    A_list[u] = A
    for t in range(u - 1, 0, -1):
        e = eps[t]
        m = maskf[:, t]
        new = A.copy()
        for h in range(1, e.size + 1):
            new[:, :-h] += (e[h - 1] * m)[:, None] * A[:, h:]
        A = new / c[t + 1][:, None]
        A_list[t] = A

    H1 = np.zeros((P, P))
    T = np.zeros((rows, P, R1))  # tangents of the parameters started so far
    for t in range(u):
        e = eps[t]
        m = maskf[:, t]
        inv_c = 1.0 / c[t + 1]
        off, end = int(offsets[t]), int(offsets[t + 1])
        At = A_list[t + 1]
        assert At is not None
        if off > 0:
            # cross second derivatives of every earlier parameter with this item's parameters
            for h in range(1, e.size + 1):
                w = (m * inv_c * e[h - 1])[:, None] * At[:, h:]  # (rows, R1 - h)
                H1[:off, off + h - 1] = np.einsum("bs,bps->p", w, T[:, :off, : R1 - h])
            # carry the earlier tangents through this item
            cur = T[:, :off, :].copy()
            for h in range(1, e.size + 1):
                cur[:, :, h:] += (e[h - 1] * m)[:, None, None] * T[:, :off, :-h]
            T[:, :off, :] = cur * inv_c[:, None, None]
        prev = G[t]
        for h in range(1, e.size + 1):
            T[:, off + h - 1, h:] = (e[h - 1] * m * inv_c)[:, None] * prev[:, :-h]
        del end
    g_last = np.where(n > 0, G[-1], 1.0)
    Pi = T / g_last[:, None, :]  # (rows, P, R1): P(x_i = h | r)
    nPi = Pi * n[:, None, :]
    grad = nPi.sum(axis=(0, 2))
    H = H1 + H1.T
    H[np.diag_indices(P)] += grad
    H -= np.einsum("bpr,bqr->pq", nPi, Pi)
    return f, grad, H
