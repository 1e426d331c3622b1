"""The deployment docs/deployment.md prescribes, run for real: gunicorn with the gevent
WebSocket worker (the async mode the benchmarks measured best), on the test database.

The rest of the suite runs Socket.IO in threading mode in-process; this proves the same code
serves live editing under gevent: editors converge, every edit durable, presence relayed,
roles enforced, and SIGTERM ends the process cleanly.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from models import ClauseKind, GroupRole
from tests.helpers.live import reloaded_text, stored_text
from tests.helpers.servers import GEVENT_GUNICORN, Server
from tests.yclient import EditorClient, eventually


@pytest.fixture
def gevent_server(app, tmp_path) -> Iterator[Server]:
    server = Server(app, None, tmp_path, "gevent", command=GEVENT_GUNICORN,
                    extra_env={"SOCKETIO_ASYNC_MODE": "gevent"})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_editors_converge_under_the_gevent_worker(app, factories, gevent_server):
    group = factories.group()
    people = [factories.member_of(group, GroupRole.MEMBER) for _ in range(2)]
    observer = factories.member_of(group, GroupRole.OBSERVER)
    recommendation = factories.recommendation(group, clauses=[
        (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;")])
    tokens = [factories.api_token(person) for person in [*people, observer]]
    left, right, watcher = (EditorClient(gevent_server.url, token=token).connect() for token in tokens)
    try:
        doc = left.join(recommendation.id)["clauses"][0]["doc"]
        right.join(recommendation.id)
        watcher.join(recommendation.id)
        for client in (left, right, watcher):
            client.open(doc)
        for n in range(15):
            left.insert(doc, 0, f"<L{n}>")
            right.insert(doc, len(right.text(doc)), f"<R{n}>")
        words = [f"<L{n}>" for n in range(15)] + [f"<R{n}>" for n in range(15)]
        eventually(lambda: left.text(doc) == right.text(doc) == watcher.text(doc)
                   and all(word in left.text(doc) for word in words), message="convergence")
        eventually(lambda: len(left.acks) == len(right.acks) == 15, message="acknowledgements")
        assert left.acks + right.acks == [{"ok": True}] * 30
        clause_id = int(doc.split(":")[1])
        eventually(lambda: stored_text(app, clause_id) == left.text(doc), message="durable")
        assert reloaded_text(app, clause_id) == left.text(doc)
        # Presence goes out on the ticker, stamped with the sender's identity.
        assert left.set_presence(doc, 31337, {"cursor": {"anchor": 2}}) == {"ok": True}
        eventually(lambda: any(e.client_id == 31337 and e.state["user"]["id"] == people[0].id
                               for _d, es in right.awareness for e in es), message="presence")
        # An observer's edit is refused and never reaches anyone.
        watcher.insert(doc, 0, "Observed: ")
        eventually(lambda: watcher.acks, message="the observer's answer")
        assert watcher.acks[0]["error"]["code"] == "forbidden"
        assert "Observed" not in stored_text(app, clause_id)
    finally:
        for client in (left, right, watcher):
            client.disconnect()
    gevent_server.process.terminate()
    assert gevent_server.process.wait(timeout=20) == 0


def test_the_server_refuses_to_start_with_other_versions_of_what_it_patches(monkeypatch):
    """Plenary patches python-socketio and python-engineio (drafting/realtime/patches.py):
    with any other version than the one tested, it says so instead of starting."""
    from drafting.realtime import patches

    patches.check_versions()  # the installed ones are the pinned ones
    monkeypatch.setitem(patches.PINNED, "python-socketio", "0.0.1")
    with pytest.raises(patches.UnsupportedVersion, match=r"python-socketio 5\.\d+\.\d+ \(Plenary needs 0\.0\.1\)"):
        patches.check_versions()


def test_the_pins_in_setup_cfg_are_the_versions_the_patches_check():
    from drafting.realtime import patches

    requirements = (Path(__file__).parent.parent / "setup.cfg").read_text()
    install = requirements.split("install_requires =")[1].split("[options.packages.find]")[0]
    for name, pinned in patches.PINNED.items():
        assert f"{name}=={pinned}" in install, name


HOLD_WRITE_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")  # SQLite's one write lock, as a long export's commit holds it
print("holding", flush=True)
sys.stdin.readline()  # until the test lets go
connection.execute("COMMIT")
"""


@pytest.fixture
def hold_write_lock(app) -> Iterator[Any]:
    """``hold_write_lock()``: another process takes SQLite's write lock and holds it until a
    line is written to its stdin (or the test ends)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    holders: list[subprocess.Popen] = []

    def hold() -> subprocess.Popen:
        holder = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, url.removeprefix("sqlite:///")],  # noqa: S603
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        holders.append(holder)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        return holder

    yield hold
    for holder in holders:
        holder.kill()
        holder.wait(timeout=10)


@pytest.mark.sqlite_only
def test_a_write_waiting_for_sqlites_lock_does_not_freeze_the_gevent_worker(factories, gevent_server,
                                                                            hold_write_lock):
    """Another process held SQLite's write lock (the CLI, an export's commit): one API write
    waiting for it froze every page, static file and socket of the gevent worker for ~5 s,
    because SQLite waits for its lock inside C, where no other greenlet can run."""
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Calls on States;")])
    headers = {"Authorization": f"Bearer {factories.api_token(cast.chair)}"}
    holder = hold_write_lock()
    # The whole request is on the wire before anyone else's: the worker takes it first.
    body = json.dumps({"kind": "operative", "text": "Invites employers;"}).encode()
    raw = socket.create_connection(("127.0.0.1", gevent_server.port), timeout=30)
    raw.sendall(f"POST /api/v1/recommendations/{recommendation.id}/clauses HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\nAuthorization: {headers['Authorization']}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n".encode() + body)
    answers: list[bytes] = []
    writer = threading.Thread(target=lambda: answers.append(raw.makefile("rb").readline()))
    writer.start()
    # While the write waits, the same worker answers everyone else.
    assert requests.get(f"{gevent_server.url}/login", timeout=30).status_code == 200
    assert requests.get(f"{gevent_server.url}/static/favicon.svg", timeout=30).status_code == 200
    assert writer.is_alive(), "the write gave up (or never waited) while the lock was held"
    assert holder.stdin is not None
    holder.stdin.write("go\n")
    holder.stdin.flush()
    writer.join(timeout=30)
    assert answers and answers[0].split()[1] == b"201", answers


@pytest.mark.sqlite_only
def test_reading_with_a_token_writes_nothing_while_the_database_is_busy(factories, gevent_server,
                                                                        hold_write_lock):
    """A token's first use in a while recorded itself in the request's own transaction: a GET
    took SQLite's write lock (and waited seconds for it, then failed, when another process
    held it)."""
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Calls on States;")])
    headers = {"Authorization": f"Bearer {factories.api_token(cast.member)}"}
    holder = hold_write_lock()
    response = requests.get(f"{gevent_server.url}/api/v1/recommendations/{recommendation.id}",
                            headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert holder.poll() is None  # still holding: the read did not wait for it


def test_sigterm_stops_a_worker_that_has_an_idle_keep_alive_client(gevent_server):
    """A worker that had served a client still holding its keep-alive connection open (a
    browser, a proxy) went on waiting for it after SIGTERM, for gunicorn's whole graceful
    timeout (30 s): every restart behind a keep-alive proxy was that much late. Idle
    connections are closed at the stop; requests in flight still finish."""
    with requests.Session() as keeper:
        assert keeper.get(f"{gevent_server.url}/login", timeout=10).status_code == 200
        gevent_server.process.terminate()
        try:
            gevent_server.process.wait(timeout=8)  # well under gunicorn's graceful timeout
        except subprocess.TimeoutExpired:
            pytest.fail("the worker did not stop: it waited for an idle keep-alive connection")
