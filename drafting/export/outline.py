"""The outcome document as a format-neutral outline: one compiler, many renderers.

``compile_outline`` reads the conference once and builds plain data: what is adopted, in
the conference's order, numbered across the document, with the annexes. Renderers (HTML,
PDF, DOCX, Markdown, JSON) only render it; none reads the database or decides anything.

Every piece of user text is carried twice: as the Markdown people wrote and as HTML from the
project's one sanitiser (``render_markdown``). Renderers that show formatting use the HTML
(or parse it: it contains only the sanitiser's small set of harmless tags); none renders
Markdown itself, so no format can carry markup past the sanitiser.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from drafting.collation import name_key, sort_key
from drafting.editing.diff import Piece, word_diff
from drafting.export.labels import (
    adoption_how,
    adoption_line,
    body_name,
    decision_line,
    decision_number,
    distribution_label,
    full_symbol,
    not_adopted_how,
    original_label,
    paragraph_name,
    roll_call_name,
)
from drafting.markup import render_markdown
from drafting.typography import date_range, mark_opening
from drafting.votes.tally import counts, roll_call
from models import (
    Ballot,
    Clause,
    ClauseKind,
    Conference,
    Delegation,
    DelegationKind,
    Membership,
    OptionKind,
    Participant,
    Recommendation,
    RecommendationStatus,
    Seat,
    StakeholderCategory,
    Statement,
    Vote,
    VoteOption,
    VoteOutcome,
    VoteStatus,
    VoteSubject,
    WorkingGroup,
    db,
    delegations_of,
    utcnow,
)


@dataclass(frozen=True)
class Text:
    """User text: as written (Markdown) and as sanitised HTML."""

    markdown: str
    html: str

    @classmethod
    def of(cls, markdown: str | None) -> Text:
        return cls(markdown or "", str(render_markdown(markdown or "")))


@dataclass(frozen=True)
class ClauseBlock:
    id: int
    kind: str
    #: "1." for operative clauses; preambular clauses are not numbered in the document.
    number: str
    text: Text
    #: The wording when the clause's first vote opened (None: never voted on), and the
    #: word-level changes from it to the adopted text.
    first_draft: str | None
    changes: list[Piece]
    #: Agreed ad referendum: subject to confirmation by the negotiators' capitals.
    ad_referendum: bool = False


@dataclass(frozen=True)
class RecommendationBlock:
    id: int
    #: Across the document: "2.3" is the third adopted recommendation of the second group.
    number: str
    title: str
    preambular: list[ClauseBlock]
    operative: list[ClauseBlock]


@dataclass(frozen=True)
class NotAdoptedBlock:
    """A recommendation the group decided not to adopt: listed where it would have stood,
    with how (its text is not printed: it is not outcome)."""

    id: int
    title: str
    #: The deciding vote's outcome: "rejected" or "no_consensus".
    outcome: str
    #: (in favour, against, abstaining) of a vote; None for no consensus.
    counts: tuple[int, int, int] | None
    #: "Not adopted: rejected by a vote of 3–5–1 (…)." in the document's language.
    how: str


@dataclass(frozen=True)
class GroupSection:
    id: int
    number: int
    name: str
    mandate: Text
    recommendations: list[RecommendationBlock]
    not_adopted: list[NotAdoptedBlock] = field(default_factory=list)


@dataclass(frozen=True)
class Identification:
    """What identifies the document (DOMAIN.md section 2), each as printed in the document's
    language where it is words."""

    #: "CONF.MIGR/1/09/Rev.1" (the conference's symbol and this issue's suffix); "": none.
    symbol: str
    #: "general" or "limited", and as printed: "Distr.: General".
    distribution: str
    distribution_label: str
    #: The authentic language's code, and as printed: "Original: ENGLISH".
    original_language: str
    original_label: str
    #: The conference's dates as practice writes them ("24–25 June 2009") and its place.
    dates: str
    place: str
    #: The subject of every recommendation's operative verbs, printed before its preamble.
    body_name: str


@dataclass(frozen=True)
class Pending:
    """What keeps the document a draft."""

    kind: str  # "recommendation" or "vote"
    id: int
    group: str
    title: str


@dataclass(frozen=True)
class VoteEntry:
    id: int
    group: str
    #: "Recommendation 2.3, clause 1", or the recommendation's title while it is not adopted.
    subject: str
    question: str
    rule: str
    quorum: int | None
    eligible: int
    turnout: int
    secret: bool
    counts: list[tuple[str, int]]
    outcome: str
    closed_at: str
    record_sha256: str
    #: Roll-call votes: (name, choice, delegation) in the roll call's order (alphabetical,
    #: from the one drawn by lot); None for secret votes, which publish counts only. The
    #: delegation is whose ballot it was (``voting_unit`` "delegation"), or the voter's
    #: ("" if none); the name is who cast it.
    roll_call: list[tuple[str, str, str]] | None
    #: "person" or "delegation": who cast the ballots.
    voting_unit: str = "person"
    #: Roll-call votes: the delegation (or person) the roll call started from, drawn by lot.
    roll_call_from: str = ""
    #: Its number in annex A ("A.1"), the same in every format.
    number: str = ""
    #: "ballot", "consensus" or "silence": how the question was decided. Only a ballot's
    #: roll call is printed in full (a recorded vote); a consensus names its objectors in
    #: ``decision``.
    method: str = "ballot"
    #: The decision in one line, as the record of decisions gives it ("Adopted by
    #: consensus"; "Adopted by a recorded vote of 12 in favour, 3 against, 2 abstentions";
    #: "No consensus: objection by …").
    decision: str = ""
    #: A consensus sought: how many the question reached (its record's turnout); ``turnout``
    #: counts its objections. None for a ballot.
    present: int | None = None

    @property
    def recorded(self) -> bool:
        """A recorded vote: a ballot by roll call, whose roll call the document prints."""
        return self.method == "ballot" and self.roll_call is not None


@dataclass(frozen=True)
class StatementEntry:
    id: int
    kind: str
    #: "Recommendation 2.3" or "Recommendation 2.3, clause 1".
    on: str
    author: str
    affiliation: str
    text: Text
    #: The delegation it was made on behalf of ("" if none): its heading names it.
    delegation: str = ""


@dataclass(frozen=True)
class AdoptionBlock:
    """The plenary's adoption of the document, as printed after the adopted text."""

    adopted_on: date
    place: str
    #: Empty: the closing plenary meeting.
    meeting: str
    method: str
    #: (in favour, against, abstaining) of a vote; None by consensus.
    counts: tuple[int, int, int] | None
    #: "Adopted at the closing plenary meeting, Astana, 25 June 2009", in the document's
    #: language; and how ("Adopted by consensus.").
    line: str
    how: str


@dataclass(frozen=True)
class ParticipantEntry:
    name: str
    affiliation: str
    country: str
    groups: list[str]


@dataclass(frozen=True)
class CategoryList:
    category: str
    label: str
    participants: list[ParticipantEntry]


@dataclass(frozen=True)
class Outline:
    conference_id: int
    title: str
    venue: str
    starts_on: date
    ends_on: date
    organisers: list[str]
    preamble: Text
    #: Only one group's section (a chair's draft export), or None for the whole conference.
    group_id: int | None
    #: Not final: every export of it says DRAFT (true until finalising renders the final).
    draft: bool
    pending: list[Pending]
    sections: list[GroupSection]
    votes: list[VoteEntry]
    statements: list[StatementEntry]
    participants: list[CategoryList]
    generated_at: datetime = field(default_factory=utcnow)
    #: The plenary's adoption, once recorded (never in a group's section).
    adoption: AdoptionBlock | None = None
    #: The Chair's summary: not adopted, printed apart after the adopted text (empty: none;
    #: never in a group's section).
    chairs_summary: Text = field(default_factory=lambda: Text("", ""))
    identification: Identification | None = None
    #: The final document, rendered by finalising (``services.finalise``): it says so and
    #: carries the SHA-256 of its canonical text (``render_json.canonical_sha256``).
    final: bool = False

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=str))

    def adopted_text_sha256(self) -> str:
        """SHA-256 of what the document adopts: every adopted recommendation with its clauses
        (and the groups' names and mandates that head them), as compiled, in canonical JSON.
        The plenary's adoption records it; finalising compares."""
        sections = json.dumps([asdict(section) for section in self.sections], sort_keys=True,
                              separators=(",", ":"), ensure_ascii=False, default=str)
        return hashlib.sha256(sections.encode("utf-8")).hexdigest()


def _category_labels() -> dict[StakeholderCategory, str]:
    return {
        StakeholderCategory.PARLIAMENTARIAN: _("Parliamentarians"),
        StakeholderCategory.GOVERNMENT_OFFICIAL: _("Government officials"),
        StakeholderCategory.NGO_REPRESENTATIVE: _("Non-governmental organisations"),
        StakeholderCategory.INTERNATIONAL_EXPERT: _("International experts"),
        StakeholderCategory.INTERNATIONAL_ORGANISATION: _("International organisations"),
    }


def _first_drafts(recommendation_ids: list[int]) -> dict[int, str]:
    """Clause id -> the wording frozen by the first vote that touched it."""
    found: dict[int, str] = {}
    rows = db.session.execute(
        select(Vote.clause_id, VoteOption.wording)
        .join(VoteOption, VoteOption.vote_id == Vote.id)
        .where(Vote.recommendation_id.in_(recommendation_ids), Vote.clause_id.is_not(None),
               VoteOption.position == 0, VoteOption.kind.in_([OptionKind.YES, OptionKind.WORDING]))
        .order_by(Vote.opened_at, Vote.id))
    for clause_id, wording in rows:
        found.setdefault(clause_id, wording)
    return found


def _clause_block(clause: Clause, number: str, first_drafts: dict[int, str]) -> ClauseBlock:
    first = first_drafts.get(clause.id)
    changes = word_diff(first, clause.text) if first is not None and first != clause.text else []
    operative = clause.kind is ClauseKind.OPERATIVE
    # A preambular paragraph's opening participle in italics (``typography.mark_opening``):
    # in its HTML, which every format renders; its Markdown stays as the drafter wrote it.
    text = (Text.of(clause.text) if operative
            else Text(clause.text, str(render_markdown(mark_opening(clause.text)))))
    return ClauseBlock(clause.id, clause.kind.value, number if operative else "",
                       text, first, changes, clause.ad_referendum)


def _where_in(recommendation: str, clause: Clause | None) -> str:
    """A clause as the printed document can name it: preambular clauses carry no printed
    number, so they are counted as "preambular paragraph n", operative ones as "operative
    paragraph n" (the usual way resolutions are cited)."""
    if clause is None:
        return recommendation
    shown = clause.recommendation.display_numbers().get(clause.id)
    if shown is None:
        return _("%(recommendation)s, a clause since removed", recommendation=recommendation)
    return _("%(recommendation)s, %(paragraph)s", recommendation=recommendation,
             paragraph=paragraph_name(clause.kind.value, shown))


def _vote_subject(vote: Vote, numbers: dict[int, str]) -> str:
    """What was decided, named as the document names it: "Recommendation 1.2, operative
    paragraph 3", "… amendment 4", "Recommendation 1.2 as a whole", "Motion to reconsider …"."""
    where = numbers.get(vote.recommendation_id)
    recommendation = (_("Recommendation %(number)s", number=where) if where
                      else vote.recommendation.title)
    place = _where_in(recommendation, vote.clause)
    if vote.subject is VoteSubject.RECOMMENDATION:
        matter = _("%(recommendation)s as a whole", recommendation=recommendation)
    elif vote.subject is VoteSubject.AMENDMENT:
        matter = _("%(place)s: amendment %(id)s", place=place, id=vote.amendment_id)
    elif vote.subject is VoteSubject.WORDINGS:
        matter = _("%(place)s: choice of wordings", place=place)
    elif vote.subject is VoteSubject.RECONSIDER:
        matter = _("Motion to reconsider the decision on %(place)s", place=place)
    else:
        matter = place
    return _("%(matter)s (run-off)", matter=matter) if vote.runoff_of_id else matter


def compile_outline(conference: Conference, group: WorkingGroup | None = None) -> Outline:
    """The outcome document of the conference (or one group's section of it) as it stands."""
    groups = [g for g in conference.groups if group is None or g.id == group.id]
    group_ids = [g.id for g in groups]
    recommendations = list(db.session.scalars(
        select(Recommendation).where(Recommendation.group_id.in_(group_ids))
        .options(selectinload(Recommendation.clauses)).order_by(Recommendation.id)))
    first_drafts = _first_drafts([r.id for r in recommendations])
    group_names = {g.id: g.name for g in groups}
    votes = list(db.session.scalars(
        select(Vote).join(Recommendation).where(Recommendation.group_id.in_(group_ids))
        .options(selectinload(Vote.options), selectinload(Vote.clause),
                 selectinload(Vote.drawn_delegation), selectinload(Vote.drawn_participant))
        .order_by(Vote.opened_at, Vote.id)))
    # Annex A in the order decisions were taken.
    closed = sorted((v for v in votes if v.status is VoteStatus.CLOSED),
                    key=lambda v: (v.closed_at or v.opened_at, v.id))
    ballots = _roll_calls([v.id for v in closed if not v.secret])
    # Where people vote, each voter's delegation, for all of the conference's roll calls at once.
    seats = delegations_of(conference.id, [b.voter_id for found in ballots.values() for b in found])
    numbers: dict[int, str] = {}
    sections: list[GroupSection] = []
    pending: list[Pending] = []
    for section_number, each in enumerate(groups, start=1):
        blocks = []
        adopted = [r for r in recommendations if r.group_id == each.id
                   and r.status is RecommendationStatus.ADOPTED]
        for index, recommendation in enumerate(adopted, start=1):
            number = f"{section_number}.{index}"
            numbers[recommendation.id] = number
            clause_numbers = recommendation.display_numbers()
            live = recommendation.live_clauses
            blocks.append(RecommendationBlock(
                recommendation.id, number, recommendation.title,
                [_clause_block(c, clause_numbers[c.id], first_drafts) for c in live
                 if c.kind is ClauseKind.PREAMBULAR],
                [_clause_block(c, clause_numbers[c.id], first_drafts) for c in live
                 if c.kind is ClauseKind.OPERATIVE]))
        pending += [Pending("recommendation", r.id, each.name, r.title) for r in recommendations
                    if r.group_id == each.id and r.status is RecommendationStatus.DRAFTING]
        not_adopted = [_not_adopted(r, closed, ballots) for r in recommendations
                       if r.group_id == each.id and r.status is RecommendationStatus.REJECTED]
        sections.append(GroupSection(each.id, section_number, each.name, Text.of(each.mandate),
                                     blocks, not_adopted))
    pending += [Pending("vote", v.id, group_names[v.recommendation.group_id], v.question)
                for v in votes if v.status is VoteStatus.OPEN]
    return Outline(
        conference_id=conference.id, title=conference.title, venue=conference.venue,
        starts_on=conference.starts_on, ends_on=conference.ends_on,
        organisers=conference.organiser_list, preamble=Text.of(conference.preamble),
        group_id=group.id if group else None, draft=True, pending=pending,
        sections=sections,
        votes=[_vote_entry(v, decision_number(index), numbers, group_names, ballots.get(v.id, []),
                           seats) for index, v in enumerate(closed, start=1)],
        statements=_statements(recommendations, numbers),
        participants=_participants(conference, group_ids, group_names, whole=group is None),
        adoption=_adoption(conference) if group is None else None,
        chairs_summary=Text.of(conference.chairs_summary if group is None else ""),
        identification=_identification(conference),
    )


def _identification(conference: Conference) -> Identification:
    distribution = conference.distribution.value
    return Identification(
        symbol=full_symbol(conference.document_symbol, conference.symbol_suffix),
        distribution=distribution, distribution_label=distribution_label(distribution),
        original_language=conference.original_language,
        original_label=original_label(conference.original_language),
        dates=date_range(conference.starts_on, conference.ends_on), place=conference.venue,
        body_name=body_name(conference.body_name, conference.title))


def _not_adopted(recommendation: Recommendation, closed: list[Vote],
                 ballots: dict[int, list[Ballot]]) -> NotAdoptedBlock:
    """A rejected recommendation and the vote on it as a whole that decided so (its last)."""
    deciding = [v for v in closed if v.recommendation_id == recommendation.id
                and v.subject is VoteSubject.RECOMMENDATION
                and v.outcome in (VoteOutcome.REJECTED, VoteOutcome.NO_CONSENSUS)]
    if not deciding:
        return NotAdoptedBlock(recommendation.id, recommendation.title, "rejected", None,
                               not_adopted_how("rejected", None))
    vote = deciding[-1]
    outcome = vote.outcome.value if vote.outcome else "rejected"
    found = None
    if outcome == "rejected":
        tally = dict(zip((o.kind for o in vote.options), counts(vote, ballots.get(vote.id)),
                         strict=True))
        found = (tally.get(OptionKind.YES, 0), tally.get(OptionKind.NO, 0),
                 tally.get(OptionKind.ABSTAIN, 0))
    return NotAdoptedBlock(recommendation.id, recommendation.title, outcome, found,
                           not_adopted_how(outcome, found))


def _adoption(conference: Conference) -> AdoptionBlock | None:
    adoption = conference.plenary_adoption
    if adoption is None:
        return None
    counts = None if adoption.votes_yes is None else (
        adoption.votes_yes, adoption.votes_no or 0, adoption.votes_abstain or 0)
    return AdoptionBlock(
        adoption.adopted_on, adoption.place, adoption.meeting, adoption.method.value, counts,
        adoption_line(adoption.meeting, adoption.place, adoption.adopted_on),
        adoption_how(adoption.method.value, adoption.votes_yes, adoption.votes_no,
                     adoption.votes_abstain))


def _published_name(participant: Participant) -> str:
    """A name as the document may print it: those who opted out of publication are not
    named anywhere in it (annex C leaves them out; a roll call or a statement says this)."""
    return participant.name if participant.publish_name else _("(name withheld at the participant's request)")


def _roll_calls(vote_ids: list[int]) -> dict[int, list[Ballot]]:
    """The ballots of these (roll-call) votes with their voters and delegations, in one
    query (put in the roll call's order by ``votes.tally.roll_call``)."""
    found: dict[int, list[Ballot]] = {vote_id: [] for vote_id in vote_ids}
    if vote_ids:
        for ballot in db.session.scalars(
                select(Ballot).where(Ballot.vote_id.in_(vote_ids))
                .options(selectinload(Ballot.voter), selectinload(Ballot.delegation))
                .order_by(Ballot.vote_id, Ballot.id)):
            found[ballot.vote_id].append(ballot)
    return found


def _decision(vote: Vote, tally: list[int], called: list[tuple[str, str, str]]) -> str:
    """The vote's decision in one line (``labels.decision_line``), from its counts by kind of
    option, and for a consensus sought openly the objectors' names."""
    by_kind: dict[OptionKind, int] = {}
    for option, n in zip(vote.options, tally, strict=True):
        by_kind[option.kind] = by_kind.get(option.kind, 0) + n
    labels = {o.position: o.label for o in vote.options}
    objection = next((o.label for o in vote.options if o.kind is OptionKind.NO), None)
    record = json.loads(vote.record or "{}")
    runoff = record.get("runoff") or []
    return decision_line(
        method=vote.method.value, outcome=vote.outcome.value if vote.outcome else "",
        secret=vote.secret, yes=by_kind.get(OptionKind.YES, 0), no=by_kind.get(OptionKind.NO, 0),
        abstain=by_kind.get(OptionKind.ABSTAIN, 0),
        objectors=[roll_call_name(name, delegation, vote.voting_unit)
                   for name, choice, delegation in called if choice == objection],
        # A consensus's turnout in its record: how many it reached (the row counts objections).
        objections=by_kind.get(OptionKind.NO, 0), present=record.get("turnout", vote.turnout),
        wordings=[(o.label, n) for o, n in zip(vote.options, tally, strict=True)
                  if o.kind is OptionKind.WORDING],
        winner=labels.get(vote.winner_position, "") if vote.winner_position is not None else "",
        runoff=[labels.get(position, "") for position in runoff])


def _vote_entry(vote: Vote, number: str, numbers: dict[int, str], group_names: dict[int, str],
                ballots: list[Ballot], seats: dict[int, Delegation]) -> VoteEntry:
    """A closed vote as annex A prints it: counts from a secret vote's counters or from the
    roll call's ballots, loaded with every other vote's."""
    tally = counts(vote, ballots)
    labels = {o.id: o.label for o in vote.options}
    # A consensus sought has no ballots: its one count is the objections, its roll call the
    # objectors.
    consensus = vote.by_consensus
    drawn = vote.drawn_delegation if vote.by_delegation else vote.drawn_participant
    called = [] if vote.secret else [
        (_published_name(b.voter), labels.get(b.option_id or 0, ""),
         _delegation_name(b.delegation if vote.by_delegation else seats.get(b.voter_id)))
        for b in roll_call(vote, ballots)]
    return VoteEntry(
        id=vote.id, group=group_names[vote.recommendation.group_id],
        subject=_vote_subject(vote, numbers), question=vote.question, rule=vote.rule.value,
        quorum=vote.quorum, eligible=vote.eligible_count, turnout=vote.turnout,
        secret=vote.secret, counts=[(o.label, n) for o, n in zip(vote.options, tally, strict=True)
                                    if not consensus or o.kind is OptionKind.NO],
        outcome=vote.outcome.value if vote.outcome else "",
        closed_at=vote.closed_at.isoformat() if vote.closed_at else "",
        record_sha256=vote.record_sha256 or "",
        roll_call=None if vote.secret else called,
        voting_unit=vote.voting_unit.value,
        roll_call_from="" if vote.secret or drawn is None else (
            drawn.name if isinstance(drawn, Delegation) else _published_name(drawn)),
        number=number, method=vote.method.value, decision=_decision(vote, tally, called),
        present=json.loads(vote.record or "{}").get("turnout") if consensus else None,
    )


def _delegation_name(delegation: Delegation | None) -> str:
    return delegation.name if delegation else ""


def _statements(recommendations: list[Recommendation], numbers: dict[int, str]) -> list[StatementEntry]:
    adopted = [r for r in recommendations if r.id in numbers]
    found = list(db.session.scalars(
        select(Statement).where(Statement.recommendation_id.in_([r.id for r in adopted]))
        .options(selectinload(Statement.delegation)).order_by(Statement.recommendation_id, Statement.id)))
    entries = []
    for statement in found:
        on = _where_in(_("Recommendation %(number)s", number=numbers[statement.recommendation_id]),
                       statement.clause)
        author = statement.author
        entries.append(StatementEntry(statement.id, statement.kind.value, on,
                                      _published_name(author) if author else "",
                                      author.affiliation if author else "", Text.of(statement.text),
                                      _delegation_name(statement.delegation)))
    return entries


def listed_name(name: str, surname: str) -> str:
    """A name as lists of participants print it: surname first, in capitals, then the given
    names ("SOKOLOVA, Elena"; «СОКОЛОВА, Елена»)."""
    words, family = name.split(), surname.split()
    if not family:
        return " ".join(words)
    if words[-len(family):] == family:
        given = words[:-len(family)]
    elif words[:len(family)] == family:  # written surname first already
        given = words[len(family):]
    else:
        given = words
    family_text = " ".join(family).upper()
    return f"{family_text}, {' '.join(given)}" if given else family_text


def _participants(conference: Conference, group_ids: list[int], group_names: dict[int, str],
                  whole: bool) -> list[CategoryList]:
    """Annex C: everyone registered for the conference (its groups' members, its delegations'
    members and, for the whole document, the secretariat), grouped by delegation where they
    sit in one, else by stakeholder category, the secretariat last; surname first and by
    surname within each group, in the alphabetical order of the document's language. A
    group's own export lists its members only. Those who opted out of publication are left
    out; an international organisation's staff have no country (their organisation is their
    affiliation, or their delegation's heading)."""
    language = str(get_locale() or "en").split("_")[0]
    people: dict[int, Participant] = {}
    groups: dict[int, list[str]] = {}
    for person, group_id in db.session.execute(
            select(Participant, Membership.group_id).join(Membership)
            .where(Membership.group_id.in_(group_ids), Participant.publish_name.is_(True))
            ).tuples():
        people[person.id] = person
        groups.setdefault(person.id, []).append(group_names[group_id])
    seats: dict[int, Delegation] = {}
    if whole:
        for person, delegation in db.session.execute(
                select(Participant, Delegation).join(Seat, Seat.participant_id == Participant.id)
                .join(Delegation, Delegation.id == Seat.delegation_id)
                .where(Seat.conference_id == conference.id, Participant.publish_name.is_(True))
                ).tuples():
            people[person.id] = person
            seats[person.id] = delegation
        for person in db.session.scalars(select(Participant).where(
                Participant.is_secretariat.is_(True), Participant.is_active_account.is_(True),
                Participant.publish_name.is_(True))):
            people.setdefault(person.id, person)
    else:
        seats = delegations_of(conference.id, people)

    def entry(person: Participant) -> ParticipantEntry:
        delegation = seats.get(person.id)
        organisation = (person.category is StakeholderCategory.INTERNATIONAL_ORGANISATION
                        or (delegation is not None and delegation.kind is not DelegationKind.STATE))
        return ParticipantEntry(listed_name(person.name, person.surname), person.affiliation,
                                "" if organisation else person.country,
                                sorted(groups.get(person.id, []), key=lambda g: name_key(g, language)))

    def listed(members: list[Participant]) -> list[ParticipantEntry]:
        members.sort(key=lambda p: (name_key(p.surname, language), name_key(p.name, language),
                                    sort_key(p.name), p.id))
        return [entry(p) for p in members]

    by_delegation: dict[int, list[Participant]] = {}
    by_category: dict[StakeholderCategory, list[Participant]] = {}
    secretariat: list[Participant] = []
    for person in people.values():
        if person.id in seats and whole:
            by_delegation.setdefault(seats[person.id].id, []).append(person)
        elif person.is_secretariat and person.id not in groups:
            secretariat.append(person)
        else:
            by_category.setdefault(person.category, []).append(person)
    delegations = sorted({d.id: d for d in seats.values()}.values(),
                         key=lambda d: (name_key(d.sort_key or d.name, language), d.id))
    labels = _category_labels()
    lists = [CategoryList("delegation", d.name, listed(by_delegation[d.id]))
             for d in delegations if d.id in by_delegation]
    lists += [CategoryList(category.value, labels[category], listed(by_category[category]))
              for category in StakeholderCategory if category in by_category]
    if secretariat:
        lists.append(CategoryList("secretariat", _("Secretariat"), listed(secretariat)))
    return lists
