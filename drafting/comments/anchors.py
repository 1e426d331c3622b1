"""Where a thread's words are now: its anchors (Yjs relative positions) resolved against
the clause's live text."""
from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from drafting.editing.services import resolve_anchors
from models import CommentThread


def thread_anchor(thread: CommentThread) -> dict[str, Any] | None:
    """Where the thread's words are now: ``{start, end, quote, text, detached}``, or None for
    a comment on the whole clause. Detached: its words were deleted."""
    return thread_anchors([thread])[thread.id]


def thread_anchors(threads: Iterable[CommentThread]) -> dict[int, dict[str, Any] | None]:
    """Thread id -> ``thread_anchor(thread)``, each clause's document caught up once for all of
    its threads rather than once a thread."""
    found: dict[int, dict[str, Any] | None] = {}
    by_clause: dict[int, list[tuple[CommentThread, bytes, bytes]]] = {}
    for thread in threads:
        found[thread.id] = None
        if thread.anchor_start is not None and thread.anchor_end is not None:
            by_clause.setdefault(thread.clause_id, []).append(
                (thread, thread.anchor_start, thread.anchor_end))
    for anchored in by_clause.values():
        spans = resolve_anchors(anchored[0][0].clause, [(start, end) for _t, start, end in anchored])
        for (thread, start, end), span in zip(anchored, spans, strict=True):
            found[thread.id] = {
                "start": base64.b64encode(start).decode(),
                "end": base64.b64encode(end).decode(),
                "quote": thread.quote,
                "text": span.text if span else "",
                "detached": span is None or not span.text.strip(),
            }
    return found
