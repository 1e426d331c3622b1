"""Web attacks on the whole product (issue 8, suite 4): security headers on every response,
CSRF on every state-changing route, cross-site WebSocket hijacking, and the XSS corpus on
the surfaces the other browser tests do not open.

Every walk is generated from ``app.url_map``: a route added tomorrow is requested here with
no change to this file (its path parameters are filled from a real cast, see ``PARAMETERS``;
a parameter nobody knows fails ``test_every_route_parameter_can_be_filled``).

Already proven elsewhere, and not repeated here:

- session fixation (the session id changes at sign-in, a planted cookie gains nothing):
  tests/test_auth.py::test_session_is_rotated_at_sign_in and
  ::test_cookie_from_before_sign_in_does_not_become_signed_in;
- Bearer-token calls need no CSRF token: tests/test_api.py::test_bearer_token_authenticates_without_csrf;
- the CSP refusing inline script in Chromium: tests/test_browser.py::test_csp_refuses_inline_scripts;
- the corpus, CSP off, on conference/group/recommendation titles, mandates, clauses, names and
  the member tables: tests/test_browser.py::test_user_text_never_runs_in_the_browser; in the
  editor's discussion panel (comments, replies, amendments): tests/test_discussion_browser.py;
- the corpus parsed (not executed) on the vote and discussion pages: tests/test_votes_pages.py,
  tests/test_discussion_pages.py, tests/test_pages.py.

PLENARY_HARDENING=long also walks every route as the observer and the other group's chair and
tries every CSRF variant on every route as every role.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from drafting.amendments.schemas import AmendmentCreate, AmendmentRejection
from drafting.recommendations.schemas import ClausePatch
from drafting.votes.objections import object_to
from drafting.votes.schemas import BallotIn, ObjectionIn, StatementIn, VoteOpen
from models import AdoptionMethod, ApiToken, Conference, OutcomeDocument, PlenaryAdoption, db, utcnow
from models.exports import ExportFormat
from tests.conftest import HARDENING_LONG
from tests.helpers.pages import client_as, content_security_policy, issue_invitation
from tests.helpers.permissions import CASES, build_cast, flask_rule

LONG = HARDENING_LONG
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SIGNED_IN = ("secretariat", "chair", "member") + (("observer", "other_chair") if LONG else ())

#: Route parameter -> the id in ``build_cast``'s ids (plus the few added by ``world``) that
#: fills it. A route with a parameter not named here fails the suite, not silently skips.
PARAMETERS = {
    "conference_id": "conference", "group_id": "group", "participant_id": "newcomer",
    "recommendation_id": "recommendation", "clause_id": "clause", "thread_id": "thread",
    "comment_id": "comment", "amendment_id": "amendment", "membership_id": "member_membership",
    "notification_id": "notification", "vote_id": "open_vote", "job_id": "export_job",
    "token_id": "own_token", "token": "invitation", "fmt": "final_format",
    "filename": "static_file", "delegation_id": "delegation",
}

#: Paths for routes whose generic filling is not a page anyone can see (``{…}`` from ids).
OVERRIDES = {
    # A final document exists only for a finalised conference: the world has one of its own.
    ("GET", "export.final_download"): "/conferences/{final_conference}/export/final/md",
    # So does the plenary's adoption of its document.
    ("GET", "api.api_plenary_adoption"): "/api/v1/conferences/{final_conference}/plenary-adoption",
}


def path_template(method: str, rule: Any) -> str:
    """The path to request for a rule: an override, the permission matrix's path for it (its
    ids and query strings are the ones that make a page answer), or the rule with each
    parameter replaced by ``{id name}``."""
    if (method, rule.endpoint) in OVERRIDES:
        return OVERRIDES[method, rule.endpoint]
    shape = re.sub(r"<[^>]+>", "<>", rule.rule)
    for case in CASES:
        if case.method == method and flask_rule(case.path) == shape:
            return case.path
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: "{" + PARAMETERS[m.group(1)] + "}",
                  rule.rule)


def routes(app: Flask, methods: set[str]) -> list[tuple[str, Any]]:
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted((rule.methods or set()) & methods):
            found.append((method, rule))
    return found


def body_for(method: str, rule: Any, ids: dict[str, Any]) -> dict[str, Any]:
    """The permission matrix's body for the route (what would change something), else {}."""
    shape = re.sub(r"<[^>]+>", "<>", rule.rule)
    for case in CASES:
        if case.method == method and flask_rule(case.path) == shape:
            body = case.body(ids) if callable(case.body) else case.body
            return dict(body or {})
    return {}


def test_every_route_parameter_can_be_filled(app):
    unknown = {name for _method, rule in routes(app, {"GET", *UNSAFE})
               for name in rule.arguments if name not in PARAMETERS}
    assert not unknown, f"add these route parameters to PARAMETERS: {sorted(unknown)}"


@pytest.fixture
def world(app, factories) -> tuple[Any, dict[str, Any]]:
    """The permission matrix's cast, an invitation, a static file and a finalised conference."""
    cast, ids = build_cast(factories)
    final = factories.conference(title="A finished conference")
    with app.app_context():
        db.session.add(OutcomeDocument(conference_id=final.id, format=ExportFormat.MD,
                                       data=b"# Outcome", sha256=hashlib.sha256(b"# Outcome").hexdigest(),
                                       size=9))
        db.session.add(PlenaryAdoption(conference_id=final.id, adopted_on=final.ends_on,
                                       place="Astana", method=AdoptionMethod.CONSENSUS,
                                       text_sha256=hashlib.sha256(b"").hexdigest()))
        db.session.get(Conference, final.id).finalised_at = utcnow()
        db.session.commit()
    invitee = factories.participant(password=False, name="Invited Person")
    factories.api_token(cast.secretariat, "to revoke")
    with app.app_context():
        own_token = db.session.scalar(select(ApiToken.id).where(
            ApiToken.participant_id == cast.secretariat.id))
    ids.update(final_conference=final.id, invitation=issue_invitation(app, invitee.id),
               static_file="favicon.svg", own_token=own_token)
    return cast, ids


# --- 1. security headers on every response -------------------------------------------------------

#: Policies that never send a path (an invitation link carries its token) to another site.
PRIVATE_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin",
                             "strict-origin-when-cross-origin"}


def header_problems(response: Any) -> list[str]:
    headers = response.headers
    problems = []
    policy = content_security_policy(headers.get("Content-Security-Policy", ""))
    scripts = policy.get("script-src", policy.get("default-src"))
    if not scripts:
        problems.append("no script-src nor default-src in the CSP")
    else:
        problems += [f"script-src allows {bad}" for bad in ("'unsafe-inline'", "'unsafe-eval'", "*",
                                                            "data:", "http:", "https:")
                     if bad in scripts]
    if policy.get("frame-ancestors") not in (["'none'"], ["'self'"]):
        problems.append(f"frame-ancestors {policy.get('frame-ancestors')}")
    objects = policy.get("object-src", policy.get("default-src"))
    if objects != ["'none'"]:
        problems.append(f"object-src {objects}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"X-Content-Type-Options: {headers.get('X-Content-Type-Options')}")
    if headers.get("Referrer-Policy") not in PRIVATE_REFERRER_POLICIES:
        problems.append(f"Referrer-Policy: {headers.get('Referrer-Policy')}")
    if response.status_code != 204 and not headers.get("Content-Type"):
        problems.append("no Content-Type (nosniff needs one)")
    content_type = headers.get("Content-Type", "")
    if content_type.startswith("text/html") and "charset=" not in content_type.lower():
        problems.append(f"Content-Type without charset: {content_type}")
    return problems


def test_the_header_check_finds_what_it_looks_for():
    from flask import Response

    response = Response("<p>x</p>", mimetype="text/html", headers={
        "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-eval'",
        "Referrer-Policy": "unsafe-url"})
    response.headers["Content-Type"] = "text/html"
    assert header_problems(response) == [
        "script-src allows 'unsafe-eval'", "frame-ancestors None", "object-src [\"'self'\"]",
        "X-Content-Type-Options: None", "Referrer-Policy: unsafe-url",
        "Content-Type without charset: text/html"]


def download_problems(endpoint: str, response: Any) -> list[str]:
    """Files are attachments with a plain name; previews are inline and sandboxed."""
    if response.status_code != 200:
        return []
    disposition = response.headers.get("Content-Disposition", "")
    if "download" in endpoint:
        if not re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+"', disposition):
            return [f"Content-Disposition: {disposition!r}"]
    elif "preview" in endpoint:
        policy = content_security_policy(response.headers.get("Content-Security-Policy", ""))
        problems = [] if disposition == "inline" else [f"Content-Disposition: {disposition!r}"]
        if "sandbox" not in policy:
            problems.append("a preview of user text without the CSP sandbox")
        return problems
    return []


def test_security_headers_on_every_get_route_for_everyone(app, world):
    cast, ids = world
    clients = {role: client_as(app, cast, role) for role in (None, *SIGNED_IN)}
    problems, reached, requested = [], set(), 0
    for method, rule in routes(app, {"GET"}):
        path = path_template(method, rule).format(**ids)
        for role, client in clients.items():
            response = client.get(path)
            requested += 1
            assert response.status_code < 500, (path, role, response.get_data(as_text=True)[:500])
            if response.status_code < 300:
                reached.add(rule.endpoint)
            problems += [f"GET {path} as {role or 'anonymous'} ({response.status_code}): {problem}"
                         for problem in header_problems(response)
                         + download_problems(rule.endpoint, response)]
    assert not problems, "\n".join(problems)
    # The walk saw the pages themselves, not only refusals.
    unreached = {rule.endpoint for _m, rule in routes(app, {"GET"})} - reached
    assert not unreached, f"no role got a 2xx from {sorted(unreached)}: fix their ids"
    assert requested >= 4 * 60


@pytest.fixture
def error_app(app_variant):
    """The app with the sign-in limit on and a route that fails, for the 429 and 500 pages."""
    variant = app_variant(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                          LOGIN_RATE_LIMIT="2 per minute", LOGIN_ACCOUNT_RATE_LIMIT="2 per minute")

    def fail() -> str:
        raise RuntimeError("an unexpected failure (tests/test_web_attacks.py)")

    variant.add_url_rule("/_test/fail", "test_fail", fail)
    variant.add_url_rule("/api/v1/_test/fail", "test_api_fail", fail)
    return variant


def test_security_headers_on_every_error_answer(app, world, error_app, factories):
    cast, ids = world
    member = client_as(app, cast, "member")
    token = factories.api_token(cast.member)
    answers = {
        "404 page": member.get("/no/such/page"),
        "403 page": member.get("/admin/participants/"),
        "405 page": member.get("/logout"),
        "400 CSRF page": member.post("/profile", data={"name": "x"}),
        "400 CSRF JSON": member.open(f"/api/v1/groups/{ids['group']}", method="PATCH",
                                     json={"mandate": "x"}),
        "404 JSON": member.get("/api/v1/nothing-here"),
        "403 JSON": member.get("/api/v1/participants"),
        "401 JSON": app.test_client().get("/api/v1/me"),
        "401 JSON, bad token": app.test_client().get(
            "/api/v1/me", headers={"Authorization": "Bearer plen_nothing"}),
        "400 JSON, bad body": app.test_client().post(
            "/api/v1/conferences", data="{", content_type="application/json",
            headers={"Authorization": f"Bearer {token}"}),
        "413 JSON": app.test_client().post(
            "/api/v1/conferences", data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
            content_type="application/json", headers={"Authorization": f"Bearer {token}"}),
        "405 JSON": app.test_client().put("/api/v1/conferences"),
        # Engine.IO answers these itself, before Flask (drafting.SocketIOHeaders).
        "200 Engine.IO handshake": member.get("/socket.io/?EIO=4&transport=polling"),
        "400 Engine.IO, foreign origin": member.get("/socket.io/?EIO=4&transport=polling",
                                                    headers={"Origin": "https://evil.example"}),
        "400 Engine.IO, unknown session": member.get("/socket.io/?EIO=4&transport=polling&sid=x"),
    }
    person = factories.participant()
    limited = error_app.test_client()
    for _attempt in range(3):
        answers["429 page"] = limited.submit("/login", {"email": person.email, "password": "wrong"})
    answers["500 page"] = error_app.test_client().get("/_test/fail")
    answers["500 JSON"] = error_app.test_client().get("/api/v1/_test/fail")
    # Another site's script reading the API with the delegate's cookie: no CORS grant.
    answers["200 JSON read from another origin"] = member.get(
        "/api/v1/me", headers={"Origin": "https://evil.example"})
    problems = [f"{what}: Access-Control-Allow-Origin {response.headers['Access-Control-Allow-Origin']}"
                for what, response in answers.items()
                if "Access-Control-Allow-Origin" in response.headers]
    for what, response in answers.items():
        expected = int(what.split()[0])
        assert response.status_code == expected, (what, response.get_data(as_text=True)[:500])
        problems += [f"{what}: {problem}" for problem in header_problems(response)]
        if "JSON" in what and expected >= 400:
            assert response.get_json()["error"]["code"], what
    assert not problems, "\n".join(problems)


# --- 2. CSRF on every state-changing route ---------------------------------------------------------


def database_digest(app: Flask) -> dict[str, Any]:
    """Row count and checksum of every table, and this process's export jobs: what any
    state-changing request could have changed."""
    from drafting.export import jobs

    digest: dict[str, Any] = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest[table.name] = (len(rows), hashlib.sha256(
                repr([tuple(row) for row in rows]).encode()).hexdigest())
        db.session.rollback()
    with jobs.store(app).lock:
        digest["export jobs"] = sorted((job.id, job.status) for job in jobs.store(app).jobs.values())
    return digest


def role_for(method: str, rule: Any) -> str:
    """A role that may do it (so a refusal is the CSRF check's, not the permission's)."""
    shape = re.sub(r"<[^>]+>", "<>", rule.rule)
    for case in CASES:
        if case.method == method and flask_rule(case.path) == shape:
            return next(role for role in ("secretariat", "chair", "member") if role in case.ok)
    return "member"


def forged_tokens(app: Flask, victim: Any) -> dict[str, dict[str, str] | None]:
    """What a forger can send instead of the victim's token: nothing, garbage, and a real
    token of the forger's own session (valid signature, another session)."""
    forger = app.test_client()
    return {"no token": None, "garbage": {"token": "garbage"},
            "another session's token": {"token": forger.csrf_token()},
            "the token's raw value": {"token": _raw_token(victim)}}


def _raw_token(client: Any) -> str:
    client.csrf_token()
    with client.session_transaction() as session:
        return str(session["csrf_token"])


def refusal_problems(what: str, response: Any, api: bool) -> list[str]:
    if response.status_code != 400:
        return [f"{what}: {response.status_code} {response.get_data(as_text=True)[:300]!r}"]
    if api:
        code = (response.get_json(silent=True) or {}).get("error", {}).get("code")
        return [] if code == "csrf_failed" else [f"{what}: error code {code}"]
    page = response.get_data(as_text=True)
    return [] if "Reload the page and try again" in page else [f"{what}: not the friendly page"]


def forge(client: Any, method: str, path: str, body: dict[str, Any], api: bool,
          token: dict[str, str] | None, extra_headers: dict[str, str] | None = None) -> Any:
    headers = dict(extra_headers or {})
    if api:
        if token is not None:
            headers["X-CSRFToken"] = token["token"]
        return client.open(path, method=method, json=body, headers=headers)
    form = {**body, **({"csrf_token": token["token"]} if token is not None else {})}
    return client.open(path, method=method, data=form, headers=headers)


def test_no_state_changing_route_accepts_a_forged_request(app, world):
    """Every POST/PUT/PATCH/DELETE of the URL map, with a signed-in session cookie and a
    missing, wrong or foreign CSRF token, is refused (400 csrf_failed, the friendly page)
    and changes nothing in the database."""
    cast, ids = world
    clients = {role: client_as(app, cast, role) for role in SIGNED_IN}
    before = database_digest(app)
    problems, tried = [], 0
    for method, rule in routes(app, UNSAFE):
        api = rule.rule.startswith("/api/")
        roles = SIGNED_IN if LONG else (role_for(method, rule),)
        for role in roles:
            client = clients[role]
            path = path_template(method, rule).format(**ids)
            body = body_for(method, rule, ids)
            for what, token in forged_tokens(app, client).items():
                response = forge(client, method, path, body, api, token)
                tried += 1
                problems += refusal_problems(f"{method} {path} as {role}, {what}", response, api)
            # Once per route and role (a digest per request doubles the time on PostgreSQL).
            after = database_digest(app)
            if after != before:
                changed = [name for name in after if after[name] != before.get(name)]
                problems.append(f"{method} {path} as {role}: changed {changed}")
                before = after
    assert not problems, "\n".join(problems)
    assert tried >= 4 * 70


def test_forms_without_a_session_need_the_token_too(app, world):
    """Sign-in (login CSRF), the invitation form and the language switch, and every other
    form posted with no session at all."""
    _cast, ids = world
    before = database_digest(app)
    problems = []
    for method, rule in routes(app, UNSAFE):
        if rule.rule.startswith("/api/"):
            continue  # no cookie and no token: 401, tests/test_permissions.py::test_anonymous
        path = path_template(method, rule).format(**ids)
        browser = app.test_client()
        response = forge(browser, method, path, body_for(method, rule, ids), False, None)
        problems += refusal_problems(f"{method} {path} anonymous", response, False)
        with browser.session_transaction() as session:
            if "_user_id" in session or "locale" in session:
                problems.append(f"{method} {path} anonymous: the session changed {dict(session)}")
    assert database_digest(app) == before
    assert not problems, "\n".join(problems)


def test_a_bad_bearer_header_does_not_open_a_csrf_bypass(app, world):
    """A Bearer header exempts a call from CSRF because it decides alone who calls: with a
    bad one (or an empty one) beside the session cookie, the call is refused, not run as the
    cookie's owner."""
    cast, ids = world
    chair = client_as(app, cast, "chair")
    before = database_digest(app)
    path = f"/api/v1/groups/{ids['group']}/recommendations"
    for header in ("Bearer plen_forged", "Bearer ", "bearer x"):
        response = chair.open(path, method="POST", json={"title": "Forged"},
                              headers={"Authorization": header})
        assert response.status_code == 401, (header, response.get_json())
        assert response.get_json()["error"]["code"] == "unauthenticated"
    assert database_digest(app) == before
    # The control: the same call with the page's token goes through.
    assert chair.api("POST", path, {"title": "Real"}).status_code == 201
    assert database_digest(app) != before


def test_the_digest_sees_a_change(app, world):
    """The control for the tests above: one accepted form changes the digest."""
    cast, ids = world
    chair = client_as(app, cast, "chair")
    before = database_digest(app)
    response = chair.submit(f"/recommendations/{ids['recommendation']}/edit", {"title": "Renamed"})
    assert response.status_code == 302
    assert database_digest(app) != before


# --- 3. cross-site WebSocket hijacking -------------------------------------------------------------


def live_sign_in(base: str, email: str) -> requests.Session:
    from tests.conftest import CSRF_META
    from tests.factories import PASSWORD

    browser = requests.Session()
    token = CSRF_META.search(browser.get(f"{base}/login", timeout=10).text).group(1)
    response = browser.post(f"{base}/login", data={"email": email, "password": PASSWORD,
                                                   "csrf_token": token},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    return browser


def socketio_over_websocket(base: str, cookies: str, origin: str | None) -> str:
    """Open an Engine.IO websocket as a browser would, ask Socket.IO to connect, and return
    its first answer ("40{sid}" connected, "44{...}" refused)."""
    import websocket

    headers = [f"Origin: {origin}"] if origin is not None else []
    url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    # suppress_origin: websocket-client would otherwise add an Origin of its own.
    ws = websocket.create_connection(url, header=headers, cookie=cookies, timeout=10,
                                     suppress_origin=True)
    try:
        assert ws.recv().startswith("0{")  # Engine.IO open
        ws.send("40")
        return str(ws.recv())
    finally:
        ws.close()


def socketio_over_polling(base: str, browser: requests.Session, origin: str | None) -> Any:
    """The same over long-polling: the handshake, then the Socket.IO connect."""
    headers = {"Origin": origin} if origin is not None else {}
    handshake = browser.get(f"{base}/socket.io/?EIO=4&transport=polling", headers=headers, timeout=10)
    if handshake.status_code != 200:
        return handshake.status_code
    sid = re.search(r'"sid":"([^"]+)"', handshake.text).group(1)
    url = f"{base}/socket.io/?EIO=4&transport=polling&sid={sid}"
    assert browser.post(url, data="40", headers=headers, timeout=10).status_code == 200
    return browser.get(url, headers=headers, timeout=10).text


def foreign_origins(base: str) -> list[str]:
    port = urlsplit(base).port
    return ["https://evil.example", "null", f"http://127.0.0.1.evil.example:{port}",
            f"http://localhost:{port}", f"https://127.0.0.1:{port}"]


def test_a_page_elsewhere_cannot_open_a_socket_with_our_cookie(live_server, factories):
    """Cross-site WebSocket hijacking: a foreign Origin (another site, a sandboxed frame's
    "null", a look-alike host, another name or scheme of this server) is refused at the
    Engine.IO handshake, over both transports, though the session cookie is valid.

    The rule (python-engineio, engineio/server.py handle_request): with
    cors_allowed_origins=None only the server's own scheme://host is accepted, and a
    request without an Origin header is let through, since browsers always send one on a
    WebSocket handshake and on cross-origin requests; scripts (tests/yclient.py) send none
    and authenticate with their token or cookie as usual."""
    person = factories.participant()
    browser = live_sign_in(live_server, person.email)
    cookies = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    import websocket

    for origin in foreign_origins(live_server):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            socketio_over_websocket(live_server, cookies, origin)
        assert refused.value.status_code == 400, origin
        assert socketio_over_polling(live_server, browser, origin) == 400, origin
    # The controls: our own page's Origin, and a script without one, get in with the cookie.
    own = f"http://{urlsplit(live_server).netloc}"
    for origin in (own, None):
        assert socketio_over_websocket(live_server, cookies, origin).startswith("40{\"sid\""), origin
        assert socketio_over_polling(live_server, browser, origin).startswith("40{\"sid\""), origin
    # And the cookie is what let them in: without it Socket.IO refuses the connect.
    assert socketio_over_websocket(live_server, "", own).startswith("44")


# --- 4. the XSS corpus in a real browser ----------------------------------------------------------

# Installed in every frame before the page's own scripts: the corpus's payloads set
# window.__xss (or parent.__xss) if they run; the setter notes it even if something resets
# the value. Violations of the CSP are collected too: the app's own pages cause none, so any
# violation is user text that became markup.
TRAP = """
window.__pwned = [];
window.__violations = [];
Object.defineProperty(window, "__xss", {
    configurable: false, get: () => undefined,
    set: (value) => window.__pwned.push(String(value)),
});
document.addEventListener("securitypolicyviolation", (event) => window.__violations.push(
    [event.effectiveDirective, event.blockedURI, (event.sample || "").slice(0, 80)]));
"""

# What user text must not have become, beyond tests/test_browser.py's LEFTOVERS: elements with
# attributes the app's scripts read (data-*, id, name) inside rendered Markdown, and a second
# csrf-token a script could pick up instead of the page's.
GADGETS = """() => ({
    pwned: window.__pwned,
    violations: window.__violations,
    gadgets: [...document.querySelectorAll(".prose *, .clause__text *")]
        .filter((e) => [...e.attributes].some((a) => /^(data-|id$|name$|form)/i.test(a.name)))
        .map((e) => e.outerHTML.slice(0, 200)),
    csrfTokens: document.querySelectorAll('[name="csrf-token"], #csrf-token').length,
})"""


def hostile_world(app: Flask, factories: Any, payloads: list[str]) -> dict[str, Any]:
    """Every payload in every kind of user text the other browser tests do not show: votes
    (questions, objections' reasons, options made of amendments, the record), statements,
    comments and replies on the discussion page and in notifications, amendments' wordings,
    rationales and rejection reasons, a clause's history, API token names, and the outcome
    document's HTML preview (every field of a conference in it)."""
    from drafting.amendments.services import propose_amendment, put_to_vote, reject_amendment
    from drafting.auth.services import create_api_token
    from drafting.comments.services import reply, start_thread
    from drafting.recommendations.services import update_clause
    from drafting.votes.ballots import cast_ballot
    from drafting.votes.services import add_statement, close_vote, open_vote
    from models import Clause, ClauseKind, GroupRole, Participant, Recommendation, Vote
    from tests.helpers.browser import packed

    every = "\n\n".join(payloads)
    short = packed(payloads, 200)
    conference = factories.conference(title=short[0], venue=short[1], description=every,
                                      preamble=every, organisers=f"IOM\n{short[2]}")
    group = factories.group(conference, name=short[0], mandate=every)
    people = {
        "secretariat": factories.secretariat(name=short[1], affiliation=short[2]),
        "chair": factories.member_of(group, GroupRole.CHAIR, name=short[2], affiliation=short[3]),
        "member": factories.member_of(group, GroupRole.MEMBER, name=short[3],
                                      affiliation=short[0], country=short[1][:100]),
    }
    draft = factories.recommendation(group, title=short[0], clauses=[
        (ClauseKind.PREAMBULAR, every), (ClauseKind.OPERATIVE, every)])
    adopted_clause = factories.clause(draft, text="Invites the OSCE to report;", position=5)
    objected_clause = factories.clause(draft, text="Invites employers to act;", position=6)
    open_clause = factories.clause(draft, text="Calls on States to act;", position=7)
    ids: dict[str, Any] = {"conference": conference.id, "group": group.id, "recommendation": draft.id}
    with app.test_request_context():
        chair, member = (db.session.get(Participant, people[r].id) for r in ("chair", "member"))
        recommendation = db.session.get(Recommendation, draft.id)
        clause = recommendation.live_clauses[1]
        update_clause(member, clause, ClausePatch(text=every + "\n\nAs amended: " + short[0]))
        thread = start_thread(member, clause, {"body": every})
        reply(chair, thread, {"body": every})
        amendment = propose_amendment(member, clause, AmendmentCreate(kind="replace", text=every,
                                                       rationale=every))
        rejected = propose_amendment(member, clause, AmendmentCreate(kind="insert", text=every,
                                                      rationale=every))
        reject_amendment(chair, rejected, AmendmentRejection(reason=every[:2000]))
        # The wordings vote is on the preamble: a clause under a vote freezes its amendments.
        preamble = recommendation.live_clauses[0]
        voted = propose_amendment(member, preamble, AmendmentCreate(kind="replace", text=short[1] + every,
                                                     rationale=every))
        put_to_vote(chair, voted)
        adopted = open_vote(chair, recommendation, VoteOpen(subject="clause",
                                                    clause_id=adopted_clause.id,
                                                    question=every[:1000]))
        cast_ballot(member, adopted, BallotIn(option_id=adopted.options[0].id))
        close_vote(chair, adopted)
        objected = open_vote(chair, recommendation, VoteOpen(subject="clause", method="consensus",
                                                     clause_id=objected_clause.id,
                                                     question=every[-1000:]))
        object_to(member, objected, ObjectionIn(reason=every[:500]))
        close_vote(chair, objected)
        wordings = open_vote(chair, recommendation, VoteOpen(subject="wordings", clause_id=preamble.id,
                                                     question=every[500:1500]))
        roll_call = open_vote(chair, recommendation, VoteOpen(
            subject="clause", clause_id=open_clause.id,
            show_tally=True, question=every[1000:2000]))
        add_statement(member, recommendation, StatementIn(kind="reservation", text=every,
                                               clause_id=adopted_clause.id))
        add_statement(chair, recommendation, StatementIn(kind="interpretative", text=every,
                                              clause_id=adopted_clause.id))
        create_api_token(member, short[0][:100])
        db.session.commit()
        ids.update(clause=clause.id, thread=thread.id, comment=thread.comments[0].id,
                   amendment=amendment.id, adopted=adopted.id, objected=objected.id,
                   wordings=wordings.id, roll_call=roll_call.id,
                   roll_call_yes=roll_call.options[0].id)
        assert db.session.get(Vote, adopted.id).outcome is not None
        assert db.session.get(Clause, adopted_clause.id).status.value == "adopted"
    return {"people": people, "ids": ids}


def hostile_pages(ids: dict[str, Any]) -> dict[str, list[str]]:
    """Who opens which page."""
    return {
        "member": [
            "/", "/notifications", "/profile", f"/recommendations/{ids['recommendation']}",
            f"/recommendations/{ids['recommendation']}/votes", f"/clauses/{ids['clause']}/discussion",
            f"/clauses/{ids['clause']}/history", f"/comments/{ids['comment']}/edit",
            f"/amendments/{ids['amendment']}/edit", f"/votes/{ids['wordings']}",
            f"/votes/{ids['objected']}/record", f"/votes/{ids['adopted']}/record",
            f"/votes/{ids['roll_call']}/projector", f"/votes/{ids['roll_call']}",
        ],
        "secretariat": [
            f"/conferences/{ids['conference']}/export",
            f"/conferences/{ids['conference']}/export/preview",
            f"/conferences/{ids['conference']}/export/preview?changes=1",
            f"/groups/{ids['group']}/export/preview",
        ],
    }


@pytest.mark.browser
def test_user_text_never_runs_on_any_other_surface(app, factories, new_context, person,
                                                   xss_payloads):
    """With the CSP on, as delegates use it: no payload runs (the trap stays empty), no dialog
    opens, no script error, nothing the CSP had to block, no handler, link or element left
    behind (tests/test_browser.py's LEFTOVERS), no gadget for the app's own scripts; and the
    vote page stays clean when a ballot's event makes it fetch and swap in its new state."""
    from drafting.votes.ballots import cast_ballot
    from models import Participant, Vote
    from tests.helpers.browser import CLEAN, LEFTOVERS

    world = hostile_world(app, factories, xss_payloads)
    ids, opened = world["ids"], 0
    for role, paths in hostile_pages(ids).items():
        context, page = person(world["people"][role])
        context.add_init_script(TRAP)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog, seen=dialogs: (seen.append(dialog.message), dialog.dismiss()))
        errors: list[str] = []
        page.on("pageerror", lambda error, seen=errors: seen.append(str(error)))
        for path in paths:
            response = page.goto(path)
            assert response is not None and response.status == 200, path
            opened += 1
            assert page.evaluate(LEFTOVERS) == CLEAN, path
            found = page.evaluate(GADGETS)
            assert found["pwned"] == [] and found["violations"] == [], (path, found)
            assert found["gadgets"] == [] and found["csrfTokens"] <= 1, (path, found)
            assert (dialogs, errors) == ([], []), path
        if role == "member":
            # The open roll-call vote is the last page: a ballot by the chair (a hostile name
            # in a shown tally) arrives as an event; the page fetches itself and swaps it in.
            page.evaluate("document.querySelector('[data-vote]').dataset.stale = 'yes'")
            with app.test_request_context():
                vote = db.session.get(Vote, ids["roll_call"])
                cast_ballot(db.session.get(Participant, world["people"]["chair"].id), vote,
                            BallotIn(option_id=ids["roll_call_yes"]))
                db.session.commit()
            expect(page.locator("[data-vote][data-stale]")).to_have_count(0, timeout=15_000)
            expect(page.locator("[data-vote]")).to_have_count(1)
            assert page.evaluate(LEFTOVERS) == CLEAN
            found = page.evaluate(GADGETS)
            assert found["pwned"] == [] and found["violations"] == [], found
            assert (dialogs, errors) == ([], [])
    assert opened == sum(len(paths) for paths in hostile_pages(ids).values())
