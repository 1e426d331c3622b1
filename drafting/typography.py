"""How conference documents write dates and open preambular paragraphs: one answer, used
by every export format and every page (DOMAIN.md sections 1 and 2).

Dates as practice writes them, in the reader's language: "24–25 June 2009", "30 June –
1 July 2009", "24 June 2009 – 2 July 2010"; «24–25 июня 2009 года». The words come from the
translations (the order and the «года»), the month names from Babel in the current locale.

A preambular paragraph opens with a participle in italics, the rest roman ("*Recognising*
that …"). Drafters mark the participle themselves (the demo's texts do: ``*Recognising*``),
and a longer opening ("*Bearing in mind*") only they can mark; where a paragraph opens
without any emphasis, its first word is the participle.
"""
from __future__ import annotations

import re
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup

from drafting.markup import render_markdown


def one_date(day: date) -> str:
    """"24 June 2009"; «24 июня 2009 года»."""
    return _("%(day)s %(month)s %(year)s", day=day.day, month=format_date(day, "MMMM"),
             year=day.year)


def date_range(start: date, end: date) -> str:
    """A conference's dates as practice writes them: the shared month and year once."""
    if end <= start:
        return one_date(start)
    if (start.year, start.month) == (end.year, end.month):
        return _("%(first)s–%(last)s %(month)s %(year)s", first=start.day, last=end.day,
                 month=format_date(start, "MMMM"), year=start.year)
    if start.year == end.year:
        return _("%(first_day)s %(first_month)s – %(last_day)s %(last_month)s %(year)s",
                 first_day=start.day, first_month=format_date(start, "MMMM"),
                 last_day=end.day, last_month=format_date(end, "MMMM"), year=start.year)
    return _("%(first)s – %(last)s", first=one_date(start), last=one_date(end))


#: A paragraph that already opens with emphasis (``*Noting*``, ``_Noting_``, ``**…**``).
_MARKED = re.compile(r"\s*[*_]")
#: The first word of a paragraph, letters (of any script), hyphens and apostrophes.
_FIRST_WORD = re.compile(r"(\s*)([^\W\d_](?:[\w’'-]*\w)?)", re.UNICODE)


def mark_opening(markdown: str) -> str:
    """A preambular paragraph's Markdown with its opening participle in italics: as the
    drafter marked it, or else its first word. A paragraph that opens with anything but a
    word (a bracket, a list, a number, a heading) is left as written."""
    if not markdown or _MARKED.match(markdown):
        return markdown
    found = _FIRST_WORD.match(markdown)
    if found is None:
        return markdown
    lead, word = found.groups()
    return f"{lead}*{word}*{markdown[found.end():]}"


def render_preambular(markdown: str | None) -> Markup:
    """A preambular paragraph as safe HTML, its opening participle in ``<em>``."""
    return render_markdown(mark_opening(markdown or ""))
