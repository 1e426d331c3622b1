"""Conferences on the wire."""
from __future__ import annotations

from datetime import date
from typing import Self

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, model_validator

from drafting.errors import ValidationFailed
from drafting.markup import render_markdown
from models import Conference, Distribution, QuorumRule, RulesOfProcedure, VoteRule, VotingUnit


class RulesOut(BaseModel):
    """The conference's rules of procedure: how its working groups decide."""

    decision_rule: VoteRule = Field(description="consensus (declared by the chair when nobody "
                                    "objects), or the majority by which groups vote.")
    fallback_rule: VoteRule | None = Field(description="Under consensus: the majority of a vote "
                                           "that may follow a consensus that failed on the "
                                           "same text; null: no vote ever.")
    quorum: QuorumRule = Field(description="How many of the members must take part (a vote) "
                               "or be reached (consensus): majority, one_third or none.")
    chair_votes: bool = Field(description="Whether a group's chair votes with its members.")
    reconsideration_rule: VoteRule = Field(description="What carries a motion to reconsider a "
                                           "decided text.")


def rules_out(rules: RulesOfProcedure) -> RulesOut:
    return RulesOut(decision_rule=rules.decision_rule, fallback_rule=rules.fallback_rule,
                    quorum=rules.quorum, chair_votes=rules.chair_votes,
                    reconsideration_rule=rules.reconsideration_rule)


class RulesIn(BaseModel):
    """Set the rules of procedure (secretariat): every rule, as RulesOut shows them."""

    model_config = ConfigDict(extra="forbid", strict=True)

    decision_rule: VoteRule = Field(strict=False)
    fallback_rule: VoteRule | None = Field(default=None, strict=False)
    quorum: QuorumRule = Field(strict=False)
    chair_votes: bool
    reconsideration_rule: VoteRule = Field(strict=False)

    @model_validator(mode="after")
    def _clean(self) -> Self:
        if self.fallback_rule is VoteRule.CONSENSUS:
            raise ValidationFailed(_("A vote after a failed consensus is by a majority; choose "
                                     "one, or none for no vote."),
                                   fields={"fallback_rule": _("Choose a majority, or none.")})
        if self.decision_rule is not VoteRule.CONSENSUS:
            self.fallback_rule = None  # groups vote anyway: nothing follows a consensus
        return self


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
    document_symbol: str = Field(description="The outcome document's symbol, such as "
                                 "CONF.MIGR/1/09; empty: none.")
    symbol_suffix: str = Field(description="This issue of the document: empty for the "
                               "original, or Rev.N, Add.N, Corr.N (combined with /).")
    original_language: str = Field(description="The authentic language, a language code "
                                   "(\"Original: ENGLISH\" for en).")
    distribution: Distribution = Field(description="general or limited, as the document's "
                                       "heading prints it.")
    body_name: str = Field(description="The subject of the recommendations' operative verbs, "
                           "printed before each preamble; empty: \"The participants in the "
                           "Conference “<title>”,\" in the reader's language.")
    groups: list[GroupBrief]
    rules: RulesOut


class ConferenceWrite(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    title: str
    venue: str = ""
    starts_on: date
    ends_on: date
    organisers: list[str] = []
    description: str = ""
    preamble: str = ""
    document_symbol: str = ""
    symbol_suffix: str = ""
    original_language: str = "en"
    distribution: Distribution = Field(default=Distribution.GENERAL, strict=False)
    body_name: str = ""


class ConferencePatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    title: str | None = None
    venue: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    organisers: list[str] | None = None
    description: str | None = None
    preamble: str | None = None
    document_symbol: str | None = None
    symbol_suffix: str | None = None
    original_language: str | None = None
    distribution: Distribution | None = Field(default=None, strict=False)
    body_name: str | None = None


def conference_out(conference: Conference) -> ConferenceOut:
    return ConferenceOut(
        id=conference.id, title=conference.title, venue=conference.venue,
        starts_on=conference.starts_on, ends_on=conference.ends_on,
        organisers=conference.organiser_list, description=conference.description,
        description_html=render_markdown(conference.description),
        preamble=conference.preamble, voting_unit=conference.voting_unit,
        document_symbol=conference.document_symbol, symbol_suffix=conference.symbol_suffix,
        original_language=conference.original_language, distribution=conference.distribution,
        body_name=conference.body_name,
        groups=[GroupBrief(id=g.id, name=g.name, position=g.position) for g in conference.groups],
        rules=rules_out(conference.rules),
    )


def conference_fields(conference: Conference) -> dict[str, object]:
    return {
        "title": conference.title, "venue": conference.venue,
        "starts_on": conference.starts_on, "ends_on": conference.ends_on,
        "organisers": conference.organisers, "description": conference.description,
        "preamble": conference.preamble,
        "document_symbol": conference.document_symbol, "symbol_suffix": conference.symbol_suffix,
        "original_language": conference.original_language,
        "distribution": conference.distribution, "body_name": conference.body_name,
    }


def with_organiser_lines(values: dict[str, object]) -> dict[str, object]:
    """The API sends organisers as a list; the service stores one per line."""
    organisers = values.get("organisers")
    if isinstance(organisers, list):
        values = {**values, "organisers": "\n".join(str(o).strip() for o in organisers)}
    return values
