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



class GroupForm(FlaskForm):
    name = StringField(_l("Group name"))
    mandate = TextAreaField(_l("Mandate (Markdown)"), render_kw={"rows": 8})
    observers_may_comment = BooleanField(_l("Observers may comment"), default=True)


class AddMemberForm(FlaskForm):
    participant_id = SelectField(_l("Participant"), validate_choice=False)
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
