"""Domain errors and the one error shape every interface answers with.

Services raise ``DomainError`` subclasses with a message a person can act on. Edges never
build error bodies themselves: the HTTP handlers here and the socket layer both call
``error_body``, so the API and the sockets speak the same shape::

    {"error": {"code": "forbidden", "message": "...", "fields": {"title": "..."}}}
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from models.base import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    status = 400
    code = "invalid"


class NotAuthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


class Unavailable(DomainError):
    """Nothing wrong with the request; the server could not do it now (the database did not
    answer). Nothing was changed: send it again later."""

    status = 503
    code = "unavailable"


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    429: "rate_limited", 500: "internal_error", 503: "unavailable",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def http_title(status: int) -> str:
    titles = {
        400: _("The request could not be understood"),
        401: _("Please sign in"),
        403: _("You do not have access to this page"),
        404: _("Page not found"),
        405: _("This action is not available here"),
        409: _("This conflicts with the current state"),
        413: _("That is too large"),
        429: _("Too many attempts"),
        500: _("Something went wrong on our side"),
        503: _("Not available just now"),
    }
    return titles.get(status, _("Something went wrong"))


def http_message(status: int) -> str:
    messages = {
        401: _("Sign in to continue."),
        403: _("Your role does not allow this. Ask the secretariat or your group's chair if you need access."),
        404: _("There is nothing here, or it is not shared with you."),
        405: _("This address does not accept that kind of request."),
        413: _("The data sent is larger than Plenary accepts."),
        429: _("Please wait a little before trying again."),
        500: _("The error has been logged. Your last change was not saved; please try again."),
        503: _("The database did not answer, so nothing was changed. Please try again in a moment."),
    }
    return messages.get(status, _("Please go back and try again."))


def database_away(error: BaseException) -> bool:
    """The database locked past its timeout, restarted or cut the connection: nothing was
    written (the transaction is rolled back), so the answer is "unavailable", like the live
    editor's writer's; the pool replaces the connection for the next request. Any other
    database error (a constraint) is a bug."""
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


def roll_back_quietly() -> None:
    """Roll back after the database went away, when even that may fail: the session is
    reset all the same."""
    try:
        db.session.rollback()
    except DBAPIError:
        log.warning("rolling back after the database went away failed", exc_info=True)


def error_response(status: int, code: str, message: str,
                   fields: dict[str, str] | None = None) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify(error_body(code, message, fields)), status
    page = render_template(
        "errors/error.html", status=status, title=http_title(status), message=message,
        fields=fields or {},
    )
    return page, status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> tuple[Response | str, int]:
        db.session.rollback()
        return error_response(error.status, error.code, error.message, error.fields)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[Response | str, int]:
        db.session.rollback()
        return error_response(
            400, "csrf_failed",
            _("The form had expired or did not come from Plenary. Reload the page and try again."),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        db.session.rollback()
        status = error.code
        message = http_message(status)
        if status == 400 and error.description and wants_json():
            message = _("The request could not be understood.")
        response, status = error_response(status, HTTP_CODES.get(status, "error"), message)
        valid_methods = getattr(error, "valid_methods", None)
        if status == 405 and valid_methods:
            headers = {"Allow": ", ".join(sorted(valid_methods))}
            return _with_headers(response, status, headers)
        if status == 429 and error.get_headers():
            return _with_headers(response, status, dict(error.get_headers()))
        return response, status

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError) -> tuple[Response | str, int]:
        if not database_away(error):
            return unexpected_error(error)
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error.orig)
        roll_back_quietly()
        return error_response(503, "unavailable", http_message(503))

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response | str, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_response(500, "internal_error", http_message(500))


def _with_headers(body: Response | str, status: int, headers: dict[str, str]) -> Any:
    response = body if isinstance(body, Response) else Response(body, mimetype="text/html")
    response.status_code = status
    for name, value in headers.items():
        if name.lower() in {"allow", "retry-after"} or name.lower().startswith("x-ratelimit"):
            response.headers[name] = value
    return response


#: Errors about what was typed: HTML edges show them beside the form. Others (forbidden, not
#: found) become the friendly error page with their own status.
INPUT_ERRORS = (ValidationFailed, Conflict)
