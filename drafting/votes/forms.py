"""The vote forms of the pages (they work without scripts).

Fields are plain strings. Each form turns what a browser posts ("12", "y", "") into its
command (drafting/votes/schemas.py), which refuses what is wrong field by field; what a
person typed that does not fit is refused in the words below, beside its field.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from drafting.forms import as_id, command_from
from drafting.votes.schemas import BallotIn, ObjectionIn, StatementIn, VoteOpen


def as_number(value: Any) -> int | str | None:
    """A posted number as an int; empty as None; anything else as it was typed, so that the
    command refuses it beside its field ("From 1 to 100.") rather than reading it as none."""
    text = (value or "").strip() if isinstance(value, str) else value
    if text in (None, ""):
        return None
    number = as_id(text)
    return number if number is not None else str(text)


class OpenVoteForm(FlaskForm):
    """The chair puts a question: a clause's wording, a choice of wordings, an amendment
    alone, the recommendation as a whole, a motion to reconsider, or a run-off of an earlier
    vote; for consensus, by a silence procedure or to a vote, as the rules of procedure
    allow."""

    subject = HiddenField(_l("What is voted"))
    clause_id = HiddenField()
    amendment_id = StringField(_l("Amendment"))
    runoff_of = HiddenField()
    #: "consensus", "silence" or "ballot".
    method = StringField(_l("How the question is decided"))
    #: "secret" or "roll_call": one choice, as a pair of radio buttons.
    ballot = StringField(_l("Ballot"))
    show_tally = BooleanField(_l("Show the running tally"))
    deadline_minutes = StringField(_l("Deadline (minutes)"))
    question = TextAreaField(_l("Question"))

    def command(self) -> VoteOpen:
        data: dict[str, Any] = {
            "subject": self.subject.data or None,
            "method": self.method.data or None,
            # 0 on the page: no deadline.
            "secret": self.ballot.data == "secret",
            "show_tally": bool(self.show_tally.data),
            "deadline_minutes": as_number(self.deadline_minutes.data) or None,
            "question": self.question.data or None,
        }
        # An id that is not a number names nothing: -1 is refused like a stranger's id.
        if self.clause_id.data:
            data["clause_id"] = as_id(self.clause_id.data) or -1
        if self.amendment_id.data:
            data["amendment_id"] = as_id(self.amendment_id.data) or -1
        if self.runoff_of.data:
            data["runoff_of"] = as_id(self.runoff_of.data) or -1
        return command_from(VoteOpen, data, refusals={
            "subject": (_l("Choose what to vote on."),
                        _l("Choose clause, wordings, amendment or recommendation.")),
            "method": (_l("Choose how the question is decided."),
                       _l("Choose consensus, a silence procedure or a vote.")),
            "deadline_minutes": (_l("The deadline is a number of minutes, at most three days."),
                                 _l("From 1 minute to three days.")),
        })


class BallotForm(FlaskForm):
    option_id = StringField(_l("Your vote"))
    reason = TextAreaField(_l("Reason for the objection"))
    receipt = StringField(_l("Receipt"))

    def command(self) -> BallotIn:
        return command_from(BallotIn, {"option_id": as_id(self.option_id.data) or -1,
                                       "reason": self.reason.data or "",
                                       "receipt": (self.receipt.data or "").strip() or None})


class ObjectionForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the objection (optional)"))

    def command(self) -> ObjectionIn:
        return command_from(ObjectionIn, {"reason": self.reason.data or None})


class StatementForm(FlaskForm):
    kind = StringField(_l("Kind of statement"))
    clause_id = StringField(_l("On"))
    text = TextAreaField(_l("Statement (Markdown)"))

    def command(self) -> StatementIn:
        data: dict[str, Any] = {"kind": self.kind.data or "", "text": self.text.data or ""}
        if self.clause_id.data:
            data["clause_id"] = as_id(self.clause_id.data) or -1
        return command_from(StatementIn, data, refusals={
            "kind": (_l("Choose an interpretative statement or a reservation."),
                     _l("Choose interpretative or reservation."))})
