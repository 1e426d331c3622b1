from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice

ROLE_CHOICES = [
    SelectChoice("member", _l("Member")),
    SelectChoice("observer", _l("Observer")),
    SelectChoice("chair", _l("Chair")),
]


VOTE_RULE_CHOICES = [
    SelectChoice("consensus", _l("Consensus (adopted unless someone objects)")),
    SelectChoice("simple_majority", _l("Simple majority of the votes cast")),
    SelectChoice("two_thirds", _l("Two-thirds majority of the votes cast")),
    SelectChoice("absolute_majority", _l("Absolute majority of the eligible voters")),
]


class GroupForm(FlaskForm):
    name = StringField(_l("Group name"))
    mandate = TextAreaField(_l("Mandate (Markdown)"), render_kw={"rows": 8})
    observers_may_comment = BooleanField(_l("Observers may comment"), default=True)
    chair_votes = BooleanField(_l("The chair votes"), default=True)
    default_vote_rule = SelectField(_l("Default decision rule"), choices=VOTE_RULE_CHOICES,
                                    default="consensus")


class AddMemberForm(FlaskForm):
    participant_id = SelectField(_l("Participant"), validate_choice=False)
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
