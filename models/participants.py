"""Participants (user accounts) and what authenticates them: login sessions, invitations, API tokens."""
from __future__ import annotations

import enum
import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from models.conferences import Membership


class StakeholderCategory(enum.StrEnum):
    PARLIAMENTARIAN = "parliamentarian"
    GOVERNMENT_OFFICIAL = "government_official"
    NGO_REPRESENTATIVE = "ngo_representative"
    INTERNATIONAL_EXPERT = "international_expert"
    INTERNATIONAL_ORGANISATION = "international_organisation"


def enum_column(enum_class: type[enum.Enum], name: str) -> Enum:
    """Store an enum by its value (not its Python name), as a portable VARCHAR + CHECK."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy random secret (tokens, not passwords: those use argon2)."""
    return hashlib.sha256(secret.encode()).hexdigest()


# Colour-blind-safe and readable on white (Okabe-Ito, darkened where needed).
PRESENCE_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8A6D00", "#2B7BB9", "#B8002E",
                   "#6A3D9A")


class Participant(UserMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name; stored lower-cased so that lookups need no function index.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: Full name as it should appear in lists and in the outcome document.
    name: Mapped[str] = mapped_column(String(200))
    #: Family name, where people are listed alphabetically (roll calls); empty: the last
    #: word of ``name`` ("Elena Sokolova" is listed under "Sokolova").
    family_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: Institution, parliament, ministry or organisation the participant represents.
    affiliation: Mapped[str] = mapped_column(String(200), default="")
    #: Country or organisation the participant speaks for, free text ("Kazakhstan", "IOM").
    country: Mapped[str] = mapped_column(String(100), default="")
    category: Mapped[StakeholderCategory] = mapped_column(
        enum_column(StakeholderCategory, "stakeholder_category")
    )
    #: Global role: sets up conferences, groups and participants; compiles the outcome document.
    is_secretariat: Mapped[bool] = mapped_column(default=False)
    #: argon2id hash; NULL until the participant accepts an invitation and chooses a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: A deactivated participant cannot sign in; their authorship stays in the record.
    is_active_account: Mapped[bool] = mapped_column(default=True)
    #: Listed by name in published participant lists (annex C) unless they opt out.
    publish_name: Mapped[bool] = mapped_column(default=True)
    #: Preferred interface language ("en", "ru"); NULL follows the browser.
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="participant", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts at login_user()
        return self.is_active_account

    @property
    def color(self) -> str:
        """The participant's colour for cursors and presence, the same for everyone."""
        return PRESENCE_COLORS[self.id % len(PRESENCE_COLORS)]

    @property
    def surname(self) -> str:
        """The name alphabetical lists go by: the family name, or the last word of the name."""
        return self.family_name.strip() or (self.name.split() or [""])[-1]

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def can_manage_participants(self) -> bool:
        return self.is_secretariat

    def __repr__(self) -> str:
        return f"<Participant {self.id} {self.email}>"


class LoginSession(db.Model):  # type: ignore[name-defined]
    """One signed-in browser. Its random id is rotated at every login and revoked at logout,
    so a cookie captured before sign-in or after sign-out opens nothing."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    #: SHA-256 of the session secret kept in the signed cookie.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    participant: Mapped[Participant] = relationship()

    def is_live(self, now: datetime, lifetime: timedelta) -> bool:
        """Not signed out, and younger than the cookie it came with (``lifetime``): a copied
        cookie opens nothing once the browser's own would have expired."""
        return self.revoked_at is None and now < self.created_at + lifetime


class Invitation(db.Model):  # type: ignore[name-defined]
    """A single-use, expiring link with which a participant chooses a password."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    #: SHA-256 of the token in the link; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Set when the invitation is accepted, or when a newer invitation replaces it.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    participant: Mapped[Participant] = relationship(foreign_keys=[participant_id])

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


class ApiToken(db.Model):  # type: ignore[name-defined]
    """A personal access token for scripts (``Authorization: Bearer <token>``)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    #: What the owner calls it ("rapporteur script").
    name: Mapped[str] = mapped_column(String(100))
    #: First characters of the token, shown so the owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    participant: Mapped[Participant] = relationship()

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None

    def can_revoke(self, actor: Participant) -> bool:
        return actor.id == self.participant_id


__all__ = [
    "ApiToken",
    "Invitation",
    "LoginSession",
    "Participant",
    "StakeholderCategory",
    "enum_column",
    "hash_secret",
]
