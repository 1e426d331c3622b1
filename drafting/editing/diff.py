"""Word-level differences between two wordings: the one redline of the product (history now,
amendments next). Whitespace runs are tokens of their own so a redline reads naturally."""
from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Literal, TypedDict

TOKEN = re.compile(r"\s+|[^\s]+")


class Piece(TypedDict):
    op: Literal["equal", "insert", "delete"]
    text: str


def word_diff(before: str, after: str) -> list[Piece]:
    old, new = TOKEN.findall(before), TOKEN.findall(after)
    pieces: list[Piece] = []

    def add(op: Literal["equal", "insert", "delete"], tokens: list[str]) -> None:
        if not tokens:
            return
        text = "".join(tokens)
        if pieces and pieces[-1]["op"] == op:
            pieces[-1]["text"] += text
        else:
            pieces.append({"op": op, "text": text})

    matcher = SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("equal", old[i1:i2])
        else:
            add("delete", old[i1:i2])
            add("insert", new[j1:j2])
    return pieces


def _changes(matcher: SequenceMatcher[str]) -> list[tuple[int, int, int, int]]:
    """The non-equal opcodes as (base start, base end, other start, other end)."""
    return [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def hunks(before: str, after: str) -> list[tuple[int, int, str]]:
    """What turns ``before`` into ``after``, word by word: (start, end, replacement) in code
    points of ``before``, in order. Within changed words only the characters that differ
    are replaced ("workers" to "workers," inserts the comma), so that whatever stands on the
    rest (another person's edit, a comment's anchor) stays."""
    old, new = TOKEN.findall(before), TOKEN.findall(after)
    starts = [0]
    for token in old:
        starts.append(starts[-1] + len(token))
    found = []
    for i1, i2, j1, j2 in _changes(SequenceMatcher(a=old, b=new, autojunk=False)):
        gone, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        same = 0
        while same < min(len(gone), len(added)) and gone[same] == added[same]:
            same += 1
        tail = 0
        while tail < min(len(gone), len(added)) - same and gone[-1 - tail] == added[-1 - tail]:
            tail += 1
        found.append((starts[i1] + same, starts[i1] + len(gone) - tail, added[same:len(added) - tail]))
    return found


def _clash(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether two changes of the same base touch the same words. Two insertions at the
    same place clash too: which comes first is a decision, not a merge."""
    a1, a2, b1, b2 = a[0], a[1], b[0], b[1]
    if a1 == a2 and b1 == b2:
        return a1 == b1
    if a1 == a2:
        return b1 < a1 < b2
    if b1 == b2:
        return a1 < b1 < a2
    return a1 < b2 and b1 < a2


def rebase(base: str, proposal: str, current: str) -> str | None:
    """The proposal's changes to ``base`` applied to ``current`` instead, word by word; None
    when the words the proposal changes have themselves changed since (a conflict).

    An amendment is written against the clause as it was; others keep editing the clause.
    Rebasing keeps their edits elsewhere in the clause, so that accepting the amendment
    changes only what the amendment meant to change."""
    if current == base:
        return proposal
    base_tokens, proposed, now = TOKEN.findall(base), TOKEN.findall(proposal), TOKEN.findall(current)
    mine = _changes(SequenceMatcher(a=base_tokens, b=proposed, autojunk=False))
    theirs = _changes(SequenceMatcher(a=base_tokens, b=now, autojunk=False))
    if any(_clash(a, b) for a in mine for b in theirs):
        return None
    # Walk the base once, taking each stretch from whichever side changed it.
    edits = sorted([(i1, i2, proposed[j1:j2]) for i1, i2, j1, j2 in mine] +
                   [(i1, i2, now[j1:j2]) for i1, i2, j1, j2 in theirs],
                   key=lambda edit: (edit[0], edit[1]))
    merged: list[str] = []
    position = 0
    for start, end, tokens in edits:
        merged.extend(base_tokens[position:start])
        merged.extend(tokens)
        position = max(position, end)
    merged.extend(base_tokens[position:])
    return "".join(merged)
