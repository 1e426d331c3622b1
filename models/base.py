"""The declarative base and the one ``db`` object every module shares."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names, so that Alembic migrations can drop and alter them on every
# backend (SQLite batch mode needs names to find constraints).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: Set only by ``replayed_at``: the time everything is dated meanwhile.
_replay: ContextVar[datetime | None] = ContextVar("plenary_replayed_at", default=None)


def utcnow() -> datetime:
    """The time every row and record is dated with: now, or while ``replayed_at`` runs, the
    time it replays."""
    return _replay.get() or datetime.now(UTC)


class Replay:
    """The clock of a replay: ``advance`` moves it on."""

    def advance(self, minutes: int = 1) -> None:
        _replay.set((_replay.get() or datetime.now(UTC)) + timedelta(minutes=minutes))

    def at(self, moment: datetime) -> None:
        _replay.set(moment)


@contextmanager
def replayed_at(moment: datetime) -> Iterator[Replay]:
    """Date everything done inside as happening at ``moment`` (then as the replay's clock is
    moved on): how the demo loads its past conference through the real services, its records
    dated within the conference. Only for the current context (thread or greenlet)."""
    token = _replay.set(moment)
    try:
        yield Replay()
    finally:
        _replay.reset(token)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite forgets the zone; this type puts it back, so comparisons with ``utcnow()`` behave
    the same on SQLite and PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
