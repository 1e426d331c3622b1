"""Yjs relative positions in a clause's text: where an anchored comment's words are now.

A browser anchors a comment with ``Y.encodeRelativePosition``: the id (client, clock) of the
character the range starts or ends at, which stays with that character however the text
around it changes. Yjs counts clocks in UTF-16 units. pycrdt counts text in UTF-8 bytes, and
its ``StickyIndex`` takes a clock's offset inside a run of characters as a byte count, so for
any character that is not ASCII it lands in the wrong place (or inside a character). This
module resolves positions itself: it learns the Yjs id of every character from pycrdt's own
positions (whose byte offsets are exact at the start of each run) and counts the rest in
UTF-16 units, as Yjs does. Only a deleted character's position, which carries no offset, is
left to pycrdt.
"""
from __future__ import annotations

from dataclasses import dataclass

from pycrdt import Assoc, StickyIndex

from drafting.editing.docs import TEXT_NAME, LiveDoc
from drafting.realtime.protocol import (
    ProtocolError,
    RelativePosition,
    parse_relative_position,
    parse_state_vector,
    write_var_uint,
)


class NotAPosition(ValueError):
    """The bytes are not a relative position in this document."""


@dataclass(frozen=True)
class _CharacterIds:
    #: The document's state vector when the map was made: the map is valid for it only.
    state: bytes
    text: str
    #: (client, clock) of a character's first UTF-16 unit -> its index in ``text``.
    index_of: dict[tuple[int, int], int]
    #: Index -> (client, clock) of the character there.
    ids: list[tuple[int, int]]


_maps: dict[int, _CharacterIds] = {}


def _character_ids(live: LiveDoc) -> _CharacterIds:
    """The Yjs id of every character, made once per state of the document."""
    state, text = live.doc.get_state(), str(live.text)
    known = _maps.get(id(live))
    if known is not None and known.state == state and known.text == text:
        return known
    ids: list[tuple[int, int]] = []
    index_of: dict[tuple[int, int], int] = {}
    offset = 0
    previous: tuple[int, int, int, int] | None = None  # client, pycrdt clock, bytes, yjs clock
    for index, character in enumerate(text):
        item = parse_relative_position(live.text.sticky_index(offset, Assoc.AFTER).encode()).item
        assert item is not None  # a position before a character names that character
        client, pycrdt_clock = item
        width = len(character.encode())
        if previous is not None and previous[0] == client and pycrdt_clock == previous[1] + previous[2]:
            # The same run: pycrdt's clock went on by the previous character's bytes, Yjs's
            # by its UTF-16 units.
            clock = previous[3] + len(text[index - 1].encode("utf-16-le")) // 2
        else:
            clock = pycrdt_clock  # the first character of a run: offset 0 in every unit
        ids.append((client, clock))
        index_of[(client, clock)] = index
        if len(character.encode("utf-16-le")) == 4:  # a surrogate pair: two Yjs units
            index_of[(client, clock + 1)] = index
        previous = (client, pycrdt_clock, width, clock)
        offset += width
    made = _CharacterIds(state, text, index_of, ids)
    if len(_maps) > 256:
        _maps.clear()
    _maps[id(live)] = made
    return made


def _check(position: RelativePosition, state: bytes) -> None:
    if position.type_name is not None and position.type_name != TEXT_NAME:
        raise NotAPosition("another type")
    if position.item is not None:
        client, clock = position.item
        # An id the document never had: pycrdt would panic looking for it.
        if clock >= parse_state_vector(state).get(client, 0):
            raise NotAPosition("unknown item")


def resolve(live: LiveDoc, encoded: bytes) -> int:
    """The character index (in code points of the text) a relative position stands at."""
    try:
        position = parse_relative_position(encoded)
    except ProtocolError:
        raise NotAPosition("unreadable") from None
    known = _character_ids(live)
    _check(position, known.state)
    if position.item is None:  # the start or end of the text itself
        return len(known.text) if position.assoc >= 0 else 0
    index = known.index_of.get(position.item)
    if index is not None:
        return index if position.assoc >= 0 else index + 1
    # A deleted character: it stands where it was, between the characters still there.
    byte_index = StickyIndex.decode(encoded, live.text).get_index()
    return len(known.text.encode()[:byte_index].decode(errors="ignore"))


def encode(live: LiveDoc, index: int, assoc: int = 0) -> bytes:
    """The relative position a browser would make for ``index`` (code points), as
    ``Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, index, assoc))``."""
    known = _character_ids(live)
    if not 0 <= index <= len(known.text):
        raise NotAPosition("outside the text")
    sign = b"\x00" if assoc >= 0 else b"\x41"
    if assoc < 0:
        index -= 1
    if index < 0 or index >= len(known.ids):
        name = TEXT_NAME.encode()
        return b"\x01" + write_var_uint(len(name)) + name + sign
    client, clock = known.ids[index]
    return b"\x00" + write_var_uint(client) + write_var_uint(clock) + sign
