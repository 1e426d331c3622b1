"""The JSON API under /api/v1.

Each capability declares its endpoints with ``@endpoint`` in its own routes module. The
decorator is the API's one edge: it authenticates, parses the path, query and body against
pydantic models, calls the view (which calls one service), commits once, and serialises the
response. The same declarations generate the OpenAPI document, so the document cannot drift
from what the endpoints really accept and return.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from drafting.api.auth import api_participant
from drafting.api.openapi import API_PREFIX, Endpoint, build_document
from drafting.errors import ValidationFailed
from models import db

api_blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)


ENDPOINTS: list[Endpoint] = []


def _field_errors(error: PydanticValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for problem in error.errors():
        location = ".".join(str(part) for part in problem["loc"]) or "body"
        fields.setdefault(location, problem["msg"])
    return fields


def _parse_body(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate_json(request.get_data() or b"")
    except PydanticValidationError as error:
        fields = _field_errors(error)
        # Only the body itself not being an object; a nested object of the wrong type (an
        # anchor sent as a string) is a field problem, named in ``fields``.
        if any(p["type"] == "json_invalid" or (p["type"] == "model_type" and not p["loc"])
               for p in error.errors()):
            raise ValidationFailed(_("The request body must be a JSON object.")) from None
        raise ValidationFailed(_("Some fields are missing or have the wrong type."),
                               fields=fields) from None


def _parse_query(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(request.args.to_dict())
    except PydanticValidationError as error:
        raise ValidationFailed(_("Some query parameters are not valid."),
                               fields=_field_errors(error)) from None


def endpoint(rule: str, method: str = "GET", *, summary: str, tag: str, response: Any = None,
             status: int = 200, body: type[BaseModel] | None = None,
             query: type[BaseModel] | None = None,
             errors: tuple[int, ...] = (401, 403, 404)) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API endpoint. The view gets ``(actor, **path_args, [body=], [query=])``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        declared = Endpoint(rule, method, view.__name__, summary, tag, response, status, body,
                            query, tuple(sorted({*errors, 401} | ({400} if body or query else set()))))
        ENDPOINTS.append(declared)
        adapter = TypeAdapter(response) if response is not None else None

        def handle(**path_args: Any) -> Response | tuple[Response, int]:
            actor = api_participant()
            arguments: dict[str, Any] = dict(path_args)
            if query is not None:
                arguments["query"] = _parse_query(query)
            if body is not None:
                arguments["body"] = _parse_body(body)
            result = view(actor, **arguments)
            payload = adapter.dump_python(result, mode="json") if adapter else None
            db.session.commit()
            if adapter is None:
                return Response(status=204)
            return jsonify(payload), status

        handle.__name__ = view.__name__
        api_blueprint.add_url_rule(rule, endpoint=view.__name__, view_func=handle,
                                   methods=[method])
        return view

    return decorate


@api_blueprint.get("/openapi.json")
def openapi_document() -> Response:
    return jsonify(build_document(ENDPOINTS))
