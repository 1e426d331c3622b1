"""The closing plenary's forms on the conference's export page (they work without scripts):
the plenary's adoption of the outcome document, and the Chair's summary. Each turns what a
browser posts into the API's command (drafting/export/schemas.py)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields import SelectChoice

from drafting.export.schemas import ChairsSummaryIn, PlenaryAdoptionIn
from drafting.forms import command_from
from drafting.votes.forms import as_number


class PlenaryAdoptionForm(FlaskForm):
    adopted_on = StringField(_l("Date of the meeting"), render_kw={"type": "date"})
    place = StringField(_l("Place"), description=_l("As printed in the adoption line; empty: "
                                                    "the conference's venue."))
    meeting = StringField(_l("Meeting"), description=_l("As printed after “Adopted at”, such as "
                                                        "“the 3rd plenary meeting”; empty: the "
                                                        "closing plenary meeting."))
    method = RadioField(_l("Adopted"), choices=[
        SelectChoice("consensus", _l("By consensus: nobody objected")),
        SelectChoice("vote", _l("By a vote (two thirds of those present and voting)"))],
                        default="consensus")
    votes_yes = StringField(_l("In favour"), render_kw={"inputmode": "numeric"})
    votes_no = StringField(_l("Against"), render_kw={"inputmode": "numeric"})
    votes_abstain = StringField(_l("Abstaining"), render_kw={"inputmode": "numeric"})

    def command(self) -> PlenaryAdoptionIn:
        data: dict[str, Any] = {
            "adopted_on": (self.adopted_on.data or "").strip(), "place": self.place.data or "",
            "meeting": self.meeting.data or "", "method": self.method.data or "consensus"}
        for name in ("votes_yes", "votes_no", "votes_abstain"):
            data[name] = as_number(getattr(self, name).data)
        note = (_l("A number of people, 0 or more."), _l("A whole number, 0 or more."))
        return command_from(PlenaryAdoptionIn, data, refusals={
            "adopted_on": (_l("Give the date of the meeting."), _l("A date such as 2009-06-25.")),
            "method": (_l("Choose by consensus or by a vote."), _l("Choose one.")),
            "votes_yes": note, "votes_no": note, "votes_abstain": note})


class ChairsSummaryForm(FlaskForm):
    text = TextAreaField(_l("Chair’s summary (Markdown)"), render_kw={"rows": 10},
                         description=_l("Issued under the Chair’s own responsibility, printed "
                                        "apart after the adopted text; empty: none."))

    def command(self) -> ChairsSummaryIn:
        return command_from(ChairsSummaryIn, {"text": self.text.data or ""})
