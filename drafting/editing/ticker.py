"""Presence goes out on a short tick.

Cursor and selection updates are the chattiest traffic of the editor: with a cursor moving
on every keystroke, fifty people typing would cost fifty sends for every key anyone presses.
Awareness handlers only stamp and queue (``presence.stamp``); every PRESENCE_TICK_MS this
process's ticker takes the queue, checks in one query that each sender is still signed in
(ending the sockets of those who are not, and dropping what they sent), and sends each
document's entries as one awareness message.
"""
from __future__ import annotations

import logging
import time

from flask import Flask, current_app

from drafting.editing import presence, services
from drafting.realtime import send_now_rollback_unsafe
from drafting.realtime.protocol import awareness_message, encode_awareness
from drafting.realtime.workers import Worker, worker
from drafting.sockets import connections
from models import db

log = logging.getLogger(__name__)


class Ticker(Worker):
    name = "presence"

    def __init__(self, app: Flask, interval: float) -> None:
        super().__init__(app)
        self.interval = interval

    def run(self) -> None:
        while True:
            time.sleep(self.interval)
            outbox = presence.take_outbox()
            if not outbox:
                continue
            try:
                with self.app.app_context():
                    self._send(outbox)
            except Exception:  # a bug: this tick's presence is lost, the next one goes out
                log.exception("Sending presence failed")

    @staticmethod
    def _send(outbox: dict[str, list[tuple[presence.AwarenessEntry, str | None]]]) -> None:
        senders = {sid for entries in outbox.values() for _entry, sid in entries if sid is not None}
        found = [c for c in (connections.find(sid) for sid in senders) if c is not None]
        live = connections.authenticate_all(found)
        db.session.commit()  # a token's last use
        for connection in found:
            if connection.sid not in live:
                connections.end(connection)
        for doc, entries in outbox.items():
            kept = [(entry, sid) for entry, sid in entries if sid is None or sid in live]
            if not kept:
                continue
            origins = {sid for _entry, sid in kept}
            # One sender: it has its own state already. Several: each gets its own back too,
            # which Yjs ignores (same clock).
            skip_sid = origins.pop() if len(origins) == 1 else None
            send_now_rollback_unsafe("y", doc, awareness_message(encode_awareness([entry for entry, _sid in kept])),
                                     room=services.doc_room(doc), skip_sid=skip_sid)


def ticker() -> Ticker:
    """The current application's ticker, started (one per application in this process)."""
    return worker(Ticker, current_app.config["PRESENCE_TICK_MS"] / 1000)
