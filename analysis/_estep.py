"""The E-step of MML-EM over observed responses, and the grouping of candidates into booklets.

Candidates who answered the same set of items (a booklet, the usual case: one paper each) are
handled as dense blocks with BLAS matrix products; everybody else through the sparse one-hot
matrix of observed categories (Bock & Aitkin, 1981, eqs. 9-10; see analysis/calibration.py).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from analysis import _linalg
from analysis.responses import ResponseData

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


MIN_BOOKLET = 32  # candidates sharing an item set before the dense path pays off


def split_booklets(data: ResponseData) -> tuple[list[tuple[IntArray, IntArray]], IntArray]:
    """Group candidates by the exact set of items they answered.

    Returns the booklets with at least ``MIN_BOOKLET`` candidates as (members, response
    rows of shape (n_members, n_items_in_booklet)), and the response rows of everybody else.
    Candidates are grouped on (number of responses, two weighted sums of their item indices)
    with Weyl-sequence weights frac(j * golden ratio) and frac(j * sqrt 2) (a deterministic
    hash; responses are sorted by item, so equal sets give bit-equal sums); each group is
    then checked exactly, and a group that fails the check is left to the sparse path.
    """
    n_resp = data.responses_per_person()
    j = np.arange(1, data.n_items + 1, dtype=np.float64)
    w1 = np.modf(j * 0.6180339887498949)[0]
    w2 = np.modf(j * 0.4142135623730950)[0]
    h1 = np.bincount(data.person_indices, weights=w1[data.item_indices], minlength=data.n_persons)
    h2 = np.bincount(data.person_indices, weights=w2[data.item_indices], minlength=data.n_persons)
    keys = np.stack([n_resp.astype(np.float64), h1, h2], axis=1)
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    in_booklet = np.zeros(data.n_persons, dtype=bool)
    booklets: list[tuple[IntArray, IntArray]] = []
    for b in np.flatnonzero(counts >= MIN_BOOKLET):
        members = order[bounds[b] : bounds[b + 1]]
        size = int(n_resp[members[0]])
        if size == 0:
            continue
        rows = data.person_pointer[members][:, None] + np.arange(size)[None, :]
        if not np.all(data.item_indices[rows] == data.item_indices[rows[0]][None, :]):
            continue  # hash collision: leave these candidates to the sparse path
        booklets.append((members, rows))
        in_booklet[members] = True
    rest = np.flatnonzero(~in_booklet[data.person_indices])
    return booklets, rest


class EStep:
    """E-step over observed responses: person x node log-likelihoods, expected counts.

    Candidates who sat the same booklet (item set; see :func:`split_booklets`) are handled
    as dense blocks with BLAS matrix products; everybody else through the sparse one-hot
    matrix Y. Within a booklet, with M_k the (members, items) indicator of category k,
    L = sum_j log P_j0 + sum_{k>=1} M_k (log P_k - log P_0) and the expected counts are
    R_k = M_k' posterior (k >= 1), R_0 = column sums of the posterior - sum_{k>=1} R_k.
    """

    def __init__(self, data: ResponseData) -> None:
        self.w = data.person_weights
        self.answered = (data.responses_per_person() > 0).astype(np.float64)
        booklets, rest = split_booklets(data)
        offsets = data.category_offsets
        self.booklets: list[
            tuple[IntArray, IntArray, list[tuple[FloatArray, IntArray, IntArray]]]
        ] = []
        for members, rows in booklets:
            items = data.item_indices[rows[0]]
            X = data.scores[rows]
            ncat = data.n_categories[items]
            masks = []
            for k in range(1, int(ncat.max())):
                has = ncat > k
                masks.append(
                    (
                        np.ascontiguousarray((X[:, has] == k).astype(np.float64)),
                        offsets[items[has]] + k,
                        offsets[items[has]],
                    )
                )
            self.booklets.append((members, offsets[items], masks))
        flat = data.flat_categories[rest]
        self.Y = sp.csr_matrix(
            (np.ones(rest.size), (data.person_indices[rest], flat)),
            shape=(data.n_persons, int(data.n_categories.sum())),
        )
        self.Yt = self.Y.T.tocsr()

    def run(
        self,
        log_table: FloatArray,
        log_weights: FloatArray,
        *,
        nodes: FloatArray | None = None,
        want_posterior: bool = False,
    ) -> tuple[FloatArray, float, float, float, FloatArray | None]:
        """E-step at the given log-probability table (n_cols, Q) and log prior weights (Q,).

        Returns expected counts (n_cols, Q), the marginal log-likelihood, the posterior mean
        and variance of theta pooled over persons with responses (when ``nodes`` is given,
        else NaN), and the unweighted posterior (n_persons, Q) when asked.
        """
        L = np.asarray(self.Y @ log_table)  # (n_persons, Q): sparse part
        for members, zero_cols, masks in self.booklets:
            block = log_table[zero_cols].sum(axis=0)[None, :]
            for mask, cols, cols0 in masks:
                block = block + _linalg.matmul(mask, log_table[cols] - log_table[cols0])
            L[members] += block
        L += log_weights[None, :]
        peak = L.max(axis=1)
        L -= peak[:, None]
        np.exp(L, out=L)
        total = L.sum(axis=1)
        loglik = float(self.w @ (peak + np.log(total)))
        L *= (self.w / total)[:, None]  # weighted posterior
        counts = np.asarray(self.Yt @ L)
        for members, zero_cols, masks in self.booklets:
            post = L[members]
            total_b = post.sum(axis=0)
            counts[zero_cols] += total_b[None, :]
            for mask, cols, cols0 in masks:
                r_k = _linalg.crossprod(mask, post)
                counts[cols] += r_k
                counts[cols0] -= r_k
        mean = var = float("nan")
        if nodes is not None:
            mass = self.answered @ L  # (Q,), pooled posterior of persons with responses
            mass = mass / mass.sum()
            mean = float(mass @ nodes)
            var = float(mass @ (nodes - mean) ** 2)
        post = None
        if want_posterior:
            post = L / np.where(self.w > 0, self.w, 1.0)[:, None]
        return counts, loglik, mean, var, post
