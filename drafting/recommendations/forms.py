"""The recommendation pages' forms. Each turns what a browser posts into its command
(drafting/recommendations/schemas.py), which holds the rules of its fields."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice

from drafting.forms import as_id, command_from
from drafting.recommendations.schemas import ClauseCreate, ClausePatch, RecommendationWrite

KIND_CHOICES = [
    SelectChoice("operative", _l("Operative")),
    SelectChoice("preambular", _l("Preambular")),
]


class RecommendationForm(FlaskForm):
    title = StringField(_l("Title"))

    def command(self) -> RecommendationWrite:
        return command_from(RecommendationWrite, {"title": self.title.data or ""})


class ClauseForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    text = TextAreaField(_l("Text (Markdown)"), render_kw={"rows": 5})
    after_id = HiddenField()

    def command(self) -> ClauseCreate:
        values = {"kind": self.kind.data, "text": self.text.data or ""}
        if self.after_id.data:
            # Not a number: names no clause ("not found"), rather than "at the end".
            values["after_id"] = as_id(self.after_id.data) or -1
        return command_from(ClauseCreate, values)


class ClauseTextForm(FlaskForm):
    text = TextAreaField(_l("Text (Markdown)"), render_kw={"rows": 8})

    def command(self) -> ClausePatch:
        return command_from(ClausePatch, {"text": self.text.data})
