"""Exports on the wire: the API's shapes of an export job, of a stored final document, of
the plenary's adoption of the outcome document and of the Chair's summary."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal, Self

from flask import url_for
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, model_validator

from drafting.export.jobs import ExportJob
from drafting.export.labels import adoption_how, adoption_line
from drafting.markup import render_markdown
from drafting.participants.schemas import ParticipantBrief, participant_brief
from drafting.services import clean_text
from models import Conference, OutcomeDocument, PlenaryAdoption

#: The longest Chair's summary, in characters.
MAX_SUMMARY_LENGTH = 50000

FormatName = Literal["html", "pdf", "docx", "md", "json", "akn"]


class ExportRequest(BaseModel):
    format: FormatName
    changes: bool = Field(False, description="The \"changes since the first draft\" version: "
                          "each clause as a redline against its wording when its first vote opened.")
    group_id: int | None = Field(None, description="Only this working group's section "
                                 "(a chair's draft export); null: the whole conference.")


class ExportJobOut(BaseModel):
    id: int
    kind: Literal["export", "finalise"] = Field(description="export: one format, downloaded "
                                                "from download_url; finalise: every format, "
                                                "stored (GET .../documents once finished).")
    conference_id: int
    group_id: int | None
    format: FormatName | None = Field(description="The format of an export; null when "
                                      "finalising.")
    changes: bool
    status: Literal["queued", "running", "finished", "failed"]
    progress: int = Field(ge=0, le=100)
    error: str | None
    final: bool = Field(description="True only when the file is the stored final document; "
                        "a draft is never final.")
    filename: str | None
    size: int | None
    download_url: str | None = Field(description="Where the finished file is downloaded "
                                     "(an HTTP route, same authentication).")
    created_at: datetime
    started_at: datetime | None = Field(description="When it left the queue (a participant's "
                                        "exports run one at a time, in the order asked for); "
                                        "null while queued.")
    finished_at: datetime | None


class OutcomeDocumentOut(BaseModel):
    format: FormatName
    sha256: str
    size: int
    created_at: datetime
    created_by_id: int | None
    download_url: str


def job_out(job: ExportJob) -> ExportJobOut:
    finished = job.status == "finished"
    downloadable = finished and job.kind == "export"
    return ExportJobOut(
        id=job.id, kind=job.kind, conference_id=job.conference_id, group_id=job.group_id,
        format=job.format,
        changes=job.changes, status=job.status,
        progress=job.progress, error=job.error, final=job.final and finished,
        filename=job.filename if downloadable else None,
        size=len(job.data) if downloadable and job.data is not None else None,
        download_url=url_for("export.job_download", job_id=job.id) if downloadable else None,
        created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at)


def document_out(document: OutcomeDocument) -> OutcomeDocumentOut:
    return OutcomeDocumentOut(
        format=document.format.value,
        sha256=document.sha256, size=document.size,
        created_at=document.created_at, created_by_id=document.created_by_id,
        download_url=url_for("export.final_download", conference_id=document.conference_id,
                             fmt=document.format.value))


# --- the closing plenary ---------------------------------------------------------------------


class PlenaryAdoptionIn(BaseModel):
    """The plenary's adoption of the outcome document, as the secretariat records it."""

    model_config = ConfigDict(extra="forbid")

    adopted_on: date = Field(description="The day of the meeting, within the conference's dates.")
    place: str = Field("", description="Where, as printed; empty: the conference's venue.")
    meeting: str = Field("", description="The meeting as printed after \"Adopted at\" (\"the "
                         "3rd plenary meeting\"); empty: the closing plenary meeting, in the "
                         "document's language.")
    method: Literal["consensus", "vote"] = Field("consensus", description="consensus: nobody "
                                                 "objected, nothing counted; vote: with counts.")
    votes_yes: int | None = Field(None, ge=0, le=1_000_000)
    votes_no: int | None = Field(None, ge=0, le=1_000_000)
    votes_abstain: int | None = Field(None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _clean(self) -> Self:
        self.place = clean_text(self.place, "place", _("Place"), max_length=300, required=False)
        self.meeting = clean_text(self.meeting, "meeting", _("Meeting"), max_length=300,
                                  required=False)
        return self


class PlenaryAdoptionOut(BaseModel):
    conference_id: int
    adopted_on: date
    place: str
    meeting: str = Field(description="Empty: the closing plenary meeting.")
    method: Literal["consensus", "vote"]
    votes_yes: int | None
    votes_no: int | None
    votes_abstain: int | None
    line: str = Field(description="The adoption line as the outcome document prints it, in "
                      "the reader's language.")
    how: str = Field(description="How it was adopted, as printed under the line.")
    recorded_by: ParticipantBrief | None
    recorded_at: datetime


def plenary_adoption_out(adoption: PlenaryAdoption) -> PlenaryAdoptionOut:
    return PlenaryAdoptionOut(
        conference_id=adoption.conference_id, adopted_on=adoption.adopted_on,
        place=adoption.place, meeting=adoption.meeting, method=adoption.method.value,
        votes_yes=adoption.votes_yes, votes_no=adoption.votes_no,
        votes_abstain=adoption.votes_abstain,
        line=adoption_line(adoption.meeting, adoption.place, adoption.adopted_on),
        how=adoption_how(adoption.method.value, adoption.votes_yes, adoption.votes_no,
                         adoption.votes_abstain),
        recorded_by=participant_brief(adoption.recorded_by) if adoption.recorded_by else None,
        recorded_at=adoption.recorded_at)


class ChairsSummaryIn(BaseModel):
    """The Chair's summary (Markdown); empty: none."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: str

    @model_validator(mode="after")
    def _clean(self) -> Self:
        self.text = clean_text(self.text, "text", _("Chair's summary"),
                               max_length=MAX_SUMMARY_LENGTH, required=False)
        return self


class ChairsSummaryOut(BaseModel):
    conference_id: int
    text: str = Field(description="Markdown, as written; empty: there is none.")
    text_html: str = Field(description="The same, as the one sanitiser renders it.")


def chairs_summary_out(conference: Conference) -> ChairsSummaryOut:
    return ChairsSummaryOut(conference_id=conference.id, text=conference.chairs_summary,
                            text_html=str(render_markdown(conference.chairs_summary)))
