"""Plenary as a benchmark target: a scratch database with a group, a clause and its editors'
API tokens, a clause history seeded the way the server would have logged it, and the server
process itself."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Room:
    """One recommendation with its clauses (one, unless asked for more), and a token for
    each of its editors."""

    database_url: str
    recommendation_id: int
    clause_id: int
    participant_ids: list[int]
    tokens: list[str]
    #: Every clause, ``clause_id`` first.
    clause_ids: tuple[int, ...] = ()


def _app(database_url: str, instance: Path) -> Flask:
    # The app reads its configuration from the environment when it is created.
    os.environ["PLENARY_INSTANCE_PATH"] = str(instance)
    os.environ["DATABASE_URL"] = database_url
    from drafting import create_app

    return create_app()


def prepare_room(database_url: str, instance: Path, editors: int, chairs: int = 0,
                 clauses: int = 1) -> Room:
    """Migrate the database, then add a conference, a working group whose members are the
    editors (the first ``chairs`` of them its chairs), a recommendation with ``clauses``
    operative clauses (the first empty, the others worded), and an API token each."""
    from flask_migrate import upgrade

    from drafting.auth.services import create_api_token
    from models import (
        Clause,
        ClauseKind,
        Conference,
        GroupRole,
        Membership,
        Participant,
        Recommendation,
        StakeholderCategory,
        VoteRule,
        WorkingGroup,
        db,
    )

    app = _app(database_url, instance)
    with app.test_request_context():
        upgrade()
        stamp = time.time_ns()
        # Rules of procedure under which the ballots benchmark's whole room votes at once:
        # by simple majority, the chair too.
        conference = Conference(title="Bench", starts_on=date(2009, 6, 24), ends_on=date(2009, 6, 25),
                                decision_rule=VoteRule.SIMPLE_MAJORITY, chair_votes=True)
        group = WorkingGroup(conference=conference, name=f"Bench {stamp}")
        recommendation = Recommendation(group=group, title="Bench")
        clause = Clause(recommendation=recommendation, kind=ClauseKind.OPERATIVE, text="", position=1)
        more = [Clause(recommendation=recommendation, kind=ClauseKind.OPERATIVE, position=n,
                       text=f"Invites the participating States to take measure {n};")
                for n in range(2, clauses + 1)]
        db.session.add_all([conference, group, recommendation, clause, *more])
        people, tokens = [], []
        for n in range(editors):
            person = Participant(email=f"bench{n}.{stamp}@example.org", name=f"Editor {n}",
                                 category=StakeholderCategory.GOVERNMENT_OFFICIAL)
            role = GroupRole.CHAIR if n < chairs else GroupRole.MEMBER
            db.session.add_all([person, Membership(group=group, participant=person, role=role)])
            db.session.flush()
            people.append(person.id)
            tokens.append(create_api_token(person, "bench")[1])
        db.session.commit()
        return Room(database_url, recommendation.id, clause.id, people, tokens,
                    (clause.id, *(c.id for c in more)))


def sign_in_all(room: Room, instance: Path) -> tuple[str, list[str]]:
    """Each participant signed in as the sign-in page signs people in (a login session on
    the server, its secret in the signed session cookie), without typing a password a
    hundred times: the cookie's name, and each participant's cookie, in ``room`` order."""
    from flask import session

    from drafting.auth.sessions import sign_in
    from models import Participant, db

    app = _app(room.database_url, instance)
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    cookies = []
    for participant_id in room.participant_ids:
        with app.test_request_context(headers={"User-Agent": "plenary-bench"}):
            participant = db.session.get(Participant, participant_id)
            assert participant is not None
            sign_in(participant)
            db.session.commit()
            cookies.append(serializer.dumps(dict(session)))
    return str(app.config["SESSION_COOKIE_NAME"]), cookies


def read_history(path: Path) -> Iterator[tuple[int, bytes]]:
    """(author index, Yjs update) pairs from a log written by ``loadgen.mjs`` history mode."""
    from drafting.realtime.protocol import read_var_bytes, read_var_uint

    data = path.read_bytes()
    position = 0
    while position < len(data):
        author, position = read_var_uint(data, position)
        update, position = read_var_bytes(data, position)
        yield author, update


def seed_history(room: Room, instance: Path, history: Path, expected_text: str) -> dict[str, float]:
    """Write the history into the clause's log as the server would have: one row per update
    (author, bytes, a time a second apart), a snapshot of the whole document after every
    ``YJS_SNAPSHOT_EVERY`` rows (pycrdt's encoding, as the server makes it), and the clause's
    text column. Checks that pycrdt reads the history to the expected text."""
    from pycrdt import Doc, Text
    from sqlalchemy import insert, select

    from models import Clause, ClauseSnapshot, ClauseUpdate, db

    started = time.perf_counter()
    entries = list(read_history(history))
    app = _app(room.database_url, instance)
    with app.app_context():
        every = app.config["YJS_SNAPSHOT_EVERY"]
        doc: Doc = Doc()
        text = doc.get("text", type=Text)
        first = datetime.now(UTC) - timedelta(seconds=len(entries))
        snapshots = 0
        for start in range(0, len(entries), every):
            chunk = entries[start:start + every]
            rows = [{"clause_id": room.clause_id, "author_id": room.participant_ids[author % len(room.participant_ids)],
                     "created_at": first + timedelta(seconds=start + n), "data": update}
                    for n, (author, update) in enumerate(chunk)]
            ids = db.session.scalars(insert(ClauseUpdate).returning(ClauseUpdate.id, sort_by_parameter_order=True),
                                     rows).all()
            for _author, update in chunk:
                doc.apply_update(update)
            if len(chunk) == every:
                db.session.add(ClauseSnapshot(clause_id=room.clause_id, up_to_update_id=ids[-1],
                                              data=doc.get_update()))
                snapshots += 1
        if str(text) != expected_text:
            raise RuntimeError("pycrdt does not read the generated history to the text Yjs made")
        clause = db.session.scalar(select(Clause).where(Clause.id == room.clause_id))
        assert clause is not None
        clause.text = expected_text
        db.session.commit()
    return {"updates": len(entries), "snapshots": snapshots, "seconds": round(time.perf_counter() - started, 2)}


def server_command(kind: str, port: int, threads: int) -> list[str]:
    if kind == "gunicorn":
        return [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", str(threads),
                "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    if kind == "gunicorn-gevent":
        return [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class",
                "geventwebsocket.gunicorn.workers.GeventWebSocketWorker",
                "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    return [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)]


def server_env(database_url: str, instance: Path, kind: str) -> dict[str, str]:
    # The rate limit is for people; the benchmark's editors type at a steady 5 a second,
    # but a burst of acknowledgements queued behind a slow commit must not be refused.
    env = {**os.environ, "DATABASE_URL": database_url, "PLENARY_INSTANCE_PATH": str(instance),
           "YJS_RATE": "1000", "YJS_BURST": "1000"}
    if kind == "gunicorn-gevent":
        env["SOCKETIO_ASYNC_MODE"] = "gevent"
    return env


def start_server(kind: str, port: int, env: dict[str, str], threads: int,
                 root: Path = ROOT) -> subprocess.Popen[bytes]:
    """The server, serving the code of the checkout at ``root`` (this one by default; another,
    such as main's, to compare two versions on the same machine in the same run)."""
    return subprocess.Popen(server_command(kind, port, threads), cwd=root, env=env,  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not gone 15 s later."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_ready(process: subprocess.Popen[bytes], probe: Callable[[], object],
                     what: str, timeout: float = 60) -> None:
    """Until ``probe`` stops raising OSError (a refused connection, an HTTP error: requests'
    exceptions are OSErrors too), or fail if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before it listened")
        try:
            probe()
            return
        except OSError:  # not listening yet, or still importing
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {timeout} s")


class Api:
    """One participant's API client: their token, one kept-alive connection."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.session.request(method, self.url + "/api/v1" + path, json=body, timeout=60)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json()


def stored_text(url: str, room: Room) -> str:
    """The clause's text as the server has stored it, through the API."""
    answer = requests.get(f"{url}/api/v1/recommendations/{room.recommendation_id}",
                          headers={"Authorization": f"Bearer {room.tokens[0]}"}, timeout=30)
    answer.raise_for_status()
    clause = next(c for c in answer.json()["clauses"] if c["id"] == room.clause_id)
    return str(clause["text"])
