"""Yjs version-1 updates, read strictly: what an update would do to a clause document, known
before it touches one.

pycrdt applies whatever is a valid Yjs update: an embed, a map, another root type, an insertion
between the two halves of a surrogate pair, an update that waits for changes the server never
received. Each of those harms a clause (an embed freezes every browser editor of it, a split
pair makes replicas show different text, a pending update is acknowledged but never applied),
so the server reads each update itself first (``read_update``) and accepts only what Plenary's
editor produces (``check_update``): text inserted into and deleted from the root ``text``, and
the formatting attributes the editor uses.

The format is Yjs's ``UpdateEncoderV1`` (yjs ``src/utils/encoding.js``, ``readClientsStructRefs``
and ``readDeleteSet``):

    update      := varUint groups, group*, deleteSet
    group       := varUint count, varUint client, varUint clock, struct{count}
    struct      := uint8 info, then by ``info & 31``: 0 GC (varUint length), 10 Skip (varUint
                   length), else an Item: [left id if info & 128] [right id if info & 64]
                   [parent: varUint 1 + varString root name, or 0 + id; then varString key if
                   info & 32 — only when neither id is there] content
    id          := varUint client, varUint clock
    deleteSet   := varUint clients, (varUint client, varUint ranges, (varUint clock, varUint length)*)*

Clocks count UTF-16 code units for strings, as Yjs does; everything here counts that way.
"""
from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from drafting.realtime.protocol import ProtocolError, read_var_bytes, read_var_uint, write_var_uint

#: The name of the one shared type of a clause document.
TEXT_ROOT = "text"

# Content kinds (``info & 31``).
GC, DELETED, JSON_, BINARY, STRING, EMBED, FORMAT, TYPE, ANY, DOC, SKIP = range(11)
KIND_NAMES = {GC: "gc", DELETED: "deleted", JSON_: "json", BINARY: "binary", STRING: "string",
              EMBED: "embed", FORMAT: "format", TYPE: "type", ANY: "any", DOC: "subdocument",
              SKIP: "skip"}

ID = tuple[int, int]


class Refused(ValueError):
    """A well-formed update that a clause document must not take; ``reason`` is for logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Struct:
    client: int
    clock: int
    #: Clock units it covers (a string's UTF-16 length).
    length: int
    kind: int
    origin: ID | None = None
    right_origin: ID | None = None
    #: The root type it says it belongs to (only when it has neither origin).
    parent_root: str | None = None
    #: An id standing for a nested parent type (clause documents have none).
    parent_item: ID | None = None
    #: A map key (text items have none).
    parent_sub: str | None = None
    #: The inserted text (STRING) or the formatting attribute's key (FORMAT).
    text: str = ""
    #: Where a STRING's encoded text (length prefix included) is in the update.
    span: tuple[int, int] | None = None


@dataclass(frozen=True)
class Update:
    structs: list[Struct]
    #: client -> [(clock, length)] deleted.
    deletions: dict[int, list[tuple[int, int]]]
    #: Where the delete set starts in the encoded update.
    delete_set_offset: int
    #: Each group of structs: (client, where it starts, where it ends) in the encoded update.
    groups: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def inserted_text(self) -> str:
        return "".join(s.text for s in self.structs if s.kind == STRING)


def _read_string(data: bytes, position: int) -> tuple[str, int]:
    raw, position = read_var_bytes(data, position)
    try:
        return raw.decode("utf-8"), position
    except UnicodeDecodeError:
        raise ProtocolError("string is not UTF-8") from None


def _read_id(data: bytes, position: int) -> tuple[ID, int]:
    client, position = read_var_uint(data, position)
    clock, position = read_var_uint(data, position)
    return (client, clock), position


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


#: lib0's nested values (``readAny``) deeper than this are refused: no editor makes them.
MAX_ANY_DEPTH = 16


def _skip_var_int(data: bytes, position: int) -> int:
    for index in range(10):
        if position + index >= len(data):
            raise ProtocolError("truncated number")
        if data[position + index] < 0x80:
            return position + index + 1
    raise ProtocolError("number too long")


def _skip_fixed(data: bytes, position: int, size: int) -> int:
    if position + size > len(data):
        raise ProtocolError("truncated number")
    return position + size


def _skip_any(data: bytes, position: int, depth: int = 0) -> int:
    """Past one of lib0's ``writeAny`` values (ContentAny, a subdocument's options)."""
    if depth > MAX_ANY_DEPTH:
        raise ProtocolError("value nested too deep")
    if position >= len(data):
        raise ProtocolError("truncated value")
    tag = data[position]
    position += 1
    if tag in (127, 126, 121, 120):  # undefined, null, false, true
        return position
    if tag == 125:
        return _skip_var_int(data, position)
    if tag in (124, 123, 122):  # float32, float64, bigint
        return _skip_fixed(data, position, 4 if tag == 124 else 8)
    if tag in (119, 116):  # string, bytes
        return read_var_bytes(data, position)[1]
    if tag in (118, 117):  # object, array
        count, position = read_var_uint(data, position)
        for _ in range(count):
            if tag == 118:
                position = read_var_bytes(data, position)[1]
            position = _skip_any(data, position, depth + 1)
        return position
    raise ProtocolError("unknown value")


def _skip_content(data: bytes, position: int, kind: int) -> tuple[int, int]:
    """Past the content of a kind a clause never holds; (its clock length, new position).
    Read all the same, so that a document holding one can still be read."""
    if kind in (JSON_, ANY):
        count, position = read_var_uint(data, position)
        for _ in range(count):
            position = read_var_bytes(data, position)[1] if kind == JSON_ else _skip_any(data, position)
        return count, position
    if kind in (BINARY, EMBED):
        return 1, read_var_bytes(data, position)[1]
    if kind == TYPE:
        reference, position = read_var_uint(data, position)
        if reference in (3, 5):  # an XML element's or hook's name
            position = read_var_bytes(data, position)[1]
        return 1, position
    if kind == DOC:
        position = read_var_bytes(data, position)[1]
        return 1, _skip_any(data, position)
    raise ProtocolError("unknown content")


def read_update(data: bytes) -> Update:
    """Decode a version-1 update; ProtocolError if it is not exactly one (a version-2 update
    is not: it leaves bytes after what would be its delete set)."""
    structs: list[Struct] = []
    groups: list[tuple[int, int, int]] = []
    group_count, position = read_var_uint(data, 0)
    for _ in range(group_count):
        group_start = position
        count, position = read_var_uint(data, position)
        client, position = read_var_uint(data, position)
        clock, position = read_var_uint(data, position)
        for _ in range(count):
            if position >= len(data):
                raise ProtocolError("truncated struct")
            info = data[position]
            position += 1
            kind = info & 0x1F
            if kind in (GC, SKIP):
                length, position = read_var_uint(data, position)
                structs.append(Struct(client, clock, length, kind))
                clock += length
                continue
            origin = right = parent_item = None
            parent_root = parent_sub = None
            if info & 0x80:
                origin, position = _read_id(data, position)
            if info & 0x40:
                right, position = _read_id(data, position)
            if not info & 0xC0:
                is_root, position = read_var_uint(data, position)
                if is_root == 1:
                    parent_root, position = _read_string(data, position)
                else:
                    parent_item, position = _read_id(data, position)
                if info & 0x20:
                    parent_sub, position = _read_string(data, position)
            text = ""
            span = None
            if kind == DELETED:
                length, position = read_var_uint(data, position)
            elif kind == STRING:
                start = position
                text, position = _read_string(data, position)
                length = utf16_length(text)
                span = (start, position)
            elif kind == FORMAT:
                text, position = _read_string(data, position)
                value, position = _read_string(data, position)
                try:
                    json.loads(value)
                except ValueError:
                    raise ProtocolError("format value is not JSON") from None
                length = 1
            else:
                length, position = _skip_content(data, position, kind)
            if length == 0:
                raise ProtocolError("empty struct")
            structs.append(Struct(client, clock, length, kind, origin, right, parent_root,
                                  parent_item, parent_sub, text, span))
            clock += length
        groups.append((client, group_start, position))
    delete_set_offset = position
    deletions: dict[int, list[tuple[int, int]]] = {}
    clients, position = read_var_uint(data, position)
    for _ in range(clients):
        client, position = read_var_uint(data, position)
        ranges, position = read_var_uint(data, position)
        for _ in range(ranges):
            clock, position = read_var_uint(data, position)
            length, position = read_var_uint(data, position)
            if length:
                deletions.setdefault(client, []).append((clock, length))
    if position != len(data):
        raise ProtocolError("trailing bytes")
    return Update(structs, deletions, delete_set_offset, groups)


def select(data: bytes, update: Update, clients: Collection[int], *, deletions: bool) -> bytes:
    """The update ``data`` (read as ``update``) cut down to the struct groups of ``clients``,
    with its delete set or none: a valid update of its own. Applying the parts of an update
    cut along its clients (the delete set in one of them) does what applying it does."""
    chosen = [(start, end) for client, start, end in update.groups if client in clients]
    out = bytearray(write_var_uint(len(chosen)))
    for start, end in chosen:
        out += data[start:end]
    out += data[update.delete_set_offset:] if deletions else write_var_uint(0)
    return bytes(out)


def references(update: Update, clients: Collection[int]) -> set[int]:
    """The clients whose items the structs of ``clients`` are inserted beside or inside: what
    a document must have before it can integrate them."""
    return {ref[0] for struct in update.structs if struct.client in clients
            for ref in (struct.origin, struct.right_origin, struct.parent_item) if ref is not None}


def with_placeholder_text(data: bytes, update: Update) -> bytes:
    """The same update with every inserted string replaced by as many ASCII letters as it
    has UTF-16 units: a document made from it has the same items in the same order, and its
    text's UTF-8 offsets are Yjs's UTF-16 offsets (see ``drafting.editing.positions``)."""
    out = bytearray()
    position = 0
    for struct in update.structs:
        if struct.span is None:
            continue
        start, end = struct.span
        out += data[position:start] + write_var_uint(struct.length) + b"a" * struct.length
        position = end
    out += data[position:]
    return bytes(out)


def encode_delete_set(deletions: Mapping[int, Iterable[tuple[int, int]]]) -> bytes:
    clients = [(client, list(ranges)) for client, ranges in sorted(deletions.items()) if ranges]
    out = bytearray(write_var_uint(len(clients)))
    for client, ranges in clients:
        out += write_var_uint(client) + write_var_uint(len(ranges))
        for clock, length in ranges:
            out += write_var_uint(clock) + write_var_uint(length)
    return bytes(out)


def normalise_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, merged (clock, length) ranges."""
    merged: list[tuple[int, int]] = []
    for clock, length in sorted(ranges):
        if merged and clock <= merged[-1][0] + merged[-1][1]:
            start, previous = merged[-1]
            merged[-1] = (start, max(previous, clock + length - start))
        else:
            merged.append((clock, length))
    return merged


def subtract_ranges(ranges: Iterable[tuple[int, int]],
                    known: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``ranges`` not covered by ``known`` (normalised)."""
    left: list[tuple[int, int]] = []
    for clock, length in normalise_ranges(ranges):
        start, end = clock, clock + length
        for known_clock, known_length in known:
            known_end = known_clock + known_length
            if known_end <= start or known_clock >= end:
                continue
            if known_clock > start:
                left.append((start, known_clock - start))
            start = max(start, known_end)
            if start >= end:
                break
        if start < end:
            left.append((start, end - start))
    return left


@dataclass
class Known:
    """What a clause document holds, as ``check_update`` needs it: each client's clock, and
    the id of every high surrogate in its text (the first half of a pair, whose second half
    is the next clock), kept up to date with what is applied (``learn``)."""

    state: dict[int, int] = field(default_factory=dict)
    high_surrogates: set[ID] = field(default_factory=set)
    #: client -> normalised deleted ranges.
    deleted: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    @classmethod
    def of_document(cls, full_update: bytes) -> Known:
        """From a document's whole state (``doc.get_update()``)."""
        known = cls()
        known.learn(read_update(full_update))
        return known

    def learn(self, update: Update) -> None:
        for struct in update.structs:
            if struct.kind == SKIP:
                continue
            if struct.clock + struct.length > self.state.get(struct.client, 0):
                self.state[struct.client] = struct.clock + struct.length
            if struct.kind == STRING:
                self.high_surrogates.update(_high_surrogates(struct))
        for client, ranges in update.deletions.items():
            self.deleted[client] = normalise_ranges([*self.deleted.get(client, []), *ranges])


def _high_surrogates(struct: Struct) -> Iterable[ID]:
    unit = 0
    for character in struct.text:
        if ord(character) > 0xFFFF:
            yield (struct.client, struct.clock + unit)
            unit += 2
        else:
            unit += 1


class Pending(ValueError):
    """The update builds on changes the document has not received."""


def check_update(update: Update, known: Known, *, formats: frozenset[str] = frozenset()) -> None:
    """Whether a clause document may take this update. ``Refused`` for what the editor never
    produces (another root or type, a map key, a format it does not use, a split surrogate
    pair); ``Pending`` when it depends on something the document lacks. An item may build on
    another item of the same update wherever that one is in it (Yjs writes clients in the
    order of their ids, not of their dependencies)."""
    # The end of each client's clocks once this update is applied, and the high surrogates it
    # brings: what its own items may refer to.
    reach = dict(known.state)
    new_high: set[ID] = set()
    for struct in update.structs:
        if struct.kind == SKIP:
            continue
        if struct.clock > reach.get(struct.client, 0):
            raise Pending(f"client {struct.client} from clock {struct.clock}")
        reach[struct.client] = max(reach.get(struct.client, 0), struct.clock + struct.length)
        if struct.kind == STRING:
            new_high.update(_high_surrogates(struct))
    high = known.high_surrogates | new_high
    for struct in update.structs:
        if struct.kind in (SKIP, GC):
            continue
        if struct.kind not in (STRING, DELETED, FORMAT):
            raise Refused(f"{KIND_NAMES[struct.kind]} content")
        if struct.parent_item is not None or struct.parent_sub is not None:
            raise Refused("nested or keyed parent")
        if struct.origin is None and struct.right_origin is None and struct.parent_root != TEXT_ROOT:
            raise Refused(f"root {struct.parent_root!r}")
        if struct.kind == FORMAT and struct.text not in formats:
            raise Refused(f"format {struct.text!r}")
        for reference in (struct.origin, struct.right_origin):
            if reference is not None and reference[1] >= reach.get(reference[0], 0):
                raise Pending(f"unknown item {reference}")
        if struct.origin is not None and struct.origin in high:
            raise Refused("insertion inside a surrogate pair")
        if struct.right_origin is not None and (struct.right_origin[0], struct.right_origin[1] - 1) in high:
            raise Refused("insertion inside a surrogate pair")
    for client, ranges in update.deletions.items():
        for clock, length in ranges:
            if clock + length > reach.get(client, 0):
                raise Pending(f"deletion of unknown items of client {client}")
            for edge in (clock, clock + length):
                if (client, edge - 1) in high:
                    raise Refused("deletion of half a surrogate pair")


def new_deletions(update: Update, known: Known) -> dict[int, list[tuple[int, int]]]:
    """The update's deletions that the document does not already have."""
    fresh: dict[int, list[tuple[int, int]]] = {}
    for client, ranges in update.deletions.items():
        left = subtract_ranges(ranges, known.deleted.get(client, []))
        if left:
            fresh[client] = left
    return fresh


def new_clients(update: Update, known: Known) -> frozenset[int]:
    """The clients of the update's items that the document does not have yet."""
    return frozenset(s.client for s in update.structs
                     if s.kind != SKIP and s.clock + s.length > known.state.get(s.client, 0))
