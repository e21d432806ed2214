"""Assembly records: stored, versioned blueprints; assembly runs (jobs); papers and their items."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itembank.domain import Part, PaperKind
from itembank.orm import Base, str_enum, utcnow


class RunState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"  # the solver ran; the outcome says whether papers came out
    FAILED = "failed"  # an error stopped the run (bad blueprint, bank not ready ...)
    CANCELLED = "cancelled"  # stopped on request; the solver was killed, no papers

    @property
    def zh(self) -> str:
        return {"queued": "排队中", "running": "进行中", "finished": "已完成", "failed": "失败",
                "cancelled": "已取消"}[self.value]


class PaperStatus(str, enum.Enum):
    ASSEMBLED = "assembled"
    SEALED = "sealed"
    ISSUED = "issued"  # opened / used in a session
    LEAKED = "leaked"  # void: leaked (附件16)
    VOID = "void"  # void for another reason (damaged, missing, withdrawn)

    @property
    def zh(self) -> str:
        return {"assembled": "已组卷", "sealed": "已封存", "issued": "已启用", "leaked": "已泄密",
                "void": "已作废"}[self.value]


class BlueprintRecord(Base):
    """One version of a named blueprint of a bank and part (组卷方案); the spec is the
    assembly package's ``blueprint_to_dict`` form."""

    __tablename__ = "blueprints"
    __table_args__ = (UniqueConstraint("bank_id", "part", "name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    part: Mapped[Part] = mapped_column(str_enum(Part, "part"))
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    element_table_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AssemblyRunRecord(Base):
    """One assembly job: requested, run, and its full report kept for re-checking."""

    __tablename__ = "assembly_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    part: Mapped[Part] = mapped_column(str_enum(Part, "part"))
    blueprint_id: Mapped[int] = mapped_column(ForeignKey("blueprints.id"))
    state: Mapped[RunState] = mapped_column(str_enum(RunState, "run_state"), default=RunState.QUEUED)
    outcome: Mapped[str] = mapped_column(String(32), default="")  # optimal / feasible / infeasible / ...
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pool_snapshot: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[item code, version id], ...]
    pool_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    practice: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_by: Mapped[str] = mapped_column(String(100), default="")
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # the job: its procrastinate id, a cancel request (read by the job), and the live progress of
    # the solve (stage, incumbent, bound, gap, elapsed; itembank.assembly_service.record_progress)
    queue_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    live: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PaperRecord(Base):
    __tablename__ = "papers"
    __table_args__ = (Index("ix_papers_bank_status", "bank_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    part: Mapped[Part] = mapped_column(str_enum(Part, "part"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("assembly_runs.id"), nullable=True, index=True)
    blueprint_id: Mapped[int | None] = mapped_column(ForeignKey("blueprints.id"), nullable=True)
    kind: Mapped[PaperKind] = mapped_column(str_enum(PaperKind, "paper_kind"))
    form_label: Mapped[str] = mapped_column(String(16))
    status: Mapped[PaperStatus] = mapped_column(str_enum(PaperStatus, "paper_status"), default=PaperStatus.ASSEMBLED)
    practice: Mapped[bool] = mapped_column(Boolean, default=False)
    time_allowed_min: Mapped[int] = mapped_column(Integer)
    replaces_paper_id: Mapped[int | None] = mapped_column(ForeignKey("papers.id"), nullable=True)
    checks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # blueprint vs achieved rows
    status_reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    items: Mapped[list[PaperItemRecord]] = relationship(
        back_populates="paper", order_by="PaperItemRecord.position", cascade="all, delete-orphan"
    )


class PaperItemRecord(Base):
    __tablename__ = "paper_items"

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"), index=True)

    paper: Mapped[PaperRecord] = relationship(back_populates="items")
