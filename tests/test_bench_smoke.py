"""The benchmark harness's quick mode, as a smoke check: every command runs end to end against
a real server process and its results account for everything (edits converge, ballots are all
counted, comments all delivered). Speed is not asserted here — figures belong in
docs/benchmarks.md, measured on an idle machine, never in a timed test.

On the PostgreSQL run the harness gets a private PostgreSQL database of its own instead of
SQLite."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ROOT, TEST_DATABASE_URL, private_postgres_database, service_missing

pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def databases() -> Iterator[list[str]]:
    """What the harness is pointed at: a new SQLite file, or on the PostgreSQL run a private
    PostgreSQL database."""
    if shutil.which("node") is None:
        service_missing("Node.js", "install Node 20 (the `node` command) to run the load generator")
    if not (ROOT / "bench" / "node_modules" / ".package-lock.json").exists():
        service_missing("The load generator's npm packages", "run `make bench-deps`")
    if TEST_DATABASE_URL:
        with private_postgres_database(TEST_DATABASE_URL) as url:
            yield [url]
    else:
        yield ["sqlite"]


def bench(*arguments: str) -> list[dict[str, Any]]:
    """Run ``python -m bench.run``; its JSON lines, failing with its output if it failed."""
    finished = subprocess.run([sys.executable, "-m", "bench.run", *arguments], cwd=ROOT,  # noqa: S603
                              capture_output=True, text=True, timeout=300, check=False)
    rows = [json.loads(line) for line in finished.stdout.splitlines() if line.startswith("{")]
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    return rows


def test_fanout_quick_mode_converges(databases):
    rows = bench("fanout", "--editors", "3", "--warmup", "0.5", "--seconds", "2", "--awareness",
                 "--database", ",".join(databases))
    assert len(rows) == len(databases)
    for row in rows:
        assert row["converged"] is True
        assert row["delivered_share"] == 1.0
        assert row["awareness_delivered_share"] > 0


def test_ballots_cast_at_once_from_their_pages_are_all_counted_once(databases):
    """A roll-call and a secret vote, twelve signed-in voters with the page open each, their
    ballot forms sent at once: every one acknowledged, counted once, heard by every page."""
    rows = bench("ballots", "--people", "12", "--database", ",".join(databases))
    assert [(row["database"], row["ballot"]) for row in rows] == [
        ("PostgreSQL" if TEST_DATABASE_URL else "SQLite", kind) for kind in ("roll-call", "secret")]
    for row in rows:
        assert row["failures"] == row["problems"] == []
        assert row["accounted"] is True and row["pages_open"] is True
        assert row["acknowledged"] == row["counted"] == 12
        assert row["p99_ms"] >= row["p50_ms"] > 0


def test_every_comment_reaches_everyone_on_the_page(databases):
    rows = bench("comments", "--people", "6", "--count", "3", "--interval", "0.2",
                 "--database", ",".join(databases))
    for row in rows:
        assert row["deliveries"] == row["expected"] == 3 * 5


def test_the_commit_floor_is_measured_durable_and_not(databases):
    rows = bench("floor", "--commits", "40", "--rate", "200", "--database", ",".join(databases))
    assert [row["durable"] for row in rows] == [True, False] * len(databases)
    assert all(row["max_ms"] >= row["p99_ms"] >= row["p50_ms"] > 0 for row in rows)
