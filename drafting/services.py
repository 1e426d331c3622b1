"""Helpers shared by every capability's services: loading by id, field validation, and the
one check that a conference is still open to change."""
from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import BigInteger, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import set_committed_value

from drafting.errors import Conflict, NotFound, ValidationFailed
from models import Conference, Recommendation, WorkingGroup
from models.base import db

M = TypeVar("M")


def is_id(model: type[Any], value: Any) -> bool:
    """Whether ``value`` could be an id of ``model``: a positive integer its key column can
    hold. Anything else names nothing, and must not reach the database driver, which fails
    on an integer the column cannot store (PostgreSQL's INTEGER ends at 2**31 - 1)."""
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    key = sa_inspect(model).primary_key[0]
    limit = 2**63 if isinstance(key.type, BigInteger) else 2**31
    return 0 < value < limit


def load(model: type[M], object_id: Any) -> M:
    """The row with this id, or NotFound. Visibility is checked by the caller's service."""
    if not is_id(model, object_id):
        raise NotFound(_("Not found."))
    found = db.session.get(model, object_id)
    if found is None:
        raise NotFound(_("Not found."))
    return found


def clean_text(value: Any, field: str, label: str, *, max_length: int,
               required: bool = True) -> str:
    """Trimmed text within bounds, or a ValidationFailed naming the field."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(_("%(label)s must be text.", label=label), fields={field: _("Must be text.")})
    value = value.strip()
    if "\x00" in value:
        raise ValidationFailed(
            _("%(label)s contains a character that is not allowed.", label=label),
            fields={field: _("Contains a character that is not allowed.")},
        )
    if required and not value:
        raise ValidationFailed(_("%(label)s is required.", label=label), fields={field: _("Required.")})
    if len(value) > max_length:
        message = _("At most %(n)d characters.", n=max_length)
        raise ValidationFailed(_("%(label)s is too long.", label=label), fields={field: message})
    return value



def validate_all(**validators: Any) -> dict[str, Any]:
    """Run each zero-argument validator; report every failing field at once, not just the first."""
    values: dict[str, Any] = {}
    fields: dict[str, str] = {}
    first_message = ""
    for name, validator in validators.items():
        try:
            values[name] = validator()
        except ValidationFailed as error:
            fields.update(error.fields or {name: error.message})
            first_message = first_message or error.message
    if fields:
        if len(fields) > 1:
            first_message = _("Please correct the highlighted fields.")
        raise ValidationFailed(first_message, fields=fields)
    return values


# --- a closed conference -------------------------------------------------------------------


def closed_message(finalised_at: datetime) -> str:
    """What every refusal of a change to a closed conference says."""
    return _("This conference is closed: its outcome document was finalised on %(date)s. "
             "Nothing can be changed any more.", date=format_date(finalised_at, "d MMMM y"))


def check_conference_open(where: Conference | Recommendation, *, serialise: bool = True) -> None:
    """Refuse (409) any change to the texts of a conference whose outcome document has been
    finalised. Every service that changes a conference's content calls it first.

    ``where``: the conference, or a recommendation of it (read in one query, without loading
    its group). The finalisation is read from the database, not from memory; on PostgreSQL
    under a share lock of the conference's row, kept until the commit: finalising (which
    updates that row) waits for the changes under way, and a change that comes after it sees
    it. ``serialise`` False reads without the lock, for changes already serialised with
    finalising otherwise (a ballot: only in an open vote, and an open vote keeps the
    conference from being finalised)."""
    if isinstance(where, Conference):
        query = select(Conference.finalised_at).where(Conference.id == where.id)
    else:
        query = (select(Conference.finalised_at)
                 .join(WorkingGroup, WorkingGroup.conference_id == Conference.id)
                 .join(Recommendation, Recommendation.group_id == WorkingGroup.id)
                 .where(Recommendation.id == where.id))
    if serialise and db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True, of=Conference)
    finalised_at = db.session.scalar(query)
    if finalised_at is not None:
        if isinstance(where, Conference):
            set_committed_value(where, "finalised_at", finalised_at)
        raise Conflict(closed_message(finalised_at))
