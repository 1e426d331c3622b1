"""The discussion API: threads and comments on clauses, amendments with their sponsors and the
chair's decisions, and each participant's notifications.

Every answer is checked against the OpenAPI document by ``client.api`` (error bodies
included), so these tests also hold the document to what the endpoints really do.
"""
from __future__ import annotations

import base64
import html as html_module
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from pycrdt import Assoc, Doc, Text
from sqlalchemy import select

from models import (
    Amendment,
    AmendmentSponsor,
    Clause,
    ClauseStatus,
    ClauseUpdate,
    Comment,
    CommentThread,
    Notification,
    WorkingGroup,
    db,
    utcnow,
)
from tests import rows
from tests.helpers.discussion import (
    CASES,
    OPERATIVE,
    PREAMBULAR,
    ROLES,
    World,
    build_world,
)
from tests.helpers.html import assert_inert


@pytest.fixture
def world(app, factories) -> World:
    return build_world(app, factories)


TABLES = (CommentThread, Comment, Amendment, AmendmentSponsor, Notification, Clause, ClauseUpdate,
          WorkingGroup)


@pytest.fixture
def unchanged(app) -> Callable[[], Any]:
    """``with unchanged(): ...refused request...``: asserts that no row changed."""
    return lambda: rows.unchanged(app, TABLES)


def count(app, model: Any, *where: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(db.func.count()).select_from(model).where(*where)) or 0


def set_column(app, model: Any, row_id: int, **values: Any) -> None:
    with app.app_context():
        row = db.session.get(model, row_id)
        for name, value in values.items():
            setattr(row, name, value)
        db.session.commit()


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:1500]
    error = response.get_json()["error"]
    assert error["message"]
    return error


# --- what "no live markup" means ------------------------------------------------------------

LIVE_ELEMENTS = {"script", "style", "iframe", "img", "svg", "object", "embed", "math", "form",
                 "frame", "frameset", "link", "meta", "base", "video", "audio", "source"}


class _LiveMarkup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in LIVE_ELEMENTS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name} on <{tag}>")
            # The browser drops tabs, newlines and leading spaces inside a URL's scheme.
            url = "".join(ch for ch in html_module.unescape(value or "") if ord(ch) > 32).lower()
            if url.startswith(("javascript:", "vbscript:", "data:")):
                self.found.append(f"{name}={value!r} on <{tag}>")

    handle_startendtag = handle_starttag


def assert_no_live_markup(html: str) -> None:
    """Parsed as a browser would: no element that runs, loads or styles, no handler, no
    script URL; and only the tags and attributes user text may become."""
    parser = _LiveMarkup()
    parser.feed(html)
    parser.close()
    assert not parser.found, f"{parser.found} in {html!r}"
    assert_inert(html)


# --- anchors, as the browser makes them ------------------------------------------------------


def anchor_for(app, clause_id: int, words: str) -> dict[str, str]:
    """``{"start", "end"}`` around ``words`` of the clause, computed as a browser does: on a
    copy of the clause's document, with Yjs relative positions (start assoc 0, end -1)."""
    from drafting.editing.services import answer_sync_step1

    with app.test_request_context():
        clause = db.session.get(Clause, clause_id)
        update, _state = answer_sync_step1(clause, Doc().get_state())
        db.session.commit()  # the first read of a clause logs its text as the first update
    doc: Doc = Doc()
    doc.apply_update(update)
    text = doc.get("text", type=Text)
    current = str(text)
    begin = len(current[:current.index(words)].encode())
    end = begin + len(words.encode())
    return {"start": base64.b64encode(text.sticky_index(begin, Assoc.AFTER).encode()).decode(),
            "end": base64.b64encode(text.sticky_index(end, Assoc.BEFORE).encode()).decode()}


# --- the OpenAPI document ---------------------------------------------------------------------

DOCUMENTED = {
    ("get", "/clauses/{clause_id}/threads"), ("post", "/clauses/{clause_id}/threads"),
    ("get", "/recommendations/{recommendation_id}/threads"), ("get", "/threads/{thread_id}"),
    ("post", "/threads/{thread_id}/comments"), ("patch", "/comments/{comment_id}"),
    ("delete", "/comments/{comment_id}"), ("post", "/threads/{thread_id}/resolve"),
    ("post", "/threads/{thread_id}/reopen"),
    ("get", "/clauses/{clause_id}/amendments"), ("post", "/clauses/{clause_id}/amendments"),
    ("get", "/recommendations/{recommendation_id}/amendments"),
    ("get", "/amendments/{amendment_id}"), ("patch", "/amendments/{amendment_id}"),
    ("post", "/amendments/{amendment_id}/withdraw"),
    ("put", "/amendments/{amendment_id}/sponsors/me"),
    ("delete", "/amendments/{amendment_id}/sponsors/me"),
    ("post", "/amendments/{amendment_id}/accept"), ("post", "/amendments/{amendment_id}/reject"),
    ("post", "/amendments/{amendment_id}/put-to-vote"),
    ("get", "/notifications"), ("post", "/notifications/{notification_id}/read"),
    ("post", "/notifications/read-all"),
}


def test_the_document_describes_the_discussion_api(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for method, path in DOCUMENTED:
        operation = document["paths"]["/api/v1" + path][method]
        assert operation["tags"][0] in {"comments", "amendments", "notifications"}
        assert "401" in operation["responses"]
        error = operation["responses"]["401"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorOut"}
    assert "amendments" in document["info"]["description"]
    accept = document["paths"]["/api/v1/amendments/{amendment_id}/accept"]["post"]
    assert {"403", "404", "409"} <= set(accept["responses"])


# --- the permission matrix (tests/helpers/discussion.py) -------------------------------------

def test_every_discussion_endpoint_is_in_the_matrix():
    covered = {(c.method.lower(), _template(c.path)) for c in CASES}
    assert {(method, _template(path)) for method, path in DOCUMENTED} == covered


def _template(path: str) -> str:
    import re

    return re.sub(r"\{[a-z_]+\}", "{}", path.split("?")[0])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("matrix_case", CASES, ids=str)
def test_permission_matrix(app, factories, client, unchanged, matrix_case, role):
    world = build_world(app, factories)
    path = "/api/v1" + matrix_case.path.format(**world.ids())
    expected = matrix_case.status_for(role)
    if expected < 400:
        response = client.api(matrix_case.method, path, matrix_case.body, token=world.token(role))
        assert response.status_code == expected, response.get_data(as_text=True)[:1500]
        return
    with unchanged():
        response = client.api(matrix_case.method, path, matrix_case.body, token=world.token(role))
    error = error_of(response, expected)
    assert error["code"] == {400: "invalid", 403: "forbidden", 404: "not_found"}[expected]


@pytest.mark.parametrize("matrix_case", CASES, ids=str)
def test_anonymous_callers_are_401(app, factories, client, unchanged, matrix_case):
    world = build_world(app, factories)
    path = "/api/v1" + matrix_case.path.format(**world.ids())
    with unchanged():
        response = client.api(matrix_case.method, path, matrix_case.body)
    assert error_of(response, 401)["code"] == "unauthenticated"


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/clauses/{foreign_clause}/threads", None),
    ("GET", "/recommendations/{foreign_recommendation}/threads", None),
    ("POST", "/clauses/{foreign_clause}/threads", {"body": "Sneaky."}),
    ("GET", "/threads/{foreign_thread}", None),
    ("POST", "/threads/{foreign_thread}/comments", {"body": "Sneaky."}),
    ("POST", "/threads/{foreign_thread}/resolve", None),
    ("GET", "/clauses/{foreign_clause}/amendments", None),
    ("GET", "/recommendations/{foreign_recommendation}/amendments", None),
    ("POST", "/clauses/{foreign_clause}/amendments", {"kind": "delete"}),
    ("GET", "/amendments/{foreign_amendment}", None),
    ("PUT", "/amendments/{foreign_amendment}/sponsors/me", None),
    ("POST", "/amendments/{foreign_amendment}/accept", None),
    ("POST", "/amendments/{foreign_amendment}/reject", {"reason": "No."}),
])
def test_the_chair_of_one_group_cannot_reach_another_groups_draft(world, client, unchanged,
                                                                  method, path, body):
    with unchanged():
        response = client.api(method, "/api/v1" + path.format(**world.ids()), body,
                              token=world.token("chair"))
    assert error_of(response, 404)["code"] == "not_found"


def test_observers_comment_unless_their_group_restricts_them(app, world, client, unchanged):
    observer = world.token("observer")
    assert client.api("POST", f"/api/v1/clauses/{world.clause}/threads", {"body": "Heard."},
                      token=observer).status_code == 201
    set_column(app, WorkingGroup, world.cast.group.id, observers_may_comment=False)
    with unchanged():
        started = client.api("POST", f"/api/v1/clauses/{world.clause}/threads",
                             {"body": "Still here."}, token=observer)
        replied = client.api("POST", f"/api/v1/threads/{world.thread}/comments",
                             {"body": "Still here."}, token=observer)
        edited = client.api("PATCH", f"/api/v1/comments/{world.observer_comment}",
                            {"body": "Changed my mind."}, token=observer)
    for response in (started, replied, edited):
        assert "not allow you to comment" in error_of(response, 403)["message"]
    # Restricted to reading, not shut out.
    threads = client.api("GET", f"/api/v1/clauses/{world.clause}/threads", token=observer)
    assert threads.status_code == 200 and len(threads.get_json()) == 3


def test_observers_and_the_secretariat_cannot_propose_or_sponsor(world, client, unchanged):
    for role in ("observer", "secretariat"):
        with unchanged():
            proposed = client.api("POST", f"/api/v1/clauses/{world.clause}/amendments",
                                  {"kind": "delete", "rationale": "Redundant."},
                                  token=world.token(role))
            sponsored = client.api("PUT", f"/api/v1/amendments/{world.amendment}/sponsors/me",
                                   token=world.token(role))
        assert "chair and members" in error_of(proposed, 403)["message"]
        assert "chair and members" in error_of(sponsored, 403)["message"]


def test_the_secretariat_reads_and_comments_but_does_not_decide(world, client, unchanged):
    token = world.token("secretariat")
    assert client.api("GET", f"/api/v1/recommendations/{world.foreign_recommendation}/threads",
                      token=token).status_code == 200
    assert client.api("POST", f"/api/v1/threads/{world.thread}/comments",
                      {"body": "The usual wording is *protect*."}, token=token).status_code == 201
    with unchanged():
        response = client.api("POST", f"/api/v1/amendments/{world.amendment}/accept", token=token)
    assert "chair" in error_of(response, 403)["message"]


# --- threads and comments ----------------------------------------------------------------------


def test_a_discussion_from_first_comment_to_resolution(world, client):
    member, observer, chair = (world.token(r) for r in ("member", "observer", "chair"))
    started = client.api("POST", f"/api/v1/clauses/{world.clause}/threads",
                         {"body": "Is **protect** strong enough?"}, token=member)
    assert started.status_code == 201
    thread = started.get_json()
    assert thread["anchor"] is None and thread["resolved"] is False
    assert thread["created_by"]["name"] == "Member Person"
    assert thread["comments"][0]["body_html"] == "<p>Is <strong>protect</strong> strong enough?</p>"
    first = thread["comments"][0]["id"]

    reply = client.api("POST", f"/api/v1/threads/{thread['id']}/comments",
                       {"body": "Say *guarantee the rights of*.", "parent_id": first}, token=observer)
    assert reply.status_code == 201
    assert reply.get_json()["parent_id"] == first

    edited = client.api("PATCH", f"/api/v1/comments/{first}", {"body": "Is *protect* enough?"},
                        token=member).get_json()
    assert edited["edited_at"] is not None and edited["body"] == "Is *protect* enough?"

    resolved = client.api("POST", f"/api/v1/threads/{thread['id']}/resolve", token=chair).get_json()
    assert resolved["resolved"] is True and resolved["resolved_by"]["name"] == "Chair Person"
    listed = client.api("GET", f"/api/v1/clauses/{world.clause}/threads?state=resolved",
                        token=member).get_json()
    assert thread["id"] in [t["id"] for t in listed]
    assert thread["id"] not in [t["id"] for t in client.api(
        "GET", f"/api/v1/clauses/{world.clause}/threads?state=open", token=member).get_json()]

    # A reply to a resolved thread reopens it: the discussion is not over.
    client.api("POST", f"/api/v1/threads/{thread['id']}/comments", {"body": "One more thing."},
               token=observer)
    assert client.api("GET", f"/api/v1/threads/{thread['id']}", token=member).get_json()[
        "resolved"] is False

    assert client.api("DELETE", f"/api/v1/comments/{first}", token=member).status_code == 204
    comments = client.api("GET", f"/api/v1/threads/{thread['id']}", token=member).get_json()["comments"]
    assert comments[0] == {**comments[0], "id": first, "deleted": True, "body": "", "body_html": ""}
    assert [c["deleted"] for c in comments] == [True, False, False]


def test_threads_of_a_recommendation_come_clause_by_clause(world, client):
    member = world.token("member")
    client.api("POST", f"/api/v1/clauses/{world.preambular}/threads", {"body": "Which crisis?"},
               token=member)
    threads = client.api("GET", f"/api/v1/recommendations/{world.recommendation}/threads",
                         token=member).get_json()
    assert [t["clause_id"] for t in threads] == [world.preambular, world.clause, world.clause]
    resolved_only = client.api("GET", f"/api/v1/recommendations/{world.recommendation}/threads"
                               "?state=resolved", token=member).get_json()
    assert [t["id"] for t in resolved_only] == [world.resolved_thread]


def test_an_unknown_thread_filter_is_400(world, client):
    response = client.api("GET", f"/api/v1/clauses/{world.clause}/threads?state=closed",
                          token=world.token("member"))
    assert "state" in error_of(response, 400)["fields"]


def test_an_anchored_thread_follows_its_words(app, world, client):
    member = world.token("member")
    anchor = anchor_for(app, world.clause, "migrant workers")
    created = client.api("POST", f"/api/v1/clauses/{world.clause}/threads",
                         {"body": "Also *their families*?", "anchor": anchor}, token=member)
    assert created.status_code == 201
    thread = created.get_json()
    assert thread["anchor"] == {**anchor, "quote": "migrant workers", "text": "migrant workers",
                                "detached": False}
    client.api("PATCH", f"/api/v1/clauses/{world.clause}",
               {"text": "Urgently calls on States to protect all migrant workers;"}, token=member)
    moved = client.api("GET", f"/api/v1/threads/{thread['id']}", token=member).get_json()["anchor"]
    assert (moved["text"], moved["detached"]) == ("migrant workers", False)
    client.api("PATCH", f"/api/v1/clauses/{world.clause}", {"text": "Urgently calls on States;"},
               token=member)
    gone = client.api("GET", f"/api/v1/threads/{thread['id']}", token=member).get_json()["anchor"]
    assert (gone["quote"], gone["detached"]) == ("migrant workers", True)


# --- amendments ----------------------------------------------------------------------------------


def test_a_member_proposes_others_sponsor_and_the_chair_accepts(app, world, client):
    member, chair = world.token("member"), world.token("chair")
    proposed = client.api("POST", f"/api/v1/clauses/{world.clause}/amendments", {
        "kind": "replace", "text": "Calls on States to protect all migrant workers;",
        "rationale": "Irregular migrants *too*.",
    }, token=member)
    assert proposed.status_code == 201
    amendment = proposed.get_json()
    assert amendment["status"] == "proposed" and amendment["conflict"] is False
    assert amendment["redline"] == [{"op": "equal", "text": "Calls on States to protect "},
                                    {"op": "insert", "text": "all "},
                                    {"op": "equal", "text": "migrant workers;"}]
    assert amendment["rationale_html"] == "<p>Irregular migrants <em>too</em>.</p>"

    sponsored = client.api("PUT", f"/api/v1/amendments/{amendment['id']}/sponsors/me",
                           token=chair).get_json()
    assert [s["name"] for s in sponsored["sponsors"]] == ["Chair Person"]
    again = client.api("PUT", f"/api/v1/amendments/{amendment['id']}/sponsors/me",
                       token=chair).get_json()
    assert len(again["sponsors"]) == 1

    edited = client.api("PATCH", f"/api/v1/amendments/{amendment['id']}",
                        {"rationale": "Irregular migrants too."}, token=member).get_json()
    assert edited["rationale"] == "Irregular migrants too." and len(edited["sponsors"]) == 1

    accepted = client.api("POST", f"/api/v1/amendments/{amendment['id']}/accept", token=chair)
    assert accepted.status_code == 200
    assert accepted.get_json()["status"] == "accepted"
    assert accepted.get_json()["decided_by"]["name"] == "Chair Person"
    clause = next(c for c in client.api("GET", f"/api/v1/recommendations/{world.recommendation}",
                                        token=member).get_json()["clauses"]
                  if c["id"] == world.clause)
    assert clause["text"] == "Calls on States to protect all migrant workers;"
    # The new wording is an edit in the clause's history, by the proposer.
    with app.app_context():
        last = db.session.scalars(select(ClauseUpdate).where(ClauseUpdate.clause_id == world.clause)
                                  .order_by(ClauseUpdate.id.desc())).first()
        assert last.author_id == world.cast.member.id
    open_now = client.api("GET", f"/api/v1/clauses/{world.clause}/amendments?state=open",
                          token=member).get_json()
    assert amendment["id"] not in [a["id"] for a in open_now]


def test_accepting_an_insertion_adds_a_clause_after_it(world, client):
    accepted = client.api("POST", f"/api/v1/amendments/{world.chairs_amendment}/accept",
                          token=world.token("chair")).get_json()
    assert accepted["created_clause_id"] is not None
    clauses = client.api("GET", f"/api/v1/recommendations/{world.recommendation}",
                         token=world.token("member")).get_json()["clauses"]
    assert [c["id"] for c in clauses][-2:] == [world.clause, accepted["created_clause_id"]]
    assert clauses[-1]["text"] == "Invites employers to do the same;"


def test_accepting_a_deletion_deletes_the_clause(world, client):
    member, chair = world.token("member"), world.token("chair")
    proposed = client.api("POST", f"/api/v1/clauses/{world.preambular}/amendments",
                          {"kind": "delete", "rationale": "Adds nothing."}, token=member).get_json()
    assert proposed["redline"] == [{"op": "delete", "text": PREAMBULAR}]
    assert client.api("POST", f"/api/v1/amendments/{proposed['id']}/accept",
                      token=chair).status_code == 200
    assert client.api("GET", f"/api/v1/clauses/{world.preambular}/threads",
                      token=member).status_code == 404


def test_rejection_and_vote_are_the_chairs_decisions(world, client, unchanged):
    chair, member = world.token("chair"), world.token("member")
    rejected = client.api("POST", f"/api/v1/amendments/{world.amendment}/reject",
                          {"reason": "The group prefers *protect*."}, token=chair).get_json()
    assert (rejected["status"], rejected["decision_reason"]) == ("rejected",
                                                                "The group prefers *protect*.")
    to_vote = client.api("POST", f"/api/v1/amendments/{world.chairs_amendment}/put-to-vote",
                         token=chair).get_json()
    assert to_vote["status"] == "to_be_voted"
    with unchanged():
        twice = client.api("POST", f"/api/v1/amendments/{world.chairs_amendment}/put-to-vote",
                           token=chair)
        edit_after = client.api("PATCH", f"/api/v1/amendments/{world.amendment}",
                                {"text": "Anything;"}, token=member)
        empty_reason = client.api("POST", f"/api/v1/amendments/{world.chairs_amendment}/reject",
                                  {"reason": "  "}, token=chair)
    assert error_of(twice, 409)["code"] == "conflict"
    assert "dealt with" in error_of(edit_after, 403)["message"]
    assert "reason" in error_of(empty_reason, 400)["fields"]
    # The member hears of the decision on their amendment.
    listed = client.api("GET", "/api/v1/notifications", token=member).get_json()
    assert any(n["kind"] == "amendment_decided" and n["amendment_id"] == world.amendment
               and n["detail"] == "rejected" for n in listed["notifications"])


def test_withdrawn_amendments_are_no_longer_open(world, client, unchanged):
    member = world.token("member")
    withdrawn = client.api("POST", f"/api/v1/amendments/{world.amendment}/withdraw", token=member)
    assert withdrawn.get_json()["status"] == "withdrawn"
    with unchanged():
        again = client.api("POST", f"/api/v1/amendments/{world.amendment}/withdraw", token=member)
        accepted = client.api("POST", f"/api/v1/amendments/{world.amendment}/accept",
                              token=world.token("chair"))
    error_of(again, 403)
    error_of(accepted, 409)
    listed = client.api("GET", f"/api/v1/recommendations/{world.recommendation}/amendments"
                        "?state=open", token=member).get_json()
    assert [a["id"] for a in listed] == [world.chairs_amendment]


def test_accepting_an_accepted_amendment_is_409_and_applies_once(app, world, client, unchanged):
    chair = world.token("chair")
    assert client.api("POST", f"/api/v1/amendments/{world.amendment}/accept",
                      token=chair).status_code == 200
    with unchanged():
        again = client.api("POST", f"/api/v1/amendments/{world.amendment}/accept", token=chair)
    assert "already been dealt with" in error_of(again, 409)["message"]
    with app.app_context():
        assert db.session.get(Clause, world.clause).text == "Calls on States to defend migrant workers;"


def test_an_amendment_whose_words_changed_conflicts(world, client, unchanged):
    member, chair = world.token("member"), world.token("chair")
    # Someone changes the very word the amendment replaces.
    client.api("PATCH", f"/api/v1/clauses/{world.clause}",
               {"text": "Calls on States to shelter migrant workers;"}, token=member)
    amendment = client.api("GET", f"/api/v1/amendments/{world.amendment}", token=member).get_json()
    assert amendment["conflict"] is True
    with unchanged():
        response = client.api("POST", f"/api/v1/amendments/{world.amendment}/accept", token=chair)
    assert "changed since" in error_of(response, 409)["message"]
    # The proposer updates it against the current text; then it applies.
    client.api("PATCH", f"/api/v1/amendments/{world.amendment}",
               {"text": "Calls on States to defend migrant workers;",
                "base_text": "Calls on States to shelter migrant workers;"}, token=member)
    assert client.api("GET", f"/api/v1/amendments/{world.amendment}",
                      token=member).get_json()["conflict"] is False
    assert client.api("POST", f"/api/v1/amendments/{world.amendment}/accept",
                      token=chair).status_code == 200


def test_an_edit_elsewhere_in_the_clause_does_not_conflict(world, client):
    member = world.token("member")
    client.api("PATCH", f"/api/v1/clauses/{world.clause}",
               {"text": "Calls on Governments to protect migrant workers;"}, token=member)
    amendment = client.api("GET", f"/api/v1/amendments/{world.amendment}", token=member).get_json()
    assert amendment["conflict"] is False
    accepted = client.api("POST", f"/api/v1/amendments/{world.amendment}/accept",
                          token=world.token("chair"))
    assert accepted.status_code == 200
    clause = client.api("GET", f"/api/v1/recommendations/{world.recommendation}",
                        token=member).get_json()["clauses"][-1]
    assert clause["text"] == "Calls on Governments to defend migrant workers;"


@pytest.mark.parametrize(("status", "words"), [(ClauseStatus.LOCKED, "locked"),
                                               (ClauseStatus.ADOPTED, "adopted")])
def test_no_amendments_to_a_frozen_clause(app, world, client, unchanged, status, words):
    set_column(app, Clause, world.clause, status=status)
    with unchanged():
        proposed = client.api("POST", f"/api/v1/clauses/{world.clause}/amendments",
                              {"kind": "replace", "text": "Other words;"}, token=world.token("member"))
        accepted = client.api("POST", f"/api/v1/amendments/{world.amendment}/accept",
                              token=world.token("chair"))
    assert words in error_of(proposed, 403)["message"]
    assert words in error_of(accepted, 403)["message"]


# --- bad input ------------------------------------------------------------------------------------


def test_xss_in_comment_bodies_is_inert_and_round_trips(world, client, xss_payloads):
    member = world.token("member")
    for payload in xss_payloads:
        created = client.api("POST", f"/api/v1/clauses/{world.clause}/threads", {"body": payload},
                             token=member)
        assert created.status_code == 201, payload
        reply = client.api("POST", f"/api/v1/threads/{created.get_json()['id']}/comments",
                           {"body": f"Re: {payload}"}, token=member)
        assert reply.get_json()["body"] == f"Re: {payload}"
        assert_no_live_markup(reply.get_json()["body_html"])
    threads = client.api("GET", f"/api/v1/clauses/{world.clause}/threads", token=member).get_json()
    first_comments = {t["comments"][0]["body"]: t["comments"][0]["body_html"] for t in threads}
    assert set(xss_payloads) <= set(first_comments)
    for payload in xss_payloads:
        assert_no_live_markup(first_comments[payload])


def test_xss_in_amendment_texts_and_rationales_is_inert_and_round_trips(world, client,
                                                                       xss_payloads):
    member = world.token("member")
    for index, payload in enumerate(xss_payloads):
        kind = ("replace", "insert")[index % 2]
        created = client.api("POST", f"/api/v1/clauses/{world.clause}/amendments",
                             {"kind": kind, "text": payload, "rationale": payload}, token=member)
        assert created.status_code == 201, payload
        amendment = created.get_json()
        assert (amendment["text"], amendment["rationale"]) == (payload, payload)
        assert_no_live_markup(amendment["text_html"])
        assert_no_live_markup(amendment["rationale_html"])
        # The redline is text, not markup: the proposed words appear in it as typed.
        assert payload in "".join(p["text"] for p in amendment["redline"] if p["op"] != "delete")


def test_xss_in_display_names_is_inert_and_round_trips(app, factories, world, client,
                                                       xss_payloads):
    chair = world.token("chair")
    for payload in xss_payloads:
        named = factories.member_of(world.cast.group, name=payload)
        token = factories.api_token(named)
        mention = f"Over to @**{payload}|{named.id}**."
        created = client.api("POST", f"/api/v1/clauses/{world.clause}/threads", {"body": mention},
                             token=chair).get_json()
        comment = created["comments"][0]
        assert comment["body"] == mention
        assert_no_live_markup(comment["body_html"])
        if "*" not in payload and "|" not in payload:
            # A name that can be mentioned becomes a link to its owner, as text.
            assert f"#member-{named.id}" in comment["body_html"], payload
        answered = client.api("POST", f"/api/v1/threads/{created['id']}/comments",
                              {"body": "Thank you."}, token=token).get_json()
        assert answered["author"]["name"] == payload


@pytest.mark.parametrize("action", ["start", "reply", "edit"])
@pytest.mark.parametrize(("body", "problem"), [("", "required"), ("   \n ", "required"),
                                               ("x" * 5001, "5000")])
def test_empty_and_over_long_comments_are_refused(world, client, unchanged, action, body, problem):
    request = _comment_request(world, action, body)
    with unchanged():
        response = client.api(*request, token=world.token("member"))
    error = error_of(response, 400)
    assert problem in error["fields"]["body"].lower()


@pytest.mark.parametrize("action", ["start", "reply", "edit"])
def test_a_comment_of_exactly_5000_characters_is_accepted(world, client, action):
    body = "x" * 4998 + " y"
    response = client.api(*_comment_request(world, action, body), token=world.token("member"))
    assert response.status_code in {200, 201}
    saved = response.get_json()
    saved = saved["comments"][0] if "comments" in saved else saved
    assert saved["body"] == body and len(body) == 5000


def _comment_request(world: World, action: str, body: str) -> tuple[str, str, dict[str, Any]]:
    return {
        "start": ("POST", f"/api/v1/clauses/{world.clause}/threads", {"body": body}),
        "reply": ("POST", f"/api/v1/threads/{world.thread}/comments", {"body": body}),
        "edit": ("PATCH", f"/api/v1/comments/{world.member_comment}", {"body": body}),
    }[action]


def test_no_comment_on_a_clause_of_another_group(world, client, unchanged):
    with unchanged():
        response = client.api("POST", f"/api/v1/clauses/{world.foreign_clause}/threads",
                              {"body": "Hello neighbours."}, token=world.token("member"))
    error_of(response, 404)


def test_no_comment_on_a_deleted_clause(app, world, client, unchanged):
    set_column(app, Clause, world.clause, deleted_at=utcnow())
    member = world.token("member")
    with unchanged():
        started = client.api("POST", f"/api/v1/clauses/{world.clause}/threads",
                             {"body": "Too late?"}, token=member)
        replied = client.api("POST", f"/api/v1/threads/{world.thread}/comments",
                             {"body": "Too late?"}, token=member)
        amended = client.api("POST", f"/api/v1/clauses/{world.clause}/amendments",
                             {"kind": "delete"}, token=member)
    for response in (started, replied, amended):
        error_of(response, 404)


@pytest.mark.parametrize("parent", ["resolved_thread_comment", "foreign", "missing"])
def test_a_reply_answers_a_comment_of_the_same_thread(app, world, client, unchanged, parent):
    with app.app_context():
        parent_id = {
            "resolved_thread_comment": db.session.scalar(
                select(Comment.id).where(Comment.thread_id == world.resolved_thread)),
            "foreign": db.session.scalar(
                select(Comment.id).where(Comment.thread_id == world.foreign_thread)),
            "missing": 10**12,  # beyond PostgreSQL's INTEGER: refused, not a driver error
        }[parent]
    with unchanged():
        response = client.api("POST", f"/api/v1/threads/{world.thread}/comments",
                              {"body": "As I said.", "parent_id": parent_id},
                              token=world.token("member"))
    assert "parent_id" in error_of(response, 400)["fields"]


@pytest.mark.parametrize(("role", "method", "path", "body"), [
    ("observer", "PATCH", "/comments/{member_comment}", {"body": "Rewritten."}),
    ("chair", "PATCH", "/comments/{member_comment}", {"body": "Rewritten."}),
    ("secretariat", "DELETE", "/comments/{member_comment}", None),
    ("chair", "DELETE", "/comments/{observer_comment}", None),
    ("observer", "POST", "/threads/{thread}/resolve", None),
    ("secretariat", "POST", "/threads/{thread}/resolve", None),
    ("observer", "POST", "/threads/{resolved_thread}/reopen", None),
])
def test_someone_elses_comment_is_theirs(world, client, unchanged, role, method, path, body):
    with unchanged():
        response = client.api(method, "/api/v1" + path.format(**world.ids()), body,
                              token=world.token(role))
    assert error_of(response, 403)["code"] == "forbidden"


def test_a_removed_comment_cannot_be_edited(world, client, unchanged):
    member = world.token("member")
    assert client.api("DELETE", f"/api/v1/comments/{world.member_comment}",
                      token=member).status_code == 204
    with unchanged():
        edited = client.api("PATCH", f"/api/v1/comments/{world.member_comment}",
                            {"body": "Back again."}, token=member)
        deleted = client.api("DELETE", f"/api/v1/comments/{world.member_comment}", token=member)
    error_of(edited, 400)
    error_of(deleted, 400)


@pytest.mark.parametrize("anchor", [
    {"start": "!!not base64!!", "end": "AAAA"},
    {"start": "AAAA", "end": "AAAA"},
    {"start": "", "end": ""},
    {"start": base64.b64encode(b"\x00\x01\x02\x00").decode(), "end": "AAAA"},
    {"start": "A" * 201, "end": "AAAA"},
    {"start": 1, "end": 2},
    {"start": "AAAA"},
    {"start": "AAAA", "end": "AAAA", "quote": "forged"},
    "the whole clause",
    ["AAAA", "AAAA"],
])
def test_a_malformed_anchor_is_400(world, client, unchanged, anchor):
    with unchanged():
        response = client.api("POST", f"/api/v1/clauses/{world.clause}/threads",
                              {"body": "Here.", "anchor": anchor}, token=world.token("member"))
    error = error_of(response, 400)
    assert any(name.startswith("anchor") for name in error.get("fields", {})), error


def test_an_anchor_into_another_clause_is_400(app, world, client, unchanged):
    elsewhere = anchor_for(app, world.preambular, "crisis")
    with unchanged():
        response = client.api("POST", f"/api/v1/clauses/{world.clause}/threads",
                              {"body": "Here.", "anchor": elsewhere}, token=world.token("member"))
    assert "anchor" in error_of(response, 400)["fields"]


def test_an_empty_selection_is_400(app, world, client, unchanged):
    anchor = anchor_for(app, world.clause, "migrant")
    collapsed = {"start": anchor["start"], "end": anchor["start"]}
    with unchanged():
        response = client.api("POST", f"/api/v1/clauses/{world.clause}/threads",
                              {"body": "Here.", "anchor": collapsed}, token=world.token("member"))
    assert "anchor" in error_of(response, 400)["fields"]


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("POST", "/clauses/{clause}/threads", {"body": 5}, "body"),
    ("POST", "/clauses/{clause}/threads", {"body": None}, "body"),
    ("POST", "/clauses/{clause}/threads", {"body": ["x"]}, "body"),
    ("POST", "/clauses/{clause}/threads", {}, "body"),
    ("POST", "/clauses/{clause}/threads", {"body": "x", "author_id": 1}, "author_id"),
    ("POST", "/threads/{thread}/comments", {"body": "x", "parent_id": "1"}, "parent_id"),
    ("POST", "/threads/{thread}/comments", {"body": "x", "parent_id": 1.5}, "parent_id"),
    ("POST", "/threads/{thread}/comments", {"body": "x", "parent_id": True}, "parent_id"),
    ("POST", "/threads/{thread}/comments", {"body": "x", "parent_id": 2**64}, "parent_id"),
    ("PATCH", "/comments/{member_comment}", {"body": {"text": "x"}}, "body"),
    ("POST", "/clauses/{clause}/amendments", {"kind": "rewrite", "text": "x"}, "kind"),
    ("POST", "/clauses/{clause}/amendments", {"kind": "replace", "text": 7}, "text"),
    ("POST", "/clauses/{clause}/amendments", {"text": "x"}, "kind"),
    ("POST", "/clauses/{clause}/amendments", {"kind": "replace", "text": "x", "status": "accepted"},
     "status"),
    ("PATCH", "/amendments/{amendment}", {"rationale": 3}, "rationale"),
    ("PATCH", "/amendments/{amendment}", {"text": []}, "text"),
    ("POST", "/amendments/{amendment}/reject", {"reason": False}, "reason"),
    ("POST", "/amendments/{amendment}/reject", {}, "reason"),
])
def test_wrong_json_types_are_400(world, client, unchanged, method, path, body, field):
    with unchanged():
        response = client.api(method, "/api/v1" + path.format(**world.ids()), body,
                              token=world.token("chair" if "reject" in path else "member"))
    error = error_of(response, 400)
    assert error["code"] == "invalid"
    assert any(name.split(".")[0] == field for name in error["fields"]), error


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"body"', b"null", b'{"body": '])
@pytest.mark.parametrize("path", ["/clauses/{clause}/threads", "/threads/{thread}/comments",
                                  "/clauses/{clause}/amendments"])
def test_a_body_that_is_not_a_json_object_is_400(world, client, unchanged, path, raw):
    with unchanged():
        response = client.api("POST", "/api/v1" + path.format(**world.ids()), data=raw,
                              headers={"Content-Type": "application/json"},
                              token=world.token("member"))
    assert error_of(response, 400)["code"] == "invalid"


@pytest.mark.parametrize(("field", "value", "limit"), [("text", "x" * 20001, None),
                                                       ("rationale", "x" * 5001, "5000")])
def test_over_long_amendments_are_refused(world, client, unchanged, field, value, limit):
    body = {"kind": "replace", "text": "Calls on States to defend migrant workers;", field: value}
    with unchanged():
        response = client.api("POST", f"/api/v1/clauses/{world.clause}/amendments", body,
                              token=world.token("member"))
    message = error_of(response, 400)["fields"][field]
    assert limit is None or limit in message


def test_an_amendment_that_changes_nothing_is_refused(world, client, unchanged):
    with unchanged():
        response = client.api("POST", f"/api/v1/clauses/{world.clause}/amendments",
                              {"kind": "replace", "text": OPERATIVE}, token=world.token("member"))
    assert "text" in error_of(response, 400)["fields"]


FUZZ = [None, 0, -1, 2**31, 2**63, "", "x" * 5001, [], {}, True, 1.5, "\u202e\x00",
        {"start": "AAAA", "end": 2**63}, "@**Member Person|99999999999999999999**"]


def test_fuzzed_bodies_never_cause_a_server_error(app, world, client):
    """Every field of every discussion body, with values of every wrong kind, as the chair
    (who may do the most, so that the values reach the services)."""
    document = client.get("/api/v1/openapi.json").get_json()
    tried = 0
    for method, template in sorted(DOCUMENTED):
        operation = document["paths"]["/api/v1" + template][method]
        if "requestBody" not in operation:
            continue
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        fields = document["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
        path = "/api/v1" + template.format(
            clause_id=world.clause, thread_id=world.thread, comment_id=world.member_comment,
            amendment_id=world.chairs_amendment)
        for name in fields:
            for value in FUZZ:
                base = {"kind": "replace", "text": "Calls on States;", "body": "Hello."}
                body = {**{k: v for k, v in base.items() if k in fields}, name: value}
                response = client.api(method.upper(), path, body, token=world.token("chair"))
                assert response.status_code < 500, (method, path, name, value)
                tried += 1
    assert tried > 100


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/threads/0"), ("GET", "/threads/99999999999999999999"),
    ("GET", f"/threads/{2**31}"), ("POST", f"/threads/{10**12}/comments"),
    ("DELETE", "/comments/123456789"), ("PATCH", f"/comments/{2**40}"),
    ("GET", "/amendments/0"), ("GET", "/amendments/999999"),
    ("POST", f"/amendments/{2**33}/accept"), ("GET", "/clauses/999999/threads"),
    ("GET", f"/clauses/{2**31}/amendments"), ("GET", "/recommendations/999999/amendments"),
    ("POST", f"/notifications/{2**31}/read"),
])
def test_unknown_ids_are_404(world, client, method, path):
    body = {"body": "x"} if method in {"PATCH", "POST"} and "comment" in path else None
    response = client.api(method, "/api/v1" + path, body, token=world.token("secretariat"))
    assert error_of(response, 404)["code"] == "not_found"


# --- notifications ----------------------------------------------------------------------------


def test_a_mention_notifies_the_member_named_and_no_one_else(world, client):
    chair, member, outsider = (world.token(r) for r in ("chair", "member", "outsider"))
    before = client.api("GET", "/api/v1/notifications", token=member).get_json()["unread"]
    created = client.api("POST", f"/api/v1/clauses/{world.clause}/threads", {
        "body": "@**Member Person**, could you check with @**Outsider Person**? "
                "(cc @**Chair Person**)",
    }, token=chair).get_json()
    comment = created["comments"][0]
    assert f'href="/groups/{world.cast.group.id}#member-{world.cast.member.id}"' in comment["body_html"]
    assert "member-" + str(world.cast.outsider.id) not in comment["body_html"]

    listed = client.api("GET", "/api/v1/notifications", token=member).get_json()
    assert listed["unread"] == before + 1
    newest = listed["notifications"][0]
    assert newest == {**newest, "kind": "mention", "comment_id": comment["id"],
                      "thread_id": created["id"], "clause_id": world.clause,
                      "recommendation_id": world.recommendation, "read": False}
    assert newest["actor"]["name"] == "Chair Person"
    assert client.api("GET", "/api/v1/notifications", token=chair).get_json() == {
        "unread": 0, "notifications": []}
    assert client.api("GET", "/api/v1/notifications", token=outsider).get_json() == {
        "unread": 0, "notifications": []}


def test_a_reply_notifies_whoever_started_the_thread(world, client):
    client.api("POST", f"/api/v1/threads/{world.resolved_thread}/comments", {"body": "Not fixed."},
               token=world.token("chair"))
    listed = client.api("GET", "/api/v1/notifications?unread=true",
                        token=world.token("member")).get_json()
    assert [n["kind"] for n in listed["notifications"]] == ["reply", "reply"]
    assert listed["notifications"][0]["thread_id"] == world.resolved_thread


def test_reading_notifications_one_by_one_and_all_at_once(world, client):
    member = world.token("member")
    for text in ("@**Member Person** one", "@**Member Person** two"):
        client.api("POST", f"/api/v1/threads/{world.thread}/comments", {"body": text},
                   token=world.token("observer"))
    listed = client.api("GET", "/api/v1/notifications", token=member).get_json()
    assert listed["unread"] == 3
    read = client.api("POST", f"/api/v1/notifications/{world.notification}/read",
                      token=member).get_json()
    assert read["read"] is True and read["id"] == world.notification
    assert client.api("POST", f"/api/v1/notifications/{world.notification}/read",
                      token=member).status_code == 200
    unread = client.api("GET", "/api/v1/notifications?unread=true", token=member).get_json()
    assert unread["unread"] == 2 and len(unread["notifications"]) == 2
    assert world.notification not in [n["id"] for n in unread["notifications"]]
    older = client.api("GET", f"/api/v1/notifications?before={unread['notifications'][0]['id']}",
                       token=member).get_json()
    assert [n["id"] for n in older["notifications"]] == [unread["notifications"][1]["id"],
                                                         world.notification]
    everything = client.api("POST", "/api/v1/notifications/read-all", token=member).get_json()
    assert everything["unread"] == 0
    assert [n["read"] for n in everything["notifications"]] == [True, True, True]


def test_another_persons_notification_is_404(world, client, unchanged):
    for role in ("chair", "observer", "secretariat", "outsider"):
        with unchanged():
            response = client.api("POST", f"/api/v1/notifications/{world.notification}/read",
                                  token=world.token(role))
        assert error_of(response, 404)["code"] == "not_found"
    # Reading all of one's own marks nobody else's.
    client.api("POST", "/api/v1/notifications/read-all", token=world.token("chair"))
    assert client.api("GET", "/api/v1/notifications", token=world.token("member")).get_json()[
        "unread"] == 1


@pytest.mark.parametrize("query", ["before=abc", "before=0", f"before={2**31}", f"before={2**64}",
                                   "before=1.5", "unread=perhaps"])
def test_bad_notification_queries_are_400(world, client, query):
    response = client.api("GET", f"/api/v1/notifications?{query}", token=world.token("member"))
    assert error_of(response, 400)["fields"]


def test_the_session_cookie_works_with_the_csrf_header(app, world):
    browser = app.test_client()
    browser.sign_in(world.cast.member)
    refused = browser.api("POST", f"/api/v1/clauses/{world.clause}/threads", {"body": "Hi"},
                          csrf=False)
    assert error_of(refused, 400)["code"] == "csrf_failed"
    assert browser.api("POST", f"/api/v1/clauses/{world.clause}/threads",
                       {"body": "Hi"}).status_code == 201


def test_authors_are_shown_without_their_email(world, client):
    thread = client.api("GET", f"/api/v1/threads/{world.thread}",
                        token=world.token("observer")).get_json()
    assert thread["created_by"]["id"] == world.cast.member.id
    assert "email" not in thread["created_by"]
    assert all("email" not in c["author"] for c in thread["comments"])

