"""The unit of work: everything that happens when a database transaction commits or rolls
back, declared here in the order it runs, and nowhere else.

Services change rows, flush, and queue what must follow the commit: events for the clients
(``drafting.realtime.queue_event``, ``queue_update``, ``queue_sockets_ended``), live-text
updates for the clause log (``drafting.editing.services``), and the live documents they
changed (``drafting.editing.docs.touched``, whose locks they hold until the end). Whatever
session commits (a request, a socket handler, the writer, a CLI command, a test), the same
steps run, registered once on SQLAlchemy's ``Session`` class:

before each flush
  1. ``note_gate_changes``: the clauses whose status or deletion changes, and the
     recommendations whose status does (their live documents' gates, see below).

before the commit
  1. ``write_logged_updates``: the live-text updates the transaction accepted become rows of
     the clause log (one INSERT), and each clause's text and snapshot follow them.

after the commit
  1. ``announce_gate_changes``: the gates the transaction changed are forgotten here, and
     every other process is told to forget them: the next keystroke in those clauses is
     checked against the database again.
  2. ``emit_pending``: events, live-text updates and socket endings go out, in the order they
     were queued; the only path by which a change of stored state reaches a client.
  3. ``written``: the writer's documents note the log rows it wrote.
  4. ``release_documents``: the live documents the transaction changed are let go: what they
     hold is now in the database, others may read them.

after a rollback (of the transaction, or of a savepoint inside it)
  1. ``drop_rolled_back``: the events queued since (for a savepoint: since it began) are
     dropped; a client never hears of a change that did not happen.
  2. ``evict_documents``: the live documents the transaction changed may hold what the
     database does not: they are evicted, and rebuilt from the log when next needed.
  3. ``drop_logged_updates``, ``drop_gate_changes``, ``drop_written``: what the transaction
     wrote and changed is gone with it.

when a savepoint begins
  1. ``mark_savepoint``: remember how much was queued before it.

when the transaction ends, committed or not
  1. ``let_go_of_documents``: documents still held (a rollback) are evicted and let go.
  2. ``let_go_of_holds``: updates are accepted again into the documents it held.
  3. ``forget_permission_answers``: the answers cached for the transaction are dropped.

The sends that do not wait for a commit are named for it: presence and sync answers
(``drafting.realtime.send_now_rollback_unsafe``, ``answer_sender``) carry no stored state, and an
editor's accepted keystroke is relayed before it is written (``drafting.realtime.relay``,
ARCHITECTURE.md's "relay at once, acknowledge when durable"): its sender is acknowledged
only after the writer's commit, and what the writer refuses after all is reset on every
editor.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from drafting.editing.docs import (
    announce_gate_changes,
    drop_gate_changes,
    evict_documents,
    let_go_of_documents,
    let_go_of_holds,
    note_gate_changes,
    release_documents,
)
from drafting.editing.services import (
    drop_logged_updates,
    drop_written,
    forget_permission_answers,
    write_logged_updates,
    written,
)
from drafting.realtime import drop_rolled_back, emit_pending, mark_savepoint

STEPS: dict[str, list[Callable[..., Any]]] = {
    "before_flush": [note_gate_changes],
    "before_commit": [write_logged_updates],
    "after_commit": [announce_gate_changes, emit_pending, written, release_documents],
    "after_soft_rollback": [drop_rolled_back, evict_documents, drop_logged_updates,
                            drop_gate_changes, drop_written],
    "after_transaction_create": [mark_savepoint],
    "after_transaction_end": [let_go_of_documents, let_go_of_holds, forget_permission_answers],
}

_installed = False


def install() -> None:
    """Register the steps on the ``Session`` class (once per process: every app shares it)."""
    global _installed
    if _installed:
        return
    for name, steps in STEPS.items():
        for step in steps:
            event.listen(Session, name, step)
    _installed = True
