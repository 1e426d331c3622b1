"""The y-protocols wire format, read and written in one place.

A message is what y-websocket puts in one WebSocket frame; Plenary carries it as the binary
argument of a Socket.IO ``y`` event:

    sync:      varUint 0, varUint subtype (0 step 1, 1 step 2, 2 update), varUint8Array body
    awareness: varUint 1, varUint8Array body

Reading is strict: a message must be exactly one of these, with nothing left over, and every
length is checked against what is really there, so truncated or crafted input is refused
here before anything touches a document.
"""
from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

MESSAGE_SYNC = 0
MESSAGE_AWARENESS = 1

# JavaScript clients cannot produce integers beyond 2**53; a longer varUint is an attack.
MAX_VAR_UINT_BYTES = 8


class ProtocolError(ValueError):
    """The bytes are not a well-formed y-protocols message."""


class Kind(enum.Enum):
    STEP1 = "step1"
    STEP2 = "step2"
    UPDATE = "update"
    AWARENESS = "awareness"


_SYNC_KINDS = {0: Kind.STEP1, 1: Kind.STEP2, 2: Kind.UPDATE}


@dataclass(frozen=True)
class Message:
    kind: Kind
    #: The state vector (step 1), the update (step 2, update) or the awareness update.
    body: bytes


def read_var_uint(data: bytes, position: int) -> tuple[int, int]:
    value = 0
    shift = 0
    for index in range(MAX_VAR_UINT_BYTES):
        if position + index >= len(data):
            raise ProtocolError("truncated number")
        byte = data[position + index]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position + index + 1
        shift += 7
    raise ProtocolError("number too long")


def read_var_bytes(data: bytes, position: int) -> tuple[bytes, int]:
    length, position = read_var_uint(data, position)
    end = position + length
    if end > len(data):
        raise ProtocolError("truncated field")
    return data[position:end], end


def write_var_uint(value: int) -> bytes:
    if value < 0:
        raise ValueError("negative varUint")
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def write_var_bytes(value: bytes) -> bytes:
    return write_var_uint(len(value)) + value


def parse_message(payload: Any) -> Message:
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise ProtocolError("payload must be binary")
    data = bytes(payload)
    message_type, position = read_var_uint(data, 0)
    if message_type == MESSAGE_SYNC:
        subtype, position = read_var_uint(data, position)
        kind = _SYNC_KINDS.get(subtype)
        if kind is None:
            raise ProtocolError("unknown sync message")
    elif message_type == MESSAGE_AWARENESS:
        kind = Kind.AWARENESS
    else:
        raise ProtocolError("unknown message type")
    body, position = read_var_bytes(data, position)
    if position != len(data):
        raise ProtocolError("trailing bytes")
    return Message(kind, body)


def sync_step1(state_vector: bytes) -> bytes:
    return write_var_uint(MESSAGE_SYNC) + write_var_uint(0) + write_var_bytes(state_vector)


def sync_step2(update: bytes) -> bytes:
    return write_var_uint(MESSAGE_SYNC) + write_var_uint(1) + write_var_bytes(update)


def sync_update(update: bytes) -> bytes:
    return write_var_uint(MESSAGE_SYNC) + write_var_uint(2) + write_var_bytes(update)


def awareness_message(update: bytes) -> bytes:
    return write_var_uint(MESSAGE_AWARENESS) + write_var_bytes(update)


@dataclass(frozen=True)
class AwarenessEntry:
    client_id: int
    clock: int
    #: The decoded JSON state; None means "this client has left".
    state: dict[str, Any] | None


def parse_awareness(body: bytes) -> list[AwarenessEntry]:
    count, position = read_var_uint(body, 0)
    entries = []
    for _ in range(count):
        client_id, position = read_var_uint(body, position)
        clock, position = read_var_uint(body, position)
        raw, position = read_var_bytes(body, position)
        try:
            state = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ProtocolError("awareness state is not JSON") from None
        if state is not None and not isinstance(state, dict):
            raise ProtocolError("awareness state is not an object")
        entries.append(AwarenessEntry(client_id, clock, state))
    if position != len(body):
        raise ProtocolError("trailing bytes")
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    out = bytearray(write_var_uint(len(entries)))
    for entry in entries:
        out += write_var_uint(entry.client_id)
        out += write_var_uint(entry.clock)
        state = json.dumps(entry.state, ensure_ascii=False, separators=(",", ":"))
        out += write_var_bytes(state.encode("utf-8"))
    return bytes(out)


def parse_state_vector(data: bytes) -> dict[int, int]:
    """A Yjs state vector: client id -> the number of that client's items known."""
    count, position = read_var_uint(data, 0)
    clocks: dict[int, int] = {}
    for _ in range(count):
        client, position = read_var_uint(data, position)
        clocks[client], position = read_var_uint(data, position)
    if position != len(data):
        raise ProtocolError("trailing bytes")
    return clocks


@dataclass(frozen=True)
class RelativePosition:
    """A Yjs relative position (``Y.encodeRelativePosition``): next to an item, or at the
    start or end of a named root type. ``assoc`` < 0 sticks to the item before."""

    item: tuple[int, int] | None
    type_name: str | None
    assoc: int


MAX_RELATIVE_POSITION_BYTES = 64


def parse_relative_position(data: bytes) -> RelativePosition:
    """Read an encoded relative position; ProtocolError for anything else, including the
    kind that points into a nested type (clause documents have none)."""
    if not isinstance(data, bytes) or not 0 < len(data) <= MAX_RELATIVE_POSITION_BYTES:
        raise ProtocolError("not a relative position")
    tag, position = read_var_uint(data, 0)
    item: tuple[int, int] | None = None
    type_name: str | None = None
    if tag == 0:
        client, position = read_var_uint(data, position)
        clock, position = read_var_uint(data, position)
        item = (client, clock)
    elif tag == 1:
        name, position = read_var_bytes(data, position)
        try:
            type_name = name.decode()
        except UnicodeDecodeError:
            raise ProtocolError("type name is not UTF-8") from None
    else:
        raise ProtocolError("unsupported relative position")
    # lib0's signed varint: sign in bit 6 of the first byte; an anchor's assoc is 0 or -1.
    if position != len(data) - 1 or data[position] & 0x80:
        raise ProtocolError("trailing bytes")
    sign = -1 if data[position] & 0x40 else 1
    return RelativePosition(item, type_name, sign * (data[position] & 0x3F))
