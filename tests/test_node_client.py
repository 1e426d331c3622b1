"""The wire contract spoken by a stock client from Node: yjs + y-protocols + socket.io-client.

tests/node/stock_client.mjs is a few dozen lines of protocol code on the npm packages alone,
the way any third-party client would be written from docs/protocol.md. It runs a script of
actions against the live server and prints what happened as JSON lines; the Python client of
tests/yclient.py edits the same clause at the same time, and the server's stored text is read
back through the app. Needs Node.js and the npm packages (`npm ci`): under CI=true their
absence fails the run, elsewhere these tests skip with a message.
"""
from __future__ import annotations

import json
import subprocess
import threading
from typing import Any

import pytest

from models import ClauseKind, ClauseUpdate, GroupRole, db
from tests.conftest import ROOT
from tests.helpers.live import reloaded_text, stored_text
from tests.yclient import EditorClient, eventually

pytestmark = [pytest.mark.node, pytest.mark.usefixtures("node")]

STOCK_CLIENT = ROOT / "tests" / "node" / "stock_client.mjs"
#: Bound on one run of the Node client (its own watchdog fires at 25 s).
TIMEOUT = 30.0
ORIGINAL = "Calls on States to protect migrant workers;"


class StockClient:
    """One run of tests/node/stock_client.mjs; its JSON lines collected as they come."""

    def __init__(self, node: str, config: dict[str, Any]) -> None:
        self.config = config
        self.events: list[dict[str, Any]] = []
        self.process = subprocess.Popen(  # noqa: S603 - our own script, our own arguments
            [node, str(STOCK_CLIENT), json.dumps(config)], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.append(json.loads(line))

    def named(self, name: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["event"] == name]

    def wait_for(self, name: str) -> dict[str, Any]:
        """The first event called ``name``, once the client has printed it."""
        eventually(lambda: self.named(name) or self.process.poll() is not None, timeout=TIMEOUT,
                   message=f"the stock client's {name!r}")
        found = self.named(name)
        assert found, self.explain(f"the stock client ended without {name!r}")
        return found[0]

    def finish(self) -> list[dict[str, Any]]:
        """Wait for the script to end (bounded) and insist it ran to the end."""
        try:
            self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(self.explain(f"the stock client ran over {TIMEOUT} s")) from None
        self.reader.join(timeout=5)
        assert self.process.returncode == 0 and self.named("done"), self.explain("the script failed")
        return self.events

    def explain(self, what: str) -> str:
        stderr = self.process.stderr.read() if self.process.poll() is not None and self.process.stderr else ""
        return f"{what}\nevents: {json.dumps(self.events, indent=1)}\nstderr: {stderr}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def stock_client(node, live_server):
    """``start(token, recommendation_id, script, **config)`` runs the Node client."""
    runs: list[StockClient] = []

    def start(token: str, recommendation_id: int, script: list[dict[str, Any]], **config: Any) -> StockClient:
        run = StockClient(node, {"url": live_server, "token": token,
                                 "recommendation": recommendation_id, "script": script, **config})
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.stop()


@pytest.fixture
def room(factories):
    """A group's draft of two clauses; tokens for two members, the chair and an observer."""
    cast = factories.cast()
    second = factories.member_of(cast.group, GroupRole.MEMBER, name="Second Member")
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.PREAMBULAR, "*Recognising* the crisis,"),
        (ClauseKind.OPERATIVE, ORIGINAL),
    ])
    people = {"member": cast.member, "second": second, "chair": cast.chair, "observer": cast.observer}
    tokens = {role: factories.api_token(person) for role, person in people.items()}
    return people, recommendation, tokens


def python_editor(connect, token: str, recommendation_id: int) -> tuple[EditorClient, dict[str, Any]]:
    """The Python client, joined and synced on the operative clause."""
    client = connect(token)
    clause = client.join(recommendation_id)["clauses"][1]
    client.open(clause["doc"])
    return client, clause


def test_stock_client_syncs_types_and_the_server_keeps_it(app, room, connect, stock_client):
    people, recommendation, tokens = room
    python, clause = python_editor(connect, tokens["second"], recommendation.id)
    doc = clause["doc"]
    final = "Strongly calls on States to protect all migrant workers and their families."
    node = stock_client(tokens["member"], recommendation.id, clause=1, script=[
        {"do": "synced"},
        {"do": "delete", "index": 0, "length": 1},                     # "alls on States…"
        {"do": "insert", "index": 0, "text": "Strongly c"},
        {"do": "insert", "index": len("Strongly calls on States to protect "), "text": "all "},
        {"do": "delete", "index": len("Strongly calls on States to protect all migrant workers"), "length": 1},
        {"do": "insert", "index": "end", "text": " and their families."},
        {"do": "wait_text", "equals": final},
        {"do": "acked"},
    ])
    events = node.finish()

    joined = node.named("joined")[0]["answer"]
    assert joined["ok"] is True and joined["role"] == "member" and joined["can_edit"] is True
    assert joined["clauses"][1]["doc"] == doc
    assert node.named("synced")[0]["text"] == ORIGINAL
    assert node.named("text")[-1]["text"] == final
    assert not node.named("refused") and not node.named("error"), events
    eventually(lambda: python.text(doc) == final, message="the Python client sees the stock client's text")
    assert stored_text(app, clause["id"]) == final
    assert reloaded_text(app, clause["id"]) == final
    with app.app_context():
        authors = set(db.session.scalars(db.select(ClauseUpdate.author_id)
                                         .where(ClauseUpdate.clause_id == clause["id"])))
    assert people["member"].id in authors


def test_stock_and_python_clients_typing_at_once_converge(app, room, connect, stock_client):
    _people, recommendation, tokens = room
    python, clause = python_editor(connect, tokens["second"], recommendation.id)
    doc = clause["doc"]
    node_parts = [f"<n{n}>" for n in range(15)]
    python_parts = [f"<p{n}>" for n in range(15)]
    everything = node_parts + python_parts
    # Both type at both ends of the clause (the same spots: the order of concurrent inserts is
    # for Yjs to settle), neither waiting for the other's edits before making its own.
    script: list[dict[str, Any]] = [{"do": "synced"}]
    for n, part in enumerate(node_parts):
        script.append({"do": "insert", "index": 0 if n % 2 else "end", "text": part})
    script += [{"do": "wait_text", "contains": everything}, {"do": "acked"}]
    node = stock_client(tokens["member"], recommendation.id, script, clause=1)
    node.wait_for("synced")
    for n, part in enumerate(python_parts):
        python.insert(doc, 0 if n % 2 else len(python.text(doc)), part)
    node.finish()

    final = node.named("text")[-1]["text"]
    assert all(final.count(part) == 1 for part in everything), final
    eventually(lambda: python.text(doc) == final, message="the Python client converges")
    eventually(lambda: stored_text(app, clause["id"]) == final, message="the stored text converges")
    assert reloaded_text(app, clause["id"]) == final
    assert not node.named("refused") and not node.named("error")


def test_a_version_2_update_is_refused_and_changes_nothing(app, room, connect, stock_client):
    """The contract takes Yjs version-1 updates only. A version-2 update begins with a zero
    byte, which a version-1 reader takes for "no items"; the server checks that what follows
    is exactly one delete set, so a client speaking version 2 is told (``invalid``) instead
    of being told its edits were saved."""
    _people, recommendation, tokens = room
    python, clause = python_editor(connect, tokens["second"], recommendation.id)
    doc = clause["doc"]
    with app.app_context():
        log_before = db.session.scalar(db.select(db.func.count(ClauseUpdate.id)))
    node = stock_client(tokens["member"], recommendation.id, clause=1, script=[
        {"do": "synced"},
        {"do": "send_update_v2", "index": 0, "text": "VERSION TWO "},
        # The connection still works: a Python edit after the v2 update reaches the Node client.
        {"do": "wait_text", "equals": "Firmly " + ORIGINAL},
        {"do": "insert", "index": "end", "text": " (v1)"},
        {"do": "wait_text", "equals": "Firmly " + ORIGINAL + " (v1)"},
        {"do": "acked"},
    ])
    answer = node.wait_for("answer")["answer"]
    assert answer["ok"] is False and answer["error"]["code"] == "invalid", answer
    assert stored_text(app, clause["id"]) == ORIGINAL
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ClauseUpdate.id))) == log_before
    python.insert(doc, 0, "Firmly ")
    node.finish()

    final = "Firmly " + ORIGINAL + " (v1)"
    eventually(lambda: python.text(doc) == final, message="the Python client keeps editing")
    assert "VERSION TWO" not in python.text(doc)
    assert not python.errors
    assert stored_text(app, clause["id"]) == reloaded_text(app, clause["id"]) == final


def test_stock_client_presence_carries_the_real_name(room, connect, stock_client):
    people, recommendation, tokens = room
    python, clause = python_editor(connect, tokens["second"], recommendation.id)
    doc = clause["doc"]
    forged = {"user": {"name": "The Secretary-General", "id": 1, "color": "#000000"},
              "cursor": {"anchor": 3, "head": 7}}
    node = stock_client(tokens["member"], recommendation.id, clause=1, script=[
        {"do": "synced"},
        {"do": "presence", "state": forged},
        {"do": "wait_awareness", "name": "Second Member"},
        {"do": "awareness"},
        {"do": "acked"},
        {"do": "disconnect"},
    ])
    client_id = node.wait_for("joined")["client_id"]

    def node_presence() -> list[Any]:
        return [entry for _doc, entries in python.awareness for entry in entries
                if entry.client_id == client_id and entry.state is not None and "cursor" in entry.state]

    eventually(node_presence, message="the stock client's presence reaches the Python client")
    state = node_presence()[-1].state
    member = people["member"]
    assert state["user"]["name"] == member.name == "Member Person"
    assert state["user"]["id"] == member.id
    assert set(state["user"]) == {"id", "name", "color", "category"}
    assert state["user"]["color"] != forged["user"]["color"]
    assert state["cursor"] == {"anchor": 3, "head": 7}
    # The other way round: the Python client's presence reaches the stock client, stamped too.
    python.set_presence(doc, 777001, {"user": {"name": "Nobody"}, "cursor": {"anchor": 1}})
    node.finish()
    seen = node.named("awareness")[-1]["states"]
    python_presence = [s for s in seen if s["client_id"] == 777001]
    assert python_presence and python_presence[0]["state"]["user"]["name"] == "Second Member"
    # Gone when the stock client disconnects.
    eventually(lambda: any(entry.client_id == client_id and entry.state is None
                           for _doc, entries in python.awareness for entry in entries),
               message="the stock client's presence is cleared")


def test_stock_client_hears_refusals(app, room, stock_client):
    """An observer's stock client: its typing and a garbage message are refused with an
    ``error`` event and a refusing acknowledgement; the text is unchanged."""
    _people, recommendation, tokens = room
    node = stock_client(tokens["observer"], recommendation.id, clause=1, script=[
        {"do": "synced"},
        {"do": "insert", "index": 0, "text": "SNEAKY "},
        {"do": "wait_error", "code": "forbidden"},
        {"do": "send_hex", "hex": "000900"},
        {"do": "wait_error", "code": "invalid"},
        {"do": "acked"},
    ])
    node.finish()
    joined = node.named("joined")[0]["answer"]
    assert joined["role"] == "observer" and joined["can_edit"] is False
    errors = [event["error"] for event in node.named("error")]
    doc = joined["clauses"][1]["doc"]
    # "forbidden" once or twice: if the server's sync step 1 is handled after the typing, the
    # client's step 2 answer carries the typing again, and is refused again.
    assert {error["code"] for error in errors} == {"forbidden", "invalid"}
    assert all(error["doc"] == doc for error in errors)
    assert node.named("refused")[0]["answer"]["error"]["code"] == "forbidden"
    assert node.named("answer")[0]["answer"]["error"]["code"] == "invalid"
    assert stored_text(app, joined["clauses"][1]["id"]) == ORIGINAL
