"""Exporting the outcome document: who may, in which format, and finalising it.

The secretariat exports the whole conference; a group's chair exports their own group's
section, always as a draft. Until the secretariat finalises, every export is rendered afresh
from the database (a draft). Finalising renders every format once from one outline and keeps
the bytes: from then on the conference's export in a format is exactly that stored file, so
its published SHA-256 stays true however often it is downloaded.

Rendering is a parameter (``render_with``): ``render_formats`` renders in this process; the
export jobs, finalising and the direct download of a heavy format pass one that renders in a
child process (``drafting.export.child``), so that the server process never holds it.

Renderers are found by name in ``FORMATS`` and imported on first use: a format whose module
or libraries are missing on a server is refused with a clear message, and the others work.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import CursorResult, select, update

from drafting.editing.docs import gates_changed
from drafting.errors import Conflict, NotFound, PermissionDenied, Unavailable, ValidationFailed
from drafting.export.outline import Outline, compile_outline
from drafting.realtime import participant_room, queue_event, recommendation_room
from drafting.typography import one_date
from models import (
    Clause,
    Conference,
    ExportFormat,
    GroupRole,
    Membership,
    OutcomeDocument,
    Participant,
    Recommendation,
    WorkingGroup,
    db,
    utcnow,
)

#: Called with a percentage (0-100) as the export goes on.
Progress = Callable[[int], None]
#: Renders one outline in several formats: ``(outline, formats, *, changes, progress)`` ->
#: the bytes of each, in order; ``progress`` gets 0..1 over all of them. ``render_formats``
#: does it in this process; an export job passes one that uses a child process
#: (``drafting.export.child``).
RenderFormats = Callable[..., list[bytes]]


@dataclass(frozen=True)
class Format:
    name: str
    #: Module in drafting/export with ``render(outline, *, changes=False, progress=None)
    #: -> bytes`` (``progress``, when given, is called with 0..1 of the rendering).
    module: str
    mimetype: str
    extension: str
    label: str
    #: Seconds of CPU and hundreds of MB at conference size: rendered in a child process on
    #: every path (a direct download too), not only in jobs. The others take milliseconds.
    heavy: bool = False


FORMATS: dict[str, Format] = {
    "html": Format("html", "drafting.export.render_html", "text/html; charset=utf-8", "html", "HTML"),
    "pdf": Format("pdf", "drafting.export.render_pdf", "application/pdf", "pdf", "PDF", heavy=True),
    "docx": Format("docx", "drafting.export.render_docx",
                   "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                   "docx", "Word (DOCX)", heavy=True),
    "md": Format("md", "drafting.export.render_md", "text/markdown; charset=utf-8", "md", "Markdown"),
    "json": Format("json", "drafting.export.render_json", "application/json", "json", "JSON"),
    # The media type OASIS registered for Akoma Ntoso (akn-media v1.0); the file is plain XML.
    "akn": Format("akn", "drafting.export.render_akn", "application/akn+xml", "xml",
                  "Akoma Ntoso (XML)"),
}


class Exported(NamedTuple):
    data: bytes
    filename: str
    mimetype: str

    @property
    def final(self) -> bool:
        """Whether these are the stored final bytes (a draft is never named final)."""
        return "-final." in self.filename


def clean_format(value: Any) -> Format:
    found = FORMATS.get(value) if isinstance(value, str) else None
    if found is None:
        raise ValidationFailed(_("Choose one of the formats: %(formats)s.",
                                 formats=", ".join(FORMATS)),
                               fields={"format": _("Unknown format.")})
    return found


def is_available(fmt: Format) -> bool:
    """Whether this server has the format's renderer (without importing it)."""
    return importlib.util.find_spec(fmt.module) is not None


def check_available(fmt: Format) -> None:
    """Refuse a format this server cannot render, without importing its renderer (the
    server process of an export job never imports the PDF engine: its child does)."""
    if not is_available(fmt):
        raise Unavailable(_("The %(format)s export is not available on this server.",
                            format=fmt.label))


def renderer(fmt: Format) -> Callable[..., bytes]:
    try:
        module = importlib.import_module(fmt.module)
    except ModuleNotFoundError as error:
        # Only the renderer itself missing; a renderer whose own import is broken is a bug.
        if error.name != fmt.module:
            raise
        raise Unavailable(_("The %(format)s export is not available on this server.",
                            format=fmt.label)) from None
    render: Callable[..., bytes] = module.render
    return render


def final_formats() -> list[Format]:
    """The formats a finalised document is stored in (a deployment may leave some out:
    ``EXPORT_FINAL_FORMATS``)."""
    names = current_app.config.get("EXPORT_FINAL_FORMATS") or list(FORMATS)
    return [FORMATS[name] for name in FORMATS if name in names]


# --- permissions ---------------------------------------------------------------------------


def check_can_export(actor: Participant | None, conference: Conference,
                     group: WorkingGroup | None = None) -> None:
    """The secretariat exports the conference or any group's section; a group's chair their
    own group's section. ``actor`` None is the command line, run by whoever runs the server.
    A conference the actor cannot see does not exist for them."""
    if actor is None:
        return
    if not conference.can_view(actor) or (group is not None and group.conference_id != conference.id):
        raise NotFound(_("Not found."))
    if actor.is_secretariat:
        return
    if group is not None and group.role_of(actor) is GroupRole.CHAIR:
        return
    if group is not None:
        raise PermissionDenied(_("Only the group's chair and the secretariat export this section."))
    raise PermissionDenied(_("Only the secretariat exports the outcome document; a chair "
                             "exports their group's section from the group's page."))


def check_can_finalise(actor: Participant | None, conference: Conference) -> None:
    if actor is None:
        return
    if not conference.can_view(actor):
        raise NotFound(_("Not found."))
    if not actor.is_secretariat:
        raise PermissionDenied(_("Only the secretariat finalises the outcome document."))


# --- reading -------------------------------------------------------------------------------


def final_documents(conference: Conference) -> list[OutcomeDocument]:
    """The stored final files, in the order of ``FORMATS``; empty while it is a draft."""
    found = {d.format.value: d for d in db.session.scalars(
        select(OutcomeDocument).where(OutcomeDocument.conference_id == conference.id))}
    return [found[name] for name in FORMATS if name in found]


def final_document(conference: Conference, fmt: Format) -> OutcomeDocument | None:
    return db.session.scalar(select(OutcomeDocument).where(
        OutcomeDocument.conference_id == conference.id,
        OutcomeDocument.format == ExportFormat(fmt.name)))


def final_canonical_sha256(conference: Conference) -> str | None:
    """The SHA-256 of the final document's canonical text, as its stored JSON carries it
    (and every format of it prints it); None while it is a draft."""
    stored = final_document(conference, FORMATS["json"])
    if stored is None:
        return None
    found = json.loads(stored.data).get("identification") or {}
    digest = found.get("canonical_sha256")
    return digest if isinstance(digest, str) else None


def is_final(conference: Conference) -> bool:
    return db.session.scalar(select(OutcomeDocument.id).where(
        OutcomeDocument.conference_id == conference.id).limit(1)) is not None


def filename(conference: Conference, fmt: Format, *, group: WorkingGroup | None = None,
             changes: bool = False, final: bool = False) -> str:
    """``outcome-12-final.pdf``, ``outcome-12-group-3-draft-changes.md``: what it is, in
    the name, so a draft saved to disk is not mistaken for the final document."""
    parts = [f"outcome-{conference.id}"]
    if group is not None:
        parts.append(f"group-{group.id}")
    parts.append("final" if final else "draft")
    if changes:
        parts.append("changes")
    return "-".join(parts) + "." + fmt.extension


def outline_of(conference: Conference, group: WorkingGroup | None = None) -> Outline:
    """A draft (only finalising renders the final): a group's section always, the outcome
    document until the secretariat finalises it, even when nothing is pending."""
    return compile_outline(conference, group)


# --- exporting -----------------------------------------------------------------------------


def _report(progress: Progress | None, percent: int) -> None:
    if progress is not None:
        progress(percent)


def _between(progress: Progress | None, start: int, end: int) -> Callable[[float], None] | None:
    """A 0..1 report of one stage as a percentage between ``start`` and ``end``."""
    if progress is None:
        return None
    return lambda fraction: progress(start + int((end - start) * min(1.0, max(0.0, fraction))))


def _takes_progress(render: Callable[..., bytes]) -> bool:
    try:
        parameters = inspect.signature(render).parameters
    except (TypeError, ValueError):
        return False
    return "progress" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def render_formats(outline: Outline, formats: Sequence[Format], *, changes: bool = False,
                   progress: Callable[[float], None] | None = None) -> list[bytes]:
    """Render ``outline`` in each format here, in this process (``RenderFormats``). A renderer
    that reports its own progress is given a share of the whole; one that does not advances
    it when it is done."""
    results = []
    for index, fmt in enumerate(formats):
        render = renderer(fmt)
        options: dict[str, Any] = {"changes": changes}
        if progress is not None and _takes_progress(render):
            options["progress"] = (lambda fraction, index=index: progress(
                (index + min(1.0, max(0.0, float(fraction)))) / len(formats)))
        results.append(render(outline, **options))
        if progress is not None:
            progress((index + 1) / len(formats))
    return results


def export(actor: Participant | None, conference: Conference, fmt: Format | str | None, *,
           group: WorkingGroup | None = None, changes: bool = False,
           progress: Progress | None = None,
           render_with: RenderFormats = render_formats) -> Exported:
    """The document in one format: the stored final bytes when the conference is final
    (and neither a section nor the changes version is asked for), otherwise a fresh draft
    rendered by ``render_with``."""
    fmt = fmt if isinstance(fmt, Format) else clean_format(fmt)
    check_can_export(actor, conference, group)
    if group is None and not changes:
        stored = final_document(conference, fmt)
        if stored is not None:
            _report(progress, 100)
            return Exported(stored.data, filename(conference, fmt, final=True), fmt.mimetype)
    check_available(fmt)
    _report(progress, 5)
    outline = outline_of(conference, group)
    _report(progress, 20)
    [data] = render_with(outline, [fmt], changes=changes, progress=_between(progress, 20, 99))
    _report(progress, 100)
    return Exported(data, filename(conference, fmt, group=group, changes=changes), fmt.mimetype)


def pending_items(outline: Outline) -> str:
    """What keeps the document a draft, named for a person (the first five, and how many
    more)."""
    shown = outline.pending[:5]
    items = "; ".join(
        (_("recommendation “%(title)s” (%(group)s)", title=p.title, group=p.group)
         if p.kind == "recommendation"
         else _("open vote “%(title)s” (%(group)s)", title=p.title, group=p.group))
        for p in shown)
    more = len(outline.pending) - len(shown)
    if more:
        items += " " + _("and %(n)d more", n=more)
    return items


def check_nothing_pending(outline: Outline) -> None:
    if outline.pending:
        raise Conflict(_("The outcome document cannot be finalised while anything is pending: "
                         "%(items)s.", items=pending_items(outline)))


def check_adopted_in_plenary(conference: Conference, outline: Outline) -> None:
    """Finalising needs the plenary's adoption of exactly this text (``drafting.export.plenary``)."""
    adoption = conference.plenary_adoption
    if adoption is None:
        raise Conflict(_("The outcome document cannot be finalised before the plenary has "
                         "adopted it: record the plenary's adoption (its date, place and how "
                         "it was adopted) first."))
    if adoption.text_sha256 != outline.adopted_text_sha256():
        raise Conflict(_("The adopted text changed after the plenary's adoption was recorded "
                         "(%(date)s): record the plenary's adoption again, then finalise.",
                         date=one_date(adoption.adopted_on)))


def check_can_start_finalising(actor: Participant | None, conference: Conference) -> None:
    """Everything that refuses finalising, checked before a job is started for it (and
    again by ``finalise`` itself, in the job: things may change meanwhile)."""
    check_can_finalise(actor, conference)
    if is_final(conference):
        raise Conflict(_("The outcome document is already final; it cannot be finalised again."))
    for fmt in final_formats():
        check_available(fmt)
    outline = outline_of(conference)
    check_nothing_pending(outline)
    check_adopted_in_plenary(conference, outline)


def finalise(actor: Participant | None, conference: Conference, *,
             progress: Progress | None = None,
             render_with: RenderFormats = render_formats) -> list[OutcomeDocument]:
    """Freeze the outcome document: render every format from one outline and store the
    bytes with their SHA-256, and close the conference. Refused while a recommendation is
    still being drafted or a vote is open, until the plenary has adopted this text, and
    refused once done: the final document is never replaced. Every format is rendered
    before anything is stored: a failure stores nothing."""
    check_can_finalise(actor, conference)
    if is_final(conference):
        raise Conflict(_("The outcome document is already final; it cannot be finalised again."))
    formats = final_formats()
    for fmt in formats:
        check_available(fmt)
    outline = outline_of(conference)
    check_nothing_pending(outline)
    check_adopted_in_plenary(conference, outline)
    _report(progress, 10)
    # The one outline rendered as the final: no draft mark, its canonical text's SHA-256.
    rendered = render_with(replace(outline, draft=False, final=True), formats, changes=False,
                           progress=_between(progress, 10, 95))
    now = utcnow()
    documents = [
        OutcomeDocument(
            conference_id=conference.id, format=ExportFormat(fmt.name), data=data,
            sha256=hashlib.sha256(data).hexdigest(), size=len(data), created_at=now,
            created_by_id=actor.id if actor else None)
        for fmt, data in zip(formats, rendered, strict=True)]
    # Closing the conference claims it: of two finalisations, the second finds it closed
    # (and so never inserts a second set of files, which the unique row per conference and
    # format would refuse anyway).
    close_conference(conference, outline, now)
    db.session.add_all(documents)
    db.session.flush()
    _report(progress, 100)
    return documents


def close_conference(conference: Conference, rendered: Outline, now: datetime) -> None:
    """Close the conference with its finalisation, in the finalising transaction: nothing of
    its texts changes any more (``drafting.services.check_conference_open``).

    One conditional UPDATE of its row: it waits for the changes under way (each holds a
    share lock of the row until its commit), and only one of two finalisations finds the
    conference still open. Then the document is compiled again: if anything changed while
    ``rendered`` was being rendered, the files would not be what was decided, and finalising
    is refused. Every clause's gate is changed (an open editor's next keystroke is refused,
    saying why), and every open page of the conference is told."""
    result: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Conference).where(Conference.id == conference.id, Conference.finalised_at.is_(None))
        .values(finalised_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_("The outcome document is already final; it cannot be finalised again."))
    # What this session read while rendering is read again, as committed now.
    db.session.expire_all()
    if replace(outline_of(conference), generated_at=rendered.generated_at) != rendered:
        raise Conflict(_("Something in the conference changed while the outcome document was "
                         "being rendered. Nothing was finalised: finalise it again."))
    clauses = list(db.session.scalars(
        select(Clause.id).join(Recommendation).join(WorkingGroup)
        .where(WorkingGroup.conference_id == conference.id)))
    gates_changed(clauses)
    _announce_closed(conference, now)


def _announce_closed(conference: Conference, now: datetime) -> None:
    """``conference_closed`` to every open page of the conference: its recommendations'
    editors and votes, and the sockets of everyone who may see it (export pages)."""
    payload = {"conference": conference.id, "finalised_at": now.isoformat()}
    recommendations = db.session.scalars(
        select(Recommendation.id).join(WorkingGroup)
        .where(WorkingGroup.conference_id == conference.id).order_by(Recommendation.id))
    for recommendation_id in recommendations:
        queue_event("conference_closed", payload, room=recommendation_room(recommendation_id))
    people = db.session.scalars(
        select(Participant.id).where(Participant.is_secretariat.is_(True)).union(
            select(Membership.participant_id).join(WorkingGroup)
            .where(WorkingGroup.conference_id == conference.id)))
    for participant_id in sorted(set(people)):
        queue_event("conference_closed", payload, room=participant_room(participant_id))
