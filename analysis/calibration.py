"""Item calibration by marginal maximum likelihood (Bock & Aitkin, 1981) with EM.

Models: ``"rasch"`` (common slope), ``"1pl"`` (a = 1), ``"2pl"``, ``"3pl"`` (Beta prior on c,
MAP), ``"grm"``, ``"gpcm"``, ``"pcm"``, mixed freely item by item (see
:mod:`analysis.parameters` for the parameterisation; ``D`` is explicit and stored).

Algorithm
---------
* Latent trait: N(mu, sigma^2) on a quadrature grid; mu = 0, sigma = 1 identify the scale.
  With fixed (anchor) items the population mean and SD are estimated instead, which puts the
  free items on the anchors' scale: fixed-parameter calibration with multiple prior-weight
  updates (Kim, 2006, "MWU-MEM").
* E-step over observed responses only. With Y the sparse (n_persons, sum_j K_j) one-hot
  matrix of observed categories (:meth:`ResponseData.indicator_matrix`), the log-likelihood
  of every person at every node is one sparse product ``L = Y @ log P`` (log P has shape
  (sum_j K_j, n_nodes)); posteriors are normalised row-wise and the expected category counts
  at each node are ``R = Y^T @ posterior`` (Bock & Aitkin, 1981, eqs. 9-10). Cost is
  O(n_responses x n_nodes); missing-by-design cells cost nothing.
* M-step: per item, Fisher scoring on the expected complete-data log-likelihood
  sum_q sum_k R_jkq log P_jk(X_q) + log prior, vectorised over all items of a model family,
  with step halving so that the objective never decreases (a generalised EM). The common
  Rasch slope is updated jointly with the item intercepts through the Schur complement.
* Acceleration: SQUAREM (Varadhan & Roland, 2008, scheme S3) on the vector of free working
  parameters, falling back to plain EM steps whenever the extrapolation lowers the
  log-likelihood; ``accelerate=False`` gives plain EM.
* Convergence: the largest absolute change of a free working parameter (slope alpha = D a,
  intercepts d_k = -D a b_k, lower asymptote c) over one plain EM step is below
  ``tolerance``. Non-convergence is reported (``converged=False``), never raised.
* Standard errors: inverse of the cross-product of per-person gradients of the marginal
  log-likelihood ("XPD", empirical information; Mislevy, 1986; the cross-product approximation
  discussed by Louis, 1982), plus the negative second derivative of the log-priors, inverted
  per connected block of items, then mapped to a/b/c/thresholds by the delta method. Fixed
  items and the estimated population parameters are treated as known.

Priors (Bayes modal / MAP): c ~ Beta(5, 17) by default for 3PL items (mean 0.23, the
BILOG-MG convention for four- or five-option items; Zimowski et al., 2003); an optional
lognormal prior on a; none on b.

References: Bock, R. D. & Aitkin, M. (1981), Psychometrika 46, 443-459. Baker, F. B. & Kim,
S.-H. (2004), *Item Response Theory: Parameter Estimation Techniques*, 2nd ed., ch. 6-7, 9.
Muraki, E. (1992), Applied Psychological Measurement 16, 159-176. Samejima, F. (1969),
Psychometrika Monograph 17. Kim, S. (2006), J. Educational Measurement 43, 355-381.
Varadhan, R. & Roland, C. (2008), Scand. J. Statistics 35, 335-353.
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
from scipy.special import expit, logit

from analysis import _kernels as K
from analysis import _linalg
from analysis.errors import InsufficientDataError, InvalidInputError
from analysis.parameters import (
    FAMILY_OF_MODEL,
    FIXED_SLOPE_MODELS,
    ItemParameters,
    normalise_models,
)
from analysis.quadrature import Quadrature, rectangular_quadrature
from analysis.responses import ResponseData

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_TINY = 1e-300
_MAX_DENSE_BLOCK = 4000  # largest block of the information matrix inverted densely


@dataclass(frozen=True)
class Priors:
    """Priors on item parameters (Bayes modal estimation).

    Attributes
    ----------
    c_beta : (alpha, beta) or None
        Beta prior on the lower asymptote c of 3PL items; default Beta(5, 17).
    a_lognormal : (mean, sd) or None
        Normal prior on ln(a) for items with a free slope; default none.
    """

    c_beta: tuple[float, float] | None = (5.0, 17.0)
    a_lognormal: tuple[float, float] | None = None


@dataclass(frozen=True)
class ParameterErrors:
    """Standard errors on the a/b/c scale, NaN where a parameter was fixed or not estimable.

    Attributes
    ----------
    a, b, c : arrays, shape (n_items,)
    thresholds : array, shape (n_items, max_categories - 1)
    """

    a: FloatArray
    b: FloatArray
    c: FloatArray
    thresholds: FloatArray


@dataclass(frozen=True)
class CalibrationResult:
    """Outcome of :func:`calibrate`.

    Attributes
    ----------
    params : ItemParameters
        Estimates in a/b/c form with ``params.D`` the logistic constant used.
    standard_errors : ParameterErrors or None
    se_method : str
        ``"xpd"`` (cross-product of person gradients, inverted per connected block),
        ``"xpd-item-blocks"`` (a block was too large; per-item blocks), or ``"none"``.
    log_likelihood : float
        Marginal log-likelihood at the estimates (without priors).
    log_posterior : float
        ``log_likelihood`` plus the log prior densities (equal when no priors apply).
    converged : bool
    n_iterations : int
        Number of EM maps evaluated (one E-step each).
    max_change_history, log_likelihood_history : arrays, shape (n_iterations,)
        Largest free-parameter change of each plain EM map, and the log-likelihood at the
        parameters that map started from.
    models : tuple of str
    D : float
    quadrature : Quadrature
        Final latent distribution used (standard grid moved to the population mean/SD).
    population_mean, population_sd : float
        0 and 1 unless estimated (fixed-parameter calibration).
    fixed_items : int array
        Indices of items whose parameters were held fixed.
    priors : Priors
    n_persons, n_responses : int
    elapsed_seconds : float
    message : str
    """

    params: ItemParameters
    standard_errors: ParameterErrors | None
    se_method: str
    log_likelihood: float
    log_posterior: float
    converged: bool
    n_iterations: int
    max_change_history: FloatArray
    log_likelihood_history: FloatArray
    models: tuple[str, ...]
    D: float
    quadrature: Quadrature
    population_mean: float
    population_sd: float
    fixed_items: IntArray
    priors: Priors
    n_persons: int
    n_responses: int
    elapsed_seconds: float
    message: str


# ======================================================================================
# Internal model state


@dataclass
class _Group:
    """Items of one family and category count, held in working (slope/intercept) form."""

    family: str
    n_cat: int
    is_3pl: bool
    items: IntArray  # global item indices, (n_g,)
    cols: IntArray  # flat (item, category) columns, (n_g, n_cat)
    alpha: FloatArray  # (n_g,)
    d: FloatArray  # (n_g, n_cat - 1)
    gamma: FloatArray  # (n_g,), logit(c); only used when is_3pl
    free: npt.NDArray[np.bool_]  # (n_g, m) free working parameters
    rasch: npt.NDArray[np.bool_]  # (n_g,) items sharing the common Rasch slope

    @property
    def m(self) -> int:
        return self.n_cat + (1 if self.is_3pl else 0)

    def c(self) -> FloatArray | None:
        return expit(self.gamma) if self.is_3pl else None


class _Model:
    def __init__(
        self,
        data: ResponseData,
        models: tuple[str, ...],
        D: float,
        priors: Priors,
        fixed_map: dict[int, int],
        fixed_params: ItemParameters | None,
        start: ItemParameters | None,
    ) -> None:
        self.D = D
        self.priors = priors
        self.models = models
        offsets = data.category_offsets
        ncat = data.n_categories
        counts = data.category_counts()
        keys: dict[tuple[str, int, bool], list[int]] = {}
        for j, m in enumerate(models):
            keys.setdefault((FAMILY_OF_MODEL[m], int(ncat[j]), m == "3pl"), []).append(j)
        self.groups: list[_Group] = []
        for (family, n_cat, is_3pl), members in keys.items():
            items = np.asarray(members, dtype=np.int64)
            cols = offsets[items][:, None] + np.arange(n_cat)[None, :]
            alpha, d, gamma = _start_values(family, n_cat, is_3pl, counts[cols], D, priors)
            m = n_cat + (1 if is_3pl else 0)
            free = np.ones((items.size, m), dtype=bool)
            fixed_slope = np.array([models[j] in FIXED_SLOPE_MODELS for j in items])
            alpha[fixed_slope] = D
            free[fixed_slope, 0] = False
            rasch = np.array([models[j] == "rasch" for j in items])
            fixed = np.array([j in fixed_map for j in items], dtype=bool)
            for src in (start, fixed_params):
                if src is None:
                    continue
                for local, j in enumerate(items):
                    k = fixed_map.get(int(j)) if src is fixed_params else int(j)
                    if k is None:
                        continue
                    a_w, d_w, c_w = src.working(np.array([k]))
                    alpha[local] = a_w[0]
                    d[local] = d_w[0, : n_cat - 1]
                    if is_3pl:
                        gamma[local] = logit(np.clip(c_w[0], 1e-6, 1 - 1e-6))
            alpha[fixed_slope & ~fixed] = D  # a = 1 whatever the starting values said
            free[fixed, :] = False
            rasch &= ~fixed
            grp = _Group(family, n_cat, is_3pl, items, cols, alpha, d, gamma, free, rasch)
            if rasch.any():
                grp.alpha[rasch] = np.mean(grp.alpha[rasch])
            self.groups.append(grp)
        self.n_cols = int(ncat.sum())

    # -------------------------------------------------------------- packing for SQUAREM
    def pack(self) -> FloatArray:
        parts: list[FloatArray] = []
        for g in self.groups:
            own = g.free[:, 0] & ~g.rasch
            parts.append(np.log(g.alpha[own]))
            if g.rasch.any():
                parts.append(np.log(g.alpha[g.rasch][:1]))
            parts.append(g.d[g.free[:, 1 : g.n_cat]])
            if g.is_3pl:
                parts.append(g.gamma[g.free[:, -1]])
        return np.concatenate(parts) if parts else np.zeros(0)

    def unpack(self, vec: FloatArray) -> None:
        pos = 0
        for g in self.groups:
            own = g.free[:, 0] & ~g.rasch
            n = int(own.sum())
            g.alpha[own] = np.exp(vec[pos : pos + n])
            pos += n
            if g.rasch.any():
                g.alpha[g.rasch] = np.exp(vec[pos])
                pos += 1
            dmask = g.free[:, 1 : g.n_cat]
            n = int(dmask.sum())
            g.d[dmask] = vec[pos : pos + n]
            pos += n
            if g.is_3pl:
                gm = g.free[:, -1]
                n = int(gm.sum())
                g.gamma[gm] = vec[pos : pos + n]
                pos += n

    def valid(self) -> bool:
        for g in self.groups:
            if not (np.all(np.isfinite(g.alpha)) and np.all(np.isfinite(g.d))):
                return False
            if g.family == K.GRADED and g.n_cat > 2 and np.any(np.diff(g.d, axis=1) >= 0):
                return False
        return True

    def natural_vector(self) -> FloatArray:
        """Free parameters on the scale of the convergence criterion: alpha, d, c."""
        parts: list[FloatArray] = []
        for g in self.groups:
            parts.append(g.alpha[g.free[:, 0]])
            parts.append(g.d[g.free[:, 1 : g.n_cat]])
            if g.is_3pl:
                parts.append(expit(g.gamma[g.free[:, -1]]))
        return np.concatenate(parts) if parts else np.zeros(0)

    # -------------------------------------------------------------- kernels
    def log_prob_table(self, nodes: FloatArray) -> FloatArray:
        """log P for every flat (item, category) column at every node, (n_cols, n_nodes)."""
        table = np.empty((self.n_cols, nodes.size))
        x = nodes[None, :]
        for g in self.groups:
            c = g.c()
            lp = K.log_probabilities(
                g.family, x, g.alpha[:, None], g.d[:, None, :], None if c is None else c[:, None]
            )  # (n_g, Q, K)
            table[g.cols.ravel()] = np.swapaxes(lp, 1, 2).reshape(-1, nodes.size)
        return table

    def log_prior(self) -> float:
        total = 0.0
        for g in self.groups:
            total += float(np.sum(_log_prior_items(g, g.alpha, g.gamma, self.priors, self.D)))
        return total

    def to_parameters(
        self, n_items: int, fixed_params: ItemParameters | None, fixed_map: dict[int, int]
    ) -> ItemParameters:
        max_steps = max(g.n_cat - 1 for g in self.groups)
        a = np.empty(n_items)
        c = np.zeros(n_items)
        thr = np.full((n_items, max_steps), np.nan)
        for g in self.groups:
            a[g.items] = g.alpha / self.D
            thr[g.items, : g.n_cat - 1] = -g.d / g.alpha[:, None]
            if g.is_3pl:
                c[g.items] = expit(g.gamma)
        # fixed items are reported exactly as given
        if fixed_params is not None:
            for j, k in fixed_map.items():
                a[j] = fixed_params.a[k] * fixed_params.D / self.D
                c[j] = fixed_params.c[k]
                row = fixed_params.thresholds[k]
                row = row[~np.isnan(row)]
                thr[j, :] = np.nan
                thr[j, : row.size] = row
        return ItemParameters.from_thresholds(self.models, a, thr, c=c, D=self.D)


# ======================================================================================
# Public entry point


def calibrate(
    responses: ResponseData,
    model: str | Sequence[str] = "2pl",
    *,
    D: float = 1.0,
    quadrature: Quadrature | None = None,
    priors: Priors | None = None,
    fixed_items: npt.ArrayLike | None = None,
    fixed_params: ItemParameters | None = None,
    estimate_population: bool | None = None,
    start: ItemParameters | None = None,
    max_iterations: int = 2000,
    tolerance: float = 1e-4,
    accelerate: bool = True,
    compute_standard_errors: bool = True,
) -> CalibrationResult:
    """Calibrate items by marginal maximum likelihood (EM over a quadrature grid).

    Parameters
    ----------
    responses : ResponseData
        Observed responses only (missing by design is the normal case).
    model : str or sequence of str (n_items,)
        ``"rasch"``, ``"1pl"``, ``"2pl"``, ``"3pl"``, ``"grm"``, ``"gpcm"``, ``"pcm"``.
        Entries for fixed items are replaced by the model of ``fixed_params``.
    D : float
        Logistic constant of the reported a (1.0 logistic metric, 1.702 normal metric).
    quadrature : Quadrature, optional
        Standard-normal grid; default 41 rectangular nodes on [-6, 6].
    priors : Priors, optional
        Default ``Priors()``: Beta(5, 17) on c of 3PL items, nothing else.
    fixed_items : int array (n_fixed,), optional
        Items whose parameters are held at ``fixed_params`` (same order): anchors of an
        existing scale. New items are then calibrated onto that scale.
    fixed_params : ItemParameters (n_fixed items), optional
    estimate_population : bool, optional
        Estimate the mean and SD of the latent distribution (default: when items are fixed).
    start : ItemParameters (n_items), optional
        Starting values (default: from observed category proportions).
    max_iterations : int
        Limit on EM maps (E-steps).
    tolerance : float
        Convergence threshold on the largest change of a free working parameter.
    accelerate : bool
        Use SQUAREM extrapolation (default) or plain EM.
    compute_standard_errors : bool

    Returns
    -------
    CalibrationResult

    Raises
    ------
    InvalidInputError
        Malformed input (names the item).
    InsufficientDataError
        A free item has no responses or an unobserved score category.
    """
    t0 = time.perf_counter()
    if not isinstance(responses, ResponseData):
        raise InvalidInputError("responses must be a ResponseData")
    if not (np.isfinite(D) and D > 0):
        raise InvalidInputError(f"D must be positive, got {D}")
    priors = Priors() if priors is None else priors
    n_items = responses.n_items
    models = list(normalise_models(model, n_items))

    fixed_map: dict[int, int] = {}
    if fixed_items is not None or fixed_params is not None:
        if fixed_items is None or fixed_params is None:
            raise InvalidInputError("fixed_items and fixed_params must be given together")
        idx = np.asarray(fixed_items, dtype=np.int64).ravel()
        if idx.size != fixed_params.n_items:
            raise InvalidInputError(
                f"fixed_items has {idx.size} entries but fixed_params {fixed_params.n_items} items"
            )
        if idx.size and (idx.min() < 0 or idx.max() >= n_items or np.unique(idx).size != idx.size):
            raise InvalidInputError("fixed_items must be distinct item indices")
        for k, j in enumerate(idx):
            fixed_map[int(j)] = k
            models[int(j)] = fixed_params.models[k]
            if fixed_params.n_categories[k] != responses.n_categories[j]:
                raise InvalidInputError(
                    f"item {j}: fixed parameters have {fixed_params.n_categories[k]} "
                    f"categories, the data {responses.n_categories[j]}"
                )
    models_t = tuple(models)
    if start is not None and start.n_items != n_items:
        raise InvalidInputError(f"start has {start.n_items} items, expected {n_items}")
    _check_identifiable(responses, models_t, fixed_map)
    if estimate_population is None:
        estimate_population = bool(fixed_map)
    if estimate_population and not fixed_map:
        raise InvalidInputError("estimate_population needs fixed (anchor) items to set the scale")

    grid = rectangular_quadrature(41) if quadrature is None else quadrature
    state = _Model(responses, models_t, D, priors, fixed_map, fixed_params, start)
    engine = _EStep(responses)
    pop = np.array([0.0, 0.0])  # mean, log sd

    def em_map(vec: FloatArray) -> tuple[FloatArray, float, FloatArray | None]:
        """One EM map from ``vec``; returns (new vec, log-likelihood at vec, natural change)."""
        state.unpack(vec[: vec.size - (2 if estimate_population else 0)])
        if estimate_population:
            pop[:] = vec[-2:]
        nodes = pop[0] + np.exp(pop[1]) * grid.nodes
        before = state.natural_vector()
        counts, loglik, post_mean, post_var, _ = engine.run(
            state.log_prob_table(nodes),
            np.log(grid.weights),
            nodes=nodes if estimate_population else None,
        )
        for g in state.groups:
            _m_step(g, counts[g.cols], nodes, priors, D)
        new = state.pack()
        change = np.abs(state.natural_vector() - before)
        if estimate_population:
            mean = float(post_mean)
            sd = float(np.sqrt(max(post_var, 1e-8)))
            change = np.concatenate([change, [abs(mean - pop[0]), abs(sd - np.exp(pop[1]))]])
            new = np.concatenate([new, [mean, np.log(sd)]])
        return new, loglik, change

    vec = state.pack()
    if estimate_population:
        vec = np.concatenate([vec, pop])
    changes: list[float] = []
    logliks: list[float] = []
    converged = False
    n_maps = 0

    def record(loglik: float, change: FloatArray) -> bool:
        nonlocal n_maps
        n_maps += 1
        logliks.append(loglik)
        changes.append(float(change.max()) if change.size else 0.0)
        return changes[-1] < tolerance

    if vec.size == 0:
        converged = True
    while not converged and n_maps < max_iterations:
        v1, l0, ch = em_map(vec)
        if record(l0, ch):
            vec, converged = v1, True
            break
        if not accelerate or n_maps + 2 > max_iterations:
            vec = v1
            continue
        v2, l1, ch = em_map(v1)
        if record(l1, ch):
            vec, converged = v2, True
            break
        r = v1 - vec
        v = v2 - v1 - r
        nv = float(np.linalg.norm(v))
        if nv == 0.0:
            vec = v2
            continue
        step = min(-1.0, -float(np.linalg.norm(r)) / nv)
        proposal = vec - 2.0 * step * r + step * step * v
        ok = _try_unpack(state, proposal, estimate_population)
        if ok:
            v3, l3, ch = em_map(proposal)
            accepted = np.isfinite(l3) and l3 >= l1 - 1e-8 * abs(l1)
            if record(l3, ch) and accepted:
                vec, converged = v3, True
                break
            vec = v3 if accepted else v2
        else:
            vec = v2
    # final E-step at the returned parameters (log-likelihood, SEs)
    state.unpack(vec[: vec.size - (2 if estimate_population else 0)])
    if estimate_population:
        pop[:] = vec[-2:]
    mean, sd = float(pop[0]), float(np.exp(pop[1]))
    final_grid = grid.rescaled(mean, sd)
    log_table = state.log_prob_table(final_grid.nodes)
    _counts, loglik, _mean, _var, posterior = engine.run(
        log_table, np.log(grid.weights), want_posterior=True
    )
    params = state.to_parameters(n_items, fixed_params, fixed_map)
    errors: ParameterErrors | None = None
    se_method = "none"
    if compute_standard_errors:
        errors, se_method = _standard_errors(state, responses, posterior, final_grid.nodes, params)
    message = (
        f"converged after {n_maps} EM maps"
        if converged
        else f"not converged after {n_maps} EM maps (last change {changes[-1]:.2e})"
    )
    logger.info("calibrate: %s, log-likelihood %.4f", message, loglik)
    return CalibrationResult(
        params=params,
        standard_errors=errors,
        se_method=se_method,
        log_likelihood=float(loglik),
        log_posterior=float(loglik + state.log_prior()),
        converged=converged,
        n_iterations=n_maps,
        max_change_history=np.asarray(changes),
        log_likelihood_history=np.asarray(logliks),
        models=models_t,
        D=float(D),
        quadrature=final_grid,
        population_mean=mean,
        population_sd=sd,
        fixed_items=np.asarray(sorted(fixed_map), dtype=np.int64),
        priors=priors,
        n_persons=responses.n_persons,
        n_responses=responses.n_responses,
        elapsed_seconds=time.perf_counter() - t0,
        message=message,
    )


def _try_unpack(state: _Model, vec: FloatArray, with_population: bool) -> bool:
    if not np.all(np.isfinite(vec)):
        return False
    saved = state.pack()
    state.unpack(vec[: vec.size - (2 if with_population else 0)])
    ok = state.valid()
    state.unpack(saved)
    return ok


def _check_identifiable(data: ResponseData, models: tuple[str, ...], fixed: dict[int, int]) -> None:
    counts = data.category_counts()
    offsets = data.category_offsets
    n_resp = data.responses_per_item()
    for j in range(data.n_items):
        if j in fixed:
            continue
        if n_resp[j] == 0:
            raise InsufficientDataError(
                f"item {j} has no responses; drop it or give it fixed parameters"
            )
        cats = counts[offsets[j] : offsets[j + 1]]
        empty = np.flatnonzero(cats <= 0)
        if empty.size:
            raise InsufficientDataError(
                f"item {j} ({models[j]}): score category {int(empty[0])} was never observed "
                f"in {int(n_resp[j])} responses; collapse categories or fix the item"
            )


# ======================================================================================
# E-step


class _EStep:
    """E-step over observed responses: person x node log-likelihoods, expected counts.

    Candidates who sat the same booklet (item set; see :func:`_split_booklets`) are handled
    as dense blocks with BLAS matrix products; everybody else through the sparse one-hot
    matrix Y. Within a booklet, with M_k the (members, items) indicator of category k,
    L = sum_j log P_j0 + sum_{k>=1} M_k (log P_k - log P_0) and the expected counts are
    R_k = M_k' posterior (k >= 1), R_0 = column sums of the posterior - sum_{k>=1} R_k.
    """

    def __init__(self, data: ResponseData) -> None:
        self.w = data.person_weights
        self.answered = (data.responses_per_person() > 0).astype(np.float64)
        booklets, rest = _split_booklets(data)
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


# ======================================================================================
# M-step


def _log_prior_items(
    g: _Group, alpha: FloatArray, gamma: FloatArray, priors: Priors, D: float
) -> FloatArray:
    out = np.zeros(alpha.shape)
    if priors.a_lognormal is not None:
        mu, sigma = priors.a_lognormal
        own = g.free[:, 0]
        u = np.log(alpha / D) - mu
        val = -np.log(alpha / D) - 0.5 * (u / sigma) ** 2
        if g.rasch.any():
            val = np.where(g.rasch, 0.0, val)
            first = int(np.flatnonzero(g.rasch)[0])
            val[first] = -np.log(alpha[first] / D) - 0.5 * (u[first] / sigma) ** 2
        out += np.where(own, val, 0.0)
    if g.is_3pl and priors.c_beta is not None:
        p, q = priors.c_beta
        c = expit(gamma)
        out += np.where(g.free[:, -1], (p - 1) * np.log(c) + (q - 1) * np.log1p(-c), 0.0)
    return out


def _objective(
    g: _Group,
    counts: FloatArray,
    nodes: FloatArray,
    alpha: FloatArray,
    d: FloatArray,
    gamma: FloatArray,
    priors: Priors,
    D: float,
) -> FloatArray:
    """Expected complete-data log-likelihood plus log prior of each item, shape (n_g,)."""
    c = expit(gamma)[:, None] if g.is_3pl else None
    lp = K.log_probabilities(g.family, nodes[None, :], alpha[:, None], d[:, None, :], c)
    val = np.sum(counts * np.swapaxes(lp, 1, 2), axis=(1, 2))
    val += _log_prior_items(g, alpha, gamma, priors, D)
    if g.family == K.GRADED and g.n_cat > 2:
        val = np.where(np.all(np.diff(d, axis=1) < 0, axis=1), val, -np.inf)
    return np.where(alpha > 0, val, -np.inf)


def _m_step(
    g: _Group, counts: FloatArray, nodes: FloatArray, priors: Priors, D: float, max_inner: int = 25
) -> None:
    """Fisher scoring with step halving, all items of the group at once (in place).

    ``counts`` has shape (n_g, K, Q): expected number of persons at node q in category k.
    Gradient: sum_q sum_k r_kq / P_kq dP_kq/dpar; Fisher information:
    sum_q n_q sum_k (dP_kq/dpar)(dP_kq/dpar)' / P_kq (Baker & Kim, 2004, sec. 6.4).
    """
    if not g.free.any():
        return
    n_g, m = g.items.size, g.m
    n_at_node = counts.sum(axis=1)  # (n_g, Q)
    r_qk = np.ascontiguousarray(np.swapaxes(counts, 1, 2))  # (n_g, Q, K)
    x = nodes[None, :]
    free = g.free
    fmask = free[:, :, None] & free[:, None, :]
    identity = np.eye(m)[None] * (~free)[:, :, None] + np.eye(m)[None] * 1e-10
    f0 = _objective(g, counts, nodes, g.alpha, g.d, g.gamma, priors, D)
    for _ in range(max_inner):
        c = expit(g.gamma)[:, None] if g.is_3pl else None
        p, jac = K.probabilities_jacobian(g.family, x, g.alpha[:, None], g.d[:, None, :], c)
        inv_p = 1.0 / np.maximum(p, _TINY)  # (n_g, Q, K)
        J = jac.reshape(n_g, -1, m)  # (n_g, Q*K, m)
        grad = np.matmul((r_qk * inv_p).reshape(n_g, 1, -1), J)[:, 0, :]
        weighted = J * (n_at_node[:, :, None] * inv_p).reshape(n_g, -1, 1)
        info = np.matmul(np.swapaxes(weighted, 1, 2), J)  # (n_g, m, m)
        _add_prior_terms(g, grad, info, priors, D)
        grad = np.where(free, grad, 0.0)
        info = np.where(fmask, info, 0.0) + identity
        step = np.linalg.solve(info, grad[..., None])[..., 0]
        if g.rasch.any():
            _rasch_step(g, grad, info, step)
        big = np.max(np.abs(step), axis=1)
        step *= np.minimum(1.0, 1.0 / np.maximum(big, 1e-300))[:, None]  # trust region 1
        t = np.ones(n_g)
        accepted = np.zeros(n_g, dtype=bool)
        f_new = f0.copy()
        for _half in range(30):
            alpha = g.alpha + t * step[:, 0]
            d = g.d + t[:, None] * step[:, 1 : g.n_cat]
            gamma = g.gamma + (t * step[:, -1] if g.is_3pl else 0.0)
            f1 = _objective(g, counts, nodes, alpha, d, gamma, priors, D)
            ok = f1 >= f0 - 1e-12 * np.abs(f0)
            if g.rasch.any():
                total0, total1 = np.sum(f0[g.rasch]), np.sum(f1[g.rasch])
                ok = np.where(g.rasch, total1 >= total0 - 1e-12 * abs(total0), ok)
            newly = ok & ~accepted
            g.alpha = np.where(newly, alpha, g.alpha)
            g.d = np.where(newly[:, None], d, g.d)
            if g.is_3pl:
                g.gamma = np.where(newly, gamma, g.gamma)
            f_new = np.where(newly, f1, f_new)
            accepted |= ok
            if accepted.all():
                break
            t = np.where(accepted, t, 0.5 * t)
        f0 = f_new
        moved = np.where(accepted, t, 0.0)[:, None] * step
        if np.max(np.abs(moved)) < 1e-9:
            break


def _add_prior_terms(
    g: _Group, grad: FloatArray, info: FloatArray, priors: Priors, D: float
) -> None:
    if priors.a_lognormal is not None:
        mu, sigma = priors.a_lognormal
        u = np.log(g.alpha / D) - mu
        gp = -(1.0 + u / sigma**2) / g.alpha
        ip = 1.0 / (sigma**2 * g.alpha**2)
        if g.rasch.any():
            # the common slope carries the prior once: spread it over the Rasch items
            n_r = int(g.rasch.sum())
            gp = np.where(g.rasch, gp / n_r, gp)
            ip = np.where(g.rasch, ip / n_r, ip)
        grad[:, 0] += gp
        info[:, 0, 0] += ip
    if g.is_3pl and priors.c_beta is not None:
        p, q = priors.c_beta
        c = expit(g.gamma)
        grad[:, -1] += (p - 1) * (1 - c) - (q - 1) * c
        info[:, -1, -1] += (p + q - 2) * c * (1 - c)


def _rasch_step(g: _Group, grad: FloatArray, info: FloatArray, step: FloatArray) -> None:
    """Joint Newton step for the common slope and the intercepts of the Rasch items.

    With H the block-arrow information (common slope s, intercepts d_j), the Schur complement
    gives ds = (g_s - sum_j H_sj g_j / H_jj) / (H_ss - sum_j H_sj^2 / H_jj),
    dd_j = (g_j - H_sj ds) / H_jj.
    """
    r = g.rasch
    h_ss = info[r, 0, 0].sum()
    h_sd = info[r, 0, 1]
    h_dd = info[r, 1, 1]
    g_s = grad[r, 0].sum()
    g_d = grad[r, 1]
    ds = (g_s - np.sum(h_sd * g_d / h_dd)) / max(h_ss - np.sum(h_sd**2 / h_dd), 1e-12)
    step[r, 0] = ds
    step[r, 1] = (g_d - h_sd * ds) / h_dd


def _start_values(
    family: str, n_cat: int, is_3pl: bool, counts: FloatArray, D: float, priors: Priors
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Starting values from category proportions: a = 1 and intercepts from logits.

    Marginal logits shrink by sqrt(1 + alpha^2 / 1.7^2) relative to conditional ones (the
    probit-logistic approximation), so intercepts are scaled up by that factor.
    """
    n_g = counts.shape[0]
    alpha = np.full(n_g, D)
    scale = np.sqrt(1.0 + (D / 1.7) ** 2)
    props = (counts + 0.5) / (counts.sum(axis=1, keepdims=True) + 0.5 * n_cat)
    gamma = np.zeros(n_g)
    if family == K.DICHOTOMOUS:
        p1 = props[:, 1]
        if is_3pl:
            c0 = 0.2 if priors.c_beta is None else (priors.c_beta[0] - 1) / (sum(priors.c_beta) - 2)
            gamma[:] = logit(c0)
            p1 = np.clip((p1 - c0) / (1 - c0), 0.02, 0.98)
        d = (logit(p1) * scale)[:, None]
    elif family == K.GRADED:
        tail = np.cumsum(props[:, ::-1], axis=1)[:, ::-1][:, 1:]  # P(X >= k), k = 1..K-1
        d = logit(np.clip(tail, 1e-3, 1 - 1e-3)) * scale
        d = d - 1e-3 * np.arange(n_cat - 1)[None, :]  # strictly decreasing
    else:
        d = np.log(props[:, 1:] / props[:, :-1]) * scale
    return alpha, d, gamma


# ======================================================================================
# Standard errors


def _standard_errors(
    state: _Model,
    data: ResponseData,
    posterior: FloatArray,
    nodes: FloatArray,
    params: ItemParameters,
) -> tuple[ParameterErrors, str]:
    """XPD standard errors (see module docstring)."""
    n_items = data.n_items
    m_max = max(g.m for g in state.groups)
    # global index of each item's working parameter, -1 when fixed
    gindex = np.full((n_items, m_max), -1, dtype=np.int64)
    n_free = 0
    for g in state.groups:
        own = g.free[:, 0] & ~g.rasch
        gindex[g.items[own], 0] = n_free + np.arange(int(own.sum()))
        n_free += int(own.sum())
        if g.rasch.any():
            gindex[g.items[g.rasch], 0] = n_free
            n_free += 1
        for col in range(1, g.m):
            sel = g.free[:, col]
            gindex[g.items[sel], col] = n_free + np.arange(int(sel.sum()))
            n_free += int(sel.sum())
    nan = np.full(n_items, np.nan)
    if n_free == 0:
        return ParameterErrors(
            nan, nan.copy(), nan.copy(), np.full_like(params.thresholds, np.nan)
        ), "none"

    # score functions d log P_jk(X_q) / d(working parameter t) of every flat column
    score_table = np.zeros((state.n_cols, nodes.size, m_max))
    prior_diag = np.zeros(n_free)
    x = nodes[None, :]
    for g in state.groups:
        c = g.c()
        p, jac = K.probabilities_jacobian(
            g.family, x, g.alpha[:, None], g.d[:, None, :], None if c is None else c[:, None]
        )
        score_fn = jac / np.maximum(p, _TINY)[..., None]  # (n_g, Q, K, m)
        score_table[g.cols.ravel(), :, : g.m] = np.swapaxes(score_fn, 1, 2).reshape(
            -1, nodes.size, g.m
        )
        grad_dummy = np.zeros((g.items.size, g.m))
        info_p = np.zeros((g.items.size, g.m, g.m))
        _add_prior_terms(g, grad_dummy, info_p, state.priors, state.D)
        for t in range(g.m):
            gi = gindex[g.items, t]
            sel = gi >= 0
            np.add.at(prior_diag, gi[sel], info_p[sel, t, t])

    # Per-person gradient s_p = sum_q posterior_pq * d log L_p(X_q); XPD = sum_p w_p s_p s_p'.
    # Candidates who sat the same booklet (item set) are handled as a dense block with BLAS;
    # the rest through a sparse gradient matrix.
    parts_r: list[IntArray] = []
    parts_c: list[IntArray] = []
    parts_v: list[FloatArray] = []
    booklets, rest = _split_booklets(data)
    offsets = data.category_offsets
    for members, resp_rows in booklets:
        items = data.item_indices[resp_rows[0]]
        X = data.scores[resp_rows]  # (n_members, n_booklet_items)
        post = posterior[members]
        blocks: list[FloatArray] = []
        gcols: list[IntArray] = []
        for t in range(m_max):
            gi = gindex[items, t]
            keep = gi >= 0
            if not keep.any():
                continue
            its, xs = items[keep], X[:, keep]
            s_t = np.zeros(xs.shape)
            ncat = data.n_categories[its]
            for k in range(int(ncat.max())):
                has = ncat > k
                M = _linalg.matmul(post, score_table[offsets[its[has]] + k, :, t].T)
                s_t[:, has] += np.where(xs[:, has] == k, M, 0.0)
            blocks.append(s_t)
            gcols.append(gi[keep])
        if not blocks:
            continue
        S_b = np.hstack(blocks)
        g_b = np.concatenate(gcols)
        xpd_b = _linalg.crossprod(S_b * data.person_weights[members][:, None], S_b)
        parts_r.append(np.repeat(g_b, g_b.size))
        parts_c.append(np.tile(g_b, g_b.size))
        parts_v.append(xpd_b.ravel())
    if rest.size:
        rows: list[IntArray] = []
        cols: list[IntArray] = []
        vals: list[FloatArray] = []
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
                contrib[a0:a1] = np.einsum(
                    "rq,rq->r", posterior[persons[a0:a1]], tab_t[flat[a0:a1]]
                )
            rows.append(persons[keep])
            cols.append(gi[keep])
            vals.append(contrib[keep])
        if rows:
            S = sp.csr_matrix(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                shape=(data.n_persons, n_free),
            )
            sparse_part = (S.T @ sp.diags(data.person_weights) @ S).tocoo()
            parts_r.append(sparse_part.row.astype(np.int64))
            parts_c.append(sparse_part.col.astype(np.int64))
            parts_v.append(sparse_part.data)
    diag = np.arange(n_free)
    parts_r.append(diag)
    parts_c.append(diag)
    parts_v.append(prior_diag)
    xpd = sp.csr_matrix(
        (np.concatenate(parts_v), (np.concatenate(parts_r), np.concatenate(parts_c))),
        shape=(n_free, n_free),
    )  # duplicates (shared Rasch slope, several booklets) are summed
    cov_of_items, method = _invert_blocks(xpd)

    se_a = nan.copy()
    se_b = nan.copy()
    se_c = nan.copy()
    se_thr = np.full_like(params.thresholds, np.nan)
    for g in state.groups:
        idx = gindex[g.items, : g.m]  # (n_g, m)
        est = np.any(idx >= 0, axis=1)
        if not est.any():
            continue
        items, idx = g.items[est], idx[est]
        V = cov_of_items(idx)  # (n, m, m), zero rows/columns for fixed parameters
        alpha = g.alpha[est]
        n_steps = g.n_cat - 1
        # delta method: b_k = -d_k / alpha, a = alpha / D, c = logistic(gamma)
        grads = np.zeros((items.size, n_steps, g.m))
        grads[:, :, 0] = g.d[est] / alpha[:, None] ** 2
        grads[:, np.arange(n_steps), 1 + np.arange(n_steps)] = -1.0 / alpha[:, None]
        var_thr = np.einsum("ikm,imn,ikn->ik", grads, V, grads)
        se_thr[items, :n_steps] = np.sqrt(np.maximum(var_thr, 0.0))
        gb = grads.mean(axis=1)
        se_b[items] = np.sqrt(np.maximum(np.einsum("im,imn,in->i", gb, V, gb), 0.0))
        free_a = idx[:, 0] >= 0
        se_a[items[free_a]] = np.sqrt(np.maximum(V[free_a, 0, 0], 0.0)) / state.D
        if g.is_3pl:
            free_c = idx[:, -1] >= 0
            cj = expit(g.gamma[est][free_c])
            se_c[items[free_c]] = cj * (1 - cj) * np.sqrt(np.maximum(V[free_c, -1, -1], 0.0))
    return ParameterErrors(se_a, se_b, se_c, se_thr), method


_MIN_BOOKLET = 32  # candidates sharing an item set before the dense path pays off


def _split_booklets(data: ResponseData) -> tuple[list[tuple[IntArray, IntArray]], IntArray]:
    """Group candidates by the exact set of items they answered.

    Returns the booklets with at least ``_MIN_BOOKLET`` candidates as (members, response
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
    for b in np.flatnonzero(counts >= _MIN_BOOKLET):
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


def _invert_blocks(xpd: sp.csr_matrix):  # type: ignore[no-untyped-def]
    """Invert the information per connected block (items linked through common candidates).

    Returns a function mapping global parameter indices of shape (n, m) (-1 = fixed) to the
    covariance blocks (n, m, m), and the method name. Blocks larger than
    ``_MAX_DENSE_BLOCK`` fall back to per-item inversion (``"xpd-item-blocks"``).
    """
    n = xpd.shape[0]
    n_comp, labels = connected_components(xpd, directed=False)
    sizes = np.bincount(labels, minlength=n_comp)
    dense_ok = bool(sizes.max() <= _MAX_DENSE_BLOCK)
    position = np.zeros(n, dtype=np.int64)
    inverses: dict[int, FloatArray] = {}
    if dense_ok:
        order = np.argsort(labels, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        for comp in range(n_comp):
            members = order[bounds[comp] : bounds[comp + 1]]
            position[members] = np.arange(members.size)
            inverses[comp] = _safe_inverse(xpd[members][:, members].toarray())
    else:
        logger.warning("information block of %d parameters too large; per-item SEs", sizes.max())

    def lookup(idx: IntArray) -> FloatArray:
        n_items, m = idx.shape
        out = np.zeros((n_items, m, m))
        ok = idx >= 0
        safe = np.where(ok, idx, 0)
        if dense_ok:
            # all parameters of one item lie in one block (they share every respondent)
            first = safe[np.arange(n_items), np.argmax(ok, axis=1)]
            comps = labels[first]
            pos = position[safe]
            for comp in np.unique(comps):
                rows = np.flatnonzero(comps == comp)
                inv = inverses[int(comp)]
                p = pos[rows]
                out[rows] = inv[p[:, :, None], p[:, None, :]]
        else:
            for i in range(n_items):
                sel = safe[i][ok[i]]
                out[i][np.ix_(ok[i], ok[i])] = _safe_inverse(xpd[sel][:, sel].toarray())
        mask = ok[:, :, None] & ok[:, None, :]
        return np.where(mask, out, 0.0)

    return lookup, "xpd" if dense_ok else "xpd-item-blocks"


def _safe_inverse(block: FloatArray) -> FloatArray:
    """Inverse of an information block; pseudo-inverse when it is singular or indefinite."""
    try:
        inv = _linalg.inverse_spd(block) if block.shape[0] <= 1024 else np.linalg.inv(block)
        if np.all(np.isfinite(inv)) and np.all(np.diag(inv) > 0):
            return inv
    except np.linalg.LinAlgError:
        pass
    return np.linalg.pinv(block)
