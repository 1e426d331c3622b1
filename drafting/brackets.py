"""Square brackets: the text a group has not agreed yet.

UN and OSCE drafts put wording still under negotiation in square brackets ("[and migrant
workers]"), alternatives included, and take the brackets out when it is agreed. This is
the one definition of such a passage, used by the rendering of Markdown (``markup``, which
wraps each passage in ``<mark>``), by the rule that nothing bracketed is adopted (votes) and,
ported line by line, by the live editor (static/src/editor/brackets.js).

A passage is a ``[`` with its matching ``]`` (nested brackets belong to the outermost
passage), except:

- a Markdown link or image, ``[text](address)``: its text is still read for passages, its
  address is not;
- an escaped bracket, ``\\[``, which is a bracket the writer meant literally;
- brackets inside a code span (`` `[x]` ``), as Markdown shows them.

A ``[`` that is never closed, or not before a blank line (the end of a paragraph), is a
stray character, not a passage.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _


@dataclass(frozen=True)
class Passage:
    #: Where the passage starts (its ``[``) and ends (after its ``]``) in the text.
    start: int
    end: int
    #: The passage with its brackets, as written.
    text: str


def _escaped(text: str, index: int) -> bool:
    """Whether the character at ``index`` follows an odd number of backslashes."""
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _code_span_end(text: str, index: int) -> int | None:
    """If a code span opens at ``index`` (a run of backticks), the index after it closes."""
    run = 0
    while index + run < len(text) and text[index + run] == "`":
        run += 1
    fence = "`" * run
    search = index + run
    while True:
        found = text.find(fence, search)
        if found < 0:
            return None
        after = found + run
        if after < len(text) and text[after] == "`":  # a longer run is not the closing one
            while after < len(text) and text[after] == "`":
                after += 1
            search = after
            continue
        return after


def _blank_line_at(text: str, index: int) -> bool:
    """A newline at ``index`` that starts a blank line: the paragraph ends there."""
    if text[index] != "\n":
        return False
    following = index + 1
    while following < len(text) and text[following] in " \t":
        following += 1
    return following >= len(text) or text[following] == "\n"


def _closing(text: str, index: int, open_char: str, close_char: str) -> int | None:
    """The index of the ``close_char`` that matches the ``open_char`` at ``index``."""
    depth = 0
    position = index
    while position < len(text):
        char = text[position]
        if char == "`":
            end = _code_span_end(text, position)
            if end is not None:
                position = end
                continue
            while position < len(text) and text[position] == "`":
                position += 1
            continue
        if char == "\n" and _blank_line_at(text, position):
            return None
        if char == "\\":
            position += 2
            continue
        if char == open_char:
            depth += 1
        elif char == close_char:
            depth -= 1
            if depth == 0:
                return position
        position += 1
    return None


def bracket_at(text: str, index: int) -> tuple[int, int | None] | None:
    """What the ``[`` at ``index`` opens: ``(end, None)`` for a passage ending before
    ``end``; ``(end, close)`` for a link or image whose text closes at ``close`` and whose
    address ends before ``end``; None for a stray or escaped bracket."""
    if text[index] != "[" or _escaped(text, index):
        return None
    close = _closing(text, index, "[", "]")
    if close is None:
        return None
    if close + 1 < len(text) and text[close + 1] == "(":
        address_end = _closing(text, close + 1, "(", ")")
        if address_end is not None:
            return address_end + 1, close
    return close + 1, None


def unagreed_passages(text: str | None) -> list[Passage]:
    """The passages of a clause's Markdown still in square brackets, in order; the outermost
    of nested ones."""
    if not text:
        return []
    found: list[Passage] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "`":
            end = _code_span_end(text, position)
            position = end if end is not None else position + 1
            continue
        if char == "\\":
            position += 2
            continue
        if char != "[":
            position += 1
            continue
        opened = bracket_at(text, position)
        if opened is None:
            position += 1
            continue
        end, link_text_end = opened
        if link_text_end is None:
            found.append(Passage(position, end, text[position:end]))
            position = end
            continue
        found.extend(Passage(p.start + position + 1, p.end + position + 1, p.text)
                     for p in unagreed_passages(text[position + 1:link_text_end]))
        position = end
    return found


#: The longest part of a passage a refusal quotes.
QUOTED_LENGTH = 80


def quoted(passages: list[Passage]) -> str:
    """The passages as a refusal names them: “[…]”, “[…]” (each shortened if very long)."""
    def shorten(value: str) -> str:
        value = " ".join(value.split())
        return value if len(value) <= QUOTED_LENGTH else value[:QUOTED_LENGTH - 2] + "…]"
    return ", ".join(f"“{shorten(p.text)}”" for p in passages)


def refusal(passages: list[Passage], what: str | None = None) -> str:
    """Why a wording with these passages cannot be adopted (or agreed): ``what`` names the
    wording ("Amendment 4"; by default "The clause")."""
    return _("%(what)s still has text in square brackets: %(passages)s. Agree on it first.",
             what=what or _("The clause"), passages=quoted(passages))
