"""Quadrature rules for integrating over a normal latent trait distribution.

The EM calibration (Bock & Aitkin, 1981) and EAP scoring (Bock & Mislevy, 1982) replace the
integral over the ability distribution g(theta) by a weighted sum over fixed nodes:

    integral f(theta) g(theta) dtheta  ~=  sum_q f(X_q) A(X_q),   sum_q A(X_q) = 1.

Two rules are offered:

* ``rectangular``: equally spaced nodes on [-bound, bound] with weights proportional to the
  normal density (BILOG-MG / mirt convention; Baker & Kim, 2004, sec. 6.2). Robust when the
  posterior of a long test is narrow.
* ``gauss_hermite``: Gauss-Hermite nodes rescaled to N(mean, sd^2) (Stroud & Secrest, 1966;
  the rule used by R's ``ltm``), exact for polynomials of degree 2n-1 times the normal density.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Quadrature:
    """Nodes and normalised weights of a quadrature rule for a latent trait distribution.

    Attributes
    ----------
    nodes : array, shape (n_nodes,)
        Ability values X_q, increasing.
    weights : array, shape (n_nodes,)
        Probability masses A(X_q), positive, summing to 1.
    rule : str
        ``"rectangular"`` or ``"gauss_hermite"`` (or ``"custom"``).
    """

    nodes: FloatArray
    weights: FloatArray
    rule: str = "custom"

    def __post_init__(self) -> None:
        nodes = np.asarray(self.nodes, dtype=np.float64)
        weights = np.asarray(self.weights, dtype=np.float64)
        if nodes.ndim != 1 or nodes.shape != weights.shape or nodes.size < 2:
            raise InvalidInputError(
                "quadrature: nodes and weights must be 1-D arrays of the same length >= 2"
            )
        if not np.all(np.isfinite(nodes)) or np.any(np.diff(nodes) <= 0):
            raise InvalidInputError("quadrature: nodes must be finite and strictly increasing")
        if np.any(weights < 0) or not np.isfinite(weights.sum()) or weights.sum() <= 0:
            raise InvalidInputError("quadrature: weights must be non-negative with a positive sum")
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "weights", weights / weights.sum())

    @property
    def n_nodes(self) -> int:
        return int(self.nodes.size)

    def rescaled(self, mean: float, sd: float) -> Quadrature:
        """The same rule moved to N(mean, sd^2): nodes mean + sd * X_q, same weights."""
        if not (np.isfinite(mean) and np.isfinite(sd) and sd > 0):
            raise InvalidInputError(f"quadrature: need a finite mean and sd > 0, got {mean}, {sd}")
        return Quadrature(mean + sd * self.nodes, self.weights, self.rule)

    def mean_sd(self) -> tuple[float, float]:
        """Mean and standard deviation of the discrete distribution."""
        mean = float(self.weights @ self.nodes)
        return mean, float(np.sqrt(self.weights @ (self.nodes - mean) ** 2))


def rectangular_quadrature(
    n_nodes: int = 41, *, bound: float = 6.0, mean: float = 0.0, sd: float = 1.0
) -> Quadrature:
    """Equally spaced nodes on ``mean + sd * [-bound, bound]`` with normal-density weights.

    Reference: Baker, F. B. & Kim, S.-H. (2004), *Item Response Theory: Parameter
    Estimation Techniques*, 2nd ed., sec. 6.2 (quadrature with equally spaced points).
    """
    if n_nodes < 2 or bound <= 0:
        raise InvalidInputError("rectangular_quadrature: need n_nodes >= 2 and bound > 0")
    z = np.linspace(-bound, bound, n_nodes)
    w = np.exp(-0.5 * z * z)
    return Quadrature(z, w, "rectangular").rescaled(mean, sd)


def gauss_hermite_quadrature(
    n_nodes: int = 21, *, mean: float = 0.0, sd: float = 1.0
) -> Quadrature:
    """Gauss-Hermite rule for N(mean, sd^2) (probabilists' Hermite polynomials).

    Reference: Stroud, A. H. & Secrest, D. (1966), *Gaussian Quadrature Formulas*;
    numpy.polynomial.hermite_e.hermegauss gives the rule for weight exp(-x^2/2).
    """
    if n_nodes < 2:
        raise InvalidInputError("gauss_hermite_quadrature: need n_nodes >= 2")
    z, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    return Quadrature(z, w, "gauss_hermite").rescaled(mean, sd)
