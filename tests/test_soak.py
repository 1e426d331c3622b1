"""Load and soak: a hundred participants of one working group against a real server process
(gunicorn's gevent WebSocket worker, as docs/deployment.md runs it), typing, commenting and
voting at the same time, and then a full count.

- Typing: bench/loadgen.mjs, the benchmark's load generator (one Node process; each editor a
  real Yjs replica over Socket.IO, every edit acknowledged). A hundred tests/yclient.py
  editors (threads, pycrdt) cost the 2-core test machine more than the server they load.
- Commenting: threads on the typed clause and replies to them, through the HTTP API.
- Voting: every participant casts a roll-call ballot in an open vote, a third change it.

Then: no error anywhere (no 5xx, no refused edit, no error event, nothing unacknowledged, no
traceback in the server's log); the server process's memory grew by less than
``RSS_GROWTH_MIB``; and everything is accounted for: every replica's text, the server's and
the database's are one text; the update log has a row for every edit acknowledged; the
comments and ballots in the database are exactly the ones acknowledged, each ballot with the
last choice its voter was answered for, and the closed vote's record counts them.

Normal run: 10 s of typing. PLENARY_HARDENING=long: 5 minutes (PLENARY_SOAK_SECONDS
to choose).
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from drafting.votes.schemas import VoteOpen
from models import Ballot, ClauseKind, ClauseUpdate, Comment, CommentThread, Conference, GroupRole, db
from tests.conftest import HARDENING_LONG, ROOT, service_missing
from tests.helpers.live import reloaded_text, stored_text
from tests.helpers.servers import GEVENT_GUNICORN, Server, log_of

pytestmark = pytest.mark.node

LOADGEN = ROOT / "bench" / "loadgen.mjs"
LONG = HARDENING_LONG
PARTICIPANTS = 100
SECONDS = float(os.environ.get("PLENARY_SOAK_SECONDS", 300 if LONG else 10))
#: Keystrokes a second per editor: a hundred people, each typing a word now and then.
RATE = 0.5
INITIAL = "Calls on States to protect migrant workers; "
#: Bound on the server process's growth from the moment everyone has joined to the end.
RSS_GROWTH_MIB = 96 if LONG else 48


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        service_missing("Node.js", "install Node 20 (the `node` command) for bench/loadgen.mjs")
    for package in ("yjs", "y-protocols", "lib0", "socket.io-client", "ws"):
        if not any((where / "node_modules" / package / "package.json").exists()
                   for where in (ROOT / "bench", ROOT)):
            service_missing(f"The npm package {package}", "run `npm ci` in the repository root")
    return str(path)


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def worker_pid(master: int) -> int:
    """gunicorn's worker: the one child of its master."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


class Loadgen:
    """One run of bench/loadgen.mjs in fanout mode; its JSON lines collected as they come."""

    def __init__(self, node: str, config: dict[str, Any]) -> None:
        self.events: list[dict[str, Any]] = []
        self.synced = threading.Event()
        self.process = subprocess.Popen(  # noqa: S603 - our own script, our own arguments
            [node, str(LOADGEN)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"mode": "fanout", "transport": "socketio", **config}))
        self.process.stdin.close()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = json.loads(line)
            self.events.append(event)
            if event["event"] == "synced":
                self.synced.set()

    def result(self, timeout: float) -> dict[str, Any]:
        self.reader.join(timeout)
        self.process.wait(timeout=10)
        for event in self.events:
            if event["event"] in ("failed", "not_converged"):
                raise AssertionError(event)
        results = [e for e in self.events if e["event"] == "result"]
        assert results, (self.events, self.process.stderr.read() if self.process.stderr else "")
        return results[0]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Participants:
    """The HTTP side: comments and ballots sent while the others type, and what the server
    answered to each."""

    def __init__(self, url: str, tokens: list[str], clause_id: int, vote_id: int,
                 options: list[int]) -> None:
        self.url, self.tokens, self.clause_id = url, tokens, clause_id
        self.vote_id, self.options = vote_id, options
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.comments: set[int] = set()
        self.threads: list[int] = []
        #: voter index -> the option of the last ballot the server acknowledged
        self.choices: dict[int, int] = {}
        self.ballots_sent = 0
        self.changes = 0
        self.errors: list[str] = []
        self.rate_limited = 0

    def _post(self, session: requests.Session, who: int, path: str, body: dict[str, Any]) -> Any:
        response = session.post(self.url + path, json=body, timeout=30,
                                headers={"Authorization": f"Bearer {self.tokens[who]}"})
        if response.status_code == 429:
            with self.lock:
                self.rate_limited += 1
            return None
        if response.status_code not in (200, 201):
            with self.lock:
                self.errors.append(f"POST {path}: {response.status_code} {response.text[:300]}")
            return None
        return response.json()

    def comment(self, seed: int) -> None:
        chance = random.Random(seed)
        session = requests.Session()
        n = 0
        while not self.stop.is_set():
            who = chance.randrange(len(self.tokens))
            with self.lock:
                thread = chance.choice(self.threads) if self.threads and chance.random() < 0.6 else None
            n += 1
            if thread is None:
                made = self._post(session, who, f"/api/v1/clauses/{self.clause_id}/threads",
                                  {"body": f"Point {seed}.{n}: *keep* the wording?"})
                if made is not None:
                    with self.lock:
                        self.threads.append(made["id"])
                        self.comments.update(c["id"] for c in made["comments"])
            else:
                made = self._post(session, who, f"/api/v1/threads/{thread}/comments",
                                  {"body": f"Reply {seed}.{n}: agreed."})
                if made is not None:
                    with self.lock:
                        self.comments.add(made["id"])
            self.stop.wait(chance.uniform(0.1, 0.4))

    def vote(self, voters: range, seconds: float) -> None:
        """Each voter once, spread over the window; then a third of them change their mind.
        Every ballot of the plan is sent, however long the server takes."""
        chance = random.Random(voters.start)
        session = requests.Session()
        plan = [(who, chance.choice(self.options)) for who in voters]
        plan += [(who, chance.choice(self.options)) for who in voters if who % 3 == 0]
        pause = 0.8 * seconds / max(1, len(plan))
        for who, option in plan:
            with self.lock:
                self.ballots_sent += 1
            answer = self._post(session, who, f"/api/v1/votes/{self.vote_id}/ballot", {"option_id": option})
            if answer is not None:
                with self.lock:
                    self.changes += bool(answer["changed"])
                    self.choices[who] = option
            time.sleep(pause * chance.uniform(0.5, 1.5))


def characters_typed(app, clause_id: int) -> int:
    """How many characters were ever inserted into the clause, by the database's log alone:
    each insert advances its client's clock by its length, so the clocks of the rebuilt
    document's state vector add up to every character typed (deleted ones included)."""
    from drafting.editing import docs
    from drafting.realtime.protocol import read_var_uint

    with app.app_context():
        live = docs.LiveDoc(clause_id, *docs.new_doc())
        docs.catch_up(live)
        vector = live.doc.get_state()
    clients, position = read_var_uint(vector, 0)
    total = 0
    for _ in range(clients):
        _client, position = read_var_uint(vector, position)
        clock, position = read_var_uint(vector, position)
        total += clock
    return total


def crowd(app, factories, size: int):
    """A working group of ``size`` members (with API tokens), its chair (who does not
    vote), a recommendation with a clause to type in and another with an open vote."""
    from drafting.auth.services import create_api_token
    from drafting.votes import services as votes
    from models import Membership, Participant

    cast = factories.cast()
    typed = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "")])
    voted = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Urges States;")])
    with app.test_request_context():
        db.session.get(Conference, cast.conference.id).chair_votes = False
        tokens, people = [], []
        for n in range(size):
            person = Participant(email=f"soak{n}.{cast.group.id}@example.org", name=f"Delegate {n:03}",
                                 category="government_official", password_hash=None)
            db.session.add(person)
            db.session.flush()
            db.session.add(Membership(group_id=cast.group.id, participant_id=person.id, role=GroupRole.MEMBER))
            people.append(person.id)
            tokens.append(create_api_token(person, "soak")[1])
        chair = db.session.get(Participant, cast.chair.id)
        recommendation = db.session.merge(voted)
        vote = votes.open_vote(chair, recommendation, VoteOpen(
            subject="clause", clause_id=recommendation.live_clauses[0].id))
        db.session.commit()
        # The cast's own member and observer vote too unless left out: only the hundred.
        assert vote.eligible_count >= size
        typed_clause = db.session.merge(typed).live_clauses[0].id
        return (cast, typed.id, typed_clause, tokens, vote.id, [o.id for o in vote.options],
                factories.api_token(cast.chair))


def test_a_hundred_participants_type_comment_and_vote(app, factories, tmp_path, node):
    _cast, recommendation_id, clause_id, tokens, vote_id, options, chair_token = crowd(
        app, factories, PARTICIPANTS)
    server = Server(app, None, tmp_path, "soak", command=GEVENT_GUNICORN,
                    extra_env={"SOCKETIO_ASYNC_MODE": "gevent"})
    loadgen = None
    people = None
    try:
        server.wait_ready()
        worker = worker_pid(server.process.pid)
        with app.app_context():
            logged_before = db.session.scalar(select(func.count()).select_from(ClauseUpdate)
                                              .where(ClauseUpdate.clause_id == clause_id))
        started = time.monotonic()
        loadgen = Loadgen(node, {
            "url": server.url, "tokens": tokens, "recommendation": recommendation_id, "clause": 0,
            "editors": PARTICIPANTS, "rate": RATE, "warmup_s": 0, "seconds": SECONDS, "drain_s": 30,
            "initial_text": INITIAL, "seed": 7,
        })
        assert loadgen.synced.wait(120), loadgen.events
        synced_after = time.monotonic() - started
        rss_start = rss_mib(worker)
        people = Participants(server.url, tokens, clause_id, vote_id, options)
        workers = [threading.Thread(target=people.comment, args=(seed,)) for seed in range(3)]
        halves = (range(0, PARTICIPANTS // 2), range(PARTICIPANTS // 2, PARTICIPANTS))
        workers += [threading.Thread(target=people.vote, args=(voters, SECONDS)) for voters in halves]
        for thread in workers:
            thread.start()
        result = loadgen.result(timeout=SECONDS + 120)
        people.stop.set()
        for thread in workers:
            thread.join(60)
        rss_end = rss_mib(worker)
        wall = time.monotonic() - started

        # No errors.
        assert people.errors == [], people.errors[:10]
        assert (result["refused"], result["unacknowledged"], result["malformed"]) == (0, 0, 0), \
            result["refusals"]
        assert rss_end - rss_start < RSS_GROWTH_MIB, (rss_start, rss_end)

        # Every edit: one text everywhere.
        assert result["replicas_equal"] and result["server_equal"], result["distinct_texts"]
        assert stored_text(app, clause_id) == reloaded_text(app, clause_id) == result["text"]
        # ...and every character anyone typed is in the database's log, exactly.
        assert characters_typed(app, clause_id) == len(INITIAL) + result["inserts_sent"]
        with app.app_context():
            logged = db.session.scalar(select(func.count()).select_from(ClauseUpdate)
                                       .where(ClauseUpdate.clause_id == clause_id)) - logged_before
            # A row for the first wording and for every keystroke acknowledged (two people
            # backspacing one character at once send two, which the load generator counts as
            # one deletion).
            assert logged >= result["edits_sent"] + 1, (logged, result["edits_sent"])
            # Every comment: exactly the ones answered 201.
            stored_comments = set(db.session.scalars(
                select(Comment.id).join(CommentThread).where(CommentThread.clause_id == clause_id)))
            assert stored_comments == people.comments
            # Every ballot: one per voter acknowledged, with the last choice acknowledged.
            ballots = dict(db.session.execute(select(Ballot.voter_id, Ballot.option_id)
                                              .where(Ballot.vote_id == vote_id)).all())
        assert len(ballots) == len(people.choices) == PARTICIPANTS
        assert Counter(ballots.values()) == Counter(people.choices.values())
        closed = requests.post(f"{server.url}/api/v1/votes/{vote_id}/close", timeout=30,
                               headers={"Authorization": f"Bearer {chair_token}"})
        assert closed.status_code == 200, closed.text
        record = closed.json()
        assert record["turnout"] == PARTICIPANTS
        assert {o["id"]: o["count"] for o in record["options"]} == {
            option: Counter(people.choices.values())[option] for option in options}

        log = log_of(server)
        assert "Traceback" not in log and '" 500 ' not in log, log[-3000:]
        assert server.process.poll() is None
        figures = {
            "participants": PARTICIPANTS, "seconds": round(wall, 1), "sync_s": round(synced_after, 1),
            "edits": result["edits_sent"], "edits_per_s": result["edits_per_s"],
            "latency_p50_ms": result["latency_ms"]["p50"], "latency_p99_ms": result["latency_ms"]["p99"],
            "comments": len(people.comments), "ballots_sent": people.ballots_sent,
            "ballots_changed": people.changes, "rate_limited": people.rate_limited,
            "rss_start_mib": round(rss_start), "rss_end_mib": round(rss_end), "lost": 0,
        }
        print("soak figures:", json.dumps(figures))
    finally:
        if people is not None:
            people.stop.set()
        if loadgen is not None:
            loadgen.stop()
        server.stop()
