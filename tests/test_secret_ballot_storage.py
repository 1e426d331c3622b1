"""Secret ballots, attacked as someone holding the database files (not the server's secret key)
would: nothing stored may link a voter to a choice (docs/security.md, issue 17).

Twelve voters cast secret ballots with known choices through the service, and three change
theirs with their receipts. The attacker then reads what the files hold: on PostgreSQL every
row version of the vote's tables, dead ones included (pageinspect), with the transaction ids
that wrote them; on SQLite the write-ahead log, replayed one transaction at a time. From that
they tell each ballot transaction apart by what it wrote — which rows, which columns, by how
much, how long — and the test requires that every ballot transaction wrote the same, whatever
the choice: then no reading of those writes can tell two choices apart.
"""
from __future__ import annotations

import itertools
import random
import shutil
import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import text

from drafting.votes import ballots, sealing, services, tally
from drafting.votes.schemas import BallotIn, VoteOpen
from models import ClauseKind, GroupRole, OptionKind, Participant, Vote, VoteRule, db

#: The tables a ballot could write to, in the order they are read.
TABLES = ("vote", "vote_option", "ballot", "spent_receipt")
#: Columns naming the voter or the row itself: what the attacker links *to*, not evidence.
IDENTITY = {"ballot": (0, 2), "spent_receipt": (0, 2)}
VOTERS = 12
CHANGES = 3


#: What one transaction wrote, as the attacker sees it: per row, the table, the row's key
#: (for rows updated; a new row has none worth naming) and what changed.
Change = tuple[str, Any, tuple[Any, ...]]
#: Each cast's writes by voter id, each change's by its spent receipt.
Writes = tuple[dict[Any, list[Change]], dict[Any, list[Change]]]


@dataclass
class Ballots:
    vote: Vote
    #: voter id -> the option position they chose first, and after a change.
    first: dict[int, int]
    final: dict[int, int]
    changed: list[int]
    option_ids: dict[int, int]  # option id -> position


@pytest.fixture
def voters(ctx, factories) -> tuple[Participant, list[Participant], Any]:
    cast = factories.cast()
    people = [cast.member] + [factories.member_of(cast.group, GroupRole.MEMBER, name=f"Voter {n}")
                              for n in range(1, VOTERS)]
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;")])
    return cast.chair, people, recommendation


def cast_known_ballots(chair: Participant, people: list[Participant], recommendation: Any,
                       rule: str, after_each: Any = None) -> Ballots:
    """Open a secret vote, cast one ballot each with a known choice (every option chosen by
    some), then change three of them with their receipts; ``after_each`` after every commit."""
    recommendation.group.conference.decision_rule = VoteRule(rule)
    vote = services.open_vote(chair, recommendation, VoteOpen(
        subject="clause", clause_id=recommendation.live_clauses[0].id, secret=True))
    db.session.commit()
    if after_each:
        after_each("opened")
    chooser = random.Random(17)
    positions = [i % 3 for i in range(VOTERS)]
    chooser.shuffle(positions)
    by_position = {o.position: o for o in vote.options}
    first, receipts = {}, {}
    for person, position in zip(people, positions, strict=True):
        option = by_position[position]
        receipts[person.id] = ballots.cast_ballot(person, vote, BallotIn(option_id=option.id)).receipt
        db.session.commit()
        first[person.id] = position
        if after_each:
            after_each(person.id)
    final = dict(first)
    changed = [p.id for p in people[:CHANGES]]
    for person in people[:CHANGES]:
        position = (first[person.id] + 1) % 3
        option = by_position[position]
        ballots.cast_ballot(person, vote, BallotIn(option_id=option.id, receipt=receipts[person.id]))
        db.session.commit()
        final[person.id] = position
        if after_each:
            after_each(("changed", person.id))
    return Ballots(vote, first, final, changed, {o.id: o.position for o in vote.options})


def describe(old: list[Any] | None, new: list[Any], table: str) -> tuple[Any, ...]:
    """What a write did to a row: for a new row, each column's size (null or not); for an
    updated one, each column that changed, with its size and, for a number, the difference."""
    skip = IDENTITY.get(table, ())
    if old is None:
        return ("new", tuple(None if v is None else size(v) for i, v in enumerate(new) if i not in skip))
    return ("updated", tuple((i, size(b), difference(a, b)) for i, (a, b) in enumerate(zip(old, new, strict=True))
                             if a != b))


def size(value: Any) -> int:
    return len(value) if isinstance(value, bytes | str) else 8


def difference(old: Any, new: Any) -> Any:
    if isinstance(old, int) and isinstance(new, int):
        return new - old
    if isinstance(old, bytes) and isinstance(new, bytes) and len(old) == len(new) in (4, 8):
        # PostgreSQL's raw integers (and timestamps, as microseconds).
        fmt = "<i" if len(old) == 4 else "<q"
        return struct.unpack(fmt, new)[0] - struct.unpack(fmt, old)[0]
    return None


def linked(writes: dict[Any, list[Change]], truth: dict[Any, int], option_ids: dict[int, int]) -> int:
    """How many choices the plainest reading gives away: the option row a ballot's
    transaction wrote is its choice."""
    found = 0
    for who, changes in writes.items():
        rows = {key for table, key, _what in changes if table == "vote_option" and key in option_ids}
        if option_ids_of(rows, option_ids) == {truth[who]}:
            found += 1
    return found


def option_ids_of(rows: set[Any], option_ids: dict[int, int]) -> set[int]:
    return {option_ids[row] for row in rows}


def assert_unlinkable(writes: dict[Any, list[Change]], truth: dict[Any, int], option_ids: dict[int, int],
                      what: str) -> None:
    """Every transaction of the kind wrote the same: nothing in them tells choices apart."""
    assert len(writes) == len(truth), f"the attacker should find every {what}"
    shapes = {tuple(sorted(changes, key=repr)) for changes in writes.values()}
    by_choice: dict[int, set[Any]] = {}
    for who, changes in writes.items():
        by_choice.setdefault(truth[who], set()).add(tuple(sorted(changes, key=repr)))
    assert len(shapes) == 1, (
        f"{what}s write differently depending on the choice: {linked(writes, truth, option_ids)} of "
        f"{len(truth)} linked by the option row they wrote; shapes by choice: {by_choice}")


# --- PostgreSQL: system columns and old row versions ---------------------------------------

@dataclass(frozen=True)
class Version:
    table: str
    place: str  # ctid: (block,line)
    xmin: int
    xmax: int
    next: str  # the ctid of the version that replaced it, or its own
    columns: tuple[Any, ...]


def heap_versions(table: str) -> list[Version]:
    """Every tuple in the table's pages, live or dead, as pageinspect reads them."""
    blocks = db.session.scalar(text(
        f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int"))
    versions = []
    for block in range(blocks or 0):
        rows = db.session.execute(text(
            "SELECT lp, t_xmin::text::bigint, t_xmax::text::bigint, t_ctid::text, "
            "tuple_data_split(CAST(:table AS regclass), t_data, t_infomask, t_infomask2, t_bits) "
            "FROM heap_page_items(get_raw_page(:table, :block)) WHERE t_data IS NOT NULL"),
            {"table": table, "block": block})
        versions += [Version(table, f"({block},{lp})", xmin, xmax, ctid, tuple(columns))
                     for lp, xmin, xmax, ctid, columns in rows]
    db.session.rollback()
    return versions


@pytest.fixture
def postgres_files() -> Iterator[None]:
    with db.engine.begin() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        for table in TABLES:
            connection.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    yield
    db.session.rollback()
    with db.engine.begin() as connection:
        for table in TABLES:
            connection.execute(text(f"ALTER TABLE {table} RESET (autovacuum_enabled)"))


def postgres_writes(seen: dict[tuple[str, str, int], Version], opened: int) -> Writes:
    """Each ballot transaction's writes, found by transaction id: a transaction's ids run
    from just after the previous one's to its ballot row's (or spent receipt's) own, which a
    savepoint gives a later id than the top transaction's first write."""
    versions = list(seen.values())
    ballots_ = {v.xmin: ("cast", v.columns[2]) for v in versions if v.table == "ballot" and v.xmin > opened}
    spent = {v.xmin: ("changed", v.xmin) for v in versions if v.table == "spent_receipt" and v.xmin > opened}
    anchors = sorted({**ballots_, **spent}.items())
    # An updated version points to its successor (its xmax may be a multixact's id: the
    # foreign key check of a ballot shares the vote row's lock with its savepoint).
    previous_of: dict[tuple[str, str, int], Version] = {}
    for v in versions:
        if v.next != v.place:
            successor = min((s for s in versions if (s.table, s.place) == (v.table, v.next) and s.xmin >= v.xmin),
                            key=lambda s: s.xmin, default=None)
            if successor is not None:
                previous_of[(successor.table, successor.place, successor.xmin)] = v
    casts: dict[Any, list[Change]] = {}
    changes: dict[Any, list[Change]] = {}
    lower = opened
    for xid, (kind, who) in anchors:
        written = [v for v in versions if lower < v.xmin <= xid]
        lower = xid
        entries: list[Change] = []
        for v in written:
            old = previous_of.get((v.table, v.place, v.xmin))
            key = None if old is None else struct.unpack("<i", v.columns[0])[0]
            entries.append((v.table, key, describe(list(old.columns) if old else None, list(v.columns), v.table)))
        (casts if kind == "cast" else changes)[struct.unpack("<i", who)[0] if kind == "cast" else who] = entries
    return casts, changes


@pytest.mark.postgresql_only
# Consensus is not secret (its objections are named): the secret votes are majorities.
@pytest.mark.parametrize("rule", ["simple_majority", "two_thirds"])
def test_postgres_row_versions_link_no_voter_to_a_choice(voters, postgres_files, rule):
    chair, people, recommendation = voters
    seen: dict[tuple[str, str, int], Version] = {}

    def read_files(_moment: Any) -> None:
        # As often as anything is committed: a copy of the files at any moment sees less.
        for table in TABLES:
            for version in heap_versions(table):
                # The latest reading of a version: its xmax and successor once it was replaced.
                seen[(version.table, version.place, version.xmin)] = version

    cast = cast_known_ballots(chair, people, recommendation, rule, read_files)
    # The opening's transaction: the one that wrote the vote's first row version.
    opened = min(v.xmin for v in seen.values()
                 if v.table == "vote" and struct.unpack("<i", v.columns[0])[0] == cast.vote.id)
    casts, changes = postgres_writes(seen, opened)
    # A plain SELECT of the system columns first: the last voter of each option.
    option_xmins = dict(db.session.execute(text(
        "SELECT xmin::text::bigint, id FROM vote_option WHERE vote_id = :v"), {"v": cast.vote.id}).tuples().all())
    ballot_xmins = dict(db.session.execute(text(
        "SELECT xmin::text::bigint, voter_id FROM ballot WHERE vote_id = :v"), {"v": cast.vote.id}).tuples().all())
    named = {ballot_xmins[x]: o for x, o in option_xmins.items() if x in ballot_xmins}
    named |= {ballot_xmins[x + 1]: o for x, o in option_xmins.items() if x + 1 in ballot_xmins}
    assert not named, f"xmin names the last voter of options: {named}"
    assert_unlinkable(casts, cast.first, cast.option_ids, "ballot")
    assert_unlinkable(changes, {x: 0 for x in changes}, cast.option_ids, "changed ballot")
    assert len(changes) == CHANGES
    counted_as_cast(cast)


# --- SQLite: the write-ahead log, one transaction at a time ---------------------------------

def wal_transactions(database: Path, wal: Path) -> Iterator[bytes]:
    """The database file as each transaction of the log left it (the log replayed frame by
    frame onto the file it was written against)."""
    log = wal.read_bytes()
    page_size = struct.unpack(">I", log[8:12])[0]
    salts = log[16:24]
    image = bytearray(database.read_bytes())
    offset = 32
    while offset + 24 + page_size <= len(log):
        page, committed = struct.unpack(">II", log[offset:offset + 8])
        if log[offset + 8:offset + 16] != salts:
            break  # frames of an earlier log
        data = log[offset + 24:offset + 24 + page_size]
        start = (page - 1) * page_size
        if len(image) < start + page_size:
            image.extend(bytes(start + page_size - len(image)))
        image[start:start + page_size] = data
        offset += 24 + page_size
        if committed:
            del image[committed * page_size:]
            yield standalone(bytes(image))


def standalone(image: bytes) -> bytes:
    """A database image SQLite reads alone, without looking for a log beside it."""
    return image[:18] + b"\x01\x01" + image[20:]


def rows_of(image: bytes, folder: Path) -> dict[str, dict[Any, list[Any]]]:
    path = folder / "replayed.sqlite"
    path.write_bytes(image)
    connection = sqlite3.connect(path)
    try:
        return {table: {row[0]: list(row) for row in connection.execute(f"SELECT * FROM {table}")}  # noqa: S608
                for table in TABLES}
    finally:
        connection.close()
        path.unlink()


def sqlite_writes(states: list[dict[str, dict[Any, list[Any]]]]) -> Writes:
    casts: dict[Any, list[Change]] = {}
    changes: dict[Any, list[Change]] = {}
    for before, after in itertools.pairwise(states):
        entries: list[Change] = []
        for table in TABLES:
            for key, row in after[table].items():
                old = before[table].get(key)
                if old != row:
                    entries.append((table, None if old is None else key, describe(old, row, table)))
        new_ballots = [row for key, row in after["ballot"].items() if key not in before["ballot"]]
        new_receipts = [key for key in after["spent_receipt"] if key not in before["spent_receipt"]]
        if new_ballots:
            casts[new_ballots[0][2]] = entries
        elif new_receipts:
            changes[new_receipts[0]] = entries
    return casts, changes


@pytest.mark.sqlite_only
# Consensus is not secret (its objections are named): the secret votes are majorities.
@pytest.mark.parametrize("rule", ["simple_majority", "two_thirds"])
def test_sqlite_write_ahead_log_links_no_voter_to_a_choice(voters, tmp_path, rule):
    chair, people, recommendation = voters
    database = Path(db.engine.url.database or "")
    copies: dict[str, Path] = {}

    def start_log(moment: Any) -> None:
        if moment == "opened":
            # Everything before the vote's ballots into the file, and an empty log after it.
            db.session.rollback()
            with db.engine.connect() as connection:
                # The ballots' few dozen pages stay far below the automatic checkpoint's 1000.
                busy, _log, _done = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            assert busy == 0
            shutil.copy(database, tmp_path / "file.sqlite")
            copies["file"] = tmp_path / "file.sqlite"

    cast = cast_known_ballots(chair, people, recommendation, rule, start_log)
    db.session.rollback()
    shutil.copy(database.with_name(database.name + "-wal"), tmp_path / "file.sqlite-wal")
    states = [rows_of(image, tmp_path) for image in
              wal_transactions(copies["file"], tmp_path / "file.sqlite-wal")]
    casts, changes = sqlite_writes([rows_of(standalone(copies["file"].read_bytes()), tmp_path), *states])
    assert_unlinkable(casts, cast.first, cast.option_ids, "ballot")
    assert_unlinkable(changes, {x: 0 for x in changes}, cast.option_ids, "changed ballot")
    assert len(changes) == CHANGES
    counted_as_cast(cast)


def counted_as_cast(cast: Ballots) -> None:
    """And the vote still counts what was cast: the attack found nothing because nothing is
    there, not because nothing was counted."""
    vote = db.session.get(Vote, cast.vote.id)
    decision = services.close_vote(vote.opened_by, vote)
    db.session.commit()
    expected = [list(cast.final.values()).count(position) for position in range(3)]
    assert decision.turnout == VOTERS
    assert tally.counts(vote) == expected


# --- the sealed tally itself ----------------------------------------------------------------

@pytest.mark.database_independent
def test_the_sealed_tally_has_one_length_whatever_the_choice_and_needs_the_key():
    key = b"server-secret"
    tallies = [([3, 0, 0], []), ([0, 3, 0], ["Too vague.", "Нет консенсуса по этому пункту." * 16]),
               ([0, 0, 3], []), ([1, 1, 1], ["x"])]
    sealed = [sealing.seal(key, 7, counts, reasons, options=3, slots=3) for counts, reasons in tallies]
    assert len({len(blob) for blob in sealed}) == 1
    assert len(set(sealed)) == len(sealed)  # a fresh nonce each time
    same = [sealing.seal(key, 7, [1, 0, 0], [], options=3, slots=3) for _ in range(2)]
    assert same[0] != same[1]  # the same tally twice: two different ciphertexts
    for blob, (counts, reasons) in zip(sealed, tallies, strict=True):
        assert sealing.unseal(key, 7, blob) == (counts, sorted(reasons))
        with pytest.raises(InvalidTag):
            sealing.unseal(b"another key", 7, blob)
        with pytest.raises(InvalidTag):
            sealing.unseal(key, 8, blob)  # another vote's tally cannot be moved here


def test_a_changed_secret_key_is_said_plainly_and_the_vote_can_still_be_called_off(voters, app,
                                                                                 monkeypatch):
    """The secret key changed while a secret vote was open: its sealed tally cannot be read,
    so it cannot be closed — the chair is told why (never a server error), nothing changes,
    and the vote can still be cancelled."""
    from drafting.errors import Unavailable
    from models import VoteStatus

    chair, people, recommendation = voters
    vote = services.open_vote(chair, recommendation, VoteOpen(
        subject="clause", clause_id=recommendation.live_clauses[0].id,
        secret=True))
    db.session.commit()
    yes = next(o for o in vote.options if o.kind is OptionKind.YES)
    ballots.cast_ballot(people[0], vote, BallotIn(option_id=yes.id))
    db.session.commit()
    monkeypatch.setitem(app.config, "SECRET_KEY", "a new secret key")
    with pytest.raises(Unavailable, match="previous secret key"):
        services.close_vote(chair, db.session.get(Vote, vote.id))
    db.session.rollback()
    assert db.session.get(Vote, vote.id).status is VoteStatus.OPEN
    services.cancel_vote(chair, db.session.get(Vote, vote.id))
    db.session.commit()
    assert db.session.get(Vote, vote.id).status is VoteStatus.CANCELLED
