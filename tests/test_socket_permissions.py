"""Every Socket.IO event, tried as every kind of participant, anonymous, and with the
recommendations and documents of another group and of another conference.

The rules are read against the server's own registry (``socketio.server.handlers``) and the
y-protocols message kinds the server parses (``protocol.Kind``): an event or a message kind
added without a rule here fails ``test_every_socket_event_has_a_rule``.

Then what a live socket still hears after its rights end: a signed-out session's sockets,
a revoked token's, a deactivated account's and a removed member's are disconnected at the
commit (on whichever server process holds them) and hear nothing after it; the same person's
other login sessions are untouched.

The product's rule for objects out of reach: a recommendation, and its documents, that a
participant may not see answer ``not_found`` (whether it exists is not said), the same for a
group next door and for another conference; one they may see but not change answers
``forbidden``. The secretariat is a global role (docs/ARCHITECTURE: it sets up every
conference), so the secretariat of one conference is the secretariat of all of them.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from pycrdt import Doc, Text

from drafting.realtime import protocol
from models import ClauseKind, GroupRole, Membership, db
from tests.factories import PASSWORD
from tests.helpers.live import reloaded_text
from tests.yclient import EditorClient, eventually

ROLES = ("secretariat", "chair", "member", "observer", "other_chair", "outsider", "foreign_chair")
#: Whose recommendation each target is: the cast's group, the group next door, another conference.
TARGETS = ("own", "other_group", "foreign")
#: The editors each role may open (join, sync, presence) ...
VIEW = {"secretariat": set(TARGETS), "chair": {"own"}, "member": {"own"}, "observer": {"own"},
        "other_chair": {"other_group"}, "outsider": set(), "foreign_chair": {"foreign"}}
#: ... and the ones whose text it may change (the secretariat watches; observers read).
EDIT = {"secretariat": set(), "chair": {"own"}, "member": {"own"}, "observer": set(),
        "other_chair": {"other_group"}, "outsider": set(), "foreign_chair": {"foreign"}}


@dataclass
class Stage:
    """Two groups of one conference and a group of another, each with a draft of one clause,
    and a token for each role."""

    app: Any
    live_server: str
    tokens: dict[str, str]
    recommendations: dict[str, int]
    docs: dict[str, str]
    cast: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def stage(app, factories, live_server) -> Stage:
    cast = factories.cast()
    foreign_group = factories.group(factories.conference(title="Another conference"))
    foreign_chair = factories.member_of(foreign_group, GroupRole.CHAIR, name="Foreign Chair")
    groups = {"own": cast.group, "other_group": cast.other_group, "foreign": foreign_group}
    recommendations, docs = {}, {}
    for target, group in groups.items():
        recommendation = factories.recommendation(group, clauses=[
            (ClauseKind.OPERATIVE, f"Calls on States to act ({target});")])
        recommendations[target] = recommendation.id
        with app.app_context():
            from models import Recommendation

            docs[target] = db.session.get(Recommendation, recommendation.id).live_clauses[0].doc_name
    people = {role: getattr(cast, role) for role in ROLES if role != "foreign_chair"}
    people["foreign_chair"] = foreign_chair
    tokens = {role: factories.api_token(person) for role, person in people.items()}
    return Stage(app, live_server, tokens, recommendations, docs, cast)


# --- the rules, one per registered event -------------------------------------------------

@dataclass
class Attempt:
    """One role's socket trying everything against one target."""

    stage: Stage
    role: str
    target: str
    client: EditorClient | None = None
    joined: bool = False

    @property
    def may_view(self) -> bool:
        return self.target in VIEW[self.role]

    @property
    def may_edit(self) -> bool:
        return self.target in EDIT[self.role]

    @property
    def doc(self) -> str:
        return self.stage.docs[self.target]

    def refused(self, answer: Any, code: str) -> None:
        assert isinstance(answer, dict) and answer.get("ok") is False, answer
        assert answer["error"]["code"] == code, (self.role, self.target, answer)


def rule_connect(attempt: Attempt) -> None:
    """Anyone signed in (or with a live token) connects; see test_anonymous_cannot_connect."""
    attempt.client = EditorClient(attempt.stage.live_server,
                                  token=attempt.stage.tokens[attempt.role]).connect()
    assert attempt.client.sio.connected


def rule_join(attempt: Attempt) -> None:
    assert attempt.client is not None
    answer = attempt.client.join(attempt.stage.recommendations[attempt.target])
    if attempt.may_view:
        assert answer["ok"] is True, (attempt.role, attempt.target, answer)
        expected_role = "secretariat" if attempt.role == "secretariat" else \
            ("chair" if attempt.role.endswith("chair") else attempt.role)
        assert answer["role"] == expected_role
        assert answer["can_edit"] is attempt.may_edit
        attempt.joined = True
    else:
        attempt.refused(answer, "not_found")


def _y(attempt: Attempt, payload: bytes) -> Any:
    assert attempt.client is not None
    return attempt.client.send(attempt.doc, payload)


def y_step1(attempt: Attempt) -> None:
    """Sync step 1 is answered with the document only to those who may open it."""
    assert attempt.client is not None
    if attempt.may_view:
        assert "Calls on States to act" in str(attempt.client.open(attempt.doc))
    else:
        attempt.client.docs.setdefault(attempt.doc, Doc())  # so that an answer would be seen
        attempt.refused(_y(attempt, protocol.sync_step1(Doc().get_state())), "not_found")
        assert attempt.client.updates == []


def _changes(attempt: Attempt, make: Callable[[bytes], bytes]) -> None:
    clause_id = int(attempt.doc.split(":")[1])
    before = reloaded_text(attempt.stage.app, clause_id)
    doc: Doc = Doc()
    text = doc.get("text", type=Text)
    with doc.transaction():
        text.insert(0, "INTRUDED ")
    answer = _y(attempt, make(doc.get_update()))
    after = reloaded_text(attempt.stage.app, clause_id)
    if attempt.may_edit:
        assert answer == {"ok": True}, answer
        assert "INTRUDED" in after
    else:
        attempt.refused(answer, "forbidden" if attempt.may_view else "not_found")
        assert after == before


def y_step2(attempt: Attempt) -> None:
    _changes(attempt, protocol.sync_step2)


def y_update(attempt: Attempt) -> None:
    _changes(attempt, protocol.sync_update)


def y_awareness(attempt: Attempt) -> None:
    assert attempt.client is not None
    answer = attempt.client.set_presence(attempt.doc, 4242, {"user": {"name": "Spoofed"}})
    if attempt.may_view:
        assert answer == {"ok": True}, answer
    else:
        attempt.refused(answer, "not_found")


def rule_y(attempt: Attempt) -> None:
    for kind in protocol.Kind:
        Y_RULES[kind](attempt)


def rule_leave(attempt: Attempt) -> None:
    assert attempt.client is not None
    answer = attempt.client.sio.call(
        "leave", {"recommendation": attempt.stage.recommendations[attempt.target]}, timeout=10)
    if attempt.joined:
        assert answer == {"ok": True}
    else:
        attempt.refused(answer, "invalid")


def rule_disconnect(attempt: Attempt) -> None:
    """Nothing to authorise: the server forgets the socket and its presence."""
    from drafting.sockets import connections

    assert attempt.client is not None
    sid = attempt.client.sio.get_sid()
    assert connections.find(sid) is not None
    attempt.client.disconnect()
    eventually(lambda: connections.find(sid) is None, message="the server forgetting the socket")


def rule_any_other(attempt: Attempt) -> None:
    """The catch-all: an event Plenary does not have is refused, whoever sends it; the
    server's internal ending event sent by a client is one of those, and ends nothing."""
    from drafting.realtime import SOCKETS_ENDED

    assert attempt.client is not None
    for name, data in (("no_such_event", {"recommendation": 1}),
                       (SOCKETS_ENDED, {"participant": 1, "scope": "all", "hash": None})):
        attempt.refused(attempt.client.sio.call(name, data, timeout=10), "invalid")
    assert attempt.client.sio.connected


#: In the order a session goes through them.
SOCKET_RULES: dict[str, Callable[[Attempt], None]] = {
    "connect": rule_connect, "join": rule_join, "y": rule_y, "*": rule_any_other,
    "leave": rule_leave, "disconnect": rule_disconnect,
}
Y_RULES: dict[protocol.Kind, Callable[[Attempt], None]] = {
    protocol.Kind.STEP1: y_step1, protocol.Kind.STEP2: y_step2,
    protocol.Kind.UPDATE: y_update, protocol.Kind.AWARENESS: y_awareness,
}


def test_every_socket_event_has_a_rule(app):
    from drafting.extensions import socketio as server

    registered = {(namespace, event) for namespace, handlers in server.server.handlers.items()
                  for event in handlers}
    assert registered == {("/", event) for event in SOCKET_RULES}, \
        f"socket events without a rule: {registered - {('/', e) for e in SOCKET_RULES}}"
    assert set(Y_RULES) == set(protocol.Kind), "y-protocols message kinds without a rule"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_socket_matrix(stage, role, target):
    attempt = Attempt(stage, role, target)
    try:
        for rule in SOCKET_RULES.values():
            rule(attempt)
        # Each refusal was also sent as an ``error`` event; nothing else went wrong.
        assert attempt.client is not None
        assert {error["code"] for error in attempt.client.errors} <= {"not_found", "forbidden",
                                                                      "invalid"}
    finally:
        if attempt.client is not None:
            attempt.client.disconnect()


@pytest.mark.parametrize("auth", [None, {"token": "plen_not-a-token"}, {"token": 42}, "token",
                                  {"token": "x" * 10_000}, "revoked", "deactivated"])
def test_anonymous_cannot_connect(app, factories, live_server, auth):
    if auth in ("revoked", "deactivated"):
        person = factories.participant()
        token = factories.api_token(person)
        with app.test_request_context():
            from drafting.auth.services import revoke_api_token
            from models import ApiToken, Participant

            if auth == "revoked":
                stored = db.session.scalar(db.select(ApiToken))
                revoke_api_token(stored, stored.participant)
            else:
                db.session.get(Participant, person.id).is_active_account = False
            db.session.commit()
        auth = {"token": token}
    assert socket_connect(live_server, auth).startswith("44"), "a CONNECT_ERROR packet"


def socket_connect(base: str, auth: Any) -> str:
    """Open an Engine.IO session by long-polling and ask for the Socket.IO connection with
    ``auth``; the server's answer packet ("40..." connected, "44..." refused). Spoken by hand:
    a refused python-socketio client waits seconds on the development server's WebSocket."""
    import json

    http = requests.Session()
    url = base + "/socket.io/?EIO=4&transport=polling"
    opened = http.get(url, timeout=5).text
    sid = json.loads(opened[opened.index("{"):])["sid"]
    asked = "40" + (json.dumps(auth) if auth is not None else "")
    assert http.post(f"{url}&sid={sid}", data=asked, timeout=5).status_code == 200
    return http.get(f"{url}&sid={sid}", timeout=5).text


def test_a_live_token_connects_by_hand(stage):
    """The hand-spoken handshake above does tell a refusal from a connection."""
    assert socket_connect(stage.live_server, {"token": stage.tokens["outsider"]}).startswith("40")


# --- rights ending while a socket is open ------------------------------------------------

def browser(live_server: str, email: str) -> tuple[requests.Session, str]:
    """A signed-in browser (its own login session) and the CSRF token of its pages."""
    session = requests.Session()
    page = session.get(live_server + "/login", timeout=10).text
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    answer = session.post(live_server + "/login", data={
        "email": email, "password": PASSWORD, "csrf_token": csrf}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    page = session.get(live_server + "/profile", timeout=10).text
    return session, re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


class Room:
    """The cast's draft, a witness who stays (the observer), and a way to make a broadcast."""

    def __init__(self, stage: Stage, base: str | None = None) -> None:
        self.stage = stage
        self.base = base or stage.live_server
        self.recommendation = stage.recommendations["own"]
        self.witness = self.editor(token=stage.tokens["observer"])
        self.broadcasts = 0

    def editor(self, *, token: str | None = None, http: requests.Session | None = None,
               base: str | None = None) -> EditorClient:
        client = EditorClient(base or self.base, token=token, http_session=http).connect()
        assert client.join(self.recommendation)["ok"] is True
        return client

    def broadcast(self) -> None:
        """The chair adds a clause: every editor of the draft hears ``clauses_changed``."""
        self.broadcasts += 1
        answer = requests.post(
            f"{self.base}/api/v1/recommendations/{self.recommendation}/clauses",
            json={"kind": "operative", "text": f"Invites States to report ({self.broadcasts});"},
            headers={"Authorization": f"Bearer {self.stage.tokens['chair']}"}, timeout=10)
        assert answer.status_code == 201, answer.text
        eventually(lambda: len(self.witness.structure) == self.broadcasts,
                   message="the witness hearing the broadcast")

    def close(self, *clients: EditorClient) -> None:
        for client in (self.witness, *clients):
            client.disconnect()


def hears_everything(room: Room, *clients: EditorClient) -> None:
    """Each of them has heard every broadcast so far (and no more)."""
    for client in clients:
        eventually(lambda client=client: len(client.structure) == room.broadcasts,
                   message="the socket hearing every broadcast")


def assert_cut_off(room: Room, client: EditorClient) -> None:
    """Disconnected, and deaf to what happened after (the witness heard it)."""
    heard = len(client.structure)
    eventually(lambda: not client.sio.connected, message="the socket being disconnected")
    room.broadcast()
    assert len(client.structure) == heard


def _end_session(how: str, stage: Stage, person: Any, first: requests.Session, first_csrf: str,
                 second: requests.Session, second_csrf: str) -> None:
    base = stage.live_server
    if how == "sign_out":
        assert first.post(base + "/logout", data={"csrf_token": first_csrf},
                          allow_redirects=False, timeout=10).status_code == 302
    elif how == "password":  # changed from the second browser: the first is signed out
        answer = second.post(base + "/profile/password", data={
            "current": PASSWORD, "password": "another long password",
            "confirmation": "another long password", "csrf_token": second_csrf},
            allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text[:500]
    elif how == "deactivated":
        with stage.app.test_request_context():
            from drafting.participants.services import set_participant_active
            from models import Participant

            set_participant_active(db.session.get(Participant, stage.cast.secretariat.id),
                                   db.session.get(Participant, person.id), False)
            db.session.commit()


@pytest.mark.parametrize("how", ["sign_out", "password", "token_revoked", "deactivated"])
def test_an_ended_session_stops_hearing_at_once(stage, how):
    """The member has two browsers (two login sessions) and a script (a token) open."""
    person = stage.cast.member
    first, first_csrf = browser(stage.live_server, person.email)
    second, second_csrf = browser(stage.live_server, person.email)
    room = Room(stage)
    one, two = room.editor(http=first), room.editor(http=second)
    script = room.editor(token=stage.tokens["member"])
    try:
        room.broadcast()
        hears_everything(room, one, two, script)
        if how == "token_revoked":
            page = second.get(stage.live_server + "/profile", timeout=10).text
            token_id = re.search(r"/profile/tokens/(\d+)/revoke", page).group(1)
            assert second.post(f"{stage.live_server}/profile/tokens/{token_id}/revoke",
                               data={"csrf_token": second_csrf}, allow_redirects=False,
                               timeout=10).status_code == 302
            ended, kept = [script], [one, two]
        else:
            _end_session(how, stage, person, first, first_csrf, second, second_csrf)
            ended, kept = {"sign_out": ([one], [two, script]),
                           "password": ([one], [two, script]),
                           "deactivated": ([one, two, script], [])}[how]
        for client in ended:
            eventually(lambda client=client: not client.sio.connected,
                       message="the socket being disconnected")
        room.broadcast()
        hears_everything(room, *kept)
        for client in ended:
            assert len(client.structure) == 1
            assert {"code": "unauthenticated", "message": "Your session has ended. Sign in again.",
                    "doc": None} in client.errors
    finally:
        room.close(one, two, script)


@pytest.mark.parametrize("change", ["removed", "made_observer"])
def test_a_membership_change_takes_effect_on_live_sockets(app, stage, change):
    """The chair removes the member (or makes them an observer) while their editor is open:
    it hears nothing more of the group; joining again gives what is left."""
    room = Room(stage)
    member = room.editor(token=stage.tokens["member"])
    try:
        room.broadcast()
        hears_everything(room, member)
        with app.app_context():
            membership_id = db.session.scalar(db.select(Membership.id).where(
                Membership.participant_id == stage.cast.member.id))
        headers = {"Authorization": f"Bearer {stage.tokens['chair']}"}
        url = f"{stage.live_server}/api/v1/memberships/{membership_id}"
        if change == "removed":
            assert requests.delete(url, headers=headers, timeout=10).status_code == 204
        else:
            assert requests.patch(url, json={"role": "observer"}, headers=headers,
                                  timeout=10).status_code == 200
        assert_cut_off(room, member)
        again = EditorClient(stage.live_server, token=stage.tokens["member"]).connect()
        try:
            answer = again.join(room.recommendation)
            if change == "removed":
                assert answer["ok"] is False and answer["error"]["code"] == "not_found"
            else:
                assert answer["ok"] is True and answer["role"] == "observer"
                assert answer["can_edit"] is False
        finally:
            again.disconnect()
    finally:
        room.close(member)


def test_a_role_set_again_to_the_same_changes_nothing(app, stage):
    room = Room(stage)
    member = room.editor(token=stage.tokens["member"])
    try:
        with app.app_context():
            membership_id = db.session.scalar(db.select(Membership.id).where(
                Membership.participant_id == stage.cast.member.id))
        assert requests.patch(f"{stage.live_server}/api/v1/memberships/{membership_id}",
                              json={"role": "member"}, timeout=10, headers={
                                  "Authorization": f"Bearer {stage.tokens['chair']}"}
                              ).status_code == 200
        room.broadcast()
        hears_everything(room, member)
        assert member.sio.connected
    finally:
        room.close(member)


@pytest.mark.redis
def test_a_removed_member_on_another_process_stops_hearing(app, stage, redis_url, tmp_path):
    """The member's socket is on one process, the chair's removal on the other: the ending
    crosses Redis in order with the events, like every event does."""
    import redis

    from tests.helpers.servers import GEVENT_GUNICORN, Server

    redis.Redis.from_url(redis_url).flushdb()
    servers = [Server(app, redis_url, tmp_path, name, command=GEVENT_GUNICORN,
                      extra_env={"SOCKETIO_ASYNC_MODE": "gevent"}) for name in ("a", "b")]
    try:
        for server in servers:
            server.wait_ready()
        first, second = servers
        room = Room(stage, base=first.url)
        member = room.editor(token=stage.tokens["member"], base=second.url)
        witness_there = room.editor(token=stage.tokens["observer"], base=second.url)
        try:
            room.broadcast()
            hears_everything(room, member, witness_there)
            with app.app_context():
                membership_id = db.session.scalar(db.select(Membership.id).where(
                    Membership.participant_id == stage.cast.member.id))
            assert requests.delete(f"{first.url}/api/v1/memberships/{membership_id}", timeout=10,
                                   headers={"Authorization": f"Bearer {stage.tokens['chair']}"}
                                   ).status_code == 204
            eventually(lambda: not member.sio.connected, timeout=15,
                       message="the socket on the other process being disconnected")
            room.broadcast()
            eventually(lambda: len(witness_there.structure) == room.broadcasts, timeout=15,
                       message="the other process's witness hearing the broadcast")
            assert len(member.structure) == 1
        finally:
            room.close(member, witness_there)
    finally:
        for server in servers:
            server.stop()


def test_an_ending_never_reaches_a_client(stage):
    """The internal event that ends sockets is handled by the server, not sent on."""
    from drafting.realtime import SOCKETS_ENDED

    room = Room(stage)
    heard: list[Any] = []
    member = EditorClient(stage.live_server, token=stage.tokens["member"])

    @member.sio.on(SOCKETS_ENDED)
    def _ended(data: Any) -> None:
        heard.append(data)

    member.connect()
    assert member.join(room.recommendation)["ok"] is True
    try:
        with stage.app.test_request_context():
            from drafting.realtime import queue_sockets_ended

            queue_sockets_ended(stage.cast.member.id, scope="token", secret_hash="not-this-one")
            db.session.commit()
        # The broadcast leaves after the ending, on the same way: once the member has heard
        # it, the ending would have arrived too, had it been sent on.
        room.broadcast()
        hears_everything(room, member)
        assert heard == []
        assert member.sio.connected
    finally:
        room.close(member)
