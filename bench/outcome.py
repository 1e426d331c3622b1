"""The outcome-document benchmark: a conference of 20 groups × 10 adopted recommendations × 15
clauses, each recommendation adopted by a roll-call vote of 10, compiled and rendered in
every format, each in a process of its own so that its peak memory is its own.

Run from the repository root:

    .venv/bin/python -m bench.outcome                    # every format, a JSON line each
    .venv/bin/python -m bench.outcome --markdown         # and a table against the goals
    .venv/bin/python -m bench.outcome --groups 2 --recommendations 3   # smaller

Goals (issue 6, on this 2-core machine): DOCX, HTML, Markdown and JSON under 2 s each, PDF
under 15 s, memory under 500 MB. ``seconds`` is compile + render; ``compile_seconds`` the
outline alone.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

FORMATS = ("json", "md", "html", "docx", "pdf")
GOALS = {"json": 2.0, "md": 2.0, "html": 2.0, "docx": 2.0, "pdf": 15.0}
MEMORY_GOAL_MB = 500
CLAUSE = ("Calls upon the participating States to simplify the registration of migrant "
          "workers and members of their families, and to make *information* on their rights "
          "available in the languages of the countries of origin;")


def _app(database: Path) -> Any:
    from drafting import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "bench",
                       "VOTE_DEADLINE_POLL_SECONDS": 0})


def seed(database: Path, groups: int, recommendations: int, clauses: int, voters: int) -> int:
    """Write the conference with bulk inserts (the services would take minutes for it) in the
    shape the services leave: adopted clauses and recommendations, closed roll-call votes
    with their options and ballots, a statement per recommendation."""
    from models import (
        Ballot,
        Clause,
        ClauseKind,
        ClauseStatus,
        Conference,
        GroupRole,
        Membership,
        OptionKind,
        Participant,
        Recommendation,
        RecommendationStatus,
        StakeholderCategory,
        Statement,
        StatementKind,
        Vote,
        VoteOption,
        VoteOutcome,
        VoteRule,
        VoteStatus,
        VoteSubject,
        WorkingGroup,
        db,
    )

    app = _app(database)
    now = datetime.now(UTC)
    categories = list(StakeholderCategory)
    with app.app_context():
        db.create_all()
        conference = Conference(title="Efficient migration management in the CIS region",
                                venue="Astana, Kazakhstan", starts_on=date(2009, 6, 24),
                                ends_on=date(2009, 6, 25), organisers="OSCE Centre in Astana\nIOM",
                                preamble="The participants *adopted* the following recommendations.")
        db.session.add(conference)
        db.session.flush()
        for g in range(groups):
            group = WorkingGroup(conference_id=conference.id, name=f"Working group {g + 1}",
                                 mandate="Recommend *practical* measures.", position=g)
            db.session.add(group)
            db.session.flush()
            people = [Participant(email=f"p{g}-{n}@bench.example", name=f"Participant {g}-{n}",
                                  affiliation="Ministry of Labour", country="Kazakhstan",
                                  category=categories[n % len(categories)]) for n in range(voters)]
            db.session.add_all(people)
            db.session.flush()
            db.session.add_all([Membership(group_id=group.id, participant_id=p.id,
                                           role=GroupRole.CHAIR if n == 0 else GroupRole.MEMBER)
                                for n, p in enumerate(people)])
            for r in range(recommendations):
                recommendation = Recommendation(group_id=group.id, title=f"Recommendation {g}.{r}",
                                                status=RecommendationStatus.ADOPTED)
                db.session.add(recommendation)
                db.session.flush()
                db.session.add_all([Clause(
                    recommendation_id=recommendation.id, position=c,
                    kind=ClauseKind.PREAMBULAR if c < 3 else ClauseKind.OPERATIVE,
                    text=CLAUSE, status=ClauseStatus.ADOPTED) for c in range(clauses)])
                vote = Vote(recommendation_id=recommendation.id, subject=VoteSubject.RECOMMENDATION,
                            question="Adopt the recommendation as a whole?",
                            rule=VoteRule.SIMPLE_MAJORITY, status=VoteStatus.CLOSED,
                            eligible_count=voters, turnout=voters, opened_at=now, closed_at=now,
                            outcome=VoteOutcome.ADOPTED, record="{}", record_sha256="0" * 64,
                            options=[VoteOption(position=i, kind=kind, label=kind.value,
                                                wording_sha256="0" * 64)
                                     for i, kind in enumerate((OptionKind.YES, OptionKind.NO,
                                                               OptionKind.ABSTAIN))])
                db.session.add(vote)
                db.session.flush()
                db.session.add_all([Ballot(vote_id=vote.id, voter_id=p.id,
                                           option_id=vote.options[0].id) for p in people])
                db.session.add(Statement(recommendation_id=recommendation.id, author_id=people[1].id,
                                         kind=StatementKind.INTERPRETATIVE,
                                         text="Our delegation reads *families* as immediate families."))
        db.session.commit()
        return conference.id


def render_one(database: Path, conference_id: int, fmt: str) -> dict[str, Any]:
    """Compile and render in this process; what it cost."""
    import importlib

    from drafting.export.outline import compile_outline
    from models import Conference, db

    app = _app(database)
    with app.test_request_context():
        started = time.perf_counter()
        outline = compile_outline(db.session.get(Conference, conference_id))  # type: ignore[arg-type]
        compiled = time.perf_counter()
        data = importlib.import_module(f"drafting.export.render_{fmt}").render(outline)
        finished = time.perf_counter()
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The PDF's worker processes (render_pdf): the largest one's peak, counted once per
    # worker as if they all peaked at once; the sum is an upper bound of the memory in use.
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    workers = (os.cpu_count() or 1) if worker_mb else 0
    peak_mb = own_mb + workers * worker_mb
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"format": fmt, "seconds": round(finished - started, 2),
            "compile_seconds": round(compiled - started, 2), "bytes": len(data),
            "cpu_seconds": round(cpu.ru_utime + cpu.ru_stime + children.ru_utime + children.ru_stime, 1),
            "peak_mb": round(peak_mb), "own_peak_mb": round(own_mb), "workers": workers,
            "worker_peak_mb": round(worker_mb), "goal_seconds": GOALS[fmt],
            "met": finished - started < GOALS[fmt] and peak_mb < MEMORY_GOAL_MB}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--recommendations", type=int, default=10)
    parser.add_argument("--clauses", type=int, default=15)
    parser.add_argument("--voters", type=int, default=10)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--render", nargs=3, metavar=("DATABASE", "CONFERENCE", "FORMAT"),
                        help=argparse.SUPPRESS)  # one format in a child process
    args = parser.parse_args()
    if args.render:
        print(json.dumps(render_one(Path(args.render[0]), int(args.render[1]), args.render[2])))
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "outcome.sqlite"
        conference_id = seed(database, args.groups, args.recommendations, args.clauses, args.voters)
        results = []
        for fmt in args.formats.split(","):
            child = subprocess.run([sys.executable, "-m", "bench.outcome", "--render",  # noqa: S603
                                    str(database), str(conference_id), fmt],
                                   capture_output=True, text=True, check=True)
            result = json.loads(child.stdout.strip().splitlines()[-1])
            result["size"] = f"{args.groups}x{args.recommendations}x{args.clauses}"
            print(json.dumps(result), flush=True)
            results.append(result)
    if args.markdown:
        print("\n| format | seconds (goal) | of which compile | CPU seconds | peak MB (goal 500) | size |")
        print("| --- | --- | --- | --- | --- | --- |")
        for r in results:
            memory = (f"{r['peak_mb']} ({r['own_peak_mb']} + {r['workers']} × {r['worker_peak_mb']})"
                      if r["workers"] else f"{r['peak_mb']}")
            print(f"| {r['format']} | {r['seconds']} (< {r['goal_seconds']}) | {r['compile_seconds']} "
                  f"| {r['cpu_seconds']} | {memory} | {r['bytes'] // 1024} KiB |")
    return 0 if all(r["met"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
