"""Discussion of clauses: threads of comments, optionally anchored to a range of the text."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, Text, false, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow
from models.conferences import DRAFTING_ROLES, GroupRole
from models.participants import Participant
from models.recommendations import Clause, ClauseStatus, Recommendation, RecommendationStatus


def may_comment_on(clause: Clause, participant: Participant) -> bool:
    """``may_comment_in`` its recommendation, while the clause is neither deleted nor adopted
    (its adoption closed its discussion)."""
    return (clause.deleted_at is None and clause.status is not ClauseStatus.ADOPTED
            and may_comment_in(clause.recommendation, participant))


def may_comment_in(recommendation: Recommendation, participant: Participant) -> bool:
    """While it is a draft of a conference still open: chairs and members; observers unless
    their group restricts them to reading; the secretariat, which advises every group on
    wording."""
    if recommendation.status is not RecommendationStatus.DRAFTING or recommendation.is_closed:
        return False
    if participant.is_secretariat:
        return True
    role = recommendation.group.role_of(participant)
    if role in DRAFTING_ROLES:
        return True
    return role is GroupRole.OBSERVER and recommendation.group.observers_may_comment


class CommentThread(db.Model):  # type: ignore[name-defined]
    """One discussion on a clause: its first comment and the replies to it."""

    __tablename__ = "comment_thread"
    __table_args__ = (Index("ix_comment_thread_clause_id_activity", "clause_id", "last_activity_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clause.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The newest comment, edit, resolution or reopening: what "recent activity" sorts by.
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Yjs relative positions (``Y.encodeRelativePosition``) of the start and end of the
    #: commented words: they follow the text as people keep editing. NULL: the whole clause.
    anchor_start: Mapped[bytes | None] = mapped_column(LargeBinary)
    anchor_end: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The commented words as they were when the thread began, shown when they are deleted.
    quote: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    #: Resolved because its clause (or its recommendation) was adopted, not by a person's
    #: decision: the adoption closes the discussion of what it adopted.
    resolved_by_adoption: Mapped[bool] = mapped_column(default=False, server_default=false())

    clause: Mapped[Clause] = relationship()
    created_by: Mapped[Participant | None] = relationship(foreign_keys=[created_by_id])
    resolved_by: Mapped[Participant | None] = relationship(foreign_keys=[resolved_by_id])
    comments: Mapped[list[Comment]] = relationship(
        back_populates="thread", order_by="Comment.id", cascade="all, delete-orphan"
    )

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def is_anchored(self) -> bool:
        return self.anchor_start is not None

    def can_view(self, participant: Participant) -> bool:
        return self.clause.recommendation.can_view(participant)

    def can_reply(self, participant: Participant) -> bool:
        return may_comment_on(self.clause, participant)

    def can_resolve(self, participant: Participant) -> bool:
        """Resolve or reopen: whoever started the thread, or the group's chair."""
        if not may_comment_on(self.clause, participant):
            return False
        if self.created_by_id == participant.id:
            return True
        return self.clause.recommendation.group.role_of(participant) is GroupRole.CHAIR


class Comment(db.Model):  # type: ignore[name-defined]
    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_thread_id_id", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("comment_thread.id", ondelete="CASCADE"))
    #: The comment this one answers, in the same thread; NULL for the thread's first comment
    #: and for replies to the thread as a whole.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    #: Markdown; ``@**Name|id**`` mentions a member of the group.
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: A deleted comment keeps its place in the thread ("comment removed"), not its words.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    thread: Mapped[CommentThread] = relationship(back_populates="comments")
    author: Mapped[Participant | None] = relationship()

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def can_edit(self, participant: Participant) -> bool:
        """Edit or delete: its author, while they may still comment on the clause."""
        return (not self.is_deleted and self.author_id == participant.id
                and may_comment_on(self.thread.clause, participant))


# --- at a glance ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Activity:
    """At a glance: how much discussion there is and when it last moved."""

    open_threads: int = 0
    comments: int = 0
    last_activity_at: Any = None


def activity_by_recommendation(recommendation_ids: list[int]) -> dict[int, Activity]:
    """Recommendation id -> its discussion activity, in one query."""
    if not recommendation_ids:
        return {}
    rows = db.session.execute(
        select(Clause.recommendation_id,
               func.count(func.distinct(CommentThread.id)).filter(CommentThread.resolved_at.is_(None)),
               func.count(Comment.id).filter(Comment.deleted_at.is_(None)),
               func.max(CommentThread.last_activity_at))
        .join(CommentThread, CommentThread.clause_id == Clause.id)
        .join(Comment, Comment.thread_id == CommentThread.id)
        .where(Clause.recommendation_id.in_(recommendation_ids), Clause.deleted_at.is_(None))
        .group_by(Clause.recommendation_id)
    ).tuples()
    return {rid: Activity(open_threads, comments, last) for rid, open_threads, comments, last in rows}


def _clause_activity_query() -> Any:
    return (
        select(CommentThread.clause_id,
               func.count(func.distinct(CommentThread.id)).filter(CommentThread.resolved_at.is_(None)),
               func.count(Comment.id).filter(Comment.deleted_at.is_(None)),
               func.max(CommentThread.last_activity_at))
        .join(Comment, Comment.thread_id == CommentThread.id)
        .group_by(CommentThread.clause_id)
    )


def activity_by_clause(recommendation: Recommendation) -> dict[int, Activity]:
    """Clause id -> its discussion activity, in one query."""
    rows = db.session.execute(
        _clause_activity_query().join(Clause, CommentThread.clause_id == Clause.id)
        .where(Clause.recommendation_id == recommendation.id)
    ).tuples()
    return {cid: Activity(open_threads, comments, last) for cid, open_threads, comments, last in rows}


def clause_activity(clause: Clause) -> Activity:
    row = db.session.execute(
        _clause_activity_query().where(CommentThread.clause_id == clause.id)).first()
    return Activity(*row[1:]) if row else Activity()
