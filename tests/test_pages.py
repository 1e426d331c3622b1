"""Every page a person uses: well formed, sent with security headers, inert to hostile text,
friendly when something fails; forms that come back with errors; events after commit.

Pages are read as a browser parses them (html.parser: tags and attributes, not substrings).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from drafting.extensions import socketio
from drafting.votes.schemas import VoteOpen
from models import ClauseKind, Conference, GroupRole, Membership, Participant, db
from tests.helpers.html import inert_problems
from tests.helpers.pages import (
    Page,
    assert_friendly_error_page,
    assert_well_formed,
    client_as,
    content_security_policy,
    executable_problems,
    head_signature,
    hostile_text_problems,
    issue_invitation,
    read,
    structure_problems,
)

# --- the pages --------------------------------------------------------------------------------

STAFF = ("secretariat", "chair", "member", "observer")


@dataclass(frozen=True)
class PageCase:
    name: str
    path: str
    roles: tuple[str, ...]


PAGES = [
    PageCase("dashboard", "/", STAFF),
    PageCase("conference", "/conferences/{conference}", STAFF),
    PageCase("new conference", "/conferences/new", ("secretariat",)),
    PageCase("edit conference", "/conferences/{conference}/edit", ("secretariat",)),
    PageCase("delegations", "/conferences/{conference}/delegations", STAFF),
    PageCase("delegation", "/conferences/{conference}/delegations/{delegation}", STAFF),
    PageCase("group", "/groups/{group}", STAFF),
    PageCase("new group", "/conferences/{conference}/groups/new", ("secretariat",)),
    PageCase("edit group", "/groups/{group}/edit", ("secretariat",)),
    PageCase("members", "/groups/{group}/members", ("secretariat", "chair")),
    PageCase("participants", "/admin/participants/", ("secretariat",)),
    PageCase("invite participant", "/admin/participants/new", ("secretariat",)),
    PageCase("edit participant", "/admin/participants/{member}/edit", ("secretariat",)),
    PageCase("recommendation", "/recommendations/{recommendation}", STAFF),
    PageCase("new recommendation", "/groups/{group}/recommendations/new", ("chair", "member")),
    PageCase("rename recommendation", "/recommendations/{recommendation}/edit",
             ("secretariat", "chair")),
    PageCase("edit clause", "/clauses/{clause}/edit", ("chair", "member")),
    PageCase("discussion", "/clauses/{clause}/discussion", STAFF),
    PageCase("notifications", "/notifications", STAFF),
    PageCase("vote", "/votes/{vote}", STAFF),
    PageCase("vote projector", "/votes/{vote}/projector", STAFF),
    PageCase("vote record", "/votes/{closed_vote}/record", STAFF),
    PageCase("profile", "/profile", STAFF),
    PageCase("sign in", "/login", ("anonymous",)),
    PageCase("invitation", "/invitations/{invitation}", ("anonymous",)),
]


@pytest.fixture
def cast(factories):
    return factories.cast()


@pytest.fixture
def ids(app, factories, cast) -> dict[str, Any]:
    draft = factories.recommendation(cast.group, title="Protecting migrant workers", clauses=[
        (ClauseKind.PREAMBULAR, "*Recognising* the effects of the crisis,")])
    clause = factories.clause(draft, text="Calls on States to act;")
    invitee = factories.participant(password=False)
    delegation = factories.delegation(cast.conference, "Kazakhstan", members=(cast.member, cast.chair),
                                      head=cast.member)
    return {"conference": cast.conference.id, "delegation": delegation.id, "group": cast.group.id,
            "member": cast.member.id,
            "recommendation": draft.id, "clause": clause.id,
            "invitation": issue_invitation(app, invitee.id), **votes_on(app, cast, draft.id)}


def votes_on(app: Flask, cast: Any, recommendation_id: int) -> dict[str, int]:
    """A vote closed on the first clause (with a record), one open on the second."""
    from drafting.votes.services import close_vote, open_vote
    from models import Recommendation

    with app.test_request_context():
        chair = db.session.get(Participant, cast.chair.id)
        recommendation = db.session.get(Recommendation, recommendation_id)
        first, second = recommendation.live_clauses
        closed = open_vote(chair, recommendation, VoteOpen(subject="clause", clause_id=first.id))
        close_vote(chair, closed)
        vote = open_vote(chair, recommendation, VoteOpen(subject="clause", clause_id=second.id,
                                                 deadline_minutes=10))
        db.session.commit()
        return {"vote": vote.id, "closed_vote": closed.id}


@pytest.mark.parametrize("case", PAGES, ids=lambda case: case.name)
def test_page_is_well_formed_for_everyone_who_may_see_it(app, cast, ids, case):
    for role in case.roles:
        response = client_as(app, cast, role).get(case.path.format(**ids))
        assert response.status_code == 200, (role, response.get_data(as_text=True)[:2000])
        problems = structure_problems(read(response))
        assert not problems, (role, problems)


def test_pages_answering_a_form_are_well_formed(app, cast, ids):
    secretariat = client_as(app, cast, "secretariat")
    invited = secretariat.submit("/admin/participants/new", {
        "email": "nurlan@example.org", "name": "Nurlan", "category": "parliamentarian"})
    assert invited.status_code == 201
    assert_well_formed(invited)
    member = client_as(app, cast, "member")
    token = member.submit("/profile/tokens", {"name": "rapporteur script"})
    assert token.status_code == 201
    assert_well_formed(token)


def test_well_formed_check_finds_the_problems_it_looks_for():
    page = Page('<html><body><h1>a</h1><h1 id="x">b</h1><p id="x"></p>'
                '<form method="POST" action="/x"><input name="other"></form></body></html>')
    assert structure_problems(page) == [
        "<html> has no lang", "2 <h1> elements: ['a', 'b']", "<main> elements: []",
        "duplicated ids: ['x']", "POST form to '/x' without csrf_token"]


# --- security headers --------------------------------------------------------------------------

#: Policies that never send an invitation link's path (it carries the token) to another site.
PRIVATE_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin",
                             "strict-origin-when-cross-origin"}

#: (who, method, path, status): pages, redirects, error pages, a static file, the API.
RESPONSES = [
    *[(case.roles[0], "GET", case.path, 200) for case in PAGES],
    ("anonymous", "GET", "/", 302),
    ("member", "GET", "/no/such/page", 404),
    ("member", "GET", "/admin/participants/", 403),
    ("member", "GET", "/logout", 405),
    ("member", "POST", "/profile", 400),  # no CSRF token
    ("member", "GET", "/static/favicon.svg", 200),
    ("member", "GET", "/api/v1/me", 200),
    ("member", "GET", "/api/v1/groups/{group}", 200),
    ("anonymous", "GET", "/api/v1/me", 401),
    ("anonymous", "GET", "/api/v1/openapi.json", 200),
    ("member", "GET", "/api/v1/nothing-here", 404),
    ("anonymous", "PUT", "/api/v1/conferences", 405),
]


def security_header_problems(headers: Any) -> list[str]:
    problems = []
    policy = content_security_policy(headers.get("Content-Security-Policy", ""))
    script_sources = policy.get("script-src", policy.get("default-src"))
    if not script_sources or "'unsafe-inline'" in script_sources:
        problems.append(f"script-src {script_sources}")
    if policy.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors {policy.get('frame-ancestors')}")
    expected = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"}
    problems += [f"{name}: {headers.get(name)}" for name, value in expected.items()
                 if headers.get(name) != value]
    if headers.get("Referrer-Policy") not in PRIVATE_REFERRER_POLICIES:
        problems.append(f"Referrer-Policy: {headers.get('Referrer-Policy')}")
    return problems


def test_security_headers_on_every_response(app, cast, ids):
    clients = {role: client_as(app, cast, role) for role in ("anonymous", *STAFF)}
    problems = []
    for role, method, path, status in RESPONSES:
        response = clients[role].open(path.format(**ids), method=method)
        assert response.status_code == status, (role, method, path)
        problems += [f"{method} {path} as {role}: {problem}"
                     for problem in security_header_problems(response.headers)]
    assert not problems, "\n".join(problems)


# --- hostile text ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """One payload of the corpus in every field a person can write."""

    payload: str
    conference: int
    group: int
    person: Participant
    recommendation: int
    clause: int


@pytest.fixture
def hostile(factories, xss_payloads) -> list[Hostile]:
    worlds = []
    for payload in xss_payloads:
        conference = factories.conference(title=payload, venue=payload, description=payload,
                                          preamble=payload, organisers=f"IOM\n{payload}")
        group = factories.group(conference, name=payload, mandate=payload)
        # The country field holds 100 characters: a cut-off payload is as hostile.
        person = factories.member_of(group, GroupRole.CHAIR, name=payload, affiliation=payload,
                                     country=payload[:100])
        draft = factories.recommendation(group, title=payload,
                                         clauses=[(ClauseKind.PREAMBULAR, payload)])
        clause = factories.clause(draft, kind=ClauseKind.OPERATIVE, text=payload)
        worlds.append(Hostile(payload, conference.id, group.id, person, draft.id, clause.id))
    return worlds


def hostile_pages(app: Flask, factories: Any, hostile: list[Hostile]) -> list[tuple[str, Page]]:
    """(what, page) for every page that shows text written by someone else or by oneself."""
    secretariat = app.test_client()
    secretariat.sign_in(factories.secretariat())
    pages = [("secretariat dashboard", secretariat.get("/")),
             ("participants", secretariat.get("/admin/participants/"))]
    for n, world in enumerate(hostile):
        own = app.test_client()
        own.sign_in(world.person)
        for path in (f"/conferences/{world.conference}", f"/conferences/{world.conference}/edit",
                     f"/groups/{world.group}", f"/groups/{world.group}/edit",
                     f"/groups/{world.group}/members", f"/recommendations/{world.recommendation}",
                     f"/recommendations/{world.recommendation}/edit",
                     f"/admin/participants/{world.person.id}/edit"):
            pages.append((f"{world.payload!r} on {path}", secretariat.get(path)))
        for path in ("/", "/profile", f"/clauses/{world.clause}/edit"):
            pages.append((f"{world.payload!r} on {path} as its author", own.get(path)))
        invited = secretariat.submit("/admin/participants/new", {
            "email": f"invitee{n}@example.org", "name": world.payload,
            "affiliation": world.payload, "category": "ngo_representative"})
        pages.append((f"{world.payload!r} on the invitation link page", invited))
        token = issue_invitation(app, world.person.id)
        pages.append((f"{world.payload!r} on the invitation page",
                      app.test_client().get(f"/invitations/{token}")))
        # Reflected, not stored: the sign-in page repeats its query string in the language form.
        pages.append((f"{world.payload!r} in the sign-in page's address",
                      app.test_client().get("/login", query_string={"next": world.payload})))
    for what, response in pages:
        assert response.status_code in {200, 201}, (what, response.status_code)
    return [(what, read(response)) for what, response in pages]


def test_hostile_text_stays_inert_on_every_page(app, factories, hostile):
    problems, areas = hostile_text_problems(app, hostile_pages(app, factories, hostile))
    assert not problems, "\n".join(problems)
    # Description, preamble, mandate and two clauses of each payload were among them.
    assert areas >= 5 * len(hostile)


def test_hostile_titles_show_as_typed(app, factories, hostile):
    client = app.test_client()
    client.sign_in(factories.secretariat())
    for world in hostile:
        for path in (f"/conferences/{world.conference}", f"/groups/{world.group}",
                     f"/recommendations/{world.recommendation}"):
            # Escaped once: the reader sees the characters that were typed, not "&lt;".
            assert read(client.get(path)).h1 == [world.payload], path


def test_api_returns_hostile_text_verbatim_and_sanitised_html(app, factories, hostile):
    client = app.test_client()
    token = factories.api_token(factories.secretariat())
    for world in hostile:
        payload = world.payload
        conference = client.api("GET", f"/api/v1/conferences/{world.conference}", token=token).get_json()
        assert [conference[field] for field in ("title", "venue", "description", "preamble")] == [payload] * 4
        assert conference["organisers"] == ["IOM", payload]
        group = client.api("GET", f"/api/v1/groups/{world.group}", token=token).get_json()
        assert (group["name"], group["mandate"]) == (payload, payload)
        person = group["members"][0]["participant"]
        assert (person["name"], person["affiliation"], person["country"]) == (payload, payload,
                                                                              payload[:100])
        draft = client.api("GET", f"/api/v1/recommendations/{world.recommendation}",
                           token=token).get_json()
        assert draft["title"] == payload
        assert [clause["text"] for clause in draft["clauses"]] == [payload, payload]
        for html_field in (conference["description_html"], group["mandate_html"],
                           *[clause["text_html"] for clause in draft["clauses"]]):
            assert not inert_problems(html_field), (payload, html_field)


def test_executable_check_finds_what_it_looks_for():
    page = Page('<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0">'
                '<script type="module" src="/static/dist/main.js?v=1"></script><script>x()</script>'
                '</head><body><a href=" java\tscript:x()">a</a><p onclick="x()">p</p>'
                '<img srcset="a 1x, data:image/svg+xml,x 2x"><iframe></iframe></body></html>')
    assert executable_problems(page, {head_signature("meta", [("charset", "utf-8")])}) == [
        "scripts: [{'type': 'module', 'src': '/static/dist/main.js?v=1'}, {}]",
        "<meta [('http-equiv', 'refresh'), ('content', '0')]>",
        "URL href=' java\\tscript:x()' on <a>", "handler onclick on <p>", "<img>",
        "URL srcset='a 1x, data:image/svg+xml,x 2x' on <img>", "<iframe>"]
    # A fragment needs no script of its own, and may bring none, not even our own bundle.
    assert executable_problems(Page('<section><p>text</p></section>'), set()) == []
    fragment = Page('<section><script type="module" src="/static/dist/votes.js"></script></section>')
    assert executable_problems(fragment, set()) == [
        "scripts in a fragment: [{'type': 'module', 'src': '/static/dist/votes.js'}]"]


# --- when something fails ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["anonymous", "member"])
def test_unknown_page_is_a_friendly_404(app, cast, role):
    response = client_as(app, cast, role).get("/conferences/999999/nothing")
    assert_friendly_error_page(response, 404, "Page not found")


def test_forbidden_page_is_a_friendly_403(app, cast):
    response = client_as(app, cast, "member").get("/admin/participants/")
    page = assert_friendly_error_page(response, 403, "You do not have access to this page")
    assert "Only the secretariat manages participants." in page.text_of("main")


def test_wrong_method_is_a_friendly_405(app, cast):
    response = client_as(app, cast, "member").get("/logout")
    assert_friendly_error_page(response, 405, "This action is not available here")
    assert response.headers["Allow"] == "OPTIONS, POST"


@pytest.fixture
def failing_app(app_variant):
    """An app with routes that fail the way a bug would; registered before its first request."""
    variant = app_variant()

    def fail() -> None:
        raise RuntimeError("internal detail: connection string postgresql://secret")

    variant.add_url_rule("/failing", "failing", fail)
    variant.add_url_rule("/api/v1/failing", "api_failing", fail)
    return variant


def test_unexpected_error_is_a_friendly_500_and_is_logged(failing_app, caplog):
    with caplog.at_level(logging.ERROR, logger="drafting.errors"):
        response = failing_app.test_client().get("/failing")
    page = assert_friendly_error_page(response, 500, "Something went wrong on our side")
    assert "was not saved" in page.text_of("main")
    assert "internal detail" not in response.get_data(as_text=True)
    logged = [record for record in caplog.records if record.exc_info]
    assert logged and logged[0].exc_info[0] is RuntimeError


def test_unexpected_api_error_is_the_json_error_shape(failing_app):
    response = failing_app.test_client().get("/api/v1/failing")
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "internal_error"
    assert error["message"]
    assert "internal detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_failed_request_leaves_nothing_in_the_database(app, app_variant, factories):
    from drafting.conferences.services import create_conference

    secretariat = factories.secretariat()
    flushed: list[int] = []
    variant = app_variant()

    def create_then_fail() -> None:
        conference = create_conference(db.session.get(Participant, secretariat.id), {
            "title": "Half-written", "starts_on": "2009-06-24", "ends_on": "2009-06-25"})
        flushed.append(conference.id)  # the row reached the database's transaction
        raise RuntimeError("after the flush, before the commit")

    variant.add_url_rule("/create-then-fail", "create_then_fail", create_then_fail)
    response = variant.test_client().get("/create-then-fail")
    assert response.status_code == 500
    assert flushed and flushed[0] is not None
    assert count(app, Conference) == 0


# --- forms that come back with errors ----------------------------------------------------------


def test_conference_ending_before_it_starts_is_shown_beside_the_end_date(app, cast):
    client = client_as(app, cast, "secretariat")
    before = count(app, Conference)
    response = client.submit("/conferences/new", {
        "title": "Migration management", "venue": "Astana", "starts_on": "2009-06-25",
        "ends_on": "2009-06-24", "organisers": "", "description": "", "preamble": ""})
    assert response.status_code == 400
    page = assert_well_formed(response)
    assert page.text_of("ends_on-errors") == "The conference cannot end before it starts."
    end_date = page.attributes_of("ends_on")
    assert end_date["aria-invalid"] == "true"
    assert "ends_on-errors" in end_date["aria-describedby"].split()
    assert page.attributes_of("title")["value"] == "Migration management"  # what was typed stays
    assert count(app, Conference) == before


def test_adding_someone_already_in_the_group_is_refused_with_a_message(app, cast):
    client = client_as(app, cast, "chair")
    response = client.submit(f"/groups/{cast.group.id}/members",
                             {"participant_id": str(cast.member.id), "role": "observer"})
    assert response.status_code == 400
    page = assert_well_formed(response)
    alerts = [dict(attrs) for tag, attrs in page.tags if dict(attrs).get("role") == "alert"]
    assert alerts, "no error summary"
    assert "Member Person is already in this group." in page.text_of("main")
    with app.app_context():
        roles = db.session.scalars(select(Membership.role)
                                   .where(Membership.participant_id == cast.member.id)).all()
    assert roles == [GroupRole.MEMBER]


# --- events go out after the commit, and only then ---------------------------------------------


@pytest.fixture
def emitted(monkeypatch) -> list[tuple[str, dict[str, Any], str]]:
    """What would have been sent to Socket.IO rooms (delivery itself is the real-time tests' part)."""
    sent: list[tuple[str, dict[str, Any], str]] = []

    def record(event: str, payload: dict[str, Any], *, to: str, **_options: Any) -> None:
        sent.append((event, payload, to))

    monkeypatch.setattr(socketio, "emit", record)
    return sent


def membership_events(group_id: int, participant_id: int) -> list[tuple[str, dict[str, Any], str]]:
    payload = {"group_id": group_id, "participant_id": participant_id}
    return [("membership_changed", payload, f"group:{group_id}"),
            ("membership_changed", payload, f"participant:{participant_id}")]


def test_anonymous_socket_connection_is_refused(app, socket_test_client):
    assert not socket_test_client(app, flask_test_client=app.test_client()).is_connected()


def test_signed_in_socket_connection_is_accepted(app, cast, socket_test_client):
    client = client_as(app, cast, "member")
    socket = socket_test_client(app, flask_test_client=client)
    assert socket.is_connected()
    socket.disconnect()


def test_service_event_is_sent_once_at_commit(ctx, factories, emitted):
    from drafting.groups.services import add_member

    cast = factories.cast()
    newcomer = factories.participant()
    add_member(cast.secretariat, cast.group, newcomer, "member")
    assert emitted == []  # flushed, not committed: nobody may hear of it yet
    db.session.commit()
    assert emitted == membership_events(cast.group.id, newcomer.id)
    db.session.commit()
    assert len(emitted) == 2  # not again at the next commit


def test_rolled_back_change_is_never_announced(ctx, factories, emitted):
    from drafting.groups.services import add_member

    cast = factories.cast()
    newcomer = factories.participant()
    add_member(cast.secretariat, cast.group, newcomer, "member")
    db.session.rollback()
    factories.participant()  # a later, unrelated commit does not carry the dropped event out
    assert emitted == []


def test_savepoint_rollback_keeps_the_events_of_the_enclosing_transaction(ctx, factories, emitted):
    from drafting.groups.services import add_member

    cast = factories.cast()
    newcomer = factories.participant()
    add_member(cast.secretariat, cast.group, newcomer, "member")
    db.session.begin_nested().rollback()  # e.g. an optional step that failed and was undone
    db.session.commit()  # the membership is committed ...
    assert emitted == membership_events(cast.group.id, newcomer.id)  # ... and must be announced


def test_events_queued_inside_a_rolled_back_savepoint_are_dropped(ctx, factories, emitted):
    from drafting.groups.services import add_member

    cast = factories.cast()
    kept, dropped = factories.participant(), factories.participant()
    add_member(cast.secretariat, cast.group, kept, "member")
    savepoint = db.session.begin_nested()
    add_member(cast.secretariat, cast.group, dropped, "member")
    savepoint.rollback()
    db.session.commit()
    assert emitted == membership_events(cast.group.id, kept.id)


def test_form_edge_announces_its_change_after_committing(app, cast, factories, emitted):
    newcomer = factories.participant()
    response = client_as(app, cast, "chair").submit(
        f"/groups/{cast.group.id}/members", {"participant_id": str(newcomer.id), "role": "member"})
    assert response.status_code == 302
    assert emitted == membership_events(cast.group.id, newcomer.id)


def test_request_failing_after_its_change_announces_nothing(app, app_variant, cast, factories,
                                                            emitted):
    from drafting.groups.services import add_member

    newcomer = factories.participant()
    memberships = count(app, Membership)
    variant = app_variant()

    def add_then_fail() -> None:
        add_member(db.session.get(Participant, cast.secretariat.id),
                   db.session.get(type(cast.group), cast.group.id),
                   db.session.get(Participant, newcomer.id), "member")
        raise RuntimeError("after the flush, before the commit")

    variant.add_url_rule("/add-then-fail", "add_then_fail", add_then_fail)
    assert variant.test_client().get("/add-then-fail").status_code == 500
    assert count(app, Membership) == memberships
    # The next request of the same process commits: the dropped event stays dropped.
    renamed = client_as(app, cast, "member").submit(
        "/profile", {"name": "Member", "affiliation": "", "country": "", "locale": ""})
    assert renamed.status_code == 302
    assert emitted == []
