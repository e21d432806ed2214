"""ORM rows (SQLAlchemy 2.x typed mappings). Names end in ``Record`` so they never collide
with the domain dataclasses of :mod:`itembank.domain`.

The schema is created by the Alembic migrations in ``itembank/migrations``; a test checks
that the migrated schema matches these models.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from itembank.domain import (
    Importance,
    ItemType,
    OccupationCategory,
    Part,
    VersionState,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum by its value as VARCHAR with a CHECK constraint (portable)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        length=max(len(m.value) for m in cls),
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


# --------------------------------------------------------------------------------------
# Occupations and banks


class OccupationRecord(Base):
    __tablename__ = "occupations"
    __table_args__ = (UniqueConstraint("code", "work_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    # "" when the occupation has no work type: NULLs would defeat the unique constraint.
    work_type: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[OccupationCategory] = mapped_column(
        str_enum(OccupationCategory, "occupation_category")
    )
    filed: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    banks: Mapped[list[BankRecord]] = relationship(back_populates="occupation")


class BankRecord(Base):
    __tablename__ = "banks"
    __table_args__ = (
        UniqueConstraint("occupation_id", "level"),
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occupation_id: Mapped[int] = mapped_column(ForeignKey("occupations.id"))
    level: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    occupation: Mapped[OccupationRecord] = relationship(back_populates="banks")


class MinimumRuleRecord(Base):
    """Bank minimums as data (附件11 第7条); the most specific matching rule wins."""

    __tablename__ = "minimum_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    part: Mapped[Part] = mapped_column(str_enum(Part, "part"))
    minimum: Mapped[int] = mapped_column(Integer)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    category: Mapped[OccupationCategory | None] = mapped_column(
        str_enum(OccupationCategory, "occupation_category"), nullable=True
    )
    occupation_id: Mapped[int | None] = mapped_column(
        ForeignKey("occupations.id"), nullable=True
    )
    note: Mapped[str] = mapped_column(String(400), default="")


# --------------------------------------------------------------------------------------
# Element specification tables


class ElementTableRecord(Base):
    __tablename__ = "element_tables"
    __table_args__ = (UniqueConstraint("bank_id", "part", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    part: Mapped[Part] = mapped_column(str_enum(Part, "part"))
    version: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    nodes: Mapped[list[ElementNodeRecord]] = relationship(
        back_populates="table", order_by="ElementNodeRecord.position"
    )


class ElementNodeRecord(Base):
    __tablename__ = "element_nodes"
    __table_args__ = (UniqueConstraint("table_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("element_tables.id"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(400))
    parent_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    weight: Mapped[float] = mapped_column(Float)
    importance: Mapped[Importance | None] = mapped_column(
        str_enum(Importance, "importance"), nullable=True
    )

    table: Mapped[ElementTableRecord] = relationship(back_populates="nodes")


# --------------------------------------------------------------------------------------
# Items and versions


class ItemRecord(Base):
    """The stable identity of an item; its content lives in versions."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("bank_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    part: Mapped[Part] = mapped_column(str_enum(Part, "part"))
    code: Mapped[str] = mapped_column(String(64))
    set_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Usage over all versions, kept in step with item_usages by itembank.usage so that
    # exposure rules read one row per item (10,000+ items, one query).
    usage_count: Mapped[int] = mapped_column(Integer, default=0)
    last_used_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    compromised: Mapped[bool] = mapped_column(Boolean, default=False)
    compromised_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    compromised_reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    versions: Mapped[list[ItemVersionRecord]] = relationship(
        back_populates="item", order_by="ItemVersionRecord.version_no"
    )


class ItemVersionRecord(Base):
    """One immutable version of an item's content, with statistics and usage of that version."""

    __tablename__ = "item_versions"
    __table_args__ = (
        UniqueConstraint("item_id", "version_no"),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("difficulty_rating BETWEEN 1 AND 5", name="difficulty_range"),
        Index("ix_item_versions_state_item", "state", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    version_no: Mapped[int] = mapped_column(Integer)
    state: Mapped[VersionState] = mapped_column(str_enum(VersionState, "version_state"))
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # content (never changed in place once the version leaves draft)
    item_type: Mapped[ItemType] = mapped_column(str_enum(ItemType, "item_type"))
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)
    key: Mapped[list[Any]] = mapped_column(JSON, default=list)
    rubric: Mapped[list[Any]] = mapped_column(JSON, default=list)
    analysis: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[float] = mapped_column(Float)
    estimated_time_s: Mapped[float] = mapped_column(Float, default=60.0)
    time_limit_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    equipment: Mapped[str] = mapped_column(Text, default="")
    difficulty_rating: Mapped[int] = mapped_column(Integer, default=3)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # classical statistics of this version (latest analysis; history in later tables)
    p_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    discrimination: Mapped[float | None] = mapped_column(Float, nullable=True)
    stats_n: Mapped[int] = mapped_column(Integer, default=0)

    # IRT parameters of this version, a/b/c form with the logistic constant D
    irt_model: Mapped[str | None] = mapped_column(String(16), nullable=True)
    irt_a: Mapped[float | None] = mapped_column(Float, nullable=True)
    irt_b: Mapped[float | None] = mapped_column(Float, nullable=True)
    irt_c: Mapped[float | None] = mapped_column(Float, nullable=True)
    irt_se_a: Mapped[float | None] = mapped_column(Float, nullable=True)
    irt_se_b: Mapped[float | None] = mapped_column(Float, nullable=True)
    irt_se_c: Mapped[float | None] = mapped_column(Float, nullable=True)
    irt_thresholds: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    irt_D: Mapped[float | None] = mapped_column(Float, nullable=True)
    calibration_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    usage_count: Mapped[int] = mapped_column(Integer, default=0)
    last_used_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    item: Mapped[ItemRecord] = relationship(back_populates="versions")
    elements: Mapped[list[ItemVersionElementRecord]] = relationship(
        back_populates="version", cascade="all, delete-orphan"
    )


class ItemVersionElementRecord(Base):
    """Tag of a version to an element, by element code (codes are stable across table versions)."""

    __tablename__ = "item_version_elements"

    version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"), primary_key=True)
    element_code: Mapped[str] = mapped_column(String(64), primary_key=True)

    version: Mapped[ItemVersionRecord] = relationship(back_populates="elements")


class ItemEnemyRecord(Base):
    """Symmetric enemy relation, stored once with the lower id first."""

    __tablename__ = "item_enemies"
    __table_args__ = (CheckConstraint("item_low_id < item_high_id", name="ordered_pair"),)

    item_low_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    item_high_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True, index=True)
    reason: Mapped[str] = mapped_column(String(400), default="")


class ItemUsageRecord(Base):
    """Every issue of an item version on a paper (附件1 第15条)."""

    __tablename__ = "item_usages"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"), index=True)
    paper_code: Mapped[str] = mapped_column(String(64), index=True)
    session_code: Mapped[str] = mapped_column(String(64), default="", index=True)
    used_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --------------------------------------------------------------------------------------
# Ledger (台帐)


class LedgerEntryRecord(Base):
    """Append-only, hash-chained record of every traceable act (附件11 第24条)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_object", "object_type", "object_id"),
        Index("ix_ledger_actor", "actor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # unique: two entries can never claim the same predecessor, so the chain stays a line
    # even under concurrent writers (the loser's transaction fails and is retried).
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # HMAC-SHA256 of ``hash`` under the ledger key kept outside the database (itembank.keys):
    # NULL only for entries written before the ledger was keyed (migration 0009_sec).
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)
