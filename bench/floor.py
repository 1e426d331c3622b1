"""The durable-commit floor: what one acknowledged edit costs the disk before anything else.

Plenary relays an edit only after the transaction that stores it commits (ARCHITECTURE.md:
"events are emitted only after the transaction commits"), and a commit that makes the edit
durable waits for the disk to sync. So no fan-out latency can be lower than this floor: it
is measured here with nothing but the commit — one small row, one transaction, paced at the
rate the editors type — straight through the database's own driver (no Flask, no ORM, no
Socket.IO). Both settings are measured: the durable one Plenary runs with, and the one that
skips the sync (what a server that keeps nothing, or keeps it lazily, pays).

    .venv/bin/python -m bench.run floor --database sqlite,postgresql+psycopg://postgres@127.0.0.1:5432/test
"""
from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Commit = Callable[[], None]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return {"p50_ms": at(0.50), "p90_ms": at(0.90), "p99_ms": at(0.99), "max_ms": ordered[-1]}


def paced(commit: Commit, count: int, rate: float) -> list[float]:
    """Time ``count`` commits, started ``rate`` a second (as editors' keystrokes arrive)."""
    interval = 1 / rate
    samples = []
    start = time.perf_counter()
    for index in range(count):
        due = start + index * interval
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        began = time.perf_counter()
        commit()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


@contextmanager
def sqlite_commits(directory: Path, synchronous: str) -> Iterator[Commit]:
    path = directory / f"floor-{uuid.uuid4().hex}.sqlite"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={synchronous}")
        connection.execute("CREATE TABLE edit (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")

        def commit() -> None:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO edit (body) VALUES (?)", (b"\x00" * 40,))
            connection.execute("COMMIT")

        yield commit
    finally:
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def postgresql_commits(url: str, synchronous: str) -> Iterator[Commit]:
    import psycopg

    table = f"bench_floor_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        connection.execute(f"SET synchronous_commit = {synchronous}")
        connection.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, body bytea NOT NULL)")
        try:
            def commit() -> None:
                with connection.transaction():
                    connection.execute(f"INSERT INTO {table} (body) VALUES (%s)",  # noqa: S608 (our own name)
                                       (b"\x00" * 40,))

            yield commit
        finally:
            connection.execute(f"DROP TABLE {table}")


def measure(database: str, workdir: Path, count: int, rate: float) -> Iterator[dict[str, Any]]:
    """One row per setting of ``database`` ("sqlite" or a PostgreSQL URL): durable first."""
    if database == "sqlite":
        settings = [("FULL", True), ("NORMAL", False)]
        label = "SQLite (WAL)"
    else:
        settings = [("on", True), ("off", False)]
        label = "PostgreSQL"
    for setting, durable in settings:
        opened = (sqlite_commits(workdir, setting) if database == "sqlite"
                  else postgresql_commits(database, setting))
        with opened as commit:
            paced(commit, max(10, count // 10), rate)  # warm-up
            samples = paced(commit, count, rate)
        yield {"bench": "floor", "database": label,
               "setting": f"synchronous={setting}" if database == "sqlite" else f"synchronous_commit={setting}",
               "durable": durable, "commits": count, "rate": rate, **percentiles(samples)}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| database | setting | durable | commits | a second | p50 ms | p90 ms | p99 ms | max ms |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        lines.append(
            f"| {row['database']} | {row['setting']} | {'yes' if row['durable'] else 'no'} | "
            f"{row['commits']} | {row['rate']:g} | {row['p50_ms']:.2f} | {row['p90_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['max_ms']:.1f} |")
    return "\n".join(lines)
