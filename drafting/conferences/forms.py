from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField


class ConferenceForm(FlaskForm):
    title = StringField(_l("Title"))
    venue = StringField(_l("Venue"))
    starts_on = DateField(_l("First day"))
    ends_on = DateField(_l("Last day"))
    organisers = TextAreaField(_l("Organisers, one per line"), render_kw={"rows": 4})
    description = TextAreaField(_l("Description (Markdown)"), render_kw={"rows": 6})
    preamble = TextAreaField(_l("Preamble of the outcome document (Markdown)"),
                             render_kw={"rows": 8})

    FIELDS = ("title", "venue", "starts_on", "ends_on", "organisers", "description", "preamble")
