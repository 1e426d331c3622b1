"""The order of a roll call: alphabetical (by delegation where delegations vote, by surname
where people do), starting from the one drawn by lot when the vote opened, as the UN's
general rules have it ("the roll call … in the English alphabetical order …, beginning with
the member whose name is drawn by lot by the President"). Pure functions: the draw takes its
chance from ``secrets``, the order only from its arguments."""
from __future__ import annotations

import bisect
import secrets
from collections.abc import Callable, Sequence
from typing import TypeVar

from drafting.collation import sort_key
from models import Delegation, Participant

T = TypeVar("T")
#: What a roll call orders by: the sort key, then the name (two delegations may share a
#: key; two people a surname), then the id, so that the order is total and stable.
Key = tuple[str, str, int]


def delegation_key(delegation: Delegation) -> Key:
    return sort_key(delegation.sort_key or delegation.name), sort_key(delegation.name), delegation.id


def person_key(participant: Participant) -> Key:
    return sort_key(participant.surname), sort_key(participant.name), participant.id


def draw(candidates: Sequence[T]) -> T | None:
    """One of ``candidates`` by lot (None if there are none): where the roll call starts."""
    return secrets.choice(candidates) if candidates else None


def roll_call_order(entries: Sequence[T], key: Callable[[T], Key], first: Key | None) -> list[T]:
    """``entries`` in alphabetical order of ``key``, starting from ``first`` (the key of the
    one drawn by lot) and going round: those from it to the end of the alphabet, then those
    from the beginning up to it. The one drawn need not be among the entries (a roll call
    lists those who voted): it then starts with the next after it. ``first`` None (nothing
    was drawn): plainly alphabetical."""
    ordered = sorted(entries, key=key)
    if first is None:
        return ordered
    start = bisect.bisect_left([key(entry) for entry in ordered], first)
    return ordered[start:] + ordered[:start]
