"""The words the renderers print for a vote's rule and outcome and a statement's kind: the
same as the vote pages (templates/votes/_vote.html), so the document and the pages agree.
Each is a dict, translated once per document: a large conference has thousands of votes."""
from __future__ import annotations

from datetime import date

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from drafting.typography import one_date


def rule_labels() -> dict[str, str]:
    return {
        "consensus": _("Consensus (adopted unless someone objects)"),
        "simple_majority": _("Simple majority of the votes cast"),
        "two_thirds": _("Two-thirds majority of the votes cast"),
        "absolute_majority": _("Absolute majority of the eligible voters"),
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


def roll_call_by_choice(counts: list[tuple[str, int]], roll_call: list[tuple[str, str, str]] | None,
                        voting_unit: str) -> list[tuple[str, int, list[str]]]:
    """A roll call as recorded votes are published (the HTML and the PDF): each option with
    its count and the names of those who chose it, in the roll call's (alphabetical) order."""
    names: dict[str, list[str]] = {label: [] for label, _count in counts}
    for name, choice, delegation in roll_call or []:
        names.setdefault(choice, []).append(roll_call_name(name, delegation, voting_unit))
    counted = [(label, count, names[label]) for label, count in counts]
    # A ballot for an option the counts do not list (never expected) is still printed.
    return counted + [(label, len(found), found) for label, found in names.items()
                      if label not in dict(counts)]


def adoption_line(meeting: str, place: str, adopted_on: date) -> str:
    """The outcome document's adoption line, in the document's language: "Adopted at the
    closing plenary meeting, Astana, 25 June 2009". ``meeting`` empty: the closing plenary
    meeting; otherwise as the secretariat wrote it ("the 3rd plenary meeting")."""
    when = one_date(adopted_on)
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


# --- the annex of decisions ------------------------------------------------------------------


def paragraph_name(kind: str, number: str) -> str:
    """How every format names a paragraph of a recommendation: "preambular paragraph 2",
    "operative paragraph 3" (the way resolutions are cited). ``number`` as the drafting
    pages show it ("PP2", "3.") or bare ("2")."""
    if kind == "preambular":
        return _("preambular paragraph %(number)s", number=number.removeprefix("PP"))
    return _("operative paragraph %(number)s", number=number.rstrip("."))


def decision_number(index: int) -> str:
    """A decision's number in annex A, in every format: "A.1", "A.2", …"""
    return f"A.{index}"


def _counted(yes: int, no: int, abstain: int) -> str:
    """How a ballot came out: "12 in favour, 3 against, 2 abstentions"."""
    return _("%(yes)s in favour, %(no)s against, %(abstentions)s", yes=yes, no=no,
             abstentions=ngettext("%(num)d abstention", "%(num)d abstentions", abstain))


def decision_line(*, method: str, outcome: str, secret: bool, yes: int, no: int, abstain: int,
                  objectors: list[str], objections: int, present: int,
                  wordings: list[tuple[str, int]], winner: str, runoff: list[str]) -> str:
    """One line per decision, as a secretariat writes it in the record: "Adopted by
    consensus"; "Adopted by a recorded vote of 12 in favour, 3 against, 2 abstentions";
    "No consensus: objection by Kazakhstan"; a choice of wordings names the one chosen.

    ``objectors``: who objected to a consensus sought, by name (empty where the question was
    secret: ``objections`` counts them); ``wordings``: a choice's wordings and their votes;
    ``winner``: the wording chosen; ``runoff``: the two a run-off would put."""
    if method != "ballot":
        silence = method == "silence"
        if outcome == "adopted":
            return (_("Adopted under the silence procedure: no objection")
                    if silence else _("Adopted by consensus"))
        if outcome == "no_quorum":
            return _("No decision: too few members present (%(present)s)", present=present)
        if objectors:
            names = "; ".join(objectors)
            return (_("Silence broken: objection by %(names)s", names=names) if silence
                    else _("No consensus: objection by %(names)s", names=names))
        count = ngettext("%(num)d objection", "%(num)d objections", objections)
        return (_("Silence broken: %(objections)s", objections=count) if silence
                else _("No consensus: %(objections)s", objections=count))
    recorded = not secret
    if wordings:
        tally = "; ".join(f"{label}: {count}" for label, count in wordings)
        if outcome == "adopted":
            return (_("Wording adopted by a recorded vote: %(wording)s (%(tally)s)",
                      wording=winner, tally=tally) if recorded
                    else _("Wording adopted by a secret ballot: %(wording)s (%(tally)s)",
                           wording=winner, tally=tally))
        if outcome == "runoff":
            return _("No wording carried (%(tally)s): run-off between %(first)s and %(second)s",
                     tally=tally, first=runoff[0] if runoff else "",
                     second=runoff[1] if len(runoff) > 1 else "")
        if outcome == "no_quorum":
            return _("No decision: quorum not met (%(counts)s)", counts=tally)
        return _("No wording adopted (%(tally)s)", tally=tally)
    counted = _counted(yes, no, abstain)
    if outcome == "adopted":
        return (_("Adopted by a recorded vote of %(counts)s", counts=counted) if recorded
                else _("Adopted by a secret ballot of %(counts)s", counts=counted))
    if outcome == "no_quorum":
        return _("No decision: quorum not met (%(counts)s)", counts=counted)
    return (_("Rejected by a recorded vote of %(counts)s", counts=counted) if recorded
            else _("Rejected by a secret ballot of %(counts)s", counts=counted))


def organised_by(organisers: list[str]) -> str:
    """Who organised the conference, as its documents credit them: the first organiser, then
    those it worked with ("Organised by the OSCE Centre in Astana in co-operation with the
    Ministry of Labour and Social Protection, the International Organization for Migration
    (IOM) and the International Labour Organization (ILO)"). Empty: none."""
    if not organisers:
        return ""
    first, others = organisers[0], organisers[1:]
    if not others:
        return _("Organised by %(organiser)s", organiser=first)
    partners = others[0] if len(others) == 1 else _(
        "%(list)s and %(last)s", list=", ".join(others[:-1]), last=others[-1])
    return _("Organised by %(organiser)s in co-operation with %(partners)s", organiser=first,
             partners=partners)
def body_name(formula: str, title: str) -> str:
    """The subject of a recommendation's operative verbs, printed before its preamble: the
    secretariat's formula as written, or "The participants in the Conference “…”," in the
    document's language (DOMAIN.md section 1)."""
    if formula.strip():
        return formula.strip()
    return _("The participants in the Conference “%(title)s”,", title=title)


def full_symbol(symbol: str, suffix: str) -> str:
    """"CONF.MIGR/1/09/Rev.1": the conference's symbol and this issue's suffix (none without
    a symbol)."""
    if not symbol:
        return ""
    return f"{symbol}/{suffix}" if suffix else symbol


def original_label(language: str) -> str:
    """"Original: ENGLISH", the language named in the document's language."""
    try:
        name = Locale.parse(language).get_display_name(get_locale()) or language
    except (UnknownLocaleError, ValueError):
        name = language
    return _("Original: %(language)s", language=name.upper())


def distribution_label(distribution: str) -> str:
    if distribution == "limited":
        return _("Distr.: Limited")
    return _("Distr.: General")


def not_adopted_how(outcome: str, counts: tuple[int, int, int] | None) -> str:
    """How a recommendation was not adopted, printed where it would have stood."""
    if outcome == "no_consensus":
        return _("Not adopted: no consensus.")
    if counts is None:
        return _("Not adopted.")
    return _("Not adopted: rejected by a vote of %(yes)s–%(no)s–%(abstain)s (in favour, "
             "against, abstaining).", yes=counts[0], no=counts[1], abstain=counts[2])


def draft_mark(adopted: bool) -> str:
    """The mark on every page of a document that is not the final: not adopted yet, or
    adopted by the plenary and not yet finalised."""
    if adopted:
        return _("DRAFT — adopted, not yet final")
    return _("DRAFT — not adopted")
