"""Differential item functioning: Mantel-Haenszel with the ETS A/B/C classification.

For each item, candidates are stratified on a matching score (by default the total score on
the form, studied item included, as ETS does; Holland & Thayer, 1988) and each stratum k gives
a 2x2 table: reference group right/wrong A_k/B_k, focal group right/wrong C_k/D_k, N_k total.

* Common odds ratio (Mantel & Haenszel, 1959):
  alpha_MH = sum_k A_k D_k / N_k  /  sum_k B_k C_k / N_k.
* MH D-DIF = -2.35 ln(alpha_MH) on the ETS delta scale (Holland & Thayer, 1988); negative
  values mean the item is harder for the focal group than for matched reference candidates.
* SE of ln(alpha_MH) by Robins, Breslow & Greenland (1986); SE(D) = 2.35 SE(ln alpha).
* MH chi-square with continuity correction (Holland & Thayer, 1988):
  (|sum_k A_k - sum_k E(A_k)| - 0.5)^2 / sum_k Var(A_k), E(A_k) = n_Rk m_1k / N_k,
  Var(A_k) = n_Rk n_Fk m_1k m_0k / (N_k^2 (N_k - 1)); 1 degree of freedom.
* ETS classes (Zieky, 1993; Dorans & Holland, 1993; restated by Zwick, 2012, ETS RR-12-08):
  A: |D| < 1.0, or D not significantly different from 0 (MH chi-square p >= 0.05);
  C: |D| >= 1.5 and |D| significantly greater than 1.0, i.e. (|D| - 1) / SE(D) > z_{0.95}
     (one-sided test at 0.05, z = 1.645);
  B: otherwise. The sign of D is reported beside the class (B-, C- favour the reference
  group).

Strata where either group is absent carry no information and are dropped (they contribute
zero to every sum above).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import chi2

from analysis.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DELTA_SCALE = 2.35


@dataclass(frozen=True)
class DifResult:
    """Mantel-Haenszel DIF statistics per item.

    Attributes
    ----------
    alpha_mh, delta_mh, se_delta, chi_square, p_value : arrays, shape (n_items,)
        NaN where an item's tables carry no information (e.g. no variation within strata).
    ets_class : tuple of str, length n_items
        ``"A"``, ``"B"``, ``"C"`` or ``"n/a"``.
    favours : tuple of str, length n_items
        ``"reference"`` when D < 0 (harder for the focal group), ``"focal"`` when D > 0,
        ``""`` for class A or n/a.
    n_reference, n_focal : int arrays, shape (n_items,)
        Candidates of each group with a response to the item.
    significance_level, z_c : float
        Settings used for the A and C rules.
    """

    alpha_mh: FloatArray
    delta_mh: FloatArray
    se_delta: FloatArray
    chi_square: FloatArray
    p_value: FloatArray
    ets_class: tuple[str, ...]
    favours: tuple[str, ...]
    n_reference: IntArray
    n_focal: IntArray
    significance_level: float
    z_c: float


def mantel_haenszel_dif(
    scores: npt.ArrayLike,
    focal: npt.ArrayLike,
    *,
    matching: npt.ArrayLike | None = None,
    significance_level: float = 0.05,
    z_c: float = 1.645,
) -> DifResult:
    """Mantel-Haenszel DIF for every 0/1 item of a form.

    Parameters
    ----------
    scores : array, shape (n_persons, n_items)
        0/1 item scores; NaN where a candidate has no response (left out of that item).
    focal : bool array, shape (n_persons,)
        True for the focal group, False for the reference group.
    matching : array, shape (n_persons,), optional
        Matching score (stratum). Default: each candidate's total score (NaN counted as 0).
    significance_level : float
        Level of the chi-square test in the A rule.
    z_c : float
        One-sided critical value of the C rule's test of |D| > 1.

    Returns
    -------
    DifResult
    """
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 2:
        raise InvalidInputError("scores must be 2-D (n_persons, n_items)")
    observed = ~np.isnan(x)
    if np.any((x[observed] != 0) & (x[observed] != 1)):
        raise InvalidInputError("Mantel-Haenszel DIF here needs 0/1 item scores")
    grp = np.asarray(focal)
    if grp.shape != (x.shape[0],):
        raise InvalidInputError(f"focal must have shape ({x.shape[0]},)")
    grp = grp.astype(bool)
    if matching is None:
        match = np.nansum(x, axis=1)
    else:
        match = np.asarray(matching, dtype=np.float64)
        if match.shape != (x.shape[0],) or np.any(~np.isfinite(match)):
            raise InvalidInputError(f"matching must be finite with shape ({x.shape[0]},)")
    _, stratum = np.unique(match, return_inverse=True)
    n_strata = int(stratum.max()) + 1
    n_items = x.shape[1]

    # counts[j, k, g, s]: item j, stratum k, group g (0 ref, 1 focal), score s
    persons, items = np.nonzero(observed)
    cell = ((items * n_strata + stratum[persons]) * 2 + grp[persons]) * 2 + x[
        persons, items
    ].astype(np.int64)
    counts = np.bincount(cell, minlength=n_items * n_strata * 4).reshape(n_items, n_strata, 2, 2)
    counts = counts.astype(np.float64)
    A = counts[:, :, 0, 1]
    B = counts[:, :, 0, 0]
    C = counts[:, :, 1, 1]
    Dd = counts[:, :, 1, 0]
    n_ref = A + B
    n_foc = C + Dd
    N = n_ref + n_foc
    informative = (n_ref > 0) & (n_foc > 0)
    Nsafe = np.where(informative, N, 1.0)
    R_k = np.where(informative, A * Dd / Nsafe, 0.0)
    S_k = np.where(informative, B * C / Nsafe, 0.0)
    R = R_k.sum(axis=1)
    S = S_k.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = R / S
        delta = -DELTA_SCALE * np.log(alpha)
        # Robins, Breslow & Greenland (1986) variance of ln(alpha_MH)
        P_k = np.where(informative, (A + Dd) / Nsafe, 0.0)
        Q_k = np.where(informative, (B + C) / Nsafe, 0.0)
        var_log = (
            np.sum(P_k * R_k, axis=1) / (2 * R**2)
            + np.sum(P_k * S_k + Q_k * R_k, axis=1) / (2 * R * S)
            + np.sum(Q_k * S_k, axis=1) / (2 * S**2)
        )
        se_delta = DELTA_SCALE * np.sqrt(var_log)
        m1 = A + C
        m0 = B + Dd
        usable = informative & (N >= 2)
        N2 = np.where(usable, N, 2.0)
        expected = np.where(usable, n_ref * m1 / N2, 0.0)
        variance = np.where(usable, n_ref * n_foc * m1 * m0 / (N2**2 * (N2 - 1)), 0.0)
        observed_a = np.where(usable, A, 0.0).sum(axis=1)
        vsum = variance.sum(axis=1)
        chi_sq = (np.abs(observed_a - expected.sum(axis=1)) - 0.5).clip(min=0.0) ** 2 / vsum
    valid = np.isfinite(delta) & np.isfinite(se_delta) & (vsum > 0)
    alpha = np.where(valid, alpha, np.nan)
    delta = np.where(valid, delta, np.nan)
    se_delta = np.where(valid, se_delta, np.nan)
    chi_sq = np.where(valid, chi_sq, np.nan)
    p_value = np.where(valid, chi2.sf(chi_sq, df=1), np.nan)

    classes: list[str] = []
    favours: list[str] = []
    for j in range(n_items):
        label = classify_ets(
            delta[j], se_delta[j], p_value[j], significance_level=significance_level, z_c=z_c
        )
        classes.append(label)
        if label in ("B", "C"):
            favours.append("reference" if delta[j] < 0 else "focal")
        else:
            favours.append("")
    n_reference = np.sum(observed & ~grp[:, None], axis=0).astype(np.int64)
    n_focal = np.sum(observed & grp[:, None], axis=0).astype(np.int64)
    return DifResult(
        alpha,
        delta,
        se_delta,
        chi_sq,
        p_value,
        tuple(classes),
        tuple(favours),
        n_reference,
        n_focal,
        significance_level,
        z_c,
    )


def classify_ets(
    delta: float,
    se_delta: float,
    p_value: float,
    *,
    significance_level: float = 0.05,
    z_c: float = 1.645,
) -> str:
    """ETS A/B/C class of one item from MH D-DIF, its SE and the MH chi-square p-value.

    A: |D| < 1 or p >= significance_level; C: |D| >= 1.5 and (|D| - 1) / SE > z_c;
    B otherwise (Zieky, 1993; Zwick, 2012). ``"n/a"`` when D is not finite.
    """
    if not (np.isfinite(delta) and np.isfinite(se_delta) and np.isfinite(p_value)):
        return "n/a"
    size = abs(delta)
    if size < 1.0 or p_value >= significance_level:
        return "A"
    if size >= 1.5 and (size - 1.0) / se_delta > z_c:
        return "C"
    return "B"
