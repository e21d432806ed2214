"""Polytomous item kernels on plain arrays: graded response and (generalised) partial credit.

For rubric-scored practical tasks (实际操作, scored by a group of examiners) the score is one
of K ordered categories 0..K-1.

* Graded response model (Samejima, 1969), boundaries b_1 < ... < b_{K-1}:
  P(X >= k | theta) = 1 / (1 + exp(-D a (theta - b_k))), P(X = k) = P(X >= k) - P(X >= k+1).
* Generalised partial credit model (Muraki, 1992), step difficulties b_1..b_{K-1}:
  P(X = k | theta) = exp(sum_{v=1}^{k} D a (theta - b_v))
                     / sum_{h=0}^{K-1} exp(sum_{v=1}^{h} D a (theta - b_v)).
  The partial credit model (Masters, 1982) is the GPCM with a = 1.

Item information: I(theta) = sum_k P_k'(theta)^2 / P_k(theta) (Samejima, 1969; for the GPCM
this equals D^2 a^2 Var(X | theta), Muraki, 1993). ``thresholds`` rows may be NaN-padded
for items with fewer categories.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from analysis.information import category_probabilities, expected_item_scores, item_information
from analysis.parameters import ItemParameters

FloatArray = npt.NDArray[np.float64]


def _params(model: str, a: npt.ArrayLike, thresholds: npt.ArrayLike, D: float) -> ItemParameters:
    thr = np.atleast_2d(np.asarray(thresholds, dtype=np.float64))
    return ItemParameters.from_thresholds(model, a, thr, D=D)


def probability_grm(
    thetas: npt.ArrayLike, a: npt.ArrayLike, thresholds: npt.ArrayLike, *, D: float = 1.0
) -> FloatArray:
    """GRM category probabilities, shape (n_thetas, n_items, max_categories).

    ``a`` shape (n_items,), ``thresholds`` shape (n_items, max_categories - 1).
    """
    return category_probabilities(thetas, _params("grm", a, thresholds, D))


def probability_gpcm(
    thetas: npt.ArrayLike, a: npt.ArrayLike, thresholds: npt.ArrayLike, *, D: float = 1.0
) -> FloatArray:
    """GPCM category probabilities, shape (n_thetas, n_items, max_categories). PCM: a = 1."""
    return category_probabilities(thetas, _params("gpcm", a, thresholds, D))


def item_information_grm(
    thetas: npt.ArrayLike, a: npt.ArrayLike, thresholds: npt.ArrayLike, *, D: float = 1.0
) -> FloatArray:
    """GRM item information, shape (n_thetas, n_items)."""
    return item_information(thetas, _params("grm", a, thresholds, D))


def item_information_gpcm(
    thetas: npt.ArrayLike, a: npt.ArrayLike, thresholds: npt.ArrayLike, *, D: float = 1.0
) -> FloatArray:
    """GPCM item information, shape (n_thetas, n_items)."""
    return item_information(thetas, _params("gpcm", a, thresholds, D))


def expected_score_grm(
    thetas: npt.ArrayLike, a: npt.ArrayLike, thresholds: npt.ArrayLike, *, D: float = 1.0
) -> FloatArray:
    """Expected GRM item scores, shape (n_thetas, n_items)."""
    return expected_item_scores(thetas, _params("grm", a, thresholds, D))


def expected_score_gpcm(
    thetas: npt.ArrayLike, a: npt.ArrayLike, thresholds: npt.ArrayLike, *, D: float = 1.0
) -> FloatArray:
    """Expected GPCM item scores, shape (n_thetas, n_items)."""
    return expected_item_scores(thetas, _params("gpcm", a, thresholds, D))
