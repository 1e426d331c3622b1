"""The discussion panel's amendment forms. They carry what was typed (and the CSRF token)
into their commands (drafting/amendments/schemas.py): what a wording, rationale or reason
may be is the commands' business, and the services'."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields import SelectChoice

from drafting.amendments.schemas import AmendmentCreate, AmendmentPatch, AmendmentRejection
from drafting.comments.forms import PanelForm, unix_newlines
from drafting.forms import command_from

KIND_CHOICES = [
    SelectChoice("replace", _l("A new wording of this clause")),
    SelectChoice("insert", _l("A new clause after this one")),
    SelectChoice("delete", _l("Delete this clause")),
]


class AmendmentForm(PanelForm):
    # validate_choice=False: an unknown kind is refused by the command, with its message.
    kind = RadioField(_l("The amendment proposes"), choices=KIND_CHOICES, default="replace",
                      validate_choice=False)
    text = TextAreaField(_l("Proposed wording"), render_kw={"rows": 5},
                         filters=[unix_newlines])
    #: The clause's text the wording was prefilled with: what the proposal was written against.
    base_text = HiddenField(filters=[unix_newlines])
    rationale = TextAreaField(_l("Rationale"), render_kw={"rows": 3},
                              filters=[unix_newlines])

    def command(self) -> AmendmentCreate:
        return command_from(AmendmentCreate, {
            "kind": self.kind.data, "text": self.text.data or "",
            "base_text": self.base_text.data, "rationale": self.rationale.data or ""},
            refusals={"kind": (_l("Choose a new wording, a new clause after this one, or deletion."),
                               _l("Choose replace, insert or delete."))})


class AmendmentEditForm(PanelForm):
    text = TextAreaField(_l("Proposed wording"), render_kw={"rows": 6},
                         filters=[unix_newlines])
    base_text = HiddenField(filters=[unix_newlines])
    rationale = TextAreaField(_l("Rationale"), render_kw={"rows": 4},
                              filters=[unix_newlines])

    def command(self, *, wording: bool) -> AmendmentPatch:
        """``wording``: the amendment has one to change (a deletion has none)."""
        values = {"rationale": self.rationale.data}
        if wording:
            values |= {"text": self.text.data, "base_text": self.base_text.data}
        return command_from(AmendmentPatch, values)


class RejectForm(PanelForm):
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2}, filters=[unix_newlines])

    def command(self) -> AmendmentRejection:
        return command_from(AmendmentRejection, {"reason": self.reason.data or ""})
