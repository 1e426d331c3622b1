"""The export page, downloads, background export jobs, finalising, and the export API."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from drafting.api import endpoint
from drafting.conferences.services import get_conference
from drafting.errors import INPUT_ERRORS, Conflict, DomainError, NotFound
from drafting.export import jobs, services
from drafting.export.schemas import (
    ExportJobOut,
    ExportRequest,
    OutcomeDocumentOut,
    document_out,
    job_out,
)
from drafting.groups.services import get_group
from models import Conference, Participant, WorkingGroup, db

bp = Blueprint("export", __name__)

#: The preview is the standalone HTML document, opened from the export page: nothing in it
#: may run, load or submit anything; only its inline print CSS applies.
PREVIEW_POLICY = "; ".join([
    "default-src 'none'", "style-src 'unsafe-inline'", "img-src data:", "base-uri 'none'",
    "form-action 'none'", "frame-ancestors 'none'", "sandbox",
])


# --- pages -------------------------------------------------------------------------------


def _flag(name: str) -> bool:
    return request.values.get(name) in {"1", "on", "true", "yes"}


def _render_page(conference: Conference, group: WorkingGroup | None = None,
                 error: DomainError | None = None, status: int = 200) -> ResponseReturnValue:
    services.check_can_export(current_user, conference, group)
    outline = services.outline_of(conference, group)
    documents = services.final_documents(conference) if group is None else []
    formats = [(fmt, services.is_available(fmt)) for fmt in services.FORMATS.values()]
    return render_template(
        "export/page.html", conference=conference, group=group, outline=outline,
        documents=documents, formats=formats, error=error,
        labels={name: fmt.label for name, fmt in services.FORMATS.items()},
        can_finalise=group is None and current_user.is_secretariat,
    ), status


@bp.get("/conferences/<int:conference_id>/export")
@login_required
def conference_page(conference_id: int) -> ResponseReturnValue:
    return _render_page(get_conference(conference_id, current_user))


@bp.get("/groups/<int:group_id>/export")
@login_required
def group_page(group_id: int) -> ResponseReturnValue:
    group = get_group(group_id, current_user)
    return _render_page(group.conference, group)


def _preview(conference: Conference, group: WorkingGroup | None) -> Response:
    exported = services.export(current_user, conference, "html", group=group,
                               changes=_flag("changes"))
    response = Response(exported.data, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["Content-Disposition"] = "inline"
    g.no_store = True
    return response


@bp.get("/conferences/<int:conference_id>/export/preview")
@login_required
def conference_preview(conference_id: int) -> ResponseReturnValue:
    return _preview(get_conference(conference_id, current_user), None)


@bp.get("/groups/<int:group_id>/export/preview")
@login_required
def group_preview(group_id: int) -> ResponseReturnValue:
    group = get_group(group_id, current_user)
    return _preview(group.conference, group)


def _attachment(data: bytes, filename: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    g.no_store = True
    return response


def _download(conference: Conference, group: WorkingGroup | None) -> ResponseReturnValue:
    """A direct download, rendered while the client waits: for links and simple scripts. The
    page's format buttons start a background job instead (``_start``). A heavy format (PDF,
    DOCX) is rendered by a child process here too, so that the server's other requests and
    sockets go on meanwhile; the light ones render in place."""
    fmt = services.clean_format(request.args.get("format"))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    render_with = (jobs.render_with(app, str(get_locale() or "en")) if fmt.heavy
                   else services.render_formats)
    exported = services.export(current_user, conference, fmt, group=group,
                               changes=_flag("changes"), render_with=render_with)
    return _attachment(*exported)


@bp.get("/conferences/<int:conference_id>/export/download")
@login_required
def conference_download(conference_id: int) -> ResponseReturnValue:
    return _download(get_conference(conference_id, current_user), None)


@bp.get("/groups/<int:group_id>/export/download")
@login_required
def group_download(group_id: int) -> ResponseReturnValue:
    group = get_group(group_id, current_user)
    return _download(group.conference, group)


@bp.get("/conferences/<int:conference_id>/export/final/<fmt>")
@login_required
def final_download(conference_id: int, fmt: str) -> ResponseReturnValue:
    conference = get_conference(conference_id, current_user)
    services.check_can_export(current_user, conference)
    chosen = services.FORMATS.get(fmt)
    stored = services.final_document(conference, chosen) if chosen else None
    if chosen is None or stored is None:
        raise NotFound(_("The outcome document is not final in this format."))
    return _attachment(stored.data, services.filename(conference, chosen, final=True),
                       chosen.mimetype)


@bp.post("/conferences/<int:conference_id>/finalise")
@login_required
def finalise(conference_id: int) -> ResponseReturnValue:
    conference = get_conference(conference_id, current_user)
    services.check_can_finalise(current_user, conference)
    if not _flag("confirm"):
        return _render_page(conference, error=Conflict(_(
            "Tick the box to confirm: the final document cannot be changed afterwards.")),
            status=400)
    try:
        job = jobs.start_finalise(current_user, conference)
    except INPUT_ERRORS as error:
        db.session.rollback()
        return _render_page(conference, error=error, status=error.status)
    return redirect(url_for("export.job_page", job_id=job.id))


def _start(conference: Conference, group: WorkingGroup | None) -> ResponseReturnValue:
    """A format button: the export runs in the background and the browser follows its
    progress on a page that refreshes itself (no script needed)."""
    job = jobs.start_export(current_user, conference, request.form.get("format", ""),
                            group=group, changes=_flag("changes"))
    return redirect(url_for("export.job_page", job_id=job.id))


@bp.post("/conferences/<int:conference_id>/export/jobs")
@login_required
def conference_start(conference_id: int) -> ResponseReturnValue:
    return _start(get_conference(conference_id, current_user), None)


@bp.post("/groups/<int:group_id>/export/jobs")
@login_required
def group_start(group_id: int) -> ResponseReturnValue:
    group = get_group(group_id, current_user)
    return _start(group.conference, group)


@bp.get("/export/jobs/<int:job_id>/progress")
@login_required
def job_page(job_id: int) -> ResponseReturnValue:
    job = jobs.get_job(job_id, current_user)
    conference = get_conference(job.conference_id, current_user)
    group = get_group(job.group_id, current_user) if job.group_id else None
    g.no_store = True
    label = services.FORMATS[job.format].label if job.format else _("Final document")
    return render_template("export/job.html", job=job, conference=conference, group=group,
                           label=label, finalising=job.kind == jobs.FINALISE)


@bp.get("/export/jobs/<int:job_id>")
@login_required
def job_status(job_id: int) -> ResponseReturnValue:
    """Polled by the export page's script while a job runs."""
    g.no_store = True
    return jsonify(job_out(jobs.get_job(job_id, current_user)).model_dump(mode="json"))


@bp.get("/export/jobs/<int:job_id>/download")
@login_required
def job_download(job_id: int) -> ResponseReturnValue:
    job = jobs.get_job(job_id, current_user)
    if job.kind == jobs.FINALISE:
        raise NotFound(_("Finalising stores the files; download them from the export page."))
    if job.status != jobs.FINISHED or job.data is None:
        raise Conflict(job.error or _("This export has not finished yet."))
    return _attachment(job.data, job.filename or "outcome", job.mimetype or "application/octet-stream")


# --- API ---------------------------------------------------------------------------------


@endpoint("/conferences/<int:conference_id>/exports", "POST", summary="Start exporting the "
          "outcome document in one format (secretariat; a chair: their group's section, as a "
          "draft); poll the job and download the file from its download_url", tag="export",
          response=ExportJobOut, status=202, body=ExportRequest, errors=(403, 404, 429, 503))
def api_start_export(actor: Participant, conference_id: int, body: ExportRequest) -> ExportJobOut:
    conference = get_conference(conference_id, actor)
    group = None
    if body.group_id is not None:
        group = get_group(body.group_id, actor)
    job = jobs.start_export(actor, conference, body.format, group=group, changes=body.changes)
    return job_out(job)


@endpoint("/exports/<int:job_id>", summary="An export job: its status and progress (0-100); "
          "jobs are kept for a few minutes after they end", tag="export",
          response=ExportJobOut, errors=(404,))
def api_export_job(actor: Participant, job_id: int) -> ExportJobOut:
    return job_out(jobs.get_job(job_id, actor))


@endpoint("/conferences/<int:conference_id>/finalise", "POST", summary="Start finalising the "
          "outcome document (secretariat): a job renders every format once and stores it with "
          "its SHA-256, all or nothing; refused while anything is pending, once final, and "
          "while another finalisation runs. Poll the job; once finished, the documents are "
          "listed by GET .../documents", tag="export",
          response=ExportJobOut, status=202, errors=(403, 404, 409, 429, 503))
def api_finalise(actor: Participant, conference_id: int) -> ExportJobOut:
    conference = get_conference(conference_id, actor)
    return job_out(jobs.start_finalise(actor, conference))


@endpoint("/conferences/<int:conference_id>/documents", summary="The stored final documents "
          "of the conference (empty while it is a draft)", tag="export",
          response=list[OutcomeDocumentOut], errors=(403, 404))
def api_documents(actor: Participant, conference_id: int) -> list[OutcomeDocumentOut]:
    conference = get_conference(conference_id, actor)
    services.check_can_export(actor, conference)
    return [document_out(d) for d in services.final_documents(conference)]

