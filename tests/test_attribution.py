"""Whose words the log says they are (drafting/editing/attribution.py): every editor types
under a Yjs client id the server gave it at its join, so that words handed back by another
replica after the server lost them are stored once and under their author, with who handed
them in beside.

A "replica handing back" is made here exactly as it happens: the author's editor has typed
words the server never received (they were relayed, and lost in a crash before the writer
wrote them), and another member's editor, which has them, sends them in its answer to the
server's sync step 1.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from pycrdt import Doc, Text

from drafting.editing import attribution
from drafting.realtime import protocol, yupdate
from models import ClauseKind, ClauseUpdate, EditorClient, GroupRole, Participant, db
from tests.helpers.live import reloaded_text, stored_text
from tests.yclient import eventually

ORIGINAL = "Calls on States to protect migrant workers;"


# --- cutting an update along its clients --------------------------------------------------

CHARACTERS = st.sampled_from(list("ab zЖж€日🌍👍é\n"))


@st.composite
def shared_documents(draw: st.DrawFn) -> Doc:
    """A document typed into by up to four clients, each inserting and deleting at random
    places of what the others typed before."""
    doc: Doc = Doc()
    text = doc.get("text", type=Text)
    for _ in range(draw(st.integers(1, 14))):
        other: Doc = Doc(client_id=draw(st.sampled_from([7, 2**32 + 1, 2**32 + 2, 2**40])))
        other_text = other.get("text", type=Text)
        other.apply_update(doc.get_update())
        before = other.get_state()
        current = str(other_text)
        if current and draw(st.integers(0, 3)) == 0:
            start = draw(st.integers(0, len(current) - 1))
            end = draw(st.integers(start + 1, len(current)))
            del other_text[len(current[:start].encode()):len(current[:end].encode())]
        else:
            where = draw(st.integers(0, len(current)))
            other_text.insert(len(current[:where].encode()),
                              draw(st.text(alphabet=CHARACTERS, min_size=1, max_size=6)))
        doc.apply_update(other.get_update(before))
    assert text is not None
    return doc


@settings(max_examples=80, deadline=None)
@given(doc=shared_documents(), owners=st.dictionaries(
    st.sampled_from([7, 2**32 + 1, 2**32 + 2, 2**40]), st.sampled_from([101, 102, 103])))
def test_the_rows_of_an_update_cut_along_its_authors_make_the_same_document(doc, owners):
    """Whoever the clients belong to, the parts hold every item once (each author's only
    theirs, the deletions in the sender's), and replayed in order they make the document the
    whole update makes."""
    whole = doc.get_update()
    decoded = yupdate.read_update(whole)
    clients = frozenset(s.client for s in decoded.structs)
    parts = attribution.parts(whole, clients, owners, sender_id=100)
    replica: Doc = Doc()
    replica_text = replica.get("text", type=Text)
    seen: list[int] = []
    for part in parts:
        assert part.handed_in_by_id == (None if part.author_id == 100 else 100)
        read = yupdate.read_update(part.data)
        assert {owners.get(s.client, 100) for s in read.structs} <= {part.author_id}
        assert not read.deletions or part.author_id == 100
        seen += [s.client for s in read.structs]
        replica.apply_update(part.data)
    assert sorted(seen) == sorted(s.client for s in decoded.structs)
    assert len({part.author_id for part in parts}) == len(parts)  # one row per author
    assert str(replica_text) == str(doc.get("text", type=Text))


def test_an_author_s_words_come_before_the_words_typed_beside_them():
    """Rows are in an order each can be applied in: words typed next to another author's come
    after that author's row, so that every point of the history shows them."""
    first: Doc = Doc(client_id=2**32 + 9)  # a high id: Yjs encodes it first in the update
    first.get("text", type=Text).insert(0, "Calls on States")
    second: Doc = Doc(client_id=2**32 + 1)
    second.apply_update(first.get_update())
    second.get("text", type=Text).insert(len("Calls on States"), " to act")
    whole = second.get_update()
    assert [g[0] for g in yupdate.read_update(whole).groups] == [2**32 + 9, 2**32 + 1]
    parts = attribution.parts(whole, frozenset({2**32 + 9, 2**32 + 1}),
                              {2**32 + 9: 1, 2**32 + 1: 2}, sender_id=3)
    assert [part.author_id for part in parts] == [1, 2]
    replica: Doc = Doc()
    text = replica.get("text", type=Text)
    replica.apply_update(parts[0].data)
    assert str(text) == "Calls on States"
    replica.apply_update(parts[1].data)
    assert str(text) == "Calls on States to act"


# --- the server ---------------------------------------------------------------------------

@pytest.fixture
def room(factories, connect):
    group = factories.group()
    ana, boris, olga = (factories.member_of(group, GroupRole.MEMBER) for _ in range(3))
    recommendation = factories.recommendation(group, clauses=[(ClauseKind.OPERATIVE, ORIGINAL)])
    editors = {person.id: connect(factories.api_token(person)) for person in (ana, boris, olga)}
    joins = {pid: editor.join(recommendation.id) for pid, editor in editors.items()}
    doc = joins[ana.id]["clauses"][0]["doc"]
    for editor in editors.values():
        editor.open(doc)
    return recommendation, doc, int(doc.split(":")[1]), (ana, boris, olga, group), editors, joins


class Replica:
    """An editor's copy of the clause, typing under the client id its join gave, that the
    server has not heard from: what it answers to the server's sync step 1 (a sync step 2
    with everything the server lacks) is what a replica hands back after a crash."""

    def __init__(self, client_id: int, server: Doc) -> None:
        self.doc: Doc = Doc(client_id=client_id)
        self.text = self.doc.get("text", type=Text)
        self.doc.apply_update(server.get_update())
        self.server_state = server.get_state()

    def type(self, index: int, words: str) -> Replica:
        self.text.insert(len(str(self.text)[:index].encode()), words)
        return self

    def receive(self, other: Replica) -> Replica:
        self.doc.apply_update(other.doc.get_update())
        return self

    def step2(self) -> bytes:
        return protocol.sync_step2(self.doc.get_update(self.server_state))


def _rows(app, clause_id: int) -> list[tuple[int | None, int | None, str]]:
    """(author, handed in by, inserted text) of each logged update after the first."""
    with app.app_context():
        rows = db.session.scalars(db.select(ClauseUpdate).where(ClauseUpdate.clause_id == clause_id)
                                  .order_by(ClauseUpdate.id)).all()
        return [(row.author_id, row.handed_in_by_id, yupdate.read_update(row.data).inserted_text)
                for row in rows[1:]]


def test_a_join_gives_each_editor_a_client_id_of_its_own(app, factories, connect, room):
    recommendation, _doc, _clause_id, people, editors, joins = room
    ids = [answer["client"] for answer in joins.values()]
    again = editors[people[0].id].join(recommendation.id)["client"]
    assert len({*ids, again}) == 4
    assert all(EditorClient.CLIENT_ID_BASE <= client < 2**53 for client in [*ids, again])
    with app.app_context():
        owners = attribution.owners(recommendation.id, [*ids, again, 12345])
    assert owners == {**{answer["client"]: pid for pid, answer in joins.items()}, again: people[0].id}
    # Someone who may not draft there (an observer, the secretariat watching) gets none.
    observer = factories.member_of(people[3], GroupRole.OBSERVER)
    assert connect(factories.api_token(observer)).join(recommendation.id)["client"] is None
    assert connect(factories.api_token(factories.secretariat())).join(recommendation.id)["client"] is None


def test_an_editor_s_own_words_are_its_own(app, room):
    _rec, doc, clause_id, (ana, _boris, _olga, _group), editors, _joins = room
    editors[ana.id].insert(doc, len(ORIGINAL), " now")
    eventually(lambda: stored_text(app, clause_id) == ORIGINAL + " now", message="durable")
    assert _rows(app, clause_id) == [(ana.id, None, " now")]


def test_words_handed_back_by_another_replica_are_stored_once_under_their_author(app, client, room,
                                                                                  xss_payloads):
    """Ana typed words the server lost; Boris's editor had them relayed, typed beside them,
    and hands them all back: Ana's are Ana's, Boris's his, the row of Ana's says Boris handed
    it in, and when Ana's editor sends them too, nothing is stored twice."""
    _rec, doc, clause_id, (ana, boris, _olga, _group), editors, joins = room
    server = editors[boris.id].docs[doc]
    anas = Replica(joins[ana.id]["client"], server).type(0, "Strongly ")
    boris_replica = Replica(joins[boris.id]["client"], server).receive(anas).type(len("Strongly "), "and unanimously ")
    assert editors[boris.id].send(doc, boris_replica.step2()) == {"ok": True}
    expected = "Strongly and unanimously " + ORIGINAL
    eventually(lambda: stored_text(app, clause_id) == expected, message="durable")
    assert _rows(app, clause_id) == [(ana.id, boris.id, "Strongly "), (boris.id, None, "and unanimously ")]
    # Ana's editor comes back with the same words: they are there already.
    assert editors[ana.id].send(doc, anas.step2()) == {"ok": True}
    assert reloaded_text(app, clause_id) == expected
    assert len(_rows(app, clause_id)) == 2
    # The history says who typed what, and who handed it in.
    sessions = client.api("GET", f"/api/v1/clauses/{clause_id}/history",
                          token=editors[ana.id].token).get_json()["sessions"]
    assert [(s["author"]["id"], (s["handed_in_by"] or {}).get("id")) for s in sessions[:2]] == \
        [(boris.id, None), (ana.id, boris.id)]
    # And so does the page, inert whatever the names are.
    client.sign_in(ana)
    for payload in xss_payloads:
        with app.app_context():
            db.session.execute(db.update(Participant).where(Participant.id == boris.id)
                               .values(name=payload[:200]))
            db.session.commit()
        page = client.get(f"/clauses/{clause_id}/history")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        # Escaped where it is shown, and nowhere as typed (it would be markup there).
        name = payload[:200]
        assert f"received from the editor of {escape(name)}</small>" in html, payload
        assert name not in html or str(escape(name)) == name, payload


def test_a_deletion_handed_back_is_the_sender_s(app, room):
    """Yjs does not say who deleted what: a deletion handed in is its sender's, as before."""
    _rec, doc, clause_id, (ana, boris, _olga, _group), editors, joins = room
    anas = Replica(joins[ana.id]["client"], editors[boris.id].docs[doc])
    del anas.text[0:len("Calls on ")]
    assert editors[boris.id].send(doc, anas.step2()) == {"ok": True}
    eventually(lambda: stored_text(app, clause_id) == ORIGINAL[len("Calls on "):], message="durable")
    assert _rows(app, clause_id) == [(boris.id, None, "")]


def test_ids_the_server_did_not_give_for_this_recommendation_are_the_sender_s(app, factories, connect, room):
    """An id Yjs picked by itself, or one given for another recommendation, says nothing of
    whose the words are: they are the sender's."""
    _rec, doc, clause_id, (ana, _boris, _olga, _group), editors, _joins = room
    other_group = factories.group()
    elsewhere = factories.recommendation(other_group, clauses=[(ClauseKind.OPERATIVE, "x")])
    stranger = factories.member_of(other_group, GroupRole.MEMBER)
    foreign = connect(factories.api_token(stranger)).join(elsewhere.id)["client"]
    server = editors[ana.id].docs[doc]
    random_id = Replica(424242, server).type(0, "Urgently ")
    handed = Replica(foreign, server).receive(random_id).type(len("Urgently ") + len(ORIGINAL), " today")
    assert editors[ana.id].send(doc, handed.step2()) == {"ok": True}
    eventually(lambda: stored_text(app, clause_id) == f"Urgently {ORIGINAL} today", message="durable")
    assert [(author, by) for author, by, _text in _rows(app, clause_id)] == [(ana.id, None)]
