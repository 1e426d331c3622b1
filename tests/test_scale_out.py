"""Several server processes joined by Redis: the supported scale-out path, tested for real.

Two Plenary processes share the database and Redis. An event caused on one reaches a
participant connected to the other, and sign-in limits count across both.
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import socketio

from models import GroupRole, db
from tests.helpers.servers import GEVENT_GUNICORN, Server, sign_in
from tests.yclient import eventually

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


# --- a group voting at once on two processes ------------------------------------------------

def test_ballots_on_two_processes_are_each_counted_once(two_servers, factories, app):
    """Thirty voters cast at once, half through each process (each batching what it
    receives), and one of them through both at the same moment: every ballot is counted
    once, the voter twice over is one ballot (the other answer says it was changed), and the
    recorded counts are the ballots sent."""
    from models import ClauseKind

    first, second = two_servers
    group = factories.group()
    chair = factories.member_of(group, GroupRole.CHAIR)
    people = [factories.member_of(group, GroupRole.MEMBER) for _ in range(30)]
    recommendation = factories.recommendation(group, clauses=[
        (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;")])
    tokens = [factories.api_token(person) for person in people]

    def call(server, token: str, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{server.url}/api/v1{path}", json=body, timeout=60,
                                headers={"Authorization": f"Bearer {token}"})

    chair_token = factories.api_token(chair)
    clause_id = call(first, chair_token, "GET", f"/recommendations/{recommendation.id}").json()["clauses"][0]["id"]
    vote = call(first, chair_token, "POST", f"/recommendations/{recommendation.id}/votes",
                {"subject": "clause", "clause_id": clause_id, "method": "ballot"}).json()
    yes, no = (o["id"] for o in vote["options"][:2])
    for n, token in enumerate(tokens):  # each voter opens the vote first, on their process
        assert call(first if n % 2 else second, token, "GET", f"/votes/{vote['id']}").status_code == 200
    sends = [(first if n % 2 else second, token, yes if n % 3 else no) for n, token in enumerate(tokens)]
    sends.append((first, tokens[0], no))  # voter 0 sends through the other process too
    barrier = threading.Barrier(len(sends))
    answers: list[requests.Response | None] = [None] * len(sends)

    def cast(index: int) -> None:
        server, token, option = sends[index]
        barrier.wait()
        answers[index] = call(server, token, "POST", f"/votes/{vote['id']}/ballot", {"option_id": option})

    threads = [threading.Thread(target=cast, args=(n,)) for n in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(answer is not None and answer.status_code == 200 for answer in answers), \
        [answer.text[:200] for answer in answers if answer is None or answer.status_code != 200]
    assert sorted(answer.json()["changed"] for answer in answers) == [False] * 30 + [True]
    closed = call(first, chair_token, "POST", f"/votes/{vote['id']}/close").json()
    voter_0 = next(entry["option_id"] for entry in closed["roll_call"] if entry["voter"]["id"] == people[0].id)
    expected = {option: sum(1 for _s, _t, chosen in sends[1:30] if chosen == option) for option in (yes, no)}
    expected[voter_0] += 1
    assert closed["turnout"] == len(closed["roll_call"]) == 30
    assert {o["id"]: o["count"] for o in closed["options"][:2]} == expected
    assert call(second, chair_token, "GET", f"/votes/{vote['id']}/verify").json()["ok"] is True


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
    from tests.yclient import EditorClient

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


@pytest.fixture
def late_joiner(two_servers, factories) -> Iterator[tuple[Any, Any, Any, str]]:
    """(left, right, late, doc): left on the first process and right on the second, both in
    the clause; late joined on the second, not in the clause yet."""
    from tests.yclient import EditorClient

    first, second = two_servers
    recommendation, tokens = editing_room(factories)
    left = EditorClient(first.url, token=tokens[0]).connect()
    right = EditorClient(second.url, token=tokens[1]).connect()
    late = EditorClient(second.url, token=tokens[2]).connect()
    try:
        doc = left.join(recommendation.id)["clauses"][0]["doc"]
        right.join(recommendation.id)
        late.join(recommendation.id)
        left.open(doc)
        right.open(doc)
        yield left, right, late, doc
    finally:
        for editor in (left, right, late):
            editor.disconnect()


def test_a_late_joiner_gets_what_another_process_relayed_and_has_not_written(late_joiner, app):
    """Words accepted on one process are relayed at once and written a moment later; the other
    process's copy of the document learns of them from the log. An editor that joins on that
    other process in between must get them in its sync all the same: having joined the room
    after they were relayed, it would otherwise never receive them."""
    from tests.helpers.live import database_write_locked, log_size, reloaded_text

    left, right, late, doc = late_joiner
    with database_write_locked(app):  # nothing typed now reaches the log
        left.insert(doc, 0, "Firmly ")
        eventually(lambda: right.text(doc) == left.text(doc), message="relayed to the other process")
        late.open(doc)
        assert late.text(doc) == left.text(doc)
    clause_id = int(doc.split(":")[1])
    eventually(lambda: reloaded_text(app, clause_id) == left.text(doc), message="written")
    eventually(lambda: left.acks == [{"ok": True}], message="left's words acknowledged")
    # Written once, by the process that took them: the late joiner was not asked for them
    # back (the other process's sync step 1 counted them as known), so it did not hand them
    # in again to be stored a second time.
    late.insert(doc, len(late.text(doc)), " now")
    eventually(lambda: reloaded_text(app, clause_id) == left.text(doc) == late.text(doc), message="typed")
    assert log_size(app, clause_id) == 3  # the clause's first text, "Firmly ", " now"


def test_a_late_joiner_does_not_get_words_refused_after_they_were_relayed(late_joiner, app):
    """What a process relayed and its writer then refused (a lock committed a moment before
    that process heard of it) is reset on every editor: another process forgets it too, so
    that an editor joining there afterwards is not handed the refused words."""
    from sqlalchemy import text

    from tests.helpers.live import stored_text

    left, right, late, doc = late_joiner
    original = left.text(doc)
    clause_id = int(doc.split(":")[1])
    with app.app_context():
        engine = db.engine
    with engine.begin() as connection:  # as another process would, without the push
        connection.execute(text("UPDATE clause SET status = 'locked' WHERE id = :id"), {"id": clause_id})
    left.insert(doc, 0, "Sneaky ")
    eventually(lambda: right.resets, message="the reset reaching the other process's editor")
    late.open(doc)
    assert late.text(doc) == original == stored_text(app, clause_id)


def test_sigkill_while_typing_loses_nothing(app, factories, tmp_path):
    """Kill the server with SIGKILL while people type, start it again: the editors come back
    by themselves, re-send what the server had not made durable, and every replica (the
    server's and theirs) ends equal, with nothing anyone typed missing."""
    from tests.helpers.live import reloaded_text, stored_text
    from tests.yclient import EditorClient

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


def test_processes_talk_on_their_installation_s_channel(app, redis_url, tmp_path):
    """Redis's publish and subscribe ignore its numbered databases: an installation listens on
    the channel REDIS_CHANNEL names, so that two of them can share one Redis server."""
    import redis

    channel = f"plenary-test-channel-{uuid.uuid4().hex[:8]}"
    queue = redis.Redis.from_url(redis_url)
    server = Server(app, redis_url, tmp_path, "own-channel", command=GEVENT_GUNICORN,
                    extra_env={"SOCKETIO_ASYNC_MODE": "gevent", "REDIS_CHANNEL": channel})
    try:
        server.wait_ready()
        # The process subscribes when its first Engine.IO session opens.
        handshake = requests.get(server.url + "/socket.io/?EIO=4&transport=polling",
                                 headers={"Origin": server.url}, timeout=5)
        assert handshake.status_code == 200

        def listening() -> bool:
            return dict(queue.pubsub_numsub(channel)).get(channel.encode()) == 1

        eventually(listening, message=f"a process listening on {channel}")
    finally:
        server.stop()
