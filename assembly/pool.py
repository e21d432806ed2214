"""The assembly view of an item bank: :class:`PoolItem` rows and the columnar :class:`Pool`.

``itembank`` converts its accepted item versions into :class:`PoolItem` objects; nothing here
knows about the database. The pool is a snapshot: it remembers every item's version so that a
paper can be re-checked later against exactly the items it was assembled from.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from assembly.errors import InvalidPoolError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class PoolItem:
    """One item version as the assembler sees it.

    Attributes
    ----------
    id : item code, unique in the pool.
    item_type : e.g. ``"single_choice"``, ``"true_false"``, ``"practical_task"``.
    points : points of the item in a paper.
    element_codes : codes of the elements (鉴定点) the item measures.
    time_s : estimated answering time in seconds.
    rating : expert difficulty rating, 1 (easiest) .. 5 (hardest).
    p_value : classical facility (proportion correct), None when not yet estimated.
    a, b, c, D : 3PL parameters in the a/b/c form with the logistic constant ``D``
        (``analysis.information``); ``a`` and ``b`` None when the item is not calibrated.
    usage_count : how many sessions used the item so far.
    last_used_session : index of the last session that used it (higher is later), None if never.
    compromised : leaked or otherwise exposed; never eligible (附件16).
    set_id : items sharing a set id (a case with its questions, a task with sub-items) are
        taken whole or not at all.
    version : item version, remembered in the pool snapshot.
    retired : no longer an accepted item of the bank; kept in the pool only because a paper
        in use holds it (its curves and overlaps count), never eligible.
    """

    id: str
    item_type: str
    points: float = 1.0
    element_codes: tuple[str, ...] = ()
    time_s: float = 60.0
    rating: int = 3
    p_value: float | None = None
    a: float | None = None
    b: float | None = None
    c: float = 0.0
    D: float = 1.0
    usage_count: int = 0
    last_used_session: int | None = None
    compromised: bool = False
    set_id: str | None = None
    version: int = 1
    retired: bool = False


def _check_item(item: PoolItem, row: int) -> None:
    where = f"pool item {row} ({item.id!r})"
    if not isinstance(item.id, str) or not item.id:
        raise InvalidPoolError(f"pool item {row}: id must be a non-empty string")
    if not isinstance(item.item_type, str) or not item.item_type:
        raise InvalidPoolError(f"{where}: item_type must be a non-empty string")
    for name in ("points", "time_s", "c", "D"):
        value = getattr(item, name)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidPoolError(f"{where}: {name} must be a finite number, got {value!r}")
    if item.points <= 0:
        raise InvalidPoolError(f"{where}: points must be positive, got {item.points}")
    if item.time_s < 0:
        raise InvalidPoolError(f"{where}: time_s must be >= 0, got {item.time_s}")
    if not isinstance(item.rating, (int, np.integer)) or not 1 <= item.rating <= 5:
        raise InvalidPoolError(f"{where}: rating must be an integer 1..5, got {item.rating!r}")
    if item.p_value is not None and not 0.0 <= item.p_value <= 1.0:
        raise InvalidPoolError(f"{where}: p_value must be in [0, 1], got {item.p_value}")
    if (item.a is None) != (item.b is None):
        raise InvalidPoolError(f"{where}: give both a and b, or neither")
    if item.a is not None and not (math.isfinite(item.a) and item.a > 0):
        raise InvalidPoolError(f"{where}: a must be a positive number, got {item.a}")
    if item.b is not None and not math.isfinite(item.b):
        raise InvalidPoolError(f"{where}: b must be finite, got {item.b}")
    if not 0.0 <= item.c < 1.0:
        raise InvalidPoolError(f"{where}: c must be in [0, 1), got {item.c}")
    if item.D <= 0:
        raise InvalidPoolError(f"{where}: D must be positive, got {item.D}")
    if item.usage_count < 0:
        raise InvalidPoolError(f"{where}: usage_count must be >= 0, got {item.usage_count}")
    if not isinstance(item.element_codes, tuple) or not all(
        isinstance(code, str) and code for code in item.element_codes
    ):
        raise InvalidPoolError(f"{where}: element_codes must be a tuple of non-empty strings")


@dataclass(frozen=True)
class Pool:
    """Columnar snapshot of the eligible-to-consider items of one bank and part.

    Build it with :meth:`Pool.from_items`. Arrays all have shape ``(n_items,)``; ``a``, ``b``
    and ``p_values`` hold NaN where the item has no estimate; ``last_used_sessions`` holds -1
    for never used; ``set_indices`` holds -1 for items outside any set.

    ``current_session`` is the index of the session the papers are assembled for; exposure rules
    ("not used in the last N sessions") count back from it. ``enemy_pairs`` has shape
    ``(n_pairs, 2)`` of item indices, each pair once with the smaller index first.
    """

    items: tuple[PoolItem, ...]
    ids: tuple[str, ...]
    index: dict[str, int]
    item_types: tuple[str, ...]
    points: FloatArray
    times: FloatArray
    ratings: FloatArray
    p_values: FloatArray
    a: FloatArray
    b: FloatArray
    c: FloatArray
    D: FloatArray
    usage_counts: IntArray
    last_used_sessions: IntArray
    compromised: BoolArray
    set_ids: tuple[str, ...]
    set_indices: IntArray
    enemy_pairs: IntArray
    current_session: int
    ignored_enemies: tuple[tuple[str, str], ...] = field(default=())

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def calibrated(self) -> BoolArray:
        """Items with IRT parameters, shape (n_items,)."""
        return ~(np.isnan(self.a) | np.isnan(self.b))

    @classmethod
    def from_items(
        cls,
        items: Sequence[PoolItem],
        *,
        enemies: Iterable[tuple[str, str]] = (),
        current_session: int | None = None,
    ) -> "Pool":
        """Validate the items and build the columnar pool.

        Enemy pairs naming an item not in the pool (e.g. a retired item) are kept aside in
        ``ignored_enemies``: they cannot constrain a paper drawn from this pool.
        ``current_session`` defaults to one after the latest session any item was used in.
        """
        items = tuple(items)
        index: dict[str, int] = {}
        for row, item in enumerate(items):
            if not isinstance(item, PoolItem):
                raise InvalidPoolError(f"pool item {row}: expected PoolItem, got {type(item)!r}")
            _check_item(item, row)
            if item.id in index:
                raise InvalidPoolError(f"pool item {row}: duplicate id {item.id!r}")
            index[item.id] = row
        pairs: set[tuple[int, int]] = set()
        ignored: list[tuple[str, str]] = []
        for pair in enemies:
            if len(pair) != 2:
                raise InvalidPoolError(f"enemy pair {pair!r}: expected two item ids")
            first, second = pair
            if first == second:
                raise InvalidPoolError(f"enemy pair {pair!r}: an item cannot be its own enemy")
            if first not in index or second not in index:
                ignored.append((first, second))
                continue
            i, j = sorted((index[first], index[second]))
            pairs.add((i, j))
        set_names = sorted({item.set_id for item in items if item.set_id is not None})
        set_pos = {name: k for k, name in enumerate(set_names)}
        last = [(-1 if item.last_used_session is None else item.last_used_session) for item in items]
        if current_session is None:
            current_session = (max(last) + 1) if last else 0

        def floats(values: Iterable[float | None]) -> FloatArray:
            return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)

        return cls(
            items=items,
            ids=tuple(item.id for item in items),
            index=index,
            item_types=tuple(item.item_type for item in items),
            points=floats(item.points for item in items),
            times=floats(item.time_s for item in items),
            ratings=floats(item.rating for item in items),
            p_values=floats(item.p_value for item in items),
            a=floats(item.a for item in items),
            b=floats(item.b for item in items),
            c=floats(item.c for item in items),
            D=floats(item.D for item in items),
            usage_counts=np.array([item.usage_count for item in items], dtype=np.int64),
            last_used_sessions=np.array(last, dtype=np.int64),
            compromised=np.array([item.compromised for item in items], dtype=bool),
            set_ids=tuple(set_names),
            set_indices=np.array(
                [(-1 if item.set_id is None else set_pos[item.set_id]) for item in items],
                dtype=np.int64,
            ),
            enemy_pairs=np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2),
            current_session=int(current_session),
            ignored_enemies=tuple(ignored),
        )

    def snapshot(self) -> tuple[tuple[str, int], ...]:
        """(item id, version) of every item, in pool order: what a paper was drawn from."""
        return tuple((item.id, item.version) for item in self.items)

    def fingerprint(self) -> str:
        """SHA-256 over every field of every item, the enemy pairs and the current session.

        Two pools with the same fingerprint give the same papers for the same blueprint and
        seed; a stored paper keeps it to show which bank state it came from.
        """
        digest = hashlib.sha256()
        for item in self.items:
            row = [
                item.id, item.version, item.item_type, item.points, list(item.element_codes),
                item.time_s, item.rating, item.p_value, item.a, item.b, item.c, item.D,
                item.usage_count, item.last_used_session, item.compromised, item.set_id,
            ]
            if item.retired:  # appended only when set: earlier fingerprints stay the same
                row.append("retired")
            digest.update(json.dumps(row, ensure_ascii=False).encode())
        digest.update(json.dumps(self.enemy_pairs.tolist()).encode())
        digest.update(str(self.current_session).encode())
        return digest.hexdigest()
