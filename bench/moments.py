"""The plenary's busiest moments besides typing and voting (bench/ballots.py): a comment
reaching everyone on the page.

``comments``: N people have the recommendation open (a Socket.IO connection each, joined as
the browser joins); one of them starts a thread through the API every ``interval`` seconds;
the figure is each comment's delivery time to each of the others (request sent to
``comment_created`` received). Every person must receive every comment.

The clients are Python (requests, python-socketio) in this process; its CPU is reported, as a
saturated client would inflate the figures.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests
import socketio

from bench import plenary, proc
from bench.floor import percentiles


class _Reader:
    """One person with the recommendation open: a socket joined to it, noting when each
    comment arrives."""

    def __init__(self, url: str, token: str, recommendation_id: int) -> None:
        self.arrivals: dict[str, float] = {}
        self.client = socketio.Client(reconnection=False)
        self.client.on("comment_created", self._arrived)
        self.client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
        answer = self.client.call("join", {"recommendation": recommendation_id}, timeout=30)
        if not answer.get("ok"):
            raise RuntimeError(f"join refused: {answer}")

    def _arrived(self, data: dict[str, Any]) -> None:
        body = data["thread"]["comments"][0]["body"]
        self.arrivals.setdefault(body, time.perf_counter())


def comments(url: str, room: plenary.Room, server_pid: int, count: int, interval: float) -> dict[str, Any]:
    readers = [_Reader(url, token, room.recommendation_id) for token in room.tokens[1:]]
    poster = plenary.Api(url, room.tokens[0])
    sent: dict[str, float] = {}
    cpu = proc.cpu_seconds(server_pid)
    own = time.process_time()
    started = time.perf_counter()
    for n in range(count):
        body = f"Comment {n} on the clause."
        sent[body] = time.perf_counter()
        poster.call("POST", f"/clauses/{room.clause_id}/threads", {"body": body})
        time.sleep(max(0.0, started + (n + 1) * interval - time.perf_counter()))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(len(r.arrivals) < count for r in readers):
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    server_cpu = proc.cpu_seconds(server_pid) - cpu
    client_cpu = time.process_time() - own
    times = [(reader.arrivals[body] - at) * 1000 for reader in readers
             for body, at in sent.items() if body in reader.arrivals]
    for reader in readers:
        reader.client.disconnect()
    expected = count * len(readers)
    return {"bench": "comments", "people": len(readers) + 1, "comments": count,
            "deliveries": len(times), "expected": expected, "accounted": len(times) == expected,
            "server_cpu_s": round(server_cpu, 3), "client_cpu_share": round(client_cpu / elapsed, 2),
            **(percentiles(times) if times else {})}


def run(people: int, database_url: str, workdir: Path, server_kind: str,
        count: int, interval: float) -> dict[str, Any]:
    room = plenary.prepare_room(database_url, workdir, people, chairs=1)
    port = plenary.free_port()
    process = plenary.start_server(server_kind, port, plenary.server_env(database_url, workdir, server_kind), 8)
    url = f"http://127.0.0.1:{port}"
    try:
        plenary.wait_until_ready(process, lambda: requests.get(url + "/login", timeout=1), url)
        row = comments(url, room, process.pid, count, interval)
    finally:
        plenary.stop(process)
    return {**row, "database": "PostgreSQL" if database_url.startswith("postgres") else "SQLite",
            "served_by": server_kind}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| moment | people | database | p50 ms | p90 ms | p99 ms | max ms | accounted | server CPU s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        what = f"{row['comments']} comments delivered to everyone"
        done = f"{row['deliveries']} of {row['expected']}"
        lines.append(f"| {what} | {row['people']} | {row['database']} | {row.get('p50_ms', 0):.1f} | "
                     f"{row.get('p90_ms', 0):.1f} | {row.get('p99_ms', 0):.1f} | {row.get('max_ms', 0):.1f} | "
                     f"{done} | {row['server_cpu_s']} |")
    return "\n".join(lines)
