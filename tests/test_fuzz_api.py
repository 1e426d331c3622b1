"""Hardening, suite 2 (issue 8): the JSON API fuzzed with schemathesis from its own OpenAPI
document, as a signed-in participant with real data and as nobody.

Every operation of ``/api/v1/openapi.json`` gets requests that schemathesis derives from the
document (valid ones and ones that break it: wrong types, missing fields, out-of-range
numbers, odd strings). Each answer must be no 5xx, a status code the operation documents, and
a body that matches the documented schema (errors in the one error shape). Path ids are
steered, most of the time, to objects that really exist (a conference, its group, a draft
with clauses, a thread, a comment, an amendment, an open vote, a membership, a notification),
so the requests reach the services and not only the 404 for an unknown id.

Bounded by default (a few examples per operation); ``PLENARY_HARDENING=long`` runs many more.
The number of requests tried is printed at the end of each test (docs/security.md).
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from models import ClauseKind, GroupRole, Notification, NotificationKind, db
from tests.conftest import HARDENING_LONG
from tests.yclient import eventually

_worlds = itertools.count(1)

LONG = HARDENING_LONG
#: Examples per operation: signed in (the requests that reach the services), and as nobody
#: (every one of which must be refused before anything is read).
EXAMPLES = 150 if LONG else 4
EXAMPLES_AS_NOBODY = 30 if LONG else 2

#: What every answer is checked for: not a server error, a documented status code, a
#: documented content type, a body of the documented schema, and input that breaks the
#: document refused (a 4xx), never accepted.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]

def fuzz_settings(examples: int) -> settings:
    # Derandomised in the bounded form: the same requests on every run, so a failure in CI
    # is the one a developer reproduces.
    return settings(max_examples=examples, deadline=None, derandomize=not LONG,
                    suppress_health_check=list(HealthCheck), database=None)


def _document() -> dict[str, Any]:
    """The OpenAPI document, as the API's declarations make it (every capability's routes
    module declares its endpoints when imported). Built at import because schemathesis makes
    one test per operation at collection, before any app exists; ``test_the_fuzzed_document_is_the_served_one``
    proves it is the document the app serves. (schemathesis's lazy ``from_fixture`` loader
    does not run under pytest 9.2.)"""
    import importlib
    import json
    import pkgutil

    import drafting
    from drafting.api import ENDPOINTS
    from drafting.api.openapi import build_document

    for package in pkgutil.iter_modules(drafting.__path__):
        if package.ispkg and importlib.util.find_spec(f"drafting.{package.name}.routes"):
            importlib.import_module(f"drafting.{package.name}.routes")
    # Through JSON, as the app serves it (tuples become lists, keys strings).
    return json.loads(json.dumps(build_document(ENDPOINTS)))


DOCUMENT = _document()
#: The coverage phase (boundary values, every missing field, every undocumented method for
#: each operation: dozens of requests each) runs in the long form; the bounded form fuzzes.
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": LONG},
                                                   "examples": {"enabled": False}}})
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


def test_the_fuzzed_document_is_the_served_one(client: Any) -> None:
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.get_json() == DOCUMENT


@dataclass
class World:
    """Real objects of one conference, by the name of the path parameter that names them,
    and the chair's and secretariat's API tokens."""

    ids: dict[str, list[int]]
    tokens: dict[str, str]


@dataclass
class Tally:
    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    operation: str = ""

    def count(self, status: int) -> None:
        self.requests += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1


def build_world(app: Any, factories: Any) -> World:
    """One conference with two groups, a draft of three clauses with a thread, a comment, an
    amendment and an open vote, a notification; written in one transaction (the world is made
    again for every operation, so it must be cheap)."""
    from drafting.auth.services import create_api_token
    from models import (
        Amendment,
        AmendmentKind,
        Clause,
        Comment,
        CommentThread,
        Conference,
        Delegation,
        Membership,
        Participant,
        Recommendation,
        Seat,
        StakeholderCategory,
        WorkingGroup,
    )

    n = next(_worlds)
    password = factories.password_hash()
    with app.test_request_context():
        def person(name: str, **fields: Any) -> Participant:
            return Participant(email=f"{name}{n}@fuzz.example.org", name=f"{name.title()} {n}",
                               affiliation="Ministry", country="Kazakhstan",
                               category=fields.pop("category", StakeholderCategory.GOVERNMENT_OFFICIAL),
                               password_hash=password, **fields)

        conference = Conference(title=f"Fuzzed conference {n}", venue="Astana",
                                starts_on=date(2009, 6, 24), ends_on=date(2009, 6, 25),
                                organisers="OSCE", description="")
        group = WorkingGroup(conference=conference, name=f"Labour {n}", mandate="Recommend.", position=1)
        other_group = WorkingGroup(conference=conference, name=f"Ethnic {n}", mandate="Recommend.", position=2)
        secretariat = person("secretariat", is_secretariat=True,
                             category=StakeholderCategory.INTERNATIONAL_ORGANISATION)
        chair, member, observer = person("chair"), person("member"), person("observer")
        other_chair, outsider = person("otherchair"), person("outsider")
        memberships = [Membership(group=group, participant=chair, role=GroupRole.CHAIR),
                       Membership(group=group, participant=member, role=GroupRole.MEMBER),
                       Membership(group=group, participant=observer, role=GroupRole.OBSERVER),
                       Membership(group=other_group, participant=other_chair, role=GroupRole.CHAIR)]
        recommendation = Recommendation(group=group, title=f"Draft {n}")
        other = Recommendation(group=other_group, title=f"Other draft {n}")
        clauses = [Clause(recommendation=recommendation, kind=kind, text=text, position=position)
                   for kind, text, position in (
                       (ClauseKind.PREAMBULAR, "*Recognising* the crisis,", 1),
                       (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;", 1),
                       (ClauseKind.OPERATIVE, "Invites the ILO to assist;", 2))]
        foreign_clause = Clause(recommendation=other, kind=ClauseKind.OPERATIVE, text="Other;", position=1)
        thread = CommentThread(clause=clauses[1], created_by=member)
        comments = [Comment(thread=thread, author=member, body="Could we say *region*?"),
                    Comment(thread=thread, author=chair, body="Agreed, @member.")]
        amendment = Amendment(clause=clauses[1], kind=AmendmentKind.REPLACE,
                              text="Calls on States to protect all migrant workers;",
                              base_text=clauses[1].text, rationale="Clearer.", proposer=member)
        db.session.add_all([conference, group, other_group, secretariat, chair, member, observer,
                            other_chair, outsider, *memberships, recommendation, other, *clauses,
                            foreign_clause, thread, *comments, amendment])
        db.session.flush()
        delegation = Delegation(conference_id=conference.id, name=f"State {n}", kind="state",
                                sort_key="", head_id=member.id)
        db.session.add(delegation)
        db.session.flush()
        db.session.add(Seat(conference_id=conference.id, delegation_id=delegation.id,
                            participant_id=member.id))
        notice = Notification(recipient_id=chair.id, actor_id=member.id, kind=NotificationKind.MENTION,
                              clause_id=clauses[1].id, comment_id=comments[0].id)
        db.session.add(notice)
        tokens = {"chair": create_api_token(chair, "fuzz")[1],
                  "secretariat": create_api_token(secretariat, "fuzz")[1]}
        db.session.commit()
        ids = {
            "conference_id": [conference.id],
            "group_id": [group.id, other_group.id],
            "recommendation_id": [recommendation.id, other.id],
            "clause_id": [clause.id for clause in clauses] + [foreign_clause.id],
            "thread_id": [thread.id],
            "comment_id": [comment.id for comment in comments],
            "amendment_id": [amendment.id],
            "membership_id": [membership.id for membership in memberships],
            "participant_id": [chair.id, member.id, outsider.id],
            "notification_id": [notice.id],
            "delegation_id": [delegation.id],
            "job_id": [1],
        }
    vote = app.test_client().api(
        "POST", f"/api/v1/recommendations/{ids['recommendation_id'][0]}/votes",
        {"subject": "clause", "clause_id": ids["clause_id"][2]},
        token=tokens["chair"])
    assert vote.status_code == 201, vote.get_data(as_text=True)
    ids["vote_id"] = [vote.get_json()["id"]]
    return World(ids, tokens)


def steer(case: Any, world: World) -> None:
    """Point the generated path ids at real objects most of the time (deterministically from
    the generated value, so that Hypothesis can still shrink a failure)."""
    for name, value in (case.path_parameters or {}).items():
        known = world.ids.get(name)
        if known and isinstance(value, int) and not isinstance(value, bool):
            # Three times in four a real object; otherwise the generated id as it came.
            choice = value % (4 * len(known))
            if choice < 3 * len(known):
                case.path_parameters[name] = known[choice % len(known)]


@pytest.fixture
def world_factory(app: Any, factories: Any) -> Iterator[Any]:
    """A fresh world for each operation: an earlier operation may have deleted the clause,
    the membership or the vote the next one needs."""
    from drafting.export import jobs

    cache: dict[str, World] = {}
    earlier = set(jobs.store(app).jobs)  # other tests' jobs (some fail on purpose)

    def world_for(operation: str) -> World:
        if operation not in cache:
            cache.clear()
            cache[operation] = build_world(app, factories)
        return cache[operation]

    yield world_for
    # Exports and finalisations the fuzzing started run in the background: they finish on
    # the data they were started on (before the tables are emptied), and none may fail.
    store = jobs.store(app)
    started = [job for job_id, job in list(store.jobs.items()) if job_id not in earlier]
    eventually(lambda: all(job.done for job in started), timeout=60,
               message="the export jobs the fuzzing started finished")
    failed = [(job.kind, job.format, job.error) for job in started if job.status == jobs.FAILED]
    store.jobs.clear()
    assert not failed, f"export jobs failed: {failed}"


@pytest.fixture(scope="module")
def tally() -> Any:
    counted = Tally()
    yield counted
    print(f"\nAPI fuzzing: {counted.requests} requests, by status {sorted(counted.by_status.items())}")


@schema.parametrize()
@fuzz_settings(EXAMPLES)
def test_api_as_a_signed_in_participant(case: Any, app: Any, world_factory: Any, tally: Tally) -> None:
    world = world_factory(case.operation.label)
    steer(case, world)
    role = "secretariat" if case.operation.path.startswith(("/api/v1/conferences", "/api/v1/participants")) \
        else "chair"
    response = case.call(app=app, headers={"Authorization": f"Bearer {world.tokens[role]}"})
    tally.count(response.status_code)
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@fuzz_settings(EXAMPLES_AS_NOBODY)
def test_api_as_nobody(case: Any, app: Any, tally: Tally) -> None:
    response = case.call(app=app)
    tally.count(response.status_code)
    case.validate_response(response, checks=CHECKS)
    if case.method.upper() == "OPTIONS":  # Flask's own answer: the allowed methods, no body
        assert response.status_code == 200 and not response.content
        return
    # Nothing is answered before the caller is known, except a method the path does not have
    # and a path that does not exist (an id that is not a whole number >= 0).
    not_a_path = any(not (isinstance(value, int) and value >= 0) or isinstance(value, bool)
                     for value in (case.path_parameters or {}).values())
    assert response.status_code in (401, 405) or (not_a_path and response.status_code == 404), (
        f"{case.operation.label} answered {response.status_code} to nobody: {response.content[:300]!r}")


# --- defects the fuzzing found, kept as plain tests ------------------------------------------


def test_a_group_name_that_differs_only_in_the_case_of_a_non_ascii_letter_is_a_conflict(
        app: Any, factories: Any) -> None:
    """Found by the fuzzing: SQLite's lower() folds only ASCII, so the service's check let
    "Étude" through twice and the database's unique constraint answered with a 500."""
    world = build_world(app, factories)
    client = app.test_client()
    url = f"/api/v1/conferences/{world.ids['conference_id'][0]}/groups"
    first = client.api("POST", url, {"name": "Étude ÀÉ"}, token=world.tokens["secretariat"])
    assert first.status_code == 201, first.get_data(as_text=True)
    for name in ("Étude ÀÉ", "étude àé"):
        again = client.api("POST", url, {"name": name}, token=world.tokens["secretariat"])
        assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    with app.app_context():
        from models import WorkingGroup

        names = db.session.scalars(db.select(WorkingGroup.name).where(
            WorkingGroup.conference_id == world.ids["conference_id"][0])).all()
    assert sorted(names).count("Étude ÀÉ") == 1 and "étude àé" not in names


def test_locking_a_clause_under_an_open_vote_is_a_documented_conflict(app: Any, factories: Any) -> None:
    """Found by the fuzzing: the answer was right (409) but the document did not list it."""
    world = build_world(app, factories)
    client = app.test_client()
    voted = world.ids["clause_id"][2]  # the world's open vote is on this clause
    for verb in ("lock", "unlock"):
        response = client.api("POST", f"/api/v1/clauses/{voted}/{verb}", token=world.tokens["chair"])
        assert response.status_code == 409, response.get_data(as_text=True)
