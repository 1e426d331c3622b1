"""Participants on the wire."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from models import Participant, StakeholderCategory


class ParticipantBrief(BaseModel):
    """What any participant of a conference may know about another."""

    id: int
    name: str
    family_name: str = Field(description="What alphabetical lists go by; empty: the last word "
                             "of the name.")
    affiliation: str
    country: str
    category: StakeholderCategory


class ParticipantOut(ParticipantBrief):
    """The full record: for the participant themselves and for the secretariat."""

    email: str
    is_secretariat: bool
    is_active: bool
    has_password: bool
    publish_name: bool
    locale: str | None


class ParticipantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    email: str
    name: str
    family_name: str = ""
    affiliation: str = ""
    country: str = ""
    category: StakeholderCategory
    is_secretariat: bool = False


class ParticipantUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    email: str | None = None
    name: str | None = None
    family_name: str | None = None
    affiliation: str | None = None
    country: str | None = None
    category: StakeholderCategory | None = None
    is_secretariat: bool | None = None
    is_active: bool | None = None


class InvitationOut(BaseModel):
    participant: ParticipantOut
    invitation_url: str = Field(description="Single-use link with which the invitee sets a password. "
                                "Shown once; send it to the participant.")


def participant_brief(participant: Participant) -> ParticipantBrief:
    return ParticipantBrief(
        id=participant.id, name=participant.name, family_name=participant.family_name,
        affiliation=participant.affiliation,
        country=participant.country, category=participant.category,
    )


def participant_out(participant: Participant) -> ParticipantOut:
    return ParticipantOut(
        **participant_brief(participant).model_dump(),
        email=participant.email, is_secretariat=participant.is_secretariat,
        is_active=participant.is_active_account, has_password=participant.has_password,
        publish_name=participant.publish_name, locale=participant.locale,
    )


def participant_fields(participant: Participant) -> dict[str, object]:
    """The editable fields as a service expects them, for merging partial updates."""
    return {
        "email": participant.email, "name": participant.name, "family_name": participant.family_name,
        "affiliation": participant.affiliation, "country": participant.country,
        "category": participant.category, "is_secretariat": participant.is_secretariat,
    }
