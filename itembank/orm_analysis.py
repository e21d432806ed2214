"""ORM rows of the analysis feedback (附件1 第15条: usage recorded, results feed back into bank
maintenance): one row per calibration run and one row per calibration x item version.

The current statistics of a version are also copied onto ``item_versions`` (``p_value``,
``discrimination``, ``stats_n``, ``irt_*``, ``calibration_id``) so that ``load_pool`` and
assembly read one row per version; the rows here are the history and are never updated.

Parameterisation (stored in every row beside the numbers): a/b/c form with the logistic
constant ``D``: P = c + (1 - c) / (1 + exp(-D a (theta - b))); GRM/GPCM thresholds b_k in
``thresholds`` (see ``analysis/parameters.py``). The service is ``itembank.analysis_service``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from itembank.domain import Part
from itembank.orm import Base, str_enum, utcnow

IRT_ROLES = ("estimated", "anchor", "none")
ANCHOR_MODES = ("existing", "none")
SCALES = ("bank", "sample", "none")


class CalibrationRecord(Base):
    """One analysis run over the recorded responses of one or more sessions / papers.

    ``scale`` says what sets the latent scale: ``bank`` (fixed-parameter calibration on
    ``n_anchors`` items calibrated before), ``sample`` (no anchors: theta ~ N(0, 1) in this
    sample, N(0, sigma^2) for the Rasch family under MML, centred difficulties under CML),
    ``none`` (no item had enough data for IRT). ``method`` is ``mml`` (marginal ML, EM) or
    ``cml`` (conditional ML, Rasch family); ``status`` is ``converged``, ``not_converged`` or
    ``not_identified`` (NULL when no IRT was run).
    ``forms`` holds the per-paper classical statistics (mean, SD, alpha, SEM ...);
    ``settings`` the thresholds and rules used; ``notes`` what the administrator should know.
    """

    __tablename__ = "calibrations"
    __table_args__ = (
        CheckConstraint("anchor_mode IN ('existing', 'none')", name="anchor_mode_values"),
        CheckConstraint("scale IN ('bank', 'sample', 'none')", name="scale_values"),
        # quoted: PostgreSQL folds unquoted names to lower case (the column is "D")
        CheckConstraint('"D" > 0', name="d_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    part: Mapped[Part] = mapped_column(str_enum(Part, "part"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))

    # model and parameterisation
    model: Mapped[str] = mapped_column(String(16))  # model of 0/1 items
    polytomous_model: Mapped[str] = mapped_column(String(16))  # model of rubric-scored items
    method: Mapped[str] = mapped_column(String(8), default="mml", server_default="mml")
    D: Mapped[float] = mapped_column(Float)
    parameterisation: Mapped[str] = mapped_column(Text)

    # the data used
    session_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    paper_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    n_persons: Mapped[int] = mapped_column(Integer)
    n_responses: Mapped[int] = mapped_column(Integer)
    n_items: Mapped[int] = mapped_column(Integer)
    n_items_irt: Mapped[int] = mapped_column(Integer)  # estimated here (anchors excluded)

    # linking
    anchor_mode: Mapped[str] = mapped_column(String(16))
    scale: Mapped[str] = mapped_column(String(16))
    n_anchors: Mapped[int] = mapped_column(Integer, default=0)
    anchors: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[version id, calibration id]]

    # convergence (None when no IRT was run)
    converged: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    n_iterations: Mapped[int] = mapped_column(Integer, default=0)
    log_likelihood: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_change: Mapped[float | None] = mapped_column(Float, nullable=True)
    se_method: Mapped[str] = mapped_column(String(32), default="none")
    quadrature: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    population_mean: Mapped[float | None] = mapped_column(Float, nullable=True)
    population_sd: Mapped[float | None] = mapped_column(Float, nullable=True)

    forms: Mapped[list[Any]] = mapped_column(JSON, default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ItemStatisticsRecord(Base):
    """Statistics of one item version in one calibration (the history; never updated).

    Classical: ``p_value`` facility (mean score / max points), ``point_biserial`` item-total r,
    ``corrected_r`` item-rest r, ``discrimination_index`` upper-lower 27% difference, pooled
    over the papers the version was on (n-weighted). IRT: ``irt_role`` says whether the
    parameters were ``estimated`` here, held fixed as an ``anchor`` (copied from the
    calibration that estimated them), or not run (``none``: too few responses, no variation).
    ``score_categories``: lower score bound of each IRT category (rubric scores grouped).
    ``fit``: infit/outfit mean-squares and standardised values. ``flags`` are words
    (``too_hard``, ``suspected_miskey``, ``item_misfit`` ...); ``reasons`` the same as messages
    of the catalog (``Message.to_data()``, rendered in the reader's language) naming the item
    code and version.
    """

    __tablename__ = "item_statistics"
    __table_args__ = (
        UniqueConstraint("calibration_id", "item_version_id"),
        CheckConstraint("irt_role IN ('estimated', 'anchor', 'none')", name="irt_role_values"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calibration_id: Mapped[int] = mapped_column(ForeignKey("calibrations.id"), index=True)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    paper_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)

    # classical
    n: Mapped[int] = mapped_column(Integer)
    max_points: Mapped[float] = mapped_column(Float)
    mean_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    point_biserial: Mapped[float | None] = mapped_column(Float, nullable=True)
    corrected_r: Mapped[float | None] = mapped_column(Float, nullable=True)
    discrimination_index: Mapped[float | None] = mapped_column(Float, nullable=True)
    alpha_if_deleted: Mapped[float | None] = mapped_column(Float, nullable=True)
    distractors: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    # IRT, a/b/c form with D
    irt_role: Mapped[str] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String(16), nullable=True)
    D: Mapped[float | None] = mapped_column(Float, nullable=True)
    a: Mapped[float | None] = mapped_column(Float, nullable=True)
    b: Mapped[float | None] = mapped_column(Float, nullable=True)
    c: Mapped[float | None] = mapped_column(Float, nullable=True)
    se_a: Mapped[float | None] = mapped_column(Float, nullable=True)
    se_b: Mapped[float | None] = mapped_column(Float, nullable=True)
    se_c: Mapped[float | None] = mapped_column(Float, nullable=True)
    thresholds: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    se_thresholds: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    score_categories: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    fit: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
