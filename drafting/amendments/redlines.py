"""An amendment as changes to its clause's wording: a redline, against the current text
while it is open (rebased over what changed since it was written), against the text it was
written for once it is dealt with."""
from __future__ import annotations

from dataclasses import dataclass

from drafting.editing.diff import Piece, rebase, word_diff
from models import Amendment, AmendmentKind


@dataclass(frozen=True)
class Redline:
    """The amendment as changes to the clause's current wording."""

    pieces: list[Piece]
    #: The words it changes have changed since it was written.
    conflict: bool
    #: The clause's wording if it were accepted now (None: conflict, or a deletion).
    result: str | None


def redline(amendment: Amendment) -> Redline:
    """Against the current text while the amendment is open; once dealt with, against the
    text it was written for (what it asked, as it was decided)."""
    current = amendment.clause.text
    if amendment.kind is AmendmentKind.INSERT:
        return Redline([{"op": "insert", "text": amendment.text}], False, amendment.text)
    if amendment.kind is AmendmentKind.DELETE:
        struck = current if amendment.is_open else amendment.base_text
        return Redline([{"op": "delete", "text": struck}] if struck else [], False, None)
    if not amendment.is_open:
        return Redline(word_diff(amendment.base_text, amendment.text), False, amendment.text)
    result = rebase(amendment.base_text, amendment.text, current)
    if result is None:
        return Redline(word_diff(current, amendment.text), True, None)
    return Redline(word_diff(current, result), False, result)
