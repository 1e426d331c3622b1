"""The conference the outcome document's renderers are read back against (Word, Markdown,
JSON): two groups, three adopted recommendations, votes of every rule, secret and roll-call,
a clause rejected and reworded before it was adopted, statements, a participant who opted
out, and hostile text everywhere a person writes.

A test module uses the fixture, ``conference``, by importing the function that makes it:
``from tests.export_fixture import export_conference  # noqa: F401 - the conference fixture``
(named apart so that the tests' ``conference`` arguments do not shadow an import)."""
from __future__ import annotations

from datetime import date

import pytest

from drafting.editing.services import replace_text
from drafting.export.outline import (
    CategoryList,
    ClauseBlock,
    GroupSection,
    Identification,
    NotAdoptedBlock,
    Outline,
    ParticipantEntry,
    Pending,
    RecommendationBlock,
    StatementEntry,
    Text,
    VoteEntry,
)
from drafting.votes import services
from drafting.votes.schemas import StatementIn
from models import (
    ClauseKind,
    Conference,
    GroupRole,
    Participant,
    Recommendation,
    RecommendationStatus,
    StakeholderCategory,
    Vote,
    db,
)
from tests.factories import Factories
from tests.helpers.procedure import put_question, settle

XSS = '<img src=x onerror="window.__xss=1">'
LOCAL_FILE = "file:///etc/passwd"
METADATA = "http://169.254.169.254/"
#: A link whose scheme would run script, in the organisers (plain text: it must stay text).
SCRIPT_LINK = "[x](javascript:alert(1))"
#: The first operative clause of recommendation 1.1 as first drafted, and as adopted.
FIRST = "Calls on States to protect migrant workers;"
ADOPTED = "Calls on all States to protect migrant workers and their families;"
#: The member of both groups: a published name carrying markup, voting openly and in secret.
MEMBER = f"Member {XSS}"


def decide(chair: Participant, recommendation: Recommendation, voters: list[Participant],
           answer: str = "yes", rule: str | None = None, **data: object) -> Vote:
    """A question put by ``chair`` with ``data``, every voter answering ``answer``, closed."""
    return settle(chair, put_question(chair, recommendation, rule, **data), voters, answer)


def adopt(chair: Participant, recommendation: Recommendation, voters: list[Participant], *,
          secret_clause: int | None = None, rule: str = "simple_majority") -> None:
    """A vote on each clause (the one at ``secret_clause`` secret), then on the whole (roll call)."""
    for index, clause in enumerate(list(recommendation.live_clauses)):
        decide(chair, recommendation, voters, subject="clause", clause_id=clause.id, rule=rule,
               secret=index == secret_clause)
    decide(chair, recommendation, voters, subject="recommendation", rule=rule)
    assert recommendation.status is RecommendationStatus.ADOPTED


def build_conference(factories: Factories) -> Conference:
    """The conference described above; thirteen votes, one of them secret."""
    conference = factories.conference(
        title=f"Migration and security {XSS}", venue="Astana, Kazakhstan",
        organisers=f"OSCE Centre in Astana\nIOM {SCRIPT_LINK}",
        preamble=f"The conference *welcomes* {XSS} and [metadata]({METADATA}).\n\n"
                 "1. first aim\n2. second aim")
    labour = factories.group(conference, name="Labour migration", position=1,
                             mandate=f"Recommend *practical* measures. {XSS} ![f]({LOCAL_FILE})")
    ethnic = factories.group(conference, name=f"Ethnic migration {XSS}", position=2,
                             mandate=f"Protect the rights of [minorities]({METADATA}).")
    chair = factories.member_of(labour, GroupRole.CHAIR, name="Chair Person",
                                category=StakeholderCategory.PARLIAMENTARIAN)
    member = factories.member_of(labour, name=MEMBER, affiliation=f"[Ministry]({LOCAL_FILE})")
    hidden = factories.member_of(labour, name="Hidden Person", publish_name=False)
    other_chair = factories.member_of(ethnic, GroupRole.CHAIR, name="Other Chair",
                                      category=StakeholderCategory.NGO_REPRESENTATIVE)
    other_member = factories.member_of(ethnic, name="Other Member", affiliation="Ministère du Travail",
                                       category=StakeholderCategory.INTERNATIONAL_EXPERT)
    factories.membership(ethnic, member)

    first = factories.recommendation(labour, title=f"Labour rights {XSS}", clauses=[
        (ClauseKind.PREAMBULAR, "Recalling the *Astana* declaration,"),
        (ClauseKind.PREAMBULAR, f"Noting {XSS} and <script>window.__xss=1</script>,"),
        (ClauseKind.OPERATIVE, FIRST),
        (ClauseKind.OPERATIVE, f"Invites the IOM to assist (see [site]({METADATA}), {LOCAL_FILE});"),
        # An escaped pipe inside a cell: one cell in every format, not two.
        (ClauseKind.OPERATIVE, "Adopts the table:\n\n| body | role |\n|---|---|\n| IOM | a \\| b |"),
    ])
    # The first operative clause is rejected, reworded and adopted: its first draft differs.
    clause = first.live_clauses[2]
    decide(chair, first, [chair, member, hidden], answer="no", subject="clause",
           clause_id=clause.id, rule="two_thirds")
    replace_text(clause, chair, ADOPTED)
    db.session.commit()
    adopt(chair, first, [chair, member, hidden], secret_clause=1)
    second = factories.recommendation(labour, title="Recognition of skills", clauses=[
        (ClauseKind.OPERATIVE, "Encourages recognition of qualifications;"),
        (ClauseKind.OPERATIVE, "Invites **employers** to take part;")])
    adopt(chair, second, [chair, member], rule="absolute_majority")
    third = factories.recommendation(ethnic, title="Minorities", clauses=[
        (ClauseKind.PREAMBULAR, "Mindful of diversity,"),
        (ClauseKind.OPERATIVE, f"Asks for dialogue {XSS};")])
    adopt(other_chair, third, [other_chair, other_member, member], rule="consensus")

    # The member speaks for a delegation (its name carries markup too); the chair for none.
    factories.delegation(conference, f"Kazakhstan {XSS}", members=(member,), head=member)
    services.add_statement(member, first, StatementIn(kind="reservation",
                                           text=f"We do not accept {XSS} [x]({LOCAL_FILE})."))
    services.add_statement(chair, first, StatementIn(kind="interpretative",
                                          clause_id=first.live_clauses[2].id,
                                          text="Families means *immediate* families."))
    db.session.commit()
    return conference


def hostile_outline(payload: str) -> Outline:
    """Every field a person writes, holding ``payload``."""
    text = Text.of(payload)
    clause = ClauseBlock(1, "operative", "1.", text, payload, [
        {"op": "equal", "text": payload}, {"op": "delete", "text": payload},
        {"op": "insert", "text": payload}])
    return Outline(
        conference_id=1, title=payload, venue=payload, starts_on=date(2009, 6, 24),
        ends_on=date(2009, 6, 25), organisers=[payload], preamble=text, group_id=None,
        draft=True, pending=[Pending("recommendation", 2, payload, payload),
                             Pending("vote", 3, payload, payload)],
        sections=[GroupSection(4, 1, payload, text, [RecommendationBlock(
            5, "1.1", payload, [ClauseBlock(6, "preambular", "", text, None, [])], [clause])],
            [NotAdoptedBlock(9, payload, "rejected", (1, 2, 3), payload)])],
        votes=[VoteEntry(7, payload, payload, payload, "consensus", None, 3, 3, False,
                         [(payload, 3)], "adopted", "2009-06-25T10:00:00+00:00", "0" * 64,
                         [(payload, payload, payload)], "person", payload, number="A.1",
                         method="ballot", decision=payload)],
        statements=[StatementEntry(8, "reservation", payload, payload, payload, text, payload)],
        participants=[CategoryList("parliamentarian", "Parliamentarians",
                                   [ParticipantEntry(payload, payload, payload, [payload])])],
        identification=Identification(payload, "general", payload, "en", payload, payload,
                                      payload, payload),
    )


@pytest.fixture(name="conference")
def export_conference(ctx: None, factories: Factories) -> Conference:
    """The fixture conference (see the module's docstring)."""
    return build_conference(factories)
