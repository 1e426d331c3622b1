"""The discussion panel's amendment forms. They only carry what was typed (and the CSRF
token): what a wording, rationale or reason may be is the services' business."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields import SelectChoice

from drafting.comments.forms import PanelForm, unix_newlines

KIND_CHOICES = [
    SelectChoice("replace", _l("A new wording of this clause")),
    SelectChoice("insert", _l("A new clause after this one")),
    SelectChoice("delete", _l("Delete this clause")),
]


class AmendmentForm(PanelForm):
    # validate_choice=False: an unknown kind is refused by the service, with its message.
    kind = RadioField(_l("The amendment proposes"), choices=KIND_CHOICES, default="replace",
                      validate_choice=False)
    text = TextAreaField(_l("Proposed wording"), render_kw={"rows": 5},
                         filters=[unix_newlines])
    #: The clause's text the wording was prefilled with: what the proposal was written against.
    base_text = HiddenField(filters=[unix_newlines])
    rationale = TextAreaField(_l("Rationale"), render_kw={"rows": 3},
                              filters=[unix_newlines])


class AmendmentEditForm(PanelForm):
    text = TextAreaField(_l("Proposed wording"), render_kw={"rows": 6},
                         filters=[unix_newlines])
    base_text = HiddenField(filters=[unix_newlines])
    rationale = TextAreaField(_l("Rationale"), render_kw={"rows": 4},
                              filters=[unix_newlines])


class RejectForm(PanelForm):
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2}, filters=[unix_newlines])
