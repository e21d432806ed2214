"""Item calibration: marginal maximum likelihood with EM (Bock & Aitkin, 1981), and the entry
point to conditional maximum likelihood for the Rasch family (:mod:`analysis.cml`).

Models: ``"rasch"`` and ``"1pl"`` (0/1 items, a = 1), ``"pcm"`` (rubric-scored, a = 1; Masters,
1982), ``"2pl"``, ``"3pl"`` (Beta prior on c, MAP), ``"grm"``, ``"gpcm"``, mixed freely item by
item (see :mod:`analysis.parameters` for the parameterisation; ``D`` is explicit and stored).
A model must fit the item's score categories: a 0/1 model on an item with more categories is
refused, naming the item.

MML algorithm
-------------
* Latent trait: N(mu, sigma^2) on a quadrature grid. What identifies the scale:
  - free slopes (2PL, 3PL, GRM, GPCM) and no anchors: mu = 0, sigma = 1;
  - Rasch family only (rasch, 1pl, pcm; every slope a = 1): mu = 0 and sigma estimated (the
    Rasch model's scale is the logit; Bock & Aitkin, 1981, sec. 5);
  - anchor items held at given parameters: mu and sigma estimated, which puts the free items
    on the anchors' scale (fixed-parameter calibration with multiple prior-weight updates;
    Kim, 2006).
* E-step over observed responses only (:mod:`analysis._estep`): with Y the sparse one-hot
  matrix of observed categories, L = Y @ log P and the expected counts R = Y' @ posterior
  (Bock & Aitkin, 1981, eqs. 9-10). Missing-by-design cells cost nothing.
* M-step: per item, Fisher scoring on the expected complete-data log-likelihood plus the log
  prior, vectorised over the items of a model family, with step halving (a generalised EM).
  Slopes are signed: an item that abler candidates get wrong more often (a wrong key) gets a
  negative slope with a finite difficulty, and is reported as a suspected miskey, instead of
  a slope collapsing to 0 with the difficulty running off.
* Acceleration: SQUAREM (Varadhan & Roland, 2008, scheme S3), falling back to plain EM steps
  whenever the extrapolation lowers the log-likelihood; ``accelerate=False`` gives plain EM.
* Convergence: the largest absolute change of a free working parameter (slope alpha = D a,
  intercepts d_k = -D a b_k, lower asymptote c, population mean and SD) over one plain EM
  step is below ``tolerance``.
* Standard errors (``standard_errors``): ``"observed"`` (default) from the observed
  information of the marginal likelihood by Louis's (1982) identity, with the full covariance
  matrix; ``"xpd"`` (documented option) from the cross-product of person gradients, which
  overstates the SEs when candidates are few relative to parameters; see
  :mod:`analysis._information`.

Identification is checked, never assumed: a model with more free parameters than the data
have distinct answer patterns (one item, a handful of candidates), answers that separate
(a Guttman pattern), estimates running off (slopes beyond ``_MAX_SLOPE``), or an observed
information that is not positive definite give ``status="not_identified"``, never
"converged". Non-convergence gives ``status="not_converged"``. Both are data, not exceptions.

References: Bock, R. D. & Aitkin, M. (1981), Psychometrika 46, 443-459. Baker, F. B. & Kim,
S.-H. (2004), *Item Response Theory: Parameter Estimation Techniques*, 2nd ed., ch. 6-7, 9.
Louis, T. A. (1982), J. Royal Statistical Society B 44, 226-233. Muraki, E. (1992), Applied
Psychological Measurement 16, 159-176. Samejima, F. (1969), Psychometrika Monograph 17.
Kim, S. (2006), J. Educational Measurement 43, 355-381. Varadhan, R. & Roland, C. (2008),
Scand. J. Statistics 35, 335-353. Masters, G. N. (1982), Psychometrika 47, 149-174.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy.special import expit, logit

from analysis import _information
from analysis import _kernels as K
from analysis._estep import EStep
from analysis.cml import CML_MODELS, fit_cml, informative_persons, separation_groups
from analysis.ctt import item_rest_correlations
from analysis.errors import InsufficientDataError, InvalidInputError
from analysis.messages import Message
from analysis.parameters import (
    DICHOTOMOUS_MODELS,
    FAMILY_OF_MODEL,
    FIXED_SLOPE_MODELS,
    ItemParameters,
    normalise_models,
)
from analysis.quadrature import Quadrature, rectangular_quadrature
from analysis.responses import ResponseData
from analysis.results import (
    STATUS_CONVERGED,
    STATUS_NOT_CONVERGED,
    STATUS_NOT_IDENTIFIED,
    CalibrationResult,
    ParameterErrors,
    Priors,
)

__all__ = ["CalibrationResult", "ParameterErrors", "Priors", "calibrate"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

METHODS = ("mml", "cml")
SE_METHODS = ("observed", "xpd", "none")
POPULATION_NONE, POPULATION_SD, POPULATION_BOTH = "none", "sd", "mean_sd"
_TINY = 1e-300
_MAX_SLOPE = 15.0  # |D a| beyond this: the likelihood has no finite maximum (separation)
_MIN_SD, _MAX_SD = 0.05, 15.0  # population SD outside: not identified


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
            free[fixed_slope, 0] = False
            free[fixed, :] = False
            self.groups.append(_Group(family, n_cat, is_3pl, items, cols, alpha, d, gamma, free))
        self.n_cols = int(ncat.sum())

    # -------------------------------------------------------------- packing for SQUAREM
    def pack(self) -> FloatArray:
        parts: list[FloatArray] = []
        for g in self.groups:
            parts.append(g.alpha[g.free[:, 0]])
            parts.append(g.d[g.free[:, 1 : g.n_cat]])
            if g.is_3pl:
                parts.append(g.gamma[g.free[:, -1]])
        return np.concatenate(parts) if parts else np.zeros(0)

    def unpack(self, vec: FloatArray) -> None:
        pos = 0
        for g in self.groups:
            own = g.free[:, 0]
            n = int(own.sum())
            g.alpha[own] = vec[pos : pos + n]
            pos += n
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
            if self.priors.a_lognormal is not None and np.any(g.alpha <= 0):
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
            # a slope of exactly 0 has no difficulty; keep it a tiny signed number (flagged)
            alpha = np.where(np.abs(g.alpha) < 1e-12, np.copysign(1e-12, g.alpha), g.alpha)
            a[g.items] = alpha / self.D
            thr[g.items, : g.n_cat - 1] = np.clip(-g.d / alpha[:, None], -1e12, 1e12)
            if g.is_3pl:
                c[g.items] = expit(g.gamma)
        if fixed_params is not None:  # fixed items are reported exactly as given
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
    method: str = "mml",
    D: float = 1.0,
    quadrature: Quadrature | None = None,
    priors: Priors | None = None,
    fixed_items: npt.ArrayLike | None = None,
    fixed_params: ItemParameters | None = None,
    estimate_population: bool | None = None,
    start: ItemParameters | None = None,
    max_iterations: int | None = None,
    tolerance: float | None = None,
    accelerate: bool = True,
    standard_errors: str = "observed",
) -> CalibrationResult:
    """Calibrate items by marginal (EM) or conditional maximum likelihood.

    Parameters
    ----------
    responses : ResponseData
        Observed responses only (missing by design is the normal case).
    model : str or sequence of str (n_items,)
        ``"rasch"``, ``"1pl"``, ``"2pl"``, ``"3pl"``, ``"grm"``, ``"gpcm"``, ``"pcm"``.
        Entries for fixed items are replaced by the model of ``fixed_params``.
    method : {"mml", "cml"}
        ``"cml"``: conditional ML (:mod:`analysis.cml`), for rasch/1pl/pcm items only; no
        population assumption, persons with extreme raw scores left out.
    D : float
        Logistic constant of the reported a (1.0 logistic metric, 1.702 normal metric).
    quadrature : Quadrature, optional
        MML: standard-normal grid; default 41 rectangular nodes on [-6, 6].
    priors : Priors, optional
        MML: default ``Priors()``: Beta(5, 17) on c of 3PL items, nothing else.
    fixed_items : int array (n_fixed,), optional
        Items whose parameters are held at ``fixed_params`` (same order): anchors of an
        existing scale. New items are then calibrated onto that scale.
    fixed_params : ItemParameters (n_fixed items), optional
    estimate_population : bool, optional
        MML: estimate the latent distribution (default: mean and SD when items are fixed, the
        SD alone when every item is of the Rasch family, nothing otherwise). Refused when
        free slopes and no anchors leave the SD unidentified.
    start : ItemParameters (n_items), optional
        Starting values (default: from observed category proportions).
    max_iterations : int, optional
        EM maps (default 2000) or Newton iterations (CML, default 100).
    tolerance : float, optional
        Largest change of a free working parameter (default 1e-4 MML, 1e-7 CML).
    accelerate : bool
        MML: SQUAREM extrapolation (default) or plain EM.
    standard_errors : {"observed", "xpd", "none"}
        ``"observed"``: observed (MML) or conditional (CML) information with the covariance
        matrix; ``"xpd"``: MML cross-product estimate (an option; see the module docstring).

    Returns
    -------
    CalibrationResult
        ``status`` says whether the estimates are a converged maximum of an identified model.

    Raises
    ------
    InvalidInputError
        Malformed input, a model that does not fit an item's score categories, CML for a model
        outside the Rasch family (names the item).
    InsufficientDataError
        A free item has no responses or an unobserved score category.
    """
    t0 = time.perf_counter()
    if not isinstance(responses, ResponseData):
        raise InvalidInputError(Message("responses must be a ResponseData"))
    if not (np.isfinite(D) and D > 0):
        raise InvalidInputError(Message("D must be a positive number (1.0 logistic metric, 1.702 normal "
                                        "metric), got {D}", D=float(D)))
    method = str(method).lower()
    if method not in METHODS:
        raise InvalidInputError(Message("method must be mml or cml, got {method}", method=method))
    if standard_errors not in SE_METHODS:
        raise InvalidInputError(Message("standard_errors must be observed, xpd or none, got {value}",
                                        value=str(standard_errors)))
    priors = Priors() if priors is None else priors
    n_items = responses.n_items
    models = list(normalise_models(model, n_items))

    fixed_map: dict[int, int] = {}
    if fixed_items is not None or fixed_params is not None:
        if fixed_items is None or fixed_params is None:
            raise InvalidInputError(Message("fixed_items and fixed_params must be given together"))
        idx = np.asarray(fixed_items, dtype=np.int64).ravel()
        if idx.size != fixed_params.n_items:
            raise InvalidInputError(Message(
                "fixed_items has {n} entries but fixed_params {m} items", n=int(idx.size), m=fixed_params.n_items))
        if idx.size and (idx.min() < 0 or idx.max() >= n_items or np.unique(idx).size != idx.size):
            raise InvalidInputError(Message("fixed_items must be distinct item indices below {n}", n=n_items))
        for k, j in enumerate(idx):
            fixed_map[int(j)] = k
            models[int(j)] = fixed_params.models[k]
            if fixed_params.n_categories[k] != responses.n_categories[j]:
                raise InvalidInputError(Message(
                    "item {item}: the fixed parameters have {n} score categories, the data {m}",
                    item=int(j), n=int(fixed_params.n_categories[k]), m=int(responses.n_categories[j])))
    models_t = tuple(models)
    _check_models_fit_categories(responses, models_t)
    if start is not None and start.n_items != n_items:
        raise InvalidInputError(Message("start has {n} items, expected {m}", n=start.n_items, m=n_items))
    _check_identifiable(responses, models_t, fixed_map)

    if method == "cml":
        outside = [j for j in range(n_items) if models_t[j] not in CML_MODELS]
        if outside:
            raise InvalidInputError(Message(
                "item {item}: conditional ML (CML) exists only for the Rasch family (rasch, 1pl, pcm); "
                "the item's model is {model}. Use method mml for it.", item=int(outside[0]),
                model=models_t[outside[0]]))
        if standard_errors == "xpd":
            raise InvalidInputError(Message(
                "standard_errors: CML has no cross-product (xpd) option; its standard errors come from "
                "the conditional information"))
        result = fit_cml(
            responses, models_t, D=D, fixed_map=fixed_map, fixed_params=fixed_params, start=start,
            max_iterations=100 if max_iterations is None else max_iterations,
            tolerance=1e-7 if tolerance is None else tolerance,
            compute_standard_errors=standard_errors != "none",
        )
        return _with_miskeys(result, responses)

    max_iterations = 2000 if max_iterations is None else max_iterations
    tolerance = 1e-4 if tolerance is None else tolerance
    population = _population_mode(models_t, fixed_map, estimate_population)
    grid = rectangular_quadrature(41) if quadrature is None else quadrature
    state = _Model(responses, models_t, D, priors, fixed_map, fixed_params, start)
    n_free = int(state.pack().size) + {POPULATION_NONE: 0, POPULATION_SD: 1, POPULATION_BOTH: 2}[population]
    problems = _identification_problems(responses, models_t, fixed_map, n_free)
    if problems:
        return _unidentified(responses, state, models_t, D, grid, fixed_map, fixed_params, priors,
                             problems, t0)

    engine = EStep(responses)
    pop = np.array([0.0, 0.0])  # mean, log sd
    n_pop = {POPULATION_NONE: 0, POPULATION_SD: 1, POPULATION_BOTH: 2}[population]

    def split(vec: FloatArray) -> FloatArray:
        items_part = vec[: vec.size - n_pop]
        if population == POPULATION_SD:
            pop[1] = vec[-1]
        elif population == POPULATION_BOTH:
            pop[:] = vec[-2:]
        return items_part

    def em_map(vec: FloatArray) -> tuple[FloatArray, float, FloatArray]:
        """One EM map from ``vec``; returns (new vec, log-likelihood at vec, natural change)."""
        state.unpack(split(vec))
        nodes = pop[0] + np.exp(pop[1]) * grid.nodes
        before = state.natural_vector()
        counts, loglik, post_mean, post_var, _ = engine.run(
            state.log_prob_table(nodes), np.log(grid.weights),
            nodes=nodes if population != POPULATION_NONE else None,
        )
        for g in state.groups:
            _m_step(g, counts[g.cols], nodes, priors, D)
        new = state.pack()
        change = np.abs(state.natural_vector() - before)
        if population == POPULATION_BOTH:
            mean = float(post_mean)
            sd = float(np.sqrt(max(post_var, 1e-8)))
            change = np.concatenate([change, [abs(mean - pop[0]), abs(sd - np.exp(pop[1]))]])
            new = np.concatenate([new, [mean, np.log(sd)]])
        elif population == POPULATION_SD:
            sd = float(np.sqrt(max(post_var + post_mean**2, 1e-8)))  # mean held at 0
            change = np.concatenate([change, [abs(sd - np.exp(pop[1]))]])
            new = np.concatenate([new, [np.log(sd)]])
        return new, loglik, change

    vec = state.pack()
    if population == POPULATION_SD:
        vec = np.concatenate([vec, pop[1:]])
    elif population == POPULATION_BOTH:
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
        if _try_unpack(state, proposal, n_pop):
            v3, l3, ch = em_map(proposal)
            accepted = np.isfinite(l3) and l3 >= l1 - 1e-8 * abs(l1)
            if record(l3, ch) and accepted:
                vec, converged = v3, True
                break
            vec = v3 if accepted else v2
        else:
            vec = v2
    # final E-step at the returned parameters (log-likelihood, SEs)
    state.unpack(split(vec))
    mean, sd = float(pop[0]), float(np.exp(pop[1]))
    final_grid = grid.rescaled(mean, sd)
    log_table = state.log_prob_table(final_grid.nodes)
    counts, loglik, _mean, _var, posterior = engine.run(log_table, np.log(grid.weights), want_posterior=True)
    params = state.to_parameters(n_items, fixed_params, fixed_map)

    # -- identification after the fact: estimates running off, a flat or saddle maximum ------
    problems = []
    runaway = [int(j) for g in state.groups for j, a_w in zip(g.items, g.alpha) if abs(a_w) > _MAX_SLOPE]
    if runaway:
        problems.append(Message(
            "the slopes of item(s) {items} ran beyond D·a = {bound}: the answers separate the candidates "
            "(a Guttman pattern) and the likelihood has no finite maximum", items=runaway, bound=_MAX_SLOPE))
    if population != POPULATION_NONE and not (_MIN_SD <= sd <= _MAX_SD):
        problems.append(Message(
            "the estimated ability SD ({sd:.3g}) ran outside [{lo}, {hi}]: the data do not identify the "
            "spread of the candidates", sd=sd, lo=_MIN_SD, hi=_MAX_SD))
    errors = None
    covariance = None
    se_method = "none"
    if standard_errors != "none" and not problems:
        info = _information.compute(
            state, responses, posterior, counts, final_grid, grid, population=population,
            pop_mean=mean, pop_sd=sd, kind=standard_errors, n_items=n_items, params=params,
        )
        errors, covariance, se_method = info.errors, info.covariance, info.method
        problems.extend(info.problems)
    status = STATUS_NOT_IDENTIFIED if problems else (STATUS_CONVERGED if converged else STATUS_NOT_CONVERGED)
    if status == STATUS_NOT_CONVERGED:
        problems.append(Message("not converged after {n} EM iterations (last change {change:.2e})",
                                n=n_maps, change=changes[-1] if changes else float("nan")))
    message = {
        STATUS_CONVERGED: Message("converged after {n} EM iterations", n=n_maps),
        STATUS_NOT_CONVERGED: Message("not converged after {n} EM iterations", n=n_maps),
        STATUS_NOT_IDENTIFIED: Message("the data do not identify the model's parameters"),
    }[status]
    logger.info("calibrate: %s, log-likelihood %.4f", message.english(), loglik)
    result = CalibrationResult(
        params=params,
        standard_errors=errors,
        se_method=se_method,
        log_likelihood=float(loglik),
        log_posterior=float(loglik + state.log_prior()),
        converged=status == STATUS_CONVERGED,
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
        method="mml",
        status=status,
        problems=tuple(problems),
        covariance=covariance,
    )
    return _with_miskeys(result, responses)


# ======================================================================================
# Validation and identification


def _check_models_fit_categories(data: ResponseData, models: tuple[str, ...]) -> None:
    for j, m in enumerate(models):
        k = int(data.n_categories[j])
        if m in DICHOTOMOUS_MODELS and k != 2:
            raise InvalidInputError(Message(
                "item {item}: model {model} is for items scored 0/1, but the item has {n} score categories "
                "(0 to {top}); use gpcm, grm or pcm for rubric-scored items", item=int(j), model=m, n=k,
                top=k - 1))


def _check_identifiable(data: ResponseData, models: tuple[str, ...], fixed: dict[int, int]) -> None:
    counts = data.category_counts()
    offsets = data.category_offsets
    n_resp = data.responses_per_item()
    for j in range(data.n_items):
        if j in fixed:
            continue
        if n_resp[j] == 0:
            raise InsufficientDataError(Message(
                "item {item} has no responses; drop it or give it fixed parameters", item=int(j)))
        cats = counts[offsets[j] : offsets[j + 1]]
        empty = np.flatnonzero(cats <= 0)
        if empty.size:
            raise InsufficientDataError(Message(
                "item {item} ({model}): score category {category} was never observed in {n} responses; "
                "collapse categories or fix the item", item=int(j), model=models[j],
                category=int(empty[0]), n=int(n_resp[j])))


def _population_mode(models: tuple[str, ...], fixed_map: dict[int, int], requested: bool | None) -> str:
    free_slopes = any(models[j] not in FIXED_SLOPE_MODELS for j in range(len(models)) if j not in fixed_map)
    if requested is False:
        return POPULATION_NONE
    if fixed_map:
        return POPULATION_BOTH
    if not free_slopes:
        return POPULATION_SD
    if requested:
        raise InvalidInputError(Message(
            "estimate_population: with free slopes (2pl, 3pl, grm, gpcm) and no anchor items the "
            "population SD is not identified (it trades off against every slope); give anchor items "
            "or use a Rasch-family model"))
    return POPULATION_NONE


def _distinct_patterns(data: ResponseData) -> int:
    """Number of distinct (items answered, scores) patterns among persons with weight > 0."""
    ptr = data.person_pointer
    seen = set()
    items, scores = data.item_indices, data.scores
    for p in np.flatnonzero((data.person_weights > 0) & (np.diff(ptr) > 0)).tolist():
        a, b = ptr[p], ptr[p + 1]
        seen.add(items[a:b].tobytes() + b"|" + scores[a:b].tobytes())
    return len(seen)


def _identification_problems(data: ResponseData, models: tuple[str, ...], fixed_map: dict[int, int],
                             n_free: int) -> list[Message]:
    problems: list[Message] = []
    if n_free == 0:
        return problems
    n_patterns = _distinct_patterns(data)
    if n_free > n_patterns - 1:
        problems.append(Message(
            "the model has {n_free} free parameters but the data hold only {n_patterns} distinct answer "
            "patterns: the parameters are not identified (too few candidates or items for this model)",
            n_free=n_free, n_patterns=n_patterns))
        return problems
    for S, rest in separation_groups(data, informative_persons(data)):
        problems.append(Message(
            "the answers separate the items: every candidate who scored on any of item(s) {others} had full "
            "marks on item(s) {items} (a Guttman pattern); the likelihood has no finite maximum. Collect "
            "more varied responses.", items=[int(x) for x in S], others=[int(x) for x in rest]))
    return problems


def _unidentified(data, state, models, D, grid, fixed_map, fixed_params, priors, problems, t0):  # type: ignore[no-untyped-def]
    params = state.to_parameters(data.n_items, fixed_params, fixed_map)
    return CalibrationResult(
        params=params, standard_errors=None, se_method="none", log_likelihood=float("nan"),
        log_posterior=float("nan"), converged=False, n_iterations=0, max_change_history=np.zeros(0),
        log_likelihood_history=np.zeros(0), models=models, D=float(D), quadrature=grid,
        population_mean=0.0, population_sd=1.0, fixed_items=np.asarray(sorted(fixed_map), dtype=np.int64),
        priors=priors, n_persons=data.n_persons, n_responses=data.n_responses,
        elapsed_seconds=time.perf_counter() - t0,
        message=Message("the data do not identify the model's parameters"), method="mml",
        status=STATUS_NOT_IDENTIFIED, problems=tuple(problems),
    )


def _with_miskeys(result: CalibrationResult, data: ResponseData) -> CalibrationResult:
    """Suspected miskeys: a negative estimated slope, or (any model) a negative item-rest
    correlation, reported with the classical statistic beside it."""
    r = item_rest_correlations(data)
    a = result.params.a
    fixed = set(result.fixed_items.tolist())
    free_slope = np.array([m not in FIXED_SLOPE_MODELS for m in result.models])
    suspects = []
    notes = []
    for j in range(data.n_items):
        if j in fixed:
            continue
        negative_slope = bool(free_slope[j] and a[j] < 0)
        negative_r = bool(np.isfinite(r[j]) and r[j] < 0)
        if negative_slope or negative_r:
            suspects.append(j)
            if negative_slope:
                notes.append(Message(
                    "item {item}: suspected miskey: the estimated slope is negative (a = {a:.2f}; item-rest "
                    "correlation {r:.2f}): abler candidates scored lower on it; check the key", item=int(j),
                    a=float(a[j]), r=float(r[j])))
            else:
                notes.append(Message(
                    "item {item}: suspected miskey: the item-rest correlation is negative ({r:.2f}): abler "
                    "candidates scored lower on it; check the key", item=int(j), r=float(r[j])))
    if not suspects:
        return result
    return replace(result, suspected_miskeys=np.asarray(suspects, dtype=np.int64),
                   problems=result.problems + tuple(notes))


def _try_unpack(state: _Model, vec: FloatArray, n_pop: int) -> bool:
    if not np.all(np.isfinite(vec)):
        return False
    saved = state.pack()
    state.unpack(vec[: vec.size - n_pop])
    ok = state.valid()
    state.unpack(saved)
    return ok


# ======================================================================================
# M-step


def _log_prior_items(
    g: _Group, alpha: FloatArray, gamma: FloatArray, priors: Priors, D: float
) -> FloatArray:
    out = np.zeros(alpha.shape)
    if priors.a_lognormal is not None:
        mu, sigma = priors.a_lognormal
        own = g.free[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.log(alpha / D) - mu
            val = np.where(alpha > 0, -np.log(alpha / D) - 0.5 * (u / sigma) ** 2, -np.inf)
        out += np.where(own, val, 0.0)
    if g.is_3pl and priors.c_beta is not None:
        p, q = priors.c_beta
        c = expit(gamma)
        with np.errstate(divide="ignore"):
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
    return np.where(np.isfinite(alpha), val, -np.inf)


def item_gradient(
    g: _Group, counts: FloatArray, nodes: FloatArray, alpha: FloatArray, d: FloatArray,
    gamma: FloatArray, priors: Priors, D: float,
) -> tuple[FloatArray, FloatArray]:
    """Gradient (n_g, m) of the expected complete-data log-likelihood plus log prior in the
    working parameters, and its Fisher information (n_g, m, m) (Baker & Kim, 2004, sec. 6.4):
    gradient sum_q sum_k r_kq / P_kq dP_kq/dpar, information sum_q n_q sum_k P'P'^T / P."""
    n_g, m = g.items.size, g.m
    n_at_node = counts.sum(axis=1)  # (n_g, Q)
    r_qk = np.swapaxes(counts, 1, 2)  # (n_g, Q, K)
    c = expit(gamma)[:, None] if g.is_3pl else None
    p, jac = K.probabilities_jacobian(g.family, nodes[None, :], alpha[:, None], d[:, None, :], c)
    inv_p = 1.0 / np.maximum(p, _TINY)
    J = jac.reshape(n_g, -1, m)
    grad = np.matmul((r_qk * inv_p).reshape(n_g, 1, -1), J)[:, 0, :]
    weighted = J * (n_at_node[:, :, None] * inv_p).reshape(n_g, -1, 1)
    info = np.matmul(np.swapaxes(weighted, 1, 2), J)
    _add_prior_terms(g, alpha, gamma, grad, info, priors, D)
    return grad, info


def _m_step(
    g: _Group, counts: FloatArray, nodes: FloatArray, priors: Priors, D: float, max_inner: int = 25
) -> None:
    """Fisher scoring with step halving, all items of the group at once (in place).

    ``counts`` has shape (n_g, K, Q): expected number of persons at node q in category k.
    """
    if not g.free.any():
        return
    n_g, m = g.items.size, g.m
    free = g.free
    fmask = free[:, :, None] & free[:, None, :]
    identity = np.eye(m)[None] * (~free)[:, :, None] + np.eye(m)[None] * 1e-10
    f0 = _objective(g, counts, nodes, g.alpha, g.d, g.gamma, priors, D)
    for _ in range(max_inner):
        grad, info = item_gradient(g, counts, nodes, g.alpha, g.d, g.gamma, priors, D)
        grad = np.where(free, grad, 0.0)
        info = np.where(fmask, info, 0.0) + identity
        try:
            step = np.linalg.solve(info, grad[..., None])[..., 0]
        except np.linalg.LinAlgError:  # a flat direction (e.g. slope 0 of a 3PL item): least squares
            step = np.einsum("imn,in->im", np.linalg.pinv(info), grad)
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
    g: _Group, alpha: FloatArray, gamma: FloatArray, grad: FloatArray, info: FloatArray,
    priors: Priors, D: float,
) -> None:
    if priors.a_lognormal is not None:
        mu, sigma = priors.a_lognormal
        safe = np.where(alpha > 0, alpha, 1.0)
        u = np.log(safe / D) - mu
        grad[:, 0] += np.where(g.free[:, 0], -(1.0 + u / sigma**2) / safe, 0.0)
        info[:, 0, 0] += np.where(g.free[:, 0], 1.0 / (sigma**2 * safe**2), 0.0)
    if g.is_3pl and priors.c_beta is not None:
        p, q = priors.c_beta
        c = expit(gamma)
        grad[:, -1] += (p - 1) * (1 - c) - (q - 1) * c
        info[:, -1, -1] += (p + q - 2) * c * (1 - c)


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
