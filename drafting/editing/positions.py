"""Positions in a clause's text, in the three units that meet on the server: code points
(Python's ``str``), UTF-8 bytes (pycrdt's ``Text`` indices) and UTF-16 units (Yjs's indices
and clocks). ``"aé🌍b"`` is 4 long in Python, 8 in pycrdt and 5 in Yjs. Every conversion the
server makes goes through this module.

It also knows where each Yjs id is in the text. pycrdt's ``sticky_index`` and
``StickyIndex.get_index`` count an id's offset inside a block of text in UTF-8 bytes, while
the id's clock counts UTF-16 units, and pycrdt squashes consecutive insertions by one client
into one block: past the first non-ASCII character of a block, the id pycrdt names is not
the character's (``"где🌍x"`` typed at clock 5 gives ``x`` the id of clock 15, not 10). So
positions are resolved on a *placeholder* copy of the document: the same items, each string
replaced by as many ASCII letters as it has UTF-16 units (``yupdate.with_placeholder_text``).
Integration does not look at content, so the copy orders every item as the original does,
and in it a UTF-8 offset is a UTF-16 offset: pycrdt's own answers are exact.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from pycrdt import Assoc, Doc, StickyIndex, Text

from drafting.editing.docs import LiveDoc
from drafting.realtime import yupdate
from drafting.realtime.protocol import (
    ProtocolError,
    RelativePosition,
    parse_relative_position,
    parse_state_vector,
    write_var_uint,
)

TEXT_NAME = yupdate.TEXT_ROOT


def utf8_offset(text: str, index: int) -> int:
    """pycrdt's offset of the code point ``index`` of ``text``."""
    return len(text[:index].encode())


def utf16_offset(text: str, index: int) -> int:
    """Yjs's offset of the code point ``index`` of ``text``."""
    return yupdate.utf16_length(text[:index])


def index_of_utf16(text: str, units: int) -> int:
    """The code point at Yjs offset ``units`` (one inside a surrogate pair: the pair's)."""
    counted = 0
    for index, character in enumerate(text):
        if counted >= units:
            return index
        counted += 2 if ord(character) > 0xFFFF else 1
    return len(text)


class NotAPosition(ValueError):
    """The bytes are not a relative position in this document."""


@dataclass
class _Placeholder:
    #: The document's state vector and text when it was made: valid for those only.
    state: bytes
    text: str
    doc: Doc
    ytext: Text
    #: client -> clocks known (to refuse ids the document never had: pycrdt panics on them).
    clocks: dict[int, int]


class IdMap:
    """The Yjs ids of one state of a document's text (see the module's docstring)."""

    def __init__(self, doc: Doc, text: str) -> None:
        full, state = doc.get_update(), doc.get_state()
        placeholder: Doc = Doc()
        ytext = placeholder.get(TEXT_NAME, type=Text)
        placeholder.apply_update(yupdate.with_placeholder_text(full, yupdate.read_update(full)))
        self._data = _Placeholder(state, text, placeholder, ytext, parse_state_vector(state))

    @property
    def text(self) -> str:
        return self._data.text

    def resolve(self, encoded: bytes) -> int:
        """The code point index a relative position (``Y.encodeRelativePosition``) stands at
        now; a deleted character's position stands where it was."""
        try:
            position = parse_relative_position(encoded)
        except ProtocolError:
            raise NotAPosition("unreadable") from None
        self._check(position)
        if position.item is None:
            return len(self.text) if position.assoc >= 0 else 0
        units = StickyIndex.decode(encoded, self._data.ytext).get_index()
        if units is None:
            raise NotAPosition("not in the text")
        return index_of_utf16(self.text, units)

    def encode(self, index: int, assoc: int = 0) -> bytes:
        """The relative position a browser would make for the code point ``index``, as
        ``Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, i, assoc))``."""
        if not 0 <= index <= len(self.text):
            raise NotAPosition("outside the text")
        units = utf16_offset(self.text, index)
        sign = b"\x00" if assoc >= 0 else b"\x41"
        if assoc < 0:
            units -= 1
        if units < 0 or units >= yupdate.utf16_length(self.text):
            name = TEXT_NAME.encode()
            return b"\x01" + write_var_uint(len(name)) + name + sign
        item = parse_relative_position(self._data.ytext.sticky_index(units, Assoc.AFTER).encode()).item
        assert item is not None  # a position before a character names that character
        client, clock = item
        return b"\x00" + write_var_uint(client) + write_var_uint(clock) + sign

    def _check(self, position: RelativePosition) -> None:
        if position.type_name is not None and position.type_name != TEXT_NAME:
            raise NotAPosition("another type")
        if position.item is not None:
            client, clock = position.item
            if clock >= self._data.clocks.get(client, 0):
                raise NotAPosition("unknown item")


_maps: dict[int, IdMap] = {}
_maps_lock = threading.Lock()


def id_map(key: int, doc: Doc, text: str) -> IdMap:
    """The id map of ``doc`` now, made once per state (``key``: whose document it is)."""
    state = doc.get_state()
    with _maps_lock:
        known = _maps.get(key)
    if known is not None and known._data.state == state and known.text == text:
        return known
    made = IdMap(doc, text)
    with _maps_lock:
        if len(_maps) > 256:
            _maps.clear()
        _maps[key] = made
    return made


def resolve(live: LiveDoc, encoded: bytes) -> int:
    """Where a relative position stands in a live document's text now (code points)."""
    return id_map(id(live), live.doc, str(live.text)).resolve(encoded)


def encode(live: LiveDoc, index: int, assoc: int = 0) -> bytes:
    """The relative position a browser would make at ``index`` of a live document's text."""
    return id_map(id(live), live.doc, str(live.text)).encode(index, assoc)
