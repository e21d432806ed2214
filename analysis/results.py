"""Result types shared by the estimators (:mod:`analysis.calibration` MML-EM and
:mod:`analysis.cml` conditional maximum likelihood).

Solver outcomes are data (docs/ARCHITECTURE.md): ``status`` says whether the estimates are a
converged maximum of an identified model; ``problems`` says in words (messages of the catalog)
what stands in the way otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from analysis.covariance import ParameterCovariance
from analysis.messages import Message
from analysis.parameters import ItemParameters
from analysis.quadrature import Quadrature

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

STATUS_CONVERGED = "converged"
STATUS_NOT_CONVERGED = "not_converged"
STATUS_NOT_IDENTIFIED = "not_identified"
STATUSES = (STATUS_CONVERGED, STATUS_NOT_CONVERGED, STATUS_NOT_IDENTIFIED)


@dataclass(frozen=True)
class Priors:
    """Priors on item parameters (Bayes modal estimation; MML only).

    Attributes
    ----------
    c_beta : (alpha, beta) or None
        Beta prior on the lower asymptote c of 3PL items; default Beta(5, 17).
    a_lognormal : (mean, sd) or None
        Normal prior on ln(a) for items with a free slope; default none. With this prior the
        slopes stay positive (the prior density is 0 for a <= 0).
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
    """Outcome of :func:`analysis.calibrate`.

    Attributes
    ----------
    params : ItemParameters
        Estimates in a/b/c form with ``params.D`` the logistic constant used.
    standard_errors : ParameterErrors or None
    covariance : ParameterCovariance or None
        Covariance matrix of the estimated parameters on the a/b/c scale.
    se_method : str
        ``"observed"`` (inverse observed information; Louis, 1982, for MML),
        ``"conditional"`` (inverse conditional information, CML), ``"xpd"`` (cross-product of
        person gradients; an option, larger than the observed-information SEs when persons
        are few relative to parameters), ``"observed-item-blocks"`` / ``"xpd-item-blocks"``
        (too many parameters for one dense block: per-item blocks), or ``"none"``.
    method : str
        ``"mml"`` (marginal ML, EM over a quadrature grid) or ``"cml"`` (conditional ML).
    log_likelihood : float
        Marginal log-likelihood (MML) or conditional log-likelihood (CML), without priors.
    log_posterior : float
        ``log_likelihood`` plus the log prior densities (equal when no priors apply).
    status : str
        ``"converged"``, ``"not_converged"`` or ``"not_identified"`` (the data cannot identify
        the model's parameters; the estimates are not to be used).
    converged : bool
        True only for a converged maximum of an identified model.
    problems : tuple of Message
        What stands in the way of ``converged`` (empty otherwise), and warnings on single
        items (a negative slope: suspected miskey).
    n_iterations : int
        EM maps (MML) or Newton iterations (CML).
    max_change_history, log_likelihood_history : arrays, shape (n_iterations,)
    models : tuple of str
    D : float
    quadrature : Quadrature or None
        Final latent distribution (MML); None for CML.
    population_mean, population_sd : float
        Of the latent distribution (MML; NaN for CML).
    fixed_items : int array
    priors : Priors
    n_persons, n_responses : int
    suspected_miskeys : int array
        Items whose estimated slope is negative (MML with free slopes): abler candidates
        scored lower on them; check the key.
    n_extreme : int
        CML: persons left out because their raw score is the lowest or highest possible on
        the items they answered (they carry no information on the items); 0 for MML.
    elapsed_seconds : float
    message : Message
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
    quadrature: Quadrature | None
    population_mean: float
    population_sd: float
    fixed_items: IntArray
    priors: Priors
    n_persons: int
    n_responses: int
    elapsed_seconds: float
    message: Message
    method: str = "mml"
    status: str = STATUS_CONVERGED
    problems: tuple[Message, ...] = ()
    covariance: ParameterCovariance | None = None
    n_extreme: int = 0
    suspected_miskeys: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def identified(self) -> bool:
        return self.status != STATUS_NOT_IDENTIFIED
