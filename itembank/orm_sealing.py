"""Sealed papers per exam session (附件12, 附件16, 附件7): encrypted documents, manifest,
two-person opening, incidents."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itembank.orm import Base, str_enum, utcnow


class SealRole(str, enum.Enum):
    MAIN = "main"
    BACKUP = "backup"

    @property
    def zh(self) -> str:
        return {"main": "正式试卷", "backup": "备用试卷"}[self.value]


class SealState(str, enum.Enum):
    SEALED = "sealed"  # stored encrypted; nobody may read it
    OPENED = "opened"  # two exam-office users confirmed within the window: documents released
    VOID = "void"  # leaked, damaged or missing: never opened again
    STANDBY = "standby"  # a backup not (yet) activated; activation makes it SEALED-and-openable

    @property
    def zh(self) -> str:
        return {"sealed": "已密封", "opened": "已启封", "void": "已作废", "standby": "备用待启用"}[self.value]


class IncidentKind(str, enum.Enum):
    LEAK = "leak"  # 泄密
    DAMAGED = "damaged"  # 损坏
    MISSING = "missing"  # 丢失 / 未按时运抵
    OTHER = "other"

    @property
    def zh(self) -> str:
        return {"leak": "泄密", "damaged": "损坏", "missing": "丢失", "other": "其他"}[self.value]


class SealedPaperRecord(Base):
    __tablename__ = "sealed_papers"
    __table_args__ = (UniqueConstraint("paper_id", "exam_session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id"), index=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    role: Mapped[SealRole] = mapped_column(str_enum(SealRole, "seal_role"))
    state: Mapped[SealState] = mapped_column(str_enum(SealState, "seal_state"))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)  # nonce + AES-GCM(master key, paper key)
    key_id: Mapped[str] = mapped_column(String(64))  # fingerprint of the master key used
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    sealed_by: Mapped[str] = mapped_column(String(100))
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    state_reason: Mapped[str] = mapped_column(Text, default="")

    documents: Mapped[list[SealedDocumentRecord]] = relationship(
        back_populates="sealed_paper", order_by="SealedDocumentRecord.position", cascade="all, delete-orphan"
    )
    confirmations: Mapped[list[OpeningConfirmationRecord]] = relationship(
        back_populates="sealed_paper", order_by="OpeningConfirmationRecord.id", cascade="all, delete-orphan"
    )


class SealedDocumentRecord(Base):
    __tablename__ = "sealed_documents"
    __table_args__ = (UniqueConstraint("sealed_paper_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sealed_paper_id: Mapped[int] = mapped_column(ForeignKey("sealed_papers.id"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))  # of the plaintext document
    size: Mapped[int] = mapped_column(Integer)

    sealed_paper: Mapped[SealedPaperRecord] = relationship(back_populates="documents")


class OpeningConfirmationRecord(Base):
    """One exam-office user's confirmation of an opening (the two-person rule), or an
    administrator's override standing in for the second person (``override_reason`` set)."""

    __tablename__ = "opening_confirmations"
    __table_args__ = (UniqueConstraint("sealed_paper_id", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sealed_paper_id: Mapped[int] = mapped_column(ForeignKey("sealed_papers.id"))
    username: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    override_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    sealed_paper: Mapped[SealedPaperRecord] = relationship(back_populates="confirmations")


class IncidentRecord(Base):
    """An incident report (附件16): what happened to which paper in which session, and what
    the service did (papers voided, items compromised, backup activated, replacement run)."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[IncidentKind] = mapped_column(str_enum(IncidentKind, "incident_kind"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id"), index=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    actions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reported_by: Mapped[str] = mapped_column(String(100))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
