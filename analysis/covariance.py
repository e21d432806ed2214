"""The estimated covariance matrix of calibrated parameters, on the reported a/b/c scale.

Every calibration returns its covariance matrix (the inverse of the observed or conditional
information, mapped to the reported parameters by the delta method), so that standard errors
of any linear combination can be formed: a centred difficulty b_j - mean(b), a difference
between two items, an item location (the mean of its thresholds), a linking constant.

Rows and columns are labelled by item, kind and step:

* ``"a"``: the discrimination of an item with a free slope;
* ``"threshold"`` with step k = 1..K_j-1: b_k (for a 0/1 item the single threshold is b);
* ``"c"``: the lower asymptote of a 3PL item;
* ``"mean"``, ``"sd"``: the estimated population mean and SD (item -1).

Fixed (anchor) items and parameters fixed by the model have no row. The matrix is a
``scipy.sparse.csr_array``: block diagonal when groups of items share no candidates and no
population parameter links them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from analysis.errors import InvalidInputError
from analysis.messages import Message

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

KINDS = ("a", "threshold", "c", "mean", "sd")


@dataclass(frozen=True)
class ParameterCovariance:
    """Covariance of the estimated parameters (see the module docstring).

    Attributes
    ----------
    matrix : scipy.sparse.csr_array, shape (n_params, n_params)
    items : int array, shape (n_params,)
        Item index of each row, -1 for population parameters.
    kinds : tuple of str, length n_params
    steps : int array, shape (n_params,)
        Threshold step (1..K-1) for ``"threshold"`` rows, 0 otherwise.
    basis : str
        How the scale is fixed, which the covariance is conditional on (e.g. "sum of the
        free items' thresholds is 0", "population N(0, 1)", "anchor items held fixed").
    """

    matrix: sp.csr_array
    items: IntArray
    kinds: tuple[str, ...]
    steps: IntArray
    basis: str

    @property
    def n_params(self) -> int:
        return int(self.items.size)

    def index(self, item: int, kind: str, step: int = 1) -> int:
        """Row of one parameter; raises InvalidInputError when it was not estimated."""
        want_step = step if kind == "threshold" else 0
        hit = np.flatnonzero((self.items == item) & (self.steps == want_step)
                             & (np.asarray(self.kinds, dtype=object) == kind))
        if hit.size != 1:
            raise InvalidInputError(Message(
                "item {item}: parameter {kind} (step {step}) was not estimated; it has no row in "
                "the covariance matrix", item=item, kind=kind, step=step))
        return int(hit[0])

    def dense(self) -> FloatArray:
        return np.asarray(self.matrix.toarray())

    def variance_of(self, weights: npt.ArrayLike) -> float:
        """Variance of sum_k w_k theta_k for a weight vector over the rows, shape (n_params,)."""
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (self.n_params,):
            raise InvalidInputError(Message(
                "weights: expected {expected} entries (one per estimated parameter), got {got}",
                expected=self.n_params, got=int(w.size)))
        return float(w @ (self.matrix @ w))

    def centred_threshold_errors(self, items: npt.ArrayLike | None = None) -> FloatArray:
        """Standard errors of every threshold minus the mean of all thresholds of ``items``
        (default: every item with estimated thresholds); NaN for rows that are not thresholds.

        Returns
        -------
        array, shape (n_params,)
        """
        is_thr = np.asarray(self.kinds, dtype=object) == "threshold"
        chosen = is_thr if items is None else is_thr & np.isin(self.items, np.asarray(items))
        k = int(chosen.sum())
        out = np.full(self.n_params, np.nan)
        if k == 0:
            return out
        V = self.dense()
        C = np.zeros((self.n_params, self.n_params))
        rows = np.flatnonzero(is_thr)
        C[rows, rows] = 1.0
        C[np.ix_(rows, np.flatnonzero(chosen))] -= 1.0 / k
        var = np.einsum("ij,jk,ik->i", C, V, C)
        out[rows] = np.sqrt(np.maximum(var[rows], 0.0))
        return out


def block_matrix(blocks: list[tuple[IntArray, FloatArray]], n: int) -> sp.csr_array:
    """A sparse (n, n) matrix from dense blocks placed at the given row/column indices."""
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    for idx, block in blocks:
        idx = np.asarray(idx, dtype=np.int64)
        rows.append(np.repeat(idx, idx.size))
        cols.append(np.tile(idx, idx.size))
        vals.append(np.asarray(block, dtype=np.float64).ravel())
    if not rows:
        return sp.csr_array((n, n))
    return sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
