"""Conferences on the wire."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from drafting.markup import render_markdown
from models import Conference, VotingUnit


class GroupBrief(BaseModel):
    id: int
    name: str
    position: int


class ConferenceOut(BaseModel):
    id: int
    title: str
    venue: str
    starts_on: date
    ends_on: date
    organisers: list[str]
    description: str
    description_html: str
    preamble: str
    voting_unit: VotingUnit = Field(description="Who casts the ballots of the groups' votes: "
                                    "each person, or each delegation (set with PUT "
                                    "/conferences/{id}/voting-unit).")
    groups: list[GroupBrief]


class ConferenceWrite(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    title: str
    venue: str = ""
    starts_on: date
    ends_on: date
    organisers: list[str] = []
    description: str = ""
    preamble: str = ""


class ConferencePatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    title: str | None = None
    venue: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    organisers: list[str] | None = None
    description: str | None = None
    preamble: str | None = None


def conference_out(conference: Conference) -> ConferenceOut:
    return ConferenceOut(
        id=conference.id, title=conference.title, venue=conference.venue,
        starts_on=conference.starts_on, ends_on=conference.ends_on,
        organisers=conference.organiser_list, description=conference.description,
        description_html=render_markdown(conference.description),
        preamble=conference.preamble, voting_unit=conference.voting_unit,
        groups=[GroupBrief(id=g.id, name=g.name, position=g.position) for g in conference.groups],
    )


def conference_fields(conference: Conference) -> dict[str, object]:
    return {
        "title": conference.title, "venue": conference.venue,
        "starts_on": conference.starts_on, "ends_on": conference.ends_on,
        "organisers": conference.organisers, "description": conference.description,
        "preamble": conference.preamble,
    }


def with_organiser_lines(values: dict[str, object]) -> dict[str, object]:
    """The API sends organisers as a list; the service stores one per line."""
    organisers = values.get("organisers")
    if isinstance(organisers, list):
        values = {**values, "organisers": "\n".join(str(o).strip() for o in organisers)}
    return values
