"""SQLAlchemy models: the data, and the permission questions about it."""
from models.base import Base, db, utcnow
from models.conferences import DRAFTING_ROLES, Conference, GroupRole, Membership, WorkingGroup
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
    "ApiToken",
    "Base",
    "Clause",
    "ClauseKind",
    "ClauseSnapshot",
    "ClauseStatus",
    "ClauseUpdate",
    "Conference",
    "GroupRole",
    "Invitation",
    "LoginSession",
    "Membership",
    "Participant",
    "Recommendation",
    "RecommendationStatus",
    "StakeholderCategory",
    "WorkingGroup",
    "db",
    "hash_secret",
    "utcnow",
]
