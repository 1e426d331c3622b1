"""The server closes votes at their deadline by itself: an edge like a route, which asks
the services which votes are due and closes each in its own transaction.

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
from datetime import datetime

from flask import Flask, current_app

from drafting.errors import Conflict
from drafting.realtime.workers import Worker, worker
from drafting.votes.services import close_vote, due_votes
from models import Vote, db, utcnow

log = logging.getLogger(__name__)


class DeadlineCloser(Worker):
    name = "plenary-vote-deadlines"

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        #: Looks finished, failed ones included. Logged at DEBUG with each look, so that
        #: whoever watches the process (an operator, a test of two processes) can tell the
        #: closer has looked again since a given moment rather than guess from the clock.
        self.passes = 0

    def run(self) -> None:
        interval = float(self.app.config["VOTE_DEADLINE_POLL_SECONDS"])
        while True:
            time.sleep(interval)
            closed = 0
            with self.app.app_context():
                try:
                    closed = close_due_votes()
                except Exception:  # the database away for a moment: try again next time
                    log.exception("closing votes at their deadline failed")
                    db.session.rollback()
                finally:
                    db.session.remove()
            self.passes += 1
            log.debug("deadline pass %d done: %d vote(s) closed", self.passes, closed)


def close_due_votes(now: datetime | None = None) -> int:
    """Close every open vote whose deadline has passed (how many were closed); each in its
    own transaction, so one failure stops nothing else. Several processes may run this at
    once: each vote is closed by exactly one (``services.close_vote``: the others' attempts
    are refused)."""
    due = due_votes(now or utcnow())
    db.session.commit()
    closed = 0
    for vote_id in due:
        try:
            vote = db.session.get(Vote, vote_id)
            if vote is None:  # its recommendation deleted meanwhile
                db.session.rollback()
                continue
            close_vote(None, vote)
            db.session.commit()
            closed += 1
        except Conflict:
            db.session.rollback()  # another process closed it first
        except Exception:
            # This vote cannot be closed now (logged): the others still are, and it is
            # tried again at the next look.
            db.session.rollback()
            log.exception("closing vote %s at its deadline failed", vote_id)
    return closed


def start_deadline_closer() -> None:
    """Start this process's closer, if the configuration wants one (tests close votes
    themselves, deterministically)."""
    if float(current_app.config["VOTE_DEADLINE_POLL_SECONDS"]) > 0:
        worker(DeadlineCloser)


def install(app: Flask) -> None:
    @app.before_request
    def ensure_deadline_closer() -> None:
        start_deadline_closer()
