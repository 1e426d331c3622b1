"""Accepted keystrokes go out at once, merged per document on a short tick under load.

An editor's update is relayed to the other editors of its document as soon as it is accepted
into the server's copy, before it is written (its sender is acknowledged only after the
writer's commit: ARCHITECTURE.md, "relay at once, acknowledge when durable"). A document that
has sent nothing for a tick sends at once; one that has just sent waits for the end of the
tick and then sends everything that arrived meanwhile as one merged update. The tick grows
with the room (``YJS_RELAY_TICK_MS``, at least ``YJS_RELAY_TICK_PER_EDITOR_MS`` per editor):
fan-out costs a send per editor for every message, and with a hundred people typing five
keys a second, one message per key would be 50,000 sends a second, more than a process
manages (measured: it fell behind and never caught up); one per tick is a few thousand.

This send does not wait for a commit, by design: what the writer refuses after all (a lock
or revocation that reached this process a moment late) is undone by a ``reset`` of the
clause on every editor, sent after the writer's commit.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import current_app

from drafting.extensions import socketio
from drafting.realtime import send_merged

#: How often a room's editors are counted again (seconds).
COUNT_EVERY = 1.0


@dataclass
class _Outbox:
    #: When the document last sent (monotonic seconds).
    sent_at: float = 0.0
    #: (update, sender's sid) waiting for the end of the tick.
    waiting: list[tuple[bytes, str | None]] = field(default_factory=list)
    #: The room's tick, and when its editors were last counted.
    tick: float = 0.0
    counted_at: float = -COUNT_EVERY


class Relay:
    """One per server process and application: the documents' outboxes and the timer that
    flushes them."""

    def __init__(self, tick: float, per_editor: float) -> None:
        self.tick = tick
        self.per_editor = per_editor
        self.outboxes: dict[tuple[str, str], _Outbox] = {}
        self.lock = threading.Lock()

    def _tick(self, outbox: _Outbox, room: str, now: float) -> float:
        if now - outbox.counted_at >= COUNT_EVERY:
            # This process's editors in the room (those on other processes are their own's).
            editors = sum(1 for _ in socketio.server.manager.get_participants("/", room))
            outbox.tick = max(self.tick, self.per_editor * editors)
            outbox.counted_at = now
        return outbox.tick

    def send_rollback_unsafe(self, doc: str, update: bytes, *, room: str, origin: str | None) -> None:
        """Relay ``update`` of ``doc`` to ``room`` (but ``origin``) now, or with the next
        tick's merged update if the document sent less than a tick ago."""
        key = (doc, room)
        now = time.monotonic()
        with self.lock:
            outbox = self.outboxes.get(key)
            if outbox is None:
                outbox = self.outboxes[key] = _Outbox()
            tick = self._tick(outbox, room, now)
            if outbox.waiting or now - outbox.sent_at < tick:
                outbox.waiting.append((update, origin))
                if len(outbox.waiting) == 1:
                    socketio.start_background_task(self._flush_later, key, outbox.sent_at + tick - now)
                return
            outbox.sent_at = now
        send_merged(doc, [(update, origin)], room=room)

    def _flush_later(self, key: tuple[str, str], delay: float) -> None:
        if delay > 0:
            socketio.sleep(delay)
        with self.lock:
            outbox = self.outboxes.get(key)
            if outbox is None or not outbox.waiting:
                return
            waiting, outbox.waiting = outbox.waiting, []
            outbox.sent_at = time.monotonic()
        send_merged(key[0], waiting, room=key[1])


def relay() -> Relay:
    """The current application's relay (one per application in this process)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        found: Relay | None = app.extensions.get("plenary_relay")
        if found is None:
            found = app.extensions["plenary_relay"] = Relay(app.config["YJS_RELAY_TICK_MS"] / 1000,
                                                            app.config["YJS_RELAY_TICK_PER_EDITOR_MS"] / 1000)
        return found


_lock = threading.Lock()
