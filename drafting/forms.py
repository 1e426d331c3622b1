"""What every HTML form edge shares: showing a service's field errors on the form."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask_wtf import FlaskForm

from drafting.errors import DomainError


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
