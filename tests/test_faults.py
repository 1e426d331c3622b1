"""Faults, for real: a server process killed or stopped while people type, the database
going away in the middle of writes, the message queue restarting under two processes.

Each test runs real server processes the way docs/deployment.md runs them (gunicorn's gevent
WebSocket worker) on the test database, with tests/yclient.py editors and the HTTP API as the
clients. What is asserted is the promise made to the people typing and voting: an edit,
comment or ballot the server acknowledged is in the database; one it did not is refused in
the one error shape and leaves nothing behind; and the process carries on afterwards.

A vote closing while ballots arrive is covered by
tests/test_vote_races.py::test_ballots_racing_the_close_are_counted_or_refused (every ballot
either counted in the record or refused, none half-counted), on both databases.

PLENARY_HARDENING=long types for longer and repeats each fault.
"""
from __future__ import annotations

import signal
import threading
import time
from typing import Any

import pytest

from models import ClauseKind, ClauseUpdate, GroupRole, db
from tests.conftest import HARDENING_LONG
from tests.helpers.live import (
    database_write_locked,
    log_size,
    misattributed,
    reloaded_text,
    stored_text,
)
from tests.helpers.servers import GEVENT, GEVENT_GUNICORN, Server, free_port, gunicorn, log_of, sign_in
from tests.yclient import EditorClient, eventually

LONG = HARDENING_LONG


def editing_room(factories, editors: int):
    """(recommendation, its members' API tokens, the members)."""
    group = factories.group()
    people = [factories.member_of(group, GroupRole.MEMBER) for _ in range(editors)]
    recommendation = factories.recommendation(group, clauses=[
        (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;")])
    return recommendation, [factories.api_token(person) for person in people], people


def all_in(editors: list[EditorClient], recommendation_id: int) -> tuple[str, int]:
    """Every editor joins the recommendation and opens its clause: (its doc, its id)."""
    doc = editors[0].join(recommendation_id)["clauses"][0]["doc"]
    for editor in editors[1:]:
        editor.join(recommendation_id)
    for editor in editors:
        editor.open(doc)
    return doc, int(doc.split(":")[1])


class Ledger:
    """Which word each acknowledgement was for: an edit the server answered ``ok`` to was
    durable before the answer left (drafting/editing/writer.py)."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.lock = threading.Lock()

    def type(self, editor: EditorClient, doc: str, index: int, word: str) -> None:
        def answered(answer: Any = None) -> None:
            with self.lock:
                self.answers[word] = answer

        # EditorClient sends each local change with ``callback=self._acked``: for this word,
        # the answer is noted against it.
        editor._acked = answered  # type: ignore[method-assign]
        editor.insert(doc, index, word)

    def acknowledged(self) -> list[str]:
        with self.lock:
            return [w for w, a in self.answers.items() if isinstance(a, dict) and a.get("ok")]

    def refused(self) -> list[Any]:
        with self.lock:
            return [a for a in self.answers.values() if not (isinstance(a, dict) and a.get("ok"))]


# --- (a) the server process stopped while people type --------------------------------------

def test_server_stopped_while_several_people_type_loses_nothing(app, factories, tmp_path):
    """Four editors type; the server gets SIGTERM (a deployment's restart), is started again,
    and then SIGKILL (a crash), each in the middle of the typing. Every edit it acknowledged
    is in the database when it is gone; SIGTERM stops it promptly and cleanly (whatever it
    had received is written and answered first, then the connections are closed: see
    gunicorn.conf.py). Started again, the editors come back by themselves, send what it never
    made durable, and every replica and the server's text end equal, with every word anyone
    typed."""
    recommendation, tokens, _people = editing_room(factories, 4)
    server = gunicorn(app, tmp_path)
    editors = [EditorClient(server.url, token=token).connect() for token in tokens]
    faults = ["SIGTERM", "SIGKILL"] * (3 if LONG else 1)
    rounds = 100 if LONG else 30
    words: list[str] = []
    try:
        doc, clause_id = all_in(editors, recommendation.id)
        for fault in faults:
            ledger = Ledger()
            for n in range(rounds):
                editor = editors[n % len(editors)]
                word = f"<{fault[3:]}{len(words)}>"
                words.append(word)
                ledger.type(editor, doc, len(editor.text(doc)) if n % 3 else 0, word)
                if n == rounds // 2:
                    if fault == "SIGKILL":
                        server.crash()
                    else:
                        server.process.send_signal(signal.SIGTERM)
                time.sleep(0.01)
            server.process.wait(timeout=20)
            eventually(lambda: not any(editor.sio.connected for editor in editors),
                       message="editors notice the server is gone")
            acknowledged = ledger.acknowledged()
            assert len(acknowledged) >= rounds // 3, ledger.answers  # typed before the fault
            durable = reloaded_text(app, clause_id)
            assert [word for word in acknowledged if word not in durable] == [], fault
            assert stored_text(app, clause_id) == durable
            if fault == "SIGTERM":
                log = log_of(server)
                assert server.process.returncode == 0, log
                # Promptly: the worker ended by itself, not killed when a timeout ran out.
                assert "Traceback" not in log and "graceful timeout" not in log, log
                assert "Worker exiting" in log and "SIGKILL" not in log, log
                # Nothing the server received was left unanswered or refused.
                assert ledger.refused() == [], ledger.refused()

            server = gunicorn(app, tmp_path, port=server.port)
            for editor in editors:
                editor.reconnect()
            eventually(lambda: len({editor.text(doc) for editor in editors}) == 1
                       and all(word in editors[0].text(doc) for word in words), timeout=30,
                       message=f"convergence after the restart that followed {fault}")
            eventually(lambda: stored_text(app, clause_id) == editors[0].text(doc),
                       message="everything durable")
            assert reloaded_text(app, clause_id) == editors[0].text(doc)
            # Whichever replica handed back what the crash lost, every word is its typist's.
            assert misattributed(app, clause_id) == []
        assert [editor.errors for editor in editors] == [[]] * len(editors)
    finally:
        for editor in editors:
            editor.disconnect()
        server.stop()


def test_words_lost_in_a_crash_are_handed_back_under_their_authors(app, factories, tmp_path):
    """The crash the design plans for: words relayed to everyone and not yet written when the
    server dies. The first editor back hands in everyone's, in its answer to the server's
    sync step 1; each word is stored once, under whoever typed it, with who handed it in."""
    recommendation, tokens, people = editing_room(factories, 3)
    server = gunicorn(app, tmp_path)
    editors = [EditorClient(server.url, token=token).connect() for token in tokens]
    try:
        doc, clause_id = all_in(editors, recommendation.id)
        with database_write_locked(app):  # nothing typed now becomes durable
            editors[1].insert(doc, 0, "Firmly ")
            editors[2].insert(doc, len(editors[2].text(doc)), " and their families")
            eventually(lambda: editors[0].text(doc).startswith("Firmly ")
                       and editors[0].text(doc).endswith(" and their families"),
                       message="both relayed to the first editor")
            server.crash()
        assert stored_text(app, clause_id) == "Calls on States to protect migrant workers;"
        server = gunicorn(app, tmp_path, port=server.port)
        editors[0].reconnect()  # the first back: it hands in the others' words
        expected = editors[0].text(doc)
        eventually(lambda: stored_text(app, clause_id) == expected, message="handed back")
        assert misattributed(app, clause_id) == []
        with app.app_context():
            rows = db.session.execute(
                db.select(ClauseUpdate.author_id, ClauseUpdate.handed_in_by_id)
                .where(ClauseUpdate.clause_id == clause_id).order_by(ClauseUpdate.id)).all()[1:]
        assert sorted(rows) == sorted([(people[1].id, people[0].id), (people[2].id, people[0].id)])
        for editor in editors[1:]:  # their own copies come back too: nothing twice
            editor.reconnect()
        eventually(lambda: all(editor.text(doc) == expected for editor in editors), message="convergence")
        assert reloaded_text(app, clause_id) == expected
        assert log_size(app, clause_id) == 1 + len(rows)
    finally:
        for editor in editors:
            editor.disconnect()
        server.stop()


def test_a_stop_does_not_wait_for_a_client_that_stopped_polling(app, factories, tmp_path):
    """A browser that opened an Engine.IO session over long-polling and went away (a closed
    laptop, a proxy that dropped it) must not hold a restart: SIGTERM closes every session
    without waiting for its client to collect the goodbye, and the worker exits by itself,
    not when gunicorn's graceful timeout runs out and kills it."""
    server = gunicorn(app, tmp_path, GUNICORN_CMD_ARGS="--graceful-timeout 4")
    try:
        browser, _status = sign_in(server, factories.participant().email)
        handshake = browser.get(server.url + "/socket.io/?EIO=4&transport=polling",
                                headers={"Origin": server.url}, timeout=5)
        assert handshake.status_code == 200  # and it never polls again
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)
        log = log_of(server)
        assert "Worker exiting" in log and "SIGKILL" not in log, log
    finally:
        server.stop()


def test_the_writer_drains_before_a_stop(app, factories, connect, monkeypatch):
    """What gunicorn.conf.py relies on when stopping: ``drain`` returns only once every edit
    handed to the writer is written and answered, and says so when it could not be."""
    from drafting.editing.writer import drain, unsettled

    monkeypatch.setitem(app.config, "YJS_WRITE_TIMEOUT_MS", 5000)
    recommendation, tokens, _people = editing_room(factories, 1)
    editor = connect(tokens[0])
    doc = editor.join(recommendation.id)["clauses"][0]["doc"]
    editor.open(doc)
    assert drain(app, 1.0)
    with database_write_locked(app):
        editor.insert(doc, 0, "Strongly ")
        eventually(lambda: unsettled(app) == 1, message="the edit reaching the writer")
        assert not drain(app, 0.3)  # held by the lock: not written, not answered
        assert editor.acks == []
    assert drain(app, 10.0)
    eventually(lambda: editor.acks == [{"ok": True}], message="the answer drain waited for")
    assert reloaded_text(app, int(doc.split(":")[1])).startswith("Strongly ")


# --- (b) the database going away in the middle of writes ------------------------------------

COUNTED = ("comment_thread", "comment", "ballot", "vote_voter", "clause_update", "notification")


def row_counts(app) -> dict[str, int]:
    from sqlalchemy import text

    from models import db

    with app.app_context():
        return {table: db.session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
                for table in COUNTED}


class DatabaseOutage:
    """Another connection takes the write locks of the tables a comment, a ballot and an edit
    are written to. On SQLite every write then waits out its busy timeout and fails with
    "database is locked"; on PostgreSQL the writers queue for the lock and are then cut off
    (``pg_terminate_backend``, as a failover or an administrator does) mid-transaction."""

    def __init__(self, app) -> None:
        from models import db

        with app.app_context():
            self.engine = db.engine
        self.dialect = self.engine.dialect.name
        self.raw = self.engine.raw_connection()
        self.terminated = 0

    def __enter__(self) -> DatabaseOutage:
        cursor = self.raw.cursor()
        if self.dialect == "sqlite":
            cursor.execute("BEGIN EXCLUSIVE")
        else:
            cursor.execute(f"LOCK TABLE {', '.join(COUNTED)}, vote IN EXCLUSIVE MODE")
        return self

    def cut_off_waiting_writers(self, at_least: int) -> None:
        """PostgreSQL: once ``at_least`` transactions wait for the locks, end their
        connections (and every idle one of the pool, which the pool must notice)."""
        if self.dialect == "sqlite":
            return
        cursor = self.raw.cursor()

        def waiting() -> int:
            # Statistics are read once per transaction unless the snapshot is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                           " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
            return int(cursor.fetchone()[0])

        eventually(lambda: waiting() >= at_least, timeout=15, message="writers waiting for the lock")
        cursor.execute("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                       " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                       " AND backend_type = 'client backend') AS ended")
        self.terminated = int(cursor.fetchone()[0])

    def __exit__(self, *exc: Any) -> None:
        self.raw.rollback()
        self.raw.close()


def first_clause(app, recommendation_id: int) -> int:
    from models import Clause, db

    with app.app_context():
        return db.session.scalar(db.select(Clause.id).where(Clause.recommendation_id == recommendation_id))


def test_a_database_outage_refuses_writes_cleanly_and_the_server_recovers(app, factories, client,
                                                                          connect, monkeypatch):
    """A comment (API and form), a ballot and a live edit written while the database is
    locked or its connections are cut: each is refused in the one error shape (503
    "unavailable"; the form gets the error page, not a 500), nothing of any is in the
    database, nobody else heard of the comments and the ballot; and once the database is back
    the same requests succeed on the same server process. The live edit was relayed at once
    (ARCHITECTURE.md: relay at once, acknowledge when durable): its sender is told it is not
    saved yet, and the writer writes it as soon as the database is back."""
    from models import ClauseKind

    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;")])
    chair, member = factories.api_token(cast.chair), factories.api_token(cast.member)
    # A vote on another recommendation: a vote on this one would hold its text still.
    voted_on = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Urges;")])
    opened = client.api("POST", f"/api/v1/recommendations/{voted_on.id}/votes", {
        "subject": "clause", "clause_id": first_clause(app, voted_on.id)},
        token=chair)
    assert opened.status_code == 201, opened.get_json()
    vote = opened.get_json()
    yes = next(o["id"] for o in vote["options"] if o["kind"] == "yes")
    client.sign_in(cast.chair)
    editor, reader = connect(chair), connect(member)
    doc = editor.join(recommendation.id)["clauses"][0]["doc"]
    clause_id = int(doc.split(":")[1])
    reader.join(recommendation.id)
    editor.open(doc)
    reader.open(doc)
    before_text = stored_text(app, clause_id)
    before = row_counts(app)

    def comment_by_api() -> Any:
        return client.application.test_client().open(
            f"/api/v1/clauses/{clause_id}/threads", method="POST", json={"body": "During the outage"},
            headers={"Authorization": f"Bearer {member}"})

    def ballot_by_api() -> Any:
        return client.application.test_client().open(
            f"/api/v1/votes/{vote['id']}/ballot", method="POST", json={"option_id": yes},
            headers={"Authorization": f"Bearer {member}"})

    def comment_by_form() -> Any:
        return client.submit(f"/clauses/{clause_id}/threads", {"body": "Form during the outage"})

    jobs = {"api comment": comment_by_api, "api ballot": ballot_by_api, "form comment": comment_by_form}
    answers: dict[str, Any] = {}
    threads = [threading.Thread(target=lambda name=name, job=job: answers.__setitem__(name, job()))
               for name, job in jobs.items()]
    with DatabaseOutage(app) as outage:
        for thread in threads:
            thread.start()
        editor.insert(doc, 0, "Strongly ")
        outage.cut_off_waiting_writers(at_least=4)
        for thread in threads:
            thread.join(30)
        eventually(lambda: editor.acks, timeout=30, message="the edit's answer")
    for name in ("api comment", "api ballot"):
        response = answers[name]
        assert response.status_code == 503, (name, response.status_code, response.get_data(as_text=True)[:500])
        assert response.get_json()["error"]["code"] == "unavailable", response.get_json()
    page = answers["form comment"]
    assert page.status_code == 503 and page.mimetype == "text/html", page.status_code
    assert "The database did not answer, so nothing was changed" in page.get_data(as_text=True)
    assert editor.acks == [{"ok": False, "error": editor.acks[0]["error"]}]
    assert editor.acks[0]["error"]["code"] == "unavailable"
    # Nothing half-written; the edit went to the others at once.
    assert row_counts(app) == before
    assert stored_text(app, clause_id) == reloaded_text(app, clause_id) == before_text
    assert reader.text(doc) == "Strongly " + before_text
    if outage.dialect == "postgresql":
        assert outage.terminated >= 4
    eventually(lambda: stored_text(app, clause_id) == "Strongly " + before_text, timeout=30,
               message="the edit, written by the writer's next try")

    # The database is back: the same server process takes the same writes.
    assert comment_by_api().status_code == 201
    ballot = ballot_by_api()
    assert ballot.status_code == 200 and ballot.get_json()["changed"] is False, ballot.get_json()
    assert comment_by_form().status_code in (200, 302, 303)
    editor.open(doc)  # the editor's provider sends what was not acknowledged again
    assert reloaded_text(app, clause_id) == reader.text(doc) == "Strongly " + before_text
    after = row_counts(app)
    assert after["comment_thread"] == before["comment_thread"] + 2
    assert after["comment"] == before["comment"] + 2
    assert after["ballot"] == before["ballot"] + 1
    assert after["clause_update"] > before["clause_update"]


# --- (c) the message queue restarting under two processes -------------------------------------

class PrivateRedis:
    """A Redis server of this test's own on a free port (the shared one on 6379 serves other
    tests and is never restarted), without persistence: a restart forgets everything, as a
    failed-over Redis would."""

    def __init__(self, tmp_path) -> None:
        import shutil

        from tests.conftest import service_missing

        self.binary = shutil.which("redis-server")
        if self.binary is None:
            service_missing("redis-server", "install Redis (the redis-server command)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.process: Any = None

    def start(self) -> None:
        import subprocess

        import redis

        self.process = subprocess.Popen(  # noqa: S603 - the system's redis-server
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        eventually(lambda: self._pings(redis), message="the private Redis answering")

    def _pings(self, redis: Any) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.mark.redis
def test_redis_restarting_under_two_processes(app, factories, tmp_path):
    """Two gunicorn processes joined by a Redis that is killed and started again: while it is
    down, requests are still answered (events are lost, nothing else) and neither process
    dies; once it is back, events caused on one process reach a client on the other again,
    and sign-in works on both."""
    import requests
    import socketio


    queue = PrivateRedis(tmp_path)
    queue.start()
    servers: list[Server] = []
    client = None
    try:
        servers = [Server(app, queue.url, tmp_path, name, command=GEVENT_GUNICORN, extra_env=GEVENT)
                   for name in ("a", "b")]
        for server in servers:
            server.wait_ready()
        first, second = servers
        conference = factories.conference()
        secretariat = factories.secretariat()
        token = factories.api_token(secretariat)
        watcher = factories.participant()
        browser, status = sign_in(second, watcher.email)
        assert status == 302
        received: list[int] = []
        client = socketio.Client(http_session=browser, reconnection=False)
        client.on("membership_changed", lambda payload: received.append(payload["group_id"]))
        client.connect(second.url, transports=["websocket"], wait_timeout=10)

        def add_member() -> tuple[int, int]:
            """On the first process, add the watcher (on the second) to a new group: the
            event for it has to cross through Redis."""
            group = factories.group(conference)
            response = requests.post(f"{first.url}/api/v1/groups/{group.id}/members", json={
                "participant_id": watcher.id, "role": GroupRole.MEMBER.value,
            }, headers={"Authorization": f"Bearer {token}"}, timeout=20)
            return group.id, response.status_code

        for restart in range(3 if LONG else 1):
            before, status = add_member()
            assert status == 201
            eventually(lambda before=before: before in received, timeout=15,
                       message="an event across processes")
            queue.kill()
            _during, status = add_member()
            # Written and answered; only its event had nowhere to go.
            assert status == 201, f"restart {restart}: {status}"
            queue.start()
            # Once both processes are back on the queue (they retry with a back-off), events
            # flow again: keep causing one until it arrives.
            arrived: list[int] = []

            def crossed(arrived: list[int] = arrived) -> bool:
                group_id, code = add_member()
                assert code == 201
                arrived.append(group_id)
                return any(g in received for g in arrived)

            eventually(crossed, timeout=30, message="events after Redis came back")
            assert client.connected
            for server in servers:
                assert server.process.poll() is None, log_of(server)
        assert all(sign_in(server, watcher.email)[1] == 302 for server in servers)
        assert "Cannot receive from redis" in log_of(second)  # it was down, and noticed
        for server in servers:
            log = log_of(server)
            assert "Worker exiting" not in log and "Booting worker" in log, log
            assert log.count("Booting worker") == 1, log  # no worker died and was replaced
    finally:
        if client is not None:
            client.disconnect()
        for server in servers:
            server.stop()
        queue.kill()


@pytest.mark.sqlite_only
def test_a_server_started_on_a_database_it_cannot_write_recovers_once_it_can(app, factories, tmp_path):
    """A worker that started while the database file could not be written kept answering 503
    to every write after it could, until restarted: SQLite opens such a file read-only, for
    good, and the pool kept that connection."""
    import shutil
    import sqlite3
    import subprocess

    import requests

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if shutil.which("chattr") is None:
        pytest.fail("chattr (e2fsprogs) is needed to make the database file unwritable even for root")
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Calls on States;")])
    headers = {"Authorization": f"Bearer {factories.api_token(cast.chair)}"}
    # A database of its own, copied whole, so that the rest of the suite is not touched.
    path = tmp_path / "stuck.sqlite"
    source = sqlite3.connect(url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(path)
    source.backup(copy)
    source.close()
    copy.execute("PRAGMA journal_mode=WAL")
    copy.close()
    for leftover in tmp_path.glob("stuck.sqlite-*"):
        leftover.unlink()
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)  # noqa: S603, S607
    if made.returncode != 0:
        pytest.fail(f"chattr +i failed here: {made.stderr}")
    server = Server(app, None, tmp_path, "stuck", command=GEVENT_GUNICORN,
                    extra_env={"SOCKETIO_ASYNC_MODE": "gevent", "DATABASE_URL": f"sqlite:///{path}"})
    try:
        server.wait_ready()
        add = f"{server.url}/api/v1/recommendations/{recommendation.id}/clauses"
        body = {"kind": "operative", "text": "Invites employers;"}
        refused = requests.post(add, json=body, headers=headers, timeout=30)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "unavailable"
        subprocess.run(["chattr", "-i", str(path)], check=True)  # noqa: S603, S607
        # The same process, no restart: the next write goes through.
        eventually(lambda: requests.post(add, json=body, headers=headers, timeout=30).status_code == 201,
                   message="a write accepted once the file can be written")
        assert requests.get(f"{server.url}/api/v1/recommendations/{recommendation.id}", headers=headers,
                            timeout=30).json()["clauses"][-1]["text"] == "Invites employers;"
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)  # noqa: S603, S607
        server.stop()
