"""Person scoring: EAP, MAP and ML ability estimates, and raw-score-to-theta tables.

All methods work on sparse :class:`ResponseData` (each candidate's own form only), for 0/1
and polytomous items, vectorised over persons.

* EAP (Bock & Mislevy, 1982): posterior mean and SD over a quadrature grid,
  theta_EAP = sum_q X_q L(X_q) A(X_q) / sum_q L(X_q) A(X_q).
* MAP (Bayes modal; Mislevy & Bock, 1990): maximises log L(theta) - (theta - mu)^2 / (2 s^2)
  by Fisher scoring; SE = 1 / sqrt(I(theta) + 1 / s^2).
* ML (Lord, 1980, ch. 4): maximises log L(theta) by Fisher scoring; SE = 1 / sqrt(I(theta)).
* WLE (Warm, 1989): solves d log L / d theta + J(theta) / (2 I(theta)) = 0 with
  J = sum_j sum_k P'_jk P''_jk / P_jk, which removes the first-order bias of ML and is finite
  for all-minimum and all-maximum patterns; for the Rasch family it maximises L(theta)
  sqrt(I(theta)). Fisher-scoring steps, then bisection for any person not converged;
  SE = 1 / sqrt(I(theta)). Use it with CML item parameters for Rasch person measures.
  The ML estimate does not exist for all-minimum or all-maximum patterns (and may not for
  3PL patterns below chance): such persons get ``theta`` at the nearer bound, SE NaN, and a
  status code saying why. Persons without responses get NaN.

Fisher scoring uses the expected (test) information I(theta) = sum_j sum_k P'_jk^2 / P_jk
(Baker & Kim, 2004, sec. 5.4), started at the best node of a grid search, with steps
limited to 1 logit and estimates kept within ``bounds``.

Raw-score tables use the Lord-Wingersky (1984) recursion, generalised to polytomous items
(Thissen, Pommerich, Billeaud & Williams, 1995), for summed-score EAP and its posterior SD,
plus the theta at which the test characteristic curve equals each raw score (true-score
inversion, Lord, 1980, sec. 4.7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from analysis import _kernels as K
from analysis.errors import InvalidInputError
from analysis.information import category_probabilities, expected_score
from analysis.parameters import ItemParameters
from analysis.quadrature import Quadrature, rectangular_quadrature
from analysis.responses import ResponseData

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

STATUS_OK = 0
STATUS_NO_RESPONSES = 1
STATUS_ALL_MINIMUM = 2
STATUS_ALL_MAXIMUM = 3
STATUS_AT_BOUND = 4
STATUS_NOT_CONVERGED = 5
STATUS_NAMES = {
    STATUS_OK: "ok",
    STATUS_NO_RESPONSES: "no responses",
    STATUS_ALL_MINIMUM: "all responses in the lowest category (ML estimate is -inf)",
    STATUS_ALL_MAXIMUM: "all responses in the highest category (ML estimate is +inf)",
    STATUS_AT_BOUND: "estimate reached the theta bound",
    STATUS_NOT_CONVERGED: "not converged",
}
METHODS = ("eap", "map", "ml", "wle")


@dataclass(frozen=True)
class PersonScores:
    """Ability estimates of every person.

    Attributes
    ----------
    thetas, standard_errors : arrays, shape (n_persons,)
        For EAP the SE is the posterior SD.
    status : int array, shape (n_persons,)
        ``STATUS_*`` codes (see ``STATUS_NAMES``); 0 means ok.
    n_responses : int array, shape (n_persons,)
    method : str
        ``"eap"``, ``"map"``, ``"ml"`` or ``"wle"``.
    D : float
        Logistic constant of the item parameters used.
    prior_mean, prior_sd : float
        Normal prior (EAP and MAP; recorded but unused for ML).
    bounds : (float, float)
    """

    thetas: FloatArray
    standard_errors: FloatArray
    status: IntArray
    n_responses: IntArray
    method: str
    D: float
    prior_mean: float
    prior_sd: float
    bounds: tuple[float, float]


@dataclass(frozen=True)
class ScoreTable:
    """Raw (summed) score to theta conversion for one form.

    Attributes
    ----------
    raw_scores : int array, shape (n_scores,)
        0 .. maximum summed score.
    eap, posterior_sd : arrays, shape (n_scores,)
        Summed-score EAP and posterior SD (Thissen et al., 1995).
    probabilities : array, shape (n_scores,)
        Model-implied marginal probability of each raw score under the prior.
    tcc_thetas : array, shape (n_scores,)
        Theta whose expected score equals the raw score (true-score inversion); bounded.
    tcc_status : int array, shape (n_scores,)
        ``STATUS_OK`` or ``STATUS_AT_BOUND`` (score not reachable by the TCC, e.g. 0, the
        maximum, or below the sum of the 3PL lower asymptotes).
    D, prior_mean, prior_sd : float
    """

    raw_scores: IntArray
    eap: FloatArray
    posterior_sd: FloatArray
    probabilities: FloatArray
    tcc_thetas: FloatArray
    tcc_status: IntArray
    D: float
    prior_mean: float
    prior_sd: float


def score_persons(
    responses: ResponseData,
    params: ItemParameters,
    *,
    method: str = "eap",
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    quadrature: Quadrature | None = None,
    bounds: tuple[float, float] = (-6.0, 6.0),
    max_iterations: int = 100,
    tolerance: float = 1e-6,
) -> PersonScores:
    """Estimate every person's ability from their observed responses.

    Parameters
    ----------
    responses : ResponseData
        n_items must equal ``params.n_items``; item j of the data is item j of ``params``.
    params : ItemParameters
    method : {"eap", "map", "ml", "wle"}
    prior_mean, prior_sd : float
        Normal prior for EAP and MAP.
    quadrature : Quadrature, optional
        EAP grid on the standard normal (rescaled to the prior); default 61 rectangular
        nodes on [-6, 6]. Also used for the grid search that starts MAP/ML/WLE.
    bounds : (lo, hi)
        MAP/ML/WLE estimates are kept within these.

    Returns
    -------
    PersonScores
    """
    method = method.lower()
    if method not in METHODS:
        raise InvalidInputError(f"method must be one of {METHODS}, got {method!r}")
    if not (np.isfinite(prior_mean) and np.isfinite(prior_sd) and prior_sd > 0):
        raise InvalidInputError("prior_mean must be finite and prior_sd > 0")
    lo, hi = float(bounds[0]), float(bounds[1])
    if not lo < hi:
        raise InvalidInputError("bounds must be (lo, hi) with lo < hi")
    _check_compatible(responses, params)
    grid = (rectangular_quadrature(61) if quadrature is None else quadrature).rescaled(
        prior_mean, prior_sd
    )
    n_resp = responses.responses_per_person()
    Y, table = _loglik_inputs(responses, params, grid.nodes)
    L = np.asarray(Y @ table)  # (n_persons, Q) log-likelihood at each node
    if method == "eap":
        logpost = L + np.log(np.maximum(grid.weights, 1e-300))[None, :]
        logpost -= logpost.max(axis=1, keepdims=True)
        post = np.exp(logpost)
        post /= post.sum(axis=1, keepdims=True)
        thetas = post @ grid.nodes
        sds = np.sqrt(np.maximum(post @ grid.nodes**2 - thetas**2, 0.0))
        status = np.where(n_resp == 0, STATUS_NO_RESPONSES, STATUS_OK).astype(np.int64)
        return PersonScores(
            thetas, sds, status, n_resp, "eap", params.D, prior_mean, prior_sd, (lo, hi)
        )

    if method == "wle":
        thetas, info, converged = _wle(responses, params, lo, hi, max_iterations, tolerance)
        ses = 1.0 / np.sqrt(np.maximum(info, 1e-300))
        status = np.where(converged, STATUS_OK, STATUS_NOT_CONVERGED).astype(np.int64)
        at_bound = (thetas <= lo + 1e-9) | (thetas >= hi - 1e-9)
        status[at_bound] = STATUS_AT_BOUND
        none = n_resp == 0
        thetas = np.where(none, np.nan, thetas)
        ses = np.where(none | at_bound, np.nan, ses)
        status[none] = STATUS_NO_RESPONSES
        return PersonScores(thetas, ses, status, n_resp, "wle", params.D, prior_mean, prior_sd, (lo, hi))

    use_prior = method == "map"
    start_obj = L.copy()
    if use_prior:
        start_obj -= 0.5 * ((grid.nodes[None, :] - prior_mean) / prior_sd) ** 2
    inside = (grid.nodes >= lo) & (grid.nodes <= hi)
    start_obj[:, ~inside] = -np.inf
    thetas = grid.nodes[np.argmax(start_obj, axis=1)]
    thetas, info, converged = _fisher_scoring(
        responses,
        params,
        thetas,
        lo,
        hi,
        prior_mean,
        prior_sd if use_prior else None,
        max_iterations,
        tolerance,
    )
    total_info = info + (1.0 / prior_sd**2 if use_prior else 0.0)
    ses = 1.0 / np.sqrt(np.maximum(total_info, 1e-300))
    status = np.where(converged, STATUS_OK, STATUS_NOT_CONVERGED).astype(np.int64)
    if not use_prior:
        at_bound = (thetas <= lo + 1e-9) | (thetas >= hi - 1e-9)
        status[at_bound] = STATUS_AT_BOUND
        low_all, high_all = _extreme_patterns(responses, params)
        status[low_all] = STATUS_ALL_MINIMUM
        status[high_all] = STATUS_ALL_MAXIMUM
        thetas = np.where(low_all, lo, np.where(high_all, hi, thetas))
        bad = at_bound | low_all | high_all
        ses = np.where(bad, np.nan, ses)
        none = n_resp == 0
        thetas = np.where(none, np.nan, thetas)
        ses = np.where(none, np.nan, ses)
    else:
        none = n_resp == 0
        thetas = np.where(none, prior_mean, thetas)
        ses = np.where(none, prior_sd, ses)
    status[n_resp == 0] = STATUS_NO_RESPONSES
    return PersonScores(
        thetas, ses, status, n_resp, method, params.D, prior_mean, prior_sd, (lo, hi)
    )


def summed_score_table(
    params: ItemParameters,
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    quadrature: Quadrature | None = None,
    bounds: tuple[float, float] = (-6.0, 6.0),
) -> ScoreTable:
    """Raw score to theta table of a form (all its items), via Lord-Wingersky.

    The recursion builds L_s(theta) = P(summed score = s | theta) item by item:
    L^{(j)}_s = sum_k L^{(j-1)}_{s-k} P_jk(theta) (Lord & Wingersky, 1984; Thissen et al.,
    1995, for polytomous items). Then EAP(s) = sum_q X_q L_s(X_q) A_q / sum_q L_s(X_q) A_q.

    Parameters
    ----------
    params : ItemParameters
        The items of one form; scores are summed category indices.

    Returns
    -------
    ScoreTable
    """
    grid = (rectangular_quadrature(61) if quadrature is None else quadrature).rescaled(
        prior_mean, prior_sd
    )
    likelihoods = score_distribution(grid.nodes, params)  # (n_scores, Q)
    joint = likelihoods * grid.weights[None, :]
    marginal = joint.sum(axis=1)
    safe = np.maximum(marginal, 1e-300)
    eap = joint @ grid.nodes / safe
    sd = np.sqrt(np.maximum(joint @ grid.nodes**2 / safe - eap**2, 0.0))
    raw = np.arange(likelihoods.shape[0], dtype=np.int64)
    tcc_thetas, tcc_status = invert_tcc(raw.astype(np.float64), params, bounds=bounds)
    return ScoreTable(
        raw, eap, sd, marginal, tcc_thetas, tcc_status, params.D, float(prior_mean), float(prior_sd)
    )


def score_distribution(thetas: npt.ArrayLike, params: ItemParameters) -> FloatArray:
    """P(summed score = s | theta) by the Lord-Wingersky recursion.

    Returns
    -------
    array, shape (max_total + 1, n_thetas)
    """
    x = np.atleast_1d(np.asarray(thetas, dtype=np.float64))
    probs = category_probabilities(x, params)  # (n_thetas, n_items, Kmax)
    ncat = params.n_categories
    dist = np.ones((1, x.size))
    for j in range(params.n_items):
        k_j = int(ncat[j])
        new = np.zeros((dist.shape[0] + k_j - 1, x.size))
        for k in range(k_j):
            new[k : k + dist.shape[0]] += dist * probs[:, j, k][None, :]
        dist = new
    return dist


def invert_tcc(
    raw_scores: npt.ArrayLike,
    params: ItemParameters,
    *,
    bounds: tuple[float, float] = (-6.0, 6.0),
    points: npt.ArrayLike | None = None,
) -> tuple[FloatArray, IntArray]:
    """Theta at which the test characteristic curve equals each raw score (bisection).

    Scores the TCC does not reach inside ``bounds`` get the nearer bound and
    ``STATUS_AT_BOUND``.

    Returns
    -------
    thetas : array, shape (n_scores,)
    status : int array, shape (n_scores,)
    """
    target = np.atleast_1d(np.asarray(raw_scores, dtype=np.float64))
    lo = np.full(target.size, float(bounds[0]))
    hi = np.full(target.size, float(bounds[1]))
    f_lo = expected_score(lo[:1], params, points=points)[0]
    f_hi = expected_score(hi[:1], params, points=points)[0]
    for _ in range(60):  # interval shrinks 2^-60: exact to double precision
        mid = 0.5 * (lo + hi)
        above = expected_score(mid, params, points=points) > target
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    thetas = 0.5 * (lo + hi)
    status = np.full(target.size, STATUS_OK, dtype=np.int64)
    below = target <= f_lo
    over = target >= f_hi
    thetas[below] = bounds[0]
    thetas[over] = bounds[1]
    status[below | over] = STATUS_AT_BOUND
    return thetas, status


# --------------------------------------------------------------------------------------
# helpers


def _check_compatible(responses: ResponseData, params: ItemParameters) -> None:
    if responses.n_items != params.n_items:
        raise InvalidInputError(
            f"responses have {responses.n_items} items but params {params.n_items}"
        )
    too_high = responses.scores >= params.n_categories[responses.item_indices]
    if too_high.any():
        r = int(np.flatnonzero(too_high)[0])
        item = int(responses.item_indices[r])
        raise InvalidInputError(
            f"person {responses.person_indices[r]} scored {responses.scores[r]} on item "
            f"{item}, which has {params.n_categories[item]} categories"
        )


def _loglik_inputs(
    responses: ResponseData, params: ItemParameters, nodes: FloatArray
) -> tuple[sp.csr_matrix, FloatArray]:
    """Indicator matrix over the parameters' categories and the log P table at ``nodes``."""
    ncat = params.n_categories
    offsets = np.zeros(params.n_items + 1, dtype=np.int64)
    np.cumsum(ncat, out=offsets[1:])
    cols = offsets[responses.item_indices] + responses.scores
    Y = sp.csr_matrix(
        (np.ones(responses.n_responses), cols, responses.person_pointer),
        shape=(responses.n_persons, int(offsets[-1])),
    )
    table = np.empty((int(offsets[-1]), nodes.size))
    for family, n_cat, is_3pl, items in params.groups():
        alpha, d, c = params.working(items)
        lp = K.log_probabilities(
            family, nodes[None, :], alpha[:, None], d[:, None, :], c[:, None] if is_3pl else None
        )
        rows = (offsets[items][:, None] + np.arange(n_cat)[None, :]).ravel()
        table[rows] = np.swapaxes(lp, 1, 2).reshape(-1, nodes.size)
    return Y, table


def _fisher_scoring(
    responses: ResponseData,
    params: ItemParameters,
    thetas: FloatArray,
    lo: float,
    hi: float,
    prior_mean: float,
    prior_sd: float | None,
    max_iterations: int,
    tolerance: float,
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Vectorised Fisher scoring of every person's theta; returns thetas, info, converged."""
    n = responses.n_persons
    persons = responses.person_indices
    # gather per-response working parameters once, by model group
    gathered = []
    for family, n_cat, is_3pl, items in params.groups():
        member = np.zeros(params.n_items, dtype=bool)
        member[items] = True
        rows = np.flatnonzero(member[responses.item_indices])
        if rows.size == 0:
            continue
        alpha, d, c = params.working(responses.item_indices[rows])
        gathered.append((family, n_cat, is_3pl, rows, alpha, d[:, : n_cat - 1], c))
    converged = np.zeros(n, dtype=bool)
    info = np.zeros(n)
    theta = thetas.astype(np.float64).copy()
    for _ in range(max_iterations):
        score = np.zeros(n)
        info = np.zeros(n)
        for family, _n_cat, is_3pl, rows, alpha, d, c in gathered:
            x = theta[persons[rows]]
            p, dp = K.probabilities_dtheta(family, x, alpha, d, c if is_3pl else None)
            pf = np.maximum(p, 1e-300)
            k = responses.scores[rows]
            r_idx = np.arange(rows.size)
            score += np.bincount(persons[rows], weights=dp[r_idx, k] / pf[r_idx, k], minlength=n)
            info += np.bincount(persons[rows], weights=np.sum(dp * dp / pf, axis=1), minlength=n)
        total_info = info.copy()
        if prior_sd is not None:
            score -= (theta - prior_mean) / prior_sd**2
            total_info += 1.0 / prior_sd**2
        step = np.clip(score / np.maximum(total_info, 1e-12), -1.0, 1.0)
        step = np.where(converged, 0.0, step)
        theta = np.clip(theta + step, lo, hi)
        converged |= np.abs(step) < tolerance
        # a person pushed against a bound by the gradient stops there
        converged |= ((theta <= lo) & (score < 0)) | ((theta >= hi) & (score > 0))
        if converged.all():
            break
    return theta, info, converged


def _gather(responses: ResponseData, params: ItemParameters) -> list[tuple]:  # type: ignore[type-arg]
    """Per-response working parameters, grouped by model family."""
    gathered = []
    for family, n_cat, is_3pl, items in params.groups():
        member = np.zeros(params.n_items, dtype=bool)
        member[items] = True
        rows = np.flatnonzero(member[responses.item_indices])
        if rows.size == 0:
            continue
        alpha, d, c = params.working(responses.item_indices[rows])
        gathered.append((family, is_3pl, rows, alpha, d[:, : n_cat - 1], c))
    return gathered


def _wle_terms(responses: ResponseData, gathered: list[tuple], theta: FloatArray  # type: ignore[type-arg]
               ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per person: the score d log L / d theta, the information I and J = sum P' P'' / P."""
    n = responses.n_persons
    persons = responses.person_indices
    score = np.zeros(n)
    info = np.zeros(n)
    jterm = np.zeros(n)
    for family, is_3pl, rows, alpha, d, c in gathered:
        p, d1, d2 = K.probabilities_d2theta(family, theta[persons[rows]], alpha, d, c if is_3pl else None)
        pf = np.maximum(p, 1e-300)
        k = responses.scores[rows]
        r = np.arange(rows.size)
        score += np.bincount(persons[rows], weights=d1[r, k] / pf[r, k], minlength=n)
        info += np.bincount(persons[rows], weights=np.sum(d1 * d1 / pf, axis=1), minlength=n)
        jterm += np.bincount(persons[rows], weights=np.sum(d1 * d2 / pf, axis=1), minlength=n)
    return score, info, jterm


def _wle(responses: ResponseData, params: ItemParameters, lo: float, hi: float, max_iterations: int,
         tolerance: float) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Warm's WLE: Fisher-scoring steps on g = score + J / (2 I), bisection where they fail."""
    gathered = _gather(responses, params)
    n = responses.n_persons
    theta = np.zeros(n)
    converged = np.zeros(n, dtype=bool)
    info = np.zeros(n)
    for _ in range(max_iterations):
        score, info, jterm = _wle_terms(responses, gathered, theta)
        g = score + jterm / (2.0 * np.maximum(info, 1e-300))
        step = np.clip(g / np.maximum(info, 1e-12), -1.0, 1.0)
        step = np.where(converged, 0.0, step)
        theta = np.clip(theta + step, lo, hi)
        converged |= np.abs(step) < tolerance
        if converged.all():
            break
    todo = np.flatnonzero(~converged & (responses.responses_per_person() > 0))
    if todo.size:  # bisection on [lo, hi]: g decreases through its root
        a = np.full(n, lo)
        b = np.full(n, hi)
        for _ in range(60):
            mid = 0.5 * (a + b)
            score, info_m, jterm = _wle_terms(responses, gathered, mid)
            g = score + jterm / (2.0 * np.maximum(info_m, 1e-300))
            a = np.where(g > 0, mid, a)
            b = np.where(g > 0, b, mid)
        theta[todo] = 0.5 * (a + b)[todo]
        converged[todo] = True
        _s, info, _j = _wle_terms(responses, gathered, theta)
    return theta, info, converged


def _extreme_patterns(
    responses: ResponseData, params: ItemParameters
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Persons whose every response is in the lowest / highest category of its item."""
    n = responses.n_persons
    top = params.n_categories[responses.item_indices] - 1
    n_resp = responses.responses_per_person()
    n_low = np.bincount(responses.person_indices, weights=(responses.scores == 0), minlength=n)
    n_high = np.bincount(responses.person_indices, weights=(responses.scores == top), minlength=n)
    has = n_resp > 0
    return has & (n_low == n_resp), has & (n_high == n_resp)
