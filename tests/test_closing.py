"""Finalising closes the conference; adopting a text closes what hangs on it.

Once the secretariat has finalised the outcome document, nothing of the conference's texts
changes any more: every service that changes them refuses (409, the same words everywhere),
the live editor refuses keystrokes (its gates change with the finalisation), every page of the
conference says it is closed and offers no form that would be refused, and the pages open at
that moment are told. When a clause (or a recommendation as a whole) is adopted, its open
threads are resolved by the adoption and its open amendments superseded.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from drafting.amendments.services import close_hanging
from drafting.comments.services import reply, set_resolved
from drafting.errors import Conflict, PermissionDenied
from drafting.export import services as export
from drafting.realtime import PENDING_KEY, QueuedEvent
from drafting.votes.ballots import cast_ballot
from drafting.votes.schemas import BallotIn, StatementIn, VoteOpen
from drafting.votes.services import add_statement, close_vote, open_vote
from models import (
    Amendment,
    AmendmentKind,
    AmendmentStatus,
    ApiToken,
    Clause,
    ClauseKind,
    CommentThread,
    Conference,
    LoginSession,
    Participant,
    Recommendation,
    RecommendationStatus,
    db,
)
from tests import rows
from tests.helpers.discussion import CASES as DISCUSSION_CASES
from tests.helpers.discussion import build_world
from tests.helpers.exports import QUICK, export_world, final_quickly, settle  # noqa: F401 - fixtures
from tests.helpers.pages import read
from tests.helpers.permissions import CASES, build_cast
from tests.helpers.permissions import Case as MatrixCase
from tests.yclient import eventually

CLOSED = "This conference is closed: its outcome document was finalised on"


def close(app, conference_id: int, when: datetime | None = None) -> None:
    """The step of finalising that closes the conference (``close_conference``), on the
    conference as it is: finalising itself refuses while anything is pending, so this is how a
    test gets a closed conference that still holds drafts, open votes and open threads, to
    show that each change to them is refused because the conference is closed."""
    with app.test_request_context():
        conference = db.session.get(Conference, conference_id)
        export.close_conference(conference, export.outline_of(conference),
                                when or datetime(2009, 6, 25, 16, 30, tzinfo=UTC))
        db.session.commit()


def every_table() -> tuple[Any, ...]:
    """What a refused request must leave as it was (a token's or a session's last use aside)."""
    return tuple(mapper.class_ for mapper in db.Model.registry.mappers
                 if mapper.class_ not in (ApiToken, LoginSession))


# --- every change is refused -----------------------------------------------------------------

#: Changes that are not to a conference's texts: one's own profile and tokens, the
#: participants' list, notifications, a new conference, exports (reading), finalising (which
#: says "already final").
NOT_CONTENT = re.compile(r"^/(api/v1/)?(profile|logout|admin/participants|participants|"
                         r"notifications|conferences/new$|conferences$|export|exports)|"
                         r"/(export/jobs|exports|finalise)$")
CHANGES = [case for case in CASES
           if case.method != "GET" and not NOT_CONTENT.search(case.path.split("?")[0])]


def test_the_changes_tried_are_every_change_to_a_conference():
    paths = {case.path for case in CHANGES}
    for expected in ("/api/v1/conferences/{conference}", "/conferences/{conference}/edit",
                     "/api/v1/conferences/{conference}/groups", "/groups/{group}/members",
                     "/api/v1/memberships/{member_membership}",
                     "/groups/{group}/recommendations/new", "/api/v1/clauses/{clause}",
                     "/clauses/{clause}/threads", "/amendments/{amendment}/accept",
                     "/api/v1/recommendations/{recommendation}/votes",
                     "/api/v1/votes/{open_vote}/ballot", "/api/v1/votes/{open_vote}/close",
                     "/api/v1/recommendations/{recommendation}/statements",
                     "/api/v1/clauses/{clause}/ad-referendum",
                     "/api/v1/clauses/{clause}/restore-wording"):
        assert expected in paths
    assert len(CHANGES) >= 55


def _refused_as_closed(response: Any, api: bool) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 409, body[:1500]
    if api:
        error = response.get_json()["error"]
        assert error["code"] == "conflict"
        assert error["message"] == (f"{CLOSED} 25 June 2009. Nothing can be changed any more.")
    else:
        assert CLOSED in " ".join(read(response).text_of("main").split()) or CLOSED in body


@pytest.mark.parametrize("case", CHANGES, ids=str)
def test_every_change_to_a_closed_conference_is_refused(app, factories, case: MatrixCase):
    cast, ids = build_cast(factories)
    close(app, cast.conference.id)
    role = min(case.ok)
    client = app.test_client()
    actor = getattr(cast, role)
    token = factories.api_token(actor) if case.api else None
    if not case.api:
        client.sign_in(actor)
    body = case.body(ids) if callable(case.body) else case.body
    path = case.path.format(**ids)
    with rows.unchanged(app, every_table()):
        response = client.api(case.method, path, body, token=token) if case.api else client.submit(path, body or {})
    _refused_as_closed(response, case.api)


DISCUSSION_CHANGES = [case for case in DISCUSSION_CASES
                      if case.method != "GET" and "notifications" not in case.path]


@pytest.mark.parametrize("case", DISCUSSION_CHANGES, ids=str)
def test_every_change_to_a_closed_conference_s_discussion_is_refused(app, factories, client, case):
    world = build_world(app, factories)
    close(app, world.cast.conference.id)
    role = min(role for role, status in case.expected.items() if status < 300)
    with rows.unchanged(app, every_table()):
        response = client.api(case.method, "/api/v1" + case.path.format(**world.ids()),
                              case.body, token=world.token(role))
    _refused_as_closed(response, api=True)


# --- finalising closes it ----------------------------------------------------------------------


def queued(name: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.room, e.args[0]) for e in db.session().info.get(PENDING_KEY, [])
            if isinstance(e, QueuedEvent) and e.name == name]


def test_finalising_closes_the_conference_and_tells_its_open_pages(app, world, quick_final):
    settle(app, world)
    with app.test_request_context():
        conference = db.session.get(Conference, world.conference)
        assert conference.finalised_at is None and not conference.is_closed
        secretariat = db.session.get(Participant, world.cast.secretariat.id)
        export.finalise(secretariat, conference)
        events = queued("conference_closed")
        clauses = set(db.session.scalars(select(Clause.id).join(Recommendation).where(
            Recommendation.id.in_([world.adopted, world.other_adopted, world.pending_recommendation]))))
        changed = db.session().info["plenary_changed_gates"][0]
        db.session.commit()
        finalised_at = db.session.get(Conference, world.conference).finalised_at
    assert finalised_at is not None
    payload = {"conference": world.conference, "finalised_at": finalised_at.isoformat()}
    rooms = {room for room, data in events if data == payload}
    assert {f"recommendation:{r}" for r in (world.adopted, world.other_adopted,
                                            world.pending_recommendation)} <= rooms
    for person in (world.cast.secretariat, world.cast.chair, world.cast.member,
                   world.cast.observer, world.cast.other_chair):
        assert f"participant:{person.id}" in rooms
    assert f"participant:{world.cast.outsider.id}" not in rooms
    # Every clause of the conference: its open editors are refused at their next keystroke.
    assert clauses <= changed
    # A statement, now too late.
    with app.test_request_context():
        member = db.session.get(Participant, world.cast.member.id)
        with pytest.raises(Conflict, match=CLOSED):
            add_statement(member, db.session.get(Recommendation, world.adopted),
                          StatementIn(kind="reservation", text="Too late."))


def test_what_changes_while_the_document_renders_refuses_finalising(app, world, quick_final):
    """The files must be the document as it stands when it is closed: a participant renamed
    while the renderer ran would be misnamed in them, so finalising is refused, and nothing
    is stored or closed."""
    settle(app, world)

    def render_meanwhile(outline, formats, **options):
        with db.engine.begin() as connection:
            connection.execute(db.text("UPDATE participant SET name = 'Renamed Meanwhile' "
                                       "WHERE id = :id"), {"id": world.cast.member.id})
        return export.render_formats(outline, formats, **options)

    with app.test_request_context():
        conference = db.session.get(Conference, world.conference)
        with pytest.raises(Conflict, match="changed while the outcome document was being rendered"):
            export.finalise(None, conference, render_with=render_meanwhile)
        db.session.rollback()
        assert db.session.get(Conference, world.conference).finalised_at is None
        assert not export.is_final(db.session.get(Conference, world.conference))
        # Nothing changes now: it goes through.
        export.finalise(None, db.session.get(Conference, world.conference))
        db.session.commit()
        assert db.session.get(Conference, world.conference).is_closed
        assert sorted(d.format.value for d in export.final_documents(
            db.session.get(Conference, world.conference))) == sorted(QUICK)


# --- the live editor -------------------------------------------------------------------------


def test_a_keystroke_after_the_closing_is_refused_and_not_stored(app, connect, drafting_room):
    """The editor had this clause's gate in memory (it typed a moment before): the closing's
    commit changes it on every process, and the next keystroke is refused, saying why."""
    cast, recommendation, tokens = drafting_room
    member = connect(tokens["member"])
    closings: list[dict[str, Any]] = []
    member.sio.on("conference_closed", closings.append)
    answer = member.join(recommendation.id)
    assert answer["can_edit"] is True
    doc, clause_id = answer["clauses"][1]["doc"], answer["clauses"][1]["id"]
    member.open(doc)
    member.insert(doc, 0, "Firmly ")
    eventually(lambda: member.acks, message="acknowledgement")
    close(app, cast.conference.id)
    eventually(lambda: closings, message="conference_closed")
    assert closings[0]["conference"] == cast.conference.id
    member.insert(doc, 0, "Too late ")
    eventually(lambda: member.errors, message="a refusal")
    assert member.errors[0]["code"] == "forbidden" and member.errors[0]["doc"] == doc
    assert member.errors[0]["message"].startswith(f"{CLOSED} 25 June 2009.")
    with app.app_context():
        stored = db.session.get(Clause, clause_id).text
    assert stored.startswith("Firmly ") and "Too late" not in stored
    # Joining again: nothing here is editable any more.
    again = connect(tokens["chair"]).join(recommendation.id)
    assert again["can_edit"] is False and again["can_comment"] is False
    assert not any(clause["editable"] for clause in again["clauses"])


# --- every page says so ----------------------------------------------------------------------


def test_every_page_of_a_closed_conference_says_so_and_offers_no_change(app, factories):
    cast, ids = build_cast(factories)
    pages = ["/conferences/{conference}", "/groups/{group}", "/groups/{group}/members",
             "/recommendations/{recommendation}", "/clauses/{clause}/discussion",
             "/clauses/{clause}/history", "/votes/{open_vote}", "/votes/{closed_vote}/record",
             "/conferences/{conference}/export", "/groups/{group}/export"]
    secretariat, chair = app.test_client(), app.test_client()
    secretariat.sign_in(cast.secretariat)
    chair.sign_in(cast.chair)
    for path in pages:
        page = read(chair.get(path.format(**ids)) if "members" not in path and "conference}/export" not in path
                    else secretariat.get(path.format(**ids)))
        assert page.attributes_of("main")  # rendered
        assert not [t for t, attrs in page.tags if dict(attrs).get("data-closed") == "true"], path
    close(app, cast.conference.id)
    for path in pages:
        client = secretariat if "members" in path or "conference}/export" in path else chair
        response = client.get(path.format(**ids))
        assert response.status_code == 200, path
        page = read(response)
        notice = [attrs for _tag, attrs in page.tags if dict(attrs).get("data-closed-notice") is not None]
        assert notice and dict(notice[0]).get("data-closed") == "true", path
        text = " ".join(response.get_data(as_text=True).split())
        assert f"{CLOSED} 25 June 2009. Nothing can be changed any more." in text, path
        # Only the header's forms (sign out, language) and the export's downloads are left.
        left = [action for action, *_rest in page.post_forms
                if action not in ("/logout", "/locale") and "/export/jobs" not in action]
        assert left == [], (path, left)
    # The secretariat's links to change the conference are gone too.
    page = read(secretariat.get(f"/conferences/{ids['conference']}"))
    assert f"/conferences/{ids['conference']}/edit" not in page.main_links
    assert f"/conferences/{ids['conference']}/groups/new" not in page.main_links
    # A form page asked for directly says why it is not there.
    response = secretariat.get(f"/conferences/{ids['conference']}/edit")
    assert response.status_code == 409 and CLOSED in response.get_data(as_text=True)


def test_a_page_of_an_open_conference_holds_the_notice_hidden_for_its_script(app, factories):
    cast, ids = build_cast(factories)
    client = app.test_client()
    client.sign_in(cast.chair)
    page = read(client.get(f"/recommendations/{ids['recommendation']}"))
    (notice,) = [dict(attrs) for _tag, attrs in page.tags if dict(attrs).get("data-closed-notice") is not None]
    assert notice["data-conference-id"] == str(cast.conference.id) and "hidden" in notice
    assert notice["data-words"] == f"{CLOSED} {{date}}. Nothing can be changed any more."
    # Pages that are not a conference's have none.
    assert "data-closed-notice" not in client.get("/notifications").get_data(as_text=True)


def test_the_notice_is_in_the_reader_s_language(app, factories):
    cast, ids = build_cast(factories)
    close(app, cast.conference.id)
    client = app.test_client()
    client.sign_in(cast.member)
    client.submit("/locale", {"locale": "ru", "next": "/"})
    text = " ".join(client.get(f"/groups/{ids['group']}").get_data(as_text=True).split())
    assert "Эта конференция закрыта" in text and "25 июня 2009" in text
    refused = client.submit(f"/groups/{ids['group']}/recommendations/new", {"title": "Поздно"})
    assert refused.status_code == 409
    assert "Эта конференция закрыта" in refused.get_data(as_text=True)


# --- adoption closes what hangs on the adopted text --------------------------------------------


@pytest.fixture
def discussed(ctx, factories):
    """A draft of two clauses; on the first, two open threads, one resolved, and open
    amendments of each kind (one to be voted), one already rejected."""
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;"),
        (ClauseKind.OPERATIVE, "Invites the ILO to assist;")])
    first, second = recommendation.live_clauses
    threads = [factories.thread(first, cast.member, "Say *region*?"),
               factories.thread(first, cast.observer, "Too vague.")]
    resolved = factories.thread(first, cast.member, "Typo.")
    resolved.resolved_at, resolved.resolved_by_id = datetime(2009, 6, 24, tzinfo=UTC), cast.chair.id
    elsewhere = factories.thread(second, cast.member, "Fine.")
    amendments = [factories.amendment(first, cast.member),
                  factories.amendment(first, cast.chair, kind=AmendmentKind.INSERT, text="Also;",
                                      status=AmendmentStatus.TO_BE_VOTED),
                  factories.amendment(first, cast.member, kind=AmendmentKind.DELETE)]
    rejected = factories.amendment(first, cast.member, text="Other;", status=AmendmentStatus.REJECTED)
    db.session.commit()
    return cast, recommendation, threads, resolved, elsewhere, amendments, rejected


def _adopt_clause(chair, member, recommendation, clause) -> None:
    vote = open_vote(chair, recommendation, VoteOpen(subject="clause", clause_id=clause.id))
    cast_ballot(member, vote, BallotIn(option_id=vote.options[0].id))
    close_vote(chair, vote)


def test_adopting_a_clause_closes_its_threads_and_amendments(discussed):
    cast, recommendation, threads, resolved, elsewhere, amendments, rejected = discussed
    first = recommendation.live_clauses[0]
    resolved_before = resolved.resolved_at
    _adopt_clause(cast.chair, cast.member, recommendation, first)
    resolved_events = queued("thread_resolved")
    superseded_events = queued("amendment_superseded")
    db.session.commit()
    for thread in threads:
        assert thread.is_resolved and thread.resolved_by_adoption
        assert thread.resolved_by_id == cast.chair.id
    assert resolved.resolved_at == resolved_before and not resolved.resolved_by_adoption
    assert not elsewhere.is_resolved
    for amendment in amendments:
        assert amendment.status is AmendmentStatus.SUPERSEDED and not amendment.is_open
        assert amendment.decided_by_id == cast.chair.id and amendment.decided_at is not None
    assert rejected.status is AmendmentStatus.REJECTED
    room = f"recommendation:{recommendation.id}"
    assert [(r, e["thread"]["id"], e["thread"]["resolved_by_adoption"]) for r, e in resolved_events] \
        == [(room, t.id, True) for t in threads]
    assert [(r, e["amendment"]["id"], e["amendment"]["status"]) for r, e in superseded_events] \
        == [(room, a.id, "superseded") for a in amendments]
    # Its discussion is over: no reply, no reopening, no new thread.
    for attempt in (lambda: reply(cast.member, threads[0], {"body": "But…"}),
                    lambda: set_resolved(cast.member, threads[0], False)):
        with pytest.raises(PermissionDenied, match="adopted"):
            attempt()
        db.session.rollback()


def test_adopting_a_recommendation_as_a_whole_closes_what_is_left(discussed):
    cast, recommendation, _threads, _resolved, elsewhere, _amendments, _rejected = discussed
    first, second = recommendation.live_clauses
    for clause in (first, second):
        _adopt_clause(cast.chair, cast.member, recommendation, clause)
        db.session.commit()
    assert elsewhere.resolved_by_adoption
    # Left open on adopted clauses all the same (made before this rule, or by hand).
    late = CommentThread(clause_id=first.id, created_by_id=cast.member.id)
    hanging = Amendment(clause_id=second.id, kind=AmendmentKind.REPLACE, text="New;",
                        base_text=second.text, proposer_id=cast.member.id)
    db.session.add_all([late, hanging])
    db.session.commit()
    whole = open_vote(cast.chair, recommendation, VoteOpen(subject="recommendation"))
    cast_ballot(cast.member, whole, BallotIn(option_id=whole.options[0].id))
    close_vote(cast.chair, whole)
    db.session.commit()
    assert recommendation.status is RecommendationStatus.ADOPTED
    assert late.is_resolved and late.resolved_by_adoption
    assert hanging.status is AmendmentStatus.SUPERSEDED


def test_closing_what_hangs_is_one_call_for_any_way_of_adopting(discussed):
    """``close_hanging`` is what a decision by declared consensus calls too; a deadline's
    closing has no person: the adoption is recorded as nobody's."""
    _cast, recommendation, threads, _resolved, _elsewhere, amendments, _rejected = discussed
    close_hanging(recommendation.live_clauses[0], None)
    db.session.commit()
    assert all(t.resolved_by_adoption and t.resolved_by_id is None for t in threads)
    assert all(a.status is AmendmentStatus.SUPERSEDED and a.decided_by_id is None
               for a in amendments)


def test_the_panel_and_the_api_show_what_the_adoption_closed(app, factories):
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;")])
    with app.app_context():
        clause_id = db.session.get(Recommendation, recommendation.id).live_clauses[0].id
        clause = db.session.get(Clause, clause_id)
    thread = factories.thread(clause, cast.member, "Say *region*?")
    amendment = factories.amendment(clause, cast.member)
    with app.test_request_context():
        _adopt_clause(db.session.get(Participant, cast.chair.id),
                      db.session.get(Participant, cast.member.id),
                      db.session.get(Recommendation, recommendation.id),
                      db.session.get(Clause, clause_id))
        db.session.commit()
    token = factories.api_token(cast.member)
    client = app.test_client()
    shown = client.api("GET", f"/api/v1/threads/{thread.id}", token=token).get_json()
    assert shown["resolved"] is True and shown["resolved_by_adoption"] is True
    assert client.api("GET", f"/api/v1/amendments/{amendment.id}", token=token).get_json()["status"] \
        == "superseded"
    client.sign_in(cast.member)
    panel = client.get(f"/clauses/{clause_id}/discussion?state=all")
    text = " ".join(panel.get_data(as_text=True).split())
    assert "Resolved</span> with the adoption of the clause" in text
    assert "Superseded by the adoption" in text
    assert "Reopen" not in text
