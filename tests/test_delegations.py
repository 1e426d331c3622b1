"""The secretariat's delegations, through the API and the pages: create, rename, delete when
unused, seat participants (one delegation per participant per conference), name the head and
the designated voter, choose the voting unit; the delegation beside a name in member lists
and on statements; hostile names inert everywhere they are shown."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from drafting.export import render_html, render_md
from drafting.export.outline import compile_outline
from models import (
    ClauseKind,
    ClauseStatus,
    Conference,
    Delegation,
    Recommendation,
    RecommendationStatus,
    Seat,
    db,
)
from tests.helpers.pages import EMBEDDING_TAGS, Page, assert_well_formed, hostile_text_problems, read

ROLES = ("secretariat", "chair", "member", "observer", "other_chair", "outsider")


@pytest.fixture
def cast(factories):
    return factories.cast()


@pytest.fixture
def tokens(factories, cast) -> dict[str, str]:
    return {role: factories.api_token(getattr(cast, role)) for role in ROLES}


def call(client, tokens, role: str, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    response = client.api(method, "/api/v1" + path, body, token=tokens[role])
    assert response.status_code == status, response.get_data(as_text=True)[:1500]
    return response.get_json()


# --- the API ----------------------------------------------------------------------------------


def test_the_secretariat_sets_up_delegations_and_everyone_of_the_conference_reads_them(client, cast, tokens):
    base = f"/conferences/{cast.conference.id}"
    for name, kind, key in (("Russian Federation", "state", ""), ("Republic of Moldova", "state", "Moldova"),
                            ("International Organization for Migration", "organisation", "")):
        created = call(client, tokens, "secretariat", "POST", f"{base}/delegations",
                       {"name": f"  {name} ", "kind": kind, "sort_key": key}, 201)
        assert (created["name"], created["kind"], created["sort_key"]) == (name, kind, key)
        assert created["members"] == [] and created["head"] is None
    listed = call(client, tokens, "member", "GET", f"{base}/delegations")
    # Alphabetical by sort key: "Moldova" between "International…" and "Russian…".
    assert [d["name"] for d in listed] == ["International Organization for Migration",
                                           "Republic of Moldova", "Russian Federation"]
    assert call(client, tokens, "chair", "GET", f"{base}/delegations/{listed[0]['id']}")["kind"] == "organisation"


def test_seating_naming_the_head_and_the_voter_and_moving_between_delegations(client, cast, tokens):
    base = f"/conferences/{cast.conference.id}"
    russia = call(client, tokens, "secretariat", "POST", f"{base}/delegations", {"name": "Russia"}, 201)
    kazakhstan = call(client, tokens, "secretariat", "POST", f"{base}/delegations",
                      {"name": "Kazakhstan"}, 201)
    seated = call(client, tokens, "secretariat", "PUT", f"{base}/seats/{cast.member.id}",
                  {"delegation_id": russia["id"]})
    assert [m["id"] for m in seated["members"]] == [cast.member.id]
    call(client, tokens, "secretariat", "PUT", f"{base}/seats/{cast.chair.id}",
         {"delegation_id": russia["id"]})
    # Only members head a delegation or cast its ballot.
    refused = call(client, tokens, "secretariat", "PATCH", f"{base}/delegations/{russia['id']}",
                   {"head_id": cast.observer.id}, 400)
    assert refused["error"]["fields"] == {"head_id": "Not a member of this delegation."}
    updated = call(client, tokens, "secretariat", "PATCH", f"{base}/delegations/{russia['id']}",
                   {"head_id": cast.member.id, "voter_id": cast.chair.id, "name": "Russian Federation"})
    assert (updated["name"], updated["head"]["id"], updated["voter"]["id"]) == (
        "Russian Federation", cast.member.id, cast.chair.id)
    # A PATCH leaves out what it does not name; null clears.
    kept = call(client, tokens, "secretariat", "PATCH", f"{base}/delegations/{russia['id']}",
                {"voter_id": None})
    assert (kept["head"]["id"], kept["voter"]) == (cast.member.id, None)
    # Moving the head to another delegation: the first loses its head.
    moved = call(client, tokens, "secretariat", "PUT", f"{base}/seats/{cast.member.id}",
                 {"delegation_id": kazakhstan["id"]})
    assert [m["id"] for m in moved["members"]] == [cast.member.id]
    left = call(client, tokens, "secretariat", "GET", f"{base}/delegations/{russia['id']}")
    assert (left["head"], [m["id"] for m in left["members"]]) == (None, [cast.chair.id])
    call(client, tokens, "secretariat", "DELETE", f"{base}/seats/{cast.chair.id}", status=204)
    assert call(client, tokens, "secretariat", "GET", f"{base}/delegations/{russia['id']}")["members"] == []
    assert call(client, tokens, "secretariat", "DELETE", f"{base}/seats/{cast.chair.id}",
                status=404)["error"]["code"] == "not_found"


def test_a_participant_sits_in_one_delegation_of_a_conference_by_the_databases_guarantee(app, factories, cast):
    first = factories.delegation(cast.conference, "Kazakhstan", members=(cast.member,))
    second = factories.delegation(cast.conference, "Kyrgyzstan")
    elsewhere = factories.delegation(factories.conference(), "Kazakhstan", members=(cast.member,))
    with app.app_context():
        db.session.add(Seat(conference_id=cast.conference.id, delegation_id=second.id,
                            participant_id=cast.member.id))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        # A seat's conference is its delegation's, whatever a row says.
        db.session.add(Seat(conference_id=cast.conference.id, delegation_id=elsewhere.id,
                            participant_id=cast.chair.id))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalars(select(Seat.delegation_id).where(
            Seat.participant_id == cast.member.id)).all() == [first.id, elsewhere.id]


def test_names_are_unique_in_a_conference_whatever_their_case(client, cast, tokens, factories):
    base = f"/conferences/{cast.conference.id}"
    call(client, tokens, "secretariat", "POST", f"{base}/delegations", {"name": "Österreich"}, 201)
    clash = call(client, tokens, "secretariat", "POST", f"{base}/delegations", {"name": "ÖSTERREICH"}, 409)
    assert clash["error"]["fields"] == {"name": "Already used in this conference."}
    other = factories.conference()
    call(client, tokens, "secretariat", "POST", f"/conferences/{other.id}/delegations", {"name": "Österreich"}, 201)


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "   "}, {"name": "x" * 201}, {"name": 3},
                                  {"name": "A", "kind": "empire"}, {"name": "A", "extra": 1},
                                  {"name": "A\x00"}])
def test_bad_delegations_are_refused_field_by_field(client, cast, tokens, body):
    response = client.api("POST", f"/api/v1/conferences/{cast.conference.id}/delegations", body,
                          token=tokens["secretariat"])
    assert response.status_code == 400
    with client.application.app_context():
        assert db.session.scalar(select(Delegation.id)) is None


def test_only_an_unused_delegation_can_be_deleted(client, cast, tokens, factories):
    base = f"/conferences/{cast.conference.id}"
    used = factories.delegation(cast.conference, "Kazakhstan", members=(cast.member,))
    unused = factories.delegation(cast.conference, "Kyrgyzstan")
    message = call(client, tokens, "secretariat", "DELETE", f"{base}/delegations/{used.id}", status=409)
    assert "Kazakhstan" in message["error"]["message"]
    call(client, tokens, "secretariat", "DELETE", f"{base}/delegations/{unused.id}", status=204)
    assert [d["name"] for d in call(client, tokens, "member", "GET", f"{base}/delegations")] == ["Kazakhstan"]


def test_a_delegation_of_another_conference_is_not_found_through_this_one(client, cast, tokens, factories):
    foreign = factories.delegation(factories.conference(), "Elsewhere")
    base = f"/conferences/{cast.conference.id}"
    call(client, tokens, "secretariat", "GET", f"{base}/delegations/{foreign.id}", status=404)
    call(client, tokens, "secretariat", "PATCH", f"{base}/delegations/{foreign.id}", {"name": "X"}, 404)
    refused = call(client, tokens, "secretariat", "PUT", f"{base}/seats/{cast.member.id}",
                   {"delegation_id": foreign.id}, 400)
    assert refused["error"]["fields"] == {"delegation_id": "Not a delegation of this conference."}


@pytest.mark.parametrize("role", ["chair", "member", "observer", "other_chair"])
def test_only_the_secretariat_changes_delegations(client, cast, tokens, factories, role):
    base = f"/conferences/{cast.conference.id}"
    delegation = factories.delegation(cast.conference, "Kazakhstan", members=(cast.member,))
    for method, path, body in (("POST", f"{base}/delegations", {"name": "Mine"}),
                               ("PATCH", f"{base}/delegations/{delegation.id}", {"head_id": cast.member.id}),
                               ("DELETE", f"{base}/delegations/{delegation.id}", None),
                               ("PUT", f"{base}/seats/{cast.chair.id}", {"delegation_id": delegation.id}),
                               ("DELETE", f"{base}/seats/{cast.member.id}", None),
                               ("PUT", f"{base}/voting-unit", {"voting_unit": "delegation"})):
        assert call(client, tokens, role, method, path, body, 403)["error"]["code"] == "forbidden"
    assert call(client, tokens, role, "GET", f"{base}/delegations")[0]["head"] is None
    assert call(client, tokens, "outsider", "GET", f"{base}/delegations", status=404)


def test_the_voting_unit_is_the_conferences(client, cast, tokens):
    path = f"/conferences/{cast.conference.id}"
    assert call(client, tokens, "member", "GET", path)["voting_unit"] == "person"
    assert call(client, tokens, "secretariat", "PUT", f"{path}/voting-unit",
                {"voting_unit": "delegation"}) == {"voting_unit": "delegation"}
    assert call(client, tokens, "member", "GET", path)["voting_unit"] == "delegation"
    call(client, tokens, "secretariat", "PUT", f"{path}/voting-unit", {"voting_unit": "state"}, 400)


# --- a delegation beside a name ---------------------------------------------------------------


def test_member_lists_show_each_members_delegation(app, client, cast, tokens, factories):
    factories.delegation(cast.conference, "Kazakhstan", members=(cast.member,))
    factories.delegation(factories.conference(), "Elsewhere", members=(cast.chair,))
    group = call(client, tokens, "member", "GET", f"/groups/{cast.group.id}")
    delegations = {m["participant"]["id"]: m["delegation"] for m in group["members"]}
    assert delegations[cast.member.id]["name"] == "Kazakhstan"
    assert delegations[cast.chair.id] is None  # seated at another conference only
    client.sign_in(cast.chair)
    for path in (f"/groups/{cast.group.id}", f"/groups/{cast.group.id}/members"):
        page = client.get(path).get_data(as_text=True)
        assert f'<td data-delegation-of="{cast.member.id}">Kazakhstan</td>' in page, path
        assert f'<td data-delegation-of="{cast.chair.id}"></td>' in page, path


def adopted_clause(app, factories, cast) -> tuple[Recommendation, int]:
    draft = factories.recommendation(cast.group, title="On registration",
                                     clauses=[(ClauseKind.OPERATIVE, "Simplifies registration;")])
    with app.app_context():
        clause = db.session.get(Recommendation, draft.id).live_clauses[0]
        clause.status = ClauseStatus.ADOPTED
        db.session.get(Recommendation, draft.id).status = RecommendationStatus.ADOPTED
        db.session.commit()
        return draft, clause.id


def test_a_statement_is_made_for_the_authors_delegation_of_the_time(app, client, cast, tokens, factories):
    draft, clause = adopted_clause(app, factories, cast)
    kazakhstan = factories.delegation(cast.conference, "Kazakhstan", members=(cast.member,))
    made = call(client, tokens, "member", "POST", f"/recommendations/{draft.id}/statements",
                {"kind": "reservation", "text": "We cannot join.", "clause_id": clause}, 201)
    assert made["delegation"] == {"id": kazakhstan.id, "name": "Kazakhstan", "kind": "state"}
    alone = call(client, tokens, "chair", "POST", f"/recommendations/{draft.id}/statements",
                 {"kind": "interpretative", "text": "As we read it.", "clause_id": clause}, 201)
    assert alone["delegation"] is None
    # Moving afterwards changes nothing of what was said on whose behalf.
    other = factories.delegation(cast.conference, "Kyrgyzstan")
    call(client, tokens, "secretariat", "PUT", f"/conferences/{cast.conference.id}/seats/{cast.member.id}",
         {"delegation_id": other.id})
    listed = call(client, tokens, "member", "GET", f"/recommendations/{draft.id}/statements")
    assert [(s["kind"], (s["delegation"] or {}).get("name")) for s in listed] == [
        ("reservation", "Kazakhstan"), ("interpretative", None)]
    client.sign_in(cast.observer)
    page = client.get(f"/recommendations/{draft.id}").get_data(as_text=True)
    assert "Reservation by the delegation of Kazakhstan" in page
    assert "<strong>Interpretative statement</strong>" in page


def test_the_annex_heads_a_statement_by_its_delegation_in_english_and_russian(app, factories, cast):
    draft, clause = adopted_clause(app, factories, cast)
    factories.delegation(cast.conference, "Казахстан", members=(cast.member,))
    client = app.test_client()
    client.sign_in(cast.member)
    client.submit(f"/recommendations/{draft.id}/statements",
                  {"kind": "interpretative", "text": "Our reading.", "clause_id": str(clause)})
    with app.test_request_context():
        outline = compile_outline(db.session.get(Conference, cast.conference.id))
        assert [s.delegation for s in outline.statements] == ["Казахстан"]
        html = render_html.render(outline).decode()
        assert "Interpretative statement by the delegation of Казахстан — Member Person" in html
        assert "### Interpretative statement by the delegation of Казахстан:" in render_md.render(outline).decode()
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        outline = compile_outline(db.session.get(Conference, cast.conference.id))
        # No declension of the name: it follows a colon, in the nominative.
        assert "Заявление о толковании от имени делегации: Казахстан" in render_html.render(outline).decode()


# --- the pages --------------------------------------------------------------------------------


def test_the_secretariat_manages_delegations_on_the_pages(app, cast, factories):
    client = app.test_client()
    client.sign_in(cast.secretariat)
    base = f"/conferences/{cast.conference.id}/delegations"
    index = assert_well_formed(client.get(base))
    assert index.h1 == ["Delegations"]
    refused = client.submit(base, {"name": "", "kind": "state", "sort_key": ""})
    assert refused.status_code == 400 and "Name is required." in refused.get_data(as_text=True)
    created = client.submit(base, {"name": "Kazakhstan", "kind": "state", "sort_key": ""})
    assert created.status_code == 302
    with app.app_context():
        delegation = db.session.scalar(select(Delegation))
        assert (delegation.name, delegation.conference_id) == ("Kazakhstan", cast.conference.id)
    page = f"{base}/{delegation.id}"
    assert client.submit(f"{page}/seats", {"participant_id": str(cast.member.id)}).status_code == 302
    assert client.submit(page, {"name": "Republic of Kazakhstan", "kind": "state", "sort_key": "Kazakhstan",
                                "head_id": str(cast.member.id), "voter_id": ""}).status_code == 302
    bad = client.submit(page, {"name": "Republic of Kazakhstan", "kind": "state", "sort_key": "",
                               "head_id": str(cast.observer.id), "voter_id": ""})
    assert bad.status_code == 400 and "Choose a member of the delegation." in bad.get_data(as_text=True)
    shown = assert_well_formed(client.get(page))
    assert shown.h1 == ["Delegation of Republic of Kazakhstan"]
    assert "Head of delegation" in shown.text_of(f"seat-{cast.member.id}")
    assert client.submit(f"/conferences/{cast.conference.id}/voting-unit",
                         {"voting_unit": "delegation"}).status_code == 302
    assert 'data-voting-unit="delegation"' in client.get(base).get_data(as_text=True)
    # Used (a member sits in it): no delete button, and a delete is refused.
    assert f"{page}/delete" not in client.get(page).get_data(as_text=True)
    assert client.submit(f"{page}/delete").status_code == 409
    assert client.submit(f"/conferences/{cast.conference.id}/seats/{cast.member.id}/remove").status_code == 302
    assert f"{page}/delete" in client.get(page).get_data(as_text=True)
    assert client.submit(f"{page}/delete").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Delegation.id)) is None


def test_participants_see_the_delegations_without_the_secretariats_forms(app, cast, factories):
    delegation = factories.delegation(cast.conference, "Kazakhstan", members=(cast.member,), head=cast.member)
    client = app.test_client()
    client.sign_in(cast.observer)
    for path in (f"/conferences/{cast.conference.id}/delegations",
                 f"/conferences/{cast.conference.id}/delegations/{delegation.id}"):
        page = assert_well_formed(client.get(path))
        actions = [action or "" for action, _token in page.post_forms]
        assert not [a for a in actions if "/delegations" in a or "/seats" in a or "voting-unit" in a], path
    assert client.submit(f"/conferences/{cast.conference.id}/delegations",
                         {"name": "Mine", "kind": "state", "sort_key": ""}).status_code == 403
    outsider = app.test_client()
    outsider.sign_in(cast.outsider)
    assert outsider.get(f"/conferences/{cast.conference.id}/delegations").status_code == 404


def test_the_participant_form_and_api_take_a_family_name(app, client, cast, tokens):
    created = call(client, tokens, "secretariat", "POST", "/participants", {
        "email": "ban@example.org", "name": "Ban Ki-moon", "family_name": "Ban",
        "category": "international_organisation"}, 201)["participant"]
    assert created["family_name"] == "Ban"
    patched = call(client, tokens, "secretariat", "PATCH", f"/participants/{created['id']}",
                   {"name": "Ban Ki-moon (UN)"})
    assert patched["family_name"] == "Ban"
    secretariat = app.test_client()
    secretariat.sign_in(cast.secretariat)
    form = secretariat.get(f"/admin/participants/{created['id']}/edit").get_data(as_text=True)
    assert 'name="family_name"' in form and 'value="Ban"' in form


# --- hostile names ----------------------------------------------------------------------------


def test_hostile_delegation_names_stay_inert_and_show_as_typed(app, factories, cast, xss_payloads):
    draft, clause = adopted_clause(app, factories, cast)
    delegations = [factories.delegation(cast.conference, payload[:200], members=())
                   for payload in dict.fromkeys(p[:200] for p in xss_payloads)]
    with app.app_context():
        for person, delegation in ((cast.member, delegations[0]), (cast.chair, delegations[-1])):
            db.session.add(Seat(conference_id=cast.conference.id, delegation_id=delegation.id,
                                participant_id=person.id))
        db.session.commit()
    member = app.test_client()
    member.sign_in(cast.member)
    member.submit(f"/recommendations/{draft.id}/statements",
                  {"kind": "reservation", "text": "No.", "clause_id": str(clause)})
    client = app.test_client()
    client.sign_in(cast.secretariat)
    paths = [f"/conferences/{cast.conference.id}/delegations", f"/groups/{cast.group.id}",
             f"/groups/{cast.group.id}/members", f"/recommendations/{draft.id}",
             *(f"/conferences/{cast.conference.id}/delegations/{d.id}" for d in delegations)]
    pages = [(path, read(client.get(path))) for path in paths]
    problems, _areas = hostile_text_problems(app, pages)
    assert not problems, "\n".join(problems)
    for delegation, (_path, page) in zip(delegations, pages[4:], strict=True):
        assert page.h1 == [f"Delegation of {delegation.name}"]
    token = factories.api_token(cast.secretariat)
    listed = client.api("GET", f"/api/v1/conferences/{cast.conference.id}/delegations", token=token).get_json()
    assert {d["name"] for d in listed} == {d.name for d in delegations}
    with app.test_request_context():
        exported = Page(render_html.render(compile_outline(
            db.session.get(Conference, cast.conference.id))).decode())
    # In the outcome document too, a delegation's name is text: only the template's own tags.
    assert [tag for tag, _attrs in exported.tags if tag in EMBEDDING_TAGS | {"script"}] == ["style"]
    assert not [(tag, attrs) for tag, attrs in exported.tags
                if any(name.startswith("on") or name == "style" for name, _value in attrs)]
