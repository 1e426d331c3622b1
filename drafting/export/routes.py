"""The export page, downloads, background export jobs, the closing plenary (its adoption of
the outcome document, the Chair's summary), finalising, and the export API."""
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
from drafting.export import jobs, plenary, services
from drafting.export.forms import ChairsSummaryForm, PlenaryAdoptionForm
from drafting.export.schemas import (
    ChairsSummaryIn,
    ChairsSummaryOut,
    ExportJobOut,
    ExportRequest,
    OutcomeDocumentOut,
    PlenaryAdoptionIn,
    PlenaryAdoptionOut,
    chairs_summary_out,
    document_out,
    job_out,
    plenary_adoption_out,
)
from drafting.forms import Refusal, flashed, run_form
from drafting.groups.services import get_group
from drafting.markup import render_markdown
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
                 error: DomainError | None = None, status: int = 200,
                 adoption_form: PlenaryAdoptionForm | None = None,
                 summary_form: ChairsSummaryForm | None = None) -> ResponseReturnValue:
    services.check_can_export(current_user, conference, group)
    outline = services.outline_of(conference, group)
    documents = services.final_documents(conference) if group is None else []
    formats = [(fmt, services.is_available(fmt)) for fmt in services.FORMATS.values()]
    closing = group is None and current_user.is_secretariat
    adoption = conference.plenary_adoption
    return render_template(
        "export/page.html", conference=conference, group=group, outline=outline,
        documents=documents, formats=formats, error=error,
        canonical_sha256=services.final_canonical_sha256(conference) if documents else None,
        labels={name: fmt.label for name, fmt in services.FORMATS.items()},
        can_finalise=closing,
        # The closing plenary's part of the page, the secretariat's (refused forms come back
        # with what was typed).
        closing=closing, adoption=plenary_adoption_out(adoption) if adoption else None,
        adoption_current=adoption is not None and adoption.text_sha256 == outline.adopted_text_sha256(),
        adoption_form=adoption_form or _blank_adoption_form(conference),
        summary_form=summary_form or ChairsSummaryForm(formdata=None,
                                                       data={"text": conference.chairs_summary}),
        summary_html=render_markdown(conference.chairs_summary),
    ), status


def _blank_adoption_form(conference: Conference) -> PlenaryAdoptionForm:
    """Filled from the record when there is one (to correct it), else the last day."""
    adoption = conference.plenary_adoption
    if adoption is None:
        return PlenaryAdoptionForm(formdata=None, data={
            "adopted_on": conference.ends_on.isoformat(), "method": "consensus"})
    return PlenaryAdoptionForm(formdata=None, data={
        "adopted_on": adoption.adopted_on.isoformat(), "place": adoption.place,
        "meeting": adoption.meeting, "method": adoption.method.value,
        **{name: "" if getattr(adoption, name) is None else str(getattr(adoption, name))
           for name in ("votes_yes", "votes_no", "votes_abstain")}})


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


def _closing_page(conference: Conference, anchor: str) -> str:
    return url_for("export.conference_page", conference_id=conference.id, _anchor=anchor)


@bp.post("/conferences/<int:conference_id>/plenary-adoption")
@login_required
def record_adoption(conference_id: int) -> ResponseReturnValue:
    """The secretariat records the plenary's adoption of the outcome document (or corrects
    the record)."""
    conference = get_conference(conference_id, current_user)
    plenary.check_can_record(current_user, conference)
    form = PlenaryAdoptionForm()
    return run_form(form, lambda: plenary.record_plenary_adoption(current_user, conference,
                                                                  form.command()),
                    done=lambda _adoption: flashed(_("The plenary's adoption is recorded."),
                                                   _closing_page(conference, "plenary")),
                    refused=Refusal(lambda error: _render_page(
                        conference, status=error.status if error else 400, adoption_form=form)))


@bp.post("/conferences/<int:conference_id>/plenary-adoption/withdraw")
@login_required
def withdraw_adoption(conference_id: int) -> ResponseReturnValue:
    conference = get_conference(conference_id, current_user)
    return run_form(None, lambda: plenary.withdraw_plenary_adoption(current_user, conference),
                    done=lambda _none: flashed(_("The record of the plenary's adoption is "
                                                 "withdrawn."), _closing_page(conference, "plenary")))


@bp.post("/conferences/<int:conference_id>/chairs-summary")
@login_required
def save_summary(conference_id: int) -> ResponseReturnValue:
    """The secretariat writes the Chair's summary, on the chair's behalf."""
    conference = get_conference(conference_id, current_user)
    plenary.check_can_record(current_user, conference)
    form = ChairsSummaryForm()
    return run_form(form, lambda: plenary.update_chairs_summary(current_user, conference,
                                                                form.command()),
                    done=lambda _none: flashed(_("The Chair's summary is saved."),
                                               _closing_page(conference, "chairs-summary")),
                    refused=Refusal(lambda error: _render_page(
                        conference, status=error.status if error else 400, summary_form=form)))


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
          "its SHA-256, all or nothing, and closes the conference; refused while anything is "
          "pending, until the plenary's adoption of this text is recorded, once final, and "
          "while another finalisation runs. Poll the job; once finished, the documents are "
          "listed by GET .../documents", tag="export",
          response=ExportJobOut, status=202, errors=(403, 404, 409, 429, 503))
def api_finalise(actor: Participant, conference_id: int) -> ExportJobOut:
    conference = get_conference(conference_id, actor)
    return job_out(jobs.start_finalise(actor, conference))


@endpoint("/conferences/<int:conference_id>/plenary-adoption", summary="The plenary's adoption "
          "of the outcome document, as recorded (404 until it is)", tag="export",
          response=PlenaryAdoptionOut, errors=(404,))
def api_plenary_adoption(actor: Participant, conference_id: int) -> PlenaryAdoptionOut:
    conference = get_conference(conference_id, actor)
    if conference.plenary_adoption is None:
        raise NotFound(_("The plenary's adoption has not been recorded."))
    return plenary_adoption_out(conference.plenary_adoption)


@endpoint("/conferences/<int:conference_id>/plenary-adoption", "PUT", summary="Record (or "
          "correct) the plenary's adoption of the outcome document (secretariat): the date, "
          "within the conference's dates; the place (default: the venue); the meeting (default: "
          "the closing plenary meeting); by consensus, or by a vote with its counts, which must "
          "carry two thirds of those present and voting. Refused while anything is pending and "
          "once final; it gives the document's adoption line, and finalising needs it",
          tag="export", response=PlenaryAdoptionOut, body=PlenaryAdoptionIn,
          errors=(403, 404, 409))
def api_record_plenary_adoption(actor: Participant, conference_id: int,
                                body: PlenaryAdoptionIn) -> PlenaryAdoptionOut:
    conference = get_conference(conference_id, actor)
    return plenary_adoption_out(plenary.record_plenary_adoption(actor, conference, body))


@endpoint("/conferences/<int:conference_id>/plenary-adoption", "DELETE", summary="Withdraw a "
          "record of the plenary's adoption made in error (secretariat; not once final)",
          tag="export", status=204, errors=(403, 404, 409))
def api_withdraw_plenary_adoption(actor: Participant, conference_id: int) -> None:
    plenary.withdraw_plenary_adoption(actor, get_conference(conference_id, actor))


@endpoint("/conferences/<int:conference_id>/chairs-summary", summary="The Chair's summary "
          "(empty text: none)", tag="export", response=ChairsSummaryOut, errors=(404,))
def api_chairs_summary(actor: Participant, conference_id: int) -> ChairsSummaryOut:
    return chairs_summary_out(get_conference(conference_id, actor))


@endpoint("/conferences/<int:conference_id>/chairs-summary", "PUT", summary="Write the Chair's "
          "summary (secretariat, on the chair's behalf; Markdown, empty: none): issued under the "
          "Chair's own responsibility, printed apart after the adopted text; not once final",
          tag="export", response=ChairsSummaryOut, body=ChairsSummaryIn, errors=(403, 404, 409))
def api_update_chairs_summary(actor: Participant, conference_id: int,
                              body: ChairsSummaryIn) -> ChairsSummaryOut:
    conference = get_conference(conference_id, actor)
    plenary.update_chairs_summary(actor, conference, body)
    return chairs_summary_out(conference)


@endpoint("/conferences/<int:conference_id>/documents", summary="The stored final documents "
          "of the conference (empty while it is a draft)", tag="export",
          response=list[OutcomeDocumentOut], errors=(403, 404))
def api_documents(actor: Participant, conference_id: int) -> list[OutcomeDocumentOut]:
    conference = get_conference(conference_id, actor)
    services.check_can_export(actor, conference)
    return [document_out(d) for d in services.final_documents(conference)]

