"""A secret vote's running tally, sealed: every option's count and the objections' reasons,
encrypted (AES-GCM) under a key of the vote's own derived from the server's secret key, which
is not in the database.

Each ballot rewrites the whole sealed tally in the vote's row, whatever its choice, with a
fresh nonce and padded to a length that depends only on what is public (how many options,
and for a consensus vote how many may vote): so the rows a ballot writes, and every old
version of them that the database keeps, are the same for every choice.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: The longest reason in bytes: 500 characters (``schemas.MAX_REASON_LENGTH``) of at most
#: four bytes each in UTF-8.
REASON_BYTES = 4 * 500
NONCE_BYTES = 12
_CONTEXT = b"plenary secret tally"


def _key(secret: bytes, vote_id: int) -> bytes:
    return hmac.new(secret, _CONTEXT + str(vote_id).encode(), hashlib.sha256).digest()


def plain_length(options: int, slots: int) -> int:
    """The padded plaintext: the counts, and room for ``slots`` reasons of the longest kind."""
    return 2 + 4 * options + 2 + slots * (2 + REASON_BYTES)


def seal(secret: bytes, vote_id: int, counts: list[int], reasons: list[str], *, options: int,
         slots: int) -> bytes:
    """The tally as stored: nonce, then ciphertext and tag; ``reasons`` kept sorted, so that
    their order says nothing either once unsealed."""
    if len(counts) != options or len(reasons) > slots:
        raise ValueError("the tally does not fit the vote's sealed size")
    parts = [struct.pack(">H", len(counts)), *(struct.pack(">I", n) for n in counts),
             struct.pack(">H", len(reasons))]
    for reason in sorted(reasons):
        encoded = reason.encode()
        if len(encoded) > REASON_BYTES:
            raise ValueError("a reason longer than the sealed tally has room for")
        parts += [struct.pack(">H", len(encoded)), encoded]
    plain = b"".join(parts)
    plain += bytes(plain_length(options, slots) - len(plain))
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(_key(secret, vote_id)).encrypt(nonce, plain, _CONTEXT + struct.pack(">Q", vote_id))


def unseal(secret: bytes, vote_id: int, sealed: bytes) -> tuple[list[int], list[str]]:
    """(counts, reasons) of a sealed tally; ``InvalidTag`` without the key it was sealed
    under, or for another vote's tally."""
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    plain = AESGCM(_key(secret, vote_id)).decrypt(nonce, body, _CONTEXT + struct.pack(">Q", vote_id))
    (options,) = struct.unpack_from(">H", plain, 0)
    counts = list(struct.unpack_from(f">{options}I", plain, 2))
    offset = 2 + 4 * options
    (number,) = struct.unpack_from(">H", plain, offset)
    offset += 2
    reasons = []
    for _ in range(number):
        (length,) = struct.unpack_from(">H", plain, offset)
        reasons.append(plain[offset + 2:offset + 2 + length].decode())
        offset += 2 + length
    return counts, reasons
