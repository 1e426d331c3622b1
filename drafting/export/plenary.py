"""The closing plenary: the secretariat records the plenary's adoption of the outcome document,
and writes the Chair's summary.

The plenary meets in the room; Plenary records its decision: the day (within the conference's
dates), the place (the venue unless said otherwise), the meeting (the closing plenary meeting
unless said otherwise) and how (by consensus, or by a vote with its counts), checked against
the plenary's rule (``drafting.conferences.plenary``). It is refused while anything is pending
that finalising refuses, and it records what was adopted (the hash of the adopted text):
finalising is refused until the plenary has adopted, and if the text changed since.

The Chair's summary is the conference chair's text under their own responsibility: what a
group could not agree, kept apart from what was adopted. The secretariat writes it on the
chair's behalf; both may change until the document is finalised.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from drafting.conferences.plenary import Counts, Refusal, plenary_decision, vote_rule
from drafting.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from drafting.export.schemas import ChairsSummaryIn, PlenaryAdoptionIn
from drafting.export.services import outline_of, pending_items
from drafting.services import check_conference_open
from drafting.typography import one_date
from drafting.votes.services import rule_name
from models import AdoptionMethod, Conference, Participant, PlenaryAdoption, VoteRule, db, utcnow


def check_can_record(actor: Participant, conference: Conference) -> None:
    """The secretariat records the plenary's decisions and the Chair's summary, until the
    outcome document is finalised."""
    if not conference.can_view(actor):
        raise NotFound(_("Not found."))
    if not actor.is_secretariat:
        raise PermissionDenied(_("Only the secretariat records the plenary's decisions and "
                                 "the Chair's summary."))
    check_conference_open(conference)


def _clean_day(conference: Conference, day: date) -> date:
    if not conference.starts_on <= day <= conference.ends_on:
        message = _("The plenary meets during the conference: between %(start)s and %(end)s.",
                    start=one_date(conference.starts_on),
                    end=one_date(conference.ends_on))
        raise ValidationFailed(message, fields={"adopted_on": message})
    return day


def _counts(command: PlenaryAdoptionIn) -> Counts | None:
    given = (command.votes_yes, command.votes_no, command.votes_abstain)
    if all(n is None for n in given):
        return None
    return Counts(*(n or 0 for n in given))


def _check_decision(conference: Conference, method: AdoptionMethod, counts: Counts | None) -> None:
    """The recorded decision adopts the document by the conference's rules of procedure, or
    is refused: what was typed does not fit (400), or the vote did not carry (409)."""
    rules = conference.rules
    decision = plenary_decision(method, counts, rules)
    if decision.adopted:
        return
    if decision.refusal is Refusal.COUNTS_WITH_CONSENSUS:
        message = _("Consensus counts nothing: leave the counts empty, or record a vote.")
        raise ValidationFailed(message, fields={"votes_yes": message})
    if decision.refusal in (Refusal.COUNTS_MISSING, Refusal.NEGATIVE):
        message = _("A vote is recorded with its counts: in favour, against and abstaining.")
        raise ValidationFailed(message, fields={"votes_yes": message})
    if decision.refusal is Refusal.NO_VOTING:
        message = _("Under the conference's rules of procedure decisions are taken by consensus "
                    "only: the plenary adopts the outcome document by consensus, not by a vote.")
        raise Conflict(message, fields={"method": message})
    assert counts is not None
    rule = vote_rule(rules)
    if rule is VoteRule.TWO_THIRDS:
        message = _("The vote does not carry: %(yes)s in favour is not two thirds of the "
                    "%(voting)s present and voting (abstentions do not count). The outcome "
                    "document is not adopted.", yes=counts.yes, voting=counts.yes + counts.no)
    else:
        message = _("The vote does not carry: %(yes)s in favour, %(no)s against and "
                    "%(abstain)s abstaining do not make %(rule)s. The outcome document is not "
                    "adopted.", yes=counts.yes, no=counts.no, abstain=counts.abstain,
                    rule=rule_name(rule) if rule else "")
    raise Conflict(message, fields={"votes_yes": message})


def record_plenary_adoption(actor: Participant, conference: Conference,
                            command: PlenaryAdoptionIn) -> PlenaryAdoption:
    """Record (or correct) the plenary's adoption of the outcome document as it stands now."""
    check_can_record(actor, conference)
    outline = outline_of(conference)
    if outline.pending:
        raise Conflict(_("The plenary cannot adopt the outcome document while anything is "
                         "pending: %(items)s.", items=pending_items(outline)))
    day = _clean_day(conference, command.adopted_on)
    place = command.place or conference.venue
    if not place:
        message = _("Say where the plenary met: the conference has no venue to default to.")
        raise ValidationFailed(message, fields={"place": message})
    method = AdoptionMethod(command.method)
    counts = _counts(command)
    _check_decision(conference, method, counts)
    adoption = conference.plenary_adoption or PlenaryAdoption(conference=conference)
    adoption.adopted_on, adoption.place, adoption.meeting = day, place, command.meeting
    adoption.method = method
    adoption.votes_yes, adoption.votes_no, adoption.votes_abstain = counts or (None, None, None)
    adoption.text_sha256 = outline.adopted_text_sha256()
    adoption.recorded_by_id, adoption.recorded_at = actor.id, utcnow()
    db.session.add(adoption)
    db.session.flush()
    return adoption


def withdraw_plenary_adoption(actor: Participant, conference: Conference) -> None:
    """Take back a record made in error (before the document is finalised)."""
    check_can_record(actor, conference)
    if conference.plenary_adoption is None:
        raise NotFound(_("The plenary's adoption has not been recorded."))
    conference.plenary_adoption = None  # deleted with it (delete-orphan)
    db.session.flush()


def update_chairs_summary(actor: Participant, conference: Conference,
                          command: ChairsSummaryIn) -> None:
    """Write the Chair's summary (empty: none)."""
    check_can_record(actor, conference)
    conference.chairs_summary = command.text
    db.session.flush()
