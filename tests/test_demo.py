"""`flask demo load` (the Astana 2009 conference and its documented accounts) and
`flask participant create-secretariat` (how an installation gets its first account)."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from drafting.amendments.redlines import redline
from drafting.export import render_md
from drafting.export.labels import organised_by
from drafting.export.outline import compile_outline
from drafting.notifications.services import notifications_of
from drafting.votes.objections import check_can_object
from drafting.votes.records import verify_vote
from models import (
    Amendment,
    Clause,
    ClauseKind,
    ClauseStatus,
    CommentThread,
    Conference,
    Delegation,
    GroupRole,
    NotificationKind,
    Participant,
    Recommendation,
    RecommendationStatus,
    StakeholderCategory,
    Vote,
    VoteMethod,
    VoteOutcome,
    VotingUnit,
    WorkingGroup,
    db,
    delegation_of,
)

TITLE = "Efficient migration management in the CIS region"
FIRST_GROUP = "Labour migration and the financial crisis"
DEMO_PASSWORD = "plenary-demo"
DEMO_ROLES = {
    "chair@plenary.example": GroupRole.CHAIR,
    "member@plenary.example": GroupRole.MEMBER,
    "member2@plenary.example": GroupRole.MEMBER,
    "observer@plenary.example": GroupRole.OBSERVER,
}
DEMO_ACCOUNTS = ["secretariat@plenary.example", *DEMO_ROLES]


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def demo(app):
    result = run(app, "demo", "load")
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def conference(app, demo):
    with app.app_context():
        found = db.session.scalars(select(Conference).where(Conference.title == TITLE)).one()
        db.session.expunge(found)
    return found


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables}


def test_demo_conference_is_the_astana_2009_event(app, conference):
    assert conference.venue == "Astana, Kazakhstan"
    assert (conference.starts_on, conference.ends_on) == (date(2009, 6, 24), date(2009, 6, 25))
    organisers = conference.organiser_list
    for organiser in ("OSCE Centre in Astana", "Ministry of Labour and Social Protection",
                      "IOM", "ILO"):
        assert any(organiser in line for line in organisers), (organiser, organisers)


def test_demo_has_the_four_working_groups_in_order(app, conference):
    with app.app_context():
        names = db.session.scalars(select(WorkingGroup.name)
                                   .where(WorkingGroup.conference_id == conference.id)
                                   .order_by(WorkingGroup.position)).all()
    assert names == [FIRST_GROUP, "Ethnic migration", "Gender-sensitive labour migration policies",
                     "International legal standards and national legislation"]


def test_every_stakeholder_category_takes_part(app, conference):
    with app.app_context():
        groups = db.session.get(Conference, conference.id).groups
        categories = {m.participant.category for group in groups for m in group.memberships}
    assert categories == set(StakeholderCategory)


def test_every_group_has_one_chair_members_and_an_observer(app, conference):
    with app.app_context():
        for group in db.session.get(Conference, conference.id).groups:
            roles = [m.role for m in group.memberships]
            assert roles.count(GroupRole.CHAIR) == 1, group.name
            assert GroupRole.MEMBER in roles, group.name
            assert GroupRole.OBSERVER in roles, group.name


def test_demo_has_a_draft_with_preambular_and_operative_clauses(app, conference):
    with app.app_context():
        drafts = db.session.scalars(
            select(Recommendation).join(WorkingGroup)
            .where(WorkingGroup.conference_id == conference.id)
            .where(Recommendation.status == RecommendationStatus.DRAFTING)
        ).all()
        kinds = [{clause.kind for clause in draft.live_clauses} for draft in drafts]
    assert {ClauseKind.PREAMBULAR, ClauseKind.OPERATIVE} in kinds


def test_demo_shows_a_discussion_and_an_amendment(app, conference):
    """A thread where the chair mentions the member, and a co-sponsored amendment: what a
    visitor of the demo sees on the first draft."""
    with app.app_context():
        thread = db.session.scalars(select(CommentThread)).one()
        assert [c.author.email for c in thread.comments] == [
            "observer@plenary.example", "chair@plenary.example"]
        member = db.session.scalar(select(Participant).where(
            Participant.email == "member@plenary.example"))
        assert [n.kind for n in notifications_of(member)] == [NotificationKind.MENTION]
        amendment = db.session.scalars(select(Amendment)).one()
        assert amendment.proposer_id == member.id and amendment.is_open
        assert [s.participant.email for s in amendment.sponsors] == ["member2@plenary.example"]
        assert redline(amendment).result == amendment.text  # written against today's text


def test_demo_has_a_clause_adopted_by_consensus_and_a_consensus_sought(app, conference):
    with app.app_context():
        closed, still_open = db.session.scalars(
            select(Vote).join(Recommendation)
            .where(Recommendation.title == "Regional co-operation on labour market information")
            .order_by(Vote.id)).all()
        assert closed.outcome is VoteOutcome.ADOPTED and verify_vote(closed).ok
        assert closed.method is VoteMethod.CONSENSUS
        assert closed.clause.status is ClauseStatus.ADOPTED
        assert still_open.is_open and still_open.turnout == 1  # one objection, named
        member = db.session.scalar(select(Participant).where(
            Participant.email == "member@plenary.example"))
        check_can_object(still_open, member)  # the visitor signing in as the member can object


def test_demo_is_organised_as_the_press_release_says(app, conference):
    with app.app_context():
        outline = compile_outline(db.session.get(Conference, conference.id))
        assert organised_by(outline.organisers) == (
            "Organised by the OSCE Centre in Astana in co-operation with the Ministry of Labour "
            "and Social Protection of the Republic of Kazakhstan, the International Organization "
            "for Migration (IOM) and the International Labour Organization (ILO)")


def test_demo_records_are_dated_within_the_conference_and_chained(app, conference):
    with app.app_context():
        votes = db.session.scalars(select(Vote).order_by(Vote.opened_at, Vote.id)).all()
        assert len(votes) == 8
        first, last = datetime(2009, 6, 24, tzinfo=UTC), datetime(2009, 6, 26, tzinfo=UTC)
        for vote in votes:
            assert first <= vote.opened_at < last, vote.opened_at
            assert vote.closed_at is None or vote.opened_at <= vote.closed_at < last
            if vote.record is not None:
                assert verify_vote(vote).ok
                assert json.loads(vote.record)["closed_at"].startswith("2009-06-2")
        closed = [v for v in votes if v.record_sha256]
        # One chain: each record follows the one closed before it.
        assert [v.previous_sha256 for v in closed] == [None, *[v.record_sha256 for v in closed[:-1]]]
        comments = db.session.scalars(select(CommentThread)).one().comments
        amendment = db.session.scalars(select(Amendment)).one()
        assert all(first <= c.created_at < last for c in comments)
        assert first <= amendment.created_at < last


def test_a_newcomers_draft_outcome_document_shows_an_adopted_recommendation(app, conference):
    """The first group adopted one recommendation on the second day, paragraph by paragraph
    and then as a whole, by consensus: the draft document has its text, in UN form, the
    operative verbs agreeing with "The participants in the Conference"."""
    with app.app_context(), force_locale("en"):
        outline = compile_outline(db.session.get(Conference, conference.id))
        assert outline.draft  # other drafts and a question are still open
        (adopted,) = outline.sections[0].recommendations
        assert (adopted.number, adopted.title) == ("1.1", "Remittances of migrant workers")
        assert [c.text.markdown.split()[0] for c in adopted.preambular] == ["*Recognising*", "*Concerned*"]
        assert [c.text.markdown.split()[0] for c in adopted.operative] == ["Recommend", "Call", "Invite"]
        assert all(c.text.markdown.endswith(",") for c in adopted.preambular)
        assert [c.text.markdown[-1] for c in adopted.operative] == [";", ";", "."]
        assert not any(r.recommendations for r in outline.sections[1:3])
        decisions = [(v.number, v.subject, v.decision) for v in outline.votes]
        assert decisions[0] == ("A.1", "Regional co-operation on labour market information, "
                                "preambular paragraph 1", "Adopted by consensus")
        assert decisions[1] == ("A.2", "Recommendation 1.1, preambular paragraph 1", "Adopted by consensus")
        assert decisions[-1] == ("A.7", "Recommendation 1.1 as a whole", "Adopted by consensus")
        assert outline.preamble.markdown.startswith("The participants in the Conference")
        # Identified as the secretariat issues it (DOMAIN.md section 2).
        assert outline.identification is not None
        assert (outline.identification.symbol, outline.identification.distribution_label,
                outline.identification.original_label, outline.identification.dates) == \
            ("CONF.MIGR/1/09", "Distr.: General", "Original: ENGLISH", "24–25 June 2009")
        markdown = render_md.render(outline).decode()
        assert "1. Recommend that the countries of the region" in markdown
    # Every clause of every demo draft agrees with the plural subject.
    with app.app_context():
        texts = db.session.scalars(select(Clause.text).where(Clause.kind == ClauseKind.OPERATIVE)).all()
        assert texts and not [t for t in texts if t.split()[0].endswith("s")]


def test_demo_participants_sit_in_the_delegations_of_their_country_or_organisation(app, conference):
    with app.app_context():
        delegations = db.session.scalars(select(Delegation).where(
            Delegation.conference_id == conference.id).order_by(Delegation.name)).all()
        seats = {d.name: sorted(s.participant.country for s in d.seats) for d in delegations}
        assert seats == {
            "International Labour Organization": ["ILO"],
            "International Organization for Migration": ["IOM"],
            "Kazakhstan": ["Kazakhstan", "Kazakhstan"], "Kyrgyzstan": ["Kyrgyzstan"],
            "Russian Federation": ["Russian Federation", "Russian Federation"],
            "Tajikistan": ["Tajikistan"]}
        assert all(d.head_id in {s.participant_id for s in d.seats} for d in delegations)
        # NGO representatives and independent experts speak for themselves; people vote.
        observer = db.session.scalar(select(Participant).where(
            Participant.email == "observer@plenary.example"))
        assert delegation_of(conference.id, observer.id) is None
        assert db.session.get(Conference, conference.id).voting_unit is VotingUnit.PERSON


def test_demo_output_lists_the_logins(demo):
    for email in DEMO_ACCOUNTS:
        assert email in demo.output
    assert DEMO_PASSWORD in demo.output


def test_loading_the_demo_again_adds_nothing(app, demo):
    before = row_counts(app)
    again = run(app, "demo", "load")
    assert again.exit_code == 0, again.output
    assert row_counts(app) == before
    assert "nothing new" in again.output


def test_loading_the_demo_keeps_what_people_changed(app, conference):
    with app.app_context():
        db.session.get(Conference, conference.id).venue = "Astana, Hotel Rixos"
        db.session.commit()
    assert run(app, "demo", "load").exit_code == 0
    with app.app_context():
        assert db.session.get(Conference, conference.id).venue == "Astana, Hotel Rixos"


@pytest.mark.parametrize("email", DEMO_ACCOUNTS)
def test_documented_demo_account_signs_in(app, demo, email):
    client = app.test_client()
    response = client.submit("/login", {"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert client.get("/").status_code == 200


def test_demo_accounts_have_the_documented_roles(app, conference):
    with app.app_context():
        first = db.session.get(Conference, conference.id).groups[0]
        assert first.name == FIRST_GROUP
        for email, role in DEMO_ROLES.items():
            person = db.session.scalars(select(Participant).where(Participant.email == email)).one()
            assert first.role_of(person) is role, email
            assert not person.is_secretariat, email
        secretariat = db.session.scalars(
            select(Participant).where(Participant.email == "secretariat@plenary.example")).one()
        assert secretariat.is_secretariat


# --- the first secretariat account ----------------------------------------------------------


def test_create_secretariat_prints_a_working_invitation_link(app, client):
    result = run(app, "participant", "create-secretariat", "head@osce.example",
                 "--name", "Head of Secretariat")
    assert result.exit_code == 0, result.output
    link = next(word for word in result.output.split() if "/invitations/" in word)
    path = urlsplit(link).path
    page = client.get(path)
    assert page.status_code == 200
    assert "Head of Secretariat" in page.get_data(as_text=True)
    response = client.submit(path, {"password": "a long passphrase",
                                    "confirmation": "a long passphrase"})
    assert response.status_code == 302
    with app.app_context():
        person = db.session.scalars(select(Participant)
                                    .where(Participant.email == "head@osce.example")).one()
        assert person.is_secretariat
    assert client.get("/admin/participants/").status_code == 200


def test_create_secretariat_refuses_an_email_already_registered(app, factories):
    factories.participant(email="taken@osce.example")
    result = run(app, "participant", "create-secretariat", "Taken@OSCE.example", "--name", "Someone")
    assert result.exit_code != 0
    assert "already exists" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 1
