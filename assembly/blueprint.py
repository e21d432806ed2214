"""Blueprint (paper specification, 组卷方案): what every paper of one bank and part must meet.

A blueprint is plain data: frozen dataclasses that round-trip through
:func:`blueprint_to_dict` / :func:`blueprint_from_dict` (JSON-safe), so that ``itembank`` can
store and version it. Every rule family of the paper specification has a field:

- item types: count and points per type (附件1 第16条 for which types each level uses);
- element coverage from the element table (认定要素细目表): count or points per scope/element;
- difficulty: mean expert rating, classical p range, difficulty bands;
- IRT: maximin information, or a target information / characteristic curve at chosen thetas;
- parallelism between papers: tolerances on information, characteristic curve, mean rating;
- total estimated time; for practical papers a fixed total time (考核时间) that every paper
  and backup is held to; item sets (always whole) and enemies (never together) come with the
  pool;
- exposure: compromised items always excluded (附件16), recent or over-used items excluded,
  less used items preferred; items included or excluded by hand;
- the largest overlap allowed between any two papers (default 0: disjoint).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

from assembly.errors import InvalidBlueprintError

BLUEPRINT_FORMAT = 1  # version of the dict layout, not of the blueprint
OBJECTIVES = ("none", "maximin", "target_information", "target_tcc")
BASES = ("count", "points")


@dataclass(frozen=True, slots=True)
class TypeRule:
    """``count`` items of ``item_type`` per paper; ``points`` their total, None = any."""

    item_type: str
    count: int
    points: float | None = None


@dataclass(frozen=True, slots=True)
class ElementRule:
    """Coverage of one scope (鉴定范围) or element (鉴定点) per paper.

    An item covers the rule when one of its element codes is ``code`` or lies below it
    (``parent_code`` links the rows into the element table's tree). ``basis`` says whether
    ``min``/``max`` count items or points.
    """

    code: str
    min: float = 0.0
    max: float | None = None
    basis: str = "count"
    parent_code: str | None = None
    importance: str | None = None  # X / Y / Z for elements, None for scopes
    weight: float | None = None  # 鉴定比重, %, kept for the report
    name: str | None = None  # the element table's name, shown beside the code


@dataclass(frozen=True, slots=True)
class DifficultyBand:
    """Between ``min_count`` and ``max_count`` items rated ``rating_min``..``rating_max``."""

    name: str
    rating_min: int
    rating_max: int
    min_count: int = 0
    max_count: int | None = None


@dataclass(frozen=True, slots=True)
class DifficultyRule:
    """Difficulty targets per paper. Every bound is optional (None = not constrained).

    ``item_p_min``/``item_p_max`` restrict which items are eligible (items without a p value
    stay eligible); the means are paper-level rows.
    """

    mean_rating_min: float | None = None
    mean_rating_max: float | None = None
    mean_p_min: float | None = None
    mean_p_max: float | None = None
    item_p_min: float | None = None
    item_p_max: float | None = None
    bands: tuple[DifficultyBand, ...] = ()


@dataclass(frozen=True, slots=True)
class IrtRule:
    """IRT objective at chosen abilities (van der Linden 2005, ch. 5).

    ``objective``:
      - ``"none"``: no IRT objective;
      - ``"maximin"``: maximise y with every paper's information at theta_k >= weights_k * y;
      - ``"target_information"``: minimise the largest |information - target| over papers, thetas;
      - ``"target_tcc"``: the same for the test characteristic curve (expected score).
    Items without IRT parameters are not eligible when an objective is set.
    """

    objective: str = "none"
    thetas: tuple[float, ...] = ()
    targets: tuple[float, ...] = ()
    weights: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class ParallelRule:
    """How far papers may differ from each other (None = not constrained).

    ``information_tolerance``: largest difference between any two papers' information at
    each theta; ``tcc_tolerance``: the same for the expected score; ``mean_rating_tolerance``:
    for the mean expert rating.
    """

    information_tolerance: float | None = None
    tcc_tolerance: float | None = None
    mean_rating_tolerance: float | None = None


@dataclass(frozen=True, slots=True)
class ExposureRule:
    """Exposure control. Compromised items are excluded always (附件16), not configurable.

    ``exclude_recent_sessions``: exclude items used in the last N sessions (0 = off);
    ``max_uses``: exclude items used more than K times (None = off);
    ``usage_weight``: objective penalty per past use of a chosen item (prefer less used).
    """

    exclude_recent_sessions: int = 0
    max_uses: int | None = None
    usage_weight: float = 0.0


@dataclass(frozen=True, slots=True)
class Blueprint:
    """Paper specification for one bank and part; see the module docstring."""

    name: str
    version: int
    item_types: tuple[TypeRule, ...]
    part: str = "theory"
    level: int | None = None
    elements: tuple[ElementRule, ...] = ()
    difficulty: DifficultyRule = field(default_factory=DifficultyRule)
    irt: IrtRule = field(default_factory=IrtRule)
    parallel: ParallelRule = field(default_factory=ParallelRule)
    time_min_s: float | None = None
    time_max_s: float | None = None
    # 考核时间 fixed by the blueprint: every paper's tasks (items) add up to it, within the
    # tolerance; None = each paper's time is the sum of its tasks' times
    time_total_s: float | None = None
    time_total_tolerance_s: float = 0.0
    exposure: ExposureRule = field(default_factory=ExposureRule)
    include_items: tuple[str, ...] = ()
    exclude_items: tuple[str, ...] = ()
    max_overlap: int = 0
    note: str = ""

    @property
    def n_items(self) -> int:
        """Items per paper."""
        return sum(rule.count for rule in self.item_types)

    @property
    def total_points(self) -> float | None:
        """Points per paper when every type fixes its points, else None."""
        if any(rule.points is None for rule in self.item_types):
            return None
        return float(sum(rule.points for rule in self.item_types))  # type: ignore[misc]

    def with_changes(self, **changes: Any) -> "Blueprint":
        """A validated copy with some fields replaced (version is not bumped here)."""
        return validate_blueprint(replace(self, **changes))


# --------------------------------------------------------------------------------------
# Validation


def _fail(path: str, message: str) -> InvalidBlueprintError:
    return InvalidBlueprintError(f"blueprint field {path}: {message}")


def _number(value: Any, path: str, *, allow_none: bool = False, min_value: float | None = None,
            max_value: float | None = None) -> None:
    if value is None:
        if allow_none:
            return
        raise _fail(path, "is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(path, f"must be a finite number, got {value!r}")
    if min_value is not None and value < min_value:
        raise _fail(path, f"must be >= {min_value}, got {value}")
    if max_value is not None and value > max_value:
        raise _fail(path, f"must be <= {max_value}, got {value}")


def _integer(value: Any, path: str, *, allow_none: bool = False, min_value: int = 0) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, f"must be an integer, got {value!r}")
    if value < min_value:
        raise _fail(path, f"must be >= {min_value}, got {value}")


def _range(lo: Any, hi: Any, path_lo: str, path_hi: str) -> None:
    if lo is not None and hi is not None and lo > hi:
        raise _fail(path_lo, f"{lo} is above {path_hi} = {hi}")


def validate_blueprint(bp: Blueprint) -> Blueprint:
    """Check every field; raise :class:`InvalidBlueprintError` naming the first bad field.

    Returns the blueprint unchanged so that it can be used inline.
    """
    if not isinstance(bp.name, str) or not bp.name:
        raise _fail("name", "must be a non-empty string")
    _integer(bp.version, "version", min_value=1)
    _integer(bp.level, "level", allow_none=True, min_value=1)
    if bp.level is not None and bp.level > 5:
        raise _fail("level", f"must be 1..5, got {bp.level}")
    if not bp.item_types:
        raise _fail("item_types", "needs at least one type")
    seen: set[str] = set()
    for k, rule in enumerate(bp.item_types):
        path = f"item_types[{k}]"
        if not isinstance(rule.item_type, str) or not rule.item_type:
            raise _fail(f"{path}.item_type", "must be a non-empty string")
        if rule.item_type in seen:
            raise _fail(f"{path}.item_type", f"type {rule.item_type!r} listed twice")
        seen.add(rule.item_type)
        _integer(rule.count, f"{path}.count", min_value=1)
        _number(rule.points, f"{path}.points", allow_none=True, min_value=0)
    codes: set[str] = set()
    for k, rule in enumerate(bp.elements):
        path = f"elements[{k}] ({rule.code!r})"
        if not isinstance(rule.code, str) or not rule.code:
            raise _fail(f"elements[{k}].code", "must be a non-empty string")
        if rule.code in codes:
            raise _fail(f"{path}.code", "listed twice")
        codes.add(rule.code)
        _number(rule.min, f"{path}.min", min_value=0)
        _number(rule.max, f"{path}.max", allow_none=True, min_value=0)
        _range(rule.min, rule.max, f"{path}.min", f"{path}.max")
        if rule.basis not in BASES:
            raise _fail(f"{path}.basis", f"must be one of {BASES}, got {rule.basis!r}")
        if rule.importance not in (None, "X", "Y", "Z"):
            raise _fail(f"{path}.importance", f"must be X, Y, Z or null, got {rule.importance!r}")
        _number(rule.weight, f"{path}.weight", allow_none=True, min_value=0, max_value=100)
    for k, rule in enumerate(bp.elements):
        if rule.parent_code is not None and rule.parent_code not in codes:
            raise _fail(f"elements[{k}] ({rule.code!r}).parent_code",
                        f"parent {rule.parent_code!r} is not a row of the blueprint")
    # a cycle in parent links would make coverage undefined
    parents = {rule.code: rule.parent_code for rule in bp.elements}
    for code in parents:
        seen_chain = {code}
        parent = parents[code]
        while parent is not None:
            if parent in seen_chain:
                raise _fail("elements", f"parent links of {code!r} form a cycle")
            seen_chain.add(parent)
            parent = parents.get(parent)
    d = bp.difficulty
    for name in ("mean_rating_min", "mean_rating_max"):
        _number(getattr(d, name), f"difficulty.{name}", allow_none=True, min_value=1, max_value=5)
    for name in ("mean_p_min", "mean_p_max", "item_p_min", "item_p_max"):
        _number(getattr(d, name), f"difficulty.{name}", allow_none=True, min_value=0, max_value=1)
    _range(d.mean_rating_min, d.mean_rating_max, "difficulty.mean_rating_min",
           "difficulty.mean_rating_max")
    _range(d.mean_p_min, d.mean_p_max, "difficulty.mean_p_min", "difficulty.mean_p_max")
    _range(d.item_p_min, d.item_p_max, "difficulty.item_p_min", "difficulty.item_p_max")
    band_names: set[str] = set()
    for k, band in enumerate(d.bands):
        path = f"difficulty.bands[{k}] ({band.name!r})"
        if not isinstance(band.name, str) or not band.name or band.name in band_names:
            raise _fail(f"{path}.name", "must be a non-empty, unique string")
        band_names.add(band.name)
        _integer(band.rating_min, f"{path}.rating_min", min_value=1)
        _integer(band.rating_max, f"{path}.rating_max", min_value=1)
        if band.rating_max > 5 or band.rating_min > band.rating_max:
            raise _fail(f"{path}.rating_max", "ratings must satisfy 1 <= rating_min <= rating_max <= 5")
        _integer(band.min_count, f"{path}.min_count")
        _integer(band.max_count, f"{path}.max_count", allow_none=True)
        _range(band.min_count, band.max_count, f"{path}.min_count", f"{path}.max_count")
    irt = bp.irt
    if irt.objective not in OBJECTIVES:
        raise _fail("irt.objective", f"must be one of {OBJECTIVES}, got {irt.objective!r}")
    for k, theta in enumerate(irt.thetas):
        _number(theta, f"irt.thetas[{k}]", min_value=-6, max_value=6)
    if irt.objective != "none" and not irt.thetas:
        raise _fail("irt.thetas", f"objective {irt.objective!r} needs at least one theta")
    if irt.objective in ("target_information", "target_tcc"):
        if len(irt.targets) != len(irt.thetas):
            raise _fail("irt.targets", f"needs one target per theta ({len(irt.thetas)}), "
                                       f"got {len(irt.targets)}")
        for k, target in enumerate(irt.targets):
            _number(target, f"irt.targets[{k}]", min_value=0)
    if irt.weights:
        if len(irt.weights) != len(irt.thetas):
            raise _fail("irt.weights", f"needs one weight per theta ({len(irt.thetas)})")
        for k, weight in enumerate(irt.weights):
            _number(weight, f"irt.weights[{k}]", min_value=1e-6)
    p = bp.parallel
    for name in ("information_tolerance", "tcc_tolerance", "mean_rating_tolerance"):
        _number(getattr(p, name), f"parallel.{name}", allow_none=True, min_value=0)
    if (p.information_tolerance is not None or p.tcc_tolerance is not None) and not irt.thetas:
        raise _fail("parallel", "information/tcc tolerances need irt.thetas")
    _number(bp.time_min_s, "time_min_s", allow_none=True, min_value=0)
    _number(bp.time_max_s, "time_max_s", allow_none=True, min_value=0)
    _range(bp.time_min_s, bp.time_max_s, "time_min_s", "time_max_s")
    _number(bp.time_total_s, "time_total_s", allow_none=True, min_value=0)
    _number(bp.time_total_tolerance_s, "time_total_tolerance_s", min_value=0)
    if bp.time_total_s is not None:
        lo = bp.time_total_s - bp.time_total_tolerance_s
        hi = bp.time_total_s + bp.time_total_tolerance_s
        if bp.time_max_s is not None and bp.time_max_s < lo:
            raise _fail("time_total_s", f"{bp.time_total_s:g} s (within "
                        f"{bp.time_total_tolerance_s:g} s) is above time_max_s = {bp.time_max_s:g}")
        if bp.time_min_s is not None and bp.time_min_s > hi:
            raise _fail("time_total_s", f"{bp.time_total_s:g} s (within "
                        f"{bp.time_total_tolerance_s:g} s) is below time_min_s = {bp.time_min_s:g}")
    e = bp.exposure
    _integer(e.exclude_recent_sessions, "exposure.exclude_recent_sessions")
    _integer(e.max_uses, "exposure.max_uses", allow_none=True)
    _number(e.usage_weight, "exposure.usage_weight", min_value=0)
    for name in ("include_items", "exclude_items"):
        values = getattr(bp, name)
        if not all(isinstance(v, str) and v for v in values):
            raise _fail(name, "must be a list of item ids")
        if len(set(values)) != len(values):
            raise _fail(name, "lists an item twice")
    both = set(bp.include_items) & set(bp.exclude_items)
    if both:
        raise _fail("include_items", f"item {sorted(both)[0]!r} is also in exclude_items")
    _integer(bp.max_overlap, "max_overlap")
    if not isinstance(bp.note, str):
        raise _fail("note", "must be a string")
    return bp


# --------------------------------------------------------------------------------------
# Plain-dict round trip


_NESTED = {
    "difficulty": DifficultyRule,
    "irt": IrtRule,
    "parallel": ParallelRule,
    "exposure": ExposureRule,
}
_LISTS = {"item_types": TypeRule, "elements": ElementRule}


def _plain(obj: Any) -> Any:
    if hasattr(obj, "__dataclass_fields__"):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, tuple):
        return [_plain(v) for v in obj]
    return obj


def blueprint_to_dict(bp: Blueprint) -> dict[str, Any]:
    """JSON-safe dict of the blueprint, with ``"format"`` = the dict layout version."""
    out = _plain(bp)
    out["format"] = BLUEPRINT_FORMAT
    return out


def _build(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        raise _fail(path, f"must be an object, got {type(data).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise _fail(f"{path}.{unknown[0]}" if path else unknown[0], "is not a known field")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        sub = f"{path}.{name}" if path else name
        if name == "bands":
            if not isinstance(value, list):
                raise _fail(sub, "must be a list")
            value = tuple(_build(DifficultyBand, v, f"{sub}[{k}]") for k, v in enumerate(value))
        elif name in ("thetas", "targets", "weights", "include_items", "exclude_items"):
            if not isinstance(value, list):
                raise _fail(sub, "must be a list")
            value = tuple(value)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise _fail(path or "(top level)", str(exc)) from None


def blueprint_from_dict(data: dict[str, Any]) -> Blueprint:
    """Rebuild and validate a blueprint from :func:`blueprint_to_dict` output.

    Raises :class:`InvalidBlueprintError` naming the first bad field (``elements[3].min``).
    """
    if not isinstance(data, dict):
        raise _fail("(top level)", f"must be an object, got {type(data).__name__}")
    data = dict(data)
    fmt = data.pop("format", BLUEPRINT_FORMAT)
    if fmt != BLUEPRINT_FORMAT:
        raise _fail("format", f"unsupported layout {fmt!r}, expected {BLUEPRINT_FORMAT}")
    kwargs: dict[str, Any] = {}
    names = {f.name for f in fields(Blueprint)}
    for name, value in data.items():
        if name not in names:
            raise _fail(name, "is not a known field")
        if name in _NESTED:
            value = _build(_NESTED[name], value, name)
        elif name in _LISTS:
            if not isinstance(value, list):
                raise _fail(name, "must be a list")
            value = tuple(_build(_LISTS[name], v, f"{name}[{k}]") for k, v in enumerate(value))
        elif name in ("include_items", "exclude_items"):
            if not isinstance(value, list):
                raise _fail(name, "must be a list")
            value = tuple(value)
        kwargs[name] = value
    for required in ("name", "version", "item_types"):
        if required not in kwargs:
            raise _fail(required, "is required")
    return validate_blueprint(Blueprint(**kwargs))
