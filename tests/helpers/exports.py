"""The conference the export tests work on (``world``: adopted, pending and hostile texts),
and what they do with it: settle it, sign in, download, read what was stored, follow a job.

A test module uses the fixtures by importing them under the names they are defined with:
``from tests.helpers.exports import export_world, final_quickly  # noqa: F401 - fixtures``
(the fixtures are ``world`` and ``quick_final``)."""
from __future__ import annotations

import importlib.util
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from drafting.export import jobs, services
from drafting.export.plenary import record_plenary_adoption
from drafting.export.schemas import PlenaryAdoptionIn
from drafting.recommendations.services import withdraw_recommendation
from drafting.votes.ballots import cast_ballot
from drafting.votes.schemas import BallotIn, StatementIn, VoteOpen
from drafting.votes.services import add_statement, cancel_vote, close_vote, open_vote
from models import (
    ClauseKind,
    Conference,
    OutcomeDocument,
    Participant,
    Recommendation,
    RecommendationStatus,
    Vote,
    VoteRule,
    WorkingGroup,
    db,
)

AVAILABLE = [name for name, fmt in services.FORMATS.items()
             if importlib.util.find_spec(fmt.module) is not None]
#: What the tests finalise in: the quick formats (PDF and DOCX once, in their own test).
QUICK = [name for name in AVAILABLE if name in ("html", "md", "json", "akn")]
#: Markdown reads back simply; HTML if the Markdown renderer is not there.
TEXTUAL = "md" if "md" in AVAILABLE else "html"

PREAMBULAR = "*Recognising* the contribution of migrant workers,"
FIRST = "Calls on States to protect migrant workers;"
SECOND = "Invites the ILO to assist;"
OTHER = "Encourages dialogue between communities;"


@dataclass
class World:
    cast: Any
    conference: int
    group: int
    other_group: int
    adopted: int
    other_adopted: int
    pending_recommendation: int
    open_vote: int
    hidden: Participant


def _adopt(chair: Participant, recommendation: Recommendation, voters: list[Participant], *,
           secret_first: bool = False) -> None:
    """A vote on each clause (the first secret if asked, the others roll-call), then the
    whole recommendation."""
    for index, clause in enumerate(list(recommendation.live_clauses)):
        vote = open_vote(chair, recommendation, VoteOpen(
            subject="clause", clause_id=clause.id,
            secret=secret_first and index == 0))
        for voter in voters:
            cast_ballot(voter, vote, BallotIn(option_id=vote.options[0].id))
        close_vote(chair, vote)
        db.session.commit()
    recommendation.group.conference.decision_rule = VoteRule.TWO_THIRDS
    whole = open_vote(chair, recommendation, VoteOpen(subject="recommendation"))
    for voter in voters:
        cast_ballot(voter, whole, BallotIn(option_id=whole.options[0].id))
    close_vote(chair, whole)
    db.session.commit()
    assert recommendation.status is RecommendationStatus.ADOPTED


@pytest.fixture(name="world")
def export_world(app, factories, xss_payloads) -> World:
    """Two groups with an adopted recommendation each (votes secret and roll-call,
    statements), a third recommendation still drafting with an open vote (so the document is
    a draft), a participant who opted out of publication, and hostile text everywhere."""
    script, trap = xss_payloads[0], "[x](file:///etc/passwd) [y](http://169.254.169.254/)"
    cast = factories.cast()
    hidden = factories.member_of(cast.group, name=f"Hidden Person {script}", publish_name=False)
    with app.test_request_context():
        conference = db.session.get(Conference, cast.conference.id)
        conference.preamble = f"The participants {trap} {script}"
        for group in (db.session.get(WorkingGroup, cast.group.id),
                      db.session.get(WorkingGroup, cast.other_group.id)):
            group.mandate = f"Recommend measures. {trap} {script}"
        db.session.commit()
    adopted = factories.recommendation(cast.group, title=f"On labour migration {script}", clauses=[
        (ClauseKind.PREAMBULAR, PREAMBULAR), (ClauseKind.OPERATIVE, FIRST),
        (ClauseKind.OPERATIVE, f"{SECOND} {trap}")])
    other = factories.recommendation(cast.other_group, title="On ethnic migration",
                                     clauses=[(ClauseKind.OPERATIVE, OTHER)])
    pending = factories.recommendation(cast.group, title="Still being drafted",
                                       clauses=[(ClauseKind.OPERATIVE, "Notes progress;")])
    with app.test_request_context():
        get = db.session.get
        chair, member = get(Participant, cast.chair.id), get(Participant, cast.member.id)
        _adopt(chair, get(Recommendation, adopted.id), [chair, member], secret_first=True)
        other_chair = get(Participant, cast.other_chair.id)
        _adopt(other_chair, get(Recommendation, other.id), [other_chair])
        add_statement(get(Participant, cast.member.id), get(Recommendation, adopted.id),
                      StatementIn(kind="interpretative", text=f"We read *region* broadly. {trap} {script}"))
        draft = get(Recommendation, pending.id)
        vote = open_vote(chair, draft, VoteOpen(subject="clause", clause_id=draft.live_clauses[0].id))
        db.session.commit()
        open_id = vote.id
    return World(cast, cast.conference.id, cast.group.id, cast.other_group.id, adopted.id,
                 other.id, pending.id, open_id, hidden)


def settle(app, world: World, *, adopt: bool = True) -> None:
    """Nothing pending any more: the open vote cancelled, the unfinished draft withdrawn;
    and (``adopt``) the plenary's adoption of the document recorded, so that it may be
    finalised."""
    with app.test_request_context():
        chair = db.session.get(Participant, world.cast.chair.id)
        cancel_vote(chair, db.session.get(Vote, world.open_vote))
        withdraw_recommendation(chair, db.session.get(Recommendation, world.pending_recommendation))
        db.session.commit()
    if adopt:
        adopt_in_plenary(app, world.conference, world.cast.secretariat)


def adopt_in_plenary(app, conference_id: int, secretariat, **fields: Any) -> None:
    """The secretariat records the plenary's adoption (by consensus on the last day, unless
    told otherwise)."""
    with app.test_request_context():
        conference = db.session.get(Conference, conference_id)
        command = PlenaryAdoptionIn.model_validate({"adopted_on": conference.ends_on, **fields})
        record_plenary_adoption(db.session.get(Participant, secretariat.id), conference, command)
        db.session.commit()


@pytest.fixture(name="quick_final")
def final_quickly(app, monkeypatch):
    """Finalising writes the quick formats only (PDF and DOCX are rendered in one test)."""
    monkeypatch.setitem(app.config, "EXPORT_FINAL_FORMATS", QUICK)


def signed_in(app, participant) -> Any:
    client = app.test_client()
    client.sign_in(participant)
    return client


def download(client, world: World, fmt: str = TEXTUAL, *, group: int | None = None,
             changes: bool = False) -> Any:
    base = f"/groups/{group}" if group else f"/conferences/{world.conference}"
    return client.get(f"{base}/export/download?format={fmt}" + ("&changes=1" if changes else ""))


def disposition_name(response) -> str:
    return re.search(r'filename="([^"]+)"', response.headers["Content-Disposition"]).group(1)


def stored(app, conference_id: int) -> dict[str, OutcomeDocument]:
    with app.app_context():
        found = db.session.scalars(select(OutcomeDocument).where(
            OutcomeDocument.conference_id == conference_id)).all()
        for document in found:
            db.session.expunge(document)
        return {d.format.value: d for d in found}


def wait_for(client, job_id: int, *, api_token: str | None = None) -> list[dict]:
    """Poll the job until it ends; every answer seen, in order."""
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if api_token:
            response = client.api("GET", f"/api/v1/exports/{job_id}", token=api_token)
        else:
            response = client.get(f"/export/jobs/{job_id}")
        assert response.status_code == 200, response.get_data(as_text=True)
        seen.append(response.get_json())
        if seen[-1]["status"] in ("finished", "failed"):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"export job {job_id} did not finish: {seen[-1]}")


def finalise_on_the_page(client, world: World) -> dict:
    """Tick the box and press Finalise (no script): the job's page, followed to its end."""
    response = client.submit(f"/conferences/{world.conference}/finalise", {"confirm": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    job_id = int(re.fullmatch(r"/export/jobs/(\d+)/progress", response.headers["Location"]).group(1))
    return wait_for(client, job_id)[-1]


class _Turn:
    """A job's wait for a rendering turn, told to the test as it begins."""

    def __init__(self, turns: threading.BoundedSemaphore, asked: threading.Event) -> None:
        self.turns, self.asked = turns, asked

    def __enter__(self) -> bool:
        self.asked.set()
        return self.turns.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.turns.__exit__(*exc)


@contextmanager
def every_turn_taken(app) -> Iterator[threading.Event]:
    """Every rendering turn of the app's jobs taken, as by running jobs, until the block ends.
    What it gives is set once a job has asked for a turn (and so waits for one)."""
    store = jobs.store(app)
    turns = store.turns(int(app.config["EXPORT_CONCURRENCY"]))
    held = 0
    while turns.acquire(blocking=False):
        held += 1
    assert held == app.config["EXPORT_CONCURRENCY"]
    asked = threading.Event()
    store.turns = lambda _concurrency: _Turn(turns, asked)  # type: ignore[method-assign, assignment, return-value]
    try:
        yield asked
    finally:
        del store.turns  # the class's own again
        for _turn in range(held):
            turns.release()
