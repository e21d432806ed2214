"""Jobs that users follow: an import of a large file, an analysis of a session's responses, a
batch of sealed papers. The queue itself (who runs what, retries, heartbeats) is procrastinate's
(``itembank.jobqueue``); this record is what the requester polls: state, progress, the outcome
(an import report, a calibration id, sealed paper codes) or the error, in words.

Assembly runs have their own record (``AssemblyRunRecord``) with the same fields.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from itembank.orm import Base, str_enum, utcnow


class JobKind(str, enum.Enum):
    IMPORT_ITEMS = "import_items"
    ANALYSIS = "analysis"
    SEAL_BATCH = "seal_batch"


class JobState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobRecord(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(str_enum(JobKind, "job_kind"), index=True)
    state: Mapped[JobState] = mapped_column(str_enum(JobState, "job_state"), default=JobState.QUEUED)
    occupation_code: Mapped[str] = mapped_column(String(32), default="")  # scope of who may see it
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the uploaded file of an import, kept until the job has run (a worker may be on another machine)
    payload: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # Message.to_data()
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    queue_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requested_by: Mapped[str] = mapped_column(String(100), default="")
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
