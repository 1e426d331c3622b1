"""Comments and amendments reach every open page live, after the commit, and only the pages
that may see them: each test applies the events it receives to a snapshot taken at join, and
compares that with a fresh fetch."""
from __future__ import annotations

from typing import Any

import pytest

from drafting.amendments import services as amendments
from drafting.amendments.schemas import AmendmentCreate, amendment_out
from drafting.comments import services as comments
from drafting.comments.schemas import thread_out
from drafting.errors import PermissionDenied
from models import Clause, Participant, Recommendation, db

COMMENT_EVENTS = {"comment_created", "comment_updated", "comment_deleted", "thread_resolved",
                  "thread_reopened"}
AMENDMENT_EVENTS = {"amendment_proposed", "amendment_updated", "amendment_withdrawn",
                    "amendment_accepted", "amendment_rejected", "amendment_put_to_vote"}


@pytest.fixture
def room(app, factories, socket_test_client):
    """A draft of two clauses; the chair and an observer have it open in the editor; a member
    is signed in elsewhere (not in the editor); the chair of another group is connected."""
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group)
    clause_id = factories.clause(
        recommendation, text="Calls on States to protect migrant workers;").id
    factories.clause(recommendation, text="Invites the ILO to assist;", position=2)
    sockets = {}
    for role in ("chair", "observer", "member", "other_chair"):
        client = app.test_client()
        client.sign_in(getattr(cast, role))
        sockets[role] = socket_test_client(app, flask_test_client=client)
        assert sockets[role].is_connected()
    for role in ("chair", "observer"):
        assert sockets[role].emit("join", {"recommendation": recommendation.id}, callback=True)["ok"]
    refused = sockets["other_chair"].emit("join", {"recommendation": recommendation.id}, callback=True)
    assert refused["ok"] is False
    for socket in sockets.values():
        socket.get_received()
    yield cast, recommendation, clause_id, sockets
    for socket in sockets.values():
        if socket.is_connected():
            socket.disconnect()


def received(socket: Any, names: set[str]) -> list[dict[str, Any]]:
    return [message["args"][0] for message in socket.get_received() if message["name"] in names]


def as_person(app, person_id: int, work: Any) -> Any:
    """Run a service as someone, commit, as an edge would."""
    with app.test_request_context():
        result = work(db.session.get(Participant, person_id))
        db.session.commit()
        return result


def threads_now(app, recommendation_id: int) -> dict[int, dict[str, Any]]:
    with app.test_request_context():
        recommendation = db.session.get(Recommendation, recommendation_id)
        found = comments.recommendation_threads(recommendation)
        return {t.id: thread_out(t).model_dump(mode="json") for ts in found.values() for t in ts}


def amendments_now(app, recommendation_id: int) -> dict[int, dict[str, Any]]:
    with app.test_request_context():
        recommendation = db.session.get(Recommendation, recommendation_id)
        found = amendments.recommendation_amendments(recommendation)
        return {a.id: amendment_out(a).model_dump(mode="json") for xs in found.values() for a in xs}


def test_discussion_reaches_every_open_editor_and_matches_a_fresh_fetch(app, room):
    cast, recommendation, clause_id, sockets = room
    snapshot = threads_now(app, recommendation.id)
    assert snapshot == {}

    def clause(_person):
        return db.session.get(Clause, clause_id)

    thread = as_person(app, cast.observer.id, lambda me: comments.start_thread(
        me, clause(me), {"body": "NGOs ask: *families* too?"}).id)
    reply = as_person(app, cast.chair.id, lambda me: comments.reply(
        me, comments.get_thread(thread, me), {"body": "@**Observer Person** agreed."}).id)
    as_person(app, cast.chair.id, lambda me: comments.edit_comment(
        me, comments.get_comment(reply, me), {"body": "@**Observer Person** agreed, see 2."}))
    as_person(app, cast.observer.id, lambda me: comments.set_resolved(
        me, comments.get_thread(thread, me), True))
    as_person(app, cast.chair.id, lambda me: comments.delete_comment(me, comments.get_comment(reply, me)))

    fresh = threads_now(app, recommendation.id)
    for role in ("chair", "observer"):
        events = received(sockets[role], COMMENT_EVENTS)
        assert len(events) == 5, role
        mirror = dict(snapshot)
        for event in events:
            assert (event["recommendation"], event["clause"]) == (recommendation.id, clause_id)
            mirror[event["thread"]["id"]] = event["thread"]
        assert mirror == fresh, role
        assert (events[-1]["open_threads"], events[-1]["comments"]) == (0, 1)
    # Not in the editor, or not allowed in: nothing about the discussion.
    assert received(sockets["member"], COMMENT_EVENTS) == []
    assert received(sockets["other_chair"], COMMENT_EVENTS) == []


def test_amendments_reach_every_open_editor_with_their_redline(app, room):
    cast, recommendation, clause_id, sockets = room
    snapshot = amendments_now(app, recommendation.id)

    def the_clause():
        return db.session.get(Clause, clause_id)

    proposed = as_person(app, cast.member.id, lambda me: amendments.propose_amendment(me, the_clause(), AmendmentCreate(
        kind="replace", text="Calls on States to protect all migrant workers;",
        rationale="All of them.")).id)
    as_person(app, cast.chair.id, lambda me: amendments.set_sponsorship(
        me, amendments.get_amendment(proposed, me), True))
    as_person(app, cast.chair.id, lambda me: amendments.accept_amendment(
        me, amendments.get_amendment(proposed, me)))

    fresh = amendments_now(app, recommendation.id)
    for role in ("chair", "observer"):
        events = received(sockets[role], AMENDMENT_EVENTS)
        assert [e["amendment"]["status"] for e in events] == ["proposed", "proposed", "accepted"]
        mirror = dict(snapshot)
        for event in events:
            mirror[event["amendment"]["id"]] = event["amendment"]
        assert mirror == fresh
        pieces = [(p["op"], p["text"].strip()) for p in events[0]["amendment"]["redline"]
                  if p["op"] != "equal"]
        assert pieces == [("insert", "all")]
        assert events[-1]["open_amendments"] == 0


def test_a_mention_reaches_every_socket_of_the_person_mentioned(app, room):
    cast, _recommendation, clause_id, sockets = room
    as_person(app, cast.chair.id, lambda me: comments.start_thread(
        me, db.session.get(Clause, clause_id),
        {"body": "@**Member Person** please draft this."}))
    [told] = received(sockets["member"], {"notification_created"})
    assert told["unread"] == 1
    assert (told["notification"]["kind"], told["notification"]["clause_id"]) == ("mention", clause_id)
    assert told["notification"]["actor"]["id"] == cast.chair.id
    for role in ("chair", "observer", "other_chair"):
        assert received(sockets[role], {"notification_created"}) == []


def test_a_refused_or_rolled_back_change_is_never_announced(app, room):
    cast, _recommendation, clause_id, sockets = room
    with app.test_request_context():
        clause = db.session.get(Clause, clause_id)
        with pytest.raises(PermissionDenied):
            amendments.propose_amendment(db.session.get(Participant, cast.observer.id), clause,
                                         AmendmentCreate(kind="delete"))
        comments.start_thread(db.session.get(Participant, cast.member.id), clause, {"body": "Draft"})
        db.session.rollback()
    for socket in sockets.values():
        assert received(socket, COMMENT_EVENTS | AMENDMENT_EVENTS | {"notification_created"}) == []
