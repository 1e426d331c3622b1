"""Background threads of a server process: one of each kind per application, started on
first use (so a process forked by gunicorn starts its own, not its parent's); and the group
commit the process's writers share (``GroupCommit``)."""
from __future__ import annotations

import queue
import threading
import time
from typing import Any, Generic, TypeVar

from flask import Flask, current_app

from drafting import sqlite
from drafting.extensions import db

W = TypeVar("W", bound="Worker")
S = TypeVar("S")

_lock = threading.Lock()


class Worker:
    """A daemon thread running ``run`` for as long as the process lives."""

    name = "plenary-worker"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.thread: threading.Thread | None = None
        self.start_lock = threading.Lock()

    def start(self) -> None:
        with self.start_lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.run, name=self.name, daemon=True)
                self.thread.start()

    def run(self) -> None:
        raise NotImplementedError


def worker(kind: type[W], *args: Any) -> W:
    """The current application's worker of this kind, made with ``args`` and started."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    key = f"plenary_{kind.name}"
    with _lock:
        found = app.extensions.get(key)
        if found is None:
            found = app.extensions[key] = kind(app, *args)
    found.start()
    return found


class GroupCommit(Worker, Generic[S]):
    """A writer that commits in groups: handlers hand in what they have to write
    (``submit``) and wait for its answer; the writer takes whatever is waiting (``collect``:
    up to ``batch_limit``, lingering ``linger`` seconds after the first for more), writes it
    in one transaction, commits once, and answers each. Under light load a batch is one
    submission; under heavy load batches grow and what each costs falls, as a transaction
    (and its commit's sync to disk) costs about the same for one as for twenty. Under gevent
    the linger is also when the other connections' requests are read.

    One per kind and application in a process (``worker``): the live editor's updates
    (drafting/editing/writer.py), ballots (drafting/votes/writer.py). Each decides in ``run``
    what a failed batch becomes."""

    def __init__(self, app: Flask, batch_limit: int, linger: float) -> None:
        super().__init__(app)
        self.batch_limit = max(1, batch_limit)
        self.linger = linger
        self.waiting: queue.SimpleQueue[S] = queue.SimpleQueue()
        #: Submissions handed in and not yet settled (queued, being written, or retried).
        self.unsettled = 0
        self.counting = threading.Lock()

    def submit(self, submission: S) -> S:
        """Queue ``submission`` for the next batch."""
        with self.counting:
            self.unsettled += 1
        self.waiting.put(submission)
        return submission

    def collect(self, batch: list[S], linger: float, *, quiet: float | None = None) -> list[S]:
        """``batch`` (when empty: the next submission, waited for), and whatever else is
        handed in within ``linger`` seconds, up to the batch limit; with ``quiet``, for as long
        as submissions keep arriving less than ``quiet`` seconds apart, but no longer than
        ``linger`` in all."""
        if not batch:
            batch = [self.waiting.get()]
        until = time.monotonic() + linger
        while len(batch) < self.batch_limit:
            now = time.monotonic()
            wait = until - now if quiet is None else min(quiet, until - now)
            try:
                batch.append(self.waiting.get(timeout=max(0.0, wait)))
            except queue.Empty:
                break
        return batch

    def settled(self, count: int) -> None:
        """``count`` submissions are answered for good."""
        with self.counting:
            self.unsettled -= count

    def drain(self, timeout: float) -> bool:
        """Wait until everything handed in so far is written (or refused), for at most
        ``timeout`` seconds; whether it was. For a process that is about to stop: what it
        accepted is made durable and answered before its connections close."""
        deadline = time.monotonic() + timeout
        while self.unsettled:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)  # under gevent, a yield to the writer and the handlers
        return True

    @staticmethod
    def limit_lock_waits(milliseconds: int) -> None:
        """Wait at most this long for the database's locks in the transaction begun here:
        past that the batch fails (and its submitters are answered), rather than every
        handler of the process waiting behind a database that does not answer."""
        dialect = db.session.get_bind().dialect.name
        connection = db.session.connection()
        if dialect == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(milliseconds)}")
        elif dialect == "sqlite":
            # A connection's setting, not a transaction's (drafting/sqlite.py waits for it).
            sqlite.set_wait(connection.connection.driver_connection, milliseconds / 1000)
