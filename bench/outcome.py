"""The outcome-document benchmark: a conference of 20 groups × 10 adopted recommendations × 15
clauses, each recommendation adopted by a roll-call vote of 10, compiled and rendered in
every format, each in a process of its own so that its peak memory is its own.

Run from the repository root:

    .venv/bin/python -m bench.outcome                    # every format, a JSON line each
    .venv/bin/python -m bench.outcome --markdown         # and a table against the goals
    .venv/bin/python -m bench.outcome --repeat 5         # the median of 5 runs (default 3)
    .venv/bin/python -m bench.outcome --groups 2 --recommendations 3   # smaller

Goals (issue 6, on this 2-core machine): DOCX, HTML, Markdown, JSON and Akoma Ntoso under 2 s
each, memory under 500 MB; the PDF in 5 s (issue 18; issue 6 asked 15). ``seconds`` is
compile + render; ``compile_seconds`` the outline alone; ``peak_mb`` the largest resident
memory of the rendering process and its children (the PDF's layout workers) at one time,
sampled every 20 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

FORMATS = ("json", "md", "html", "akn", "docx", "pdf")
#: The PDF's goal is issue 18's (≤ 5 s; issue 6 asked < 15 s): WeasyPrint missed it (14-15 s
#: idle), so the PDF is Typst's since 2026-12-08 (docs/benchmarks.md).
GOALS = {"json": 2.0, "md": 2.0, "html": 2.0, "akn": 2.0, "docx": 2.0, "pdf": 5.0}
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


class MemorySampler(threading.Thread):
    """The resident memory of this process and its children (the PDF's layout workers),
    summed, every 20 ms: the peak is what the export needed at once."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mb = 0.0
        self.most_children = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.02):
            pids = [os.getpid(), *self._children(os.getpid())]
            self.most_children = max(self.most_children, len(pids) - 1)
            self.peak_mb = max(self.peak_mb, sum(self._rss_kb(pid) for pid in pids) / 1024)

    def stop(self) -> None:
        self.stopping.set()
        self.join()

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(child) for child in found] + [grand for child in found
                                                  for grand in MemorySampler._children(int(child))]

    @staticmethod
    def _rss_kb(pid: int) -> int:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return 0
        line = next((line for line in status.splitlines() if line.startswith("VmRSS:")), "VmRSS: 0 kB")
        return int(line.split()[1])


def render_one(database: Path, conference_id: int, fmt: str) -> dict[str, Any]:
    """Compile and render in this process; what it cost."""
    import importlib

    from drafting.export.outline import compile_outline
    from models import Conference, db

    app = _app(database)
    sampler = MemorySampler()
    sampler.start()
    with app.test_request_context():
        started = time.perf_counter()
        outline = compile_outline(db.session.get(Conference, conference_id))  # type: ignore[arg-type]
        compiled = time.perf_counter()
        data = importlib.import_module(f"drafting.export.render_{fmt}").render(outline)
        finished = time.perf_counter()
    sampler.stop()
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Child processes (none since the PDF is Typst's, in-process): the largest one's peak; and
    # the largest sum of this process's and its children's resident memory, sampled, which is
    # the goal's figure.
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    # Children seen at once (0 for every format today).
    workers = sampler.most_children
    peak_mb = max(own_mb, sampler.peak_mb)
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
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each format; the table gives the median (default 3)")
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
            runs = []
            for _run in range(args.repeat):
                child = subprocess.run([sys.executable, "-m", "bench.outcome", "--render",  # noqa: S603
                                        str(database), str(conference_id), fmt],
                                       capture_output=True, text=True, check=True)
                run = json.loads(child.stdout.strip().splitlines()[-1])
                run["size"] = f"{args.groups}x{args.recommendations}x{args.clauses}"
                print(json.dumps(run), flush=True)
                runs.append(run)
            # The median run by time (each a fresh process); its memory the largest seen.
            result = dict(sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2])
            result["runs_seconds"] = [r["seconds"] for r in runs]
            result["peak_mb"] = max(r["peak_mb"] for r in runs)
            result["met"] = result["seconds"] < result["goal_seconds"] and result["peak_mb"] < MEMORY_GOAL_MB
            results.append(result)
    if args.markdown:
        print("\n| format | seconds, median (goal) | runs | of which compile | CPU seconds "
              "| peak MB, all processes at once (goal 500) | size |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for r in results:
            memory = (f"{r['peak_mb']} (this process {r['own_peak_mb']}, each layout worker "
                      f"≤ {r['worker_peak_mb']})" if r["workers"] else f"{r['peak_mb']}")
            each = ", ".join(str(seconds) for seconds in r["runs_seconds"])
            print(f"| {r['format']} | {r['seconds']} (< {r['goal_seconds']}) | {each} | {r['compile_seconds']} "
                  f"| {r['cpu_seconds']} | {memory} | {r['bytes'] // 1024} KiB |")
    return 0 if all(r["met"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
