"""The words the renderers print for a vote's rule and outcome and a statement's kind: the
same as the vote pages (templates/votes/_vote.html), so the document and the pages agree.
Each is a dict, translated once per document: a large conference has thousands of votes."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import pgettext


def rule_labels() -> dict[str, str]:
    return {
        "consensus": _("Consensus (adopted unless someone objects)"),
        "simple_majority": _("Simple majority of the votes cast"),
        "two_thirds": _("Two-thirds majority of the votes cast"),
        "absolute_majority": _("Absolute majority of the eligible voters"),
    }


def outcome_labels() -> dict[str, str]:
    return {
        "adopted": pgettext("vote", "Adopted"),
        "rejected": _("Not adopted"),
        "no_quorum": _("No quorum: nothing decided"),
        "runoff": _("No wording carried: run-off"),
        "no_consensus": _("No consensus"),
    }


def ad_referendum_label() -> str:
    """Printed beside a clause agreed ad referendum, as on the recommendation page."""
    return _("(agreed ad referendum)")


def statement_labels() -> dict[str, str]:
    return {"interpretative": _("Interpretative statement"), "reservation": _("Reservation")}


def statement_heading(kind: str, delegation: str, kinds: dict[str, str]) -> str:
    """A statement's kind, by the delegation it was made for where there is one: as the
    recommendation page heads it (templates/_macros.html ``statement_heading``)."""
    if not delegation:
        return kinds.get(kind, kind)
    if kind == "reservation":
        return _("Reservation by the delegation of %(delegation)s", delegation=delegation)
    return _("Interpretative statement by the delegation of %(delegation)s", delegation=delegation)


def roll_call_name(name: str, delegation: str, voting_unit: str) -> str:
    """Who a roll call names: the delegation where delegations vote (one State, one vote),
    else the voter, with their delegation beside their name."""
    if voting_unit == "delegation" and delegation:
        return delegation
    return f"{name} ({delegation})" if delegation else name
