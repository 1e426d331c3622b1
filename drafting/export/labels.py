"""The words the renderers print for a vote's rule and outcome and a statement's kind: the
same as the vote pages (templates/votes/_vote.html), so the document and the pages agree.
Each is a dict, translated once per document: a large conference has thousands of votes."""
from __future__ import annotations

from datetime import date

from flask_babel import format_date, ngettext, pgettext
from flask_babel import gettext as _


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
def adoption_line(meeting: str, place: str, adopted_on: date) -> str:
    """The outcome document's adoption line, in the document's language: "Adopted at the
    closing plenary meeting, Astana, 25 June 2009". ``meeting`` empty: the closing plenary
    meeting; otherwise as the secretariat wrote it ("the 3rd plenary meeting")."""
    when = format_date(adopted_on, "d MMMM y")
    if not meeting:
        return _("Adopted at the closing plenary meeting, %(place)s, %(date)s",
                 place=place, date=when)
    return _("Adopted at %(meeting)s, %(place)s, %(date)s", meeting=meeting, place=place,
             date=when)


def adoption_how(method: str, yes: int | None, no: int | None, abstain: int | None) -> str:
    """How the plenary adopted it, printed under the adoption line."""
    if method != "vote":
        return _("Adopted by consensus.")
    return _("Adopted by a vote of %(yes)s in favour and %(no)s against, %(abstentions)s.",
             yes=yes or 0, no=no or 0,
             abstentions=ngettext("with %(num)d abstention", "with %(num)d abstentions",
                                  abstain or 0))
