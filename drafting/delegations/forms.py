"""The delegation forms of the pages. Each turns what a browser posts into its command
(drafting/delegations/schemas.py), which refuses what is wrong field by field."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields import SelectChoice

from drafting.delegations.schemas import DelegationPatch, DelegationWrite, SeatIn, VotingUnitIn
from drafting.forms import as_id, command_from

KIND_CHOICES = [
    SelectChoice("state", _l("Participating State")),
    SelectChoice("organisation", _l("International organisation")),
    SelectChoice("other", _l("Other")),
]

UNIT_CHOICES = [
    SelectChoice("person", _l("Each participant who may vote casts a ballot")),
    SelectChoice("delegation", _l("Each delegation casts one ballot, through its head or its "
                                  "designated voter")),
]

_KIND_REFUSAL = (_l("Choose what kind of delegation it is."), _l("Choose one of the kinds."))


class DelegationForm(FlaskForm):
    """A new delegation."""

    name = StringField(_l("Name"))
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    sort_key = StringField(_l("Sort key"))

    def command(self) -> DelegationWrite:
        return command_from(DelegationWrite, {"name": self.name.data or "",
                                              "kind": self.kind.data or "",
                                              "sort_key": self.sort_key.data or ""},
                            refusals={"kind": _KIND_REFUSAL})


class DelegationEditForm(DelegationForm):
    """A delegation's name, kind and sort key, its head and designated voter (among its
    members: ``choices`` are set by the page)."""

    # The service checks that they are members (the page offers only members).
    head_id = SelectField(_l("Head of delegation"), choices=[], validate_choice=False)
    voter_id = SelectField(_l("Designated voter"), choices=[], validate_choice=False)

    def command(self) -> DelegationPatch:  # type: ignore[override]
        data: dict[str, Any] = {"name": self.name.data or "", "kind": self.kind.data or "",
                                "sort_key": self.sort_key.data or "",
                                # "" is none; an id that is not a number names nobody (-1).
                                "head_id": (as_id(self.head_id.data) or -1) if self.head_id.data else None,
                                "voter_id": (as_id(self.voter_id.data) or -1) if self.voter_id.data else None}
        return command_from(DelegationPatch, data, refusals={"kind": _KIND_REFUSAL})


class SeatForm(FlaskForm):
    """Seat a participant (``participant_id``, choices set by the page) in this delegation."""

    participant_id = SelectField(_l("Participant"), choices=[], validate_choice=False)

    def command(self, delegation_id: int) -> SeatIn:
        return command_from(SeatIn, {"delegation_id": delegation_id})


class VotingUnitForm(FlaskForm):
    voting_unit = SelectField(_l("Who casts the ballots"), choices=UNIT_CHOICES)

    def command(self) -> VotingUnitIn:
        return command_from(VotingUnitIn, {"voting_unit": self.voting_unit.data or ""}, refusals={
            "voting_unit": (_l("Choose who casts the ballots."), _l("Choose one."))})
