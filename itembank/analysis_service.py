"""Feedback of item analyses into the bank (附件1 第15条: 试题使用情况要记录，结果反馈用于题库维护).

``analyse_session`` loads the scored responses of an exam session (or of named papers),
runs classical item analysis per paper and an IRT calibration across papers with
:mod:`analysis`, and stores, in one transaction:

* a ``calibrations`` row: bank, part, date, actor, model, estimation method, ``D``, the data
  used (sessions, papers, persons, responses), the outcome (status, convergence), quadrature,
  population mean/SD, anchors, notes;
* one ``item_statistics`` row per item version analysed (the history; never updated);
* the current statistics on ``item_versions`` (``itembank.items.set_version_statistics``),
  which ``load_pool`` and assembly read;
* a ledger entry (``analysis.calibrate``).

Model and method. A bank whose calibrated items are on a Rasch scale (their stored model is
rasch, 1pl or pcm) is analysed with the Rasch model (0/1 items) and the partial credit model
(rubric-scored items) by conditional maximum likelihood (CML; :mod:`analysis.cml`, as eRm
does), unless the caller names another model or method; any other bank with the 2PL / GPCM by
marginal maximum likelihood (MML-EM). When CML cannot link the papers (forms sharing no
items), the Rasch model is estimated by MML instead and the notes say so.

Parameterisation (stored with every result): a/b/c form with the logistic constant ``D``
(1.0 logistic metric by default, 1.702 normal-ogive metric);
P(X=1) = c + (1 - c) / (1 + exp(-D a (theta - b))); c = 0 except 3PL; rasch/1pl/pcm have a = 1.
Rubric-scored items use GPCM (Muraki, 1992), GRM (Samejima, 1969) or PCM with thresholds b_k;
see ``analysis/parameters.py``.

Linking. When items of the data already carry IRT parameters from an earlier calibration
recorded here (``calibration_id`` set), they are held fixed as anchors (MML: the population
mean and SD are estimated, Kim 2006; CML: the anchors fix the origin), so new items land on
the bank's scale. Otherwise (or with ``anchor="none"``, or fewer than ``ReviewRules.min_anchors``
anchors) the scale is set by this sample (MML: theta ~ N(0, 1), or N(0, sigma^2) for the
Rasch family; CML: the mean item difficulty is 0). Parameters estimated from this same data (a
re-analysis) are re-estimated rather than anchored on themselves.

Minimum data. Items with fewer than ``ReviewRules.min_responses`` responses, or with one
observed score only, get classical statistics and no IRT estimate; the report and the
stored flags say so. A calibration whose data do not identify the model (status
``not_identified``) or that did not converge keeps its estimates in the history only.

Review flags (thresholds changeable, ``CttThresholds`` and ``ReviewRules``): facility outside
[p_min, p_max], corrected item-total r below r_min, discrimination index below
discrimination_min (negative by default), a distractor chosen by significantly more of the
upper group than the key, a suspected miskey (a negative IRT slope, or a negative item-rest
correlation, reported with the classical statistics), large IRT standard errors, a weak IRT
slope, a difficulty far outside the ability range, a degenerate estimate (slope near 0), and
item misfit by infit/outfit mean-squares and their standardised values (Wright & Masters,
1982) at the candidates' ML abilities. Reasons are stored as messages of the catalog (shown in
the reader's language) naming the item code and version.

Only sittings whose every response is scored are used; sittings whose paper was voided or
whose score was cancelled for a violation (附件14) are left out. Both are counted in the
notes.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Text as SqlText
from sqlalchemy import cast, func, insert, select
from sqlalchemy.orm import Session

from analysis import (
    AnalysisError,
    CalibrationResult,
    CttThresholds,
    ItemParameters,
    ResponseData,
    analyse_distractors,
    analyse_form,
    calibrate,
    item_fit,
)
from analysis.errors import with_items
from itembank import ledger
from itembank.domain import BankRef, ClassicalStats, IrtModel, IrtParams, ItemType, Part, VersionState
from itembank.errors import NotFoundError, ValidationError
from itembank.i18n import FieldMessage, Message, N_, Text
from itembank.items import set_version_statistics
from itembank.occupations import get_bank_by_id
from itembank.orm import ItemRecord, ItemVersionRecord
from itembank.orm_analysis import CalibrationRecord, ItemStatisticsRecord
from itembank.orm_lifecycle import ExamSessionRecord, PartResultRecord, ResponseRecord

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DICHOTOMOUS_MODELS = ("rasch", "1pl", "2pl", "3pl")
POLYTOMOUS_MODELS = ("gpcm", "grm", "pcm")
RASCH_FAMILY = frozenset({"rasch", "1pl", "pcm"})
METHODS = ("mml", "cml")
ANCHOR_MODES = ("existing", "none")

# Flag words stored in item_statistics.flags
FLAG_TOO_HARD = "too_hard"
FLAG_TOO_EASY = "too_easy"
FLAG_LOW_CORRECTED_R = "low_corrected_correlation"
FLAG_NEGATIVE_DISCRIMINATION = "negative_discrimination"
FLAG_LOW_DISCRIMINATION = "low_discrimination"
FLAG_ALPHA_RISES = "alpha_rises_if_deleted"
FLAG_DISTRACTOR = "distractor_attracts_high_scorers"
FLAG_MISKEY = "suspected_miskey"
FLAG_FEW_RESPONSES = "too_few_responses_for_irt"
FLAG_NO_VARIATION = "no_score_variation"
FLAG_LARGE_SE = "large_irt_standard_error"
FLAG_LOW_SLOPE = "low_irt_discrimination"
FLAG_EXTREME_B = "extreme_irt_difficulty"
FLAG_MISFIT = "item_misfit"
FLAG_DEGENERATE = "degenerate_irt_estimate"
# Stated in the report but not by themselves a reason to review the item's content
INFORMATION_FLAGS = frozenset({FLAG_FEW_RESPONSES})

FIT_STATISTICS = {"infit": N_("weighted fit (infit)"), "outfit": N_("unweighted fit (outfit)")}


def model_name(code: str | None) -> str:
    """``2pl`` -> 2PL, ``rasch`` -> Rasch (:attr:`IrtModel.title`); an unknown code as it is."""
    try:
        return IrtModel(str(code)).title
    except ValueError:
        return str(code or "—")

# What each flag word says to a reader (the catalog's words; pages render them with ``|text``)
FLAG_LABELS: dict[str, Message] = {
    FLAG_TOO_HARD: Message(N_("too hard")),
    FLAG_TOO_EASY: Message(N_("too easy")),
    FLAG_LOW_CORRECTED_R: Message(N_("low corrected item-total correlation")),
    FLAG_NEGATIVE_DISCRIMINATION: Message(N_("negative discrimination")),
    FLAG_LOW_DISCRIMINATION: Message(N_("low discrimination")),
    FLAG_ALPHA_RISES: Message(N_("alpha rises without it")),
    FLAG_DISTRACTOR: Message(N_("distractor attracts high scorers")),
    FLAG_MISKEY: Message(N_("suspected miskey")),
    FLAG_FEW_RESPONSES: Message(N_("too few responses for IRT (classical statistics only)")),
    FLAG_NO_VARIATION: Message(N_("no score variation")),
    FLAG_LARGE_SE: Message(N_("large IRT standard error")),
    FLAG_LOW_SLOPE: Message(N_("low IRT discrimination")),
    FLAG_EXTREME_B: Message(N_("extreme IRT difficulty")),
    FLAG_MISFIT: Message(N_("misfit (infit/outfit)")),
    FLAG_DEGENERATE: Message(N_("degenerate IRT estimate")),
}


def flag_label(word: str) -> Text:
    """The reader's words for a stored flag word (the word itself when unknown)."""
    return FLAG_LABELS.get(word, word)


PARAMETERISATION = (
    "a/b/c form with logistic constant D: P(X=1) = c + (1-c) / (1 + exp(-D a (theta - b))), "
    "c = 0 except 3PL; rasch/1pl/pcm: a = 1; GRM P(X>=k) = 1/(1+exp(-D a (theta - b_k))); "
    "GPCM P(X=k) ~ exp(sum_{v<=k} D a (theta - b_v)); thresholds b_k, b = mean of the thresholds "
    "for rubric-scored items; item scores grouped into the categories of score_categories; "
    "method mml: marginal ML over a normal population; cml: conditional ML given the raw scores "
    "(Rasch family), difficulties centred unless anchored"
)


@dataclass(frozen=True, slots=True)
class ReviewRules:
    """Minimum-data rules and review thresholds beyond ``CttThresholds``, changeable.

    Attributes
    ----------
    min_responses : int
        Items with fewer responses get classical statistics only.
    min_anchors : int
        Fewer anchors than this and the scale is set by the sample instead (a handful of
        anchors carries their own estimation error into every new item).
    max_categories : int
        Rubric scores are grouped into at most this many IRT categories (equal-width bands
        of the item's points; empty bands merged into the band below).
    distractor_z : float
        A wrong option is flagged when the upper group chose it more often than the key by
        more than this many standard errors (one-sided z test on the two multinomial shares:
        var(u_o - u_k) = (u_o + u_k - (u_o - u_k)^2) / n_upper; 1.645 = 5 %). Without it,
        guessing on a hard item (every option near 25 % in the upper group) trips the flag.
    max_se_a, max_se_b : float
        Standard errors above these are flagged (``max_se_b`` also applies to thresholds).
    min_slope : float
        D x a below this (the slope on the logistic metric) is flagged as weak.
    max_abs_b : float
        |b| above this is flagged: the item measures outside the candidates' range.
    degenerate_slope : float
        |D x a| below this is a degenerate estimate (the difficulty is not determined): kept
        in the history, not put on the version.
    fit_statistics : bool
        Compute infit/outfit (at the candidates' ML abilities) and flag misfit.
    max_mean_square, min_mean_square : float
        Misfit when an infit or outfit mean-square is above ``max_mean_square`` (noise: e.g.
        a wrong key, guessing) or below ``min_mean_square`` (too predictable: e.g. an item
        that depends on another) ...
    max_fit_t : float
        ... and its standardised value is beyond this in the same direction (with many
        candidates a tiny deviation is significant, so both conditions must hold; Wright &
        Linacre, 1994).
    """

    min_responses: int = 100
    min_anchors: int = 5
    max_categories: int = 6
    distractor_z: float = 1.645
    max_se_a: float = 0.5
    max_se_b: float = 0.5
    min_slope: float = 0.3
    max_abs_b: float = 4.0
    degenerate_slope: float = 0.05
    fit_statistics: bool = True
    max_mean_square: float = 1.3
    min_mean_square: float = 0.7
    max_fit_t: float = 2.0


# --------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class FormSummary:
    """Classical statistics of one paper (form): total scores of the candidates who sat it.

    ``alpha`` is Cronbach's alpha with pairwise handling of missing answers; ``std_alpha``
    and ``g6`` (Guttman's lambda-6) as psych::alpha reports them."""

    paper_code: str
    n_persons: int
    n_items: int
    max_possible: float
    mean: float | None
    sd: float | None
    alpha: float | None
    sem: float | None
    min_score: float | None
    max_score: float | None
    note: Text = ""
    std_alpha: float | None = None
    g6: float | None = None
    n_missing: int = 0


@dataclass(frozen=True, slots=True)
class Convergence:
    converged: bool
    n_iterations: int
    log_likelihood: float | None
    max_change: float | None
    se_method: str
    message: Text = ""
    method: str = "mml"
    status: str = "converged"


@dataclass(frozen=True, slots=True)
class ItemAnalysis:
    """Statistics of one item version in one calibration (a stored ``item_statistics`` row).

    ``reasons`` are messages "{ref}: {reason}" in the reader's language; ``fit`` holds the
    infit/outfit statistics (mean-squares and standardised) when they were computed."""

    version_id: int
    item_id: int
    code: str
    version: int
    item_type: str
    paper_codes: tuple[str, ...]
    n: int
    max_points: float
    mean_score: float | None
    p_value: float | None
    point_biserial: float | None
    corrected_r: float | None
    discrimination_index: float | None
    alpha_if_deleted: float | None
    irt_role: str  # estimated | anchor | none
    model: str | None = None
    D: float | None = None
    a: float | None = None
    b: float | None = None
    c: float | None = None
    se_a: float | None = None
    se_b: float | None = None
    se_c: float | None = None
    thresholds: tuple[float, ...] | None = None
    se_thresholds: tuple[float | None, ...] | None = None
    score_categories: tuple[float, ...] | None = None
    fit: dict[str, Any] | None = None
    distractors: dict[str, Any] | None = None
    flags: tuple[str, ...] = ()
    reasons: tuple[Message, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def needs_review(self) -> bool:
        return any(f not in INFORMATION_FLAGS for f in self.flags)

    def reason_texts(self) -> list[str]:
        """The reasons rendered in the current locale."""
        return [str(r) for r in self.reasons]


@dataclass(frozen=True, slots=True)
class CalibrationInfo:
    """A stored ``calibrations`` row."""

    id: int
    bank_id: int
    bank_label: str
    part: Part
    created_at: datetime
    actor: str
    model: str
    polytomous_model: str
    D: float
    parameterisation: str
    session_codes: tuple[str, ...]
    paper_codes: tuple[str, ...]
    n_persons: int
    n_responses: int
    n_items: int
    n_items_irt: int
    anchor_mode: str
    scale: str  # bank | sample | none
    n_anchors: int
    anchors: tuple[tuple[int, int], ...]  # (version id, calibration id that estimated it)
    convergence: Convergence | None
    quadrature: dict[str, Any]
    population_mean: float | None
    population_sd: float | None
    forms: tuple[FormSummary, ...]
    settings: dict[str, Any]
    notes: tuple[Text, ...]
    method: str = "mml"
    status: str | None = None  # converged | not_converged | not_identified; None: no IRT


def _plain(value: Any) -> Any:
    """JSON-ready: messages rendered in the current locale, dataclasses and tuples unpacked."""
    if isinstance(value, Message):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Part):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    return value


@dataclass(frozen=True, slots=True)
class AnalysisReport:
    """What ``analyse_session`` stored (also rebuilt by ``get_calibration``)."""

    calibration: CalibrationInfo
    items: tuple[ItemAnalysis, ...]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def needing_review(self) -> tuple[ItemAnalysis, ...]:
        return tuple(it for it in self.items if it.needs_review)

    @property
    def ctt_only(self) -> tuple[ItemAnalysis, ...]:
        """Items with too few responses for IRT (classical statistics only)."""
        return tuple(it for it in self.items if FLAG_FEW_RESPONSES in it.flags)

    def item(self, code: str) -> ItemAnalysis:
        for it in self.items:
            if it.code == code:
                return it
        raise KeyError(code)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, texts in the current locale."""
        out = _plain(self)
        out["needing_review"] = [
            {"code": it.code, "version": it.version, "flags": list(it.flags), "reasons": it.reason_texts()}
            for it in self.needing_review
        ]
        return out


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One calibration of one version of an item (``calibration_history``)."""

    calibration_id: int
    created_at: datetime
    actor: str
    session_codes: tuple[str, ...]
    paper_codes: tuple[str, ...]
    scale: str
    converged: bool | None
    current: bool  # these IRT parameters are the ones on the version now
    stats: ItemAnalysis
    method: str = "mml"

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """An eligible item version whose latest analysis flagged it (``items_needing_review``),
    with the statistics behind the flags: classical (facility, corrected r, discrimination
    index), IRT slope, and infit/outfit (``fit``)."""

    code: str
    version: int
    version_id: int
    item_type: str
    part: Part
    calibration_id: int
    analysed_at: datetime
    flags: tuple[str, ...]
    reasons: tuple[Message, ...]
    p_value: float | None = None
    corrected_r: float | None = None
    discrimination_index: float | None = None
    a: float | None = None
    fit: dict[str, Any] | None = None

    @property
    def suspected_miskey(self) -> bool:
        return FLAG_MISKEY in self.flags

    @property
    def misfit(self) -> bool:
        return FLAG_MISFIT in self.flags

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


# --------------------------------------------------------------------------------------
# Internal data holders


@dataclass
class _Scope:
    bank: BankRef
    part: Part
    session_ids: list[int]
    session_codes: list[str]
    paper_codes: list[str] | None  # None: every paper of the sessions


@dataclass
class _Version:
    id: int
    item_id: int
    code: str
    version_no: int
    item_type: ItemType
    options: list[str]
    key: list[str]
    points: float
    bank_id: int
    part: Part
    irt: dict[str, Any] | None  # stored parameters (for anchors)


@dataclass
class _Data:
    """Responses kept for the analysis, one row each (n_rows,), indices compact."""

    persons: IntArray
    items: IntArray
    papers: IntArray
    scores: FloatArray
    responses: Sequence[str | None]  # raw JSON text of each answer
    version_ids: IntArray  # (n_items,)
    max_points: FloatArray  # (n_items,)
    paper_codes: list[str]  # (n_papers,)
    session_ids: list[int]  # sessions that contributed
    n_persons: int
    n_unscored_sittings: int
    n_voided_sittings: int


@dataclass
class _Ctt:
    n: int = 0
    papers: list[str] = field(default_factory=list)
    parts: list[tuple[int, float, float, float, float, float, float]] = field(default_factory=list)
    # (n, mean score, facility, r_it, r_rest, disc, alpha_if_deleted)
    distractor_parts: list[tuple[int, Any, int]] = field(default_factory=list)
    form_flags: set[str] = field(default_factory=set)  # analysis.ctt flags on any paper


# --------------------------------------------------------------------------------------
# The service


def analyse_session(
    session: Session,
    *,
    session_code: str | None = None,
    paper_codes: Sequence[str] | None = None,
    model: str | None = None,
    polytomous_model: str | None = None,
    method: str | None = None,
    D: float = 1.0,
    anchor: str = "existing",
    thresholds: CttThresholds | None = None,
    rules: ReviewRules | None = None,
    actor: str,
    note: str = "",
) -> AnalysisReport:
    """Analyse the recorded responses of a session (or of papers) and store the results.

    Parameters
    ----------
    session : Session
        The caller owns the transaction; this function flushes and never commits. On any
        error nothing has been written (everything is validated and computed first).
    session_code : str, optional
        Exam session whose responses are analysed (every paper of it). Give this or
        ``paper_codes``.
    paper_codes : sequence of str, optional
        Papers whose responses are analysed (across sessions); within ``session_code`` when
        both are given.
    model : {"2pl", "3pl", "rasch", "1pl"}, optional
        IRT model of items scored 0/1 (3PL with a Beta(5, 17) prior on c). Default: rasch
        when the bank's calibrated items are on a Rasch scale, else 2pl.
    polytomous_model : {"gpcm", "grm", "pcm"}, optional
        Model of rubric-scored items (scores grouped into ``ReviewRules.max_categories``).
        Default: pcm with a Rasch model, else gpcm.
    method : {"mml", "cml"}, optional
        Estimation method. Default: cml for the Rasch family (rasch/1pl with pcm), mml
        otherwise; cml is refused for other models.
    D : float
        Logistic constant of the reported a (1.0 logistic metric; 1.702 normal metric).
        Anchors stored with another D are converted (a' = a D_stored / D).
    anchor : {"existing", "none"}
        ``existing``: items already calibrated here are fixed anchors (bank scale);
        ``none``: free calibration, scale set by this sample.
    thresholds : CttThresholds, optional
        Classical review thresholds (default p < 0.2 or > 0.9, corrected r < 0.2, negative
        discrimination index).
    rules : ReviewRules, optional
        Minimum data and IRT review thresholds.
    actor : str
        Who runs the analysis (ledger, calibration row).
    note : str
        Free text stored with the calibration.

    Returns
    -------
    AnalysisReport

    Raises
    ------
    NotFoundError
        Unknown session or paper codes.
    ValidationError
        Bad arguments, no scored responses, responses to items of another bank, or data the
        calibration cannot use (the message names the item).
    """
    t_start = time.perf_counter()
    th = CttThresholds() if thresholds is None else thresholds
    rules = ReviewRules() if rules is None else rules
    model = None if model is None else str(model).lower()
    polytomous_model = None if polytomous_model is None else str(polytomous_model).lower()
    method = None if method is None else str(method).lower()
    _check_arguments(session_code, paper_codes, model, polytomous_model, method, D, anchor, rules, actor)

    scope = _resolve_scope(session, session_code=session_code, paper_codes=paper_codes)
    model, polytomous_model, method, method_defaulted = _choose_model(
        session, scope, model=model, polytomous_model=polytomous_model, method=method)
    data = _load_responses(session, scope)
    versions = _load_versions(session, [int(v) for v in data.version_ids])
    _check_versions(scope, data, versions)
    t_load = time.perf_counter()

    codes = [versions[int(v)].code for v in data.version_ids]
    choices = _chosen_options(data, versions)
    forms, ctt = _classical(data, versions, choices, th)
    t_ctt = time.perf_counter()

    irt = _irt(
        session, data, versions, model=model, polytomous_model=polytomous_model, method=method,
        method_defaulted=method_defaulted, D=D, anchor=anchor, rules=rules, codes=codes,
        sessions=_session_codes_used(scope, data),
    )
    t_cal = time.perf_counter()

    notes: list[Text] = list(irt.notes)
    if data.n_unscored_sittings:
        notes.append(Message(
            "{n} sitting(s) with responses not yet scored by the examiners were left out; analyse again "
            "once scoring is complete", n=data.n_unscored_sittings))
    if data.n_voided_sittings:
        notes.append(Message("{n} sitting(s) voided or with the score cancelled (附件14) were left out",
                             n=data.n_voided_sittings))
    if note.strip():
        notes.append(note.strip())

    items = _item_results(data, versions, ctt, irt, th, rules)
    now = datetime.now(timezone.utc)
    res = irt.result
    cal = CalibrationRecord(
        bank_id=scope.bank.id,
        part=scope.part,
        created_at=now,
        actor=actor,
        model=model,
        polytomous_model=polytomous_model,
        method=irt.method,
        D=float(D),
        parameterisation=PARAMETERISATION,
        session_codes=_session_codes_used(scope, data),
        paper_codes=list(data.paper_codes),
        n_persons=data.n_persons,
        n_responses=int(data.scores.size),
        n_items=int(data.version_ids.size),
        n_items_irt=int(sum(1 for r in irt.roles.values() if r == "estimated")),
        anchor_mode=anchor,
        scale=irt.scale,
        n_anchors=len(irt.anchors),
        anchors=[[vid, cid] for vid, cid in irt.anchors],
        converged=None if res is None else bool(res.converged),
        status=None if res is None else res.status,
        n_iterations=0 if res is None else int(res.n_iterations),
        log_likelihood=None if res is None else _num(res.log_likelihood),
        max_change=None if res is None else _last(res.max_change_history),
        se_method="none" if res is None else res.se_method,
        quadrature=irt.quadrature,
        population_mean=None if res is None else _num(res.population_mean),
        population_sd=None if res is None else _num(res.population_sd),
        forms=[_form_data(f) for f in forms],
        settings={"ctt": asdict(th), "rules": asdict(rules)},
        notes=[_stored(n) for n in notes],
    )
    # -- write: everything above was validated and computed; now one burst of writes ------
    session.add(cal)
    session.flush()
    rows = [_statistics_row(cal.id, it) for it in items]
    if rows:
        session.execute(insert(ItemStatisticsRecord), rows)
    usable = res is not None and res.converged
    set_version_statistics(
        session,
        classical={
            it.version_id: ClassicalStats(p_value=it.p_value, discrimination=it.corrected_r, n=it.n)
            for it in items
        },
        irt={
            it.version_id: _irt_params(it, cal.id)
            for it in items
            if it.irt_role == "estimated" and usable and not ({FLAG_DEGENERATE, FLAG_MISKEY} & set(it.flags))
        },
    )
    n_review = sum(1 for it in items if it.needs_review)
    ledger.append(
        session,
        actor=actor,
        action="analysis.calibrate",
        object_type="calibration",
        object_id=cal.id,
        details={
            "bank": scope.bank.label,
            "part": scope.part.value,
            "sessions": cal.session_codes,
            "papers": cal.paper_codes,
            "model": model,
            "polytomous_model": polytomous_model,
            "method": irt.method,
            "D": float(D),
            "scale": irt.scale,
            "n_anchors": len(irt.anchors),
            "n_persons": data.n_persons,
            "n_responses": int(data.scores.size),
            "n_items": len(items),
            "converged": cal.converged,
            "status": cal.status,
            "n_needing_review": n_review,
        },
    )
    session.flush()
    t_end = time.perf_counter()
    timings = {
        "load": t_load - t_start,
        "ctt": t_ctt - t_load,
        "calibration": t_cal - t_ctt - irt.fit_seconds,
        "fit": irt.fit_seconds,
        "write": t_end - t_cal,
        "total": t_end - t_start,
    }
    log.info(
        "analysis %d of %s: %d persons, %d items, %d needing review; %s",
        cal.id, scope.bank.label, data.n_persons, len(items), n_review,
        ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()),
    )
    return AnalysisReport(_calibration_info(cal, scope.bank), tuple(items), timings)


# --------------------------------------------------------------------------------------
# Reading back


def get_calibration(session: Session, calibration_id: int) -> AnalysisReport:
    """A stored calibration with the statistics of every item version it covered."""
    cal = session.get(CalibrationRecord, calibration_id)
    if cal is None:
        raise NotFoundError(Message("There is no calibration number {id}.", id=calibration_id), field="calibration_id")
    bank = get_bank_by_id(session, cal.bank_id)
    rows = session.execute(
        select(ItemStatisticsRecord, ItemRecord.code, ItemVersionRecord.version_no,
               ItemVersionRecord.item_type)
        .join(ItemVersionRecord, ItemVersionRecord.id == ItemStatisticsRecord.item_version_id)
        .join(ItemRecord, ItemRecord.id == ItemStatisticsRecord.item_id)
        .where(ItemStatisticsRecord.calibration_id == cal.id)
        .order_by(ItemRecord.code, ItemVersionRecord.version_no)
    ).all()
    items = tuple(_analysis_from_row(r, code, vno, t) for r, code, vno, t in rows)
    return AnalysisReport(_calibration_info(cal, bank), items, {})


def calibration_history(session: Session, *, bank: BankRef, code: str) -> list[HistoryEntry]:
    """Every analysis of every version of item ``code``, oldest first."""
    item = session.scalar(
        select(ItemRecord).where(ItemRecord.bank_id == bank.id, ItemRecord.code == code)
    )
    if item is None:
        raise NotFoundError(Message("{bank} has no item {code}.", bank=bank.label, code=code), field="code")
    rows = session.execute(
        select(ItemStatisticsRecord, CalibrationRecord, ItemVersionRecord.version_no,
               ItemVersionRecord.item_type, ItemVersionRecord.calibration_id)
        .join(CalibrationRecord, CalibrationRecord.id == ItemStatisticsRecord.calibration_id)
        .join(ItemVersionRecord, ItemVersionRecord.id == ItemStatisticsRecord.item_version_id)
        .where(ItemStatisticsRecord.item_id == item.id)
        .order_by(CalibrationRecord.id, ItemVersionRecord.version_no)
    ).all()
    out = []
    for st, cal, vno, itype, current_cal in rows:
        out.append(HistoryEntry(
            calibration_id=cal.id,
            created_at=_aware(cal.created_at),
            actor=cal.actor,
            session_codes=tuple(cal.session_codes or ()),
            paper_codes=tuple(st.paper_codes or ()),
            scale=cal.scale,
            converged=cal.converged,
            current=st.irt_role == "estimated" and current_cal == cal.id,
            stats=_analysis_from_row(st, code, vno, itype),
            method=cal.method,
        ))
    return out


def items_needing_review(
    session: Session, *, bank: BankRef, part: Part | None = None
) -> list[ReviewItem]:
    """Eligible (accepted) item versions whose latest analysis flagged them, by code, with
    the statistics behind the flags (suspected miskeys and misfit among them).

    Only flags that concern the item itself count (``too_few_responses_for_irt`` alone
    does not); the reasons are the stored messages.
    """
    S, V, I = ItemStatisticsRecord, ItemVersionRecord, ItemRecord
    latest = (
        select(S.item_version_id, func.max(S.calibration_id).label("cid"))
        .group_by(S.item_version_id)
        .subquery()
    )
    q = (
        select(S, I.code, V.version_no, V.item_type, I.part, CalibrationRecord.created_at)
        .join(latest, (latest.c.item_version_id == S.item_version_id) & (latest.c.cid == S.calibration_id))
        .join(V, V.id == S.item_version_id)
        .join(I, I.id == V.item_id)
        .join(CalibrationRecord, CalibrationRecord.id == S.calibration_id)
        .where(I.bank_id == bank.id, V.state == VersionState.ACCEPTED)
        .order_by(I.code, V.version_no)
    )
    if part is not None:
        q = q.where(I.part == Part(part))
    out = []
    for st, code, vno, itype, ipart, at in session.execute(q).all():
        flags = tuple(st.flags or ())
        if not any(f not in INFORMATION_FLAGS for f in flags):
            continue
        out.append(ReviewItem(
            code=code, version=vno, version_id=st.item_version_id, item_type=ItemType(itype).value,
            part=Part(ipart), calibration_id=st.calibration_id, analysed_at=_aware(at),
            flags=flags, reasons=tuple(Message.from_data(r) for r in (st.reasons or ())),
            p_value=st.p_value, corrected_r=st.corrected_r, discrimination_index=st.discrimination_index,
            a=st.a if st.irt_role == "estimated" else None, fit=st.fit,
        ))
    return out


# --------------------------------------------------------------------------------------
# Validation and loading


def _check_arguments(session_code, paper_codes, model, polytomous_model, method, D, anchor, rules, actor) -> None:  # type: ignore[no-untyped-def]
    errors: list[Text | FieldMessage] = []
    if session_code is None and not paper_codes:
        errors.append(FieldMessage("session_code", Message("give the exam session or the papers to analyse")))
    if paper_codes is not None and isinstance(paper_codes, str):
        errors.append(FieldMessage("paper_codes", Message("give a list of paper codes, not one text")))
    if model is not None and model not in DICHOTOMOUS_MODELS:
        errors.append(FieldMessage("model", Message("'{value}' is not one of {allowed}", value=str(model),
                                                    allowed=list(DICHOTOMOUS_MODELS))))
    if polytomous_model is not None and polytomous_model not in POLYTOMOUS_MODELS:
        errors.append(FieldMessage("polytomous_model", Message("'{value}' is not one of {allowed}",
                                                               value=str(polytomous_model),
                                                               allowed=list(POLYTOMOUS_MODELS))))
    if method is not None and method not in METHODS:
        errors.append(FieldMessage("method", Message("'{value}' is not one of {allowed}", value=str(method),
                                                     allowed=list(METHODS))))
    elif method == "cml" and ((model is not None and model not in RASCH_FAMILY)
                              or (polytomous_model is not None and polytomous_model not in RASCH_FAMILY)):
        errors.append(FieldMessage("method", Message(
            "conditional ML (cml) exists only for the Rasch family (rasch or 1pl with pcm); use mml for {model}",
            model=[m for m in (model, polytomous_model) if m and m not in RASCH_FAMILY])))
    if not (isinstance(D, (int, float)) and math.isfinite(D) and D > 0):
        errors.append(FieldMessage("D", Message(
            "'{value}' must be a positive number (1.0 for the logistic metric, 1.702 for the normal metric)",
            value=str(D))))
    if anchor not in ANCHOR_MODES:
        errors.append(FieldMessage("anchor", Message("'{value}' is not one of {allowed}", value=str(anchor),
                                                     allowed=list(ANCHOR_MODES))))
    if rules.min_responses < 2 or rules.max_categories < 2 or rules.min_anchors < 1:
        errors.append(FieldMessage("rules", Message(
            "the minimum responses and the maximum categories must be at least 2, the minimum anchors at least 1")))
    if not (actor or "").strip():
        errors.append(FieldMessage("actor", Message("say who runs the analysis (it is recorded in the ledger)")))
    if errors:
        raise ValidationError(Message("The analysis was not run."), errors=errors)


def _choose_model(session: Session, scope: _Scope, *, model: str | None, polytomous_model: str | None,
                  method: str | None) -> tuple[str, str, str, bool]:
    """(model, polytomous model, method, whether the method was chosen here).

    A bank is on a Rasch scale when the accepted item versions of the part that carry IRT
    parameters from a calibration recorded here mostly have a Rasch-family model."""
    if model is None:
        V, I = ItemVersionRecord, ItemRecord
        counts = dict(session.execute(
            select(V.irt_model, func.count())
            .join(I, I.id == V.item_id)
            .where(I.bank_id == scope.bank.id, I.part == scope.part, V.calibration_id.is_not(None),
                   V.irt_model.is_not(None))
            .group_by(V.irt_model)
        ).all())
        rasch = sum(n for m, n in counts.items() if str(getattr(m, "value", m)) in RASCH_FAMILY)
        model = "rasch" if counts and rasch * 2 > sum(counts.values()) else "2pl"
    if polytomous_model is None:
        polytomous_model = "pcm" if model in RASCH_FAMILY else "gpcm"
    defaulted = method is None
    if method is None:
        method = "cml" if model in RASCH_FAMILY and polytomous_model in RASCH_FAMILY else "mml"
    return model, polytomous_model, method, defaulted


def _session_codes_used(scope: _Scope, data: _Data) -> list[str]:
    by_id = dict(zip(scope.session_ids, scope.session_codes))
    return sorted(by_id[s] for s in data.session_ids if s in by_id)


def _resolve_scope(
    session: Session, *, session_code: str | None, paper_codes: Sequence[str] | None
) -> _Scope:
    if session_code is not None:
        srec = session.scalar(select(ExamSessionRecord).where(ExamSessionRecord.code == session_code))
        if srec is None:
            raise NotFoundError(Message("There is no exam session {session}.", session=session_code), field="session_code")
        bank = get_bank_by_id(session, srec.bank_id)
        papers = None
        if paper_codes:
            papers = sorted(set(paper_codes))
            found = set(session.scalars(
                select(ResponseRecord.paper_code).distinct()
                .where(ResponseRecord.session_id == srec.id, ResponseRecord.paper_code.in_(papers))
            ))
            missing = [p for p in papers if p not in found]
            if missing:
                raise NotFoundError(Message("Exam session {session} has no responses on the papers {papers}.",
                                            session=session_code, papers=missing), field="paper_codes")
        return _Scope(bank, Part(srec.part), [srec.id], [srec.code], papers)
    assert paper_codes
    papers = sorted(set(paper_codes))
    rows = session.execute(
        select(ResponseRecord.paper_code, ExamSessionRecord.id, ExamSessionRecord.code,
               ExamSessionRecord.bank_id, ExamSessionRecord.part)
        .join(ExamSessionRecord, ExamSessionRecord.id == ResponseRecord.session_id)
        .where(ResponseRecord.paper_code.in_(papers))
        .distinct()
    ).all()
    found = {r[0] for r in rows}
    missing = [p for p in papers if p not in found]
    if missing:
        raise NotFoundError(Message("No responses are recorded on the papers {papers}.", papers=missing),
                            field="paper_codes")
    banks = {(r[3], r[4]) for r in rows}
    if len(banks) > 1:
        raise ValidationError(Message("The papers {papers} were sat in sessions of different banks or parts; "
                                      "analyse each bank and part separately.", papers=list(papers)),
                              field="paper_codes")
    bank_id, part = banks.pop()
    sessions = sorted({(r[1], r[2]) for r in rows})
    return _Scope(get_bank_by_id(session, bank_id), Part(part), [s[0] for s in sessions],
                  [s[1] for s in sessions], papers)


def _load_responses(session: Session, scope: _Scope) -> _Data:
    """All responses in scope in one Core query; then drop incomplete and voided sittings."""
    R = ResponseRecord
    multi = len(scope.session_ids) > 1
    columns = [R.application_id, R.item_version_id, R.score, R.max_points, R.paper_code,
               cast(R.response, SqlText)]
    if multi:
        columns.append(R.session_id)
    stmt = select(*columns)
    if scope.paper_codes is None or not multi:
        stmt = stmt.where(R.session_id.in_(scope.session_ids))
    if scope.paper_codes is not None:
        stmt = stmt.where(R.paper_code.in_(scope.paper_codes))
    # Compiled by SQLAlchemy for the dialect, fetched straight from the DBAPI cursor: no Row
    # objects or type processing for millions of rows (every column is a plain number or text)
    result = session.connection().execute(stmt)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    where = (Message("exam session {session}", session=scope.session_codes[0]) if scope.paper_codes is None
             else Message("the papers {papers}", papers=list(scope.paper_codes)))
    if not rows:
        raise ValidationError(Message("{where}: no responses are recorded; there is nothing to analyse.",
                                      where=where), field="session_code")
    n = len(rows)

    def column(k: int) -> map:  # map(itemgetter) per column: zip(*rows) is ~10x slower here
        return map(itemgetter(k), rows)

    app_arr = np.fromiter(column(0), dtype=np.int64, count=n)
    vid_arr = np.fromiter(column(1), dtype=np.int64, count=n)
    score_arr = np.array(list(column(2)), dtype=np.float64)  # None (not yet scored) -> NaN
    maxp_arr = np.fromiter(column(3), dtype=np.float64, count=n)
    papers = list(column(4))
    paper_index = {code: i for i, code in enumerate(sorted(set(papers)))}
    paper_arr = np.fromiter(map(paper_index.__getitem__, papers), dtype=np.int64, count=n)
    texts = list(column(5))
    sess_arr = (np.fromiter(column(6), dtype=np.int64, count=n) if multi
                else np.full(n, scope.session_ids[0], dtype=np.int64))
    del rows, papers

    # a sitting is one candidate (application) in one session
    span = int(sess_arr.max()) + 1
    sitting_key = app_arr * span + sess_arr
    keys, person = np.unique(sitting_key, return_inverse=True)
    person = person.ravel()
    n_sittings = keys.size
    drop = np.zeros(n_sittings, dtype=bool)
    unscored = np.zeros(n_sittings, dtype=bool)
    unscored[person[np.isnan(score_arr)]] = True
    drop |= unscored
    voided = np.zeros(n_sittings, dtype=bool)
    bad = session.execute(
        select(PartResultRecord.application_id, PartResultRecord.session_id)
        .where(PartResultRecord.session_id.in_(scope.session_ids),
               PartResultRecord.status.in_(("voided", "cancelled")))
    ).all()
    if bad:
        bad_keys = np.array([a * span + s for a, s in bad if s < span], dtype=np.int64)
        hit = np.isin(keys, bad_keys)
        voided |= hit & ~drop
        drop |= hit
    keep_rows = ~drop[person]
    if not keep_rows.any():
        raise ValidationError(Message(
            "{where}: no candidate has every response scored (and the paper not voided); there is nothing to "
            "analyse.", where=where), field="session_code")
    kept_persons = np.flatnonzero(~drop)
    new_person = np.full(n_sittings, -1, dtype=np.int64)
    new_person[kept_persons] = np.arange(kept_persons.size)
    sel = np.flatnonzero(keep_rows)
    person = new_person[person[sel]]
    vid_arr, score_arr, maxp_arr = vid_arr[sel], score_arr[sel], maxp_arr[sel]
    paper_arr, sess_arr = paper_arr[sel], sess_arr[sel]
    texts_kept = texts if sel.size == n else [texts[i] for i in sel]
    version_ids, item = np.unique(vid_arr, return_inverse=True)
    item = item.ravel()
    max_points = np.zeros(version_ids.size)
    max_points[item] = maxp_arr  # one value per version (its points)
    # papers of the sittings kept, in code order
    codes_by_index = sorted(paper_index, key=paper_index.__getitem__)
    order = np.unique(paper_arr).tolist()
    remap = np.full(len(codes_by_index), -1, dtype=np.int64)
    remap[order] = np.arange(len(order))
    paper_arr = remap[paper_arr]
    # a sitting answers one paper
    first_paper = np.full(kept_persons.size, -1, dtype=np.int64)
    first_paper[person] = paper_arr
    if np.any(first_paper[person] != paper_arr):
        p = int(person[np.flatnonzero(first_paper[person] != paper_arr)[0]])
        raise ValidationError(Message(
            "{where}: application no. {application} has responses on two papers in one exam session; correct the "
            "responses first.", where=where, application=int(keys[kept_persons[p]] // span)), field="session_code")
    return _Data(
        persons=person, items=item, papers=paper_arr, scores=score_arr,
        responses=texts_kept, version_ids=version_ids, max_points=max_points,
        paper_codes=[codes_by_index[i] for i in order],
        session_ids=sorted(set(np.unique(sess_arr).tolist())),
        n_persons=int(kept_persons.size),
        n_unscored_sittings=int(unscored.sum()), n_voided_sittings=int(voided.sum()),
    )


def _load_versions(session: Session, version_ids: list[int]) -> dict[int, _Version]:
    V, I = ItemVersionRecord, ItemRecord
    out: dict[int, _Version] = {}
    for i in range(0, len(version_ids), 900):
        chunk = version_ids[i : i + 900]
        for r in session.connection().execute(
            select(V.id, V.item_id, I.code, V.version_no, V.item_type, V.options, V.key, V.points,
                   I.bank_id, I.part, V.irt_model, V.irt_a, V.irt_b, V.irt_c, V.irt_thresholds,
                   V.irt_D, V.calibration_id)
            .join(I, I.id == V.item_id)
            .where(V.id.in_(chunk))
        ):
            irt = None
            if r.irt_model is not None and r.calibration_id is not None and r.irt_D is not None:
                irt = {"model": r.irt_model, "a": r.irt_a, "b": r.irt_b, "c": r.irt_c,
                       "thresholds": r.irt_thresholds, "D": r.irt_D, "calibration_id": r.calibration_id}
            out[r.id] = _Version(
                id=r.id, item_id=r.item_id, code=r.code, version_no=r.version_no,
                item_type=ItemType(r.item_type), options=[o["label"] for o in (r.options or [])],
                key=list(r.key or []), points=float(r.points), bank_id=r.bank_id, part=Part(r.part),
                irt=irt,
            )
    return out


def _check_versions(scope: _Scope, data: _Data, versions: dict[int, _Version]) -> None:
    errors: list[Text] = []
    for vid in data.version_ids.tolist():
        v = versions[vid]
        if v.bank_id != scope.bank.id:
            errors.append(Message("item {code} version {version} (version id {id}) belongs to another bank",
                                  code=v.code, version=v.version_no, id=vid))
        elif v.part is not scope.part:
            errors.append(Message("item {code} version {version} is a {item_part} item; the data is {part}",
                                  code=v.code, version=v.version_no, item_part=v.part, part=scope.part))
    if errors:
        raise ValidationError(Message("{bank}: there are responses to items outside the bank or part; nothing was "
                                      "analysed.", bank=scope.bank.label), errors=errors)


# --------------------------------------------------------------------------------------
# Classical analysis per paper


def _chosen_options(data: _Data, versions: dict[int, _Version]) -> IntArray:
    """Option index (A = 0, B = 1 ... in the version's option order) chosen in each response
    to a single-choice item; -1 for no or an unreadable answer and for other item types."""
    is_sc = np.array([
        versions[int(vid)].item_type is ItemType.SINGLE_CHOICE and len(versions[int(vid)].key) == 1
        for vid in data.version_ids
    ], dtype=bool)
    out = np.full(data.scores.size, -1, dtype=np.int64)
    rows = np.flatnonzero(is_sc[data.items])
    if not rows.size:
        return out
    # answers are few distinct strings ('["B"]' ...): parse each once
    answers = [data.responses[r] for r in rows.tolist()] if rows.size < data.scores.size \
        else data.responses
    distinct = {text: k for k, text in enumerate(set(answers))}
    codes = np.fromiter(map(distinct.__getitem__, answers), dtype=np.int64, count=rows.size)
    labels: dict[str, int] = {}
    label_of_text = np.full(len(distinct), -1, dtype=np.int64)
    for text, k in distinct.items():
        chosen = _parse_answer(text)
        if len(chosen) == 1:
            label_of_text[k] = labels.setdefault(chosen[0], len(labels))
    if not labels:
        return out
    table = np.full((data.version_ids.size, len(labels)), -1, dtype=np.int64)
    for j in np.flatnonzero(is_sc):
        options = versions[int(data.version_ids[j])].options
        for label, k in labels.items():
            if label in options:
                table[j, k] = options.index(label)
    lab = label_of_text[codes]
    out[rows] = np.where(lab >= 0, table[data.items[rows], np.maximum(lab, 0)], -1)
    return out


def _classical(
    data: _Data, versions: dict[int, _Version], choices: IntArray, th: CttThresholds
) -> tuple[list[FormSummary], dict[int, _Ctt]]:
    """Per paper: ``analysis.analyse_form`` on the dense scores of its candidates (an item
    without a recorded response is missing, not wrong: alpha and the item-total statistics
    use pairwise covariances, as psych::alpha does), and ``analysis.analyse_distractors`` on
    its single-choice items. Items on several papers are pooled afterwards (``_pooled``)."""
    ctt: dict[int, _Ctt] = defaultdict(_Ctt)
    forms: list[FormSummary] = []
    order = np.argsort(data.papers, kind="stable")
    bounds = np.searchsorted(data.papers[order], np.arange(len(data.paper_codes) + 1))
    for p, code in enumerate(data.paper_codes):
        rows = order[bounds[p] : bounds[p + 1]]
        persons, p_local = np.unique(data.persons[rows], return_inverse=True)
        p_local = p_local.ravel()
        # the paper's items (classical statistics do not depend on their order)
        form_items, i_local = np.unique(data.items[rows], return_inverse=True)
        i_local = i_local.ravel()
        scores = np.full((persons.size, form_items.size), np.nan)  # no response recorded: missing
        scores[p_local, i_local] = data.scores[rows]
        maxs = data.max_points[form_items]
        totals = np.nansum(scores, axis=1)
        for j in form_items.tolist():
            ctt[j].papers.append(code)
        if persons.size < 2 or form_items.size < 2:
            forms.append(FormSummary(
                code, int(persons.size), int(form_items.size), float(maxs.sum()),
                _num(totals.mean()), _num(totals.std()), None, None, _num(totals.min()),
                _num(totals.max()),
                note=Message("too few candidates or items for form statistics; item facility only"),
                n_missing=int(np.isnan(scores).sum()),
            ))
            for k, j in enumerate(form_items.tolist()):
                col = scores[:, k]
                mean = float(col[~np.isnan(col)].mean())
                ctt[j].parts.append((int(persons.size), mean, mean / maxs[k], np.nan, np.nan,
                                     np.nan, np.nan))
            continue
        fs = analyse_form(scores, max_scores=maxs, thresholds=th)
        forms.append(FormSummary(
            code, fs.n_persons, fs.n_items, float(maxs.sum()), _num(fs.mean), _num(fs.sd),
            _num(fs.alpha), _num(fs.sem), _num(fs.min_score), _num(fs.max_score),
            std_alpha=_num(fs.std_alpha), g6=_num(fs.g6), n_missing=fs.n_missing,
        ))
        st = fs.items
        for k, j in enumerate(form_items.tolist()):
            ctt[j].parts.append((fs.n_persons, float(st.mean_score[k]), float(st.facility[k]),
                                 float(st.item_total_correlation[k]),
                                 float(st.corrected_item_total_correlation[k]),
                                 float(st.discrimination_index[k]), float(st.alpha_if_deleted[k])))
            ctt[j].form_flags.update(st.flags[k])
        # distractors of single-choice items
        sc = [k for k, j in enumerate(form_items.tolist())
              if versions[int(data.version_ids[j])].item_type is ItemType.SINGLE_CHOICE
              and len(versions[int(data.version_ids[j])].key) == 1]
        if not sc:
            continue
        col = np.full(form_items.size, -1, dtype=np.int64)
        col[sc] = np.arange(len(sc))
        keys = np.zeros(len(sc), dtype=np.int64)
        n_opt = 2
        for c, k in enumerate(sc):
            v = versions[int(data.version_ids[form_items[k]])]
            keys[c] = v.options.index(v.key[0]) if v.key[0] in v.options else 0
            n_opt = max(n_opt, len(v.options))
        chosen = np.full((persons.size, len(sc)), -1, dtype=np.int64)
        c_rows = col[i_local]
        m = c_rows >= 0
        chosen[p_local[m], c_rows[m]] = choices[rows[m]]
        da = analyse_distractors(chosen, keys, total_scores=totals, n_options=n_opt,
                                 group_fraction=th.group_fraction)
        for c, k in enumerate(sc):
            ctt[int(form_items[k])].distractor_parts.append((int(persons.size), da, c))
    for entry in ctt.values():
        entry.n = int(sum(part[0] for part in entry.parts))
    return forms, ctt


def _parse_answer(text: str | None) -> list[str]:
    if text is None:
        return []
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return [text]
    if isinstance(value, str):
        return [value]
    return [str(x) for x in value] if isinstance(value, list) else []


def _pooled(entry: _Ctt) -> tuple[float, ...]:
    """n-weighted mean over papers of (mean score, facility, r_it, r_rest, disc, alpha_del)."""
    arr = np.array([p[1:] for p in entry.parts], dtype=np.float64)
    w = np.array([p[0] for p in entry.parts], dtype=np.float64)
    out = []
    for col in arr.T:
        ok = np.isfinite(col)
        out.append(float(np.average(col[ok], weights=w[ok])) if ok.any() and w[ok].sum() > 0 else np.nan)
    return tuple(out)


def _distractor_summary(
    entry: _Ctt, v: _Version, group_fraction: float, z: float
) -> dict[str, Any] | None:
    """Option shares pooled over the papers (weights: candidates; upper/lower shares: group
    sizes), and the wrong options the upper group chose significantly more than the key."""
    if not entry.distractor_parts:
        return None
    labels = v.options
    n_opt = len(labels)
    w = np.array([n for n, _da, _c in entry.distractor_parts], dtype=np.float64)
    # group size as analysis.ctt draws it: ceil(fraction x n), at least 1
    g = np.array([max(1, math.ceil(group_fraction * n)) for n, _da, _c in entry.distractor_parts],
                 dtype=np.float64)
    share = np.zeros(n_opt)
    upper = np.zeros(n_opt)
    lower = np.zeros(n_opt)
    mean_total = np.zeros(n_opt)
    mt_w = np.zeros(n_opt)
    omit = 0.0
    for wt, gs, (n, da, c) in zip(w, g, entry.distractor_parts):
        share += wt * da.share[c, :n_opt]
        upper += gs * da.upper_share[c, :n_opt]
        lower += gs * da.lower_share[c, :n_opt]
        omit += wt * float(da.omit_share[c])
        counts = da.share[c, :n_opt] * n
        ok = np.isfinite(da.mean_total[c, :n_opt])
        mean_total[ok] += counts[ok] * da.mean_total[c, :n_opt][ok]
        mt_w[ok] += counts[ok]
    total, n_upper = w.sum(), g.sum()
    share, omit = share / total, omit / total
    upper, lower = upper / n_upper, lower / n_upper
    key = labels.index(v.key[0]) if v.key and v.key[0] in labels else 0
    diff = upper - upper[key]
    se = np.sqrt(np.maximum(upper + upper[key] - diff**2, 1e-12) / n_upper)
    flagged = [labels[o] for o in range(n_opt) if o != key and diff[o] > 0 and diff[o] / se[o] > z]
    with np.errstate(invalid="ignore", divide="ignore"):
        mt = np.where(mt_w > 0, mean_total / np.maximum(mt_w, 1e-300), np.nan)
    return {
        "options": list(labels),
        "key": labels[key],
        "share": [_r(x) for x in share],
        "upper_share": [_r(x) for x in upper],
        "lower_share": [_r(x) for x in lower],
        "mean_total": [_r(x) for x in mt],
        "omit_share": _r(omit),
        "n_upper": int(n_upper),
        "flagged": flagged,
    }


# --------------------------------------------------------------------------------------
# IRT across papers


@dataclass
class _Irt:
    result: CalibrationResult | None
    item_index: dict[int, int]  # global item -> calibration index
    roles: dict[int, str]  # global item -> estimated | anchor | none
    cuts: dict[int, list[float]]  # global item -> lower score bound of each category
    anchors: list[tuple[int, int]]  # (version id, calibration id)
    scale: str
    quadrature: dict[str, Any]
    notes: list[Text]
    no_variation: set[int]
    few: set[int]
    fit: dict[int, dict[str, Any]]
    fit_seconds: float = 0.0
    method: str = "mml"
    miskeys: set[int] = field(default_factory=set)  # global items: suspected miskeys


def _categories(scores: FloatArray, max_points: float, max_categories: int) -> list[float]:
    """Lower score bound of each IRT category for one item's observed scores.

    0/1-scored items give [0, points]. Rubric scores with at most ``max_categories``
    distinct values keep one category per value; more are grouped into equal-width bands of
    the points, empty bands merged with the band below (so every category is observed).
    """
    distinct = np.unique(scores)
    if distinct.size <= max_categories:
        return [float(x) for x in distinct]
    edges = np.linspace(0.0, max_points, max_categories + 1)[:-1]
    band = np.clip(np.searchsorted(edges, scores + 1e-9, side="right") - 1, 0, edges.size - 1)
    used = np.unique(band)
    cuts = edges[used]
    cuts[0] = min(cuts[0], float(distinct[0]))
    return [float(x) for x in cuts]


def _to_categories(scores: FloatArray, cuts: Sequence[float]) -> IntArray:
    c = np.asarray(cuts, dtype=np.float64)
    return np.clip(np.searchsorted(c, scores + 1e-9, side="right") - 1, 0, c.size - 1).astype(np.int64)


def _anchor_params(v: _Version, n_cat: int, D: float) -> ItemParameters | None:
    """Stored parameters of an anchor as ItemParameters on ``D``; None when unusable."""
    irt = v.irt
    assert irt is not None
    m = str(irt["model"]).lower()
    try:
        if m in DICHOTOMOUS_MODELS:
            if n_cat != 2:
                return None
            params = ItemParameters.from_abc([irt["a"]], [irt["b"]], [irt["c"] or 0.0], model=m,
                                             D=float(irt["D"]))
        else:
            thr = [float(x) for x in (irt["thresholds"] or [])]
            if len(thr) != n_cat - 1:
                return None
            params = ItemParameters.from_thresholds(m, [irt["a"]], [thr], D=float(irt["D"]))
    except (AnalysisError, TypeError, ValueError):
        return None
    return params.rescaled_D(D) if params.D != D else params


def _irt(
    session: Session,
    data: _Data,
    versions: dict[int, _Version],
    *,
    model: str,
    polytomous_model: str,
    method: str,
    method_defaulted: bool,
    D: float,
    anchor: str,
    rules: ReviewRules,
    codes: list[str],
    sessions: list[str],
) -> _Irt:
    n_items = data.version_ids.size
    order = np.argsort(data.items, kind="stable")
    bounds = np.searchsorted(data.items[order], np.arange(n_items + 1))
    n_per_item = np.diff(bounds)
    notes: list[Text] = []

    # Parameters estimated from this same data (a re-analysis of the session) are not anchors:
    # anchoring an item on itself would freeze it; the anchors of that earlier run, estimated
    # elsewhere, still are, so a re-analysis reproduces the earlier linking.
    wanted = {v.id: v.irt["calibration_id"] for v in versions.values() if v.irt is not None}
    same_data: set[int] = set()
    if anchor == "existing" and wanted:
        for cid, cal_sessions, cal_papers in session.execute(
            select(CalibrationRecord.id, CalibrationRecord.session_codes, CalibrationRecord.paper_codes)
            .where(CalibrationRecord.id.in_(sorted(set(wanted.values()))))
        ):
            if set(cal_sessions or ()) & set(sessions) and set(cal_papers or ()) & set(data.paper_codes):
                same_data.add(cid)
    if same_data:
        n_same = sum(1 for cid in wanted.values() if cid in same_data)
        notes.append(Message(
            "{n} item(s) were calibrated on this same data before (calibration {calibrations}): "
            "re-estimated, not anchored on themselves", n=n_same,
            calibrations=[f"#{c}" for c in sorted(same_data)]))
        wanted = {vid: cid for vid, cid in wanted.items() if cid not in same_data}

    # stored category schemes of the calibrations that estimated the anchors' parameters
    stored_cuts: dict[int, list[float]] = {}
    if anchor == "existing" and wanted:
        vids = sorted(wanted)
        for i in range(0, len(vids), 900):
            for vid, cid, sc in session.execute(
                select(ItemStatisticsRecord.item_version_id, ItemStatisticsRecord.calibration_id,
                       ItemStatisticsRecord.score_categories)
                .where(ItemStatisticsRecord.item_version_id.in_(vids[i : i + 900]),
                       ItemStatisticsRecord.calibration_id.in_(sorted(set(wanted.values()))))
            ):
                if wanted.get(vid) == cid and sc:
                    stored_cuts[vid] = [float(x) for x in sc]

    # 1. anchors: stored parameters that fit this data's score categories (and, for CML, a
    #    Rasch-family item on this D: slope D a = D)
    candidates: dict[int, tuple[list[float], ItemParameters]] = {}
    not_anchored: list[str] = []
    own_cuts: dict[int, list[float]] = {}
    for j in range(n_items):
        v = versions[int(data.version_ids[j])]
        sc = data.scores[order[bounds[j] : bounds[j + 1]]]
        maxp = float(data.max_points[j])
        zero_one = bool(np.all((sc == 0) | (sc == maxp)))
        own_cuts[j] = [0.0, maxp] if zero_one else _categories(sc, maxp, rules.max_categories)
        if anchor != "existing" or v.id not in wanted:
            continue
        stored_dich = str(v.irt["model"]) in DICHOTOMOUS_MODELS  # type: ignore[index]
        scheme = stored_cuts.get(v.id, [0.0, maxp] if stored_dich else None)
        params = None
        if scheme is not None and (zero_one or not stored_dich):
            params = _anchor_params(v, len(scheme), D)
        if params is not None and method == "cml" and (
                params.models[0] not in RASCH_FAMILY or abs(params.a[0] - 1.0) > 1e-9):
            params = None
        if params is None:
            not_anchored.append(f"{v.code} v{v.version_no}")
        else:
            candidates[j] = (scheme, params)  # type: ignore[assignment]
    if anchor == "none" and wanted:
        notes.append(Message(
            "anchor=none: {n} item(s) carried parameters from earlier calibrations; they are replaced by "
            "estimates on this sample's scale, which need not be the bank's (items not in this data keep "
            "the old scale)", n=len(wanted)))
    if not_anchored:
        notes.append(Message(
            "stored IRT parameters of {items} do not fit this data's score categories or this model; they "
            "were re-estimated, not used as anchors", items=not_anchored[:10]
            + ([f"+{len(not_anchored) - 10}"] if len(not_anchored) > 10 else [])))
    if candidates and len(candidates) < rules.min_anchors:
        notes.append(Message(
            "only {n} item(s) carry parameters from an earlier calibration (fewer than {minimum}): no "
            "anchoring, the scale is set by this sample and their parameters are re-estimated",
            n=len(candidates), minimum=rules.min_anchors))
        candidates = {}

    # 2. every other item: estimated, or no IRT (too few responses, one score only)
    cuts: dict[int, list[float]] = {}
    roles: dict[int, str] = {}
    anchor_params: dict[int, ItemParameters] = {}
    no_variation: set[int] = set()
    few: set[int] = set()
    for j in range(n_items):
        if j in candidates:
            cuts[j], anchor_params[j] = candidates[j]
            roles[j] = "anchor"
            continue
        cuts[j] = own_cuts[j]
        sc = data.scores[order[bounds[j] : bounds[j + 1]]]
        if np.unique(_to_categories(sc, cuts[j])).size < 2:
            roles[j] = "none"
            no_variation.add(j)
        elif n_per_item[j] < rules.min_responses:
            roles[j] = "none"
            few.add(j)
        else:
            roles[j] = "estimated"
    if few:
        notes.append(Message(
            "{n} item(s) have fewer than {minimum} responses: classical statistics only, no IRT estimate",
            n=len(few), minimum=rules.min_responses))
    if no_variation:
        notes.append(Message("{n} item(s) have one observed score only: no IRT estimate", n=len(no_variation)))

    in_cal = [j for j in range(n_items) if roles[j] in ("estimated", "anchor")]
    free = [j for j in in_cal if roles[j] == "estimated"]
    empty = _Irt(None, {}, roles, cuts, [], "none", {}, notes, no_variation, few, {}, method=method)
    if not in_cal:
        notes.append(Message("no item had enough data for IRT: classical statistics only"))
        return empty
    if not free:
        # every usable item is an anchor: nothing to re-estimate, but the calibration still
        # places this sample on the bank's scale and checks the anchors' fit
        notes.append(Message("every item with enough data is already calibrated (anchors): no item "
                             "parameter was re-estimated"))
    item_index = {j: k for k, j in enumerate(in_cal)}
    sel_rows = np.concatenate([order[bounds[j] : bounds[j + 1]] for j in in_cal])
    cats = np.empty(sel_rows.size, dtype=np.int64)
    start = 0
    for j in in_cal:
        rows = order[bounds[j] : bounds[j + 1]]
        cats[start : start + rows.size] = _to_categories(data.scores[rows], cuts[j])
        start += rows.size
    persons_used, p_idx = np.unique(data.persons[sel_rows], return_inverse=True)
    i_idx = np.array([item_index[j] for j in in_cal], dtype=np.int64)[
        np.repeat(np.arange(len(in_cal)), n_per_item[in_cal])
    ]
    n_cat = np.array([len(cuts[j]) for j in in_cal], dtype=np.int64)
    responses = ResponseData.from_triples(p_idx.ravel(), i_idx, cats, n_persons=persons_used.size,
                                          n_items=len(in_cal), n_categories=n_cat)
    models = [model if n_cat[k] == 2 else polytomous_model for k in range(len(in_cal))]
    anchors_idx = [item_index[j] for j in in_cal if roles[j] == "anchor"]
    fixed = None
    if anchors_idx:
        fixed = ItemParameters.concatenate([anchor_params[in_cal[k]] for k in anchors_idx])

    def code_of(k: int) -> str:
        return codes[in_cal[k]] if 0 <= k < len(in_cal) else str(k)

    def run(how: str) -> CalibrationResult:
        try:
            return calibrate(
                responses, models, method=how, D=D,
                fixed_items=np.array(anchors_idx, dtype=np.int64) if anchors_idx else None,
                fixed_params=fixed,
            )
        except AnalysisError as e:
            raise ValidationError(Message("The calibration could not use this data: {reason}",
                                          reason=with_items(e.text, code_of)), field="model") from e

    result = run(method)
    used_method = method
    if method == "cml" and method_defaulted and result.status == "not_identified" and any(
            p.msgid.startswith("the items fall into {n} groups") for p in result.problems):
        notes.append(Message(
            "conditional ML cannot link papers that share no items; the Rasch model was estimated by "
            "marginal ML instead (a normal ability distribution links the papers)"))
        result = run("mml")
        used_method = "mml"

    anchors = [(int(data.version_ids[j]), int(versions[int(data.version_ids[j])].irt["calibration_id"]))  # type: ignore[index]
               for j in in_cal if roles[j] == "anchor"]
    scale = "bank" if anchors else "sample"
    if scale == "bank" and used_method == "mml":
        notes.append(Message(
            "linked to the bank's scale through {n} anchor item(s) held at their stored parameters; this "
            "sample's ability mean {mean:.3f}, SD {sd:.3f} on that scale", n=len(anchors),
            mean=result.population_mean, sd=result.population_sd))
    elif scale == "bank":
        notes.append(Message(
            "linked to the bank's scale through {n} anchor item(s) held at their stored parameters "
            "(conditional ML)", n=len(anchors)))
    elif used_method == "cml":
        notes.append(Message("no anchors: the scale is set by centring the item difficulties of this "
                             "calibration (conditional ML: mean difficulty 0)"))
    elif result.population_sd != 1.0:
        notes.append(Message("no anchors: the scale is set by this sample (ability mean 0; the SD, "
                             "{sd:.3f}, is estimated for the Rasch model)", sd=result.population_sd))
    else:
        notes.append(Message("no anchors: the scale is set by this sample (ability mean 0, SD 1)"))
    for problem in result.problems:
        if problem.params.get("item") is not None and "suspected miskey" in problem.msgid:
            continue  # stated on the item itself
        notes.append(with_items(problem, code_of))
    if result.status == "not_identified":
        notes.append(Message("the data do not identify the model's parameters: the estimates are kept in "
                             "the history but not put on the item versions"))
    elif not result.converged:
        notes.append(Message(
            "the calibration did not converge ({message}); the estimates are kept in the history but not "
            "put on the item versions", message=result.message))
    quad: dict[str, Any] = {}
    if result.quadrature is not None:
        q = result.quadrature
        quad = {"rule": q.rule, "n_nodes": int(q.nodes.size), "lowest": _r(q.nodes[0]),
                "highest": _r(q.nodes[-1]), "population": "normal"}
    fit: dict[int, dict[str, Any]] = {}
    t_fit = time.perf_counter()
    if rules.fit_statistics and result.status != "not_identified":
        stats = item_fit(responses, result.params)
        for k, j in enumerate(in_cal):
            if stats.n[k] > 0 and np.isfinite(stats.infit_msq[k]):
                fit[j] = {"statistic": "infit/outfit at ML abilities (Wright & Masters, 1982)",
                          "infit_msq": _r(stats.infit_msq[k]), "outfit_msq": _r(stats.outfit_msq[k]),
                          "infit_t": _r(stats.infit_t[k], 2), "outfit_t": _r(stats.outfit_t[k], 2),
                          "n": int(stats.n[k])}
    miskeys = {in_cal[int(k)] for k in result.suspected_miskeys}
    return _Irt(result, item_index, roles, cuts, anchors, scale, quad, notes, no_variation, few, fit,
                time.perf_counter() - t_fit, method=used_method, miskeys=miskeys)


def _misfit(f: dict[str, Any], rules: ReviewRules) -> list[tuple[str, float, float]]:
    """The (statistic, mean-square, t) of an item beyond the misfit rules."""
    out = []
    for name in ("infit", "outfit"):
        msq, t = f.get(f"{name}_msq"), f.get(f"{name}_t")
        if msq is None or t is None:
            continue
        if (msq > rules.max_mean_square and t > rules.max_fit_t) or (
                msq < rules.min_mean_square and t < -rules.max_fit_t):
            out.append((name, float(msq), float(t)))
    return out


# --------------------------------------------------------------------------------------
# Flags and results


def _item_results(
    data: _Data,
    versions: dict[int, _Version],
    ctt: dict[int, _Ctt],
    irt: _Irt,
    th: CttThresholds,
    rules: ReviewRules,
) -> list[ItemAnalysis]:
    out: list[ItemAnalysis] = []
    res = irt.result
    errs = res.standard_errors if res is not None else None
    for j in range(data.version_ids.size):
        v = versions[int(data.version_ids[j])]
        ref = f"{v.code} v{v.version_no}"
        entry = ctt[j]
        mean, fac, r_it, r_rest, disc, a_del = _pooled(entry)
        flags: list[str] = []
        reasons: list[Message] = []

        def flag(word: str, reason: Message) -> None:
            flags.append(word)
            reasons.append(Message("{ref}: {reason}", ref=ref, reason=reason))

        # -- classical --------------------------------------------------------------------
        if np.isfinite(fac) and fac < th.p_min:
            flag(FLAG_TOO_HARD, Message("facility p = {p:.3f} is below {limit:.2f} (too hard)", p=fac,
                                        limit=th.p_min))
        if np.isfinite(fac) and fac > th.p_max:
            flag(FLAG_TOO_EASY, Message("facility p = {p:.3f} is above {limit:.2f} (too easy)", p=fac,
                                        limit=th.p_max))
        if np.isfinite(r_rest) and r_rest < th.r_min:
            flag(FLAG_LOW_CORRECTED_R, Message("corrected item-total correlation r = {r:.3f} is below {limit:.2f}",
                                               r=r_rest, limit=th.r_min))
        if np.isfinite(disc) and disc < th.discrimination_min:
            if th.discrimination_min <= 0 or disc < 0:
                flag(FLAG_NEGATIVE_DISCRIMINATION, Message(
                    "discrimination index D = {d:.3f} is negative: the lower {share:.0%} scored better on it "
                    "than the upper {share:.0%} (check the key)", d=disc, share=th.group_fraction))
            else:
                flag(FLAG_LOW_DISCRIMINATION, Message("discrimination index D = {d:.3f} is below {limit:.2f}",
                                                      d=disc, limit=th.discrimination_min))
        if "alpha_rises_if_deleted" in entry.form_flags:  # only when th.flag_alpha_if_deleted
            flag(FLAG_ALPHA_RISES, Message("the paper's alpha would rise without it (alpha if deleted {alpha:.3f})",
                                           alpha=a_del))
        distractors = _distractor_summary(entry, v, th.group_fraction, rules.distractor_z)
        if distractors and distractors["flagged"]:
            up = dict(zip(distractors["options"], distractors["upper_share"]))
            for o in distractors["flagged"]:
                flag(FLAG_DISTRACTOR, Message(
                    "option {option} was chosen by {share:.0%} of the upper {group:.0%}, significantly more than "
                    "the key {key} ({key_share:.0%}): the key may be wrong or option {option} defensible",
                    option=o, share=up[o], group=th.group_fraction, key=distractors["key"],
                    key_share=up[distractors["key"]]))
            flags[:] = list(dict.fromkeys(flags))

        # -- IRT --------------------------------------------------------------------------
        role = irt.roles.get(j, "none")
        if j in irt.few:
            flag(FLAG_FEW_RESPONSES, Message(
                "{n} responses, fewer than {minimum}: classical statistics only, too few responses for IRT",
                n=entry.n, minimum=rules.min_responses))
        if j in irt.no_variation:
            flag(FLAG_NO_VARIATION, Message("all {n} responses have the same score: no IRT estimate", n=entry.n))
        kw: dict[str, Any] = {}
        if res is not None and role in ("estimated", "anchor"):
            k = irt.item_index[j]
            p = res.params
            n_steps = int(p.n_categories[k]) - 1
            kw = dict(model=p.models[k], D=float(p.D), a=_num(p.a[k]), b=_num(p.b[k]),
                      c=_num(p.c[k]) if p.models[k] == "3pl" else 0.0,
                      score_categories=tuple(irt.cuts[j]))
            if n_steps > 1:
                kw["thresholds"] = tuple(float(x) for x in p.thresholds[k, :n_steps])
            if role == "estimated" and errs is not None:
                kw.update(se_a=_num(errs.a[k]), se_b=_num(errs.b[k]),
                          se_c=_num(errs.c[k]) if p.models[k] == "3pl" else None)
                if n_steps > 1:
                    kw["se_thresholds"] = tuple(_num(x) for x in errs.thresholds[k, :n_steps])
            if role == "estimated" and j in irt.miskeys:
                a_txt = (Message("IRT slope a = {a:.2f}", a=float(p.a[k]))
                         if p.models[k] not in RASCH_FAMILY else Message("Rasch model"))
                flag(FLAG_MISKEY, Message(
                    "suspected miskey: abler candidates scored lower on it ({irt}; corrected item-total r = "
                    "{r}; discrimination index D = {d}); check the key", irt=a_txt, r=_g(_num(r_rest)),
                    d=_g(_num(disc))))
            if role == "estimated" and res.status == "converged":
                a, b = float(p.a[k]), float(p.b[k])
                slope = a * p.D
                se_a, se_b = kw.get("se_a"), kw.get("se_b")
                se_bs = [x for x in (se_b, *(kw.get("se_thresholds") or ())) if x is not None]
                free_slope = p.models[k] not in RASCH_FAMILY
                if (free_slope and abs(slope) < rules.degenerate_slope) or not math.isfinite(b):
                    flag(FLAG_DEGENERATE, Message(
                        "the IRT estimate is degenerate (slope D·a = {slope}, b = {b}): an item that does not "
                        "discriminate has no finite difficulty; kept in the history, not put on the item version",
                        slope=_g(slope), b=_g(b)))
                elif j not in irt.miskeys:
                    if se_b is None or not se_bs:
                        flag(FLAG_LARGE_SE, Message("the IRT standard errors could not be computed (poorly "
                                                    "determined parameters)"))
                    elif max(se_bs) > rules.max_se_b or (se_a is not None and se_a > rules.max_se_a):
                        flag(FLAG_LARGE_SE, Message(
                            "IRT standard errors SE(a) = {se_a}, SE(b) = {se_b} exceed {max_a:.2f} / {max_b:.2f}",
                            se_a=_g(se_a), se_b=_g(max(se_bs)), max_a=rules.max_se_a, max_b=rules.max_se_b))
                    if free_slope and slope < rules.min_slope:
                        flag(FLAG_LOW_SLOPE, Message(
                            "IRT slope D·a = {slope} is below {limit:.2f}: the item hardly separates abler from "
                            "weaker candidates", slope=_g(slope), limit=rules.min_slope))
                    if abs(b) > rules.max_abs_b:
                        flag(FLAG_EXTREME_B, Message(
                            "IRT difficulty b = {b} lies outside ±{limit:.1f}, beyond the candidates' range",
                            b=_g(b), limit=rules.max_abs_b))
            f = irt.fit.get(j)
            if f is not None:
                kw["fit"] = f
                for name, msq, t in _misfit(f, rules):
                    direction = (Message("noisier than the model expects (e.g. a wrong key, guessing, an "
                                         "ambiguous stem)") if msq > 1 else
                                 Message("more predictable than the model expects (e.g. it depends on "
                                         "another item)"))
                    flag(FLAG_MISFIT, Message(
                        "the item misfits the {model} model: {statistic} mean-square {msq:.2f} (t = {t:.1f}), "
                        "{direction}", model=model_name(p.models[k]),
                        statistic=Message(FIT_STATISTICS[name]) if name in FIT_STATISTICS else name, msq=msq, t=t,
                        direction=direction))
                flags[:] = list(dict.fromkeys(flags))
        elif role == "none" and irt.cuts.get(j):
            kw["score_categories"] = tuple(irt.cuts[j])
        out.append(ItemAnalysis(
            version_id=v.id, item_id=v.item_id, code=v.code, version=v.version_no,
            item_type=v.item_type.value, paper_codes=tuple(entry.papers), n=entry.n,
            max_points=float(data.max_points[j]), mean_score=_num(mean), p_value=_num(fac),
            point_biserial=_num(r_it), corrected_r=_num(r_rest), discrimination_index=_num(disc),
            alpha_if_deleted=_num(a_del), irt_role=role, distractors=distractors,
            flags=tuple(flags), reasons=tuple(reasons), **kw,
        ))
    out.sort(key=lambda it: (it.code, it.version))
    return out


# --------------------------------------------------------------------------------------
# Row <-> result conversions


def _statistics_row(calibration_id: int, it: ItemAnalysis) -> dict[str, Any]:
    return {
        "calibration_id": calibration_id,
        "item_version_id": it.version_id,
        "item_id": it.item_id,
        "paper_codes": list(it.paper_codes),
        "n": it.n,
        "max_points": it.max_points,
        "mean_score": it.mean_score,
        "p_value": it.p_value,
        "point_biserial": it.point_biserial,
        "corrected_r": it.corrected_r,
        "discrimination_index": it.discrimination_index,
        "alpha_if_deleted": it.alpha_if_deleted,
        "distractors": it.distractors,
        "irt_role": it.irt_role,
        "model": it.model,
        "D": it.D,
        "a": it.a,
        "b": it.b,
        "c": it.c,
        "se_a": it.se_a,
        "se_b": it.se_b,
        "se_c": it.se_c,
        "thresholds": list(it.thresholds) if it.thresholds is not None else None,
        "se_thresholds": list(it.se_thresholds) if it.se_thresholds is not None else None,
        "score_categories": list(it.score_categories) if it.score_categories is not None else None,
        "fit": it.fit,
        "flags": list(it.flags),
        "reasons": [r.to_data() for r in it.reasons],
    }


def _analysis_from_row(st: ItemStatisticsRecord, code: str, version_no: int, item_type: Any) -> ItemAnalysis:
    return ItemAnalysis(
        version_id=st.item_version_id, item_id=st.item_id, code=code, version=version_no,
        item_type=ItemType(item_type).value, paper_codes=tuple(st.paper_codes or ()), n=st.n,
        max_points=st.max_points, mean_score=st.mean_score, p_value=st.p_value,
        point_biserial=st.point_biserial, corrected_r=st.corrected_r,
        discrimination_index=st.discrimination_index, alpha_if_deleted=st.alpha_if_deleted,
        irt_role=st.irt_role, model=st.model, D=st.D, a=st.a, b=st.b, c=st.c, se_a=st.se_a,
        se_b=st.se_b, se_c=st.se_c,
        thresholds=tuple(st.thresholds) if st.thresholds is not None else None,
        se_thresholds=tuple(st.se_thresholds) if st.se_thresholds is not None else None,
        score_categories=tuple(st.score_categories) if st.score_categories is not None else None,
        fit=st.fit, distractors=st.distractors, flags=tuple(st.flags or ()),
        reasons=tuple(Message.from_data(r) for r in (st.reasons or ())),
    )


def _irt_params(it: ItemAnalysis, calibration_id: int) -> IrtParams:
    assert it.model is not None and it.D is not None
    return IrtParams(
        model=IrtModel(it.model), a=float(it.a if it.a is not None else 1.0),
        b=float(it.b if it.b is not None else 0.0), c=float(it.c or 0.0), se_a=it.se_a,
        se_b=it.se_b, se_c=it.se_c, thresholds=tuple(it.thresholds or ()), D=it.D,
        calibration_id=calibration_id,
    )


def _calibration_info(cal: CalibrationRecord, bank: BankRef) -> CalibrationInfo:
    conv = None
    if cal.converged is not None:
        status = cal.status or ("converged" if cal.converged else "not_converged")
        steps = (Message("{n} Newton iterations (conditional ML)", n=cal.n_iterations) if cal.method == "cml"
                 else Message("{n} EM iterations (marginal ML)", n=cal.n_iterations))
        conv = Convergence(
            converged=bool(cal.converged), n_iterations=cal.n_iterations,
            log_likelihood=cal.log_likelihood, max_change=cal.max_change, se_method=cal.se_method,
            message={"converged": Message("converged after {steps}", steps=steps),
                     "not_converged": Message("not converged after {steps}", steps=steps),
                     "not_identified": Message("the data do not identify the model's parameters")}.get(
                         status, Message("not converged after {steps}", steps=steps)),
            method=cal.method, status=status,
        )
    return CalibrationInfo(
        id=cal.id, bank_id=cal.bank_id, bank_label=bank.label, part=Part(cal.part),
        created_at=_aware(cal.created_at), actor=cal.actor, model=cal.model,
        polytomous_model=cal.polytomous_model, D=cal.D, parameterisation=cal.parameterisation,
        session_codes=tuple(cal.session_codes or ()), paper_codes=tuple(cal.paper_codes or ()),
        n_persons=cal.n_persons, n_responses=cal.n_responses, n_items=cal.n_items,
        n_items_irt=cal.n_items_irt, anchor_mode=cal.anchor_mode, scale=cal.scale,
        n_anchors=cal.n_anchors, anchors=tuple((int(a), int(b)) for a, b in (cal.anchors or ())),
        convergence=conv, quadrature=dict(cal.quadrature or {}),
        population_mean=cal.population_mean, population_sd=cal.population_sd,
        forms=tuple(_form_from_data(f) for f in (cal.forms or ())), settings=dict(cal.settings or {}),
        notes=tuple(Message.from_data(n) for n in (cal.notes or ())), method=cal.method, status=cal.status,
    )


def _stored(text: Text) -> Any:
    """A note or reason as stored: a message's data, a final string as it is."""
    return text.to_data() if isinstance(text, Message) else text


def _form_data(f: FormSummary) -> dict[str, Any]:
    out = {name: getattr(f, name) for name in FormSummary.__dataclass_fields__}
    out["note"] = _stored(f.note) if f.note else ""
    return out


def _form_from_data(data: dict[str, Any]) -> FormSummary:
    known = {k: v for k, v in data.items() if k in FormSummary.__dataclass_fields__}
    if known.get("note"):
        known["note"] = Message.from_data(known["note"])
    return FormSummary(**known)


def _num(x: Any) -> float | None:
    """A finite float or None (NaN and infinities are stored as NULL)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _r(x: Any, digits: int = 4) -> float | None:
    v = _num(x)
    return None if v is None else round(v, digits)


def _g(x: float | None) -> str:
    """Readable number for reasons: 2 decimals, scientific when huge (degenerate estimates)."""
    if x is None or not math.isfinite(x):
        return "not available"
    return f"{x:.2f}" if abs(x) < 1000 else f"{x:.2e}"


def _last(arr: FloatArray) -> float | None:
    return _num(arr[-1]) if arr.size else None


def _aware(dt: datetime) -> datetime:
    """SQLite returns naive datetimes for ``DateTime(timezone=True)``: they are UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)
