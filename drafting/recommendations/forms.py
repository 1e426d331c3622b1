from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice

KIND_CHOICES = [
    SelectChoice("operative", _l("Operative")),
    SelectChoice("preambular", _l("Preambular")),
]


class RecommendationForm(FlaskForm):
    title = StringField(_l("Title"))


class ClauseForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    text = TextAreaField(_l("Text (Markdown)"), render_kw={"rows": 5})
    after_id = HiddenField()


class ClauseTextForm(FlaskForm):
    text = TextAreaField(_l("Text (Markdown)"), render_kw={"rows": 8})
