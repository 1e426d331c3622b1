"""What a live-editing test reads from the database, and the database held by another
connection, as a long transaction elsewhere would hold it."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from drafting.editing import attribution, docs
from drafting.realtime import yupdate
from models import Clause, ClauseUpdate, db


def stored_text(app, clause_id: int) -> str:
    """The clause's text as its row has it (what the API, pages and exports read)."""
    with app.app_context():
        return db.session.get(Clause, clause_id).text


def reloaded_text(app, clause_id: int) -> str:
    """The text a restarted server would have: rebuilt from snapshot + log alone."""
    with app.app_context():
        live = docs.LiveDoc(clause_id, *docs.new_doc())
        docs.catch_up(live)
        return str(live.text)


def log_size(app, clause_id: int) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(ClauseUpdate)
                                 .where(ClauseUpdate.clause_id == clause_id))


def misattributed(app, clause_id: int) -> list[tuple[int, int | None, dict[int, int | None]]]:
    """The logged updates (after the clause's first) that hold items typed under a client id
    the server did not give their author (``drafting.editing.attribution``): (row id, author,
    {client id: whose it is}). An editor that types under the id its join gave has none."""
    with app.app_context():
        clause = db.session.get(Clause, clause_id)
        rows = db.session.scalars(db.select(ClauseUpdate).where(ClauseUpdate.clause_id == clause_id)
                                  .order_by(ClauseUpdate.id)).all()[1:]
        found = []
        for row in rows:
            clients = {s.client for s in yupdate.read_update(row.data).structs}
            owners = attribution.owners(clause.recommendation_id, clients)
            if any(owners.get(client) != row.author_id for client in clients):
                found.append((row.id, row.author_id, {c: owners.get(c) for c in clients}))
        return found


@contextmanager
def database_write_locked(app) -> Iterator[None]:
    """Another connection holds the lock that writing to the update log needs."""
    with app.app_context():
        engine = db.engine
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("LOCK TABLE clause_update IN EXCLUSIVE MODE")
        yield
    finally:
        raw.rollback()
        raw.close()
