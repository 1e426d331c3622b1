"""What every HTML form edge shares: the form read into its command (``command_from``), the
service run and committed (``run_form``), its refusals shown on the form (``place_errors``)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import flash, redirect, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from drafting.errors import INPUT_ERRORS, DomainError, ValidationFailed
from models import db

T = TypeVar("T")
C = TypeVar("C", bound=BaseModel)


def place_errors(form: FlaskForm, error: DomainError, *, message_above: bool = False) -> None:
    """Put a refusal's errors beside the fields they concern: the one way every HTML edge
    shows them. A page that shows the whole message above the form itself (the discussion
    panel, the vote console: the form refused may be one they no longer offer) gets each
    field's short note. Otherwise one problem's full sentence goes beside its field; several
    (or none of the form's fields): a summary on top and the short note beside each."""
    single = len(error.fields) == 1 and not message_above
    placed = False
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors") and name != "csrf_token":
            field.errors = [*list(field.errors or []), error.message if single else message]
            placed = True
    if not message_above and (not placed or not single):
        form.form_errors.append(error.message)


def command_from(model: type[C], values: dict[str, Any],
                 refusals: Mapping[str, tuple[str, str]] | None = None) -> C:
    """A form's command: what was posted, validated by the same model (and so the same rules)
    as the API's JSON body. A field that does not fit is refused in the form's words,
    ``refusals``: field -> (message, the short note beside it), since a person typed it
    (the API answers pydantic's own); several at once: a summary above them."""
    try:
        return model.model_validate(values)
    except PydanticValidationError as error:
        fields: dict[str, str] = {}
        messages: list[str] = []
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "__all__"
            if name in fields:
                continue
            message, note = (refusals or {}).get(name) or (
                _("Some fields are missing or have the wrong type."), problem["msg"])
            fields[name] = str(note)
            messages.append(str(message))
        raise ValidationFailed(messages[0] if len(fields) == 1
                               else _("Please correct the highlighted fields."),
                               fields=fields) from None


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
class Refusal:
    """How a page answers a refused form: ``render(error)`` shows the page again with the
    form as it was sent (``error`` None: the form itself did not parse, or was not sent)."""

    render: Callable[[DomainError | None], ResponseReturnValue]
    #: The refusals shown on the page; any other (forbidden, not found) is the friendly
    #: error page, with its own status.
    errors: tuple[type[DomainError], ...] = INPUT_ERRORS
    #: The page shows the refusal's message above the form itself (see ``place_errors``).
    message_above: bool = False


def run_form(form: FlaskForm | None, action: Callable[[], T], *,
             done: Callable[[T], ResponseReturnValue], refused: Refusal | None = None,
             check: Callable[[], object] | None = None) -> ResponseReturnValue:
    """The one way an HTML form edge acts, as ``api.endpoint`` is the API's: when the form
    was submitted and its fields parse, run ``action`` (it turns the form into its command,
    ``form.command()``, and calls one service), commit, and answer ``done(result)``.
    ``check``, the service's ``check_can_...``, runs first: someone who may not act is told
    so, not what was wrong with what they typed.

    Not submitted (a GET), or refused (the command or the service raised one of
    ``refused.errors``): nothing is written, the errors are placed on the form and the page
    is rendered again by ``refused``. Without a form (a button: the CSRF token is checked
    for every POST) or a ``refused``, every refusal is the friendly error page."""
    def act() -> T:
        if check is not None:
            check()
        return action()

    if refused is None:
        result = act()
        db.session.commit()
        return done(result)
    if form is not None and not form.validate_on_submit():
        return refused.render(None)
    try:
        result = act()
    except refused.errors as error:
        db.session.rollback()
        if form is not None:
            place_errors(form, error, message_above=refused.message_above)
        return refused.render(error)
    db.session.commit()
    return done(result)


def flashed(message: str, target: str) -> ResponseReturnValue:
    """What a form edge usually answers once done: a flash, and a redirect to ``target``."""
    flash(message, "success")
    return redirect(target)


def form_page(template: str, form: FlaskForm, **context: Any) -> tuple[str, int]:
    """Render a form page; 400 when it shows errors, so that tools and tests can tell."""
    status = 400 if form.errors or form.form_errors else 200
    return render_template(template, form=form, **context), status
