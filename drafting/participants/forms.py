from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.fields import SelectChoice

CATEGORY_CHOICES = [
    SelectChoice("parliamentarian", _l("Parliamentarian")),
    SelectChoice("government_official", _l("Government official")),
    SelectChoice("ngo_representative", _l("NGO representative")),
    SelectChoice("international_expert", _l("International expert")),
    SelectChoice("international_organisation", _l("International organisation")),
]


class ParticipantForm(FlaskForm):
    email = EmailField(_l("Email"))
    name = StringField(_l("Full name"))
    family_name = StringField(_l("Family name"))
    affiliation = StringField(_l("Affiliation"))
    country = StringField(_l("Country or organisation represented"))
    category = SelectField(_l("Stakeholder category"), choices=CATEGORY_CHOICES)
    is_secretariat = BooleanField(_l("Member of the secretariat"))

    FIELDS = ("email", "name", "family_name", "affiliation", "country", "category",
              "is_secretariat")
