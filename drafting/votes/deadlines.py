"""The server closes votes at their deadline by itself.

Each server process runs one ``DeadlineCloser`` thread, started by the first request or
socket it serves (so that a process forked by gunicorn starts its own). Every
``VOTE_DEADLINE_POLL_SECONDS`` it closes the open votes whose deadline has passed; with
several processes they all look, and the conditional UPDATE in ``close_vote`` lets exactly
one of them close each vote. Casting checks the deadline itself, so nothing is accepted
late while the closer sleeps.
"""
from __future__ import annotations

import logging
import time

from flask import Flask, current_app

from drafting.realtime.workers import Worker, worker
from models import db

log = logging.getLogger(__name__)


class DeadlineCloser(Worker):
    name = "plenary-vote-deadlines"

    def run(self) -> None:
        from drafting.votes.services import close_due_votes

        interval = float(self.app.config["VOTE_DEADLINE_POLL_SECONDS"])
        while True:
            time.sleep(interval)
            with self.app.app_context():
                try:
                    close_due_votes()
                except Exception:  # the database away for a moment: try again next time
                    log.exception("closing votes at their deadline failed")
                    db.session.rollback()
                finally:
                    db.session.remove()


def start_deadline_closer() -> None:
    """Start this process's closer, if the configuration wants one (tests close votes
    themselves, deterministically)."""
    if float(current_app.config["VOTE_DEADLINE_POLL_SECONDS"]) > 0:
        worker(DeadlineCloser)


def install(app: Flask) -> None:
    @app.before_request
    def ensure_deadline_closer() -> None:
        start_deadline_closer()
