"""Exports and finalising off the request thread: a job per request, polled for progress,
downloaded once done.

A PDF of a large conference takes seconds; a request thread (and a proxy's timeout) should
not wait for it. ``start_export`` and ``start_finalise`` check in the request, then run a
background task with an application context and a database session of its own: the job
never touches the request's session, which is gone by the time it runs. The task reads the
database and compiles the outline; the rendering itself happens in a child process
(``drafting.export.child``; ``EXPORT_IN_CHILD_PROCESS``), which the task follows without
holding the server's other greenlets or threads, and stops after ``EXPORT_TIMEOUT_SECONDS``.

Jobs live in this process's memory (``app.extensions``) for a short while after they end:
a download is expected within minutes, and a finished file is never the record (the final
document is stored in the database). With several server processes the sticky sessions of
the load balancer send the polling browser back to the process that runs its job; an API
client that polls another process gets 404 and starts again.

Progress is polled (``GET /export/jobs/<id>``); the same changes go to the owner's socket
room as ``export_progress`` and ``export_finished`` events, through the one emit path.
"""
from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from drafting.errors import Conflict, DomainError, NotFound, RateLimited
from drafting.export import child, services
from drafting.extensions import socketio
from drafting.realtime import participant_room, queue_event
from models import Conference, Participant, WorkingGroup, db, utcnow

log = logging.getLogger(__name__)

#: How long a finished job and its file are kept for download.
KEEP_FOR = timedelta(minutes=15)
#: Unfinished jobs (queued or running) one participant may have: every format of the
#: document and its changes version clicked in a row, and no more. A participant's jobs
#: run one at a time, in the order asked for.
MAX_UNFINISHED_PER_OWNER = 8
#: Unfinished jobs of everyone in this process: beyond it a new export is refused until
#: some have run (each waiting job is a little memory; each finished one holds its file).
MAX_UNFINISHED = 64
#: Jobs kept per participant; beyond it the oldest finished ones (and their files) go first.
MAX_KEPT_PER_OWNER = 10
STORE_KEY = "plenary_export_jobs"

QUEUED, RUNNING, FINISHED, FAILED = "queued", "running", "finished", "failed"
#: What a job does: render one format (a download), or finalise (every format, stored).
EXPORT, FINALISE = "export", "finalise"


@dataclass
class ExportJob:
    #: Random (and below 2**53, safe in JavaScript): ids of jobs in several processes do
    #: not collide, and a job id says nothing about how many exports others ran.
    id: int
    owner_id: int | None
    conference_id: int
    group_id: int | None
    #: The format of an export; None for finalising (every final format).
    format: str | None
    changes: bool
    locale: str
    kind: str = EXPORT
    status: str = QUEUED
    progress: int = 0
    error: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    #: When it left the queue and began to run.
    started_at: datetime | None = None
    finished_at: datetime | None = None
    data: bytes | None = None
    filename: str | None = None
    mimetype: str | None = None
    #: Whether the file is the stored final document (else a draft).
    final: bool = False

    @property
    def done(self) -> bool:
        return self.status in (FINISHED, FAILED)


class JobStore:
    """This process's export jobs, under a lock (background threads update them).

    Each participant's jobs form a queue, served by one background task at a time (a
    "runner", ``run_queue``) that runs them one after the other in the order they were
    asked for; every runner then waits for one of the process's ``EXPORT_CONCURRENCY``
    rendering turns. So clicking five formats queues five exports, which run in turn,
    and nobody's queue holds up anyone else's beyond the shared turns."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: In the order asked for (dicts keep it): a queue is served oldest first.
        self.jobs: dict[int, ExportJob] = {}
        self._turns: threading.BoundedSemaphore | None = None
        #: Owners whose queue has a runner now.
        self._served: set[int | None] = set()

    def turns(self, concurrency: int) -> threading.BoundedSemaphore:
        """The semaphore that lets ``concurrency`` jobs render at once (made on first use:
        under gevent, after threading is patched)."""
        with self.lock:
            if self._turns is None:
                self._turns = threading.BoundedSemaphore(max(1, concurrency))
            return self._turns

    def add(self, job: ExportJob) -> None:
        with self.lock:
            self._forget_expired()
            unfinished = [j for j in self.jobs.values() if not j.done]
            running = [j for j in unfinished if j.owner_id == job.owner_id]
            if job.owner_id is not None and len(running) >= MAX_UNFINISHED_PER_OWNER:
                raise RateLimited(_("You already have %(n)d exports waiting or running; wait "
                                    "for one to finish before asking for another.",
                                    n=len(running)))
            if len(unfinished) >= MAX_UNFINISHED:
                raise RateLimited(_("The server has too many exports waiting; try again in a "
                                    "minute."))
            # Two finalisations would render everything twice for one to be refused at the
            # end; in this process the second is refused now. (Across processes the unique
            # row per conference and format still lets exactly one of them store.)
            if job.kind == FINALISE and any(
                    j.kind == FINALISE and j.conference_id == job.conference_id and not j.done
                    for j in self.jobs.values()):
                raise Conflict(_("The outcome document is being finalised already; wait for "
                                 "it to finish."))
            ended = sorted((j for j in self.jobs.values() if j.owner_id == job.owner_id and j.done),
                           key=lambda j: j.finished_at or j.created_at)
            for old in ended[:max(0, len(ended) + len(running) + 1 - MAX_KEPT_PER_OWNER)]:
                del self.jobs[old.id]
            self.jobs[job.id] = job

    def claim_queue(self, owner_id: int | None) -> bool:
        """Whether the caller is to start the runner of this owner's queue (none runs)."""
        with self.lock:
            if owner_id in self._served:
                return False
            self._served.add(owner_id)
            return True

    def next_queued(self, owner_id: int | None) -> int | None:
        """The owner's oldest queued job, for its runner; None: the queue is empty, and its
        runner ends (a job added from now on starts a new one)."""
        with self.lock:
            for job in self.jobs.values():
                if job.owner_id == owner_id and job.status == QUEUED:
                    return job.id
            self._served.discard(owner_id)
            return None

    def get(self, job_id: int) -> ExportJob | None:
        """A copy of the job as it is now: a page reads it several times (its status, whether
        it reloads itself) and must not see it change in between."""
        with self.lock:
            self._forget_expired()
            job = self.jobs.get(job_id)
            return None if job is None else replace(job)

    def update(self, job_id: int, **changes: Any) -> ExportJob | None:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is not None:
                for name, value in changes.items():
                    setattr(job, name, value)
            return job

    def _forget_expired(self) -> None:
        cutoff = utcnow() - KEEP_FOR
        for key in [k for k, j in self.jobs.items() if j.finished_at and j.finished_at < cutoff]:
            del self.jobs[key]


def store(app: Flask | None = None) -> JobStore:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with _store_lock:
        found = app.extensions.get(STORE_KEY)
        if found is None:
            found = app.extensions[STORE_KEY] = JobStore()
    return found


_store_lock = threading.Lock()


def get_job(job_id: Any, viewer: Participant) -> ExportJob:
    """The viewer's own job; anyone else's does not exist for them."""
    job = store().get(job_id) if isinstance(job_id, int) else None
    if job is None or job.owner_id != viewer.id:
        raise NotFound(_("This export is not known (exports are kept for a few minutes)."))
    return job


def start_export(actor: Participant, conference: Conference, fmt: str, *,
                 group: WorkingGroup | None = None, changes: bool = False) -> ExportJob:
    """Check now, in the request, and render in the background."""
    chosen = services.clean_format(fmt)
    services.check_can_export(actor, conference, group)
    services.check_available(chosen)  # an unavailable format is refused now, not after polling
    return _start(ExportJob(id=_new_id(), owner_id=actor.id, conference_id=conference.id,
                            group_id=group.id if group else None, format=chosen.name,
                            changes=changes, locale=str(get_locale() or "en")))


def start_finalise(actor: Participant, conference: Conference) -> ExportJob:
    """Check now (the permission, that it is not final yet, that nothing is pending), and
    finalise in the background; refused while another finalisation of it runs."""
    services.check_can_start_finalising(actor, conference)
    return _start(ExportJob(id=_new_id(), owner_id=actor.id, conference_id=conference.id,
                            group_id=None, format=None, changes=False,
                            locale=str(get_locale() or "en"), kind=FINALISE))


def _new_id() -> int:
    return secrets.randbelow(2**53 - 1) + 1


def _start(job: ExportJob) -> ExportJob:
    """Queue the job; start its owner's runner unless one is serving the queue already."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    jobs = store(app)
    jobs.add(job)
    if jobs.claim_queue(job.owner_id):
        # A thread under "threading", a greenlet under gevent: either way it mostly waits
        # for the child process that renders, without holding the others.
        socketio.start_background_task(run_queue, app, job.owner_id)
    return job


def run_queue(app: Flask, owner_id: int | None) -> None:
    """One participant's runner: their queued jobs, one after the other, oldest first, until
    none is left."""
    jobs = store(app)
    while (job_id := jobs.next_queued(owner_id)) is not None:
        try:
            run_job(app, job_id)
        except Exception:
            # Never a queue stuck behind a job: that one fails, the next runs.
            log.exception("export job %s could not run", job_id)
            job = jobs.get(job_id)
            with app.app_context(), force_locale(job.locale if job else "en"):
                jobs.update(job_id, status=FAILED, finished_at=utcnow(),
                            error=_("The export failed; the error has been logged. Please "
                                    "try again."))


def render_with(app: Flask, locale: str) -> services.RenderFormats:
    """How this server renders: in a child process (the default), or here when
    ``EXPORT_IN_CHILD_PROCESS`` is off."""
    if not app.config.get("EXPORT_IN_CHILD_PROCESS", True):
        return services.render_formats
    return partial(child.render_in_child, locale=locale, config=child.child_config(app),
                   timeout=float(app.config.get("EXPORT_TIMEOUT_SECONDS", 300)))


def _announce(job: ExportJob) -> None:
    """Tell the owner's open pages, through the one emit-after-commit path."""
    if job.owner_id is None:
        return
    name = "export_finished" if job.done else "export_progress"
    queue_event(name, {"job": job.id, "kind": job.kind, "status": job.status,
                       "progress": job.progress, "error": job.error},
                room=participant_room(job.owner_id))
    db.session.commit()


def run_job(app: Flask, job_id: int) -> None:
    """The background task: its own app context and session, the requester's language. At
    most ``EXPORT_CONCURRENCY`` jobs of this process render at once (a PDF takes every core
    and hundreds of MB); the others wait, queued, for a turn."""
    jobs = store(app)
    with jobs.turns(int(app.config.get("EXPORT_CONCURRENCY", 2))):
        _run(app, jobs, job_id)


def _run(app: Flask, jobs: JobStore, job_id: int) -> None:
    job = jobs.update(job_id, status=RUNNING, started_at=utcnow())
    if job is None:
        return
    with app.app_context(), force_locale(job.locale):
        try:
            def progress(percent: int) -> None:
                # Said once per step up; 100 is said once, with the file in place (below).
                if job.progress < percent < 100:
                    _announce(jobs.update(job_id, progress=percent) or job)

            conference = db.session.get(Conference, job.conference_id)
            owner = db.session.get(Participant, job.owner_id) if job.owner_id else None
            group = db.session.get(WorkingGroup, job.group_id) if job.group_id else None
            if conference is None or (job.owner_id and owner is None) or (job.group_id and group is None):
                raise NotFound(_("The conference or group was deleted during the export."))
            renders = render_with(app, job.locale)
            # Checked again: a role may have changed since the request.
            if job.kind == FINALISE:
                services.finalise(owner, conference, progress=progress, render_with=renders)
                db.session.commit()
                done = jobs.update(job_id, status=FINISHED, progress=100, final=True,
                                   finished_at=utcnow())
            else:
                result = services.export(owner, conference, job.format, group=group,
                                         changes=job.changes, progress=progress,
                                         render_with=renders)
                done = jobs.update(job_id, status=FINISHED, progress=100, data=result.data,
                                   filename=result.filename, mimetype=result.mimetype,
                                   final=result.final, finished_at=utcnow())
        except DomainError as error:
            db.session.rollback()
            done = jobs.update(job_id, status=FAILED, error=error.message, finished_at=utcnow())
        except Exception:
            log.exception("export job %s failed", job_id)
            db.session.rollback()
            done = jobs.update(job_id, status=FAILED, finished_at=utcnow(),
                               error=_("The export failed; the error has been logged. Please try again."))
        try:
            _announce(done or job)
        except Exception:
            log.exception("could not announce the end of export job %s", job_id)
        finally:
            db.session.remove()
