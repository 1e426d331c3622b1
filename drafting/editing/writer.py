"""Accepted edits, written in groups: one transaction and one commit for whatever arrived
while the previous commit was being made.

An editor's update is accepted into the clause's document from memory and relayed at once
(``services.accept_update``, ``drafting.realtime.relay``); its sender is acknowledged only
when it is durable. Committing each keystroke alone costs a transaction (and on SQLite a
sync to disk) per keystroke, so each handler hands what it accepted to its process's writer,
which takes everything waiting, writes it (``services.write_accepted``: the database's
re-check, the log rows, the clause's text), commits once, tells the documents what is
settled, and answers the handlers. Under light load a batch is one update; under heavy load
batches grow and the cost of each update falls.

A batch whose commit fails (the database is locked past ``YJS_WRITE_TIMEOUT_MS``, or gone)
is not dropped: what it holds was relayed, and is retried until it is written; its senders
are answered "unavailable" meanwhile (their editors send it again, which waits for the same
write).

The writer is an edge like a socket handler: it resolves who sent each update, calls the
service, and commits.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from drafting.editing import docs, services
from drafting.errors import DomainError, Unavailable
from drafting.realtime.workers import GroupCommit, worker
from drafting.sockets import connections
from drafting.sockets.connections import Connection
from models import db

log = logging.getLogger(__name__)

@dataclass
class Submission:
    connection: Connection
    accepted: services.Accepted
    done: threading.Event = field(default_factory=threading.Event)
    error: DomainError | None = None


#: How long a failed batch waits before it is tried again.
RETRY_SECONDS = 0.5


class Writer(GroupCommit[Submission]):
    name = "writer"

    def submit_update(self, connection: Connection, accepted: services.Accepted) -> Submission:
        """Write an accepted update; its ``done`` is set once it is durable or refused (or
        could not be written yet: ``error`` says which)."""
        return self.submit(Submission(connection, accepted))

    def run(self) -> None:
        retry: list[Submission] = []
        while True:
            # Linger a moment for whatever else is on its way: a transaction costs about the
            # same for one update as for twenty (docs/benchmarks.md, 2026-11-27).
            batch = self.collect(retry, RETRY_SECONDS if retry else self.linger)
            retry = []
            try:
                with self.app.app_context():
                    if not self._write(batch):
                        retry = batch
            except Exception:  # a bug, not a refusal: nothing of it stays in memory
                log.exception("Writing a batch of %d updates failed", len(batch))
                for submission in batch:
                    docs.evict(submission.accepted.live)
                    submission.error = self._unavailable(submission)
            if retry:
                for submission in batch:
                    if not submission.done.is_set():
                        submission.error = self._unavailable(submission)
                        submission.done.set()
                continue
            for submission in batch:
                docs.settle(submission.accepted.live, submission.accepted.seq)
                submission.done.set()
            self.settled(len(batch))

    def _write(self, batch: list[Submission]) -> bool:
        """Write the batch and commit; whether it committed."""
        try:
            self.limit_lock_waits(int(self.app.config["YJS_WRITE_TIMEOUT_MS"]))
            participants = connections.authenticate_all([s.connection for s in batch])
            written = [services.Written(s.accepted, participants.get(s.connection.sid), s.connection.locale)
                       for s in batch]
            with db.session.no_autoflush:
                services.write_accepted(written)
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("Committing a batch of %d updates failed; it is tried again", len(batch),
                        exc_info=True)
            return False
        for submission, each in zip(batch, written, strict=True):
            submission.error = each.error
        return True

    @staticmethod
    def _unavailable(submission: Submission) -> Unavailable:
        with force_locale(submission.connection.locale):
            return Unavailable(_("Your edit could not be saved yet: it will be sent again."))


def drain(app: Flask, timeout: float) -> bool:
    """Flush the application's writer, if this process has started one (see ``Writer.drain``)."""
    found = app.extensions.get(f"plenary_{Writer.name}")
    return found is None or found.drain(timeout)


def unsettled(app: Flask) -> int:
    """Updates handed to the application's writer in this process and not yet written or
    refused (0 if it has no writer): what ``drain`` waits for."""
    found = app.extensions.get(f"plenary_{Writer.name}")
    return 0 if found is None else found.unsettled


def writer() -> Writer:
    """The current application's writer (one per application in this process)."""
    config = current_app.config
    return worker(Writer, config["YJS_BATCH_LIMIT"], config["YJS_BATCH_LINGER_MS"] / 1000)
