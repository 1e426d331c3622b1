"""Conferences: who sees them, and the secretariat's setting up of them."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from babel import Locale, UnknownLocaleError
from flask_babel import gettext as _
from sqlalchemy import select

from drafting.conferences.schemas import RulesIn
from drafting.errors import NotFound, PermissionDenied, ValidationFailed
from drafting.services import check_conference_open, clean_text, load, validate_all
from models import Conference, Distribution, Membership, Participant, WorkingGroup, db

#: A document symbol as the UN and the OSCE write them ("CONF.MIGR/1/09", "A/CONF.231/L.1",
#: "MC(17).JOUR/1"): letters, digits and . / ( ) -, no spaces.
SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9./()-]*")
#: The suffix of a later issue: revisions, addenda, corrigenda ("Rev.1", "Add.1/Rev.2").
SUFFIX = re.compile(r"(?:Rev|Add|Corr)\.[1-9][0-9]{0,2}(?:/(?:Rev|Add|Corr)\.[1-9][0-9]{0,2})*")


def list_conferences(viewer: Participant) -> list[Conference]:
    query = select(Conference).order_by(Conference.starts_on.desc(), Conference.id)
    if not viewer.is_secretariat:
        mine = (
            select(WorkingGroup.conference_id)
            .join(Membership)
            .where(Membership.participant_id == viewer.id)
        )
        query = query.where(Conference.id.in_(mine))
    return list(db.session.scalars(query))


def get_conference(conference_id: Any, viewer: Participant) -> Conference:
    conference = load(Conference, conference_id)
    if not conference.can_view(viewer):
        # Not 403: whether a conference exists is not the business of outsiders.
        raise NotFound(_("Not found."))
    return conference


def check_can_manage(conference: Conference | None, actor: Participant) -> None:
    """The secretariat sets up conferences; a closed one (finalised) no longer changes."""
    allowed = actor.is_secretariat if conference is None else conference.can_manage(actor)
    if not allowed:
        raise PermissionDenied(_("Only the secretariat can set up conferences."))
    if conference is not None:
        check_conference_open(conference)


def _clean_date(value: Any, field: str, label: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationFailed(_("%(label)s must be a date (YYYY-MM-DD).", label=label),
                           fields={field: _("A date such as 2009-06-24.")})


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    values = validate_all(
        title=lambda: clean_text(data.get("title"), "title", _("Title"), max_length=300),
        venue=lambda: clean_text(data.get("venue"), "venue", _("Venue"), max_length=300,
                                 required=False),
        starts_on=lambda: _clean_date(data.get("starts_on"), "starts_on", _("Start date")),
        ends_on=lambda: _clean_date(data.get("ends_on"), "ends_on", _("End date")),
        organisers=lambda: clean_text(data.get("organisers"), "organisers", _("Organisers"),
                                      max_length=2000, required=False),
        description=lambda: clean_text(data.get("description"), "description",
                                       _("Description"), max_length=20000, required=False),
        preamble=lambda: clean_text(data.get("preamble"), "preamble", _("Preamble"),
                                    max_length=50000, required=False),
    )
    values |= _clean_identification(data)
    if values["ends_on"] < values["starts_on"]:
        raise ValidationFailed(_("The conference cannot end before it starts."),
                               fields={"ends_on": _("On or after the start date.")})
    return values


def _clean_identification(data: dict[str, Any]) -> dict[str, Any]:
    """The outcome document's identification and the body's name; each optional, each with
    its default when not given."""
    return validate_all(
        document_symbol=lambda: _clean_symbol(data.get("document_symbol")),
        symbol_suffix=lambda: _clean_suffix(data.get("symbol_suffix")),
        original_language=lambda: _clean_language(data.get("original_language")),
        distribution=lambda: _clean_distribution(data.get("distribution")),
        body_name=lambda: " ".join(clean_text(
            data.get("body_name"), "body_name", _("Name of the body"), max_length=500,
            required=False).split()),
    )


def _clean_symbol(value: Any) -> str:
    symbol = clean_text(value, "document_symbol", _("Document symbol"), max_length=100,
                        required=False)
    if symbol and not SYMBOL.fullmatch(symbol):
        raise ValidationFailed(_("A document symbol is letters, digits and . / ( ) -, without "
                                 "spaces, such as CONF.MIGR/1/09."),
                               fields={"document_symbol": _("Such as CONF.MIGR/1/09.")})
    return symbol


def _clean_suffix(value: Any) -> str:
    suffix = clean_text(value, "symbol_suffix", _("Issue"), max_length=60, required=False)
    if suffix and not SUFFIX.fullmatch(suffix):
        raise ValidationFailed(_("The issue is empty for the original, or a revision, addendum "
                                 "or corrigendum such as Rev.1, Add.1 or Corr.1."),
                               fields={"symbol_suffix": _("Empty, or such as Rev.1.")})
    return suffix


def _clean_language(value: Any) -> str:
    code = clean_text(value if value is not None else "en", "original_language",
                      _("Original language"), max_length=16, required=False) or "en"
    try:
        known = "_" not in code and "-" not in code and Locale.parse(code).language == code
    except (UnknownLocaleError, ValueError):
        known = False
    if not known:
        raise ValidationFailed(_("The original language is a language code such as en, ru or "
                                 "fr."), fields={"original_language": _("Such as en or ru.")})
    return code


def _clean_distribution(value: Any) -> Distribution:
    if value is None or value == "":
        return Distribution.GENERAL
    try:
        return Distribution(value)
    except ValueError:
        raise ValidationFailed(_("The distribution is general or limited."),
                               fields={"distribution": _("General or limited.")}) from None


def create_conference(actor: Participant, data: dict[str, Any]) -> Conference:
    check_can_manage(None, actor)
    conference = Conference(**_clean(data))
    db.session.add(conference)
    db.session.flush()
    return conference


def set_rules(actor: Participant, conference: Conference, command: RulesIn) -> None:
    """The conference's rules of procedure (secretariat). A question already put keeps the
    rule and quorum it was put under."""
    check_can_manage(conference, actor)
    conference.decision_rule = command.decision_rule
    conference.fallback_rule = command.fallback_rule
    conference.quorum_rule = command.quorum
    conference.chair_votes = command.chair_votes
    conference.reconsideration_rule = command.reconsideration_rule
    db.session.flush()


def update_conference(actor: Participant, conference: Conference, data: dict[str, Any]) -> None:
    # Its row locked first, for the update: a share lock (``check_conference_open``) held
    # by two editors at once, each then waiting to update, would deadlock.
    db.session.refresh(conference, with_for_update=True)
    check_can_manage(conference, actor)
    for name, value in _clean(data).items():
        setattr(conference, name, value)
    db.session.flush()
