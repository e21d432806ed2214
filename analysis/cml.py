"""Conditional maximum likelihood (CML) for the Rasch model and the partial credit model.

Model (Rasch, 1960; Masters, 1982), in logits: P(X_pi = h | theta_p) is proportional to
exp(h theta_p - sum_{k<=h} tau_ik), h = 0..K_i-1, with thresholds tau_ik (for a 0/1 item the
single threshold is its difficulty). Reported on the metric of ``D`` like every calibration:
a = 1 and b_k = tau_k / D, so that P = exp(sum D a (theta - b_v)) / ... as in
:mod:`analysis.parameters`.

Given a person's raw score r on the items of their booklet, the pattern's probability no
longer depends on theta (the raw score is sufficient):

    P(x | r) = exp(sum_i eta_{i,x_i}) / gamma_r(eps),  eta_ih = -sum_{k<=h} tau_ik,

where gamma_r is the elementary symmetric function of order r of the booklet's items
(:mod:`analysis._esf`). The conditional log-likelihood sum_p log P(x_p | r_p) is maximised by
Newton-Raphson on the thresholds with the exact conditional information (Andersen, 1972;
Fischer, 1995, ch. 3); persons with the lowest or highest possible raw score on their booklet
carry no information and are left out (counted in ``n_extreme``). Missing responses by design
are handled exactly: each booklet (set of items answered) has its own ESFs.

Identification. The likelihood is unchanged when every threshold of a connected group of
items moves by the same amount. With anchor items held fixed that shift is set by the
anchors; otherwise the thresholds of the free items are centred (their mean is 0, the
``sum0`` normalisation of eRm for the Rasch model), and the covariance matrix is the
Moore-Penrose inverse of the information, i.e. the covariance of the centred estimates.

CML estimates exist only when the data are not separable: for 0/1 items the directed graph
with an edge i -> j whenever some candidate scored on item i but not on item j must be
strongly connected (Fischer, 1981); its polytomous analogue (an edge when a candidate scored
above 0 on i and below the maximum on j) is checked the same way. A Guttman pattern, one item,
or a handful of candidates fail this check and are reported as ``not_identified``, as is a
design whose items fall into groups that share no candidates (their scales cannot be
compared without a population assumption; use MML then).

Person parameters from CML item parameters: ``analysis.score_persons(responses, result.params,
method="ml" | "wle")`` (ML as eRm's ``person.parameter``; Warm's WLE, finite for extreme
scores); item fit and Andersen's LR test: :mod:`analysis.fit`.

References: Andersen, E. B. (1972), J. Royal Statistical Society B 34, 42-54. Fischer, G. H.
(1981), Psychometrika 46, 59-77. Fischer, G. H. (1995), in Fischer & Molenaar (eds.), Rasch
Models, ch. 3. Masters, G. N. (1982), Psychometrika 47, 149-174. Verhelst, N. D., Glas,
C. A. W. & van der Sluis, A. (1984), Computational Statistics Quarterly 1, 245-262.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from analysis import _esf, _linalg
from analysis.covariance import ParameterCovariance, block_matrix
from analysis.errors import InvalidInputError
from analysis.messages import Message
from analysis.parameters import ItemParameters
from analysis.responses import ResponseData
from analysis.results import (
    STATUS_CONVERGED,
    STATUS_NOT_CONVERGED,
    STATUS_NOT_IDENTIFIED,
    CalibrationResult,
    ParameterErrors,
    Priors,
)

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CML_MODELS = frozenset({"rasch", "1pl", "pcm"})
_DIVERGED = 30.0  # logits from the centre: the likelihood has no finite maximum
_PER_ITEM_SECONDS = 2e-4  # Python overhead of one item step of the Hessian pass (batching)
_PER_FLOP_SECONDS = 1e-9


# ======================================================================================
# Design: booklets, raw scores, sufficient statistics


@dataclass
class Design:
    """What the conditional likelihood needs from the data (non-extreme persons only).

    Attributes
    ----------
    n_steps : int array (n_items,)
        K_j - 1.
    offsets : int array (n_items + 1,)
        Start of each item's thresholds in the flat parameter vector.
    stats : float array (n_params,)
        Weighted number of non-extreme responses in category h >= 1 of each item.
    category_counts : float array (sum_j K_j,)
        Weighted counts of every category among non-extreme persons.
    batches : list of _esf.Batch
    booklet_items : list of int arrays
        Items of each booklet with non-extreme persons.
    used : bool array (n_persons,)
        Persons with a non-extreme raw score.
    n_extreme : int
        Persons with responses whose raw score is extreme.
    """

    n_steps: IntArray
    offsets: IntArray
    stats: FloatArray
    category_counts: FloatArray
    batches: list[_esf.Batch]
    booklet_items: list[IntArray]
    used: npt.NDArray[np.bool_]
    n_extreme: int

    @property
    def n_params(self) -> int:
        return int(self.offsets[-1])


def build_design(data: ResponseData) -> Design:
    """Group the non-extreme persons into booklets and batches (see module docstring)."""
    n_steps = (data.n_categories - 1).astype(np.int64)
    offsets = np.zeros(data.n_items + 1, dtype=np.int64)
    np.cumsum(n_steps, out=offsets[1:])
    raw = data.raw_scores()
    has = data.responses_per_person() > 0
    used = informative_persons(data)
    n_extreme = int(np.sum(has & ~used))

    rows = np.flatnonzero(used[data.person_indices])
    weights = data.person_weights[data.person_indices[rows]]
    flat = data.flat_categories[rows]
    category_counts = np.bincount(flat, weights=weights, minlength=int(data.n_categories.sum()))
    stats = np.zeros(int(offsets[-1]))
    cat_offsets = data.category_offsets
    for j in range(data.n_items):
        stats[offsets[j]: offsets[j + 1]] = category_counts[cat_offsets[j] + 1: cat_offsets[j + 1]]

    booklets = _booklets(data, np.flatnonzero(used))
    booklet_items: list[IntArray] = []
    booklet_counts: list[FloatArray] = []
    for items, members in booklets:
        R = int(n_steps[items].sum())
        counts = np.bincount(raw[members].astype(np.int64), weights=data.person_weights[members],
                             minlength=R + 1)
        booklet_items.append(items)
        booklet_counts.append(counts)
    batches = _make_batches(booklet_items, booklet_counts, n_steps)
    return Design(n_steps, offsets, stats, category_counts, batches, booklet_items, used, n_extreme)


def _booklets(data: ResponseData, persons: IntArray) -> list[tuple[IntArray, IntArray]]:
    """(items, member persons) of each distinct item set among ``persons``."""
    groups: dict[bytes, list[int]] = {}
    ptr, items = data.person_pointer, data.item_indices
    for p in persons.tolist():
        groups.setdefault(items[ptr[p]: ptr[p + 1]].tobytes(), []).append(p)
    out = []
    for members in groups.values():
        p0 = members[0]
        out.append((items[ptr[p0]: ptr[p0 + 1]].copy(), np.asarray(members, dtype=np.int64)))
    out.sort(key=lambda b: (b[0].tolist(), b[1][0]))
    return out


def _batch_cost(n_rows: int, n_items: int, n_params: int, max_score: int, max_steps: int) -> float:
    """Rough seconds of one Hessian pass over a batch (Python overhead + arithmetic)."""
    return n_items * (_PER_ITEM_SECONDS + _PER_FLOP_SECONDS * n_rows * n_params * (max_score + 1) * (max_steps + 2))


def _make_batches(booklet_items: list[IntArray], booklet_counts: list[FloatArray],
                  n_steps: IntArray) -> list[_esf.Batch]:
    """Booklets merged greedily (in item order) while one pass over the merged batch is
    estimated cheaper than separate passes: one booklet per batch for disjoint forms, many
    for candidates who skipped a few items each."""
    groups: list[list[int]] = []
    cur: list[int] = []
    cur_items: set[int] = set()
    cur_cost = 0.0
    for b, items in enumerate(booklet_items):
        own = _batch_cost(1, items.size, int(n_steps[items].sum()), booklet_counts[b].size - 1,
                          int(n_steps[items].max()))
        if cur:
            union = cur_items | set(items.tolist())
            u = np.fromiter(union, dtype=np.int64)
            R = max(max(booklet_counts[k].size for k in cur), booklet_counts[b].size) - 1
            merged = _batch_cost(len(cur) + 1, u.size, int(n_steps[u].sum()), R, int(n_steps[u].max()))
            if merged <= cur_cost + own and (len(cur) + 1) * int(n_steps[u].sum()) * (R + 1) <= 20_000_000:
                cur.append(b)
                cur_items = union
                cur_cost = merged
                continue
            groups.append(cur)
        cur, cur_items, cur_cost = [b], set(items.tolist()), own
    if cur:
        groups.append(cur)
    batches = []
    for g in groups:
        union = np.unique(np.concatenate([booklet_items[b] for b in g]))
        R = max(booklet_counts[b].size for b in g) - 1
        mask = np.zeros((len(g), union.size), dtype=bool)
        counts = np.zeros((len(g), R + 1))
        for r, b in enumerate(g):
            mask[r] = np.isin(union, booklet_items[b])
            counts[r, : booklet_counts[b].size] = booklet_counts[b]
        steps = n_steps[union]
        poff = np.zeros(union.size + 1, dtype=np.int64)
        np.cumsum(steps, out=poff[1:])
        batches.append(_esf.Batch(union, mask, counts, steps, poff))
    return batches


# ======================================================================================
# Likelihood in the thresholds


def _etas(design: Design, tau: FloatArray, items: IntArray) -> list[FloatArray]:
    """Category parameters eta_ih = -sum_{k<=h} tau_ik of the given items."""
    eta = _eta(design, tau)
    off = design.offsets
    return [eta[off[j]: off[j + 1]] for j in items.tolist()]


def _eta(design: Design, tau: FloatArray) -> FloatArray:
    """eta_ih = -sum_{k<=h} tau_ik for every item, flat (P,)."""
    c = np.cumsum(tau)
    starts = np.repeat(design.offsets[:-1], design.n_steps)
    before = np.concatenate([[0.0], c])[starts]
    return -(c - before)


def conditional_log_likelihood(design: Design, tau: FloatArray) -> float:
    """sum_ih s_ih eta_ih - sum_b sum_r n_br log gamma_br; raises _esf.NumericalFailure."""
    total = float(design.stats @ _eta(design, tau))
    for batch in design.batches:
        total -= _esf.log_normaliser(batch, _etas(design, tau, batch.items))
    return total


def _tau_jacobian(design: Design) -> sp.csr_array:
    """d eta / d tau = -L, L lower triangular ones within each item (sparse, (P, P))."""
    rows, cols = [], []
    for j in range(design.n_steps.size):
        a = int(design.offsets[j])
        k = int(design.n_steps[j])
        for h in range(k):
            for v in range(h + 1):
                rows.append(a + h)
                cols.append(a + v)
    P = design.n_params
    return sp.csr_array((-np.ones(len(rows)), (rows, cols)), shape=(P, P))


def _score_and_information(design: Design, tau: FloatArray, J: sp.csr_array
                           ) -> tuple[float, FloatArray, FloatArray]:
    """Conditional log-likelihood, its gradient and the conditional information in tau."""
    P = design.n_params
    eta = _eta(design, tau)
    loglik = float(design.stats @ eta)
    expected = np.zeros(P)
    H = np.zeros((P, P))
    for batch in design.batches:
        f, g, Hb = _esf.hessian(batch, _etas(design, tau, batch.items))
        loglik -= f
        idx = np.concatenate([np.arange(design.offsets[j], design.offsets[j + 1]) for j in batch.items.tolist()])
        expected[idx] += g
        H[np.ix_(idx, idx)] += Hb
    grad_eta = design.stats - expected
    Jd = J.toarray()
    return loglik, Jd.T @ grad_eta, Jd.T @ H @ Jd


# ======================================================================================
# Identification checks


def informative_persons(data: ResponseData) -> npt.NDArray[np.bool_]:
    """Persons with a raw score strictly between the lowest and the highest possible on the
    items they answered (the others carry no conditional information), shape (n_persons,)."""
    n_steps = (data.n_categories - 1).astype(np.float64)
    raw = data.raw_scores()
    top = np.bincount(data.person_indices, weights=n_steps[data.item_indices], minlength=data.n_persons)
    return (data.responses_per_person() > 0) & (raw > 0) & (raw < top)


def separation_groups(data: ResponseData, used: npt.NDArray[np.bool_]) -> list[tuple[list[int], list[int]]]:
    """Groups of items whose responses separate (Fischer, 1981): for a strongly connected
    component S of the graph with an edge i -> j when a candidate scored on i and was below
    the top on j, which no edge enters from the other items of its connected group, returns
    (S, the other items): every candidate who scored on any other item had full marks on S.

    Empty when the CML estimates exist (as far as this condition goes)."""
    rows = np.flatnonzero(used[data.person_indices])
    persons = data.person_indices[rows]
    items = data.item_indices[rows]
    scores = data.scores[rows]
    top = data.n_categories[items] - 1
    n_p, n_i = data.n_persons, data.n_items
    if n_p * n_i <= 4_000_000:  # small enough for a dense product (much faster than sparse)
        pos_d = np.zeros((n_p, n_i))
        below_d = np.zeros((n_p, n_i))
        pos_d[persons[scores > 0], items[scores > 0]] = 1.0
        below_d[persons[scores < top], items[scores < top]] = 1.0
        edges = sp.csr_array(_linalg.crossprod(pos_d, below_d) > 0.5).astype(np.float64)
    else:
        pos = sp.csr_array((np.ones(int(np.sum(scores > 0))), (persons[scores > 0], items[scores > 0])),
                           shape=(n_p, n_i))
        below = sp.csr_array((np.ones(int(np.sum(scores < top))), (persons[scores < top], items[scores < top])),
                             shape=(n_p, n_i))
        edges = (pos.T @ below).tocsr()
    edges.setdiag(0)
    edges.eliminate_zeros()
    answered = sp.csr_array((np.ones(rows.size), (persons, items)), shape=(n_p, n_i))
    linked = (answered.T @ answered).tocsr()
    n_groups, group = connected_components(linked, directed=False)
    n_scc, scc = connected_components(edges, directed=True, connection="strong")
    out: list[tuple[list[int], list[int]]] = []
    involved = np.zeros(n_i, dtype=bool)
    involved[np.unique(items)] = True
    coo = edges.tocoo()
    cross = scc[coo.row] != scc[coo.col]
    reached = np.zeros(n_scc, dtype=bool)
    reached[scc[coo.col[cross]]] = True  # components entered by an edge from another component
    for g in range(n_groups):
        members = np.flatnonzero((group == g) & involved)
        if members.size < 2:
            continue
        comps = np.unique(scc[members])
        if comps.size < 2:
            continue
        for s in comps:
            if not reached[s]:
                S = np.flatnonzero((scc == s) & (group == g) & involved)
                rest = np.setdiff1d(members, S)
                out.append((S.tolist(), rest.tolist()))
                break
    return out


def item_groups(design: Design, n_items: int) -> tuple[int, IntArray]:
    """Connected groups of items (linked through booklets of non-extreme persons)."""
    if not design.booklet_items:
        return n_items, np.arange(n_items)
    rows = np.concatenate([np.full(b.size, k) for k, b in enumerate(design.booklet_items)])
    cols = np.concatenate(design.booklet_items)
    m = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(len(design.booklet_items), n_items))
    return connected_components((m.T @ m).tocsr(), directed=False)


# ======================================================================================
# Estimation


def fit_cml(
    responses: ResponseData,
    models: Sequence[str],
    *,
    D: float,
    fixed_map: dict[int, int],
    fixed_params: ItemParameters | None,
    start: ItemParameters | None,
    max_iterations: int,
    tolerance: float,
    compute_standard_errors: bool,
) -> CalibrationResult:
    """CML estimation (see the module docstring); the arguments are validated by
    :func:`analysis.calibrate`, which calls this for ``method="cml"``."""
    t0 = time.perf_counter()
    n_items = responses.n_items
    models_t = tuple("pcm" if responses.n_categories[j] > 2 and models[j] == "pcm" else models[j]
                     for j in range(n_items))
    design = build_design(responses)
    P = design.n_params
    fixed = np.zeros(P, dtype=bool)
    tau = np.zeros(P)
    for j, k in fixed_map.items():
        a, b = design.offsets[j], design.offsets[j + 1]
        slope = fixed_params.a[k] * fixed_params.D  # type: ignore[union-attr]
        if fixed_params.models[k] not in CML_MODELS or abs(slope - D) > 1e-9 * D:  # type: ignore[union-attr]
            raise InvalidInputError(Message(
                "item {item}: an anchor for a Rasch-family (CML) calibration must be a rasch, 1pl or pcm "
                "item with slope D·a = {D}; it is a {model} item with D·a = {slope:.4g}",
                item=int(j), D=D, model=fixed_params.models[k], slope=float(slope)))  # type: ignore[union-attr]
        row = fixed_params.thresholds[k]  # type: ignore[union-attr]
        tau[a:b] = row[~np.isnan(row)] * D
        fixed[a:b] = True
    free = ~fixed
    problems: list[Message] = []

    # -- starting values: adjacent-category logits of the non-extreme persons ---------------
    cat_off = responses.category_offsets
    for j in range(n_items):
        if j in fixed_map:
            continue
        a, b = design.offsets[j], design.offsets[j + 1]
        if start is not None:
            row = start.thresholds[j]
            tau[a:b] = row[~np.isnan(row)] * start.D * start.a[j]
            continue
        cc = design.category_counts[cat_off[j]: cat_off[j + 1]] + 0.5
        tau[a:b] = np.log(cc[:-1] / cc[1:])

    # -- identification ----------------------------------------------------------------------
    n_groups, group = item_groups(design, n_items)
    item_of_param = np.repeat(np.arange(n_items), design.n_steps)
    not_identified = False
    for j in range(n_items):
        if j in fixed_map:
            continue
        cc = design.category_counts[cat_off[j]: cat_off[j + 1]]
        if cc.sum() <= 0:
            problems.append(Message(
                "item {item}: every candidate who answered it has the lowest or the highest possible "
                "total score, so the conditional likelihood says nothing about it", item=int(j)))
            not_identified = True
        elif np.any(cc <= 0):
            problems.append(Message(
                "item {item}: no candidate with a total score between the lowest and the highest "
                "scored {category} on it; its threshold cannot be estimated (collapse categories or "
                "collect more responses)", item=int(j), category=int(np.flatnonzero(cc <= 0)[0])))
            not_identified = True
    for S, rest in separation_groups(responses, design.used):
        problems.append(Message(
            "conditional (CML) estimates do not exist: every candidate who scored on any of item(s) {others} "
            "had full marks on item(s) {items} (a Guttman pattern); the difficulties move apart without "
            "limit. Collect more varied responses.", items=[int(x) for x in S], others=[int(x) for x in rest]))
        not_identified = True
    free_groups = [g for g in range(n_groups)
                   if np.any(free[group[item_of_param] == g]) and not any(group[j] == g for j in fixed_map)]
    used_groups = [g for g in free_groups if np.any(np.isin(np.flatnonzero(group == g),
                                                            np.concatenate(design.booklet_items or [np.zeros(0, np.int64)])))]
    if len(used_groups) > 1 and not fixed_map:
        problems.append(Message(
            "the items fall into {n} groups that no candidate links (each group answered by different "
            "candidates); conditional estimates of different groups cannot be compared. Link the "
            "forms with common items or use MML (population assumption).", n=len(used_groups)))
        not_identified = True
    elif fixed_map and free_groups:
        lonely = [int(j) for g in free_groups for j in np.flatnonzero(group == g)]
        problems.append(Message(
            "item(s) {items} share no candidates with any anchor item; they cannot be put on the "
            "anchors' scale", items=lonely))
        not_identified = True

    # centring vectors: the free thresholds of each group without anchors
    null_vectors: list[FloatArray] = []
    free_idx = np.flatnonzero(free)
    for g in free_groups:
        v = (group[item_of_param[free_idx]] == g).astype(np.float64)
        if v.sum() > 0:
            null_vectors.append(v / np.sqrt(v.sum()))
            sel = free_idx[v > 0]
            tau[sel] -= tau[sel].mean()

    J = _tau_jacobian(design)
    changes: list[float] = []
    logliks: list[float] = []
    converged = False
    diverged = False
    info = None
    n_it = 0
    loglik = float("nan")
    if not not_identified and free_idx.size:
        try:
            loglik, grad, info = _score_and_information(design, tau, J)
            for n_it in range(1, max_iterations + 1):
                logliks.append(loglik)
                A = info[np.ix_(free_idx, free_idx)]
                for v in null_vectors:
                    A = A + np.outer(v, v)
                step = np.linalg.solve(A, grad[free_idx])
                big = float(np.max(np.abs(step)))
                if big > 5.0:
                    step *= 5.0 / big
                t = 1.0
                for _half in range(40):
                    trial = tau.copy()
                    trial[free_idx] += t * step
                    try:
                        new_ll = conditional_log_likelihood(design, trial)
                    except _esf.NumericalFailure:
                        new_ll = -np.inf
                    if new_ll >= loglik - 1e-10 * abs(loglik):
                        break
                    t *= 0.5
                moved = float(np.max(np.abs(t * step)))
                changes.append(moved)
                tau = trial
                if np.max(np.abs(tau[free_idx])) > _DIVERGED:
                    diverged = True
                    break
                loglik, grad, info = _score_and_information(design, tau, J)
                if moved < tolerance:
                    converged = True
                    break
        except (_esf.NumericalFailure, np.linalg.LinAlgError):
            diverged = True
    elif not not_identified:
        converged = True  # every item fixed: nothing to estimate
        loglik = conditional_log_likelihood(design, tau) if design.batches else 0.0
    if diverged:
        problems.append(Message(
            "the conditional likelihood has no finite maximum: thresholds moved beyond {bound} logits "
            "(separated data, e.g. a Guttman pattern between groups of items)", bound=_DIVERGED))
        not_identified = True

    # -- results -------------------------------------------------------------------------------
    thr = np.full((n_items, max(1, int(design.n_steps.max()))), np.nan)
    for j in range(n_items):
        thr[j, : design.n_steps[j]] = tau[design.offsets[j]: design.offsets[j + 1]] / D
    if fixed_params is not None:
        for j, k in fixed_map.items():
            row = fixed_params.thresholds[k]
            thr[j, :] = np.nan
            thr[j, : int(np.sum(~np.isnan(row)))] = row[~np.isnan(row)]
    params = ItemParameters.from_thresholds(models_t, 1.0, thr, D=D)
    status = STATUS_NOT_IDENTIFIED if not_identified else (STATUS_CONVERGED if converged else STATUS_NOT_CONVERGED)
    errors = None
    covariance = None
    se_method = "none"
    if compute_standard_errors and info is not None and status != STATUS_NOT_IDENTIFIED and free_idx.size:
        A = info[np.ix_(free_idx, free_idx)]
        for v in null_vectors:
            A = A + np.outer(v, v)
        try:
            V = np.linalg.inv(A)
            for v in null_vectors:
                V -= np.outer(v, v)
            V = 0.5 * (V + V.T) / D**2
            errors, covariance = _errors_from_covariance(params, design, free_idx, V, fixed_map)
            se_method = "conditional"
        except np.linalg.LinAlgError:
            problems.append(Message("the conditional information matrix is singular: the thresholds are "
                                    "not identified"))
            status = STATUS_NOT_IDENTIFIED
    if status == STATUS_NOT_CONVERGED:
        problems.append(Message("not converged after {n} Newton iterations (last change {change:.2e})",
                                n=n_it, change=changes[-1] if changes else float("nan")))
    message = {
        STATUS_CONVERGED: Message("CML converged after {n} Newton iterations", n=n_it),
        STATUS_NOT_CONVERGED: Message("CML not converged after {n} Newton iterations", n=n_it),
        STATUS_NOT_IDENTIFIED: Message("CML: the data do not identify the item parameters"),
    }[status]
    logger.info("cml: %s, conditional log-likelihood %.4f", message.english(), loglik)
    return CalibrationResult(
        params=params,
        standard_errors=errors,
        se_method=se_method,
        log_likelihood=float(loglik),
        log_posterior=float(loglik),
        converged=status == STATUS_CONVERGED,
        n_iterations=n_it,
        max_change_history=np.asarray(changes),
        log_likelihood_history=np.asarray(logliks),
        models=models_t,
        D=float(D),
        quadrature=None,
        population_mean=float("nan"),
        population_sd=float("nan"),
        fixed_items=np.asarray(sorted(fixed_map), dtype=np.int64),
        priors=Priors(c_beta=None),
        n_persons=responses.n_persons,
        n_responses=responses.n_responses,
        elapsed_seconds=time.perf_counter() - t0,
        message=message,
        method="cml",
        status=status,
        problems=tuple(problems),
        covariance=covariance,
        n_extreme=design.n_extreme,
    )


def _errors_from_covariance(
    params: ItemParameters, design: Design, free_idx: IntArray, V: FloatArray, fixed_map: dict[int, int]
) -> tuple[ParameterErrors, ParameterCovariance]:
    n_items = params.n_items
    item_of_param = np.repeat(np.arange(n_items), design.n_steps)
    step_of_param = np.concatenate([np.arange(1, k + 1) for k in design.n_steps])
    se_thr = np.full_like(params.thresholds, np.nan)
    se_b = np.full(n_items, np.nan)
    diag = np.sqrt(np.maximum(np.diag(V), 0.0))
    pos = {int(p): r for r, p in enumerate(free_idx)}
    for j in range(n_items):
        if j in fixed_map:
            continue
        rows = [pos[p] for p in range(design.offsets[j], design.offsets[j + 1])]
        se_thr[j, : len(rows)] = diag[rows]
        w = np.full(len(rows), 1.0 / len(rows))
        se_b[j] = float(np.sqrt(max(w @ V[np.ix_(rows, rows)] @ w, 0.0)))
    nan = np.full(n_items, np.nan)
    errors = ParameterErrors(nan, se_b, nan.copy(), se_thr)
    basis = ("anchor items held at their given thresholds" if fixed_map else
             "the thresholds of the free items sum to 0 (centred; conditional ML)")
    cov = ParameterCovariance(
        matrix=block_matrix([(np.arange(free_idx.size), V)], free_idx.size),
        items=item_of_param[free_idx].astype(np.int64),
        kinds=tuple("threshold" for _ in free_idx),
        steps=step_of_param[free_idx].astype(np.int64),
        basis=basis,
    )
    return errors, cov
