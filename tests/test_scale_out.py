"""Several server processes joined by Redis: the supported scale-out path, tested for real.

Two Plenary processes share the database and Redis. An event caused on one reaches a
participant connected to the other, and sign-in limits count across both.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
import socketio

from models import GroupRole
from tests.helpers.servers import GEVENT_GUNICORN, Server, sign_in

pytestmark = pytest.mark.redis
@pytest.fixture
def two_servers(app, redis_url, tmp_path) -> Iterator[tuple[Server, Server]]:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    # Two processes as docs/deployment.md runs them: gunicorn's gevent WebSocket worker.
    servers = tuple(Server(app, redis_url, tmp_path, name, command=GEVENT_GUNICORN,
                           extra_env={"SOCKETIO_ASYNC_MODE": "gevent"}) for name in ("a", "b"))
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_event_caused_on_one_process_reaches_a_participant_on_the_other(two_servers, factories):
    first, second = two_servers
    group = factories.group()
    secretariat = factories.secretariat()
    newcomer = factories.participant()
    token = factories.api_token(secretariat)

    browser, status = sign_in(second, newcomer.email)
    assert status == 302
    received: list[dict] = []
    arrived = threading.Event()
    client = socketio.Client(http_session=browser, reconnection=False)

    @client.on("membership_changed")
    def on_membership_changed(payload: dict) -> None:
        received.append(payload)
        arrived.set()

    client.connect(second.url, transports=["websocket"], wait_timeout=10)
    try:
        response = requests.post(f"{first.url}/api/v1/groups/{group.id}/members", json={
            "participant_id": newcomer.id, "role": GroupRole.MEMBER.value,
        }, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 201, response.text
        assert arrived.wait(15), "the event did not cross from one process to the other"
        assert received == [{"group_id": group.id, "participant_id": newcomer.id}]
    finally:
        client.disconnect()


def test_sockets_need_our_origin_and_a_signed_in_session(two_servers, factories):
    server = two_servers[0]
    person = factories.participant()
    browser, _status = sign_in(server, person.email)
    handshake = server.url + "/socket.io/?EIO=4&transport=polling"
    # Cross-site WebSocket hijacking: a page elsewhere would send the delegate's cookie.
    assert browser.get(handshake, headers={"Origin": "https://evil.example"}, timeout=5).status_code == 400
    assert browser.get(handshake, headers={"Origin": server.url}, timeout=5).status_code == 200
    signed_in = socketio.Client(http_session=browser, reconnection=False)
    signed_in.connect(server.url, transports=["websocket"], wait_timeout=5)
    assert signed_in.connected
    signed_in.disconnect()
    anonymous = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        anonymous.connect(server.url, transports=["websocket"], wait_timeout=5)


def test_sign_in_limits_count_across_processes(two_servers, factories):
    person = factories.participant()
    first, second = two_servers
    statuses = [sign_in(server, person.email, "wrong password")[1]
                for server in (first, second, first, second)]
    assert statuses == [200, 200, 200, 200]
    # The fifth attempt, wherever it lands, is over the shared limit of four a minute.
    assert sign_in(second, person.email)[1] == 429
    assert sign_in(first, person.email)[1] == 429


# --- live editing across processes -------------------------------------------------------

def editing_room(factories):
    from models import ClauseKind

    group = factories.group()
    people = [factories.member_of(group, GroupRole.MEMBER) for _ in range(3)]
    recommendation = factories.recommendation(group, clauses=[
        (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;")])
    return recommendation, [factories.api_token(person) for person in people]


def test_editors_on_two_processes_converge(two_servers, factories, app):
    from tests.helpers.live import reloaded_text, stored_text
    from tests.yclient import EditorClient, eventually

    first, second = two_servers
    recommendation, tokens = editing_room(factories)
    left = EditorClient(first.url, token=tokens[0]).connect()
    right = EditorClient(second.url, token=tokens[1]).connect()
    try:
        doc = left.join(recommendation.id)["clauses"][0]["doc"]
        right.join(recommendation.id)
        left.open(doc)
        right.open(doc)
        for n in range(15):
            left.insert(doc, 0, f"<L{n}>")
            right.insert(doc, len(right.text(doc)), f"<R{n}>")
        words = [f"<L{n}>" for n in range(15)] + [f"<R{n}>" for n in range(15)]
        eventually(lambda: left.text(doc) == right.text(doc)
                   and all(word in left.text(doc) for word in words), timeout=20,
                   message="convergence across processes")
        # A late joiner on either process gets the whole text.
        late = EditorClient(second.url, token=tokens[2]).connect()
        late.join(recommendation.id)
        late.open(doc)
        assert late.text(doc) == left.text(doc)
        late.disconnect()
        clause_id = int(doc.split(":")[1])
        eventually(lambda: stored_text(app, clause_id) == left.text(doc), message="stored text")
        assert reloaded_text(app, clause_id) == left.text(doc)
    finally:
        left.disconnect()
        right.disconnect()


def test_sigkill_while_typing_loses_nothing(app, factories, tmp_path):
    """Kill the server with SIGKILL while people type, start it again: the editors come back
    by themselves, re-send what the server had not made durable, and every replica (the
    server's and theirs) ends equal, with nothing anyone typed missing."""
    from tests.helpers.live import reloaded_text, stored_text
    from tests.yclient import EditorClient, eventually

    recommendation, tokens = editing_room(factories)
    server = Server(app, None, tmp_path, "single")
    server.wait_ready()
    editors = [EditorClient(server.url, token=token).connect() for token in tokens[:2]]
    try:
        doc = editors[0].join(recommendation.id)["clauses"][0]["doc"]
        editors[1].join(recommendation.id)
        for editor in editors:
            editor.open(doc)
        words = []
        for n in range(40):
            editor = editors[n % 2]
            word = f"<{n}>"
            words.append(word)
            editor.insert(doc, len(editor.text(doc)) if n % 3 else 0, word)
            if n == 20:
                server.kill()  # mid-typing: some of these were acknowledged, some never sent
        eventually(lambda: not any(editor.sio.connected for editor in editors),
                   message="editors notice the server is gone")
        server = Server(app, None, tmp_path, "single", port=server.port)
        server.wait_ready()
        for editor in editors:
            editor.reconnect()
        eventually(lambda: editors[0].text(doc) == editors[1].text(doc)
                   and all(word in editors[0].text(doc) for word in words), timeout=20,
                   message="convergence after the restart")
        clause_id = int(doc.split(":")[1])
        eventually(lambda: stored_text(app, clause_id) == editors[0].text(doc),
                   message="everything durable")
        assert reloaded_text(app, clause_id) == editors[0].text(doc)
    finally:
        for editor in editors:
            editor.disconnect()
        server.stop()
