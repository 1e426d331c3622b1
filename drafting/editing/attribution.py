"""Whose words an update holds, whoever hands it in.

An update usually reaches the server from its author's editor. But after a crash that lost
what was relayed and not yet written, the other editors' replicas hand it back when they
sync again, and whichever replica answers first brings it: stored under that sender, the
history would say they typed it. So the server gives each editor a Yjs client id of its own
when it joins a recommendation (``register``; ``EditorClient``), which the editor then uses
for every item it types. When an update is written, its items are the author's their client
ids say (``parts``): an update holding several people's items becomes one log row each, and
a row handed in by someone else records who (``ClauseUpdate.handed_in_by_id``).

What cannot be attributed stays with the sender: items under ids the server never gave out
(an editor that ignored its id, or a test client), and deletions, which Yjs does not tie to
whoever made them. A sender can put another person's id on items of their own making, as any
replica could; the row then says who handed it in, so that it is never anonymous.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import select

from drafting.realtime import yupdate
from models import EditorClient, Participant, Recommendation, db

BASE = EditorClient.CLIENT_ID_BASE


@dataclass(frozen=True)
class Part:
    """One log row's worth of an update: its author's items (and, in the sender's own part,
    the update's deletions)."""

    #: None only for a sender whose session has ended (refused before it is stored).
    author_id: int | None
    #: The sender, when it was not the author.
    handed_in_by_id: int | None
    data: bytes


def register(participant: Participant, recommendation: Recommendation) -> int:
    """A new Yjs client id for the participant's editor of the recommendation (flushed; the
    caller commits). Never given to anyone else, and above every id Yjs picks by itself."""
    client = EditorClient(recommendation_id=recommendation.id, participant_id=participant.id)
    db.session.add(client)
    db.session.flush()
    return client.client_id


def owners(recommendation_id: int, clients: Iterable[int]) -> dict[int, int]:
    """Client id -> participant id, for the ids among ``clients`` given out for editors of the
    recommendation (one query; none when no id is one of the server's)."""
    wanted = {client - BASE for client in clients if client >= BASE}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(EditorClient.id, EditorClient.participant_id)
        .where(EditorClient.id.in_(sorted(wanted)))
        .where(EditorClient.recommendation_id == recommendation_id)
    )
    return {BASE + row_id: participant_id for row_id, participant_id in rows}


def parts(update: bytes, clients: Collection[int], known: dict[int, int], sender_id: int) -> list[Part]:
    """The log rows an update handed in by ``sender_id`` becomes: one per author of its new
    items (``clients``, their owners in ``known``: ``owners``), the sender's holding whatever
    is not attributable. In an order each row's items can be integrated in as it is applied
    (the items a row's items are inserted beside come in an earlier row), where one exists."""
    authors = {known.get(client, sender_id) for client in clients}
    if authors <= {sender_id}:
        return [Part(sender_id, None, update)]
    decoded = yupdate.read_update(update)
    if len(authors) == 1 and not decoded.deletions:
        (author,) = authors
        return [Part(author, sender_id, update)]
    by_author: dict[int, set[int]] = {}
    for client, _start, _end in decoded.groups:
        by_author.setdefault(known.get(client, sender_id), set()).add(client)
    by_author.setdefault(sender_id, set())  # the deletions are the sender's
    order = _integration_order(decoded, by_author, sender_id)
    return [Part(author, None if author == sender_id else sender_id,
                 yupdate.select(update, decoded, by_author[author], deletions=author == sender_id))
            for author in order
            if by_author[author] or (author == sender_id and decoded.deletions)]


def _integration_order(decoded: yupdate.Update, by_author: dict[int, set[int]],
                       sender_id: int) -> list[int]:
    """The authors in an order where each one's items come after those they build on (and the
    sender's deletions after the items they delete); where they build on each other both
    ways, in the order the update has them."""
    owner = {client: author for author, mine in by_author.items() for client in mine}
    needs: dict[int, set[int]] = {}
    for author, mine in by_author.items():
        built_on = yupdate.references(decoded, mine)
        if author == sender_id:
            built_on |= set(decoded.deletions)
        needs[author] = {owner[c] for c in built_on if c in owner} - {author}
    order: list[int] = []
    waiting = list(by_author)
    while waiting:
        ready = next((a for a in waiting if needs[a] <= set(order)), waiting[0])
        order.append(ready)
        waiting.remove(ready)
    return order
