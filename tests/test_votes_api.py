"""The votes API: a chair puts a clause, a choice of wordings, an amendment or the whole
recommendation to the group; its members cast (and change) ballots, roll-call or secret; the
chair closes or cancels; the record is verified; statements follow adoption.

Every answer is checked against the OpenAPI document by ``client.api`` (error bodies
included). Every refused request is checked to change no row.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from models import (
    Amendment,
    AmendmentStatus,
    Ballot,
    Clause,
    GroupRole,
    Recommendation,
    SpentReceipt,
    Statement,
    Vote,
    VoteOption,
    VoteVoter,
    db,
)
from tests import rows
from tests.helpers.html import assert_inert

ROLES = ("secretariat", "chair", "member", "observer", "other_chair", "outsider")
CLAUSE = "Calls on States to protect migrant workers;"
SECOND = "Invites the ILO to assist;"
FIRST_WORDING = "Calls on States to protect all migrant workers;"
SECOND_WORDING = "Urges States to protect migrant workers;"


# --- the world the tests act in -----------------------------------------------------------


@dataclass
class World:
    """A draft of two clauses in the "Labour migration" group, whose voters are the chair,
    the member and two more members (four); two amendments of the first clause are marked
    "to be voted". Another group's draft that the first group's people must not reach."""

    client: Any
    cast: Any
    tokens: dict[str, str]
    #: Participant id and name of each voter, by role ("chair", "member", "second", "third").
    people: dict[str, tuple[int, str]]
    recommendation: int
    clause: int
    second_clause: int
    first_amendment: int
    second_amendment: int
    foreign_recommendation: int
    foreign_clause: int

    def call(self, role: str, method: str, path: str, body: Any = None) -> Any:
        return self.client.api(method, "/api/v1" + path, body, token=self.tokens[role])

    def ok(self, role: str, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.call(role, method, path, body)
        assert response.status_code == status, response.get_data(as_text=True)[:1500]
        return response.get_json()

    def open(self, body: dict[str, Any], role: str = "chair") -> dict[str, Any]:
        return self.ok(role, "POST", f"/recommendations/{self.recommendation}/votes", body, 201)

    def open_clause(self, clause: int | None = None, **fields: Any) -> dict[str, Any]:
        """A vote on a clause's wording (the fixtures' rules of procedure: by simple
        majority)."""
        return self.open({"subject": "clause", "clause_id": clause or self.clause, **fields})

    def rules(self, **rules: Any) -> dict[str, Any]:
        """The secretariat sets the conference's rules of procedure (the rest as they are)."""
        path = f"/conferences/{self.cast.conference.id}/rules"
        return self.ok("secretariat", "PUT", path, {**self.ok("secretariat", "GET", path), **rules})

    def ballot(self, role: str, vote: dict[str, Any], option: int, **fields: Any) -> dict[str, Any]:
        return self.ok(role, "POST", f"/votes/{vote['id']}/ballot",
                       {"option_id": option, **fields})

    def close(self, vote: dict[str, Any]) -> dict[str, Any]:
        return self.ok("chair", "POST", f"/votes/{vote['id']}/close")

    def clause_of(self, clause_id: int) -> dict[str, Any]:
        recommendation = self.ok("chair", "GET", f"/recommendations/{self.recommendation}")
        return next(c for c in recommendation["clauses"] if c["id"] == clause_id)

    def amendment_status(self, amendment_id: int) -> str:
        return self.ok("chair", "GET", f"/amendments/{amendment_id}")["status"]


def option(vote: dict[str, Any], label_or_kind: str) -> int:
    """The id of the option of that kind (yes/no/abstain) or label ("Amendment 3")."""
    return next(o["id"] for o in vote["options"]
                if label_or_kind in (o["kind"], o["label"]))


def counts(vote: dict[str, Any]) -> dict[str, int]:
    return {o["label"]: o["count"] for o in vote["options"]}


@pytest.fixture
def world(factories, client) -> World:
    cast = factories.cast()
    draft = factories.recommendation(cast.group, title="Protecting migrant workers")
    clause = factories.clause(draft, text=CLAUSE)
    second = factories.clause(draft, text=SECOND, position=2)
    first = factories.amendment(clause, cast.member, text=FIRST_WORDING,
                                status=AmendmentStatus.TO_BE_VOTED)
    second_amendment = factories.amendment(clause, cast.chair, text=SECOND_WORDING,
                                           status=AmendmentStatus.TO_BE_VOTED)
    voters = {"second": factories.member_of(cast.group, GroupRole.MEMBER, name="Second Member"),
              "third": factories.member_of(cast.group, GroupRole.MEMBER, name="Third Member")}
    foreign = factories.recommendation(cast.other_group, title="Their draft")
    foreign_clause = factories.clause(foreign, text="Their wording;")
    tokens = {role: factories.api_token(getattr(cast, role)) for role in ROLES}
    tokens.update({role: factories.api_token(person) for role, person in voters.items()})
    people = {role: (getattr(cast, role).id, getattr(cast, role).name) for role in ("chair", "member")}
    people.update({role: (person.id, person.name) for role, person in voters.items()})
    return World(client, cast, tokens, people, draft.id, clause.id, second.id, first.id,
                 second_amendment.id, foreign.id, foreign_clause.id)


TABLES = (Vote, VoteOption, VoteVoter, Ballot, SpentReceipt, Statement, Clause, Amendment,
          Recommendation)


@pytest.fixture
def unchanged(app) -> Callable[[], Any]:
    """``with unchanged(): ...refused request...``: asserts that no row changed."""
    return lambda: rows.unchanged(app, TABLES)


def refused(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:1500]
    error = response.get_json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


# --- the document -------------------------------------------------------------------------


def test_the_document_describes_the_votes_api(client):
    document = client.get("/api/v1/openapi.json").get_json()
    expected = {
        ("get", "/recommendations/{recommendation_id}/votes"): {"401", "404"},
        ("post", "/recommendations/{recommendation_id}/votes"): {"400", "401", "403", "404", "409"},
        ("get", "/votes/{vote_id}"): {"401", "404"},
        ("post", "/votes/{vote_id}/ballot"): {"400", "401", "403", "404", "409"},
        ("get", "/votes/{vote_id}/ballot"): {"401", "404"},
        ("post", "/votes/{vote_id}/close"): {"401", "403", "404", "409"},
        ("post", "/votes/{vote_id}/cancel"): {"401", "403", "404", "409"},
        ("get", "/votes/{vote_id}/verify"): {"401", "404", "409"},
        ("get", "/recommendations/{recommendation_id}/statements"): {"401", "404"},
        ("post", "/recommendations/{recommendation_id}/statements"): {"400", "401", "403", "404", "409"},
    }
    for (method, path), errors in expected.items():
        operation = document["paths"]["/api/v1" + path][method]
        assert operation["tags"] == ["votes"]
        assert errors <= set(operation["responses"]), (method, path)


# --- the whole flow -----------------------------------------------------------------------


def test_clause_vote_locks_counts_changes_and_adopts(world):
    vote = world.open_clause()
    assert vote["status"] == "open"
    assert vote["subject"] == "clause" and vote["clause_id"] == world.clause
    assert vote["eligible"] == 4 and vote["turnout"] == 0
    assert [o["kind"] for o in vote["options"]] == ["yes", "no", "abstain"]
    assert vote["options"][0]["wording"] == CLAUSE
    assert all(o["count"] is None for o in vote["options"])  # no tally asked for
    assert world.clause_of(world.clause)["status"] == "locked"
    yes, no, abstain = option(vote, "yes"), option(vote, "no"), option(vote, "abstain")

    first = world.ballot("chair", vote, yes)
    assert first["changed"] is False and first["receipt"] is None
    assert first["vote"]["turnout"] == 1
    world.ballot("member", vote, no)
    world.ballot("second", vote, abstain)
    changed = world.ballot("member", vote, yes)
    assert changed["changed"] is True
    assert changed["vote"]["turnout"] == 3
    mine = world.ok("member", "GET", f"/votes/{vote['id']}/ballot")
    assert mine == {"voted": True, "option_id": yes}
    assert world.ok("third", "GET", f"/votes/{vote['id']}/ballot") == {"voted": False,
                                                                       "option_id": None}

    closed = world.close(vote)
    assert closed["status"] == "closed" and closed["outcome"] == "adopted"
    assert closed["closed_by"]["id"] == world.cast.chair.id
    assert [o["count"] for o in closed["options"]] == [2, 0, 1]
    assert closed["record_sha256"] and closed["objections"] is None
    roll_call = {entry["voter"]["name"]: entry["option_id"] for entry in closed["roll_call"]}
    assert roll_call == {"Chair Person": yes, "Member Person": yes, "Second Member": abstain}
    assert world.clause_of(world.clause) | {"status": "adopted", "text": CLAUSE} \
        == world.clause_of(world.clause)

    verification = world.ok("member", "GET", f"/votes/{vote['id']}/verify")
    assert verification["ok"] is True
    assert set(verification["checks"]) >= {"record_hash", "chain", "counts", "turnout",
                                            "result", "wordings"}
    assert all(verification["checks"].values())
    assert verification["record"]["outcome"] == "adopted"
    assert verification["record"]["options"][0]["count"] == 2
    listed = world.ok("observer", "GET", f"/recommendations/{world.recommendation}/votes")
    assert [v["id"] for v in listed] == [vote["id"]]
    assert world.ok("observer", "GET", f"/votes/{vote['id']}") == closed


def test_records_chain_in_the_conference(world):
    first = world.close(world.open_clause())
    second = world.close(world.open_clause(world.second_clause))
    assert first["previous_sha256"] is None  # the conference's first record
    assert second["previous_sha256"] == first["record_sha256"]
    assert world.ok("chair", "GET", f"/votes/{second['id']}/verify")["ok"] is True


def test_the_tally_is_live_only_when_the_chair_shows_it(world):
    vote = world.open_clause(show_tally=True)
    counted = world.ballot("member", vote, option(vote, "no"))["vote"]
    assert [o["count"] for o in counted["options"]] == [0, 1, 0]


def test_quorum_not_met_decides_nothing_and_unlocks(world):
    world.rules(quorum="majority")
    vote = world.open_clause()
    assert vote["quorum_needed"] == 3  # of the four voters
    world.ballot("member", vote, option(vote, "yes"))
    world.ballot("chair", vote, option(vote, "yes"))
    closed = world.close(vote)
    assert closed["outcome"] == "no_quorum" and closed["quorum_needed"] == 3
    assert world.clause_of(world.clause)["status"] == "open"


def test_a_wording_wins_and_becomes_the_clauses_text(world):
    vote = world.open({"subject": "wordings", "clause_id": world.clause})
    assert vote["subject"] == "wordings"
    labels = [o["label"] for o in vote["options"]]
    first, second = f"Amendment {world.first_amendment}", f"Amendment {world.second_amendment}"
    assert labels[1:] == [first, second, "Abstain"]
    assert [o["wording"] for o in vote["options"][:3]] == [CLAUSE, FIRST_WORDING, SECOND_WORDING]
    for role in ("chair", "member", "second"):
        world.ballot(role, vote, option(vote, first))
    world.ballot("third", vote, option(vote, "The clause as drafted"))
    closed = world.close(vote)
    assert closed["outcome"] == "adopted"
    assert closed["winner_option_id"] == option(vote, first)
    assert counts(closed)[first] == 3
    assert world.clause_of(world.clause)["text"] == FIRST_WORDING
    assert world.clause_of(world.clause)["status"] == "adopted"
    assert world.amendment_status(world.first_amendment) == "adopted_by_vote"
    assert world.amendment_status(world.second_amendment) == "rejected_by_vote"
    assert world.ok("chair", "GET", f"/votes/{vote['id']}/verify")["ok"] is True


def test_a_tie_between_wordings_ends_in_a_runoff_then_the_runoff_decides(world):
    world.rules(decision_rule="two_thirds")
    vote = world.open({"subject": "wordings", "clause_id": world.clause})
    first = f"Amendment {world.first_amendment}"
    world.ballot("chair", vote, option(vote, first))
    world.ballot("member", vote, option(vote, first))
    world.ballot("second", vote, option(vote, "The clause as drafted"))
    world.ballot("third", vote, option(vote, "The clause as drafted"))
    closed = world.close(vote)
    assert closed["outcome"] == "runoff" and closed["winner_option_id"] is None
    assert set(closed["runoff_option_ids"]) == {option(vote, first),
                                                option(vote, "The clause as drafted")}
    # Held locked for the run-off, with its text unchanged.
    assert world.clause_of(world.clause) | {"status": "locked", "text": CLAUSE} \
        == world.clause_of(world.clause)
    # A run-off is not a decision on the amendments: they are still to be voted.
    assert world.amendment_status(world.first_amendment) == "to_be_voted"

    runoff = world.open({"runoff_of": vote["id"]})
    assert runoff["runoff_of"] == vote["id"] and runoff["subject"] == "wordings"
    assert [o["label"] for o in runoff["options"]] == ["The clause as drafted", first, "Abstain"]
    assert world.clause_of(world.clause)["status"] == "locked"
    for role in ("chair", "member", "second"):
        world.ballot(role, runoff, option(runoff, first))
    decided = world.close(runoff)
    assert decided["outcome"] == "adopted"
    assert decided["winner_option_id"] == option(runoff, first)
    assert world.clause_of(world.clause)["text"] == FIRST_WORDING
    assert world.amendment_status(world.first_amendment) == "adopted_by_vote"
    # Only a vote that ended in a run-off can have one.
    refused(world.call("chair", "POST", f"/recommendations/{world.recommendation}/votes",
                       {"runoff_of": runoff["id"]}), 409)


def test_an_amendment_vote(world):
    vote = world.open({"subject": "amendment", "amendment_id": world.second_amendment})
    assert vote["amendment_id"] == world.second_amendment
    assert vote["options"][0]["wording"] == SECOND_WORDING  # what the clause would become
    assert world.clause_of(world.clause)["status"] == "locked"
    world.ballot("member", vote, option(vote, "yes"))
    world.ballot("second", vote, option(vote, "yes"))
    world.ballot("third", vote, option(vote, "no"))
    closed = world.close(vote)
    assert closed["outcome"] == "adopted"
    assert world.amendment_status(world.second_amendment) == "adopted_by_vote"
    clause = world.clause_of(world.clause)
    assert clause["text"] == SECOND_WORDING and clause["status"] == "open"


def test_the_whole_recommendation_only_once_every_clause_is_adopted(world, unchanged):
    whole = {"subject": "recommendation"}
    path = f"/recommendations/{world.recommendation}/votes"
    with unchanged():
        refused(world.call("chair", "POST", path, whole), 409)
    for clause in (world.clause, world.second_clause):
        vote = world.open_clause(clause)
        world.ballot("member", vote, option(vote, "yes"))
        assert world.close(vote)["outcome"] == "adopted"
    # A statement waits for the adoption of what it is on.
    with unchanged():
        refused(world.call("member", "POST", f"/recommendations/{world.recommendation}/statements",
                           {"kind": "reservation", "text": "We do not join."}), 409)

    vote = world.open(whole)
    assert vote["subject"] == "recommendation" and vote["clause_id"] is None
    assert vote["options"][0]["wording"].startswith("Protecting migrant workers")
    for role in ("chair", "member", "second"):
        world.ballot(role, vote, option(vote, "yes"))
    assert world.close(vote)["outcome"] == "adopted"
    assert world.ok("chair", "GET", f"/recommendations/{world.recommendation}")["status"] == "adopted"

    with unchanged():
        refused(world.call("observer", "POST", f"/recommendations/{world.recommendation}/statements",
                           {"kind": "reservation", "text": "Our delegation cannot join."}), 403)
    statement = world.ok("second", "POST", f"/recommendations/{world.recommendation}/statements",
                         {"kind": "reservation", "text": "Our delegation *cannot* join."}, 201)
    assert statement["kind"] == "reservation" and statement["clause_id"] is None
    assert statement["author"]["id"] == world.people["second"][0]
    assert "<em>cannot</em>" in statement["text_html"]
    on_clause = world.ok("member", "POST", f"/recommendations/{world.recommendation}/statements",
                         {"kind": "interpretative", "text": "We read *States* broadly.",
                          "clause_id": world.clause}, 201)
    assert on_clause["clause_id"] == world.clause
    listed = world.ok("chair", "GET", f"/recommendations/{world.recommendation}/statements")
    assert [s["id"] for s in listed] == [statement["id"], on_clause["id"]]


def test_statement_markup_is_sanitised(world, factories, xss_payloads):
    vote = world.open_clause()
    world.ballot("member", vote, option(vote, "yes"))
    world.close(vote)
    path = f"/recommendations/{world.recommendation}/statements"
    # A statement of each kind per person and text: a member for every two payloads.
    for number, payload in enumerate(xss_payloads):
        role = f"speaker{number // 2}"
        if role not in world.tokens:
            world.tokens[role] = factories.api_token(factories.member_of(world.cast.group))
        kind = ("interpretative", "reservation")[number % 2]
        made = world.ok(role, "POST", path, {"kind": kind, "text": payload,
                                             "clause_id": world.clause}, 201)
        assert_inert(made["text_html"])


def test_cancel_unlocks_and_decides_nothing(world, unchanged):
    vote = world.open_clause()
    world.ballot("member", vote, option(vote, "yes"))
    cancelled = world.ok("chair", "POST", f"/votes/{vote['id']}/cancel")
    assert cancelled["status"] == "cancelled" and cancelled["outcome"] is None
    assert cancelled["record_sha256"] is None
    assert world.clause_of(world.clause)["status"] == "open"
    with unchanged():
        refused(world.call("chair", "POST", f"/votes/{vote['id']}/cancel"), 409)
        refused(world.call("chair", "POST", f"/votes/{vote['id']}/close"), 409)
        refused(world.call("chair", "GET", f"/votes/{vote['id']}/verify"), 409)
    # The clause can be put again.
    assert world.open_clause()["status"] == "open"


# --- secret votes -------------------------------------------------------------------------


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner)


def assert_no_pairing(body: Any, voters: dict[str, tuple[int, str]]) -> None:
    """Nothing in ``body`` names a voter (by name, or as a voter/participant reference):
    so nothing in it can pair a voter with a choice."""
    text = json.dumps(body)
    for _id, name in voters.values():
        assert name not in text, text[:1500]
    for key, value in _walk(body):
        # (verify's "roll_call" check is a bool: whether the record's roll call holds.)
        assert key not in {"voter", "voter_id", "roll_call", "ballots"} \
            or value is None or isinstance(value, bool), (key, value)
        if key in {"opened_by", "closed_by", "author"} and value is not None:
            assert value["id"] not in {person_id for person_id, _name in voters.values()}


def test_secret_ballots_take_a_receipt_to_change_and_never_name_a_voter(app, world, unchanged,
                                                                        socket_test_client):
    # The chair opens and closes but does not vote here: every voter is a member.
    voters = {role: world.people[role] for role in ("member", "second", "third")}
    browser = world.client.application.test_client()
    browser.sign_in(world.cast.observer)
    socket = socket_test_client(app, flask_test_client=browser)
    assert socket.emit("join", {"recommendation": world.recommendation}, callback=True)["ok"]
    socket.get_received()
    bodies: list[Any] = []

    def keep(body: Any) -> Any:
        bodies.append(body)
        return body

    vote = keep(world.open_clause(secret=True))
    assert vote["secret"] is True
    yes, no = option(vote, "yes"), option(vote, "no")
    path = f"/votes/{vote['id']}/ballot"
    cast = keep(world.ballot("member", vote, yes))
    receipt = cast["receipt"]
    assert isinstance(receipt, str) and receipt and cast["changed"] is False
    keep(world.ballot("second", vote, yes))
    keep(world.ballot("third", vote, no))
    mine = keep(world.ok("member", "GET", path))
    assert mine == {"voted": True, "option_id": None}
    assert all(o["count"] is None for o in keep(world.ok("member", "GET", f"/votes/{vote['id']}"))["options"])

    with unchanged():
        for body in ({"option_id": no}, {"option_id": no, "receipt": "nonce.0123456789abcdef"},
                     {"option_id": no, "receipt": receipt + "x"}, {"option_id": no, "receipt": ""}):
            error = refused(world.call("member", "POST", path, body), 409, "conflict")
            assert "receipt" in error["message"]
        refused(world.call("second", "POST", path, {"option_id": no, "receipt": "a.b"}), 409)
    changed = keep(world.ballot("member", vote, no, receipt=receipt))
    assert changed["changed"] is True
    assert changed["receipt"] and changed["receipt"] != receipt
    assert changed["vote"]["turnout"] == 3
    with unchanged():
        error = refused(world.call("member", "POST", path, {"option_id": yes, "receipt": receipt}),
                        409, "conflict")
    # The new receipt proves the new choice.
    keep(world.ballot("member", vote, yes, receipt=changed["receipt"]))

    closed = keep(world.close(vote))
    assert closed["outcome"] == "adopted"
    assert [o["count"] for o in closed["options"]] == [2, 1, 0]
    assert closed["roll_call"] is None and closed["objections"] == []
    assert keep(world.ok("member", "GET", path)) == {"voted": True, "option_id": None}
    verification = keep(world.ok("member", "GET", f"/votes/{vote['id']}/verify"))
    assert verification["ok"] is True
    assert "roll_call" not in verification["record"]
    keep(world.ok("observer", "GET", f"/votes/{vote['id']}"))
    keep(world.ok("observer", "GET", f"/recommendations/{world.recommendation}/votes"))

    for body in bodies:
        assert_no_pairing(body, voters)
    events = [m for m in socket.get_received() if m["name"] in {
        "vote_opened", "ballot_counted", "vote_closed", "vote_cancelled"}]
    assert {m["name"] for m in events} == {"vote_opened", "ballot_counted", "vote_closed"}
    assert len([m for m in events if m["name"] == "ballot_counted"]) == 5
    for message in events:
        assert_no_pairing(message["args"], voters)
    counted = [m["args"][0] for m in events if m["name"] == "ballot_counted"]
    assert all(set(payload) == {"recommendation", "vote", "turnout", "eligible"}
               for payload in counted)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Ballot).where(
            Ballot.vote_id == vote["id"], Ballot.option_id.is_not(None))) == 0
    socket.disconnect()


def test_a_secret_vote_has_no_running_tally(world, unchanged):
    with unchanged():
        error = refused(world.call("chair", "POST", f"/recommendations/{world.recommendation}/votes",
                                   {"subject": "clause", "clause_id": world.clause,
                                    "secret": True, "show_tally": True}), 400)
        assert "show_tally" in error["fields"]


# --- refused: who -------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["open", "close", "cancel"])
def test_a_member_cannot_run_a_vote(world, unchanged, action):
    vote = world.open_clause(world.second_clause)
    with unchanged():
        if action == "open":
            response = world.call("member", "POST", f"/recommendations/{world.recommendation}/votes",
                                  {"subject": "clause", "clause_id": world.clause})
        else:
            response = world.call("member", "POST", f"/votes/{vote['id']}/{action}")
        refused(response, 403, "forbidden")


def test_an_observer_cannot_vote(world, unchanged):
    vote = world.open_clause()
    with unchanged():
        refused(world.call("observer", "POST", f"/votes/{vote['id']}/ballot",
                           {"option_id": option(vote, "yes")}), 403, "forbidden")
    assert world.ok("observer", "GET", f"/votes/{vote['id']}/ballot") == {"voted": False,
                                                                          "option_id": None}


def test_a_member_of_another_group_finds_no_vote(world, unchanged):
    vote = world.open_clause()
    with unchanged():
        for method, path, body in (
                ("POST", f"/votes/{vote['id']}/ballot", {"option_id": option(vote, "yes")}),
                ("GET", f"/votes/{vote['id']}", None), ("GET", f"/votes/{vote['id']}/ballot", None),
                ("POST", f"/votes/{vote['id']}/close", None),
                ("POST", f"/recommendations/{world.recommendation}/votes",
                 {"subject": "clause", "clause_id": world.second_clause})):
            refused(world.call("other_chair", method, path, body), 404, "not_found")


def test_a_participant_who_joins_after_the_opening_does_not_vote(world, factories, unchanged):
    vote = world.open_clause()
    late = factories.member_of(world.cast.group, GroupRole.MEMBER, name="Late Member")
    world.tokens["late"] = factories.api_token(late)
    with unchanged():
        refused(world.call("late", "POST", f"/votes/{vote['id']}/ballot",
                           {"option_id": option(vote, "yes")}), 403)


# --- refused: when ------------------------------------------------------------------------


def test_casting_after_the_close_is_refused(world, unchanged):
    vote = world.open_clause()
    world.ballot("member", vote, option(vote, "yes"))
    world.close(vote)
    with unchanged():
        for role in ("member", "second"):
            error = refused(world.call(role, "POST", f"/votes/{vote['id']}/ballot",
                                       {"option_id": option(vote, "no")}), 409, "conflict")
            assert "closed" in error["message"]
        refused(world.call("chair", "POST", f"/votes/{vote['id']}/close"), 409)
        refused(world.call("chair", "POST", f"/votes/{vote['id']}/cancel"), 409)


def test_casting_on_a_cancelled_vote_is_refused(world, unchanged):
    vote = world.open_clause()
    world.ok("chair", "POST", f"/votes/{vote['id']}/cancel")
    with unchanged():
        error = refused(world.call("member", "POST", f"/votes/{vote['id']}/ballot",
                                   {"option_id": option(vote, "yes")}), 409, "conflict")
        assert "cancelled" in error["message"]


def test_casting_after_the_deadline_is_refused_before_the_closer_runs(app, world, unchanged):
    vote = world.open_clause(deadline_minutes=5)
    assert vote["deadline"]
    with app.app_context():
        row = db.session.get(Vote, vote["id"])
        row.deadline = row.opened_at
        db.session.commit()
    with unchanged():
        refused(world.call("member", "POST", f"/votes/{vote['id']}/ballot",
                           {"option_id": option(vote, "yes")}), 409)


def test_a_second_vote_on_a_locked_clause_is_refused(world, unchanged):
    world.open_clause()
    path = f"/recommendations/{world.recommendation}/votes"
    with unchanged():
        for body in ({"subject": "clause", "clause_id": world.clause},
                     {"subject": "wordings", "clause_id": world.clause},
                     {"subject": "amendment", "amendment_id": world.first_amendment},
                     {"subject": "recommendation"}):
            refused(world.call("chair", "POST", path, body), 409, "conflict")


def test_an_adopted_clause_is_not_put_again(world, unchanged):
    vote = world.open_clause()
    world.ballot("member", vote, option(vote, "yes"))
    world.close(vote)
    with unchanged():
        refused(world.call("chair", "POST", f"/recommendations/{world.recommendation}/votes",
                           {"subject": "clause", "clause_id": world.clause}), 409)


def test_verify_needs_a_closed_vote(world, unchanged):
    vote = world.open_clause()
    with unchanged():
        refused(world.call("member", "GET", f"/votes/{vote['id']}/verify"), 409)


# --- refused: what ------------------------------------------------------------------------


def test_an_option_of_another_vote_or_none_is_refused(world, unchanged):
    vote = world.open_clause()
    other = world.open_clause(world.second_clause)
    with unchanged():
        for option_id in (option(other, "yes"), 2**31 - 1, 2**40, 0, -3):
            error = refused(world.call("member", "POST", f"/votes/{vote['id']}/ballot",
                                       {"option_id": option_id}), 400, "invalid")
            assert "option_id" in error["fields"]


@pytest.mark.parametrize("body", [
    {}, {"option_id": "1"}, {"option_id": None}, {"option_id": 1.0}, {"option_id": True},
    {"option_id": [1]}, {"option_id": 1, "reason": 5}, {"option_id": 1, "receipt": ["x"]},
    {"option_id": 1, "voter_id": 2}, [], "yes",
], ids=repr)
def test_ballots_of_the_wrong_shape_are_refused(world, unchanged, body):
    vote = world.open_clause()
    if isinstance(body, dict) and type(body.get("option_id")) is int:
        body = {**body, "option_id": option(vote, "yes")}
    with unchanged():
        refused(world.call("member", "POST", f"/votes/{vote['id']}/ballot", body), 400, "invalid")


@pytest.mark.parametrize("fields", [
    {"quorum": 0}, {"quorum": 101}, {"quorum": -5}, {"quorum": "50"}, {"quorum": 50.5},
    {"deadline_minutes": 0}, {"deadline_minutes": -1}, {"deadline_minutes": 3 * 24 * 60 + 1},
    {"deadline_minutes": 2**63}, {"deadline_minutes": "10"},
    {"secret": "yes"}, {"secret": 1}, {"show_tally": "true"}, {"clause_id": "1"},
    {"rule": "unanimity"}, {"subject": "paragraph"}, {"question": 7}, {"question": "x" * 1001},
    {"extra": 1},
], ids=repr)
def test_opening_with_bad_fields_is_refused(world, unchanged, fields):
    body = {"subject": "clause", "clause_id": world.clause, **fields}
    with unchanged():
        refused(world.call("chair", "POST", f"/recommendations/{world.recommendation}/votes", body),
                400, "invalid")


def test_opening_on_what_is_not_this_recommendations_is_refused(world, unchanged):
    path = f"/recommendations/{world.recommendation}/votes"
    with unchanged():
        for body in ({"subject": "clause", "clause_id": world.foreign_clause},
                     {"subject": "clause", "clause_id": 2**40}, {"subject": "clause"},
                     {"subject": "amendment", "amendment_id": 2**31 - 1},
                     {"runoff_of": 2**31 - 1}):
            refused(world.call("chair", "POST", path, body), 400, "invalid")
        refused(world.call("chair", "POST", path, {}), 400, "invalid")


def test_a_choice_of_wordings_needs_an_amendment_to_be_voted(world, unchanged):
    with unchanged():
        refused(world.call("chair", "POST", f"/recommendations/{world.recommendation}/votes",
                           {"subject": "wordings", "clause_id": world.second_clause}), 409)


@pytest.mark.parametrize("body", [
    {"kind": "opinion", "text": "x"}, {"kind": "reservation"}, {"kind": "reservation", "text": ""},
    {"kind": "reservation", "text": 5}, {"kind": "reservation", "text": "x", "clause_id": "1"},
    {"kind": "reservation", "text": "x" * 5001},
], ids=repr)
def test_statements_of_the_wrong_shape_are_refused(world, unchanged, body):
    vote = world.open_clause()
    world.ballot("member", vote, option(vote, "yes"))
    world.close(vote)
    body = {**body, "clause_id": world.clause} if "clause_id" not in body else body
    with unchanged():
        refused(world.call("member", "POST", f"/recommendations/{world.recommendation}/statements",
                           body), 400, "invalid")


def test_a_statement_on_a_clause_not_adopted_is_refused(world, unchanged):
    with unchanged():
        refused(world.call("member", "POST", f"/recommendations/{world.recommendation}/statements",
                           {"kind": "interpretative", "text": "We read it so.",
                            "clause_id": world.second_clause}), 409)
        refused(world.call("other_chair", "POST",
                           f"/recommendations/{world.recommendation}/statements",
                           {"kind": "interpretative", "text": "We read it so."}), 404)
        refused(world.call("secretariat", "POST",
                           f"/recommendations/{world.recommendation}/statements",
                           {"kind": "interpretative", "text": "We read it so."}), 403)
