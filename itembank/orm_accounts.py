"""Accounts: users, their roles (scoped to occupations), bearer tokens, failed logins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itembank.domain import Role
from itembank.orm import Base, str_enum, utcnow


class UserRecord(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    roles: Mapped[list[UserRoleRecord]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserRoleRecord.id"
    )


class UserRoleRecord(Base):
    """One role of a user, for every occupation ('' = all) or for one occupation code."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role", "occupation_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    occupation_code: Mapped[str] = mapped_column(String(32), default="")

    user: Mapped[UserRecord] = relationship(back_populates="roles")


class ApiTokenRecord(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginFailureRecord(Base):
    """Failed logins, counted per username and per client address for rate limiting."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KnownAddressRecord(Base):
    """An address a user has logged in from successfully: failures from elsewhere never
    lock the owner out from here (itembank.accounts.check_rate_limit)."""

    __tablename__ = "login_known_addresses"
    __table_args__ = (UniqueConstraint("username", "client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    last_success_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerCheckpointRecord(Base):
    """A signed checkpoint of the ledger: the head entry (id, hash) and the number of entries
    at a moment, signed with the centre's ledger signing key (Ed25519, itembank.ledger). Kept
    here, in the key directory's witness file, and exported for the paper archive."""

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    entry_id: Mapped[int] = mapped_column(Integer)
    n_entries: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))
    made_by: Mapped[str] = mapped_column(String(100), default="")
