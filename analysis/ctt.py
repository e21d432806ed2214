"""Classical test theory: item and form statistics, distractor analysis, review flags.

Works on one form at a time (the candidates who sat it), as a dense (n_persons, n_items)
score matrix with NaN where a candidate has no answer (missing, not wrong: score a wrong or
blank answer 0 before calling). Polytomous items are allowed: facility is then the mean
score over the item's maximum.

Formulas (Crocker & Algina, 1986, ch. 14, 15 and 7; Allen & Yen, 1979, ch. 6), computed as
psych::alpha does (:func:`reliability`), with covariances over the candidates who answered
both items (pairwise; ``missing="listwise"`` keeps only complete candidates):

* facility (p-value) p_j = mean(x_j) / max_j over the candidates who answered;
* item-total correlation r(x_j, X) (point-biserial for 0/1 items) with X the candidate's mean
  item score (the total for complete data), and the corrected item-total correlation
  (item-rest) from the covariance matrix;
* discrimination index D_j = p_upper - p_lower over the top and bottom 27% by X (Kelley,
  1939), ties at the cut broken by candidate order (stable sort);
* Cronbach's alpha = k / (k - 1) (1 - tr(C) / sum(C)) (Cronbach, 1951; KR-20 for 0/1 items),
  standardised alpha, Guttman's lambda-6 and alpha if item deleted; items without variance
  are left out of them (as psych does);
* SEM = SD(X) sqrt(1 - alpha), X the total (mean item score x k), SD with ddof = 0.

Flags (administrator-adjustable :class:`CttThresholds`): facility outside [p_min, p_max],
corrected item-total r below r_min, discrimination index below discrimination_min
(negative by default), alpha rising when the item is removed. Distractor flags mark a wrong
option chosen by more upper-group candidates than the key.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.errors import InvalidInputError
from analysis.messages import Message
from analysis.responses import ResponseData

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FLAG_TOO_HARD = "too_hard"
FLAG_TOO_EASY = "too_easy"
FLAG_LOW_CORRELATION = "low_corrected_correlation"
FLAG_LOW_DISCRIMINATION = "low_discrimination"
FLAG_ALPHA_RISES = "alpha_rises_if_deleted"


@dataclass(frozen=True)
class CttThresholds:
    """Review thresholds an administrator can change.

    Attributes
    ----------
    p_min, p_max : float
        Facility below ``p_min`` flags too hard, above ``p_max`` too easy.
    r_min : float
        Corrected item-total correlation below this is flagged.
    discrimination_min : float
        Discrimination index strictly below this is flagged (0.0: negative ones).
    group_fraction : float
        Share of candidates in each of the upper and lower groups (0.27, Kelley, 1939).
    flag_alpha_if_deleted : bool
        Flag items whose removal would raise alpha.
    """

    p_min: float = 0.2
    p_max: float = 0.9
    r_min: float = 0.2
    discrimination_min: float = 0.0
    group_fraction: float = 0.27
    flag_alpha_if_deleted: bool = False

    def __post_init__(self) -> None:
        if not (0.0 <= self.p_min < self.p_max <= 1.0):
            raise InvalidInputError("thresholds: need 0 <= p_min < p_max <= 1")
        if not (0.0 < self.group_fraction <= 0.5):
            raise InvalidInputError("thresholds: group_fraction must be in (0, 0.5]")


@dataclass(frozen=True)
class ItemStatistics:
    """Per-item classical statistics of one form; arrays have shape (n_items,).

    ``flags`` holds, per item, the names of the rules it breaks (``FLAG_*``).
    Correlations are NaN for items (or totals) without variance.
    """

    facility: FloatArray
    mean_score: FloatArray
    max_score: FloatArray
    item_total_correlation: FloatArray
    corrected_item_total_correlation: FloatArray
    discrimination_index: FloatArray
    alpha_if_deleted: FloatArray
    flags: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class FormStatistics:
    """Classical statistics of one form (total-score level) with its item statistics.

    ``alpha`` is raw alpha with ``missing`` handling; ``std_alpha``, ``g6`` (Guttman's
    lambda-6) and ``alpha_se`` as psych::alpha reports them; ``n_missing`` counts the empty
    cells (candidate x item without an answer).
    """

    n_persons: int
    n_items: int
    mean: float
    sd: float
    alpha: float
    sem: float
    min_score: float
    max_score: float
    items: ItemStatistics
    thresholds: CttThresholds
    std_alpha: float = float("nan")
    g6: float = float("nan")
    alpha_se: float = float("nan")
    missing: str = "pairwise"
    n_missing: int = 0


@dataclass(frozen=True)
class DistractorAnalysis:
    """Option-level analysis of choice items; option arrays have shape (n_items, n_options).

    Attributes
    ----------
    share : proportion of all candidates choosing each option.
    mean_total : mean total score of the candidates choosing each option (NaN if nobody).
    upper_share, lower_share : proportion choosing each option in the upper/lower groups.
    omit_share : array, shape (n_items,): proportion with no option chosen.
    flagged : bool, True for a distractor (wrong option) chosen by more upper-group
        candidates than the key.
    keys : int array, shape (n_items,)
    """

    share: FloatArray
    mean_total: FloatArray
    upper_share: FloatArray
    lower_share: FloatArray
    omit_share: FloatArray
    flagged: npt.NDArray[np.bool_]
    keys: IntArray


def cronbach_alpha(scores: npt.ArrayLike, *, missing: str = "pairwise") -> float:
    """Cronbach's alpha (KR-20 for 0/1 items) of a (n_persons, n_items) score matrix, NaN for
    no answer (see :func:`reliability`); NaN when the total has no variance."""
    x = _validate_scores(scores)
    if x.shape[1] < 2:
        raise InvalidInputError(Message("alpha needs at least 2 items"))
    try:
        return reliability(x, missing=missing).raw_alpha
    except InvalidInputError:
        return float("nan")


def analyse_form(
    scores: npt.ArrayLike,
    *,
    max_scores: npt.ArrayLike | None = None,
    thresholds: CttThresholds | None = None,
    missing: str = "pairwise",
) -> FormStatistics:
    """Item and form statistics of one form.

    Parameters
    ----------
    scores : array, shape (n_persons, n_items)
        Item scores of the candidates who sat the form; NaN where a candidate has no answer.
    max_scores : array, shape (n_items,), optional
        Maximum score of each item (default 1, i.e. 0/1 items).
    thresholds : CttThresholds, optional
    missing : {"pairwise", "listwise"}
        How alpha and the item-total statistics treat missing answers.

    Returns
    -------
    FormStatistics
    """
    th = CttThresholds() if thresholds is None else thresholds
    x = _validate_scores(scores)
    n, k = x.shape
    if n < 2 or k < 2:
        raise InvalidInputError(Message("analyse_form needs at least 2 candidates and 2 items"))
    maxs = np.ones(k) if max_scores is None else np.asarray(max_scores, dtype=np.float64)
    if maxs.shape != (k,) or np.any(maxs <= 0):
        raise InvalidInputError(Message("max_scores must be positive with shape ({k},)", k=k))
    over = np.nan_to_num(x, nan=-np.inf) > maxs[None, :]
    if np.any(over):
        j = int(np.flatnonzero(np.any(over, axis=0))[0])
        raise InvalidInputError(Message("item {item} has a score above its max_score {max}", item=j,
                                        max=float(maxs[j])))
    if missing not in MISSING_MODES:
        raise InvalidInputError(Message("missing must be pairwise or listwise, got {value}", value=str(missing)))

    obs = ~np.isnan(x)
    person_mean = _column_means(x.T)
    answered = np.isfinite(person_mean)
    total = np.where(answered, person_mean * k, np.nan)  # prorated total; the sum for complete rows
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_items = np.nansum(x, axis=0) / obs.sum(axis=0)
    try:
        rel: Reliability | None = reliability(x, missing=missing)
    except InvalidInputError:
        rel = None  # fewer than 2 items with variance
    nan_k = np.full(k, np.nan)
    r_it = rel.items.raw_r if rel is not None else nan_k
    r_rest = rel.items.r_drop if rel is not None else nan_k
    alpha_del = rel.if_dropped.raw_alpha if rel is not None else nan_k
    alpha = rel.raw_alpha if rel is not None else float("nan")

    t_ok = total[answered]
    upper_p, lower_p = _extreme_groups(t_ok, th.group_fraction)
    xa = x[answered]
    facility = mean_items / maxs
    disc = (_column_means(xa[upper_p]) - _column_means(xa[lower_p])) / maxs

    flags: list[tuple[str, ...]] = []
    for j in range(k):
        f: list[str] = []
        if facility[j] < th.p_min:
            f.append(FLAG_TOO_HARD)
        if facility[j] > th.p_max:
            f.append(FLAG_TOO_EASY)
        if not np.isnan(r_rest[j]) and r_rest[j] < th.r_min:
            f.append(FLAG_LOW_CORRELATION)
        if disc[j] < th.discrimination_min:
            f.append(FLAG_LOW_DISCRIMINATION)
        if th.flag_alpha_if_deleted and np.isfinite(alpha) and alpha_del[j] > alpha:
            f.append(FLAG_ALPHA_RISES)
        flags.append(tuple(f))
    items = ItemStatistics(facility, mean_items, maxs, r_it, r_rest, disc, alpha_del, tuple(flags))
    sd = float(np.std(t_ok))
    sem = sd * float(np.sqrt(max(1.0 - alpha, 0.0))) if np.isfinite(alpha) else float("nan")
    return FormStatistics(
        int(answered.sum()), k, float(t_ok.mean()), sd, float(alpha), sem, float(t_ok.min()), float(t_ok.max()),
        items, th,
        std_alpha=rel.std_alpha if rel is not None else float("nan"),
        g6=rel.g6 if rel is not None else float("nan"),
        alpha_se=rel.alpha_se if rel is not None else float("nan"),
        missing=missing, n_missing=int((~obs).sum()),
    )


def analyse_distractors(
    choices: npt.ArrayLike,
    keys: npt.ArrayLike,
    *,
    total_scores: npt.ArrayLike | None = None,
    n_options: int | None = None,
    group_fraction: float = 0.27,
) -> DistractorAnalysis:
    """Distractor analysis of single-choice items.

    Parameters
    ----------
    choices : int array, shape (n_persons, n_items)
        Chosen option 0..n_options-1 (A = 0, B = 1, ...), -1 for no answer.
    keys : int array, shape (n_items,)
        Correct option of each item.
    total_scores : array, shape (n_persons,), optional
        Total score used for the groups and option means (default: number correct here).
    n_options : int, optional
        Default: the largest option seen or keyed, plus one.
    group_fraction : float
        Upper/lower group share (0.27).
    """
    ch = np.asarray(choices)
    if ch.ndim != 2 or not np.issubdtype(ch.dtype, np.integer):
        raise InvalidInputError("choices must be a 2-D integer array (-1 = no answer)")
    key = np.asarray(keys, dtype=np.int64)
    n, k = ch.shape
    if key.shape != (k,) or np.any(key < 0):
        raise InvalidInputError(f"keys must be non-negative with shape ({k},)")
    if np.any(ch < -1):
        raise InvalidInputError("choices must be >= -1")
    n_opt = int(max(ch.max(initial=0), key.max(initial=0)) + 1) if n_options is None else n_options
    if ch.max(initial=0) >= n_opt or key.max(initial=0) >= n_opt:
        raise InvalidInputError(f"an option index is >= n_options={n_opt}")
    total = (
        (ch == key[None, :]).sum(axis=1).astype(np.float64)
        if total_scores is None
        else np.asarray(total_scores, dtype=np.float64)
    )
    if total.shape != (n,):
        raise InvalidInputError(f"total_scores must have shape ({n},)")
    upper, lower = _extreme_groups(total, group_fraction)

    onehot = ch[:, :, None] == np.arange(n_opt)[None, None, :]  # (n, k, n_opt)
    counts = onehot.sum(axis=0).astype(np.float64)
    share = counts / n
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_total = np.einsum("pko,p->ko", onehot, total) / counts
    mean_total = np.where(counts > 0, mean_total, np.nan)
    up = onehot[upper].sum(axis=0).astype(np.float64)
    low = onehot[lower].sum(axis=0).astype(np.float64)
    key_up = up[np.arange(k), key]
    flagged = (up > key_up[:, None]) & (np.arange(n_opt)[None, :] != key[:, None])
    return DistractorAnalysis(
        share,
        mean_total,
        up / max(upper.sum(), 1),
        low / max(lower.sum(), 1),
        (ch == -1).mean(axis=0),
        flagged,
        key,
    )


def _validate_scores(scores: npt.ArrayLike) -> FloatArray:
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 2:
        raise InvalidInputError(Message("scores must be a 2-D (n_persons, n_items) array"))
    if np.any(np.isinf(x)):
        raise InvalidInputError(Message("scores must be finite numbers, or NaN where there is no answer"))
    if np.any(np.nan_to_num(x, nan=0.0) < 0):
        raise InvalidInputError(Message("scores must be >= 0"))
    return x


def _extreme_groups(total: FloatArray, fraction: float) -> tuple[npt.NDArray[np.bool_], ...]:
    n = total.size
    size = max(1, int(np.ceil(fraction * n)))
    order = np.argsort(total, kind="stable")
    lower = np.zeros(n, dtype=bool)
    upper = np.zeros(n, dtype=bool)
    lower[order[:size]] = True
    upper[order[n - size :]] = True
    return upper, lower


def item_rest_correlations(responses: ResponseData) -> FloatArray:
    """Correlation of each item's score with the rest score (the candidate's total over the
    other items they answered), over the candidates who answered the item; weighted by the
    person weights. NaN where either has no variance.

    A screening statistic for sparse designs (each candidate's own form); on a complete
    matrix it equals the corrected item-total correlation of :func:`analyse_form`.

    Returns
    -------
    array, shape (n_items,)
    """
    data = responses
    total = data.raw_scores()
    x = data.scores.astype(np.float64)
    rest = total[data.person_indices] - x
    w = data.person_weights[data.person_indices]
    j = data.item_indices
    n = data.n_items
    sw = np.bincount(j, weights=w, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.bincount(j, weights=w * x, minlength=n) / sw
        mr = np.bincount(j, weights=w * rest, minlength=n) / sw
        dx = x - mx[j]
        dr = rest - mr[j]
        cov = np.bincount(j, weights=w * dx * dr, minlength=n)
        vx = np.bincount(j, weights=w * dx * dx, minlength=n)
        vr = np.bincount(j, weights=w * dr * dr, minlength=n)
        r = cov / np.sqrt(vx * vr)
    return np.where(np.isfinite(r), r, np.nan)


# ======================================================================================
# Reliability as psych::alpha reports it (Revelle, psych package)

MISSING_MODES = ("pairwise", "listwise")


@dataclass(frozen=True)
class ReliabilityItems:
    """Per-item statistics; arrays have shape (n_items,), NaN for items without variance.

    Attributes
    ----------
    n : int array, candidates who answered the item
    raw_r : correlation of the item with the candidates' mean item score (pairwise)
    std_r : item-whole correlation from the correlation matrix, colSums(R) / sqrt(sum(R))
    r_cor : the same corrected for item overlap (diagonal of R replaced by the SMCs)
    r_drop : item-rest correlation from the covariance matrix (the item left out of the total)
    mean, sd : of the item score over the candidates who answered it (sd with n - 1)
    """

    n: IntArray
    raw_r: FloatArray
    std_r: FloatArray
    r_cor: FloatArray
    r_drop: FloatArray
    mean: FloatArray
    sd: FloatArray


@dataclass(frozen=True)
class ReliabilityIfDropped:
    """Reliability of the form without each item; arrays have shape (n_items,)."""

    raw_alpha: FloatArray
    std_alpha: FloatArray
    g6: FloatArray
    average_r: FloatArray
    signal_noise: FloatArray
    alpha_se: FloatArray
    var_r: FloatArray
    median_r: FloatArray


@dataclass(frozen=True)
class Reliability:
    """Cronbach's alpha and its companions for one form, as psych::alpha reports them.

    Attributes
    ----------
    missing : "pairwise" (covariances over the candidates who answered both items) or
        "listwise" (only candidates who answered every item)
    n_persons : candidates used (listwise: complete ones; pairwise: with any answer)
    raw_alpha : k / (k - 1) (1 - tr(C) / sum(C)) on the covariance matrix C
    std_alpha : the same on the correlation matrix R (standardised items)
    g6 : Guttman's lambda-6, 1 - sum(1 - SMC_j) / sum(R) (squared multiple correlations)
    average_r, median_r : mean and median inter-item correlation
    signal_noise : k r / (1 - r)
    alpha_se : asymptotic SE of raw alpha (Duhachek & Iacobucci, 2004)
    mean, sd : of the candidates' mean item score (psych's default scale score)
    items : ReliabilityItems
    if_dropped : ReliabilityIfDropped
    dropped_items : int array, items without variance, left out of everything (as psych)
    """

    missing: str
    n_persons: int
    n_items: int
    raw_alpha: float
    std_alpha: float
    g6: float
    average_r: float
    signal_noise: float
    alpha_se: float
    mean: float
    sd: float
    median_r: float
    items: ReliabilityItems
    if_dropped: ReliabilityIfDropped
    dropped_items: IntArray


def reliability(scores: npt.ArrayLike, *, missing: str = "pairwise") -> Reliability:
    """Alpha, standardised alpha, Guttman's lambda-6 and item statistics of one form.

    Computed as psych::alpha does (Revelle; version 2.2): covariances with
    ``use = "pairwise"`` (each pair over the candidates who answered both, n - 1), R the
    covariance matrix scaled to correlations, SMCs from the pseudo-inverse of R (clipped to
    [0, 1]), alpha's SE from Duhachek & Iacobucci (2004) with n = all candidates given.

    Parameters
    ----------
    scores : array, shape (n_persons, n_items)
        Item scores; NaN where a candidate has no answer (missing, not wrong).
    missing : {"pairwise", "listwise"}
        ``"listwise"`` first drops every candidate with a missing answer.

    References: Cronbach, L. J. (1951), Psychometrika 16, 297-334. Guttman, L. (1945),
    Psychometrika 10, 255-282. Duhachek, A. & Iacobucci, D. (2004), J. Applied Psychology 89,
    792-808. Revelle, W., psych: Procedures for Psychological, Psychometric, and Personality
    Research (R package), function ``alpha``.
    """
    if missing not in MISSING_MODES:
        raise InvalidInputError(Message("missing must be pairwise or listwise, got {value}", value=str(missing)))
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 2:
        raise InvalidInputError(Message("scores must be a 2-D (n_persons, n_items) array"))
    if np.any(np.isinf(x)):
        raise InvalidInputError(Message("scores must be finite numbers or NaN (no answer)"))
    if missing == "listwise":
        x = x[~np.isnan(x).any(axis=1)]
    n_all, k_all = x.shape
    obs = ~np.isnan(x)
    n_obs = obs.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means_all = np.nansum(x, axis=0) / n_obs
        var_all = np.nansum((x - means_all) ** 2, axis=0) / (n_obs - 1)
    bad = ~(np.isfinite(var_all) & (var_all > 0))
    keep = np.flatnonzero(~bad)
    if keep.size < 2:
        raise InvalidInputError(Message(
            "reliability needs at least 2 items with score variance; {n} of {k} have some",
            n=int(keep.size), k=int(k_all)))
    xs = x[:, keep]
    k = keep.size
    C = _pairwise_covariance(xs)
    sd_d = np.sqrt(np.diag(C))
    R = C / np.outer(sd_d, sd_d)
    total = _stats(C, R, n_all)
    # scale score: the candidate's mean item score over the items answered
    person_mean = _column_means(xs.T)
    answered = np.isfinite(person_mean)
    pm = person_mean[answered]
    raw_r = np.array([_pairwise_corr(pm, xs[answered, i]) for i in range(k)])
    smc_all = _smc(R)
    Vt = R.sum()
    std_r = R.sum(axis=0) / np.sqrt(Vt)
    RC = R.copy()
    np.fill_diagonal(RC, smc_all)
    r_cor = RC.sum(axis=0) / np.sqrt(RC.sum())
    r_drop = np.empty(k)
    for i in range(k):
        rest = np.delete(np.arange(k), i)
        v_drop = C[np.ix_(rest, rest)].sum()
        c_drop = C[:, i].sum() - C[i, i]
        r_drop[i] = c_drop / np.sqrt(C[i, i] * v_drop)
    drop = np.full((k, 8), np.nan)
    for i in range(k):
        rest = np.delete(np.arange(k), i)
        if k > 2:
            st = _stats(C[np.ix_(rest, rest)], R[np.ix_(rest, rest)], n_all)
            drop[i] = [st["raw"], st["std"], st["g6"], st["av_r"], st["sn"], st["ase"], st["var_r"], st["med_r"]]
        else:  # psych's two-item special case
            o = rest[0]
            r12 = R[0, 1]
            drop[i] = [C[0, 1] / C[o, o], r12, smc_all[0], r12, r12 / (1 - r12), np.nan, 0.0, r12]

    def spread(values: FloatArray, fill: float = np.nan) -> FloatArray:
        out = np.full(k_all, fill)
        out[keep] = values
        return out

    items = ReliabilityItems(
        n=n_obs.astype(np.int64), raw_r=spread(raw_r), std_r=spread(std_r), r_cor=spread(r_cor),
        r_drop=spread(r_drop), mean=means_all, sd=np.sqrt(np.where(np.isfinite(var_all), var_all, np.nan)),
    )
    if_dropped = ReliabilityIfDropped(*(spread(drop[:, c]) for c in range(8)))
    return Reliability(
        missing=missing, n_persons=int(answered.sum()), n_items=int(k_all),
        raw_alpha=total["raw"], std_alpha=total["std"], g6=total["g6"], average_r=total["av_r"],
        signal_noise=total["sn"], alpha_se=total["ase"], mean=float(np.mean(pm)),
        sd=float(np.std(pm, ddof=1)) if pm.size > 1 else float("nan"), median_r=total["med_r"],
        items=items, if_dropped=if_dropped, dropped_items=np.flatnonzero(bad).astype(np.int64),
    )


def _column_means(x: FloatArray) -> FloatArray:
    """Mean of each column over its non-NaN entries (NaN for an empty column), no warnings."""
    obs = ~np.isnan(x)
    n = obs.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.where(obs, x, 0.0).sum(axis=0) / n, np.nan)


def _pairwise_covariance(x: FloatArray) -> FloatArray:
    """R's cov(x, use = "pairwise"): each pair over its complete rows, means of those rows, n - 1."""
    obs = (~np.isnan(x)).astype(np.float64)
    z = np.where(np.isnan(x), 0.0, x)
    n = obs.T @ obs
    s_i = z.T @ obs  # s_i[i, j] = sum of x_i over rows where both observed
    s_ij = z.T @ z
    with np.errstate(invalid="ignore", divide="ignore"):
        C = (s_ij - s_i * s_i.T / n) / (n - 1)
    return C


def _pairwise_corr(a: FloatArray, b: FloatArray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 2:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def _smc(R: FloatArray) -> FloatArray:
    """Squared multiple correlations 1 - 1 / diag(R^+) (SVD pseudo-inverse with psych's
    tolerance sqrt(machine eps) x the largest singular value), clipped to [0, 1]."""
    u, d, vt = np.linalg.svd(R)
    keep = d > max(np.sqrt(np.finfo(float).eps) * d[0], 0.0)
    inv = (vt[keep].T / d[keep]) @ u[:, keep].T
    smc = 1.0 - 1.0 / np.diag(inv)
    return np.clip(smc, 0.0, 1.0)


def _stats(C: FloatArray, R: FloatArray, n_obs: int) -> dict[str, float]:
    """psych's alpha.1 on a covariance and a correlation matrix."""
    k = C.shape[0]
    sumC = C.sum()
    trC = np.trace(C)
    raw = (1.0 - trC / sumC) * k / (k - 1)
    sumR = R.sum()
    std = (1.0 - k / sumR) * k / (k - 1)
    g6 = 1.0 - (k - _smc(R).sum()) / sumR
    av_r = (sumR - k) / (k * (k - 1))
    lower = R[np.tril_indices(k, -1)]
    var_r = float(np.var(lower, ddof=1)) if lower.size > 1 else float("nan")
    med_r = float(np.median(lower))
    sn = k * av_r / (1.0 - av_r)
    CC = C @ C
    Qv = (2.0 * k**2 / ((k - 1) ** 2 * sumC**3)) * (sumC * (np.trace(CC) + trC**2) - 2.0 * trC * CC.sum())
    return {"raw": float(raw), "std": float(std), "g6": float(g6), "av_r": float(av_r), "sn": float(sn),
            "ase": float(np.sqrt(Qv / n_obs)) if Qv >= 0 else float("nan"), "var_r": var_r, "med_r": med_r}
