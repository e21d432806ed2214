"""Sparse container for scored responses, missing by design.

In certification practice each candidate sits one form out of many, so a candidates x items
matrix is mostly empty. :class:`ResponseData` stores only the observed responses as COO
triples (person, item, score) sorted by person (CSR row pointer kept), so that every kernel
touches observed responses only. Scores are category indices 0, 1, ..., K_j - 1 (0/1 for
dichotomous items, rubric points for polytomous items).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from analysis.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ResponseData:
    """Observed scored responses of ``n_persons`` candidates to ``n_items`` items.

    Build it with :meth:`from_triples`, :meth:`from_dense` or :meth:`from_patterns`, which
    validate and sort; the constructor trusts its arguments.

    Attributes
    ----------
    person_indices, item_indices, scores : int arrays, shape (n_responses,)
        One row per observed response, sorted by person then item; no (person, item)
        pair appears twice. ``scores`` are category indices in ``[0, n_categories[item])``.
    n_persons, n_items : int
    n_categories : int array, shape (n_items,)
        Number of score categories K_j of each item (2 for 0/1 items).
    person_weights : float array, shape (n_persons,)
        Frequency or sampling weight of each person (1 by default; response-pattern
        frequencies for tabulated data such as LSAT).
    person_pointer : int array, shape (n_persons + 1,)
        CSR row pointer: person p's responses are rows ``person_pointer[p]:person_pointer[p+1]``.
    """

    person_indices: IntArray
    item_indices: IntArray
    scores: IntArray
    n_persons: int
    n_items: int
    n_categories: IntArray
    person_weights: FloatArray
    person_pointer: IntArray

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_triples(
        cls,
        person_indices: npt.ArrayLike,
        item_indices: npt.ArrayLike,
        scores: npt.ArrayLike,
        *,
        n_persons: int | None = None,
        n_items: int | None = None,
        n_categories: npt.ArrayLike | None = None,
        person_weights: npt.ArrayLike | None = None,
    ) -> ResponseData:
        """Build from COO triples (one row per observed response).

        Parameters
        ----------
        person_indices, item_indices, scores : int arrays, shape (n_responses,)
        n_persons, n_items : int, optional
            Default: one more than the largest index.
        n_categories : int or int array, shape (n_items,), optional
            Default: largest observed score + 1 per item, at least 2.
        person_weights : array, shape (n_persons,), optional
        """
        persons = _as_index_array(person_indices, "person_indices")
        items = _as_index_array(item_indices, "item_indices")
        raw_scores = np.asarray(scores)
        if raw_scores.ndim != 1:
            raise InvalidInputError("scores must be a 1-D array")
        if not (persons.size == items.size == raw_scores.size):
            raise InvalidInputError(
                "person_indices, item_indices and scores must have the same length "
                f"(got {persons.size}, {items.size}, {raw_scores.size})"
            )
        if raw_scores.size and (
            not np.all(np.isfinite(raw_scores.astype(np.float64)))
            or np.any(raw_scores.astype(np.float64) != np.round(raw_scores.astype(np.float64)))
        ):
            raise InvalidInputError("scores must be whole numbers (category indices 0, 1, ...)")
        score_arr = raw_scores.astype(np.int64)
        if score_arr.size and score_arr.min() < 0:
            bad = int(np.flatnonzero(score_arr < 0)[0])
            raise InvalidInputError(f"scores must be >= 0; row {bad} has {score_arr[bad]}")
        n_p = int(persons.max() + 1) if n_persons is None and persons.size else int(n_persons or 0)
        n_i = int(items.max() + 1) if n_items is None and items.size else int(n_items or 0)
        if persons.size and persons.max() >= n_p:
            raise InvalidInputError(f"person index {persons.max()} >= n_persons={n_p}")
        if items.size and items.max() >= n_i:
            raise InvalidInputError(f"item index {items.max()} >= n_items={n_i}")

        order = np.lexsort((items, persons))
        persons, items, score_arr = persons[order], items[order], score_arr[order]
        if persons.size > 1:
            dup = (np.diff(persons) == 0) & (np.diff(items) == 0)
            if dup.any():
                k = int(np.flatnonzero(dup)[0])
                raise InvalidInputError(f"person {persons[k]} has two responses to item {items[k]}")

        observed_max = np.full(n_i, -1, dtype=np.int64)
        if items.size:
            np.maximum.at(observed_max, items, score_arr)  # one pass at build time only
        if n_categories is None:
            cats = np.maximum(observed_max + 1, 2)
        else:
            cats = np.broadcast_to(np.asarray(n_categories, dtype=np.int64), (n_i,)).copy()
            if np.any(cats < 2):
                raise InvalidInputError("n_categories must be >= 2 for every item")
            too_high = np.flatnonzero(observed_max >= cats)
            if too_high.size:
                j = int(too_high[0])
                raise InvalidInputError(
                    f"item {j} has score {observed_max[j]} but n_categories={cats[j]}"
                )
        if person_weights is None:
            weights = np.ones(n_p)
        else:
            weights = np.asarray(person_weights, dtype=np.float64)
            if weights.shape != (n_p,) or np.any(~np.isfinite(weights)) or np.any(weights < 0):
                raise InvalidInputError(
                    f"person_weights must be finite, >= 0 and of shape ({n_p},)"
                )
        pointer = np.zeros(n_p + 1, dtype=np.int64)
        np.cumsum(np.bincount(persons, minlength=n_p), out=pointer[1:])
        return cls(persons, items, score_arr, n_p, n_i, cats, weights, pointer)

    @classmethod
    def from_dense(
        cls,
        matrix: npt.ArrayLike,
        *,
        missing: npt.ArrayLike | None = None,
        n_categories: npt.ArrayLike | None = None,
        person_weights: npt.ArrayLike | None = None,
    ) -> ResponseData:
        """Build from a dense (n_persons, n_items) score matrix.

        Missing responses are NaN entries, or the True entries of ``missing`` (same shape).
        """
        x = np.asarray(matrix, dtype=np.float64)
        if x.ndim != 2:
            raise InvalidInputError("matrix must be 2-D (n_persons, n_items)")
        observed = ~np.isnan(x)
        if missing is not None:
            miss = np.asarray(missing, dtype=bool)
            if miss.shape != x.shape:
                raise InvalidInputError("missing must have the shape of matrix")
            observed &= ~miss
        persons, items = np.nonzero(observed)
        return cls.from_triples(
            persons,
            items,
            x[persons, items],
            n_persons=x.shape[0],
            n_items=x.shape[1],
            n_categories=n_categories,
            person_weights=person_weights,
        )

    @classmethod
    def from_patterns(
        cls,
        patterns: npt.ArrayLike,
        counts: npt.ArrayLike,
        *,
        n_categories: npt.ArrayLike | None = None,
    ) -> ResponseData:
        """Build from distinct response patterns (rows, NaN = missing) and their frequencies.

        Each pattern becomes one weighted person; likelihoods are unchanged (the
        log-likelihood of tabulated data is the count-weighted sum over patterns).
        """
        return cls.from_dense(patterns, n_categories=n_categories, person_weights=counts)

    # ------------------------------------------------------------------ views
    @property
    def n_responses(self) -> int:
        return int(self.scores.size)

    @property
    def category_offsets(self) -> IntArray:
        """Start of each item's block in the flat (item, category) index, shape (n_items + 1,)."""
        offsets = np.zeros(self.n_items + 1, dtype=np.int64)
        np.cumsum(self.n_categories, out=offsets[1:])
        return offsets

    @property
    def flat_categories(self) -> IntArray:
        """Flat (item, category) column of every response, shape (n_responses,)."""
        return self.category_offsets[self.item_indices] + self.scores

    def indicator_matrix(self, *, weighted: bool = False) -> sp.csr_matrix:
        """One-hot category indicators, sparse (n_persons, sum_j K_j), one entry per response.

        With ``weighted=True`` each entry holds the person's weight.
        """
        data = self.person_weights[self.person_indices] if weighted else np.ones(self.n_responses)
        n_cols = int(self.n_categories.sum())
        return sp.csr_matrix(
            (data, self.flat_categories, self.person_pointer), shape=(self.n_persons, n_cols)
        )

    def responses_per_item(self) -> IntArray:
        """Number of observed responses of each item, shape (n_items,)."""
        return np.bincount(self.item_indices, minlength=self.n_items)

    def responses_per_person(self) -> IntArray:
        """Number of observed responses of each person, shape (n_persons,)."""
        return np.diff(self.person_pointer)

    def raw_scores(self, points: npt.ArrayLike | None = None) -> FloatArray:
        """Summed score of each person over the items they answered, shape (n_persons,).

        ``points`` (shape (n_items,)) multiplies each item's score (default 1).
        """
        vals = self.scores.astype(np.float64)
        if points is not None:
            vals = vals * np.asarray(points, dtype=np.float64)[self.item_indices]
        return np.bincount(self.person_indices, weights=vals, minlength=self.n_persons)

    def category_counts(self) -> FloatArray:
        """Weighted count of each (item, category), flat shape (sum_j K_j,)."""
        return np.bincount(
            self.flat_categories,
            weights=self.person_weights[self.person_indices],
            minlength=int(self.n_categories.sum()),
        )

    def to_dense(self, *, fill: float = np.nan) -> FloatArray:
        """Dense (n_persons, n_items) float matrix, ``fill`` where not observed."""
        out = np.full((self.n_persons, self.n_items), fill, dtype=np.float64)
        out[self.person_indices, self.item_indices] = self.scores
        return out

    def form_matrix(
        self, items: npt.ArrayLike, *, fill: float = 0.0
    ) -> tuple[IntArray, FloatArray]:
        """Dense scores of the candidates who sat a form, for classical item analysis.

        Parameters
        ----------
        items : int array, shape (n_form_items,)
            The form's items, in form order.
        fill : float
            Score given where a candidate of the form has no response (an omit; 0 by the
            usual scoring rule).

        Returns
        -------
        persons : int array, shape (n_form_persons,)
            Candidates with at least one response to these items.
        scores : array, shape (n_form_persons, n_form_items)
        """
        sub = self.select_items(items)
        persons = np.flatnonzero(sub.responses_per_person() > 0)
        dense = sub.to_dense(fill=fill)[persons]
        return persons, dense

    def select_items(self, items: npt.ArrayLike) -> ResponseData:
        """Responses to the given items only, re-indexed 0..len(items)-1 in the order given.

        Persons are kept (a person may end up with no responses).
        """
        idx = _as_index_array(items, "items")
        if idx.size and idx.max() >= self.n_items:
            raise InvalidInputError(f"item index {idx.max()} >= n_items={self.n_items}")
        new_index = np.full(self.n_items, -1, dtype=np.int64)
        new_index[idx] = np.arange(idx.size)
        keep = new_index[self.item_indices] >= 0
        return ResponseData.from_triples(
            self.person_indices[keep],
            new_index[self.item_indices[keep]],
            self.scores[keep],
            n_persons=self.n_persons,
            n_items=idx.size,
            n_categories=self.n_categories[idx],
            person_weights=self.person_weights,
        )


def _as_index_array(values: npt.ArrayLike, name: str) -> IntArray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be a 1-D array")
    if arr.size == 0:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        as_float = arr.astype(np.float64)
        if not np.all(np.isfinite(as_float)) or np.any(as_float != np.round(as_float)):
            raise InvalidInputError(f"{name} must hold whole numbers")
    out = arr.astype(np.int64)
    if out.min() < 0:
        raise InvalidInputError(f"{name} must be >= 0")
    return out
