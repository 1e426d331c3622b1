"""Recommendations and clauses on the wire, and the commands that change them.

A command (``RecommendationWrite``, ``ClauseCreate``, ``ClausePatch``, ``ClauseMove``) is the
API's body and the forms' result alike, validated once at the edge: its types by pydantic,
its texts (trimmed, within bounds) by its ``_clean`` step, which raises the services' own
``ValidationFailed`` so both edges answer it in the one error shape. What depends on the
database (who may, which clause, its state) stays in the services."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, model_validator

from drafting.editing.services import max_clause_length
from drafting.groups.schemas import RecommendationBrief, recommendation_brief
from drafting.markup import render_markdown
from drafting.services import clean_text
from drafting.typography import render_preambular
from models import Clause, ClauseKind, ClauseStatus, Recommendation


def clean_clause_text(value: Any, *, required: bool = True) -> str:
    """A clause's text as a command carries it: trimmed, at most ``max_clause_length``."""
    return clean_text(value, "text", _("Clause text"), max_length=max_clause_length(),
                      required=required)

class ClauseOut(BaseModel):
    id: int = Field(description="Stable for ever; never reused.")
    kind: ClauseKind
    status: ClauseStatus = Field(description="open, or locked/adopted: the wording cannot change.")
    number: str = Field(description="Display number, recomputed from the order: 'PP1', '1.'.")
    ad_referendum: bool = Field(description="Agreed ad referendum: the negotiators agree on "
                                "the wording, subject to confirmation by their capitals.")
    text: str
    text_html: str = Field(description="The text rendered and sanitised; each passage in "
                           "square brackets (unagreed) wrapped in <mark>; a preambular "
                           "clause's opening participle in <em> (the drafter's emphasis, or "
                           "else its first word).")


class RecommendationOut(RecommendationBrief):
    conference_id: int
    created_at: datetime
    clauses: list[ClauseOut]


class RecommendationQuery(BaseModel):
    group: int | None = Field(default=None, description="Only this working group's recommendations.")


#: The longest a recommendation's title may be.
MAX_TITLE_LENGTH = 300


class RecommendationWrite(BaseModel):
    """Start a draft, or rename one."""

    model_config = ConfigDict(extra="forbid", strict=True)

    title: str

    @model_validator(mode="after")
    def _clean(self) -> Self:
        self.title = clean_text(self.title, "title", _("Title"), max_length=MAX_TITLE_LENGTH)
        return self


class ClauseCreate(BaseModel):
    """A new clause at the end of its part, or right after after_id."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # Enums from their values, as JSON sends them (in the API as from a form).
    kind: ClauseKind = Field(strict=False)
    text: str
    after_id: int | None = Field(default=None, description="Insert right after this clause "
                                 "(same kind); by default at the end of its kind.")

    @model_validator(mode="after")
    def _clean(self) -> Self:
        self.text = clean_clause_text(self.text, required=False)
        return self


class ClausePatch(BaseModel):
    """A clause's new wording and/or kind (left out or null: unchanged)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: str | None = Field(default=None, description="New wording, applied as a live edit.")
    kind: ClauseKind | None = Field(default=None, strict=False,
                                    description="Move to the other part (at its end).")

    @model_validator(mode="after")
    def _clean(self) -> Self:
        if self.text is not None:
            self.text = clean_clause_text(self.text, required=False)
        return self


class ClauseMove(BaseModel):
    """Reorder a clause within its part."""

    model_config = ConfigDict(extra="forbid", strict=True)

    after_id: int | None = Field(description="The clause of the same part it should follow; "
                                 "null to make it the first of its part.")


def clause_out(clause: Clause, numbers: dict[int, str]) -> ClauseOut:
    return ClauseOut(id=clause.id, kind=clause.kind, status=clause.status,
                     number=numbers.get(clause.id, ""), ad_referendum=clause.ad_referendum,
                     text=clause.text,
                     text_html=(render_preambular(clause.text) if clause.kind is ClauseKind.PREAMBULAR
                                else render_markdown(clause.text)))


def recommendation_out(recommendation: Recommendation) -> RecommendationOut:
    numbers = recommendation.display_numbers()
    return RecommendationOut(
        **recommendation_brief(recommendation).model_dump(),
        conference_id=recommendation.group.conference_id,
        created_at=recommendation.created_at,
        clauses=[clause_out(c, numbers) for c in recommendation.live_clauses],
    )
