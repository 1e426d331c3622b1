"""Votes where the delegation is the voting unit (one State, one vote), through the API: one
eligible unit per delegation represented among the group's voting members, its ballot cast by
its head or designated voter, one ballot per delegation by the database's guarantee (races
included), and a roll call that names the delegations, alphabetically from one drawn by lot.
And where people vote, a roll call by surname with each voter's delegation beside their name.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from drafting.errors import Conflict
from drafting.votes.ballots import Cast
from drafting.votes.records import verify_vote
from models import Ballot, GroupRole, Participant, Vote, db
from tests.helpers.pages import read
from tests.helpers.races import at_once, caster

CLAUSE = "Calls on States to simplify the registration of migrant workers;"


@dataclass
class Assembly:
    """A group of a conference that votes by delegation:

    - Kazakhstan: its head (the cast's member) and a colleague, both members of the group;
    - Russian Federation: its head is the group's observer (no vote), its designated voter a
      member;
    - Uzbekistan: a member of the group, its head outside the group, no designated voter;
    - Armenia: nobody of the group (not eligible);
    - a member sitting in no delegation; the chair sits in none either.
    """

    client: Any
    cast: Any
    tokens: dict[str, str]
    people: dict[str, int]
    delegations: dict[str, int]
    recommendation: int
    clauses: list[int]

    def call(self, who: str, method: str, path: str, body: Any = None) -> Any:
        return self.client.api(method, "/api/v1" + path, body, token=self.tokens[who])

    def ok(self, who: str, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.call(who, method, path, body)
        assert response.status_code == status, response.get_data(as_text=True)[:1500]
        return response.get_json()

    def refused(self, who: str, method: str, path: str, body: Any, status: int) -> str:
        response = self.call(who, method, path, body)
        assert response.status_code == status, response.get_data(as_text=True)[:1500]
        return response.get_json()["error"]["message"]

    def open(self, clause: int = 0, **fields: Any) -> dict[str, Any]:
        return self.ok("chair", "POST", f"/recommendations/{self.recommendation}/votes",
                       {"subject": "clause", "clause_id": self.clauses[clause],
                        **fields}, 201)

    def cast_ballot(self, who: str, vote: dict[str, Any], kind: str, **fields: Any) -> dict[str, Any]:
        return self.ok(who, "POST", f"/votes/{vote['id']}/ballot", {"option_id": option(vote, kind), **fields})

    def close(self, vote: dict[str, Any]) -> dict[str, Any]:
        return self.ok("chair", "POST", f"/votes/{vote['id']}/close")

    def designate(self, delegation: str, **fields: Any) -> dict[str, Any]:
        return self.ok("secretariat", "PATCH", f"/conferences/{self.cast.conference.id}/delegations/"
                       f"{self.delegations[delegation]}", fields)

    def set_unit(self, unit: str) -> None:
        self.ok("secretariat", "PUT", f"/conferences/{self.cast.conference.id}/voting-unit",
                {"voting_unit": unit})


def option(vote: dict[str, Any], kind: str) -> int:
    return next(o["id"] for o in vote["options"] if o["kind"] == kind)


@pytest.fixture
def assembly(factories, client) -> Assembly:
    cast = factories.cast()
    draft = factories.recommendation(cast.group, title="Registration of migrant workers")
    clauses = [factories.clause(draft, text=CLAUSE, position=n).id for n in (1, 2, 3)]
    member_of = factories.member_of
    people = {
        "kz_head": cast.member,
        "kz_colleague": member_of(cast.group, GroupRole.MEMBER, name="Aigerim Nurlanovna Seitova",
                                 family_name="Seitova"),
        "ru_head": cast.observer,
        "ru_voter": member_of(cast.group, GroupRole.MEMBER, name="Elena Sokolova"),
        "uz_member": member_of(cast.group, GroupRole.MEMBER, name="Dilshod Karimov"),
        "uz_head": factories.participant(name="Rustam Azimov"),
        "am_head": cast.outsider,
        "loner": member_of(cast.group, GroupRole.MEMBER, name="Anna Lindqvist"),
    }
    conference = cast.conference
    delegations = {
        "Kazakhstan": factories.delegation(conference, "Kazakhstan", head=people["kz_head"],
                                           members=(people["kz_head"], people["kz_colleague"])),
        "Russian Federation": factories.delegation(
            conference, "Russian Federation", head=people["ru_head"], voter=people["ru_voter"],
            members=(people["ru_head"], people["ru_voter"])),
        "Uzbekistan": factories.delegation(conference, "Uzbekistan", head=people["uz_head"],
                                           members=(people["uz_member"], people["uz_head"])),
        "Armenia": factories.delegation(conference, "Armenia", head=people["am_head"],
                                        members=(people["am_head"],)),
    }
    tokens = {who: factories.api_token(person) for who, person in people.items()}
    tokens |= {"chair": factories.api_token(cast.chair),
               "secretariat": factories.api_token(cast.secretariat)}
    world = Assembly(client, cast, tokens, {who: p.id for who, p in people.items()},
                     {name: d.id for name, d in delegations.items()}, draft.id, clauses)
    world.set_unit("delegation")
    return world


# --- who votes --------------------------------------------------------------------------------


def test_one_unit_per_delegation_represented_among_the_groups_voting_members(assembly):
    vote = assembly.open()
    assert (vote["voting_unit"], vote["eligible"], vote["turnout"]) == ("delegation", 3, 0)
    # Armenia has nobody in the group; the chair and the loner sit in no delegation.
    drawn = vote["roll_call_from"]
    assert drawn["participant"] is None
    assert drawn["delegation"]["name"] in {"Kazakhstan", "Russian Federation", "Uzbekistan"}


def test_the_head_casts_the_delegations_ballot_and_a_colleague_is_refused(assembly):
    vote = assembly.open()
    cast = assembly.cast_ballot("kz_head", vote, "yes")
    assert cast["vote"]["turnout"] == 1 and not cast["changed"]
    message = assembly.refused("kz_colleague", "POST", f"/votes/{vote['id']}/ballot",
                               {"option_id": option(vote, "no")}, 403)
    assert "Kazakhstan" in message and assembly.cast.member.name in message
    # The colleague sees that the delegation has voted, and how (a roll call).
    mine = assembly.ok("kz_colleague", "GET", f"/votes/{vote['id']}/ballot")
    assert mine == {"voted": True, "option_id": option(vote, "yes")}
    assert assembly.ok("chair", "GET", f"/votes/{vote['id']}")["turnout"] == 1


def test_the_designated_voter_casts_where_the_head_is_no_voting_member(assembly):
    vote = assembly.open()
    message = assembly.refused("ru_head", "POST", f"/votes/{vote['id']}/ballot",
                               {"option_id": option(vote, "yes")}, 403)
    assert "Elena Sokolova" in message
    assert assembly.cast_ballot("ru_voter", vote, "no")["vote"]["turnout"] == 1


def test_a_delegation_whose_head_and_voter_do_not_vote_here_is_refused_until_one_is_designated(assembly):
    vote = assembly.open()
    message = assembly.refused("uz_member", "POST", f"/votes/{vote['id']}/ballot",
                               {"option_id": option(vote, "yes")}, 403)
    assert "neither is a voting member" in message and "Uzbekistan" in message
    # The delegation is the eligible unit, not a person fixed at opening: the voter it
    # designates while the vote is open casts its ballot.
    assembly.designate("Uzbekistan", voter_id=assembly.people["uz_member"])
    assert assembly.cast_ballot("uz_member", vote, "yes")["vote"]["turnout"] == 1


def test_participants_in_no_delegation_do_not_vote_where_delegations_do(assembly):
    vote = assembly.open()
    for who in ("loner", "chair"):
        message = assembly.refused(who, "POST", f"/votes/{vote['id']}/ballot",
                                   {"option_id": option(vote, "yes")}, 403)
        assert "do not sit in a delegation" in message
    # Armenia's head is not in the group: the vote is not theirs to see.
    assembly.refused("am_head", "POST", f"/votes/{vote['id']}/ballot",
                     {"option_id": option(vote, "yes")}, 404)


def test_once_cast_only_whoever_cast_it_changes_the_delegations_ballot(assembly):
    vote = assembly.open()
    assembly.cast_ballot("kz_head", vote, "yes")
    assembly.designate("Kazakhstan", voter_id=assembly.people["kz_colleague"])
    message = assembly.refused("kz_colleague", "POST", f"/votes/{vote['id']}/ballot",
                               {"option_id": option(vote, "no")}, 409)
    assert "has voted" in message and assembly.cast.member.name in message
    changed = assembly.cast_ballot("kz_head", vote, "no")
    assert changed["changed"] and changed["vote"]["turnout"] == 1


def test_a_vote_keeps_the_unit_it_was_opened_with(assembly):
    by_delegation = assembly.open(0)
    assembly.set_unit("person")
    assert assembly.refused("loner", "POST", f"/votes/{by_delegation['id']}/ballot",
                            {"option_id": option(by_delegation, "yes")}, 403)
    by_person = assembly.open(1)
    assert by_person["voting_unit"] == "person"
    assert assembly.cast_ballot("loner", by_person, "yes")["vote"]["turnout"] == 1
    assert by_person["eligible"] == 6  # the chair and the five members


def test_opening_a_vote_by_delegation_needs_a_delegation_among_the_voters(assembly, factories):
    group = factories.group(assembly.cast.conference, name="Gender-sensitive policies")
    factories.membership(group, db_participant(factories, assembly.cast.chair.id), GroupRole.CHAIR)
    factories.member_of(group, GroupRole.MEMBER, name="Unseated Member")
    draft = factories.recommendation(group, title="Gender")
    clause = factories.clause(draft, text="Recommends gender-sensitive policies;")
    message = assembly.refused("chair", "POST", f"/recommendations/{draft.id}/votes",
                               {"subject": "clause", "clause_id": clause.id}, 409)
    assert "no voting member of this group sits in a delegation" in message


def db_participant(factories, participant_id: int) -> Participant:
    with factories.app.app_context():
        found = db.session.get(Participant, participant_id)
        db.session.expunge(found)
        return found


# --- the roll call ----------------------------------------------------------------------------


def rotated(names: list[str], first: str) -> list[str]:
    ordered = sorted(names)
    start = ordered.index(first)
    return ordered[start:] + ordered[:start]


def test_the_roll_call_names_the_delegations_alphabetically_from_the_one_drawn(assembly, app):
    vote = assembly.open()
    assembly.cast_ballot("kz_head", vote, "yes")
    assembly.cast_ballot("ru_voter", vote, "no")
    assembly.designate("Uzbekistan", voter_id=assembly.people["uz_member"])
    assembly.cast_ballot("uz_member", vote, "abstain")
    closed = assembly.close(vote)
    first = closed["roll_call_from"]["delegation"]["name"]
    called = [(e["delegation"]["name"], e["voter"]["name"], e["option_id"]) for e in closed["roll_call"]]
    assert [name for name, _voter, _option in called] == rotated(
        ["Kazakhstan", "Russian Federation", "Uzbekistan"], first)
    assert ("Russian Federation", "Elena Sokolova", option(vote, "no")) in called
    assert (closed["turnout"], closed["eligible"], closed["outcome"]) == (3, 3, "rejected")
    verified = assembly.ok("chair", "GET", f"/votes/{vote['id']}/verify")
    assert verified["ok"], verified["checks"]
    record = verified["record"]
    assert record["voting_unit"] == "delegation"
    assert record["roll_call_from"] == {"id": assembly.delegations[first], "name": first}
    assert [e["delegation"]["name"] for e in record["roll_call"]] == [n for n, _v, _o in called]
    # The page names the delegation and who cast its ballot, in the same order.
    page = assembly.client
    page.sign_in(assembly.cast.chair)
    html = page.get(f"/votes/{vote['id']}").get_data(as_text=True)
    rows = [html.index(f"<th scope=\"row\">{name}</th>") for name, _v, _o in called]
    assert rows == sorted(rows)
    assert read(page.get(f"/votes/{vote['id']}/record")).h1 == [f"Record of vote {vote['id']}"]


def test_renaming_a_delegation_after_the_close_leaves_the_record_verified(assembly):
    vote = assembly.open()
    assembly.cast_ballot("kz_head", vote, "yes")
    assembly.close(vote)
    assembly.designate("Kazakhstan", name="Republic of Kazakhstan", sort_key="Kazakhstan")
    verified = assembly.ok("chair", "GET", f"/votes/{vote['id']}/verify")
    assert verified["ok"], verified["checks"]


def test_people_are_called_by_surname_from_the_one_drawn_with_their_delegation(assembly):
    assembly.set_unit("person")
    vote = assembly.open()
    for who in ("kz_head", "kz_colleague", "ru_voter", "uz_member", "loner", "chair"):
        assembly.cast_ballot(who, vote, "yes")
    closed = assembly.close(vote)
    surnames = {"Member Person": "Person", "Aigerim Nurlanovna Seitova": "Seitova",
                "Elena Sokolova": "Sokolova", "Dilshod Karimov": "Karimov",
                "Anna Lindqvist": "Lindqvist", "Chair Person": "Person"}
    called = [e["voter"]["name"] for e in closed["roll_call"]]
    first = closed["roll_call_from"]["participant"]["name"]
    keys = sorted(surnames, key=lambda name: (surnames[name], name))
    start = keys.index(first)
    assert called == keys[start:] + keys[:start]
    delegations = {e["voter"]["name"]: (e["delegation"] or {}).get("name") for e in closed["roll_call"]}
    assert delegations == {"Member Person": "Kazakhstan", "Aigerim Nurlanovna Seitova": "Kazakhstan",
                           "Elena Sokolova": "Russian Federation", "Dilshod Karimov": "Uzbekistan",
                           "Anna Lindqvist": None, "Chair Person": None}


# --- one ballot per delegation -----------------------------------------------------------------


def test_one_ballot_per_delegation_is_the_databases_guarantee(assembly, app):
    vote = assembly.open()
    assembly.cast_ballot("kz_head", vote, "yes")
    with app.app_context():
        db.session.add(Ballot(vote_id=vote["id"], voter_id=assembly.people["kz_colleague"],
                              delegation_id=assembly.delegations["Kazakhstan"],
                              option_id=option(vote, "no"), reason=""))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


@pytest.mark.parametrize("secret", [False, True], ids=["roll-call", "secret"])
def test_two_of_a_delegation_casting_at_once_give_one_ballot(assembly, app, secret):
    assembly.designate("Kazakhstan", voter_id=assembly.people["kz_colleague"])
    vote = assembly.open(secret=secret)
    results = at_once(app, [caster(vote["id"], assembly.people["kz_head"], option(vote, "yes")),
                            caster(vote["id"], assembly.people["kz_colleague"], option(vote, "no"))])
    counted = [r for r in results if isinstance(r, Cast)]
    refused = [r for r in results if not isinstance(r, Cast)]
    assert len(counted) == 1 and not counted[0].changed, results
    assert len(refused) == 1 and isinstance(refused[0], Conflict) and "has voted" in refused[0].message
    with app.app_context():
        ballots = db.session.scalars(select(Ballot).where(Ballot.vote_id == vote["id"])).all()
        assert [(b.delegation_id, b.option_id is None) for b in ballots] == [
            (assembly.delegations["Kazakhstan"], secret)]
        assert db.session.get(Vote, vote["id"]).turnout == 1


def test_a_secret_vote_by_delegation_keeps_who_voted_and_not_how(assembly, app):
    vote = assembly.open(secret=True)
    cast = assembly.cast_ballot("kz_head", vote, "no")
    assert cast["receipt"]
    assembly.cast_ballot("ru_voter", vote, "yes")
    with app.app_context():
        stored = db.session.execute(select(Ballot.delegation_id, Ballot.option_id, Ballot.reason)
                                    .where(Ballot.vote_id == vote["id"])).all()
        assert sorted(stored) == sorted([(assembly.delegations["Kazakhstan"], None, ""),
                                         (assembly.delegations["Russian Federation"], None, "")])
        assert db.session.get(Vote, vote["id"]).drawn_delegation_id is None  # nobody is called
    closed = assembly.close(vote)
    assert closed["roll_call"] is None and closed["roll_call_from"] is None
    assert {o["kind"]: o["count"] for o in closed["options"]} == {"yes": 1, "no": 1, "abstain": 0}
    with app.app_context():
        assert verify_vote(db.session.get(Vote, vote["id"])).ok


# --- the pages --------------------------------------------------------------------------------


def test_the_vote_page_says_who_casts_the_delegations_ballot(assembly, factories):
    vote = assembly.open()
    client = assembly.client
    client.sign_in(db_participant(factories, assembly.people["kz_colleague"]))
    page = client.get(f"/votes/{vote['id']}").get_data(as_text=True)
    assert "data-vote-ballot" not in page
    assert "The ballot of the delegation of Kazakhstan is cast by Member Person." in page
    assert "Each delegation: one ballot" in page
    client.sign_out()
    client.sign_in(assembly.cast.member)
    page = client.get(f"/votes/{vote['id']}").get_data(as_text=True)
    assert "data-vote-ballot" in page and "The ballot of the delegation of Kazakhstan" in page
    client.submit(f"/votes/{vote['id']}/ballot", {"option_id": str(option(vote, "yes"))})
    client.sign_out()
    client.sign_in(db_participant(factories, assembly.people["loner"]))
    page = client.get(f"/votes/{vote['id']}").get_data(as_text=True)
    assert "you do not sit in a delegation" in page



# --- consensus, where delegations decide -----------------------------------------------------


def test_consensus_counts_delegations_reached_and_a_delegation_objects_through_its_caster(assembly):
    assembly.ok("secretariat", "PUT", f"/conferences/{assembly.cast.conference.id}/rules", {
        "decision_rule": "consensus", "fallback_rule": "two_thirds", "quorum": "none",
        "chair_votes": False, "reconsideration_rule": "two_thirds"})
    vote = assembly.open(method="consensus")
    assert (vote["method"], vote["eligible"], vote["quorum_needed"]) == ("consensus", 3, 1)
    # Any of a delegation's people reaching the question reaches the delegation, once.
    for who in ("kz_colleague", "kz_head"):
        assembly.ok(who, "POST", f"/votes/{vote['id']}/presence")
    assert assembly.ok("chair", "GET", f"/votes/{vote['id']}")["present"] == 1
    # The colleague does not speak for Kazakhstan; its head does, once for the delegation.
    message = assembly.refused("kz_colleague", "POST", f"/votes/{vote['id']}/objection",
                               {"reason": "Not ours."}, 403)
    assert "Kazakhstan" in message
    objected = assembly.ok("kz_head", "POST", f"/votes/{vote['id']}/objection", {"reason": "Too early."})
    [entry] = objected["roll_call"]
    assert (entry["delegation"]["name"], entry["reason"]) == ("Kazakhstan", "Too early.")
    # Russia's designated voter speaks for it (its head is an observer of the group).
    assembly.ok("ru_voter", "POST", f"/votes/{vote['id']}/objection", {})
    closed = assembly.close(vote)
    assert closed["outcome"] == "no_consensus"
    assert sorted(e["delegation"]["name"] for e in closed["roll_call"]) == ["Kazakhstan", "Russian Federation"]
    assert assembly.ok("chair", "GET", f"/votes/{vote['id']}/verify")["ok"] is True
