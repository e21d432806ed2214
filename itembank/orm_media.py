"""Tables of item media (pictures in items: circuit diagrams, wiring drawings, photos of
equipment). ``itembank.media`` is the service; the pictures live in the database itself.

Why in the database, not in files beside it: a picture belongs to an item version exactly as
its text does, so the version row, its picture links and the picture bytes are written in one
transaction (a failed save or import leaves neither a file without a row nor a row without a
file); a backup of the database is a backup of the bank, pictures included; several
application servers on one PostgreSQL need no shared file system; and need-to-know is checked
in one place (附件12 第9条). Pictures are re-encoded and at most a few MB each, far inside
what SQLite BLOBs and PostgreSQL ``bytea`` hold; a bank with 1,200 items of which one in ten
has a 200 kB picture adds about 24 MB.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from itembank.orm import Base, utcnow


class MediaBlobRecord(Base):
    """One picture, stored once, addressed by the SHA-256 of its (re-encoded) bytes."""

    __tablename__ = "media_blobs"
    __table_args__ = (CheckConstraint("width > 0 AND height > 0", name="size_positive"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(32))  # image/png or image/jpeg
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    n_bytes: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MediaUploadRecord(Base):
    """Who brought a picture into which bank, from which file (an upload or an import).

    A picture can be referred to by the items of a bank only once it is known there (uploaded
    to it or linked to one of its item versions), so that a hash is never a way into another
    bank's pictures."""

    __tablename__ = "media_uploads"
    __table_args__ = (UniqueConstraint("bank_id", "sha256", "uploaded_by"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("media_blobs.sha256"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    source_name: Mapped[str] = mapped_column(String(255), default="")
    source_type: Mapped[str] = mapped_column(String(8))  # png, jpeg or svg (as sent)
    source_bytes: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ItemVersionPictureRecord(Base):
    """A picture that an item version shows. Versions never change, so neither do their
    links: a revision links its own pictures and the old version keeps its own (附件11 第14条)."""

    __tablename__ = "item_version_pictures"

    version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("media_blobs.sha256"), primary_key=True, index=True)
