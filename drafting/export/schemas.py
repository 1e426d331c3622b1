"""Exports on the wire: the API's shapes of an export job and of a stored final document."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import url_for
from pydantic import BaseModel, Field

from drafting.export.jobs import ExportJob
from models import OutcomeDocument

FormatName = Literal["html", "pdf", "docx", "md", "json"]


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
        created_at=job.created_at, finished_at=job.finished_at)


def document_out(document: OutcomeDocument) -> OutcomeDocumentOut:
    return OutcomeDocumentOut(
        format=document.format.value,
        sha256=document.sha256, size=document.size,
        created_at=document.created_at, created_by_id=document.created_by_id,
        download_url=url_for("export.final_download", conference_id=document.conference_id,
                             fmt=document.format.value))
