"""Item parameters of a set of items under the supported IRT models, in the stored a/b/c form.

Parameterisation (stored in every result beside the numbers, see docs/ARCHITECTURE.md):

* ``D`` is the logistic scale constant (1.0 = logistic metric, the project default;
  1.702 approximates the normal ogive).
* ``"2pl"``: P = 1 / (1 + exp(-D a (theta - b))); ``"3pl"`` adds the lower asymptote c:
  P = c + (1 - c) / (1 + exp(-D a (theta - b))) (Birnbaum, 1968).
* ``"rasch"`` and ``"1pl"``: 2PL with a = 1 fixed (Rasch, 1960); the scale is the logit (times
  1/D): MML estimates the population SD, CML needs no population (see analysis/calibration.py).
* ``"grm"`` (Samejima, 1969): K ordered categories 0..K-1, boundaries b_1 < ... < b_{K-1},
  P(X >= k) = 1 / (1 + exp(-D a (theta - b_k))).
* ``"gpcm"`` (Muraki, 1992): step difficulties b_1..b_{K-1},
  P(X = k) proportional to exp(sum_{v<=k} D a (theta - b_v)); ``"pcm"`` (Masters, 1982) is the
  GPCM with a = 1 fixed.

``thresholds[j, :K_j-1]`` holds b_k (for 0/1 items the single entry equals ``b``); the rest of
the row is NaN. For polytomous items ``b`` is the mean of the thresholds (item location).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis import _kernels as K
from analysis.errors import InvalidInputError
from analysis.messages import Message

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MODELS: tuple[str, ...] = ("rasch", "1pl", "2pl", "3pl", "grm", "gpcm", "pcm")
DICHOTOMOUS_MODELS = frozenset({"rasch", "1pl", "2pl", "3pl"})
POLYTOMOUS_MODELS = frozenset({"grm", "gpcm", "pcm"})
FIXED_SLOPE_MODELS = frozenset({"rasch", "1pl", "pcm"})

FAMILY_OF_MODEL = {
    "rasch": K.DICHOTOMOUS,
    "1pl": K.DICHOTOMOUS,
    "2pl": K.DICHOTOMOUS,
    "3pl": K.DICHOTOMOUS,
    "grm": K.GRADED,
    "gpcm": K.PARTIAL_CREDIT,
    "pcm": K.PARTIAL_CREDIT,
}


def normalise_models(models: str | Sequence[str], n_items: int) -> tuple[str, ...]:
    """Lower-case model names, one per item; a single name applies to every item."""
    if isinstance(models, str):
        names = (models,) * n_items
    else:
        names = tuple(models)
        if len(names) != n_items:
            raise InvalidInputError(f"models: expected {n_items} names, got {len(names)}")
    out = tuple(str(m).lower() for m in names)
    for j, m in enumerate(out):
        if m not in FAMILY_OF_MODEL:
            raise InvalidInputError(f"item {j}: unknown model {m!r}; expected one of {MODELS}")
    return out


@dataclass(frozen=True)
class ItemParameters:
    """Parameters of ``n_items`` items, a/b/c form with thresholds and the constant ``D``.

    Attributes
    ----------
    models : tuple of str, length n_items
    a, b, c : arrays, shape (n_items,)
        Discrimination, difficulty (location), lower asymptote (0 except 3PL).
    thresholds : array, shape (n_items, max_categories - 1)
        b_k per item, NaN-padded (see module docstring).
    D : float
        Logistic scale constant used with these numbers.
    """

    models: tuple[str, ...]
    a: FloatArray
    b: FloatArray
    c: FloatArray
    thresholds: FloatArray
    D: float = 1.0

    def __post_init__(self) -> None:
        a = np.atleast_1d(np.asarray(self.a, dtype=np.float64))
        n = a.size
        models = normalise_models(self.models, n)
        b = np.atleast_1d(np.asarray(self.b, dtype=np.float64))
        c = np.atleast_1d(np.asarray(self.c, dtype=np.float64))
        thr = np.asarray(self.thresholds, dtype=np.float64)
        if thr.ndim == 1:
            thr = thr[:, None]
        if b.shape != (n,) or c.shape != (n,) or thr.shape[0] != n or thr.shape[1] < 1:
            raise InvalidInputError(
                "ItemParameters: a, b, c must have shape (n_items,) and thresholds "
                "(n_items, max_categories - 1)"
            )
        if not (np.isfinite(self.D) and self.D > 0):
            raise InvalidInputError(f"ItemParameters: D must be positive, got {self.D}")
        for j in range(n):
            row = thr[j]
            k = int(np.sum(~np.isnan(row)))
            if np.any(np.isnan(row[:k])) or k == 0:
                raise InvalidInputError(f"item {j}: thresholds must be a NaN-padded prefix")
            if not np.all(np.isfinite(row[:k])):
                raise InvalidInputError(Message(
                    "item {item}: thresholds must be finite numbers, got {values}", item=int(j),
                    values=[float(x) for x in row[:k]]))
            if not (np.isfinite(a[j]) and a[j] != 0):
                raise InvalidInputError(Message(
                    "item {item}: the discrimination a must be a finite non-zero number, got {a}",
                    item=int(j), a=float(a[j])))
            if not (0.0 <= c[j] < 1.0):
                raise InvalidInputError(f"item {j}: c must be in [0, 1), got {c[j]}")
            if models[j] != "3pl" and c[j] != 0.0:
                raise InvalidInputError(f"item {j}: c must be 0 for model {models[j]}")
            if models[j] in DICHOTOMOUS_MODELS and k != 1:
                raise InvalidInputError(f"item {j}: a {models[j]} item has exactly one threshold")
            if models[j] == "grm" and np.any(np.sign(a[j]) * np.diff(row[:k]) <= 0):
                raise InvalidInputError(Message(
                    "item {item}: GRM thresholds must be strictly increasing (decreasing for a negative "
                    "slope)", item=int(j)))
        object.__setattr__(self, "models", models)
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "c", c)
        object.__setattr__(self, "thresholds", thr)
        object.__setattr__(self, "D", float(self.D))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_abc(
        cls,
        a: npt.ArrayLike,
        b: npt.ArrayLike,
        c: npt.ArrayLike | None = None,
        *,
        model: str | Sequence[str] | None = None,
        D: float = 1.0,
    ) -> ItemParameters:
        """Dichotomous items. ``model`` defaults to ``"3pl"`` if any c > 0 else ``"2pl"``."""
        b_arr = np.atleast_1d(np.asarray(b, dtype=np.float64))
        a_arr = np.broadcast_to(np.asarray(a, dtype=np.float64), b_arr.shape).copy()
        c_arr = (
            np.zeros_like(b_arr)
            if c is None
            else np.broadcast_to(np.asarray(c, dtype=np.float64), b_arr.shape).copy()
        )
        if model is None:
            model = "3pl" if np.any(c_arr > 0) else "2pl"
        return cls(normalise_models(model, b_arr.size), a_arr, b_arr, c_arr, b_arr[:, None], D)

    @classmethod
    def from_thresholds(
        cls,
        models: str | Sequence[str],
        a: npt.ArrayLike,
        thresholds: npt.ArrayLike,
        *,
        c: npt.ArrayLike | None = None,
        D: float = 1.0,
    ) -> ItemParameters:
        """Any models; ``thresholds`` (n_items, max_categories - 1) NaN-padded."""
        thr = np.asarray(thresholds, dtype=np.float64)
        if thr.ndim == 1:
            thr = thr[:, None]
        n = thr.shape[0]
        a_arr = np.broadcast_to(np.asarray(a, dtype=np.float64), (n,)).copy()
        c_arr = np.zeros(n) if c is None else np.broadcast_to(np.asarray(c, float), (n,)).copy()
        b_arr = np.nanmean(thr, axis=1)
        return cls(normalise_models(models, n), a_arr, b_arr, c_arr, thr, D)

    @classmethod
    def concatenate(cls, parts: Sequence[ItemParameters]) -> ItemParameters:
        """Items of several parameter sets, in order (all must share ``D``)."""
        if not parts:
            raise InvalidInputError("concatenate: nothing to concatenate")
        D = parts[0].D
        if any(p.D != D for p in parts):
            raise InvalidInputError("concatenate: parameter sets use different D")
        width = max(p.thresholds.shape[1] for p in parts)
        thr = np.vstack(
            [
                np.pad(
                    p.thresholds,
                    ((0, 0), (0, width - p.thresholds.shape[1])),
                    constant_values=np.nan,
                )
                for p in parts
            ]
        )
        return cls(
            tuple(m for p in parts for m in p.models),
            np.concatenate([p.a for p in parts]),
            np.concatenate([p.b for p in parts]),
            np.concatenate([p.c for p in parts]),
            thr,
            D,
        )

    # ------------------------------------------------------------------ views
    @property
    def n_items(self) -> int:
        return int(self.a.size)

    @property
    def n_categories(self) -> IntArray:
        """Number of score categories of each item, shape (n_items,)."""
        return (np.sum(~np.isnan(self.thresholds), axis=1) + 1).astype(np.int64)

    @property
    def max_scores(self) -> IntArray:
        """Highest score of each item (K_j - 1), shape (n_items,)."""
        return self.n_categories - 1

    def subset(self, items: npt.ArrayLike) -> ItemParameters:
        """Parameters of the given items (indices), in that order."""
        idx = np.asarray(items, dtype=np.int64)
        thr = self.thresholds[idx]
        width = max(1, int(np.max(np.sum(~np.isnan(thr), axis=1)))) if idx.size else 1
        return ItemParameters(
            tuple(self.models[i] for i in idx),
            self.a[idx],
            self.b[idx],
            self.c[idx],
            thr[:, :width],
            self.D,
        )

    def rescaled_D(self, D: float) -> ItemParameters:
        """The same response functions expressed with another constant: a' = a D / D'."""
        return ItemParameters(self.models, self.a * self.D / D, self.b, self.c, self.thresholds, D)

    def groups(self) -> list[tuple[str, int, bool, IntArray]]:
        """Items grouped for vectorised kernels: (family, n_categories, is_3pl, item indices)."""
        ncat = self.n_categories
        keys: dict[tuple[str, int, bool], list[int]] = {}
        for j, m in enumerate(self.models):
            keys.setdefault((FAMILY_OF_MODEL[m], int(ncat[j]), m == "3pl"), []).append(j)
        return [(f, k, g, np.asarray(v, dtype=np.int64)) for (f, k, g), v in keys.items()]

    def working(self, items: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Slope/intercept form of the given items: alpha (n,), d (n, K-1), c (n,)."""
        alpha = self.D * self.a[items]
        k = int(np.max(self.n_categories[items])) - 1
        d = -alpha[:, None] * self.thresholds[items, :k]
        return alpha, d, self.c[items]
