"""SQLAlchemy models: the data, and the permission questions about it."""
from models.amendments import (
    OPEN_STATUSES,
    Amendment,
    AmendmentKind,
    AmendmentSponsor,
    AmendmentStatus,
)
from models.base import Base, db, utcnow
from models.comments import Comment, CommentThread, may_comment_in, may_comment_on
from models.conferences import DRAFTING_ROLES, Conference, GroupRole, Membership, WorkingGroup
from models.notifications import Notification, NotificationKind
from models.participants import (
    ApiToken,
    Invitation,
    LoginSession,
    Participant,
    StakeholderCategory,
    hash_secret,
)
from models.recommendations import (
    Clause,
    ClauseKind,
    ClauseSnapshot,
    ClauseStatus,
    ClauseUpdate,
    Recommendation,
    RecommendationStatus,
)

__all__ = [
    "DRAFTING_ROLES",
    "OPEN_STATUSES",
    "Amendment",
    "AmendmentKind",
    "AmendmentSponsor",
    "AmendmentStatus",
    "ApiToken",
    "Base",
    "Clause",
    "ClauseKind",
    "ClauseSnapshot",
    "ClauseStatus",
    "ClauseUpdate",
    "Comment",
    "CommentThread",
    "Conference",
    "GroupRole",
    "Invitation",
    "LoginSession",
    "Membership",
    "Notification",
    "NotificationKind",
    "Participant",
    "Recommendation",
    "RecommendationStatus",
    "StakeholderCategory",
    "WorkingGroup",
    "db",
    "hash_secret",
    "may_comment_in",
    "may_comment_on",
    "utcnow",
]
