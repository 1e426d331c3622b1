"""Votes as people use them without scripts: the vote page and its ballot form, the chair's
console on the recommendation page (the contract the scripts read), the projector, the
record and its verification, statements, and the group's vote settings.

Pages are read as a browser parses them (tests/test_pages.Page), never as substrings.
"""
from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from drafting.votes import services as votes
from drafting.votes.ballots import cast_ballot
from drafting.votes.schemas import BallotIn, StatementIn, VoteOpen
from models import (
    Amendment,
    AmendmentStatus,
    Ballot,
    Clause,
    ClauseKind,
    ClauseStatus,
    Conference,
    GroupRole,
    Participant,
    Recommendation,
    Statement,
    Vote,
    VoteRule,
    VoteStatus,
    WorkingGroup,
    db,
)
from tests.helpers.pages import (
    Page,
    acting,
    assert_friendly_error_page,
    assert_well_formed,
    client_as,
    count,
    elements,
    fetch,
    get,
    hostile_text_problems,
    marks,
    plain,
    read,
    read_all,
    structure_problems,
)

FIRST = "Calls on States to protect migrant workers;"
SECOND = "Invites employers to offer fair contracts;"
STAFF = ("secretariat", "chair", "member", "observer")


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def cast(factories):
    return factories.cast()


@pytest.fixture
def draft(factories, cast) -> dict[str, int]:
    """A draft of two operative clauses: ids of the recommendation and its clauses."""
    recommendation = factories.recommendation(cast.group, title="Protecting migrant workers",
                                              clauses=[(ClauseKind.OPERATIVE, FIRST),
                                                       (ClauseKind.OPERATIVE, SECOND)])
    with factories.app.app_context():
        first, second = db.session.scalars(select(Clause.id).where(
            Clause.recommendation_id == recommendation.id).order_by(Clause.position)).all()
    return {"recommendation": recommendation.id, "first": first, "second": second}


def open_by_service(app: Flask, cast: Any, draft: dict[str, int], **data: Any) -> int:
    with acting(app):
        vote = votes.open_vote(get(Participant, cast.chair.id),
                               get(Recommendation, draft["recommendation"]),
                               VoteOpen.model_validate({"subject": "clause", "clause_id": draft["first"], **data}))
        return vote.id


def option_ids(app: Flask, vote_id: int) -> dict[str, int]:
    """Option id by kind (yes/no/abstain) or, for wordings, by position ("0", "1", ...)."""
    with app.app_context():
        vote = db.session.get(Vote, vote_id)
        return {(o.kind.value if o.kind.value != "wording" else str(o.position)): o.id
                for o in vote.options}


def open_form(client: Any, recommendation_id: int, **fields: Any) -> Any:
    data = {"method": "ballot", "ballot": "roll_call", **fields}
    return client.submit(f"/recommendations/{recommendation_id}/votes",
                         {k: str(v) for k, v in data.items()})


def vote_id_of(response: Any) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.fullmatch(r"/votes/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def ballot(client: Any, vote_id: int, option_id: int, **fields: str) -> Any:
    return client.submit(f"/votes/{vote_id}/ballot", {"option_id": str(option_id), **fields})


def console_of(client: Any, recommendation_id: int) -> Page:
    response = client.get(f"/recommendations/{recommendation_id}/votes?partial=1")
    assert response.status_code == 200
    source = response.get_data(as_text=True)
    assert source.lstrip().startswith("<section class=\"section vote-console\""), source[:300]
    return Page(source)


def clause_state(page: Page, clause_id: int) -> str:
    found = elements(page, "li", data_clause_id=str(clause_id), data_clause_state=...)
    assert len(found) == 1, found
    return found[0]["data-clause-state"]


def vote_root(page: Page) -> dict[str, str]:
    found = elements(page, None, data_vote=..., data_vote_id=...)
    assert len(found) == 1, found
    return found[0]


def receipt_on(response: Any) -> str | None:
    found = elements(read(response), "div", data_vote_receipt=...)
    return found[0]["data-vote-receipt"] if found else None


# --- who sees what ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
def test_vote_pages_are_well_formed_for_everyone_in_the_group(app, cast, draft, role):
    open_id = open_by_service(app, cast, draft)
    with acting(app):
        closed = votes.open_vote(get(Participant, cast.chair.id), get(Recommendation, draft["recommendation"]),
                                 VoteOpen(subject="clause", clause_id=draft["second"]))
        cast_ballot(get(Participant, cast.member.id), closed, BallotIn(option_id=closed.options[0].id))
        votes.close_vote(get(Participant, cast.chair.id), closed)
        closed_id = closed.id
    client = client_as(app, cast, role)
    page = assert_well_formed(client.get(f"/votes/{open_id}"))
    assert page.h1 == ["Adopt the wording of clause 1?"]
    root = vote_root(page)
    assert (root["data-vote-id"], root["data-recommendation-id"], root["data-status"],
            root["data-secret"], root["data-deadline"], root["data-turnout"], root["data-eligible"]) \
        == (str(open_id), str(draft["recommendation"]), "open", "false", "", "0", "2")
    assert elements(page, "span", data_vote_turnout=...) and elements(page, "span", data_vote_eligible=...)
    assert elements(page, "section", data_vote_result=...)
    # The ballot form for voters only (chair and member; observers and the secretariat don't vote).
    assert bool(elements(page, "form", data_vote_ballot=...)) == (role in ("chair", "member"))
    # Chair's buttons for the chair only.
    actions = {action for action, _token in page.post_forms}
    assert ({f"/votes/{open_id}/close", f"/votes/{open_id}/cancel"} <= actions) == (role == "chair")

    projector = read(client.get(f"/votes/{open_id}/projector"))
    assert not structure_problems(projector)
    record = assert_well_formed(client.get(f"/votes/{closed_id}/record"))
    assert record.h1 == [f"Record of vote {closed_id}"]
    console = console_of(client, draft["recommendation"])
    assert not [p for p in structure_problems(console) if p.startswith(("duplicated", "POST form"))]
    assert_well_formed(client.get(f"/recommendations/{draft['recommendation']}"))


@pytest.mark.parametrize("role", ["other_chair", "outsider"])
def test_vote_pages_are_not_found_outside_the_group(app, cast, draft, role):
    vote_id = open_by_service(app, cast, draft)
    client = client_as(app, cast, role)
    for path in (f"/votes/{vote_id}", f"/votes/{vote_id}/projector", f"/votes/{vote_id}/record"):
        assert_friendly_error_page(client.get(path), 404, "Page not found")
    assert client.get(f"/recommendations/{draft['recommendation']}/votes?partial=1").status_code == 404
    assert client.get("/votes/99999999").status_code == 404


def test_votes_without_partial_lead_to_the_recommendation(app, cast, draft):
    response = client_as(app, cast, "member").get(f"/recommendations/{draft['recommendation']}/votes")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/recommendations/{draft['recommendation']}#votes"


# --- the console ------------------------------------------------------------------------------


def test_console_follows_the_contract(app, factories, cast, draft):
    with acting(app):
        factories.amendment(get(Clause, draft["second"]), get(Participant, cast.member.id),
                            text=SECOND.replace("fair", "written"), status=AmendmentStatus.TO_BE_VOTED)
    vote_id = open_by_service(app, cast, draft)
    chair, member, observer = (client_as(app, cast, r) for r in ("chair", "member", "observer"))

    # On the recommendation page, outside the editor's fallback (it stays with the live editor).
    page = read(chair.get(f"/recommendations/{draft['recommendation']}"))
    roots = elements(page, "section", data_vote_console=...)
    assert len(roots) == 1 and roots[0]["data-recommendation-id"] == str(draft["recommendation"])
    source = chair.get(f"/recommendations/{draft['recommendation']}").get_data(as_text=True)
    fallback_end = source.index("data-editor-live")
    assert source.index("data-vote-console") > fallback_end

    console = console_of(chair, draft["recommendation"])
    assert clause_state(console, draft["first"]) == "locked-for-vote"
    assert clause_state(console, draft["second"]) == "drafting"
    # The chair may put the drafting clause only, as the rules of procedure decide first.
    forms = elements(console, "form", data_vote_open_form=...)
    assert [f["data-vote-open-form"] for f in forms] == [f"clause-{draft['second']}"]
    assert forms[0]["action"] == f"/recommendations/{draft['recommendation']}/votes"
    assert elements(console, "input", type="radio", name="method", value="ballot", checked=...)
    assert {r["value"] for r in elements(console, "input", type="radio", name="method")} \
        == {"consensus", "silence", "ballot"}
    assert {r["value"] for r in elements(console, "input", type="radio", name="subject")} \
        == {"clause", "wordings", "amendment"}
    for name in ("clause_id", "deadline_minutes", "show_tally"):
        assert elements(console, "input", name=name), name
    assert not elements(console, "select", name="rule") and not elements(console, "input", name="quorum")
    assert elements(console, "textarea", name="question")
    assert {r["value"] for r in elements(console, "input", type="radio", name="ballot")} \
        == {"roll_call", "secret"}
    # The open vote, with turnout and a link to vote for voters.
    item = elements(console, "li", data_vote_id=str(vote_id))[0]
    assert item["data-status"] == "open"
    assert console.text_of(f"vote-item-{vote_id}").startswith("Open Adopt the wording of clause 1?")
    assert "0 of 2 have voted" in console.text_of(f"vote-item-{vote_id}")
    assert f"/votes/{vote_id}#ballot" in [a["href"] for a in elements(console, "a", href=...)]

    members_console = console_of(member, draft["recommendation"])
    assert not elements(members_console, "form", data_vote_open_form=...)
    assert f"/votes/{vote_id}#ballot" in [a["href"] for a in elements(members_console, "a", href=...)]
    observers_console = console_of(observer, draft["recommendation"])
    assert f"/votes/{vote_id}#ballot" not in [a["href"] for a in elements(observers_console, "a", href=...)]
    assert f"/votes/{vote_id}" in [a["href"] for a in elements(observers_console, "a", href=...)]


# --- end to end, without scripts --------------------------------------------------------------


def test_roll_call_flow_open_cast_change_close_adopts_the_clause(app, cast, draft):
    chair, member = client_as(app, cast, "chair"), client_as(app, cast, "member")
    vote_id = vote_id_of(open_form(chair, draft["recommendation"], subject="clause",
                                   clause_id=draft["first"], show_tally="y"))
    assert fetch(app, Clause, draft["first"]).status is ClauseStatus.LOCKED
    page = read(chair.get(f"/votes/{vote_id}"))
    assert "The vote is open." in page.text_of("main")
    options = option_ids(app, vote_id)

    assert ballot(member, vote_id, options["yes"]).headers["Location"] == f"/votes/{vote_id}"
    page = read(member.get(f"/votes/{vote_id}"))
    assert "Your ballot is counted." in page.text_of("main")
    assert "You voted: Yes." in page.text_of("main")
    assert elements(page, "input", name="option_id", value=str(options["yes"]), checked=...)
    assert vote_root(page)["data-turnout"] == "1"

    assert ballot(member, vote_id, options["no"]).status_code == 302
    page = read(member.get(f"/votes/{vote_id}"))
    assert "Your ballot is changed." in page.text_of("main")
    assert "You voted: No." in page.text_of("main")
    # The chair chose to show the running tally: it is on the page while the vote is open.
    assert page.text_of(f"option-{options['no']}").endswith("1 vote")

    assert ballot(chair, vote_id, options["yes"]).status_code == 302
    ballot(member, vote_id, options["yes"])
    assert chair.submit(f"/votes/{vote_id}/close").headers["Location"] == f"/votes/{vote_id}"
    page = assert_well_formed(chair.get(f"/votes/{vote_id}"))
    assert vote_root(page)["data-status"] == "closed"
    assert "The vote is closed and its result recorded." in page.text_of("main")
    result = page.text_of("result-heading")
    assert result == "Result"
    assert elements(page, "p", **{"class": "vote-result__outcome vote-result__outcome--adopted"})
    # Roll call: every voter's choice, published after the close.
    assert "Chair Person Yes" in page.text_of("main") and "Member Person Yes" in page.text_of("main")
    assert not elements(page, "form", data_vote_ballot=...)

    assert fetch(app, Clause, draft["first"]).status is ClauseStatus.ADOPTED
    console = console_of(member, draft["recommendation"])
    assert clause_state(console, draft["first"]) == "adopted"
    assert f"/votes/{vote_id}/record" in [a["href"] for a in elements(console, "a", href=...)]


def test_secret_ballot_shows_its_receipt_once_and_changes_with_it(app, cast, draft):
    chair, member = client_as(app, cast, "chair"), client_as(app, cast, "member")
    vote_id = vote_id_of(open_form(chair, draft["recommendation"], subject="clause",
                                   clause_id=draft["first"], ballot="secret"))
    options = option_ids(app, vote_id)
    assert vote_root(read(chair.get(f"/votes/{vote_id}")))["data-secret"] == "true"

    assert ballot(member, vote_id, options["no"]).status_code == 302
    shown = member.get(f"/votes/{vote_id}")
    receipt = receipt_on(shown)
    assert receipt and re.fullmatch(r"[\w-]+\.[0-9a-f]{32}", receipt)
    page = read(shown)
    assert "Your secret ballot is counted." in page.text_of("main")
    assert "you need it to change your ballot" in page.text_of("main")
    # Shown once: the next visit has no receipt, and the page does not say how they voted.
    again = read(member.get(f"/votes/{vote_id}"))
    assert receipt_on(member.get(f"/votes/{vote_id}")) is None
    assert "You have voted. Your ballot is secret" in again.text_of("main")
    assert not elements(again, "input", name="option_id", checked=...)
    assert elements(again, "input", name="receipt")

    # Without the receipt, no change: a clear message, the counts as they were.
    refused = ballot(member, vote_id, options["yes"])
    assert refused.status_code == 409
    assert "can be changed only with the receipt" in read(refused).text_of("main")
    # With it, the change, and a new receipt (the old one is spent).
    assert ballot(member, vote_id, options["yes"], receipt=receipt).status_code == 302
    changed = member.get(f"/votes/{vote_id}")
    assert "Your secret ballot is changed." in read(changed).text_of("main")
    assert receipt_on(changed) not in (None, receipt)
    assert ballot(member, vote_id, options["no"], receipt=receipt).status_code == 409

    chair.submit(f"/votes/{vote_id}/close")
    page = read(member.get(f"/votes/{vote_id}"))
    assert "· 1 vote " in page.text_of(f"option-{options['yes']}")
    assert page.text_of(f"option-{options['no']}").endswith("· 0 votes")
    # Secret: no roll call on the page, and no ballot row says what anyone chose.
    assert "Roll call" not in page.text_of("main")
    with app.app_context():
        assert db.session.scalars(select(Ballot.option_id).where(Ballot.vote_id == vote_id)).all() == [None]


def test_cancel_unlocks_the_clause_and_cannot_happen_twice(app, cast, draft):
    chair = client_as(app, cast, "chair")
    vote_id = vote_id_of(open_form(chair, draft["recommendation"], subject="clause",
                                   clause_id=draft["first"]))
    page = read(chair.get(f"/votes/{vote_id}"))
    cancel = [attrs for tag, attrs in page.tags if tag == "form"
              and dict(attrs).get("action") == f"/votes/{vote_id}/cancel"]
    assert cancel and "Nothing is decided" in dict(cancel[0])["data-confirm"]
    assert chair.submit(f"/votes/{vote_id}/cancel").status_code == 302
    page = read(chair.get(f"/votes/{vote_id}"))
    assert vote_root(page)["data-status"] == "cancelled"
    assert "Cancelled: nothing was decided" in page.text_of("main")
    assert fetch(app, Clause, draft["first"]).status is ClauseStatus.OPEN
    assert clause_state(console_of(chair, draft["recommendation"]), draft["first"]) == "drafting"
    page = assert_friendly_error_page(chair.submit(f"/votes/{vote_id}/cancel"), 409,
                                      "This conflicts with the current state")
    assert "This vote has already ended." in page.text_of("main")
    assert chair.submit(f"/votes/{vote_id}/close").status_code == 409
    # A cancelled vote has no record.
    record = read(chair.get(f"/votes/{vote_id}/record"))
    assert elements(record, "p", data_vote_no_record=...)


def test_record_page_shows_the_record_and_every_check_passing(app, cast, draft):
    chair, member = client_as(app, cast, "chair"), client_as(app, cast, "member")
    vote_id = vote_id_of(open_form(chair, draft["recommendation"], subject="clause",
                                   clause_id=draft["first"]))
    options = option_ids(app, vote_id)
    ballot(member, vote_id, options["yes"])
    assert elements(read(member.get(f"/votes/{vote_id}/record")), "p", data_vote_no_record=...)
    chair.submit(f"/votes/{vote_id}/close")

    response = member.get(f"/votes/{vote_id}/record")
    page = assert_well_formed(response)
    checks = elements(page, "li", data_check=...)
    assert {c["data-check"] for c in checks} >= {"record_hash", "chain", "counts", "turnout",
                                                 "result", "wordings", "roll_call"}
    assert all(c["data-passed"] == "true" for c in checks)
    assert elements(page, "section", data_vote_verified="true")
    assert "Verified: every check passes" in page.text_of("verify-heading")
    vote = fetch(app, Vote, vote_id)
    raw = elements(page, "pre", data_vote_record=...)
    assert raw
    shown = json.loads(re.search(r"<pre[^>]*data-vote-record[^>]*>(.*?)</pre>",
                                 response.get_data(as_text=True), re.S).group(1)
                       .replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")
                       .replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'"))
    assert shown == json.loads(vote.record)
    assert vote.record_sha256 in page.text_of("main")
    assert "1 voter must take part" in page.text_of("main")


def test_a_tampered_record_fails_verification_on_the_page(app, cast, draft):
    vote_id = open_by_service(app, cast, draft)
    with acting(app):
        vote = get(Vote, vote_id)
        votes.close_vote(get(Participant, cast.chair.id), vote)
    with app.app_context():
        vote = db.session.get(Vote, vote_id)
        vote.record = vote.record.replace('"turnout":0', '"turnout":1')
        db.session.commit()
    page = read(client_as(app, cast, "member").get(f"/votes/{vote_id}/record"))
    assert elements(page, "section", data_vote_verified="false")
    assert elements(page, "li", data_check="record_hash", data_passed="false")


def test_choice_of_wordings_shows_redlines_and_adopts_the_winner(app, factories, cast, draft):
    amended = SECOND.replace("fair contracts", "written contracts in their language")
    with acting(app):
        amendment = factories.amendment(get(Clause, draft["second"]), get(Participant, cast.member.id),
                                        text=amended, rationale="So that *everyone* understands.",
                                        status=AmendmentStatus.TO_BE_VOTED)
    chair, member = client_as(app, cast, "chair"), client_as(app, cast, "member")
    vote_id = vote_id_of(open_form(chair, draft["recommendation"], subject="wordings",
                                   clause_id=draft["second"]))
    options = option_ids(app, vote_id)
    for response in (member.get(f"/votes/{vote_id}"), member.get(f"/votes/{vote_id}/projector")):
        changes = marks(response)
        assert ("del", "fair") in changes
        assert ("ins", "written") in changes
    page = read(member.get(f"/votes/{vote_id}"))
    assert "So that everyone understands." in page.text_of(f"option-{options['1']}")
    ballot(member, vote_id, options["1"])
    ballot(chair, vote_id, options["1"])
    chair.submit(f"/votes/{vote_id}/close")
    page = read(member.get(f"/votes/{vote_id}"))
    assert f"Adopted wording: Amendment {amendment.id}" in page.text_of("main")
    assert fetch(app, Clause, draft["second"]).text == amended
    assert fetch(app, Amendment, amendment.id).status is AmendmentStatus.ADOPTED_BY_VOTE


def test_amendment_alone_is_put_from_the_console(app, factories, cast, draft):
    with acting(app):
        amendment = factories.amendment(get(Clause, draft["first"]), get(Participant, cast.member.id),
                                        text=FIRST.replace("protect", "defend"),
                                        status=AmendmentStatus.TO_BE_VOTED)
    chair = client_as(app, cast, "chair")
    vote_id = vote_id_of(open_form(chair, draft["recommendation"], subject="amendment",
                                   clause_id=draft["first"], amendment_id=amendment.id))
    page = read(chair.get(f"/votes/{vote_id}"))
    assert page.h1 == [f"Adopt amendment {amendment.id} to clause 1?"]
    assert ("ins", "defend") in marks(chair.get(f"/votes/{vote_id}"))


def test_the_whole_recommendation_is_offered_once_every_clause_is_adopted(app, cast, draft):
    chair, member = client_as(app, cast, "chair"), client_as(app, cast, "member")
    assert not elements(console_of(chair, draft["recommendation"]), "form", data_vote_open_form="whole")
    for clause in ("first", "second"):
        vote_id = vote_id_of(open_form(chair, draft["recommendation"], subject="clause",
                                       clause_id=draft[clause]))
        ballot(member, vote_id, option_ids(app, vote_id)["yes"])
        chair.submit(f"/votes/{vote_id}/close")
    console = console_of(chair, draft["recommendation"])
    assert elements(console, "form", data_vote_open_form="whole")
    assert not elements(console_of(member, draft["recommendation"]), "form", data_vote_open_form="whole")
    vote_id = vote_id_of(open_form(chair, draft["recommendation"], subject="recommendation"))
    ballot(member, vote_id, option_ids(app, vote_id)["yes"])
    chair.submit(f"/votes/{vote_id}/close")
    assert fetch(app, Recommendation, draft["recommendation"]).status.value == "adopted"
    page = read(member.get(f"/votes/{vote_id}/projector"))
    assert "Adopted" in page.text_of("main")
    # A statement on the adopted recommendation as a whole (the form's empty "On").
    response = member.submit(f"/recommendations/{draft['recommendation']}/statements", {
        "kind": "interpretative", "clause_id": "", "text": "We read it as a whole."})
    statement_id = int(response.headers["Location"].rsplit("-", 1)[1])
    page = read(member.get(f"/recommendations/{draft['recommendation']}"))
    assert page.text_of(f"statement-{statement_id}").startswith(
        "Interpretative statement · on the recommendation as a whole · Member Person")


# --- statements ---------------------------------------------------------------------------


def test_statements_on_an_adopted_clause(app, cast, draft):
    vote_id = open_by_service(app, cast, draft)
    with acting(app):
        cast_ballot(get(Participant, cast.member.id), get(Vote, vote_id),
                          BallotIn(option_id=get(Vote, vote_id).options[0].id))
        votes.close_vote(get(Participant, cast.chair.id), get(Vote, vote_id))
    member, observer = client_as(app, cast, "member"), client_as(app, cast, "observer")
    console = console_of(member, draft["recommendation"])
    # Only the adopted clause is offered.
    assert [o["value"] for o in elements(console, "option") if o.get("value", "").isdigit()] \
        == [str(draft["first"])]
    response = member.submit(f"/recommendations/{draft['recommendation']}/statements", {
        "kind": "reservation", "clause_id": str(draft["first"]),
        "text": "Our delegation *cannot* join this clause."})
    assert response.status_code == 302
    statement_id = int(response.headers["Location"].rsplit("-", 1)[1])
    assert response.headers["Location"] == \
        f"/recommendations/{draft['recommendation']}#statement-{statement_id}"
    page = read(observer.get(f"/recommendations/{draft['recommendation']}"))
    shown = page.text_of(f"statement-{statement_id}")
    assert shown.startswith("Reservation · on clause 1 · Member Person")
    assert "Our delegation cannot join this clause." in shown
    assert "<em>cannot</em>" in "".join(page.markdown_areas)

    # Not on a clause still in drafting: a clear message beside the form, nothing written.
    refused = member.submit(f"/recommendations/{draft['recommendation']}/statements", {
        "kind": "interpretative", "clause_id": str(draft["second"]), "text": "We understand."})
    assert refused.status_code == 409
    assert "this clause is not adopted" in read(refused).text_of("votes-heading") + \
        read(refused).text_of("main")
    empty = member.submit(f"/recommendations/{draft['recommendation']}/statements", {
        "kind": "interpretative", "clause_id": str(draft["first"]), "text": "  "})
    assert empty.status_code == 400
    page = read(empty)
    assert page.text_of("statement-text-errors")
    assert elements(page, "details", open=...)
    # Not twice: the same kind on the same text again is refused beside the form.
    again = member.submit(f"/recommendations/{draft['recommendation']}/statements", {
        "kind": "reservation", "clause_id": str(draft["first"]), "text": "Again."})
    assert again.status_code == 409
    page = read(again)
    assert "You have already made a reservation on this text" in page.text_of("statement-kind-errors")
    assert elements(page, "details", open=...)
    assert count(app, Statement) == 1
    # Observers and the secretariat make none: no form is offered, and a post is refused.
    assert not elements(console_of(observer, draft["recommendation"]), "form",
                        data_statement_form=...)
    for role in ("observer", "secretariat"):
        assert client_as(app, cast, role).submit(
            f"/recommendations/{draft['recommendation']}/statements",
            {"kind": "interpretative", "clause_id": str(draft["first"]), "text": "No."}
        ).status_code == 403
    assert count(app, Statement) == 1


# --- refusals ---------------------------------------------------------------------------------


def test_refusals_change_nothing(app, cast, draft):
    vote_id = open_by_service(app, cast, draft)
    options = option_ids(app, vote_id)
    member, observer, outsider, other = (client_as(app, cast, r) for r in
                                         ("member", "observer", "outsider", "other_chair"))
    assert open_form(member, draft["recommendation"], subject="clause",
                     clause_id=draft["second"]).status_code == 403
    assert member.submit(f"/votes/{vote_id}/close").status_code == 403
    assert member.submit(f"/votes/{vote_id}/cancel").status_code == 403
    page = assert_friendly_error_page(ballot(observer, vote_id, options["yes"]), 403,
                                      "You do not have access to this page")
    assert "observers never vote" in page.text_of("main")
    assert ballot(outsider, vote_id, options["yes"]).status_code == 404
    assert ballot(other, vote_id, options["yes"]).status_code == 404
    assert outsider.submit(f"/votes/{vote_id}/close").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vote)) == 1
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0
        assert db.session.get(Vote, vote_id).status is VoteStatus.OPEN
        assert db.session.get(Clause, draft["second"]).status is ClauseStatus.OPEN


def test_input_errors_come_back_beside_the_fields(app, cast, draft):
    chair, member = client_as(app, cast, "chair"), client_as(app, cast, "member")
    refused = open_form(chair, draft["recommendation"], subject="clause", clause_id=draft["first"],
                        method="silence", question="Shall we?")
    assert refused.status_code == 400
    page = read(refused)
    assert not structure_problems(page)
    key = f"vote-clause-{draft['first']}"
    assert page.text_of(f"{key}-deadline-errors") == "Required for a silence procedure."
    assert "A silence procedure needs a deadline." in page.text_of("main")
    # The form keeps what was typed, open.
    assert page.text_of(f"{key}-question") == "Shall we?"
    assert elements(page, "input", id=f"{key}-method-silence", checked=...)
    assert elements(page, "details", open=...)
    assert count(app, Vote) == 0

    assert open_form(chair, draft["recommendation"], subject="clause", clause_id=draft["first"],
                     deadline_minutes="99999").status_code == 400
    assert open_form(chair, draft["recommendation"], subject="clause", clause_id=draft["first"],
                     ballot="secret", show_tally="y").status_code == 400
    assert open_form(chair, draft["recommendation"], subject="wordings",
                     clause_id=draft["first"]).status_code == 409
    assert open_form(chair, draft["recommendation"], subject="clause",
                     clause_id="999999").status_code == 400
    assert count(app, Vote) == 0

    vote_id = vote_id_of(open_form(chair, draft["recommendation"], subject="clause",
                                   clause_id=draft["first"], method="consensus"))
    # The same clause again: a conflict, said in the console.
    again = open_form(chair, draft["recommendation"], subject="clause", clause_id=draft["first"])
    assert again.status_code == 409
    assert "locked" in read(again).text_of("main")
    # Consensus has no ballots; an objection's reason is at most 500 characters.
    options = option_ids(app, vote_id)
    assert ballot(member, vote_id, options["no"]).status_code == 409
    too_long = member.submit(f"/votes/{vote_id}/objection", {"reason": "x" * 501})
    assert too_long.status_code == 400
    assert count(app, Ballot) == 0
    assert member.submit(f"/votes/{vote_id}/objection", {"reason": "Too vague."}).status_code == 302

    chair.submit(f"/votes/{vote_id}/close")
    late = member.submit(f"/votes/{vote_id}/objection", {"reason": "Again."})
    assert late.status_code == 409
    assert "objections are no longer taken" in read(late).text_of("main")
    assert count(app, Ballot) == 1


def test_a_deadline_shows_a_countdown(app, cast, draft):
    chair = client_as(app, cast, "chair")
    vote_id = vote_id_of(open_form(chair, draft["recommendation"], subject="clause",
                                   clause_id=draft["first"], deadline_minutes="5"))
    for path in (f"/votes/{vote_id}", f"/votes/{vote_id}/projector"):
        page = read(chair.get(path))
        deadline = vote_root(page)["data-deadline"]
        assert deadline == fetch(app, Vote, vote_id).deadline.isoformat()
        countdown = elements(page, "time", data_vote_countdown=...)
        assert len(countdown) == 1 and countdown[0]["datetime"] == deadline
        assert 290 <= int(countdown[0]["data-remaining"]) <= 300
    assert re.search(r">[45]:\d\d</time>", chair.get(f"/votes/{vote_id}").get_data(as_text=True))


# --- the projector ------------------------------------------------------------------------


def test_projector_has_no_navigation_and_shows_turnout_and_the_result(app, cast, draft):
    vote_id = open_by_service(app, cast, draft)
    member = client_as(app, cast, "member")
    ballot(member, vote_id, option_ids(app, vote_id)["yes"])
    response = member.get(f"/votes/{vote_id}/projector")
    page = read(response)
    assert not structure_problems(page)
    assert not [tag for tag, _attrs in page.tags if tag in {"nav", "header", "footer"} and
                "projector" not in dict(_attrs).get("class", "")]
    assert not elements(page, "a")  # nothing to click on a room's display
    root = vote_root(page)
    assert "data-projector" in root and root["data-turnout"] == "1" and root["data-eligible"] == "2"
    assert page.h1 == ["Adopt the wording of clause 1?"]
    assert "1 of 2 have voted" in page.text_of("main")
    assert FIRST in page.text_of("main")
    assert "Voting is open" in page.text_of("main")
    client_as(app, cast, "chair").submit(f"/votes/{vote_id}/close")
    page = read(member.get(f"/votes/{vote_id}/projector"))
    assert vote_root(page)["data-status"] == "closed"
    assert elements(page, "p", **{"class": "projector__outcome projector__outcome--adopted"})


# --- hostile text -----------------------------------------------------------------------------


@pytest.fixture
def hostile(app, factories, cast, xss_payloads) -> dict[str, Any]:
    """Every payload as a question, an amendment's wording and rationale in a choice of
    wordings, a statement, and the display name of the proposer and voter."""
    recommendation = factories.recommendation(cast.group, title="Hostile votes")
    vote_ids, worlds = [], []
    with acting(app):
        chair = get(Participant, cast.chair.id)
        for n, payload in enumerate(xss_payloads):
            person = factories.member_of(get(WorkingGroup, cast.group.id), GroupRole.MEMBER,
                                         name=payload[:200] or "x")
            person = get(Participant, person.id)
            clause = get(Clause, factories.clause(recommendation, text=f"Clause {n} of the text.",
                                                  position=n + 1).id)
            amendment = factories.amendment(clause, person, text=f"{clause.text} {payload}",
                                            rationale=payload, status=AmendmentStatus.TO_BE_VOTED)
            vote = votes.open_vote(chair, get(Recommendation, recommendation.id), VoteOpen(
                subject="wordings", clause_id=clause.id, question=payload))
            winner = next(o for o in vote.options if o.amendment_id == amendment.id)
            cast_ballot(person, vote, BallotIn(option_id=winner.id))
            votes.close_vote(chair, vote)
            votes.add_statement(person, get(Recommendation, recommendation.id), StatementIn(
                kind="reservation", clause_id=clause.id, text=payload))
            db.session.commit()
            vote_ids.append(vote.id)
            worlds.append({"vote": vote.id, "name": person.name, "payload": payload})
        # And one open vote, so that the open list shows hostile questions too.
        last = factories.clause(recommendation, text="Open clause.", position=999)
        votes.open_vote(chair, get(Recommendation, recommendation.id), VoteOpen(
            subject="clause", clause_id=last.id, question=xss_payloads[0]))
    return {"recommendation": recommendation.id, "votes": vote_ids, "worlds": worlds}


def test_hostile_vote_text_stays_inert_on_every_page(app, cast, hostile):
    member = client_as(app, cast, "member")
    pages = [("recommendation", member.get(f"/recommendations/{hostile['recommendation']}")),
             ("console", member.get(f"/recommendations/{hostile['recommendation']}/votes?partial=1"))]
    for vote_id in hostile["votes"]:
        for what in ("", "/projector", "/record"):
            pages.append((f"vote {vote_id}{what}", member.get(f"/votes/{vote_id}{what}")))
    problems, areas = hostile_text_problems(app, read_all(pages))
    assert not problems, "\n".join(problems)
    # Rationales on vote pages, statements and clause texts on the recommendation page.
    assert areas >= 3 * len(hostile["votes"])


def test_hostile_names_and_questions_show_as_typed(app, cast, hostile):
    member = client_as(app, cast, "member")
    for world in hostile["worlds"]:
        page = read(member.get(f"/votes/{world['vote']}"))
        assert page.h1 == [plain(world["payload"])]
        # The roll call: the voter's name, then their choice.
        assert plain(f"{world['name']} Amendment") in page.text_of("main")
        record = read(member.get(f"/votes/{world['vote']}/record"))
        assert elements(record, "section", data_vote_verified="true")


# --- the group's settings ---------------------------------------------------------------------


def test_secretariat_sets_the_rules_of_procedure_on_their_page(app, cast, draft):
    secretariat = client_as(app, cast, "secretariat")
    page = read(secretariat.get(f"/conferences/{cast.conference.id}/rules"))
    assert not structure_problems(page)
    response = secretariat.submit(f"/conferences/{cast.conference.id}/rules", {
        "decision_rule": "consensus", "fallback_rule": "", "quorum": "majority",
        "reconsideration_rule": "two_thirds"})
    assert response.status_code == 302
    conference = fetch(app, Conference, cast.conference.id)
    assert (conference.decision_rule, conference.fallback_rule, conference.chair_votes) == \
        (VoteRule.CONSENSUS, None, False)
    bad = secretariat.submit(f"/conferences/{cast.conference.id}/rules", {
        "decision_rule": "unanimity", "quorum": "majority", "reconsideration_rule": "two_thirds"})
    assert bad.status_code == 400
    assert fetch(app, Conference, cast.conference.id).decision_rule is VoteRule.CONSENSUS
    # Members read the rules, and may not change them.
    member = client_as(app, cast, "member")
    shown = read(member.get(f"/conferences/{cast.conference.id}/rules"))
    assert not [b for b in elements(shown, "button", type="submit") if "button--primary" in b.get("class", "")]
    assert member.submit(f"/conferences/{cast.conference.id}/rules", {
        "decision_rule": "simple_majority", "quorum": "none",
        "reconsideration_rule": "simple_majority"}).status_code == 403
    assert fetch(app, Conference, cast.conference.id).decision_rule is VoteRule.CONSENSUS

    # The console seeks consensus first; the neutral chair is not among those who decide.
    chair = client_as(app, cast, "chair")
    assert elements(console_of(chair, draft["recommendation"]), "input", name="method",
                    value="consensus", checked=...)
    vote_id = vote_id_of(open_form(chair, draft["recommendation"], subject="clause",
                                   clause_id=draft["first"], method="consensus"))
    assert fetch(app, Vote, vote_id).rule is VoteRule.CONSENSUS
    page = read(chair.get(f"/votes/{vote_id}"))
    assert vote_root(page)["data-eligible"] == "1"
    assert not elements(page, "form", data_vote_objection=...)
    # A vote under these rules (no vote at all): refused, said in the console.
    refused = open_form(chair, draft["recommendation"], subject="clause", clause_id=draft["second"])
    assert refused.status_code == 409
    assert "consensus only" in read(refused).text_of("main")


def test_api_reads_and_sets_the_rules_of_procedure(app, factories, cast):
    client = app.test_client()
    token, member = factories.api_token(cast.secretariat), factories.api_token(cast.member)
    path = f"/api/v1/conferences/{cast.conference.id}/rules"
    assert client.api("GET", path, token=member).get_json()["decision_rule"] == "simple_majority"
    rules = {"decision_rule": "consensus", "fallback_rule": "two_thirds", "quorum": "one_third",
             "chair_votes": False, "reconsideration_rule": "consensus"}
    response = client.api("PUT", path, rules, token=token)
    assert response.status_code == 200 and response.get_json() == rules
    assert client.api("GET", f"/api/v1/conferences/{cast.conference.id}",
                      token=token).get_json()["rules"] == rules
    for bad in ({**rules, "fallback_rule": "consensus"}, {**rules, "quorum": 50},
                {**rules, "decision_rule": "unanimity"}, {"decision_rule": "consensus"}):
        assert client.api("PUT", path, bad, token=token).status_code == 400, bad
    assert client.api("PUT", path, {**rules, "quorum": "none"}, token=member).status_code == 403
    assert fetch(app, Conference, cast.conference.id).quorum_rule.value == "one_third"


# --- run-off ----------------------------------------------------------------------------------


def test_a_tie_between_wordings_offers_the_chair_a_run_off(app, factories, cast, draft):
    with acting(app):
        for text in ("Invites employers to offer written contracts;",
                     "Invites employers to offer fair written contracts;"):
            factories.amendment(get(Clause, draft["second"]), get(Participant, cast.member.id),
                                text=text, status=AmendmentStatus.TO_BE_VOTED)
    chair, member = client_as(app, cast, "chair"), client_as(app, cast, "member")
    vote_id = vote_id_of(open_form(chair, draft["recommendation"], subject="wordings",
                                   clause_id=draft["second"]))
    options = option_ids(app, vote_id)
    ballot(member, vote_id, options["1"])
    ballot(chair, vote_id, options["2"])
    chair.submit(f"/votes/{vote_id}/close")
    page = read(chair.get(f"/votes/{vote_id}"))
    assert "No wording carried: run-off" in page.text_of("main")
    runoff = [dict(attrs) for tag, attrs in page.tags if tag == "form"
              and dict(attrs).get("action") == f"/recommendations/{draft['recommendation']}/votes"]
    assert runoff and elements(page, "input", name="runoff_of", value=str(vote_id))
    # Only the chair is offered it; a member's try is refused.
    assert not elements(read(member.get(f"/votes/{vote_id}")), "input", name="runoff_of")
    assert member.submit(f"/recommendations/{draft['recommendation']}/votes",
                         {"runoff_of": str(vote_id)}).status_code == 403
    second = vote_id_of(chair.submit(f"/recommendations/{draft['recommendation']}/votes",
                                     {"runoff_of": str(vote_id)}))
    page = read(chair.get(f"/votes/{second}"))
    assert page.h1[0].startswith("Run-off:")
    assert len(elements(page, "input", type="radio", name="option_id")) == 3  # two wordings, abstain
