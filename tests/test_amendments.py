"""Amendments, as rules: proposing, co-sponsoring, editing, withdrawing; the chair's
decisions; the redline against the current text; and two chairs deciding at once."""
from __future__ import annotations

import threading

import pytest

from drafting.amendments import services
from drafting.amendments.schemas import AmendmentCreate, AmendmentPatch, AmendmentRejection, amendment_out
from drafting.editing.diff import rebase
from drafting.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from drafting.notifications.services import notifications_of
from drafting.realtime import PENDING_KEY, QueuedEvent
from drafting.recommendations.schemas import ClausePatch
from drafting.recommendations.services import update_clause
from models import (
    Amendment,
    AmendmentKind,
    AmendmentStatus,
    Clause,
    ClauseKind,
    ClauseStatus,
    ClauseUpdate,
    GroupRole,
    NotificationKind,
    RecommendationStatus,
    db,
    utcnow,
)
from tests.helpers.commands import INPUT_REFUSED, refused_fields

TEXT = "Calls on States to protect migrant workers in the region;"
BETTER = "Calls on States to protect all migrant workers and their families in the region;"


@pytest.fixture
def draft(ctx, factories):
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, TEXT), (ClauseKind.OPERATIVE, "Invites the ILO to assist;")])
    return cast, recommendation.live_clauses[0]


def events(name: str) -> list[dict]:
    return [e.args[0] for e in db.session().info.get(PENDING_KEY, [])
            if isinstance(e, QueuedEvent) and e.name == name]


def changes(shown: services.Redline) -> list[tuple[str, str]]:
    return [(p["op"], p["text"].strip()) for p in shown.pieces if p["op"] != "equal"]


def propose(person, clause, **data):
    return services.propose_amendment(person, clause, AmendmentCreate.model_validate({"kind": "replace", "text": BETTER,
                                                       "rationale": "Families too.", **data}))


# --- the redline -------------------------------------------------------------------------


def test_rebase_keeps_edits_elsewhere_and_refuses_clashes():
    base = "The states should protect migrant workers in the region."
    proposal = "The states should protect all migrant workers in the region."
    assert rebase(base, proposal, base) == proposal
    assert rebase(base, proposal, "The states must protect migrant workers in the CIS region.") == \
        "The states must protect all migrant workers in the CIS region."
    assert rebase(base, proposal, "The states should protect some migrant workers in the region.") is None
    assert rebase(base, "The states should protect migrants in the region.",
                  "The states should protect migrant labourers in the region.") is None


def test_the_redline_is_against_the_current_text(draft):
    cast, clause = draft
    amendment = propose(cast.member, clause)
    shown = services.redline(amendment)
    assert not shown.conflict and shown.result == BETTER
    assert changes(shown) == [("insert", "all"), ("insert", "and their families")]
    update_clause(cast.chair, clause, ClausePatch(text=TEXT.replace("Calls on", "Urges")))
    db.session.commit()
    shown = services.redline(amendment)
    # Someone else's change is the current text, not part of the amendment.
    assert changes(shown) == [("insert", "all"), ("insert", "and their families")]
    assert shown.result == BETTER.replace("Calls on", "Urges")


def test_a_changed_replaced_word_flags_a_conflict(draft):
    cast, clause = draft
    amendment = propose(cast.member, clause, text=TEXT.replace("migrant workers", "migrants"))
    update_clause(cast.chair, clause, ClausePatch(text=TEXT.replace("migrant workers", "labour migrants")))
    db.session.commit()
    out = amendment_out(amendment)
    assert out.conflict and services.redline(amendment).result is None
    with pytest.raises(Conflict, match="must update it"):
        services.accept_amendment(cast.chair, amendment)
    db.session.rollback()
    assert db.session.get(Amendment, amendment.id).status is AmendmentStatus.PROPOSED
    # The proposer brings it up to date; then it applies.
    services.edit_amendment(cast.member, amendment, AmendmentPatch(text=TEXT.replace("migrant workers", "migrants")))
    assert not services.redline(amendment).conflict


def test_insertions_and_deletions_read_as_such(draft):
    cast, clause = draft
    insert = services.propose_amendment(cast.member, clause, AmendmentCreate(kind="insert", text="Urges action;"))
    delete = services.propose_amendment(cast.member, clause, AmendmentCreate(kind="delete", text="ignored"))
    assert services.redline(insert).pieces == [{"op": "insert", "text": "Urges action;"}]
    assert services.redline(delete).pieces == [{"op": "delete", "text": TEXT}]
    assert delete.text == "" and delete.base_text == TEXT and insert.base_text == ""


# --- proposing ---------------------------------------------------------------------------


@pytest.mark.parametrize("role, allowed", [
    ("chair", True), ("member", True), ("observer", False), ("secretariat", False),
    ("other_chair", False), ("outsider", False),
])
def test_who_may_propose(draft, role, allowed):
    cast, clause = draft
    if allowed:
        assert propose(getattr(cast, role), clause).status is AmendmentStatus.PROPOSED
    else:
        with pytest.raises(PermissionDenied):
            propose(getattr(cast, role), clause)


@pytest.mark.parametrize("status, message", [
    (ClauseStatus.LOCKED, "locked for a vote"), (ClauseStatus.ADOPTED, "adopted"),
])
def test_locked_and_adopted_clauses_take_no_amendments(draft, status, message):
    cast, clause = draft
    amendment = propose(cast.member, clause)
    clause.status = status
    db.session.commit()
    with pytest.raises(PermissionDenied, match=message):
        propose(cast.member, clause)
    with pytest.raises(PermissionDenied, match=message):
        services.accept_amendment(cast.chair, amendment)
    with pytest.raises(PermissionDenied, match=message):
        services.edit_amendment(cast.member, amendment, AmendmentPatch(text="Other;"))


def test_settled_recommendations_and_deleted_clauses_take_none(draft):
    cast, clause = draft
    clause.recommendation.status = RecommendationStatus.ADOPTED
    db.session.commit()
    with pytest.raises(PermissionDenied, match="no longer a draft"):
        propose(cast.member, clause)
    clause.recommendation.status = RecommendationStatus.DRAFTING
    clause.deleted_at = utcnow()
    db.session.commit()
    with pytest.raises(NotFound):
        propose(cast.member, clause)


@pytest.mark.parametrize("data, field", [
    ({"kind": "rewrite"}, "kind"), ({"kind": None}, "kind"),
    ({"kind": "replace", "text": ""}, "text"), ({"kind": "insert", "text": "   "}, "text"),
    ({"kind": "replace", "text": "x" * 20001}, "text"),
    ({"kind": "replace", "text": TEXT}, "text"),  # no change at all
    ({"kind": "replace", "text": BETTER, "rationale": "r" * 5001}, "rationale"),
    ({"kind": "replace", "text": BETTER, "rationale": ["list"]}, "rationale"),
    ({"kind": "replace", "text": BETTER, "base_text": 7}, "base_text"),
])
def test_bad_proposals_are_refused_with_the_field(draft, data, field):
    """By the command (its shape) or by the service (no change to the current text)."""
    cast, clause = draft
    with pytest.raises(INPUT_REFUSED) as refused:
        services.propose_amendment(cast.member, clause, AmendmentCreate.model_validate(data))
    assert field in refused_fields(refused.value)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Amendment.id))) == 0


def test_the_proposer_edits_until_it_is_dealt_with_then_not(draft):
    cast, clause = draft
    amendment = propose(cast.member, clause)
    with pytest.raises(PermissionDenied):
        services.edit_amendment(cast.chair, amendment, AmendmentPatch(text="Hijacked;"))
    services.edit_amendment(cast.member, amendment, AmendmentPatch(rationale="Families, explicitly."))
    assert amendment.rationale == "Families, explicitly." and amendment.text == BETTER
    services.put_to_vote(cast.chair, amendment)
    with pytest.raises(PermissionDenied, match="dealt with"):
        services.edit_amendment(cast.member, amendment, AmendmentPatch(text="Late;"))
    with pytest.raises(PermissionDenied, match="dealt with"):
        services.withdraw_amendment(cast.member, amendment)


def test_withdrawing(draft):
    cast, clause = draft
    amendment = propose(cast.member, clause)
    with pytest.raises(PermissionDenied):
        services.withdraw_amendment(cast.chair, amendment)
    services.withdraw_amendment(cast.member, amendment)
    assert amendment.status is AmendmentStatus.WITHDRAWN
    assert events("amendment_withdrawn")[0]["open_amendments"] == 0
    with pytest.raises(Conflict):
        services.accept_amendment(cast.chair, amendment)


def test_co_sponsors(draft, factories):
    cast, clause = draft
    amendment = propose(cast.member, clause)
    services.set_sponsorship(cast.chair, amendment, True)
    services.set_sponsorship(cast.chair, amendment, True)  # twice: still once
    second = factories.member_of(cast.group, GroupRole.MEMBER)
    services.set_sponsorship(db.session.get(type(cast.member), second.id), amendment, True)
    assert [s.participant_id for s in amendment.sponsors] == [cast.chair.id, second.id]
    services.set_sponsorship(cast.chair, amendment, False)
    assert [s.participant_id for s in amendment.sponsors] == [second.id]
    with pytest.raises(ValidationFailed, match="cannot also co-sponsor"):
        services.set_sponsorship(cast.member, amendment, True)
    for person in (cast.observer, cast.secretariat, cast.other_chair):
        with pytest.raises(PermissionDenied):
            services.set_sponsorship(person, amendment, True)
    # Since the factory's commit: the second sponsor, the chair stopping; refusals: nothing.
    assert len(events("amendment_updated")) == 2


# --- the chair's decisions ---------------------------------------------------------------


def test_accepting_a_new_wording_is_an_edit_by_the_proposer(draft):
    cast, clause = draft
    amendment = propose(cast.member, clause)
    db.session.commit()
    with pytest.raises(PermissionDenied):
        services.accept_amendment(cast.member, amendment)
    with pytest.raises(PermissionDenied):
        services.accept_amendment(cast.secretariat, amendment)
    services.accept_amendment(cast.chair, amendment)
    db.session.commit()
    assert clause.text == BETTER
    assert (amendment.status, amendment.decided_by_id) == (AmendmentStatus.ACCEPTED, cast.chair.id)
    last = db.session.scalars(db.select(ClauseUpdate).where(ClauseUpdate.clause_id == clause.id)
                              .order_by(ClauseUpdate.id.desc())).first()
    assert last.author_id == cast.member.id
    [told] = notifications_of(cast.member)
    assert (told.kind, told.detail) == (NotificationKind.AMENDMENT_DECIDED, "accepted")


def test_accepting_an_insertion_adds_the_clause_after_it(draft):
    cast, clause = draft
    amendment = services.propose_amendment(cast.member, clause, AmendmentCreate(kind="insert",
                                                                 text="Welcomes IOM's help;"))
    services.accept_amendment(cast.chair, amendment)
    db.session.commit()
    recommendation = clause.recommendation
    db.session.refresh(recommendation)
    assert [c.text for c in recommendation.live_clauses] == [
        TEXT, "Welcomes IOM's help;", "Invites the ILO to assist;"]
    created = db.session.get(Clause, amendment.created_clause_id)
    assert created.created_by_id == cast.member.id and created.kind is clause.kind


def test_accepting_a_deletion_deletes_the_clause(draft):
    cast, clause = draft
    amendment = services.propose_amendment(cast.member, clause, AmendmentCreate(kind="delete",
                                                                 rationale="Redundant."))
    services.accept_amendment(cast.chair, amendment)
    db.session.commit()
    assert clause.deleted_at is not None
    assert [c.text for c in clause.recommendation.live_clauses] == ["Invites the ILO to assist;"]


def test_rejecting_needs_a_reason(draft):
    cast, clause = draft
    amendment = propose(cast.member, clause)
    with pytest.raises(ValidationFailed) as refused:
        services.reject_amendment(cast.chair, amendment, AmendmentRejection(reason=" "))
    assert "reason" in refused.value.fields
    services.reject_amendment(cast.chair, amendment, AmendmentRejection(reason="Out of the mandate."))
    assert (amendment.status, amendment.decision_reason) == (AmendmentStatus.REJECTED,
                                                             "Out of the mandate.")
    assert clause.text == TEXT


def test_to_be_voted_then_still_decidable(draft):
    cast, clause = draft
    amendment = propose(cast.member, clause)
    services.put_to_vote(cast.chair, amendment)
    assert amendment.status is AmendmentStatus.TO_BE_VOTED and amendment.is_open
    with pytest.raises(Conflict):
        services.put_to_vote(cast.chair, amendment)
    services.accept_amendment(cast.chair, amendment)
    assert amendment.status is AmendmentStatus.ACCEPTED


def test_every_change_queues_the_amendment_with_its_redline(draft):
    cast, clause = draft
    amendment = propose(cast.member, clause)
    services.set_sponsorship(cast.chair, amendment, True)
    services.accept_amendment(cast.chair, amendment)
    names = [e.name for e in db.session().info[PENDING_KEY] if isinstance(e, QueuedEvent)
             and e.name.startswith("amendment")]
    assert names == ["amendment_proposed", "amendment_updated", "amendment_accepted"]
    accepted = events("amendment_accepted")[0]
    assert accepted["amendment"]["status"] == "accepted" and accepted["open_amendments"] == 0
    assert accepted["clause"] == clause.id


def test_two_chairs_accepting_at_once_apply_it_once(app, factories):
    """Both requests pass their checks; the database lets one claim the amendment."""
    cast = factories.cast()
    second_chair = factories.member_of(cast.group, GroupRole.CHAIR)
    recommendation = factories.recommendation(cast.group)
    clause = factories.clause(recommendation, text=TEXT)
    clause_id = clause.id
    amendment_id = factories.amendment(clause, cast.member, kind=AmendmentKind.INSERT,
                                       text="Welcomes IOM's help;").id
    checked = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def accept(chair_id: int) -> None:
        with app.test_request_context():
            chair = db.session.get(type(cast.chair), chair_id)
            amendment = db.session.get(Amendment, amendment_id)
            services.check_can_decide(amendment, chair)
            db.session.commit()  # the read is over: both have seen "proposed"
            checked.wait()
            try:
                services.accept_amendment(chair, amendment)
                db.session.commit()
                outcomes.append("accepted")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")

    workers = [threading.Thread(target=accept, args=(chair.id,)) for chair in (cast.chair, second_chair)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert sorted(outcomes) == ["accepted", "conflict"]
    with app.app_context():
        texts = db.session.scalars(db.select(Clause.text).where(
            Clause.recommendation_id == recommendation.id, Clause.deleted_at.is_(None))).all()
        assert sorted(texts) == sorted([TEXT, "Welcomes IOM's help;"])
        assert db.session.get(Clause, clause_id).deleted_at is None


def test_a_decision_made_elsewhere_meanwhile_wins(draft):
    """This session still sees "proposed"; another has accepted it: the claim finds nothing
    to change, and nothing of this acceptance is applied."""
    cast, clause = draft
    amendment = services.propose_amendment(cast.member, clause, AmendmentCreate(kind="insert", text="New;"))
    db.session.commit()
    assert amendment.status is AmendmentStatus.PROPOSED  # loaded, and kept in this session
    with db.engine.begin() as other:
        other.execute(db.update(Amendment).where(Amendment.id == amendment.id)
                      .values(status=AmendmentStatus.REJECTED.value))
    with pytest.raises(Conflict, match="already been dealt with"):
        services.accept_amendment(cast.chair, amendment)
    db.session.rollback()
    assert len(clause.recommendation.live_clauses) == 2
