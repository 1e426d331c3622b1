"""Delegations on the wire, and the commands that change them (the API's bodies and the
delegation forms' results alike: ``drafting.forms.command_from``)."""
from __future__ import annotations

from typing import Self

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, model_validator

from drafting.participants.schemas import ParticipantBrief, participant_brief
from drafting.services import clean_text
from models import Delegation, DelegationKind, VotingUnit

MAX_NAME_LENGTH = 200


class DelegationBrief(BaseModel):
    """A delegation as it is named beside a participant (member lists, roll calls, statements)."""

    id: int
    name: str
    kind: DelegationKind


class DelegationOut(DelegationBrief):
    conference_id: int
    sort_key: str = Field(description="What alphabetical order (roll calls) goes by.")
    head: ParticipantBrief | None
    voter: ParticipantBrief | None = Field(description="The member designated to cast the "
                                           "delegation's ballots (besides its head).")
    members: list[ParticipantBrief]


def _clean_names(command: DelegationWrite | DelegationPatch) -> None:
    if command.name is not None:
        command.name = clean_text(command.name, "name", _("Name"), max_length=MAX_NAME_LENGTH)
    if command.sort_key is not None:
        command.sort_key = clean_text(command.sort_key, "sort_key", _("Sort key"),
                                      max_length=MAX_NAME_LENGTH, required=False)


class DelegationWrite(BaseModel):
    """A new delegation: its name as printed, its kind, and (default: the name) what it is
    sorted by."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str
    kind: DelegationKind = Field(default=DelegationKind.STATE, strict=False)
    sort_key: str = Field(default="", description="Empty: the name.")

    @model_validator(mode="after")
    def _clean(self) -> Self:
        _clean_names(self)
        return self


class DelegationPatch(BaseModel):
    """Rename, change the kind or sort key, name the head or the designated voter (a member
    of the delegation, or null for none)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = None
    kind: DelegationKind | None = Field(default=None, strict=False)
    sort_key: str | None = Field(default=None, description="Empty: the name.")
    head_id: int | None = None
    voter_id: int | None = None

    @model_validator(mode="after")
    def _clean(self) -> Self:
        _clean_names(self)
        return self


class SeatIn(BaseModel):
    """Seat a participant in a delegation of the conference (moving them from any other)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    delegation_id: int


class VotingUnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    voting_unit: VotingUnit = Field(strict=False, description="person: each voter casts a "
                                    "ballot; delegation: one ballot per delegation, cast by its "
                                    "head or designated voter.")


class VotingUnitOut(BaseModel):
    voting_unit: VotingUnit


def delegation_brief(delegation: Delegation) -> DelegationBrief:
    return DelegationBrief(id=delegation.id, name=delegation.name, kind=delegation.kind)


def delegation_out(delegation: Delegation) -> DelegationOut:
    members = sorted((seat.participant for seat in delegation.seats), key=lambda p: p.name)
    return DelegationOut(
        id=delegation.id, name=delegation.name, kind=delegation.kind,
        conference_id=delegation.conference_id, sort_key=delegation.sort_key,
        head=participant_brief(delegation.head) if delegation.head else None,
        voter=participant_brief(delegation.voter) if delegation.voter else None,
        members=[participant_brief(p) for p in members])
