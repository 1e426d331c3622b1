"""The final outcome document: each format rendered once and kept, byte for byte."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow
from models.conferences import Conference
from models.participants import Participant, enum_column


class ExportFormat(enum.StrEnum):
    HTML = "html"
    PDF = "pdf"
    DOCX = "docx"
    MD = "md"
    JSON = "json"
    AKN = "akn"


class OutcomeDocument(db.Model):  # type: ignore[name-defined]
    """One format of a conference's final outcome document.

    Written once when the secretariat finalises and never changed: a later download serves
    exactly these bytes, so the SHA-256 published with the document stays true. One row per
    conference and format is the database's unique constraint, so two secretariat members
    finalising at the same moment cannot both succeed."""

    __tablename__ = "outcome_document"
    __table_args__ = (UniqueConstraint("conference_id", "format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conference.id", ondelete="CASCADE"), index=True
    )
    format: Mapped[ExportFormat] = mapped_column(enum_column(ExportFormat, "export_format"))
    #: The rendered file, exactly as downloaded.
    data: Mapped[bytes] = mapped_column(LargeBinary)
    #: Hex SHA-256 of ``data``, shown beside the download so a reader can check a copy.
    sha256: Mapped[str] = mapped_column(String(64))
    #: Length of ``data`` in bytes (listing the documents need not load them).
    size: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Who finalised; NULL: the account was deleted since.
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )

    conference: Mapped[Conference] = relationship()
    created_by: Mapped[Participant | None] = relationship()
