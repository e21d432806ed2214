"""Classical test theory: item and form statistics, distractor analysis, review flags.

Works on one form at a time (the candidates who sat it), as a dense (n_persons, n_items)
score matrix; omitted answers are scored 0 by the caller. Polytomous items are allowed:
facility is then the mean score over the item's maximum.

Formulas (Crocker & Algina, 1986, ch. 14, 15 and 7; Allen & Yen, 1979, ch. 6):

* facility (p-value) p_j = mean(x_j) / max_j;
* item-total correlation (point-biserial for 0/1 items) r(x_j, X), X the total score, and the
  corrected item-total correlation r(x_j, X - x_j) (item-rest);
* discrimination index D_j = p_upper - p_lower over the top and bottom 27% by total score
  (Kelley, 1939), ties at the cut broken by candidate order (stable sort);
* Cronbach's alpha = k / (k - 1) (1 - sum_j var(x_j) / var(X)) (Cronbach, 1951), equal to
  KR-20 for 0/1 items (Kuder & Richardson, 1937); population variances (ddof = 0) throughout;
  alpha if item deleted from the same formula over the other k - 1 items;
* SEM = SD(X) sqrt(1 - alpha).

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
    """Classical statistics of one form (total-score level) with its item statistics."""

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


def cronbach_alpha(scores: npt.ArrayLike) -> float:
    """Cronbach's alpha (KR-20 for 0/1 items) of a (n_persons, n_items) score matrix."""
    x = _validate_scores(scores)
    k = x.shape[1]
    if k < 2:
        raise InvalidInputError("alpha needs at least 2 items")
    total_var = float(np.var(x.sum(axis=1)))
    if total_var <= 0:
        return float("nan")
    return k / (k - 1) * (1.0 - float(np.var(x, axis=0).sum()) / total_var)


def analyse_form(
    scores: npt.ArrayLike,
    *,
    max_scores: npt.ArrayLike | None = None,
    thresholds: CttThresholds | None = None,
) -> FormStatistics:
    """Item and form statistics of one form.

    Parameters
    ----------
    scores : array, shape (n_persons, n_items)
        Item scores of the candidates who sat the form (no NaN: score omits as 0).
    max_scores : array, shape (n_items,), optional
        Maximum score of each item (default 1, i.e. 0/1 items).
    thresholds : CttThresholds, optional

    Returns
    -------
    FormStatistics
    """
    th = CttThresholds() if thresholds is None else thresholds
    x = _validate_scores(scores)
    n, k = x.shape
    if n < 2 or k < 2:
        raise InvalidInputError("analyse_form needs at least 2 candidates and 2 items")
    maxs = np.ones(k) if max_scores is None else np.asarray(max_scores, dtype=np.float64)
    if maxs.shape != (k,) or np.any(maxs <= 0):
        raise InvalidInputError(f"max_scores must be positive with shape ({k},)")
    if np.any(x > maxs[None, :]):
        j = int(np.flatnonzero(np.any(x > maxs[None, :], axis=0))[0])
        raise InvalidInputError(f"item {j} has a score above its max_score {maxs[j]}")

    total = x.sum(axis=1)
    mean_items = x.mean(axis=0)
    var_items = x.var(axis=0)
    var_total = float(total.var())
    cov_item_total = ((x - mean_items) * (total - total.mean())[:, None]).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_it = cov_item_total / np.sqrt(var_items * var_total)
        var_rest = var_total - 2 * cov_item_total + var_items
        r_rest = (cov_item_total - var_items) / np.sqrt(var_items * var_rest)
        alpha = k / (k - 1) * (1 - var_items.sum() / var_total) if var_total > 0 else np.nan
        alpha_del = (
            (k - 1) / (k - 2) * (1 - (var_items.sum() - var_items) / var_rest)
            if k > 2
            else np.full(k, np.nan)
        )
    r_it = np.where(np.isfinite(r_it), r_it, np.nan)
    r_rest = np.where(np.isfinite(r_rest), r_rest, np.nan)
    alpha_del = np.where(np.isfinite(alpha_del), alpha_del, np.nan)

    upper, lower = _extreme_groups(total, th.group_fraction)
    facility = mean_items / maxs
    disc = (x[upper].mean(axis=0) - x[lower].mean(axis=0)) / maxs

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
    sd = float(np.sqrt(var_total))
    sem = sd * float(np.sqrt(max(1.0 - alpha, 0.0))) if np.isfinite(alpha) else float("nan")
    return FormStatistics(
        n,
        k,
        float(total.mean()),
        sd,
        float(alpha),
        sem,
        float(total.min()),
        float(total.max()),
        items,
        th,
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
        raise InvalidInputError("scores must be a 2-D (n_persons, n_items) array")
    if not np.all(np.isfinite(x)):
        raise InvalidInputError("scores must be finite (score omitted answers as 0)")
    if np.any(x < 0):
        raise InvalidInputError("scores must be >= 0")
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
