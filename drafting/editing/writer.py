"""Accepted edits, written in groups: one transaction and one commit for whatever arrived
while the previous commit was being made.

A Yjs update is durable before it is acknowledged or passed on: that is the promise that no
acknowledged edit is ever lost. Committing each keystroke alone costs a transaction (and on
SQLite a sync to disk) per keystroke, and the handlers of concurrent keystrokes queue for the
database's write lock. So each socket handler hands its update to its process's writer and
waits. The writer takes everything waiting, applies each update under the same rules as
ever (a refusal is that update's alone), commits once, and then the updates go out (merged
per document, see ``drafting.realtime.queue_update``) and the handlers answer. Under light
load a batch is one update and costs nothing extra; under heavy load batches grow and the
cost of each update falls.

The writer is an edge like a socket handler: it resolves who sent each update and which
clause it is for, calls ``services.apply_update``, and commits.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from drafting import sqlite
from drafting.editing import services
from drafting.errors import DomainError, NotAuthenticated, Unavailable
from drafting.realtime import connections
from drafting.realtime.connections import Connection
from drafting.realtime.workers import Worker, worker
from models import db

log = logging.getLogger(__name__)

#: How long a handler waits for its update's commit before answering "unavailable".
WAIT_SECONDS = 30.0


@dataclass
class Submission:
    connection: Connection
    doc: Any
    update: bytes
    done: threading.Event = field(default_factory=threading.Event)
    error: DomainError | None = None
    #: The recommendation of the clause, once found.
    recommendation_id: int = 0


class Writer(Worker):
    name = "writer"

    def __init__(self, app: Flask, batch_limit: int, linger: float) -> None:
        super().__init__(app)
        self.batch_limit = batch_limit
        self.linger = linger
        self.waiting: queue.SimpleQueue[Submission] = queue.SimpleQueue()
        #: Submissions handed in and not yet answered (queued, or in the batch being written).
        self.unanswered = 0
        self.counting = threading.Lock()

    def submit(self, connection: Connection, doc: Any, update: bytes) -> int:
        """Apply the update and make it durable; raise the refusal if it was refused. Returns
        the id of the recommendation the document's clause belongs to."""
        submission = Submission(connection, doc, update)
        with self.counting:
            self.unanswered += 1
        self.waiting.put(submission)
        if not submission.done.wait(WAIT_SECONDS):
            raise Unavailable(_("Your edit could not be saved yet: it will be sent again."))
        if submission.error is not None:
            raise submission.error
        return submission.recommendation_id

    def run(self) -> None:
        while True:
            batch = [self.waiting.get()]
            # Linger a moment for whatever else is on its way: a transaction costs about the
            # same for one update as for twenty. Measured against committing at once when
            # idle (docs/benchmarks.md, 2026-11-27): ~3 ms less at the median in a quiet room,
            # but more CPU per edit, and at 50 editors with cursors the median went from 27 to
            # 140 ms. Under gevent this wait is also when the sockets are read (SQLite does not
            # yield): with no wait at all, that room fell seconds behind.
            until = time.monotonic() + self.linger
            while len(batch) < self.batch_limit:
                try:
                    batch.append(self.waiting.get(timeout=max(0.0, until - time.monotonic())))
                except queue.Empty:
                    break
            try:
                with self.app.app_context():
                    self._write(batch)
            except Exception:  # a bug, not a refusal: answer everyone, keep the writer alive
                log.exception("Writing a batch of %d updates failed", len(batch))
                for submission in batch:
                    if submission.error is None:
                        submission.error = self._unavailable(submission)
            finally:
                for submission in batch:
                    submission.done.set()
                with self.counting:
                    self.unanswered -= len(batch)

    def drain(self, timeout: float) -> bool:
        """Wait until every update handed in so far is written and answered (or refused), for
        at most ``timeout`` seconds; whether it was. For a process that is about to stop:
        what it received is made durable and acknowledged before its connections close."""
        deadline = time.monotonic() + timeout
        while self.unanswered:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)  # under gevent, a yield to the writer and the handlers
        return True

    def _write(self, batch: list[Submission]) -> None:
        accepted: list[Submission] = []
        try:
            self._limit_lock_waits()
            # Nothing to flush between updates: the log is written in one go at the commit.
            with db.session.no_autoflush:
                self._apply(batch, accepted)
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("Committing a batch of %d updates failed", len(batch))
            for submission in accepted:
                submission.error = self._unavailable(submission)

    def _apply(self, batch: list[Submission], accepted: list[Submission]) -> None:
        participants = connections.authenticate_all([s.connection for s in batch])
        for submission in batch:
            connection = submission.connection
            # The default language needs no switching (Locale.parse on every keystroke).
            with force_locale(connection.locale) if connection.locale != "en" else nullcontext():
                try:
                    participant = participants.get(connection.sid)
                    if participant is None:
                        raise NotAuthenticated(_("Your session has ended. Sign in again."))
                    clause = services.clause_for_doc(submission.doc, set(connection.joined))
                    submission.recommendation_id = clause.recommendation_id
                    services.apply_update(clause, participant, submission.update,
                                          origin=connection.sid)
                    accepted.append(submission)
                except DomainError as error:
                    submission.error = error

    def _limit_lock_waits(self) -> None:
        """Wait at most YJS_WRITE_TIMEOUT_MS for the database's locks: past that the batch is
        refused as unavailable (its senders send it again), rather than every editor of the
        process stalling behind a database that does not answer."""
        milliseconds = int(self.app.config["YJS_WRITE_TIMEOUT_MS"])
        dialect = db.session.get_bind().dialect.name
        connection = db.session.connection()
        if dialect == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {milliseconds}")
        elif dialect == "sqlite":
            # A connection's setting, not a transaction's (drafting/sqlite.py waits for it).
            sqlite.set_wait(connection.connection.driver_connection, milliseconds / 1000)

    @staticmethod
    def _unavailable(submission: Submission) -> Unavailable:
        with force_locale(submission.connection.locale):
            return Unavailable(_("Your edit could not be saved: it will be sent again."))


def drain(app: Flask, timeout: float) -> bool:
    """Flush the application's writer, if this process has started one (see ``Writer.drain``)."""
    found = app.extensions.get(f"plenary_{Writer.name}")
    return found is None or found.drain(timeout)


def writer() -> Writer:
    """The current application's writer (one per application in this process)."""
    config = current_app.config
    return worker(Writer, config["YJS_BATCH_LIMIT"], config["YJS_BATCH_LINGER_MS"] / 1000)
