"""A whole group voting at once, as its members' browsers do it.

Every voter is signed in (a login session and its cookie, as the sign-in page leaves them)
and has the vote's page open: the page as the server renders it (its ballot form and CSRF
token) and, unless ``pages=False``, its Socket.IO connection joined to the recommendation's
room, as static/src/votes/votes.js joins it, hearing every ``ballot_counted``. Then all of
them send the ballot form (``POST /votes/{id}/ballot``, what the page sends: the form is
not taken over by a script) in the same instant, released together by a barrier. A
voter's ballot is acknowledged when the answer arrives: the redirect back to the vote's
page (303/302) that says it is counted; anything else is a failure. (The page the browser
then loads is a request of its own, not measured here.) Each request is worded and its
connection opened before the release, as a browser has both ready before the click: the
clients' own share of the figures (one Python process, its threads taking turns) is reported
as the send lag, the time from the release until the last client thread starts sending.

The choices are spread over the options (yes, no, abstain in turn), and afterwards the
ballots must all be there exactly once: the vote's turnout (through the API) equals the
voters, every open page has heard it, and once the chair closes the vote the recorded
counts equal the choices sent, option by option, the roll call names each voter with their
own choice (a roll-call vote), and the record verifies. Anything else fails the run, loudly.
A roll-call vote and a secret vote are measured, each on a clause of its own.

The clients are Python threads (requests, python-socketio) in this process; its CPU is
reported beside the server's, the database server's (PostgreSQL) and everything else the
machine ran meanwhile (``other``), as a busy machine inflates the figures.

Another checkout of Plenary (``--against /work/main``) is measured in the same run, on the
same kind of database, turn about with this one, so that two versions compare on equal terms
on a machine shared with other work.
"""
from __future__ import annotations

import http.client
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
import socketio

from bench import plenary, proc
from bench.floor import percentiles
from bench.proc import wait_for_quiet

KINDS = ("roll-call", "secret")
#: How long the pages may take to hear the last turnout once every ballot is acknowledged.
PAGES_WAIT_SECONDS = 30


class BallotForm(HTMLParser):
    """The ballot form of a vote's page, as a browser reads it: where it posts, its CSRF
    token, and the options offered."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.action: str | None = None
        self.csrf_token: str | None = None
        self.options: list[str] = []
        self._inside = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and "data-vote-ballot" in found:
            self._inside, self.action = True, found.get("action")
        elif tag == "input" and self._inside:
            if found.get("name") == "csrf_token":
                self.csrf_token = found.get("value")
            elif found.get("name") == "option_id" and found.get("value"):
                self.options.append(str(found["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


@dataclass
class Voter:
    """One member with the vote's page open."""

    url: str
    participant_id: int
    cookie: tuple[str, str]
    session: requests.Session = field(default_factory=requests.Session)
    form: BallotForm | None = None
    page: socketio.Client | None = None
    #: The highest turnout the open page has heard.
    heard_turnout: int = 0
    heard: int = 0
    #: The ballot form's request, worded and connected before the release.
    connection: http.client.HTTPConnection | None = None
    request: tuple[str, str, dict[str, str]] | None = None

    def open_page(self, vote_id: int, recommendation_id: int, live: bool) -> None:
        name, value = self.cookie
        if self.session.cookies.get(name) is None:  # signed in once; the server keeps it since
            self.session.cookies.set(name, value, domain="127.0.0.1", path="/")
        answer = self.session.get(f"{self.url}/votes/{vote_id}", timeout=60)
        answer.raise_for_status()
        self.form = BallotForm(answer.text)
        if not (self.form.action and self.form.csrf_token and self.form.options):
            raise RuntimeError(f"voter {self.participant_id}: the vote's page offers no ballot form")
        if live and self.page is None:
            self.page = socketio.Client(reconnection=False)
            self.page.on("ballot_counted", self._heard)
            # The WebSocket client sends the page's Origin itself.
            self.page.connect(self.url, transports=["websocket"], wait_timeout=30,
                              headers={"Cookie": f"{name}={self.session.cookies.get(name)}"})
        if self.page is not None:
            joined = self.page.call("join", {"recommendation": recommendation_id}, timeout=30)
            if not joined.get("ok"):
                raise RuntimeError(f"voter {self.participant_id}: join refused: {joined}")
        self.heard_turnout = self.heard = 0

    def _heard(self, data: dict[str, Any]) -> None:
        self.heard += 1
        self.heard_turnout = max(self.heard_turnout, int(data.get("turnout") or 0))

    def ready(self, option_id: str) -> None:
        """Connect, and word the request the page's form sends (what a browser does before
        the click costs nothing in the measurement, and the clients' own CPU stays small)."""
        assert self.form is not None and self.form.action is not None
        name = self.cookie[0]
        self.connection = http.client.HTTPConnection(urlsplit(self.url).netloc, timeout=60)
        self.connection.connect()
        self.request = (self.form.action, urlencode({"csrf_token": self.form.csrf_token, "option_id": option_id}),
                        {"Cookie": f"{name}={self.session.cookies.get(name)}",
                         "Content-Type": "application/x-www-form-urlencoded", "Origin": self.url,
                         "Referer": f"{self.url}{self.form.action.removesuffix('/ballot')}"})

    def cast(self) -> None:
        """Send the ballot form; a redirect back to the vote is the acknowledgement."""
        assert self.connection is not None and self.request is not None
        path, body, headers = self.request
        self.connection.request("POST", path, body, headers)
        answer = self.connection.getresponse()
        text = answer.read()
        self.connection.close()
        if answer.status not in (302, 303) or not (answer.getheader("Location") or "").endswith(
                path.removesuffix("/ballot")):
            raise RuntimeError(f"voter {self.participant_id}: {answer.status} "
                               f"{answer.getheader('Location')} {text[:300]!r}")

    def close(self) -> None:
        if self.page is not None:
            self.page.disconnect()


class Backends:
    """The PostgreSQL server processes serving one database (on this machine): their CPU."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)

    def cpu_seconds(self) -> dict[int, float]:
        pids = [row[0] for row in self.connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
        return {pid: proc.cpu_seconds(pid) for pid in pids}

    def close(self) -> None:
        self.connection.close()


@dataclass
class Meter:
    """CPU seconds of the server, this process (the clients), the database's server processes
    (PostgreSQL: those connected to the bench's database, at the end; one that ended meanwhile
    is missed) and the whole machine, between ``start`` and ``stop``."""

    server_pid: int
    database: Backends | None
    marks: dict[str, float] = field(default_factory=dict)
    backends: dict[int, float] = field(default_factory=dict)

    def _read(self, edge: str) -> None:
        self.marks[f"server_{edge}"] = proc.cpu_seconds(self.server_pid)
        self.marks[f"client_{edge}"] = time.process_time()
        self.marks[f"machine_{edge}"] = proc.machine_busy_seconds()
        self.marks[f"wall_{edge}"] = time.perf_counter()

    def start(self) -> None:
        self.backends = self.database.cpu_seconds() if self.database else {}
        self._read("start")

    def stop(self) -> dict[str, Any]:
        self._read("end")
        now = self.database.cpu_seconds() if self.database else {}
        spent = {k: self.marks[f"{k}_end"] - self.marks[f"{k}_start"]
                 for k in ("server", "client", "machine", "wall")}
        spent["database"] = sum(cpu - self.backends.get(pid, 0.0) for pid, cpu in now.items())
        other = max(0.0, spent["machine"] - spent["server"] - spent["database"] - spent["client"])
        wall = spent["wall"]
        return {"wall_s": round(wall, 3), "server_cpu_s": round(spent["server"], 3),
                "database_cpu_s": round(spent["database"], 3) if self.database else None,
                "client_cpu_s": round(spent["client"], 3),
                # Shares of one core over the burst: the machine has two.
                "other_cpu_share": round(other / wall, 2)}


def expected_counts(choices: list[str], options: list[dict[str, Any]]) -> list[int]:
    return [sum(1 for choice in choices if choice == str(option["id"])) for option in options]


def account(chair: plenary.Api, vote_id: int, voters: list[Voter], choices: list[str], live: bool) -> list[str]:
    """Every way the ballots sent may fail to be exactly the ballots counted (none: all
    counted, once). Closes the vote."""
    problems = []
    before = chair.call("GET", f"/votes/{vote_id}")
    if before["turnout"] != len(voters):
        problems.append(f"turnout {before['turnout']} while open, {len(voters)} voted")
    if live:
        deadline = time.monotonic() + PAGES_WAIT_SECONDS
        while time.monotonic() < deadline and any(v.heard_turnout < len(voters) for v in voters):
            time.sleep(0.05)
        behind = [v.heard_turnout for v in voters if v.heard_turnout != len(voters)]
        if behind:
            problems.append(f"{len(behind)} open pages never heard the turnout reach {len(voters)} "
                            f"(they heard at most {max(behind)})")
    closed = chair.call("POST", f"/votes/{vote_id}/close")
    counted = [option.get("count") or 0 for option in closed["options"]]
    expected = expected_counts(choices, closed["options"])
    if closed["turnout"] != len(voters) or counted != expected:
        problems.append(f"recorded turnout {closed['turnout']} and counts {counted}; "
                        f"sent {len(voters)} ballots: {expected}")
    if closed["roll_call"] is not None:
        named = {entry["voter"]["id"]: str(entry["option_id"]) for entry in closed["roll_call"]}
        sent = {voter.participant_id: choice for voter, choice in zip(voters, choices, strict=True)}
        if named != sent:
            wrong = [pid for pid in sent if named.get(pid) != sent[pid]]
            problems.append(f"the roll call differs from the ballots sent for {len(wrong)} voters "
                            f"(and has {len(named)} entries for {len(sent)})")
    verification = chair.call("GET", f"/votes/{vote_id}/verify")
    if not verification["ok"]:
        problems.append(f"the record does not verify: {verification['checks']}")
    return problems


def burst(url: str, room: plenary.Room, voters: list[Voter], chair: plenary.Api, kind: str,
          clause_id: int, server_pid: int, live: bool, quiet_wait: float = 0) -> dict[str, Any]:
    """Open a vote, every voter's page, release every ballot at once; the figures."""
    vote = chair.call("POST", f"/recommendations/{room.recommendation_id}/votes", {
        "subject": "clause", "clause_id": clause_id, "method": "ballot",
        "secret": kind == "secret"})
    for voter in voters:
        voter.open_page(vote["id"], room.recommendation_id, live)
    if quiet_wait:
        wait_for_quiet(quiet_wait)
    offered = voters[0].form.options if voters[0].form else []
    choices = [offered[n % len(offered)] for n in range(len(voters))]
    barrier = threading.Barrier(len(voters) + 1)
    times: list[float] = []
    lags: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    released = 0.0

    def cast(voter: Voter) -> None:
        barrier.wait()
        with lock:
            lags.append((time.perf_counter() - released) * 1000)
        try:
            voter.cast()
        except (RuntimeError, OSError) as error:
            with lock:
                failures.append(str(error))
            return
        with lock:
            times.append((time.perf_counter() - released) * 1000)

    database = Backends(room.database_url) if room.database_url.startswith("postgres") else None
    for voter, choice in zip(voters, choices, strict=True):
        voter.ready(choice)
    threads = [threading.Thread(target=cast, args=(voter,)) for voter in voters]
    for thread in threads:
        thread.start()
    meter = Meter(server_pid, database)
    try:
        meter.start()
        released = time.perf_counter()
        barrier.wait()
        for thread in threads:
            thread.join()
        spent = meter.stop()
    finally:
        if database is not None:
            database.close()
    problems = failures[:3] + account(chair, vote["id"], voters, choices, live)
    return {"bench": "ballots", "ballot": kind, "voters": len(voters), "pages_open": live,
            "acknowledged": len(times), "failures": failures[:3], "problems": problems,
            "counted": len(voters) if not problems else None,
            "accounted": not problems and len(times) == len(voters),
            # From the release to each client thread's sending: the clients' own share of the
            # figures (one Python process, its threads taking turns).
            "send_lag_p99_ms": round(percentiles(lags)["p99_ms"], 1),
            **spent, **({k: round(v, 1) for k, v in percentiles(times).items()} if times else {})}


def run(people: int, database_url: str, workdir: Path, server_kind: str, live: bool,
        roots: list[Path], rounds: int, quiet_wait: float = 0) -> list[dict[str, Any]]:
    """``rounds`` of: for each checkout in ``roots`` in turn, a fresh group on the database,
    its server started, a roll-call and a secret vote cast at once."""
    rows = []
    for round_number in range(1, rounds + 1):
        for root in roots:
            instance = workdir / f"instance-{round_number}-{roots.index(root)}"
            instance.mkdir()
            database = (f"sqlite:///{instance / 'bench.sqlite'}" if database_url.startswith("sqlite")
                        else database_url)
            room = plenary.prepare_room(database, instance, people, chairs=1, clauses=len(KINDS))
            cookie_name, cookies = plenary.sign_in_all(room, instance)
            env = plenary.server_env(database, instance, server_kind)
            port = plenary.free_port()
            process = plenary.start_server(server_kind, port, env, 8, root=root)
            url = f"http://127.0.0.1:{port}"
            voters: list[Voter] = []
            try:
                plenary.wait_until_ready(process, lambda url=url: requests.get(url + "/login", timeout=1), url)
                chair = plenary.Api(url, room.tokens[0])  # the chair opens, reads and closes the votes
                voters = [Voter(url, pid, (cookie_name, cookie))
                          for pid, cookie in zip(room.participant_ids, cookies, strict=True)]
                for kind, clause_id in zip(KINDS, room.clause_ids, strict=True):
                    row = burst(url, room, voters, chair, kind, clause_id, process.pid, live, quiet_wait)
                    rows.append({**row, "database": "PostgreSQL" if database.startswith("postgres") else "SQLite",
                                 "served_by": server_kind, "round": round_number, "checkout": str(root),
                                 "server_version": version(root)})
            finally:
                for voter in voters:
                    voter.close()
                plenary.stop(process)
    return rows


def version(root: Path) -> str:
    """The checkout's commit, marked when its server code differs from it; the directory's
    name when it is not a git checkout (``git archive`` of a commit, say)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,  # noqa: S603, S607
                              check=False).stdout.strip()
    if git("rev-parse", "--show-toplevel") != str(root):
        return root.name
    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--", "drafting", "models", "wsgi.py") else "")


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def table(rows: list[dict[str, Any]]) -> str:
    """One line per burst, then per database, ballot and checkout the medians over the rounds,
    and each checkout's p50/p99 against the first checkout's."""
    lines = ["| ballot | voters | database | checkout | round | p50 ms | p90 ms | p99 ms | max ms "
             "| clients' send lag p99 ms | counted once | server CPU s | database CPU s | clients CPU s "
             "| other CPU (of a core) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        database_cpu = "–" if row.get("database_cpu_s") is None else f"{row['database_cpu_s']:.2f}"
        lines.append(
            f"| {row['ballot']}{'' if row.get('pages_open') else ' (no pages)'} | {row['voters']} "
            f"| {row['database']} | {row['server_version']} | {row.get('round', 1)} | {_ms(row.get('p50_ms'))} "
            f"| {_ms(row.get('p90_ms'))} | {_ms(row.get('p99_ms'))} | {_ms(row.get('max_ms'))} "
            f"| {_ms(row.get('send_lag_p99_ms'))} "
            f"| {'yes' if row['accounted'] else '**NO**: ' + '; '.join(row['problems'])[:200]} "
            f"| {row['server_cpu_s']:.2f} | {database_cpu} | {row['client_cpu_s']:.2f} "
            f"| {row['other_cpu_share'] * 100:.0f} % |")
    groups: dict[tuple[str, str, int], dict[str, list[dict[str, Any]]]] = {}
    for row in rows:
        groups.setdefault((row["database"], row["ballot"], row["voters"]), {}).setdefault(
            row["server_version"], []).append(row)
    if not any(len(by_version) > 1 or len(next(iter(by_version.values()))) > 1 for by_version in groups.values()):
        return "\n".join(lines)
    lines += ["", "| ballot | voters | database | checkout | rounds | median p50 ms | median p99 ms "
              "| median other CPU | p50, p99 ÷ the first checkout's |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (database, ballot, voters), by_version in groups.items():
        first = None
        for name, found in by_version.items():
            p50 = statistics.median(r.get("p50_ms") or 0 for r in found)
            p99 = statistics.median(r.get("p99_ms") or 0 for r in found)
            other = statistics.median(r["other_cpu_share"] for r in found)
            first = first or (p50, p99)
            ratios = f"×{p50 / first[0]:.2f}, ×{p99 / first[1]:.2f}" if first[0] and first[1] else "–"
            lines.append(f"| {ballot} | {voters} | {database} | {name} | {len(found)} | {p50:.0f} | {p99:.0f} "
                         f"| {other * 100:.0f} % | {ratios} |")
    return "\n".join(lines)
