"""Linking IRT scales of parallel forms through common (anchor) items.

Two calibrations of the same items differ by a linear transformation of theta:
theta_base = A * theta_new + B. Item parameters of the new calibration move to the base scale
as a* = a / A, b* = A b + B (each threshold likewise), c* = c (Kolen & Brennan, 2014,
eqs. 6.2-6.4). The constants are estimated from the common items:

* mean/mean (Loyd & Hoover, 1980): A = mean(a_new) / mean(a_base),
  B = mean(b_base) - A mean(b_new);
* mean/sigma (Marco, 1977): A = sd(b_base) / sd(b_new), B as above. For polytomous items
  every threshold enters as a b (Kolen & Brennan, 2014, sec. 6.5 / Cohen & Kim, 1998);
* Stocking & Lord (1983): minimise sum_q w_q [T_base(X_q) - T_new*(X_q)]^2, the squared
  difference of the test characteristic curves of the common items over a theta grid;
* Haebara (1980): minimise sum_q w_q sum_j sum_k [P_jk,base(X_q) - P_jk,new*(X_q)]^2.

The characteristic-curve criteria are minimised with scipy.optimize (BFGS) from the
mean/sigma solution; the grid is on the base scale (default 41 nodes on [-4, 4] weighted by
the N(0, 1) density).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from analysis.errors import InvalidInputError
from analysis.information import category_probabilities, expected_score
from analysis.parameters import ItemParameters
from analysis.quadrature import Quadrature, rectangular_quadrature

FloatArray = npt.NDArray[np.float64]

LINK_METHODS = ("mean_mean", "mean_sigma", "stocking_lord", "haebara")


@dataclass(frozen=True)
class LinkingConstants:
    """theta_base = A * theta_new + B.

    Attributes
    ----------
    A, B : float
    method : str
    criterion : float
        Final value of the characteristic-curve criterion (0 for moment methods).
    converged : bool
        Optimiser success (always True for moment methods).
    n_common_items : int
    D : float
        Logistic constant of the base parameters (new parameters are converted to it).
    """

    A: float
    B: float
    method: str
    criterion: float
    converged: bool
    n_common_items: int
    D: float


def link_scales(
    new: ItemParameters,
    base: ItemParameters,
    *,
    method: str = "stocking_lord",
    quadrature: Quadrature | None = None,
) -> LinkingConstants:
    """Linking constants putting ``new`` on the scale of ``base`` from common items.

    Parameters
    ----------
    new, base : ItemParameters
        The same common items, in the same order, calibrated separately.
    method : {"mean_mean", "mean_sigma", "stocking_lord", "haebara"}
    quadrature : Quadrature, optional
        Theta grid on the base scale for the characteristic-curve methods.

    Returns
    -------
    LinkingConstants
    """
    if method not in LINK_METHODS:
        raise InvalidInputError(f"method must be one of {LINK_METHODS}, got {method!r}")
    new = _validate_pair(new, base)
    if method == "mean_mean":
        A = float(np.mean(new.a) / np.mean(base.a))
        B = float(np.mean(_all_b(base)) - A * np.mean(_all_b(new)))
        return LinkingConstants(A, B, method, 0.0, True, base.n_items, base.D)
    A0, B0 = _mean_sigma(new, base)
    if method == "mean_sigma":
        return LinkingConstants(A0, B0, method, 0.0, True, base.n_items, base.D)
    grid = quadrature if quadrature is not None else rectangular_quadrature(41, bound=4.0)
    x, w = grid.nodes, grid.weights
    if method == "stocking_lord":
        target = expected_score(x, base)

        def loss(v: FloatArray) -> float:
            A, B = np.exp(v[0]), v[1]
            return float(w @ (target - expected_score((x - B) / A, new)) ** 2)
    else:
        target_p = category_probabilities(x, base)

        def loss(v: FloatArray) -> float:
            A, B = np.exp(v[0]), v[1]
            diff = target_p - category_probabilities((x - B) / A, new)
            return float(w @ np.sum(diff * diff, axis=(1, 2)))

    # A is optimised on the log scale to keep it positive
    res = minimize(
        loss, np.array([np.log(max(A0, 1e-3)), B0]), method="BFGS", options={"gtol": 1e-10}
    )
    # BFGS reports "precision loss" when it starts at (or reaches) an exact optimum;
    # a vanishing gradient is convergence all the same.
    converged = bool(res.success) or float(np.max(np.abs(res.jac))) < 1e-6
    return LinkingConstants(
        float(np.exp(res.x[0])),
        float(res.x[1]),
        method,
        float(res.fun),
        converged,
        base.n_items,
        base.D,
    )


def transform_parameters(params: ItemParameters, constants: LinkingConstants) -> ItemParameters:
    """Item parameters on the base scale: a / A, A b + B, thresholds likewise, c unchanged.

    Reference: Kolen & Brennan (2014), eqs. 6.2-6.4.
    """
    p = params if params.D == constants.D else params.rescaled_D(constants.D)
    A, B = constants.A, constants.B
    return ItemParameters(p.models, p.a / A, A * p.b + B, p.c, A * p.thresholds + B, p.D)


def transform_thetas(thetas: npt.ArrayLike, constants: LinkingConstants) -> FloatArray:
    """Abilities on the base scale: A theta + B."""
    return constants.A * np.asarray(thetas, dtype=np.float64) + constants.B


def _validate_pair(new: ItemParameters, base: ItemParameters) -> ItemParameters:
    if new.n_items != base.n_items or new.n_items < 2:
        raise InvalidInputError(
            f"linking needs the same >= 2 common items in both sets "
            f"(got {new.n_items} and {base.n_items})"
        )
    if np.any(new.n_categories != base.n_categories):
        raise InvalidInputError("common items have different numbers of categories")
    return new if new.D == base.D else new.rescaled_D(base.D)


def _all_b(params: ItemParameters) -> FloatArray:
    thr = params.thresholds
    return thr[~np.isnan(thr)]


def _mean_sigma(new: ItemParameters, base: ItemParameters) -> tuple[float, float]:
    b_new, b_base = _all_b(new), _all_b(base)
    sd_new = float(np.std(b_new))
    if sd_new <= 0:
        raise InvalidInputError("mean/sigma: the new difficulties have zero spread")
    A = float(np.std(b_base)) / sd_new
    B = float(np.mean(b_base) - A * np.mean(b_new))
    return A, B
