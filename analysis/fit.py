"""Item fit (infit and outfit) and Andersen's likelihood-ratio test for Rasch-family models.

Infit and outfit (Wright & Masters, 1982, ch. 5; Wright & Linacre, 1994), from each response
x_pj, its model expectation E_pj = sum_k k P_jk(theta_p), variance V_pj = sum_k (k - E)^2 P_jk
and fourth central moment C_pj = sum_k (k - E)^4 P_jk at the person's ability estimate:

* outfit mean-square  u_j = sum_p z_pj^2 / n_j, z = (x - E) / sqrt(V) (unweighted; sensitive to
  unexpected answers far from the item);
* infit mean-square   v_j = sum_p (x - E)^2 / sum_p V (information-weighted);
* standardised (t) by the Wilson-Hilferty cube-root transformation,
  t = (MSQ^(1/3) - 1) (3 / q) + q / 3, with q^2 = sum_p C / V^2 / n^2 - 1 / n (outfit) and
  q^2 = sum_p (C - V^2) / (sum_p V)^2 (infit).

Both are near 1 (t near 0) when the item fits; above 1 means noise (e.g. a wrong key, a
guessable item), below 1 an item more predictable than the model (local dependence). As in
eRm (Mair & Hatzinger, 2007), persons with an extreme raw score (no finite ML ability) are
left out and abilities are ML estimates from the item parameters.

Andersen's (1973) likelihood-ratio test: the conditional likelihoods of the CML fits in
groups of persons (by default the raw score at or below the median vs above, per booklet)
against the fit in the whole sample, LR = 2 (sum_g log L_g - log L), chi-square with
sum_g npar_g - npar degrees of freedom. Items whose categories are not all observed in every
group are left out of all fits (as eRm does), and named.

References: Wright, B. D. & Masters, G. N. (1982), *Rating Scale Analysis*, MESA Press.
Andersen, E. B. (1973), Psychometrika 38, 123-140. Mair, P. & Hatzinger, R. (2007), J.
Statistical Software 20(9).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import chi2

from analysis.errors import InvalidInputError
from analysis.information import category_probabilities
from analysis.messages import Message
from analysis.parameters import ItemParameters
from analysis.responses import ResponseData
from analysis.scoring import STATUS_OK, score_persons

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ItemFit:
    """Infit and outfit per item; arrays have shape (n_items,), NaN for items without
    responses from persons with a finite ability.

    Attributes
    ----------
    outfit_msq, infit_msq : mean-squares (expected 1)
    outfit_t, infit_t : standardised (Wilson-Hilferty), expected 0
    n : int array, responses used per item
    n_persons : persons whose abilities were used
    """

    outfit_msq: FloatArray
    infit_msq: FloatArray
    outfit_t: FloatArray
    infit_t: FloatArray
    n: IntArray
    n_persons: int


def item_fit(
    responses: ResponseData,
    params: ItemParameters,
    *,
    thetas: npt.ArrayLike | None = None,
) -> ItemFit:
    """Infit and outfit of every item (see the module docstring).

    Parameters
    ----------
    responses : ResponseData
    params : ItemParameters
        Item j of the data is item j of ``params``.
    thetas : array, shape (n_persons,), optional
        Abilities on the parameters' metric; NaN leaves a person out. Default: ML estimates,
        persons without a finite ML estimate (extreme raw scores) left out.
    """
    if responses.n_items != params.n_items:
        raise InvalidInputError(Message(
            "responses have {n} items but the parameters {m}", n=responses.n_items, m=params.n_items))
    if thetas is None:
        ml = score_persons(responses, params, method="ml")
        th = np.where(ml.status == STATUS_OK, ml.thetas, np.nan)
    else:
        th = np.asarray(thetas, dtype=np.float64)
        if th.shape != (responses.n_persons,):
            raise InvalidInputError(Message(
                "thetas must have one entry per person ({n})", n=responses.n_persons))
    keep = np.isfinite(th[responses.person_indices])
    persons = responses.person_indices[keep]
    items = responses.item_indices[keep]
    x = responses.scores[keep].astype(np.float64)
    n_items = responses.n_items
    E = np.empty(x.size)
    V = np.empty(x.size)
    C = np.empty(x.size)
    k_max = int(params.n_categories.max())
    kk = np.arange(k_max, dtype=np.float64)
    step = 50_000
    for a0 in range(0, x.size, step):
        a1 = min(a0 + step, x.size)
        for j in np.unique(items[a0:a1]).tolist():
            sel = np.flatnonzero(items[a0:a1] == j) + a0
            probs = category_probabilities(th[persons[sel]], params.subset([j]))[:, 0, :]  # (n, K)
            e = probs @ kk[: probs.shape[1]]
            dev = kk[None, : probs.shape[1]] - e[:, None]
            E[sel] = e
            V[sel] = np.sum(dev**2 * probs, axis=1)
            C[sel] = np.sum(dev**4 * probs, axis=1)
    V = np.maximum(V, 1e-300)
    n = np.bincount(items, minlength=n_items)
    with np.errstate(invalid="ignore", divide="ignore"):
        outfit = np.bincount(items, weights=(x - E) ** 2 / V, minlength=n_items) / n
        sum_v = np.bincount(items, weights=V, minlength=n_items)
        infit = np.bincount(items, weights=(x - E) ** 2, minlength=n_items) / sum_v
        q_out = np.sqrt(np.maximum(np.bincount(items, weights=C / V**2, minlength=n_items) / n**2 - 1.0 / n, 0.0))
        q_in = np.sqrt(np.maximum(np.bincount(items, weights=C - V**2, minlength=n_items) / sum_v**2, 0.0))
        t_out = (np.cbrt(outfit) - 1.0) * (3.0 / q_out) + q_out / 3.0
        t_in = (np.cbrt(infit) - 1.0) * (3.0 / q_in) + q_in / 3.0
    clean = [np.where(np.isfinite(v) & (n > 0), v, np.nan) for v in (outfit, infit, t_out, t_in)]
    return ItemFit(*clean, n=n.astype(np.int64), n_persons=int(np.unique(persons).size))


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """Andersen's likelihood-ratio test (see the module docstring).

    Attributes
    ----------
    statistic, df, p_value : the LR chi-square, its degrees of freedom and p-value
    log_likelihood : conditional log-likelihood of the fit in the whole sample
    group_log_likelihoods : per group
    group_sizes : persons per group (all persons of the group, extreme scores included)
    items : int array, items used (the others were left out: not estimable in some group)
    left_out : int array, items left out
    status : "ok" or the status of a fit that failed ("not_identified", "not_converged")
    problems : tuple of Message
    """

    statistic: float
    df: int
    p_value: float
    log_likelihood: float
    group_log_likelihoods: FloatArray
    group_sizes: IntArray
    items: IntArray
    left_out: IntArray
    status: str
    problems: tuple[Message, ...]


def median_split(responses: ResponseData) -> IntArray:
    """Group 0: raw score at or below the median of the candidates with the same booklet (set of
    items answered); group 1: above. Shape (n_persons,)."""
    raw = responses.raw_scores()
    ptr, items = responses.person_pointer, responses.item_indices
    keys: dict[bytes, list[int]] = {}
    for p in range(responses.n_persons):
        keys.setdefault(items[ptr[p]: ptr[p + 1]].tobytes(), []).append(p)
    groups = np.zeros(responses.n_persons, dtype=np.int64)
    for members in keys.values():
        m = np.asarray(members)
        groups[m] = (raw[m] > np.median(raw[m])).astype(np.int64)
    return groups


def andersen_lr_test(
    responses: ResponseData,
    model: str | Sequence[str] = "rasch",
    *,
    groups: npt.ArrayLike | None = None,
    D: float = 1.0,
) -> LikelihoodRatioTest:
    """Andersen's LR test of a Rasch-family model (CML fits per group).

    Parameters
    ----------
    responses : ResponseData
    model : "rasch" / "pcm" or one per item
    groups : int array (n_persons,), optional
        Group of each person; default :func:`median_split`.
    """
    from analysis.calibration import calibrate

    g = median_split(responses) if groups is None else np.asarray(groups)
    if g.shape != (responses.n_persons,):
        raise InvalidInputError(Message("groups must have one entry per person ({n})", n=responses.n_persons))
    labels = np.unique(g)
    if labels.size < 2:
        raise InvalidInputError(Message("groups: the test needs at least two groups of persons"))
    models = [model] * responses.n_items if isinstance(model, str) else list(model)
    # items every group can estimate: every category observed in every group
    ok = np.ones(responses.n_items, dtype=bool)
    subsets = []
    for lab in labels:
        persons = np.flatnonzero(g == lab)
        sub = _persons(responses, persons)
        counts = sub.category_counts()
        off = sub.category_offsets
        for j in range(sub.n_items):
            if np.any(counts[off[j]: off[j + 1]] <= 0):
                ok[j] = False
        subsets.append(sub)
    items = np.flatnonzero(ok)
    left_out = np.flatnonzero(~ok)
    problems: list[Message] = []
    if left_out.size:
        problems.append(Message(
            "item(s) {items} left out of the likelihood-ratio test: a score category is not observed in "
            "every group", items=[int(j) for j in left_out]))
    if items.size < 2:
        problems.append(Message("fewer than two items can be estimated in every group: no test"))
        return LikelihoodRatioTest(float("nan"), 0, float("nan"), float("nan"), np.full(labels.size, np.nan),
                                   np.array([int(np.sum(g == lab)) for lab in labels]), items, left_out,
                                   "not_identified", tuple(problems))
    sub_models = [models[j] for j in items]
    full = calibrate(responses.select_items(items), sub_models, method="cml", D=D, standard_errors="none")
    fits = [calibrate(s.select_items(items), sub_models, method="cml", D=D, standard_errors="none")
            for s in subsets]
    status = "ok"
    for f in [full, *fits]:
        if f.status != "converged":
            status = f.status
            problems.extend(f.problems)
    n_par = int(np.sum(responses.n_categories[items] - 1)) - 1
    lr = 2.0 * (sum(f.log_likelihood for f in fits) - full.log_likelihood)
    df = n_par * (labels.size - 1)
    return LikelihoodRatioTest(
        statistic=float(lr), df=int(df), p_value=float(chi2.sf(lr, df)),
        log_likelihood=float(full.log_likelihood),
        group_log_likelihoods=np.array([f.log_likelihood for f in fits]),
        group_sizes=np.array([int(np.sum(g == lab)) for lab in labels]),
        items=items, left_out=left_out, status=status, problems=tuple(problems),
    )


def _persons(data: ResponseData, persons: IntArray) -> ResponseData:
    """The responses of the given persons only (re-indexed 0..len(persons)-1)."""
    new = np.full(data.n_persons, -1, dtype=np.int64)
    new[persons] = np.arange(persons.size)
    keep = new[data.person_indices] >= 0
    return ResponseData.from_triples(
        new[data.person_indices[keep]], data.item_indices[keep], data.scores[keep],
        n_persons=persons.size, n_items=data.n_items, n_categories=data.n_categories,
        person_weights=data.person_weights[persons],
    )
