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
