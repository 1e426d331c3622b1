"""The JSON API: authentication, the error shape, bad input, and the OpenAPI contract."""
from __future__ import annotations

import json

import pytest

from models import ClauseKind, GroupRole, RecommendationStatus


@pytest.fixture
def cast(factories):
    return factories.cast()


@pytest.fixture
def tokens(factories, cast):
    return {role: factories.api_token(getattr(cast, role))
            for role in ("secretariat", "chair", "member", "observer", "other_chair", "outsider")}


def test_openapi_document_lists_every_api_endpoint(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.endswith("openapi.json"):
            continue
        path = rule.rule.replace("<int:", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][path][method.lower()]
            assert operation["summary"] and operation["responses"]


def test_bearer_token_authenticates_without_csrf(client, cast, tokens):
    response = client.api("GET", "/api/v1/me", token=tokens["chair"])
    assert response.status_code == 200
    assert response.get_json()["email"] == cast.chair.email
    created = client.api("POST", f"/api/v1/groups/{cast.group.id}/recommendations",
                         {"title": "On remittances"}, token=tokens["member"])
    assert created.status_code == 201


@pytest.mark.parametrize("header", ["Bearer plen_not-a-token", "Bearer ", "Bearer x" * 100,
                                    "Basic dXNlcjpwYXNz"])
def test_bad_credentials_are_401(client, header):
    response = client.api("GET", "/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_revoked_token_stops_working(app, client, cast, tokens):
    browser = app.test_client()
    browser.sign_in(cast.chair)
    from models import ApiToken, db

    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken.id).where(ApiToken.participant_id == cast.chair.id))
    assert browser.submit(f"/profile/tokens/{token_id}/revoke").status_code == 302
    assert client.api("GET", "/api/v1/me", token=tokens["chair"]).status_code == 401


def test_someone_elses_token_cannot_be_revoked(app, cast, tokens):
    from models import ApiToken, db

    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken.id).where(ApiToken.participant_id == cast.chair.id))
    thief = app.test_client()
    thief.sign_in(cast.member)
    assert thief.submit(f"/profile/tokens/{token_id}/revoke").status_code == 404
    assert app.test_client().api("GET", "/api/v1/me", token=tokens["chair"]).status_code == 200


def test_tokens_are_stored_hashed(app, cast, tokens):
    from models import ApiToken, db

    with app.app_context():
        stored = [t.token_hash for t in db.session.scalars(db.select(ApiToken))]
    assert all(secret not in stored for secret in tokens.values())


@pytest.mark.postgresql_only
def test_a_tokens_first_use_takes_no_second_connection(app_variant, factories):
    """Noting when a token was last used must not take a second connection from the pool
    while the request holds its own: with 16 API clients signing in at once the pool was
    exhausted and requests stalled until its timeout. A pool of one connection shows it
    for a single request."""
    from models import ApiToken, db

    narrow = app_variant(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": 1,
                                                    "max_overflow": 0, "pool_timeout": 2})
    person = factories.participant()
    token = factories.api_token(person)
    client = narrow.test_client()
    for _ in range(2):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
    with narrow.app_context():
        assert db.session.query(ApiToken).filter_by(participant_id=person.id).one().last_used_at is not None


def test_cli_creates_a_working_token(app, client, cast):
    result = app.test_cli_runner().invoke(args=["token", "create", cast.observer.email,
                                                "--name", "rapporteur"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("plen_")
    assert client.api("GET", "/api/v1/me", token=secret).get_json()["name"] == "Observer Person"


def test_cli_refuses_unknown_email(app):
    result = app.test_cli_runner().invoke(args=["token", "create", "nobody@example.org"])
    assert result.exit_code != 0
    assert "No active participant" in result.output


def test_profile_page_shows_a_new_token_once(app, cast):
    browser = app.test_client()
    browser.sign_in(cast.member)
    page = browser.submit("/profile/tokens", {"name": "my script"})
    assert page.status_code == 201
    text = page.get_data(as_text=True)
    start = text.index("plen_")
    secret = text[start:text.index('"', start)]
    assert page.headers["Cache-Control"] == "no-store"
    assert app.test_client().api("GET", "/api/v1/me", token=secret).status_code == 200
    assert secret not in browser.get("/profile").get_data(as_text=True)


def test_session_writes_need_the_csrf_header(app, cast):
    browser = app.test_client()
    browser.sign_in(cast.chair)
    path = f"/api/v1/groups/{cast.group.id}/recommendations"
    refused = browser.api("POST", path, {"title": "No token"}, csrf=False)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    assert browser.api("GET", "/api/v1/recommendations").get_json() == []
    assert browser.api("POST", path, {"title": "With token"}).status_code == 201


# --- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    ({"title": 7, "starts_on": "2009-06-24", "ends_on": "2009-06-25"}, "title"),
    ({"title": "T", "starts_on": "24 June", "ends_on": "2009-06-25"}, "starts_on"),
    ({"title": "T", "starts_on": "2009-06-24"}, "ends_on"),
    ({"title": "T", "starts_on": "2009-06-24", "ends_on": "2009-06-25", "admin": True}, "admin"),
    ({"title": "T", "starts_on": "2009-06-26", "ends_on": "2009-06-25"}, "ends_on"),
    ({"title": "   ", "starts_on": "2009-06-24", "ends_on": "2009-06-25"}, "title"),
    ({"title": "x" * 301, "starts_on": "2009-06-24", "ends_on": "2009-06-25"}, "title"),
    ({"title": "T\x00", "starts_on": "2009-06-24", "ends_on": "2009-06-25"}, "title"),
])
def test_bad_fields_are_named(client, tokens, body, field):
    response = client.api("POST", "/api/v1/conferences", body, token=tokens["secretariat"])
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert client.api("GET", "/api/v1/conferences", token=tokens["secretariat"]).get_json()[0][
        "title"] != "T"


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"a string"', b"null",
                                 b'{"title": ', "{\"title\": \"\udcff\"}".encode("utf-8", "surrogatepass")])
def test_body_that_is_not_a_json_object_is_400(client, tokens, raw):
    response = client.api("POST", "/api/v1/conferences", headers={"Content-Type": "application/json"},
                          data=raw, token=tokens["secretariat"])
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/v1/conferences/999999", "/api/v1/groups/999999",
                                  "/api/v1/recommendations/999999", "/api/v1/nothing-here"])
def test_unknown_ids_and_paths_are_404(client, tokens, path):
    response = client.api("GET", path, token=tokens["secretariat"])
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_405_with_the_error_shape(client, tokens):
    response = client.api("PUT", "/api/v1/conferences", {}, token=tokens["secretariat"])
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_query_parameter_of_wrong_type_is_400(client, tokens):
    response = client.api("GET", "/api/v1/recommendations?group=abc", token=tokens["chair"])
    assert response.status_code == 400
    assert "group" in response.get_json()["error"]["fields"]


def test_objects_of_another_conference_are_invisible(client, factories, cast, tokens):
    elsewhere = factories.group()
    draft = factories.recommendation(elsewhere, clauses=[(ClauseKind.OPERATIVE, "Secret;")])
    for path in (f"/api/v1/groups/{elsewhere.id}", f"/api/v1/recommendations/{draft.id}",
                 f"/api/v1/conferences/{elsewhere.conference_id}",
                 f"/api/v1/recommendations?group={elsewhere.id}"):
        assert client.api("GET", path, token=tokens["chair"]).status_code == 404, path
    response = client.api("POST", f"/api/v1/groups/{elsewhere.id}/recommendations",
                          {"title": "Sneaky"}, token=tokens["chair"])
    assert response.status_code == 404
    response = client.api("POST", f"/api/v1/groups/{cast.group.id}/members",
                          {"participant_id": 10**9, "role": "member"}, token=tokens["chair"])
    assert response.status_code == 404


@pytest.mark.parametrize("body", [
    {}, {"participant_id": "1", "role": "member"}, {"participant_id": 1, "role": "king"},
    {"participant_id": None, "role": "member"}, {"participant_id": 1.5, "role": "member"},
    {"participant_id": True, "role": "member"}, {"participant_id": [1], "role": "member"},
])
def test_membership_input_is_validated(client, cast, tokens, body):
    response = client.api("POST", f"/api/v1/groups/{cast.group.id}/members", body,
                          token=tokens["secretariat"])
    assert response.status_code == 400


def test_fuzzed_bodies_never_cause_a_server_error(app, client, factories, cast, tokens):
    draft = factories.recommendation(cast.group)
    clause = factories.clause(draft, text="Text;")
    thread = factories.thread(clause, cast.secretariat)
    document = client.get("/api/v1/openapi.json").get_json()
    values = [None, 0, -1, 2**63, "", "x" * 5000, [], {}, True, 1.5, "2009-13-45", "\u202e\x00"]
    ids = {"conference_id": cast.conference.id, "group_id": cast.group.id,
           "recommendation_id": draft.id, "clause_id": clause.id, "membership_id": 1,
           "participant_id": cast.member.id, "thread_id": thread.id, "comment_id": thread.id,
           "amendment_id": factories.amendment(clause, cast.member).id, "notification_id": 1,
           "job_id": 1,
           "delegation_id": factories.delegation(cast.conference, members=(cast.member,)).id}
    # An open vote on a clause of its own, so the vote paths reach a real vote.
    voted = factories.clause(draft, text="Voted text;", position=2)
    ids["vote_id"] = client.api("POST", f"/api/v1/recommendations/{draft.id}/votes",
                                {"subject": "clause", "clause_id": voted.id},
                                token=tokens["chair"]).get_json()["id"]
    tried = 0
    for template, operations in document["paths"].items():
        path = template.format(**ids)
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            fields = document["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
            for name in fields:
                for value in values:
                    response = client.api(method.upper(), path, {name: value},
                                          token=tokens["secretariat"])
                    assert response.status_code < 500, (method, path, name, value)
                    tried += 1
    assert tried > 100


# --- behaviour -----------------------------------------------------------------------------

def test_conference_create_and_partial_update(client, tokens):
    created = client.api("POST", "/api/v1/conferences", {
        "title": "Efficient migration management", "starts_on": "2009-06-24",
        "ends_on": "2009-06-25", "organisers": ["OSCE Centre in Astana", "IOM", "ILO"],
        "description": "Some **100** participants",
    }, token=tokens["secretariat"])
    assert created.status_code == 201
    conference = created.get_json()
    assert conference["organisers"] == ["OSCE Centre in Astana", "IOM", "ILO"]
    assert "<strong>100</strong>" in conference["description_html"]
    patched = client.api("PATCH", f"/api/v1/conferences/{conference['id']}", {"venue": "Astana"},
                         token=tokens["secretariat"]).get_json()
    assert patched["venue"] == "Astana"
    assert patched["title"] == "Efficient migration management"
    assert patched["organisers"] == conference["organisers"]


def test_recommendations_list_shows_drafts_of_my_groups_and_adopted_texts(client, factories,
                                                                          cast, tokens):
    draft = factories.recommendation(cast.group, title="Our draft")
    other_draft = factories.recommendation(cast.other_group, title="Their draft")
    adopted = factories.recommendation(cast.other_group, title="Their adopted text",
                                       status=RecommendationStatus.ADOPTED)
    titles = {r["title"] for r in client.api("GET", "/api/v1/recommendations",
                                             token=tokens["member"]).get_json()}
    assert titles == {"Our draft", "Their adopted text"}
    filtered = client.api("GET", f"/api/v1/recommendations?group={cast.other_group.id}",
                          token=tokens["member"]).get_json()
    assert [r["id"] for r in filtered] == [adopted.id]
    everything = client.api("GET", "/api/v1/recommendations", token=tokens["secretariat"]).get_json()
    assert {r["id"] for r in everything} == {draft.id, other_draft.id, adopted.id}
    assert client.api("GET", "/api/v1/recommendations", token=tokens["outsider"]).get_json() == []


def test_recommendation_with_clauses_in_reading_order(client, factories, cast, tokens):
    draft = factories.recommendation(cast.group)
    base = f"/api/v1/recommendations/{draft.id}/clauses"
    op1 = client.api("POST", base, {"kind": "operative", "text": "Calls on States;"},
                     token=tokens["member"]).get_json()
    pp1 = client.api("POST", base, {"kind": "preambular", "text": "*Recognising*,"},
                     token=tokens["chair"]).get_json()
    op0 = client.api("POST", base, {"kind": "operative", "text": "Welcomes;"},
                     token=tokens["member"]).get_json()
    between = client.api("POST", base, {"kind": "operative", "text": "Invites;",
                                        "after_id": op1["id"]}, token=tokens["member"]).get_json()
    assert between["number"] == "2."
    body = client.api("GET", f"/api/v1/recommendations/{draft.id}", token=tokens["observer"]).get_json()
    assert [(c["id"], c["number"]) for c in body["clauses"]] == [
        (pp1["id"], "PP1"), (op1["id"], "1."), (between["id"], "2."), (op0["id"], "3.")]
    assert body["clauses"][0]["text_html"] == "<p><em>Recognising</em>,</p>"
    # Deleting renumbers the rest; ids stay, and a deleted id is never handed out again.
    assert client.api("DELETE", f"/api/v1/clauses/{op1['id']}", token=tokens["member"]).status_code == 204
    body = client.api("GET", f"/api/v1/recommendations/{draft.id}", token=tokens["member"]).get_json()
    assert [(c["id"], c["number"]) for c in body["clauses"]] == [
        (pp1["id"], "PP1"), (between["id"], "1."), (op0["id"], "2.")]
    new = client.api("POST", base, {"kind": "operative", "text": "Decides;"},
                     token=tokens["member"]).get_json()
    assert new["id"] not in {op1["id"], pp1["id"], between["id"], op0["id"]}
    assert client.api("PATCH", f"/api/v1/clauses/{op1['id']}", {"text": "back"},
                      token=tokens["member"]).status_code == 404


def test_clause_after_a_clause_of_another_kind_is_refused(client, factories, cast, tokens):
    draft = factories.recommendation(cast.group, clauses=[(ClauseKind.PREAMBULAR, "*Noting*,")])
    body = client.api("GET", f"/api/v1/recommendations/{draft.id}", token=tokens["member"]).get_json()
    response = client.api("POST", f"/api/v1/recommendations/{draft.id}/clauses",
                          {"kind": "operative", "text": "x", "after_id": body["clauses"][0]["id"]},
                          token=tokens["member"])
    assert response.status_code == 400
    assert "after_id" in response.get_json()["error"]["fields"]


def test_withdrawn_recommendation_is_read_only(client, factories, cast, tokens):
    draft = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Text;")])
    assert client.api("POST", f"/api/v1/recommendations/{draft.id}/withdraw",
                      token=tokens["chair"]).get_json()["status"] == "withdrawn"
    for method, path, body in [
        ("PATCH", f"/api/v1/recommendations/{draft.id}", {"title": "New"}),
        ("POST", f"/api/v1/recommendations/{draft.id}/clauses", {"kind": "operative", "text": "x"}),
        ("POST", f"/api/v1/recommendations/{draft.id}/withdraw", None),
    ]:
        response = client.api(method, path, body, token=tokens["chair"])
        assert response.status_code == 403, (method, path)
        assert "no longer a draft" in response.get_json()["error"]["message"]


def test_chair_manages_members_but_not_chairs(client, factories, cast, tokens):
    newcomer = factories.participant()
    path = f"/api/v1/groups/{cast.group.id}/members"
    refused = client.api("POST", path, {"participant_id": newcomer.id, "role": "chair"},
                         token=tokens["chair"])
    assert refused.status_code == 403
    added = client.api("POST", path, {"participant_id": newcomer.id, "role": "member"},
                       token=tokens["chair"]).get_json()
    assert added["role"] == "member"
    again = client.api("POST", path, {"participant_id": newcomer.id, "role": "observer"},
                       token=tokens["chair"])
    assert again.status_code == 409
    group = client.api("GET", f"/api/v1/groups/{cast.group.id}", token=tokens["chair"]).get_json()
    chair_membership = next(m for m in group["members"] if m["role"] == "chair")
    assert client.api("DELETE", f"/api/v1/memberships/{chair_membership['membership_id']}",
                      token=tokens["chair"]).status_code == 403
    assert client.api("PATCH", f"/api/v1/memberships/{added['membership_id']}",
                      {"role": "chair"}, token=tokens["chair"]).status_code == 403
    assert client.api("PATCH", f"/api/v1/memberships/{added['membership_id']}",
                      {"role": "chair"}, token=tokens["secretariat"]).status_code == 200
    assert group["my_role"] == GroupRole.CHAIR.value


def test_secretariat_invites_through_the_api(app, client, tokens):
    response = client.api("POST", "/api/v1/participants", {
        "email": "New.Person@Example.org", "name": "New Person", "category": "parliamentarian",
    }, token=tokens["secretariat"])
    assert response.status_code == 201
    body = response.get_json()
    assert body["participant"]["email"] == "new.person@example.org"
    assert body["participant"]["has_password"] is False
    link = body["invitation_url"]
    path = link[link.index("/invitations/"):]
    assert app.test_client().get(path).status_code == 200
    duplicate = client.api("POST", "/api/v1/participants", {
        "email": "new.person@example.org", "name": "Again", "category": "parliamentarian",
    }, token=tokens["secretariat"])
    assert duplicate.status_code == 409


def test_deactivating_through_the_api_revokes_tokens(client, cast, tokens):
    response = client.api("PATCH", f"/api/v1/participants/{cast.member.id}", {"is_active": False},
                          token=tokens["secretariat"])
    assert response.get_json()["is_active"] is False
    assert client.api("GET", "/api/v1/me", token=tokens["member"]).status_code == 401
    assert client.api("PATCH", f"/api/v1/participants/{cast.secretariat.id}",
                      {"is_active": False}, token=tokens["secretariat"]).status_code == 400


def test_api_error_messages_follow_the_language(client, cast, tokens):
    response = client.api("GET", "/api/v1/participants", token=tokens["member"],
                          headers={"Accept-Language": "en"})
    assert response.get_json()["error"]["message"] == "Only the secretariat manages participants."
    assert json.dumps(response.get_json())
