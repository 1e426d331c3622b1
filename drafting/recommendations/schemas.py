"""Recommendations and clauses on the wire."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from drafting.groups.schemas import RecommendationBrief, recommendation_brief
from drafting.markup import render_markdown
from models import Clause, ClauseKind, ClauseStatus, Recommendation


class ClauseOut(BaseModel):
    id: int = Field(description="Stable for ever; never reused.")
    kind: ClauseKind
    status: ClauseStatus = Field(description="open, or locked/adopted: the wording cannot change.")
    number: str = Field(description="Display number, recomputed from the order: 'PP1', '1.'.")
    text: str
    text_html: str


class RecommendationOut(RecommendationBrief):
    conference_id: int
    created_at: datetime
    clauses: list[ClauseOut]


class RecommendationQuery(BaseModel):
    group: int | None = Field(default=None, description="Only this working group's recommendations.")


class RecommendationWrite(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    title: str


class ClauseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: ClauseKind
    text: str
    after_id: int | None = Field(default=None, description="Insert right after this clause "
                                 "(same kind); by default at the end of its kind.")


class ClausePatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str | None = Field(default=None, description="New wording, applied as a live edit.")
    kind: ClauseKind | None = Field(default=None, description="Move to the other part (at its end).")


class ClauseMove(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    after_id: int | None = Field(description="The clause of the same part it should follow; "
                                 "null to make it the first of its part.")


def clause_out(clause: Clause, numbers: dict[int, str]) -> ClauseOut:
    return ClauseOut(id=clause.id, kind=clause.kind, status=clause.status,
                     number=numbers.get(clause.id, ""), text=clause.text,
                     text_html=render_markdown(clause.text))


def recommendation_out(recommendation: Recommendation) -> RecommendationOut:
    numbers = recommendation.display_numbers()
    return RecommendationOut(
        **recommendation_brief(recommendation).model_dump(),
        conference_id=recommendation.group.conference_id,
        created_at=recommendation.created_at,
        clauses=[clause_out(c, numbers) for c in recommendation.live_clauses],
    )
