"""Whether a refused request changed anything: every row of the tables it could touch,
column by column, before and after."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import select

from models import db


def snapshot(app: Flask, models: tuple[Any, ...]) -> dict[str, list[tuple[Any, ...]]]:
    with app.app_context():
        state = {}
        for model in models:
            table = model.__table__
            state[table.name] = sorted(
                (tuple(row) for row in db.session.execute(select(table).order_by(*table.primary_key))),
                key=repr)
        db.session.rollback()
        return state


@contextmanager
def unchanged(app: Flask, models: tuple[Any, ...]) -> Iterator[None]:
    """``with unchanged(app, TABLES): ...refused request...``: no row of them changed."""
    before = snapshot(app, models)
    yield
    assert snapshot(app, models) == before
