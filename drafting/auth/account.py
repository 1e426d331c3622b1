"""A participant's own account: what they may change about themselves (not their email,
category or roles, which the secretariat sets: ``drafting.participants``)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _

from drafting.config import LANGUAGES
from drafting.errors import ValidationFailed
from drafting.services import clean_text, validate_all
from models import Participant


def clean_locale(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if value not in LANGUAGES:
        raise ValidationFailed(_("Unknown language."), fields={"locale": _("Unknown language.")})
    return str(value)


def identity_checks(data: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    """The checks of who a person says they are (name, family name, affiliation, country), for
    ``validate_all``: the same whether they change it themselves or the secretariat does."""
    return {
        "name": lambda: clean_text(data.get("name"), "name", _("Name"), max_length=200),
        "family_name": lambda: clean_text(data.get("family_name"), "family_name", _("Family name"),
                                          max_length=200, required=False),
        "affiliation": lambda: clean_text(data.get("affiliation"), "affiliation", _("Affiliation"),
                                          max_length=200, required=False),
        "country": lambda: clean_text(data.get("country"), "country", _("Country or organisation"),
                                      max_length=100, required=False),
    }


def update_profile(participant: Participant, data: dict[str, Any]) -> None:
    """What a participant may change about themselves (not their email, category or roles)."""
    values = validate_all(**identity_checks(data), locale=lambda: clean_locale(data.get("locale")))
    for name, value in values.items():
        setattr(participant, name, value)
    participant.publish_name = bool(data.get("publish_name"))


def set_locale(participant: Participant, locale: Any) -> None:
    participant.locale = clean_locale(locale)
