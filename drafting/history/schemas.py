"""Clause history on the wire."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from drafting.history.services import EditingSession
from drafting.participants.schemas import ParticipantBrief, participant_brief


class SessionOut(BaseModel):
    author: ParticipantBrief | None = Field(description="None for the text a clause started with.")
    started_at: datetime
    ended_at: datetime
    first_update_id: int
    last_update_id: int = Field(description="A point of history: use it with /text and /diff.")
    updates: int
    handed_in_by: ParticipantBrief | None = Field(
        default=None, description="Who handed the author's edits in, when another editor's "
        "replica did (it had them when the server lost them); None when the author did.")


class HistoryOut(BaseModel):
    clause_id: int
    sessions: list[SessionOut] = Field(description="Newest first.")


class TextAtOut(BaseModel):
    clause_id: int
    at: int
    text: str


class PieceOut(BaseModel):
    op: Literal["equal", "insert", "delete"]
    text: str


class HistoryQuery(BaseModel):
    at: int = Field(description="A point of history (an update id from the history).")


class DiffQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: int = Field(alias="from", description="The earlier point.")
    to: int | None = Field(default=None, description="The later point; the current text if absent.")


class RestoreWording(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    at: int = Field(description="The point of history whose wording becomes current.")


def session_out(session: EditingSession) -> SessionOut:
    return SessionOut(
        author=participant_brief(session.author) if session.author else None,
        started_at=session.started_at, ended_at=session.ended_at,
        first_update_id=session.first_update_id, last_update_id=session.last_update_id,
        updates=session.updates,
        handed_in_by=participant_brief(session.handed_in_by) if session.handed_in_by else None,
    )
