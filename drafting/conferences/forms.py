from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice

from drafting.conferences.schemas import RulesIn
from drafting.forms import command_from


class ConferenceForm(FlaskForm):
    title = StringField(_l("Title"))
    venue = StringField(_l("Venue"))
    starts_on = DateField(_l("First day"))
    ends_on = DateField(_l("Last day"))
    organisers = TextAreaField(_l("Organisers, one per line"), render_kw={"rows": 4})
    description = TextAreaField(_l("Description (Markdown)"), render_kw={"rows": 6})
    preamble = TextAreaField(_l("Preamble of the outcome document (Markdown)"),
                             render_kw={"rows": 8})
    body_name = StringField(_l("Name of the body, before each recommendation"))
    document_symbol = StringField(_l("Document symbol"))
    symbol_suffix = StringField(_l("Issue (revision, addendum, corrigendum)"))
    #: The UN's six official languages (and the app's two among them).
    original_language = SelectField(_l("Original language"), choices=[
        SelectChoice("en", _l("English")), SelectChoice("fr", _l("French")),
        SelectChoice("es", _l("Spanish")), SelectChoice("ru", _l("Russian")),
        SelectChoice("zh", _l("Chinese")), SelectChoice("ar", _l("Arabic"))], default="en")
    distribution = SelectField(_l("Distribution"), choices=[
        SelectChoice("general", _l("General")), SelectChoice("limited", _l("Limited"))],
        default="general")

    FIELDS = ("title", "venue", "starts_on", "ends_on", "organisers", "description", "preamble",
              "body_name", "document_symbol", "symbol_suffix", "original_language",
              "distribution")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A language the API set that the list does not offer stays choosable, by its code.
        current = getattr(kwargs.get("obj"), "original_language", None)
        offered = [choice.value for choice in self.original_language.choices]
        if current and current not in offered:
            self.original_language.choices = [
                *self.original_language.choices, SelectChoice(current, current)]


class RulesForm(FlaskForm):
    """The rules of procedure, as the secretariat sets them (plain strings from the page)."""

    decision_rule = StringField(_l("How the working groups decide"))
    fallback_rule = StringField(_l("A vote after a failed consensus"))
    quorum = StringField(_l("Quorum"))
    chair_votes = BooleanField(_l("The chair of a group votes with its members"))
    reconsideration_rule = StringField(_l("Reconsidering a decided text"))

    def command(self) -> RulesIn:
        return command_from(RulesIn, {
            "decision_rule": self.decision_rule.data or "",
            "fallback_rule": self.fallback_rule.data or None,
            "quorum": self.quorum.data or "", "chair_votes": bool(self.chair_votes.data),
            "reconsideration_rule": self.reconsideration_rule.data or ""}, refusals={
            "decision_rule": (_l("Choose how the groups decide."), _l("Choose a rule.")),
            "fallback_rule": (_l("Choose the majority of a vote after a failed consensus."),
                              _l("Choose a majority, or none.")),
            "quorum": (_l("Choose a quorum."), _l("Choose a quorum.")),
            "reconsideration_rule": (_l("Choose what carries a motion to reconsider."),
                                     _l("Choose a rule."))})
