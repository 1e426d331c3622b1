"""The in-app notification list: mentions, replies, decisions on one's amendments."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.amendments import Amendment
from models.base import UTCDateTime, db, utcnow
from models.comments import Comment
from models.participants import Participant, enum_column
from models.recommendations import Clause


class NotificationKind(enum.StrEnum):
    #: Someone @mentioned the recipient in a comment.
    MENTION = "mention"
    #: Someone replied in a thread the recipient started.
    REPLY = "reply"
    #: The chair accepted, rejected or put to a vote the recipient's amendment.
    AMENDMENT_DECIDED = "amendment_decided"


class Notification(db.Model):  # type: ignore[name-defined]
    """An entry of a participant's in-app notification list."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_recipient_id_id", "recipient_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind, "notification_kind"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    clause_id: Mapped[int] = mapped_column(ForeignKey("clause.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"))
    amendment_id: Mapped[int | None] = mapped_column(
        ForeignKey("amendment.id", ondelete="CASCADE")
    )
    #: For a decision: the status the amendment got.
    detail: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    recipient: Mapped[Participant] = relationship(foreign_keys=[recipient_id])
    actor: Mapped[Participant | None] = relationship(foreign_keys=[actor_id])
    clause: Mapped[Clause] = relationship()
    comment: Mapped[Comment | None] = relationship()
    amendment: Mapped[Amendment | None] = relationship()
