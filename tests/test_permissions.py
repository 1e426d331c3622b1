"""Every route and API endpoint, tried as every kind of participant.

The matrix is checked against the application's URL map: an endpoint added without a row
here fails ``test_every_endpoint_is_in_the_matrix``, so no route ships without a rule.
"""
from __future__ import annotations

import re
from typing import Any

import pytest

from models import (
    ApiToken,
    GroupRole,
    db,
)
from tests.conftest import HARDENING_LONG
from tests.helpers.discussion import CASES as DISCUSSION_API_CASES
from tests.helpers.discussion import build_world
from tests.helpers.permissions import (
    CASES,
    PUBLIC,
    ROLES,
    Case,
    api,
    build_cast,
    flask_rule,
    html,
)


def test_every_endpoint_is_in_the_matrix(app):
    covered = {(case.method, flask_rule(case.path)) for case in CASES}
    covered |= {(case.method, flask_rule("/api/v1" + case.path)) for case in DISCUSSION_API_CASES}
    public = {(method, re.sub(r"<[^>]+>", "<>", rule)) for method, rule in PUBLIC}
    missing = []
    for rule in app.url_map.iter_rules():
        shape = re.sub(r"<[^>]+>", "<>", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (method, shape) not in covered | public:
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"endpoints without a permission rule: {missing}"


def resolve(case: Case, ids: dict[str, int]) -> tuple[str, dict[str, Any] | None]:
    body = case.body(ids) if callable(case.body) else case.body
    return case.path.format(**ids), body


def request_as(app, factories, case: Case, role: str | None) -> Any:
    cast, ids = build_cast(factories)
    client = app.test_client()
    actor = getattr(cast, role) if role else None
    token = None
    if actor is not None:
        if case.api:
            token = factories.api_token(actor)
        else:
            client.sign_in(actor)
        ids["own_token"] = _token_id(app, actor, factories)
    else:
        ids["own_token"] = 1
    path, body = resolve(case, ids)
    if case.api:
        if token is None:
            return client.open(path, method=case.method, json=body)
        return client.api(case.method, path, body, token=token)
    if case.method == "GET":
        return client.get(path)
    return client.submit(path, body or {})


def _token_id(app, actor, factories) -> int:
    factories.api_token(actor, "matrix")
    with app.app_context():
        return db.session.scalar(
            db.select(db.func.max(ApiToken.id)).where(ApiToken.participant_id == actor.id)
        )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_role_matrix(app, factories, case, role):
    response = request_as(app, factories, case, role)
    if role in case.ok:
        expected = case.ok_status
    elif role in case.hidden:
        expected = 404
    else:
        expected = 403
    assert response.status_code == expected, response.get_data(as_text=True)[:1500]
    if case.api and expected >= 400 and role not in case.ok:
        assert response.get_json()["error"]["code"] in {"forbidden", "not_found"}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_anonymous(app, factories, case):
    response = request_as(app, factories, case, None)
    if case.api:
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthenticated"
    elif case.method == "GET":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    else:
        # A form post without a session: sent to sign in, nothing changed.
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


# --- the OpenAPI document: every documented operation has a rule ----------------------------

def test_every_documented_api_operation_is_in_the_matrix(app):
    """A path and method in ``/api/v1/openapi.json`` without a case here (or in the discussion
    API's matrix) fails: the document is the contract, and the contract has rules."""
    from tests.openapi import _document
    covered = {(case.method, flask_rule(case.path)) for case in CASES if case.api}
    covered |= {(case.method, flask_rule("/api/v1" + case.path)) for case in DISCUSSION_API_CASES}
    public = {(method, re.sub(r"<[^>]+>", "<>", rule)) for method, rule in PUBLIC}
    documented = {(method.upper(), flask_rule(path))
                  for path, operations in _document(app)["paths"].items()
                  for method in operations if method in {"get", "post", "put", "patch", "delete"}}
    assert documented, "the OpenAPI document lists no operation"
    missing = sorted(documented - covered - public)
    assert not missing, f"documented API operations without a permission rule: {missing}"


# --- another conference's people, with this conference's ids (IDOR) ------------------------
# The rule: to a participant of another conference, every object of this one (conference,
# group, membership, recommendation, clause, thread, comment, amendment, vote, export) is
# answered as to a participant of no conference at all: 404 where the object is hidden
# (``hidden`` holds "outsider"), 403 where there is no object to hide (secretariat-only pages).
# Cases open to everyone touch only the caller's own account and carry no id of this
# conference: they are not tried. The secretariat is a global role (ARCHITECTURE.md: it sets
# up every conference), so "the secretariat of another conference" is the secretariat:
# test_the_secretariat_is_one_for_every_conference states it.

FOREIGN_ROLES = ("foreign_chair", "foreign_member")


def foreign_cast(factories) -> dict[str, Any]:
    """Another conference with a group of its own, its chair and a member."""
    group = factories.group(factories.conference(title="Another conference"))
    return {"foreign_chair": factories.member_of(group, GroupRole.CHAIR, name="Foreign Chair"),
            "foreign_member": factories.member_of(group, GroupRole.MEMBER, name="Foreign Member")}


def idor_expected(case: Any) -> int | None:
    """What the outsider gets, for cases of this module and the discussion API's alike."""
    if hasattr(case, "status_for"):
        expected = case.status_for("outsider")
        return None if expected < 400 else expected
    if "outsider" in case.ok:
        return None
    return 404 if "outsider" in case.hidden else 403


def fingerprint(app) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the callers' own sign-in records."""
    skip = {"login_session", "api_token"}
    with app.app_context():
        return {table.name: [tuple(row) for row in db.session.execute(
                    table.select().order_by(*table.primary_key.columns))]
                for table in db.metadata.sorted_tables if table.name not in skip}


def try_as_foreigner(app, case: Any, path: str, body: Any, client: Any, token: str) -> Any:
    if getattr(case, "api", True):
        return client.api(case.method, path, body, token=token)
    if case.method == "GET":
        return client.get(path)
    return client.submit(path, body or {})


def _foreign_requests(app, factories) -> tuple[list[str], int]:
    """Every case as each foreign role, on one cast (refusals change nothing, which is
    checked): a few seconds instead of a cast per case."""

    _cast, ids = build_cast(factories)
    ids["own_token"] = 0
    world_ids = build_world(app, factories).ids()
    foreigners = foreign_cast(factories)
    before = fingerprint(app)
    wrong, count = [], 0
    for role, person in foreigners.items():
        browser = app.test_client()
        browser.sign_in(person)
        token = factories.api_token(person)
        tried = [(case, *resolve(case, ids)) for case in CASES]
        tried += [(case, "/api/v1" + case.path.format(**world_ids), case.body)
                  for case in DISCUSSION_API_CASES]
        for case, path, body in tried:
            expected = idor_expected(case)
            if expected is None:
                continue
            response = try_as_foreigner(app, case, path, body, browser, token)
            count += 1
            if response.status_code != expected:
                wrong.append(f"{role} {case.method} {path}: {response.status_code}, not {expected}")
            elif getattr(case, "api", True) and \
                    response.get_json()["error"]["code"] != {403: "forbidden", 404: "not_found"}[expected]:
                wrong.append(f"{role} {case.method} {path}: {response.get_json()}")
    assert fingerprint(app) == before, "a refused request from another conference changed data"
    return wrong, count


def test_another_conferences_people_cannot_reach_this_one(app, factories):
    wrong, tried = _foreign_requests(app, factories)
    assert not wrong, "\n".join(wrong)
    assert tried > 2 * 100, tried


LONG = HARDENING_LONG


#: Cases tried one by one on a cast of their own: every one in the long form
#: (PLENARY_HARDENING=long), every tenth in the normal run (all are tried above on one cast).
IDOR_CASES = [case for case in CASES if idor_expected(case) is not None][::1 if LONG else 10]


@pytest.mark.parametrize("role", FOREIGN_ROLES)
@pytest.mark.parametrize("case", IDOR_CASES, ids=str)
def test_idor_case_by_case(app, factories, case, role):
    """Each case on a cast of its own, as in test_role_matrix."""
    expected = idor_expected(case)
    _cast, ids = build_cast(factories)
    ids["own_token"] = 0
    person = foreign_cast(factories)[role]
    client = app.test_client()
    if not case.api:
        client.sign_in(person)
    path, body = resolve(case, ids)
    before = fingerprint(app)
    response = try_as_foreigner(app, case, path, body, client, factories.api_token(person))
    assert response.status_code == expected, response.get_data(as_text=True)[:1500]
    assert fingerprint(app) == before


def test_the_secretariat_is_one_for_every_conference(app, factories):
    """Whoever set up another conference is the secretariat here too (a global role)."""
    _cast, ids = build_cast(factories)
    elsewhere = factories.secretariat(name="Set Up Elsewhere")
    token = factories.api_token(elsewhere)
    client = app.test_client()
    assert client.api("GET", f"/api/v1/groups/{ids['group']}", token=token).status_code == 200
    assert client.api("GET", f"/api/v1/recommendations/{ids['recommendation']}",
                      token=token).status_code == 200


# --- ids of one conference inside a request about another ----------------------------------
# The chair of another conference, acting on their own draft (where they may), names this
# conference's clause, vote option or text version in the body or query: refused, nothing
# changed. (The path's object is theirs; the id inside is the intrusion.)

MIXED = [
    api("POST", "/recommendations/{recommendation}/votes", {"chair"}, 201,
        body=lambda ids: {"subject": "clause", "clause_id": ids["foreign:votable_clause"]}),
    api("POST", "/votes/{open_vote}/ballot", {"chair"}, 200,
        body=lambda ids: {"option_id": ids["foreign:open_vote_yes"]}),
    api("POST", "/recommendations/{recommendation}/statements", {"chair"}, 201,
        body=lambda ids: {"kind": "reservation", "text": "Not ours.",
                          "clause_id": ids["foreign:adopted_clause"]}),
    api("POST", "/clauses/{clause}/move", {"chair"}, 200,
        body=lambda ids: {"after_id": ids["foreign:clause"]}),
    api("POST", "/clauses/{clause}/restore-wording", {"chair"}, 200,
        body=lambda ids: {"at": ids["foreign:first_update"]}),
    api("GET", "/clauses/{clause}/text?at={foreign:first_update}", {"chair"}, 200),
    api("GET", "/clauses/{clause}/diff?from={foreign:first_update}", {"chair"}, 200),
    html("POST", "/clauses/{clause}/history/restore?at={foreign:first_update}", {"chair"}, 302),
]


@pytest.mark.parametrize("case", MIXED, ids=str)
def test_ids_of_another_conference_inside_a_request_are_refused(app, factories, case):
    _first_cast, first = build_cast(factories)
    second_cast, second = build_cast(factories)  # the chair's own conference
    ids = {**second, **{f"foreign:{name}": value for name, value in first.items()}}
    path = case.path.replace("{foreign:", "{foreign__").format(
        **{name.replace(":", "__"): value for name, value in ids.items()})
    body = case.body(ids) if callable(case.body) else case.body
    client = app.test_client()
    before = fingerprint(app)
    if case.api:
        response = client.api(case.method, path, body, token=factories.api_token(second_cast.chair))
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:1500]
        assert response.get_json()["error"]["code"] in {"invalid", "not_found", "bad_request"}
    else:
        client.sign_in(second_cast.chair)
        response = client.submit(path, body or {})
        assert 400 <= response.status_code < 500, (response.status_code,
                                                   response.get_data(as_text=True)[:1500])
    assert fingerprint(app) == before
