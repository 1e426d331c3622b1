"""Decisions under the rules of procedure, through the API: consensus declared by the chair
when nobody objects (once the question has reached a quorum), a silence procedure broken by
an objection or ending at its deadline, a vote only after a failed consensus, and a decided
text put again only by a motion to reconsider."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from drafting.votes.deadlines import close_due_votes
from models import AmendmentStatus, GroupRole, Participant, Vote, db, utcnow
from tests.factories import PRACTICE
from tests.helpers.html import assert_inert
from tests.helpers.pages import fetch

FIRST, SECOND = "Calls on States to protect migrant workers;", "Invites employers to act;"


@dataclass
class Room:
    """A group of five members under the practice's rules (a neutral chair, consensus, a
    majority quorum: three), with an API token each."""

    client: Any
    conference: int
    recommendation: int
    clauses: list[int]
    tokens: dict[str, str]
    ids: dict[str, int]
    amendment: int

    def call(self, who: str, method: str, path: str, body: Any = None) -> Any:
        return self.client.api(method, "/api/v1" + path, body, token=self.tokens[who])

    def ok(self, who: str, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.call(who, method, path, body)
        assert response.status_code == status, response.get_data(as_text=True)[:1500]
        return response.get_json()

    def refused(self, status: int, who: str, method: str, path: str, body: Any = None) -> str:
        response = self.call(who, method, path, body)
        assert response.status_code == status, response.get_data(as_text=True)[:1500]
        return response.get_json()["error"]["message"]

    def put(self, clause: int = 0, **body: Any) -> dict[str, Any]:
        return self.ok("chair", "POST", f"/recommendations/{self.recommendation}/votes",
                       {"subject": "clause", "clause_id": self.clauses[clause], **body}, 201)

    def reach(self, vote: dict[str, Any], *members: str) -> dict[str, Any]:
        for member in members:
            vote = self.ok(member, "POST", f"/votes/{vote['id']}/presence")
        return vote

    def status(self, clause: int = 0) -> str:
        recommendation = self.ok("chair", "GET", f"/recommendations/{self.recommendation}")
        return next(c["status"] for c in recommendation["clauses"] if c["id"] == self.clauses[clause])


MEMBERS = ("m1", "m2", "m3", "m4", "m5")


@pytest.fixture
def room(factories, client) -> Room:
    conference = factories.conference(**PRACTICE)
    group = factories.group(conference)
    people = {"chair": factories.member_of(group, GroupRole.CHAIR, name="Chair Person"),
              "observer": factories.member_of(group, GroupRole.OBSERVER, name="Obs Erver")}
    for n, member in enumerate(MEMBERS, start=1):
        people[member] = factories.member_of(group, GroupRole.MEMBER, name=f"Member {n}")
    people["secretariat"] = factories.secretariat(name="Sec Retariat")
    recommendation = factories.recommendation(group)
    first = factories.clause(recommendation, text=FIRST)
    second = factories.clause(recommendation, text=SECOND, position=2)
    amendment = factories.amendment(second, people["m1"], text="Invites employers and unions to act;",
                                    status=AmendmentStatus.TO_BE_VOTED)
    return Room(client, conference.id, recommendation.id, [first.id, second.id],
                {who: factories.api_token(p) for who, p in people.items()},
                {who: p.id for who, p in people.items()}, amendment.id)


def test_consensus_is_declared_once_the_question_has_reached_a_quorum(room, app):
    vote = room.put()
    assert (vote["method"], vote["rule"], vote["eligible"], vote["quorum_needed"]) == \
        ("consensus", "consensus", 5, 3)
    assert vote["present"] == 0  # the neutral chair is not among those who decide
    assert room.status() == "locked"
    # 0 of 5 reached: no adoption (the bug: a consensus "vote" closed with nobody was adopted).
    message = room.refused(409, "chair", "POST", f"/votes/{vote['id']}/close")
    assert "reached 0 of the 5 members" in message
    room.reach(vote, "m1", "m2")
    room.refused(409, "chair", "POST", f"/votes/{vote['id']}/close")
    assert room.reach(vote, "m3", "m3")["present"] == 3  # once each
    closed = room.ok("chair", "POST", f"/votes/{vote['id']}/close")
    # The turnout of a consensus is its objections; the record's, who was present.
    assert (closed["outcome"], closed["present"], closed["turnout"], closed["closed_by"]["id"]) == \
        ("adopted", 3, 0, room.ids["chair"])
    assert room.status() == "adopted"
    verified = room.ok("m1", "GET", f"/votes/{vote['id']}/verify")
    assert verified["ok"] is True and verified["record"]["method"] == "consensus"
    # Reaching members after the close changes nothing of the record.
    room.reach(vote, "m4")
    assert room.ok("m1", "GET", f"/votes/{vote['id']}/verify")["ok"] is True


def test_an_objection_is_named_its_reason_optional_and_may_be_withdrawn(room):
    vote = room.put()
    room.ok("m1", "POST", f"/votes/{vote['id']}/objection", {})
    objected = room.ok("m2", "POST", f"/votes/{vote['id']}/objection", {"reason": "Too narrow."})
    named = {(e["voter"]["id"], e["reason"]) for e in objected["roll_call"]}
    assert named == {(room.ids["m1"], ""), (room.ids["m2"], "Too narrow.")}
    assert objected["turnout"] == 2 and objected["present"] == 2
    room.ok("m1", "DELETE", f"/votes/{vote['id']}/objection")
    room.refused(409, "m1", "DELETE", f"/votes/{vote['id']}/objection")
    room.reach(vote, "m3", "m4")
    closed = room.ok("chair", "POST", f"/votes/{vote['id']}/close")
    assert closed["outcome"] == "no_consensus"
    assert [e["voter"]["id"] for e in closed["roll_call"]] == [room.ids["m2"]]
    assert room.status() == "open"


@pytest.mark.parametrize("who", ["observer", "chair", "secretariat"])
def test_only_those_who_decide_object(room, who):
    vote = room.put()
    room.refused(403, who, "POST", f"/votes/{vote['id']}/objection", {"reason": "No."})
    assert room.ok("m1", "GET", f"/votes/{vote['id']}")["turnout"] == 0


def test_consensus_is_never_secret_and_has_no_ballots(room):
    message = room.refused(400, "chair", "POST", f"/recommendations/{room.recommendation}/votes",
                           {"subject": "clause", "clause_id": room.clauses[0], "method": "consensus",
                            "secret": True})
    assert "not secret" in message
    # Asking for a secret ballot under consensus rules is a vote, which must wait.
    room.refused(409, "chair", "POST", f"/recommendations/{room.recommendation}/votes",
                 {"subject": "clause", "clause_id": room.clauses[0], "secret": True})
    vote = room.put()
    yes = vote["options"][0]["id"]
    assert "no ballots" in room.refused(409, "m1", "POST", f"/votes/{vote['id']}/ballot", {"option_id": yes})


def test_a_silence_procedure_is_broken_by_the_first_objection(room):
    vote = room.put(method="silence", deadline_minutes=60)
    room.refused(409, "chair", "POST", f"/votes/{vote['id']}/close")  # it ends by itself
    broken = room.ok("m4", "POST", f"/votes/{vote['id']}/objection", {"reason": "Not yet."})
    assert (broken["status"], broken["outcome"], broken["closed_by"]["id"]) == \
        ("closed", "no_consensus", room.ids["m4"])
    assert room.status() == "open"
    room.refused(409, "m5", "POST", f"/votes/{vote['id']}/objection", {})


def test_a_silence_procedure_adopts_at_its_deadline_only_if_it_reached_a_quorum(room, app):
    silent = room.put(0, method="silence", deadline_minutes=5)
    unreached = room.put(1, method="silence", deadline_minutes=5)
    room.reach(silent, "m1", "m2", "m3")
    room.reach(unreached, "m1")
    with app.app_context():
        assert close_due_votes(utcnow() + timedelta(minutes=6)) == 2
        db.session.remove()
    assert room.ok("m1", "GET", f"/votes/{silent['id']}")["outcome"] == "adopted"
    assert room.ok("m1", "GET", f"/votes/{unreached['id']}")["outcome"] == "no_quorum"
    assert (room.status(0), room.status(1)) == ("adopted", "open")
    assert fetch(app, Vote, silent["id"]).closed_by_id is None


def test_a_vote_follows_only_a_failed_consensus_on_the_same_text(room):
    message = room.refused(409, "chair", "POST", f"/recommendations/{room.recommendation}/votes",
                           {"subject": "clause", "clause_id": room.clauses[0], "method": "ballot"})
    assert "Seek consensus first" in message
    vote = room.put()
    room.ok("m1", "POST", f"/votes/{vote['id']}/objection", {"reason": "No."})
    room.ok("chair", "POST", f"/votes/{vote['id']}/close")
    ballot = room.put(method="ballot")
    assert (ballot["rule"], ballot["quorum_needed"]) == ("two_thirds", 3)
    # Under consensus-only rules, never.
    rules = room.ok("secretariat", "GET", f"/conferences/{room.conference}/rules")
    room.ok("secretariat", "PUT", f"/conferences/{room.conference}/rules", {**rules, "fallback_rule": None})
    room.ok("chair", "POST", f"/votes/{ballot['id']}/cancel")
    assert "consensus only" in room.refused(409, "chair", "POST",
                                            f"/recommendations/{room.recommendation}/votes",
                                            {"subject": "clause", "clause_id": room.clauses[0],
                                             "method": "ballot"})


def test_a_text_lost_in_a_vote_cannot_be_adopted_by_consensus_next(room):
    """The defect: lose 2-2 under a simple majority, then seek consensus on the same clause
    and declare it adopted at once."""
    rules = room.ok("secretariat", "GET", f"/conferences/{room.conference}/rules")
    room.ok("secretariat", "PUT", f"/conferences/{room.conference}/rules",
            {**rules, "decision_rule": "simple_majority", "quorum": "none"})
    vote = room.put(method="ballot")
    yes, no = vote["options"][0]["id"], vote["options"][1]["id"]
    for member, choice in (("m1", yes), ("m2", yes), ("m3", no), ("m4", no)):
        room.ok(member, "POST", f"/votes/{vote['id']}/ballot", {"option_id": choice})
    assert room.ok("chair", "POST", f"/votes/{vote['id']}/close")["outcome"] == "rejected"
    for method in ("consensus", "silence", "ballot"):
        body = {"method": method, **({"deadline_minutes": 5} if method == "silence" else {})}
        message = room.refused(409, "chair", "POST", f"/recommendations/{room.recommendation}/votes",
                               {"subject": "clause", "clause_id": room.clauses[0], **body})
        assert "motion to reconsider" in message
    # A motion to reconsider (two thirds) that carries opens the way again.
    motion = room.ok("chair", "POST", f"/recommendations/{room.recommendation}/votes",
                     {"subject": "reconsider", "clause_id": room.clauses[0], "method": "ballot"}, 201)
    assert (motion["subject"], motion["rule"], motion["reconsiders"]) == ("reconsider", "two_thirds", vote["id"])
    for member in ("m1", "m2", "m3"):
        room.ok(member, "POST", f"/votes/{motion['id']}/ballot", {"option_id": motion["options"][0]["id"]})
    assert room.ok("chair", "POST", f"/votes/{motion['id']}/close")["outcome"] == "adopted"
    again = room.put(method="consensus")
    assert again["status"] == "open"


def test_reconsidering_an_adopted_clause_reopens_it(room):
    vote = room.put()
    room.reach(vote, "m1", "m2", "m3")
    room.ok("chair", "POST", f"/votes/{vote['id']}/close")
    assert room.status() == "adopted"
    assert "motion to reconsider" in room.refused(409, "chair", "POST",
                                                  f"/recommendations/{room.recommendation}/votes",
                                                  {"subject": "clause", "clause_id": room.clauses[0]})
    assert "nothing to reconsider" in room.refused(409, "chair", "POST",
                                                   f"/recommendations/{room.recommendation}/votes",
                                                   {"subject": "reconsider", "clause_id": room.clauses[1],
                                                    "method": "ballot"})
    motion = room.ok("chair", "POST", f"/recommendations/{room.recommendation}/votes",
                     {"subject": "reconsider", "clause_id": room.clauses[0], "method": "ballot"}, 201)
    yes, no = motion["options"][0]["id"], motion["options"][1]["id"]
    for member, choice in (("m1", yes), ("m2", yes), ("m3", no), ("m4", no)):
        room.ok(member, "POST", f"/votes/{motion['id']}/ballot", {"option_id": choice})
    assert room.ok("chair", "POST", f"/votes/{motion['id']}/close")["outcome"] == "rejected"  # 2 of 4
    assert room.status() == "adopted"
    motion = room.ok("chair", "POST", f"/recommendations/{room.recommendation}/votes",
                     {"subject": "reconsider", "clause_id": room.clauses[0], "method": "ballot"}, 201)
    for member, choice in (("m1", yes), ("m2", yes), ("m3", no)):
        room.ok(member, "POST", f"/votes/{motion['id']}/ballot",
                {"option_id": next(o["id"] for o in motion["options"] if o["kind"] == choice_kind(choice, yes))})
    assert room.ok("chair", "POST", f"/votes/{motion['id']}/close")["outcome"] == "adopted"  # 2 of 3
    assert room.status() == "open"
    assert room.put()["status"] == "open"


def choice_kind(choice: int, yes: int) -> str:
    return "yes" if choice == yes else "no"


def test_objection_reasons_render_inert(room, app, factories, xss_payloads):
    """Every payload of the corpus, as an objection's reason, on the question's page."""
    vote = room.put()
    chair = app.test_client()
    with app.app_context():
        chair.sign_in(db.session.get(Participant, room.ids["chair"]))
    for start in range(0, len(xss_payloads), len(MEMBERS)):
        for member, payload in zip(MEMBERS, xss_payloads[start:start + len(MEMBERS)], strict=False):
            room.ok(member, "POST", f"/votes/{vote['id']}/objection", {"reason": payload[:500]})
        page = chair.get(f"/votes/{vote['id']}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        listed = html[html.index('<ul class="vote-objections__list">'):]
        assert_inert(listed[listed.index(">") + 1:listed.index("</ul>")].replace("<li", "<p").replace("</li>", "</p>"))


def test_an_objection_after_the_silence_deadline_is_refused_before_any_closer_ran(room, app):
    vote = room.put(method="silence", deadline_minutes=5)
    room.reach(vote, "m1", "m2", "m3")
    with app.app_context():
        db.session.execute(db.update(Vote).where(Vote.id == vote["id"])
                           .values(deadline=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    message = room.refused(409, "m4", "POST", f"/votes/{vote['id']}/objection", {"reason": "Late."})
    assert "objections are no longer taken" in message
    with app.app_context():
        assert close_due_votes() == 1
        db.session.remove()
    assert room.ok("m1", "GET", f"/votes/{vote['id']}")["outcome"] == "adopted"


def test_an_amendment_and_then_the_whole_recommendation_by_consensus(room):
    put = room.ok("chair", "POST", f"/recommendations/{room.recommendation}/votes",
                  {"subject": "amendment", "amendment_id": room.amendment}, 201)
    assert (put["method"], put["options"][0]["wording"]) == ("consensus", "Invites employers and unions to act;")
    room.reach(put, "m1", "m2", "m3")
    assert room.ok("chair", "POST", f"/votes/{put['id']}/close")["outcome"] == "adopted"
    amendment = room.ok("m1", "GET", f"/amendments/{room.amendment}")
    assert amendment["status"] == "accepted"
    recommendation = room.ok("m1", "GET", f"/recommendations/{room.recommendation}")
    assert recommendation["clauses"][1]["text"] == "Invites employers and unions to act;"
    for clause in (0, 1):
        question = room.put(clause)
        room.reach(question, "m1", "m2", "m3")
        room.ok("chair", "POST", f"/votes/{question['id']}/close")
    whole = room.ok("chair", "POST", f"/recommendations/{room.recommendation}/votes",
                    {"subject": "recommendation"}, 201)
    assert whole["method"] == "consensus"
    room.reach(whole, "m3", "m4", "m5")
    assert room.ok("chair", "POST", f"/votes/{whole['id']}/close")["outcome"] == "adopted"
    assert room.ok("m1", "GET", f"/recommendations/{room.recommendation}")["status"] == "adopted"
    # Reconsidering the whole: by two thirds, it becomes a draft again.
    motion = room.ok("chair", "POST", f"/recommendations/{room.recommendation}/votes",
                     {"subject": "reconsider", "method": "ballot"}, 201)
    assert motion["reconsiders"] == whole["id"]
    for member in ("m1", "m2", "m3"):
        room.ok(member, "POST", f"/votes/{motion['id']}/ballot", {"option_id": motion["options"][0]["id"]})
    assert room.ok("chair", "POST", f"/votes/{motion['id']}/close")["outcome"] == "adopted"
    assert room.ok("m1", "GET", f"/recommendations/{room.recommendation}")["status"] == "drafting"
