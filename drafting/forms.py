"""What every HTML form edge shares: run the service, show its errors on the form."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from flask import render_template
from flask_wtf import FlaskForm

from drafting.errors import INPUT_ERRORS, DomainError
from models import db

T = TypeVar("T")


def show_errors(form: FlaskForm, error: DomainError) -> None:
    """Put a service's errors beside the fields they concern; the rest above the form."""
    single = len(error.fields) == 1
    placed = False
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            # One problem: its full sentence beside the field. Several: a summary on top and
            # the short note beside each.
            field.errors = [*list(field.errors or []), error.message if single else message]
            placed = True
    if not placed or not single:
        form.form_errors.append(error.message)


def form_data(form: FlaskForm, *names: str) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in names}


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths, so a crafted link cannot send someone to another site after login."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


def as_id(value: Any) -> int | None:
    """A posted id ("12") as an int; anything else as None, which services treat as unknown."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


@dataclass(frozen=True)
class Done(Generic[T]):
    """What a form's service returned, once it has succeeded and been committed."""

    value: T


def run_form(form: FlaskForm, action: Callable[[], T]) -> Done[T] | None:
    """The one way an HTML form edge acts: when the form was submitted and parses, call the
    service, commit, and return ``Done``. When it was not submitted, or the service refused
    the input, return None with the errors placed on the form (nothing is written)."""
    if not form.validate_on_submit():
        return None
    try:
        result = action()
    except INPUT_ERRORS as error:
        db.session.rollback()
        show_errors(form, error)
        return None
    db.session.commit()
    return Done(result)


def form_page(template: str, form: FlaskForm, **context: Any) -> tuple[str, int]:
    """Render a form page; 400 when it shows errors, so that tools and tests can tell."""
    status = 400 if form.errors or form.form_errors else 200
    return render_template(template, form=form, **context), status
