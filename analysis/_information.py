"""Standard errors and the covariance matrix of MML estimates.

Observed information (the default) by Louis's (1982) identity. With ψ the free working
parameters (slopes alpha = D a, intercepts d_k, logit c; the population mean and log SD when
estimated), f_pq = w_q(ψ) L_p(X_q; ψ) the joint density of person p's answers and node q, and
π_pq the posterior weights:

    -d²ℓ/dψ² = sum_p w_p { E_π[-d² log f_pq] - E_π[s_pq s_pq'] + ḡ_p ḡ_p' },  s_pq = d log f_pq,

where ḡ_p = E_π[s_pq] is the person's gradient. The three terms are computed as:

* complete-data information E_π[-d² log f]: block diagonal per item, the Hessian of the
  M-step objective sum_q sum_k R_jkq log P_jk(X_q) (+ log prior) at the expected counts R,
  by central differences of its analytic gradient; for the population, -sum_q N_q d² log w_q
  with w_q(mu, sigma) the grid weights tilted by the normal density;
* E_π[s s']: s_pq is linear in the one-hot indicators z_p of the person's categories (plus a
  constant column for the population part), s_pq = S_q' z_p, so
  sum_p w_p E_π[s s'] = sum_q S_q' C_q S_q with C_q = sum_p w_p π_pq z_p z_p'; for a booklet
  (candidates who answered the same items) C_q is one dense Gram product, otherwise sparse;
* ḡ_p ḡ_p' summed over persons: the cross-product ("XPD") matrix.

``"xpd"`` (an option, documented) uses the cross-product alone (Mislevy, 1986); it treats the
population parameters as known and overstates the SEs when persons are few relative to
parameters.

The information is inverted per connected block of items (items linked through common
candidates); estimated population parameters link every block, which is handled by the
Schur complement of the small population block. Blocks larger than ``MAX_DENSE_BLOCK`` fall
back to per-item blocks (method ``"...-item-blocks"``; such SEs understate). The covariance of
the working parameters is mapped to a = alpha / D, b_k = -d_k / alpha, c = logistic(gamma)
and the population SD by the delta method, giving ``ParameterCovariance``.

References: Louis, T. A. (1982), J. Royal Statistical Society B 44, 226-233. Mislevy, R. J.
(1986), Psychometrika 51, 177-195. Bock, R. D. & Aitkin, M. (1981), Psychometrika 46, 443-459.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.special import expit

from analysis import _kernels as K
from analysis import _linalg
from analysis._estep import split_booklets
from analysis.covariance import ParameterCovariance, block_matrix
from analysis.messages import Message
from analysis.parameters import ItemParameters
from analysis.quadrature import Quadrature
from analysis.responses import ResponseData
from analysis.results import ParameterErrors

if TYPE_CHECKING:
    from analysis.calibration import _Model

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_DENSE_BLOCK = 4000  # largest block of the information matrix inverted densely
_TINY = 1e-300


@dataclass
class Information:
    errors: ParameterErrors
    covariance: ParameterCovariance | None
    method: str
    problems: list[Message]


def compute(
    state: _Model,
    data: ResponseData,
    posterior: FloatArray,
    counts: FloatArray,
    final_grid: Quadrature,
    grid: Quadrature,
    *,
    population: str,
    pop_mean: float,
    pop_sd: float,
    kind: str,
    n_items: int,
    params: ItemParameters,
) -> Information:
    """Standard errors and covariance (see the module docstring); ``kind`` is ``"observed"``
    or ``"xpd"``; ``population`` is ``"none"``, ``"sd"`` or ``"mean_sd"``."""
    from analysis.calibration import item_gradient

    nodes = final_grid.nodes
    Q = nodes.size
    m_max = max(g.m for g in state.groups)
    gindex = np.full((n_items, m_max), -1, dtype=np.int64)
    n_free = 0
    for g in state.groups:
        for t in range(g.m):
            sel = g.free[:, t]
            gindex[g.items[sel], t] = n_free + np.arange(int(sel.sum()))
            n_free += int(sel.sum())
    pop_kinds = {"none": [], "sd": ["sd"], "mean_sd": ["mean", "sd"]}[population] if kind == "observed" else []
    n_pop = len(pop_kinds)
    n_total = n_free + n_pop
    nan = np.full(n_items, np.nan)
    empty = ParameterErrors(nan, nan.copy(), nan.copy(), np.full_like(params.thresholds, np.nan))
    if n_total == 0:
        return Information(empty, None, "none", [])

    # -- score functions d log P_jk(X_q) / d(working parameter t), every flat column ---------
    score_table = np.zeros((state.n_cols, Q, m_max))
    x = nodes[None, :]
    for g in state.groups:
        c = g.c()
        p, jac = K.probabilities_jacobian(g.family, x, g.alpha[:, None], g.d[:, None, :],
                                          None if c is None else c[:, None])
        score_fn = jac / np.maximum(p, _TINY)[..., None]  # (n_g, Q, K, m)
        score_table[g.cols.ravel(), :, : g.m] = np.swapaxes(score_fn, 1, 2).reshape(-1, Q, g.m)

    # -- population scores: d log w_q / d(mean, log sd), tilted normal weights ----------------
    w_grid = final_grid.weights
    sigma = pop_sd
    z = grid.nodes  # (theta_q - mean) / sd on the standard grid
    dg = {"mean": z / sigma, "sd": z * z - 1.0}  # d log phi / d mu, d log phi / d log sigma
    s_pop = np.zeros((n_pop, Q))
    for v, name in enumerate(pop_kinds):
        s_pop[v] = dg[name] - w_grid @ dg[name]

    answered = data.responses_per_person() > 0
    wp = data.person_weights * answered
    N_q = wp @ posterior  # (Q,)

    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []

    def add(idx_r: IntArray, idx_c: IntArray, block: FloatArray) -> None:
        rows.append(np.repeat(idx_r, idx_c.size))
        cols.append(np.tile(idx_c, idx_r.size))
        vals.append(np.asarray(block, dtype=np.float64).ravel())

    # -- complete-data information (observed) or prior curvature (xpd) -------------------------
    for g in state.groups:
        if not g.free.any():
            continue
        cg = counts[g.cols]  # (n_g, K, Q)
        if kind == "observed":
            Hc = _complete_information(g, cg, nodes, state, item_gradient)
        else:
            Hc = _prior_information(g, state)
        for local in range(g.items.size):
            idx = gindex[g.items[local], : g.m]
            keep = idx >= 0
            if keep.any():
                add(idx[keep], idx[keep], Hc[local][np.ix_(keep, keep)])
    if n_pop:
        d2 = _population_hessian(pop_kinds, z, sigma, w_grid)  # (n_pop, n_pop, Q) of log w_q
        add(np.arange(n_free, n_total), np.arange(n_free, n_total), -np.einsum("q,abq->ab", N_q, d2))

    # -- XPD (and, observed, minus the posterior second moments) ------------------------------
    booklets, rest = split_booklets(data)
    offsets = data.category_offsets
    for members, resp_rows in booklets:
        items = data.item_indices[resp_rows[0]]
        X = data.scores[resp_rows]
        post = posterior[members]
        w = data.person_weights[members]
        loc_idx, gbar = _person_gradients_booklet(items, X, post, gindex, score_table, offsets, m_max)
        if n_pop:
            gbar = np.hstack([gbar, post @ s_pop.T])
            loc_idx = np.concatenate([loc_idx, np.arange(n_free, n_total)])
        if loc_idx.size == 0:
            continue
        add(loc_idx, loc_idx, _linalg.crossprod(gbar * w[:, None], gbar))
        if kind == "observed":
            sm_idx, sm = _second_moments_booklet(items, X, post, w, gindex, score_table, offsets,
                                                 data.n_categories, m_max, s_pop, n_free)
            add(sm_idx, sm_idx, -sm)
    if rest.size:
        persons_rest = np.unique(data.person_indices[rest])
        S = _person_gradients_sparse(data, rest, persons_rest, posterior, gindex, score_table, m_max,
                                     s_pop, n_free, n_total)
        xpd_rest = (S.T @ sp.diags_array(data.person_weights) @ S).tocoo()
        rows.append(xpd_rest.row.astype(np.int64))
        cols.append(xpd_rest.col.astype(np.int64))
        vals.append(xpd_rest.data)
        if kind == "observed":
            sm = _second_moments_sparse(data, rest, persons_rest, posterior, gindex, score_table, m_max,
                                        s_pop, n_free, n_total).tocoo()
            rows.append(sm.row.astype(np.int64))
            cols.append(sm.col.astype(np.int64))
            vals.append(-sm.data)

    info = sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(n_total, n_total))
    info = (info + info.T) * 0.5
    problems: list[Message] = []
    cov, method, bad = _invert(info, n_free, n_pop, kind)
    if bad:
        problems.append(Message(
            "the observed information matrix is not positive definite for item(s) {items}: the estimates "
            "are not a well-defined maximum (the data do not identify these parameters)", items=bad))
    errors, covariance = _delta(state, params, gindex, cov, n_items, n_free, pop_kinds, pop_sd, kind)
    return Information(errors, covariance, method, problems)


# --------------------------------------------------------------------------------------
# Complete-data parts


def _complete_information(g, counts_g, nodes, state, item_gradient):  # type: ignore[no-untyped-def]
    """Minus the Hessian (n_g, m, m) of the M-step objective at the expected counts, by
    central differences of its analytic gradient (step 1e-5 relative)."""
    n_g, m = g.items.size, g.m
    base = np.concatenate([g.alpha[:, None], g.d] + ([g.gamma[:, None]] if g.is_3pl else []), axis=1)
    H = np.zeros((n_g, m, m))
    for t in range(m):
        h = 1e-5 * np.maximum(1.0, np.abs(base[:, t]))
        grads = []
        for sign in (1.0, -1.0):
            psi = base.copy()
            psi[:, t] += sign * h
            gamma = psi[:, -1] if g.is_3pl else g.gamma
            grad, _ = item_gradient(g, counts_g, nodes, psi[:, 0], psi[:, 1: g.n_cat], gamma,
                                    state.priors, state.D)
            grads.append(grad)
        H[:, :, t] = -(grads[0] - grads[1]) / (2.0 * h[:, None])
    return 0.5 * (H + np.swapaxes(H, 1, 2))


def _prior_information(g, state):  # type: ignore[no-untyped-def]
    """Curvature of the log priors alone (added to the XPD)."""
    n_g, m = g.items.size, g.m
    info = np.zeros((n_g, m, m))
    priors = state.priors
    if priors.a_lognormal is not None:
        _mu, s = priors.a_lognormal
        safe = np.where(g.alpha > 0, g.alpha, 1.0)
        info[:, 0, 0] += 1.0 / (s**2 * safe**2)
    if g.is_3pl and priors.c_beta is not None:
        p, q = priors.c_beta
        c = expit(g.gamma)
        info[:, -1, -1] += (p + q - 2) * c * (1 - c)
    return info


def _population_hessian(kinds: list[str], z: FloatArray, sigma: float, w: FloatArray) -> FloatArray:
    """d² log w_q for the tilted weights w_q ∝ w0_q phi(theta_q; mu, sigma): the Hessian of
    log phi minus its weighted mean and minus the weighted covariance of its gradient."""
    grads = {"mean": z / sigma, "sd": z * z - 1.0}
    hess = {("mean", "mean"): np.full_like(z, -1.0 / sigma**2), ("mean", "sd"): -2.0 * z / sigma,
            ("sd", "mean"): -2.0 * z / sigma, ("sd", "sd"): -2.0 * z * z}
    n = len(kinds)
    out = np.zeros((n, n, z.size))
    for a, ka in enumerate(kinds):
        for b, kb in enumerate(kinds):
            ga, gb = grads[ka], grads[kb]
            cov = w @ (ga * gb) - (w @ ga) * (w @ gb)
            out[a, b] = hess[(ka, kb)] - w @ hess[(ka, kb)] - cov
    return out


# --------------------------------------------------------------------------------------
# Person gradients (XPD)


def _person_gradients_booklet(items, X, post, gindex, score_table, offsets, m_max):  # type: ignore[no-untyped-def]
    """ḡ of the booklet's members over its free parameters: (global indices, (members, P_b))."""
    blocks: list[FloatArray] = []
    gcols: list[IntArray] = []
    n_cat = offsets[items + 1] - offsets[items]
    for t in range(m_max):
        gi = gindex[items, t]
        keep = gi >= 0
        if not keep.any():
            continue
        its, xs = items[keep], X[:, keep]
        s_t = np.zeros(xs.shape)
        ncat = n_cat[keep]
        for k in range(int(ncat.max())):
            has = ncat > k
            M = _linalg.matmul(post, score_table[offsets[its[has]] + k, :, t].T)
            s_t[:, has] += np.where(xs[:, has] == k, M, 0.0)
        blocks.append(s_t)
        gcols.append(gi[keep])
    if not blocks:
        return np.zeros(0, dtype=np.int64), np.zeros((X.shape[0], 0))
    return np.concatenate(gcols), np.hstack(blocks)


def _person_gradients_sparse(data, rest, persons_rest, posterior, gindex, score_table, m_max,  # type: ignore[no-untyped-def]
                             s_pop, n_free, n_total):
    """ḡ of the candidates outside booklets, sparse (n_persons, n_total)."""
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    for v in range(s_pop.shape[0]):
        rows.append(persons_rest)
        cols.append(np.full(persons_rest.size, n_free + v))
        vals.append(posterior[persons_rest] @ s_pop[v])
    flat = data.flat_categories[rest]
    persons = data.person_indices[rest]
    items = data.item_indices[rest]
    for t in range(m_max):
        gi = gindex[items, t]
        keep = gi >= 0
        if not keep.any():
            continue
        tab_t = np.ascontiguousarray(score_table[:, :, t])
        contrib = np.empty(rest.size)
        for a0 in range(0, rest.size, 200_000):
            a1 = min(a0 + 200_000, rest.size)
            contrib[a0:a1] = np.einsum("rq,rq->r", posterior[persons[a0:a1]], tab_t[flat[a0:a1]])
        rows.append(persons[keep])
        cols.append(gi[keep])
        vals.append(contrib[keep])
    if not rows:
        return sp.csr_array((data.n_persons, n_total))
    return sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(data.n_persons, n_total))


# --------------------------------------------------------------------------------------
# Posterior second moments sum_p w_p E_π[s s']


def _second_moments_booklet(items, X, post, w, gindex, score_table, offsets, n_categories, m_max,  # type: ignore[no-untyped-def]
                            s_pop, n_free):
    """sum_q S_q' C_q S_q for one booklet: (global indices of its free item parameters and the
    population parameters, the matrix over them)."""
    n_b = items.size
    ncat = n_categories[items]
    k_max = int(ncat.max())
    Q = post.shape[1]
    # indicator columns: 0 = constant, then (item i, category k >= 1)
    col_off = np.concatenate([[1], 1 + np.cumsum(ncat - 1)])
    D_b = int(col_off[-1])
    Z = np.zeros((X.shape[0], D_b))
    Z[:, 0] = 1.0
    for k in range(1, k_max):
        has = np.flatnonzero(ncat > k)
        Z[:, col_off[has] + k - 1] = (X[:, has] == k)
    # Gram products C_q = Z' diag(w post_q) Z, one per node: (D_b, Q, D_b). Per node the product
    # is skinny (many candidates, few columns), the shape _linalg keeps on one BLAS thread.
    gram = np.empty((D_b, Q, D_b))
    wpost = post * w[:, None]
    for q in range(Q):
        gram[:, q, :] = _linalg.crossprod(Z * wpost[:, q : q + 1], Z)
    # row of C for (item i, category a): a = 0 -> the constant column
    row_of = np.full((n_b, k_max), D_b, dtype=np.int64)  # D_b: a zero row
    row_of[:, 0] = 0
    for k in range(1, k_max):
        has = np.flatnonzero(ncat > k)
        row_of[has, k] = col_off[has] + k - 1
    C = np.zeros((D_b + 1, Q, D_b + 1))
    C[:D_b, :, :D_b] = gram
    Cfull = C[row_of[:, :, None, None], :, row_of[None, None, :, :]]  # (n_b, k, n_b, k, Q)
    # coefficients: a = 0 -> s(0, q), a >= 1 -> s(a, q) - s(0, q); (n_b, m, k, Q)
    coef = np.zeros((n_b, m_max, k_max, Q))
    s0 = score_table[offsets[items]]  # (n_b, Q, m)
    coef[:, :, 0, :] = np.swapaxes(s0, 1, 2)
    for k in range(1, k_max):
        has = np.flatnonzero(ncat > k)
        coef[has, :, k, :] = np.swapaxes(score_table[offsets[items[has]] + k] - s0[has], 1, 2)
    sel_i, sel_t = np.nonzero(gindex[items, :m_max] >= 0)
    # sum_q sum_{a,b} coef[i, t, a, q] C[(i, a), (l, b), q] coef[l, u, b, q]
    left = np.einsum("itaq,ialbq->itlbq", coef, Cfull)
    full_items = np.einsum("itlbq,lubq->itlu", left, coef)
    out = full_items[sel_i, sel_t][:, sel_i, sel_t]
    idx = gindex[items[sel_i], sel_t]
    n_pop = s_pop.shape[0]
    if n_pop:
        P_b = sel_i.size
        full = np.zeros((P_b + n_pop, P_b + n_pop))
        full[:P_b, :P_b] = out
        C0 = np.concatenate([gram[0], np.zeros((Q, 1))], axis=1)  # (Q, D_b + 1): the constant row
        Ca0 = C0[:, row_of]  # (Q, n_b, k): C[const, (i, a)]
        cross_items = np.einsum("itaq,qia,vq->itv", coef, Ca0, s_pop)
        cross = cross_items[sel_i, sel_t]
        full[:P_b, P_b:] = cross
        full[P_b:, :P_b] = cross.T
        full[P_b:, P_b:] = np.einsum("vq,q,uq->vu", s_pop, gram[0, :, 0], s_pop)
        return np.concatenate([idx, n_free + np.arange(n_pop)]), full
    return idx, out


def _second_moments_sparse(data, rest, persons_rest, posterior, gindex, score_table, m_max,  # type: ignore[no-untyped-def]
                           s_pop, n_free, n_total):
    """sum_q S_q' C_q S_q for the candidates outside booklets (sparse indicators)."""
    n_cols = int(data.n_categories.sum())
    persons = data.person_indices[rest]
    flat = data.flat_categories[rest]
    # indicator matrix over (flat category columns, constant)
    Y = sp.csr_array((np.ones(rest.size), (persons, flat)), shape=(data.n_persons, n_cols + 1)).tolil()
    Y[persons_rest, n_cols] = 1.0
    Y = Y.tocsr()
    item_of_col = np.repeat(np.arange(data.n_items), data.n_categories)
    S_rows, S_cols, S_t = [], [], []
    for t in range(m_max):
        gi = gindex[item_of_col, t]
        keep = np.flatnonzero(gi >= 0)
        S_rows.append(keep)
        S_cols.append(gi[keep])
        S_t.append(np.full(keep.size, t))
    S_rows_a = np.concatenate(S_rows)
    S_cols_a = np.concatenate(S_cols)
    S_t_a = np.concatenate(S_t)
    n_pop = s_pop.shape[0]
    total = sp.csr_array((n_total, n_total))
    w = data.person_weights
    for q in range(posterior.shape[1]):
        wq = np.zeros(data.n_persons)
        wq[persons_rest] = w[persons_rest] * posterior[persons_rest, q]
        Cq = (Y.T @ sp.diags_array(wq) @ Y).tocsr()
        vals = score_table[S_rows_a, q, S_t_a]
        r_idx, c_idx = [S_rows_a], [S_cols_a]
        v_all = [vals]
        if n_pop:
            r_idx.append(np.full(n_pop, n_cols))
            c_idx.append(np.arange(n_free, n_total))
            v_all.append(s_pop[:, q])
        Sq = sp.csr_array((np.concatenate(v_all), (np.concatenate(r_idx), np.concatenate(c_idx))),
                          shape=(n_cols + 1, n_total))
        total = total + Sq.T @ (Cq @ Sq)
    return total


# --------------------------------------------------------------------------------------
# Inversion and the delta method


def _invert(info: sp.csr_array, n_free: int, n_pop: int, kind: str):  # type: ignore[no-untyped-def]
    """Covariance of the working parameters (dense blocks in a dict), method name, and the
    items whose block is not positive definite (as parameter indices, mapped later)."""
    n_total = n_free + n_pop
    items_part = info[:n_free][:, :n_free]
    n_comp, labels = connected_components(items_part, directed=False)
    sizes = np.bincount(labels, minlength=n_comp)
    dense_ok = bool(sizes.max() <= MAX_DENSE_BLOCK) if n_free else True
    method = kind if dense_ok else f"{kind}-item-blocks"
    bad: list[int] = []
    blocks: list[tuple[IntArray, FloatArray]] = []
    order = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    groups = [order[bounds[c]: bounds[c + 1]] for c in range(n_comp)] if dense_ok else [np.array([i]) for i in range(n_free)]
    inverses = []
    for members in groups:
        block = items_part[members][:, members].toarray()
        inv, ok = _spd_inverse(block)
        if not ok:
            bad.extend(members.tolist())
        inverses.append((members, inv))
    if n_pop == 0:
        return {"blocks": inverses, "n_total": n_total, "dense": None}, method, bad
    # Schur complement of the population block: items blocks B, coupling E, population P
    E = info[:n_free][:, n_free:].toarray()  # (n_free, n_pop)
    Pp = info[n_free:][:, n_free:].toarray()
    W = np.zeros_like(E)
    for members, inv in inverses:
        W[members] = inv @ E[members]
    S = Pp - E.T @ W
    S_inv, ok = _spd_inverse(S)
    if not ok:
        bad.extend(range(n_free, n_total))
    dense = np.zeros((n_total, n_total))
    for members, inv in inverses:
        dense[np.ix_(members, members)] = inv
    dense[:n_free, :n_free] += W @ S_inv @ W.T
    dense[:n_free, n_free:] = -W @ S_inv
    dense[n_free:, :n_free] = -S_inv @ W.T
    dense[n_free:, n_free:] = S_inv
    return {"blocks": None, "n_total": n_total, "dense": dense}, method, bad


def _spd_inverse(block: FloatArray) -> tuple[FloatArray, bool]:
    """Inverse of an information block and whether it is positive definite (Cholesky);
    a singular or indefinite block gets the pseudo-inverse and False."""
    sym = 0.5 * (block + block.T)
    try:
        np.linalg.cholesky(sym)
        inv = _linalg.inverse_spd(sym) if sym.shape[0] <= 1024 else np.linalg.inv(sym)
        if np.all(np.isfinite(inv)) and np.all(np.diag(inv) > 0):
            return inv, True
    except np.linalg.LinAlgError:
        pass
    return np.linalg.pinv(sym), False


def _delta(state, params, gindex, cov, n_items, n_free, pop_kinds, pop_sd, kind):  # type: ignore[no-untyped-def]
    """Map the working covariance to a/b/c/thresholds (and the population SD)."""
    D = state.D
    # reported parameters: rows of the transformed covariance
    r_items: list[int] = []
    r_kinds: list[str] = []
    r_steps: list[int] = []
    jac_rows: list[int] = []
    jac_cols: list[int] = []
    jac_vals: list[float] = []
    for g in state.groups:
        for local, j in enumerate(g.items.tolist()):
            idx = gindex[j, : g.m]
            if not np.any(idx >= 0):
                continue
            alpha = float(g.alpha[local])
            if idx[0] >= 0:  # a = alpha / D
                jac_rows.append(len(r_items))
                jac_cols.append(int(idx[0]))
                jac_vals.append(1.0 / D)
                r_items.append(j)
                r_kinds.append("a")
                r_steps.append(0)
            for k in range(1, g.n_cat):  # b_k = -d_k / alpha
                row = len(r_items)
                if idx[k] >= 0:
                    jac_rows.append(row)
                    jac_cols.append(int(idx[k]))
                    jac_vals.append(-1.0 / alpha)
                if idx[0] >= 0:
                    jac_rows.append(row)
                    jac_cols.append(int(idx[0]))
                    jac_vals.append(float(g.d[local, k - 1]) / alpha**2)
                r_items.append(j)
                r_kinds.append("threshold")
                r_steps.append(k)
            if g.is_3pl and idx[g.m - 1] >= 0:  # c = logistic(gamma)
                cj = float(expit(g.gamma[local]))
                jac_rows.append(len(r_items))
                jac_cols.append(int(idx[g.m - 1]))
                jac_vals.append(cj * (1 - cj))
                r_items.append(j)
                r_kinds.append("c")
                r_steps.append(0)
    for v, name in enumerate(pop_kinds):
        jac_rows.append(len(r_items))
        jac_cols.append(n_free + v)
        # mean directly; sd = exp(log sd): d sd / d log sd = sd
        jac_vals.append(1.0 if name == "mean" else pop_sd)
        r_items.append(-1)
        r_kinds.append(name)
        r_steps.append(0)
    n_rep = len(r_items)
    n_total = cov["n_total"]
    Jm = sp.csr_array((jac_vals, (jac_rows, jac_cols)), shape=(n_rep, n_total))
    if cov["dense"] is not None:
        V = Jm @ cov["dense"] @ Jm.T
        matrix = sp.csr_array(V)
    else:
        Vw = block_matrix(list(cov["blocks"]), n_total)
        matrix = sp.csr_array(Jm @ Vw @ Jm.T)
    diag = np.sqrt(np.maximum(matrix.diagonal(), 0.0))
    items_arr = np.asarray(r_items, dtype=np.int64)
    steps_arr = np.asarray(r_steps, dtype=np.int64)
    kinds_arr = np.asarray(r_kinds, dtype=object)
    se_a = np.full(n_items, np.nan)
    se_b = np.full(n_items, np.nan)
    se_c = np.full(n_items, np.nan)
    se_thr = np.full_like(params.thresholds, np.nan)
    for r in np.flatnonzero(kinds_arr == "a"):
        se_a[items_arr[r]] = diag[r]
    for r in np.flatnonzero(kinds_arr == "c"):
        se_c[items_arr[r]] = diag[r]
    thr_rows = np.flatnonzero(kinds_arr == "threshold")
    for r in thr_rows:
        se_thr[items_arr[r], steps_arr[r] - 1] = diag[r]
    # b = mean of the thresholds
    dense_needed = {}
    for r in thr_rows:
        dense_needed.setdefault(int(items_arr[r]), []).append(int(r))
    for j, rs in dense_needed.items():
        sub = matrix[rs][:, rs].toarray()
        w = np.full(len(rs), 1.0 / len(rs))
        se_b[j] = float(np.sqrt(max(w @ sub @ w, 0.0)))
    basis = {0: "population N(0, 1) (or, xpd, as estimated and treated as known)",
             1: "population N(0, sigma^2), sigma estimated",
             2: "anchor items held fixed; population mean and SD estimated"}[len(pop_kinds)]
    covariance = ParameterCovariance(matrix, items_arr, tuple(r_kinds), steps_arr, basis)
    return ParameterErrors(se_a, se_b, se_c, se_thr), covariance

