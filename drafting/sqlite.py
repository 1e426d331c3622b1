"""SQLite connections that wait for the database's lock without stopping the process.

SQLite has one write lock per database file. A write that finds it taken (another process:
the CLI, a second server, an export's commit) waits, by default inside SQLite's C code for up
to its busy timeout. Under gunicorn's gevent worker every connection of the process is a
greenlet on one thread, and none of them can run while that thread sits in C: one API write
waiting for the lock froze every page, static file and socket of the worker for seconds.

So SQLite's own wait is made short (``C_WAIT_MS``) and the rest of the wait happens here,
in Python, with ``time.sleep`` between attempts, which gevent turns into a yield to the other
greenlets (and threads simply wait, as before). A statement refused as busy did nothing, so
trying it again is safe. How long a connection waits in all is ``wait_seconds`` (the
connection's; ``set_wait`` changes it, as the live-editing writer does).
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext

#: How long SQLite itself waits for its lock before handing back to Python (blocking the
#: thread, and under gevent the process): short, so that other greenlets run in between.
C_WAIT_MS = 10
#: How long a connection waits for the lock in all, unless told otherwise.
DEFAULT_WAIT_SECONDS = 5.0
#: The longest pause between two attempts.
MAX_PAUSE = 0.05

T = TypeVar("T")


def _busy(error: sqlite3.OperationalError) -> bool:
    message = str(error)
    return "database is locked" in message or "database table is locked" in message


def _patiently(connection: CooperativeConnection, attempt: Callable[[], T]) -> T:
    deadline: float | None = None
    pause = 0.001
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
            now = time.monotonic()
            if deadline is None:
                deadline = now + connection.wait_seconds
            if now >= deadline:
                raise
            time.sleep(min(pause, deadline - now))  # gevent: the other greenlets run
            pause = min(pause * 2, MAX_PAUSE)


class CooperativeCursor(sqlite3.Cursor):
    connection: CooperativeConnection

    def execute(self, sql: str, parameters: Any = (), /) -> CooperativeCursor:
        return _patiently(self.connection, lambda: super(CooperativeCursor, self).execute(sql, parameters))

    def executemany(self, sql: str, parameters: Any, /) -> CooperativeCursor:
        rows = list(parameters)  # an iterator could not be given twice
        return _patiently(self.connection, lambda: super(CooperativeCursor, self).executemany(sql, rows))


class CooperativeConnection(sqlite3.Connection):
    """A pysqlite connection whose statements and commits wait for SQLite's lock in Python
    (``sqlite3.connect(..., factory=CooperativeConnection)``)."""

    wait_seconds: float = DEFAULT_WAIT_SECONDS

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or CooperativeCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def commit(self) -> None:
        _patiently(self, super().commit)


def set_wait(dbapi_connection: Any, seconds: float) -> None:
    """How long this connection waits for SQLite's lock in all."""
    if isinstance(dbapi_connection, CooperativeConnection):
        dbapi_connection.wait_seconds = seconds


#: What SQLite says when a connection opened while the file could not be written (it opens
#: such a file read-only, silently, and stays so) or lost its files: reopening is the cure.
STUCK = ("attempt to write a readonly database", "unable to open database file", "disk I/O error")


def install(engine: Engine) -> None:
    """Set up each new connection of ``engine`` (a SQLite file), and replace the ones that
    are stuck: a server started while its database could not be written would otherwise
    refuse every write ("unavailable") until restarted, long after the file was fixed."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # Foreign keys are off by default in SQLite; ON DELETE CASCADE needs them.
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets readers go on while one writer commits: the server and the CLI share a file.
        cursor.execute("PRAGMA journal_mode=WAL")
        # SQLite waits for its lock a moment in C, the rest in Python (above).
        cursor.execute(f"PRAGMA busy_timeout={C_WAIT_MS}")
        cursor.close()

    @event.listens_for(engine, "handle_error")
    def on_error(context: ExceptionContext) -> None:
        error = context.original_exception
        if isinstance(error, sqlite3.OperationalError) and any(words in str(error) for words in STUCK):
            # Treated as a lost connection: this one is dropped (the request answers
            # "unavailable"), and the pool opens new ones, which see the file as it is now.
            context.is_disconnect = True


def connect_args() -> dict[str, Any]:
    """For SQLAlchemy's ``connect_args``: every pooled connection is a cooperative one."""
    return {"factory": CooperativeConnection, "timeout": C_WAIT_MS / 1000}
