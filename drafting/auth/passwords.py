"""Password hashing with argon2id (memory-hard), parameters from the app config."""
from __future__ import annotations

from contextlib import suppress

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app


def _hasher() -> PasswordHasher:
    hasher = current_app.extensions.get("plenary_password_hasher")
    if hasher is None:
        config = current_app.config
        hasher = PasswordHasher(
            time_cost=config["ARGON2_TIME_COST"],
            memory_cost=config["ARGON2_MEMORY_COST"],
            parallelism=config["ARGON2_PARALLELISM"],
        )
        current_app.extensions["plenary_password_hasher"] = hasher
    return hasher


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-time check. With no hash (unknown account, no password yet) the same work is
    done against a throwaway hash, so response time does not tell which emails exist."""
    hasher = _hasher()
    if password_hash is None:
        dummy = current_app.extensions.get("plenary_dummy_hash")
        if dummy is None:
            dummy = hasher.hash("plenary-timing-equaliser")
            current_app.extensions["plenary_dummy_hash"] = dummy
        with suppress(VerificationError):
            hasher.verify(dummy, password)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
