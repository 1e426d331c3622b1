"""The OpenAPI 3.1 document, built from the ``@endpoint`` declarations and pydantic models."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter

#: Where the API lives (its blueprint's prefix).
API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class Endpoint:
    """One declared endpoint (``drafting.api.endpoint``), as the document describes it."""

    rule: str
    method: str
    name: str
    summary: str
    tag: str
    response: Any
    status: int
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    #: Which failures the endpoint can answer with, for the OpenAPI document.
    errors: tuple[int, ...]

    @property
    def path_params(self) -> list[tuple[str, str]]:
        """(name, converter) pairs of the Flask rule, e.g. [("group_id", "int")]."""
        return [(name, conv or "string") for conv, name in
                re.findall(r"<(?:(\w+):)?(\w+)>", self.rule)]

    @property
    def openapi_path(self) -> str:
        return API_PREFIX + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)


REF = "#/components/schemas/{model}"


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. 'forbidden', 'invalid'.")
    message: str = Field(description="What went wrong, in the caller's language.")
    fields: dict[str, str] | None = Field(
        default=None, description="Per-field problems, when the input was at fault."
    )


class ErrorOut(BaseModel):
    """The one error shape of the API (and of the socket ``error`` event)."""

    error: ErrorDetail


STATUS_TEXT = {
    400: "Bad input: wrong types, missing fields, rule violated",
    401: "Not signed in, or the token is not valid",
    403: "Signed in, but this role may not do this",
    404: "No such object, or not visible to the caller",
    409: "Conflicts with the current state",
}


def _schema(adapter_type: Any, mode: str, components: dict[str, Any]) -> dict[str, Any]:
    schema = TypeAdapter(adapter_type).json_schema(mode=mode, ref_template=REF)  # type: ignore[arg-type]
    components.update(schema.pop("$defs", {}))
    return schema


def _named_model(model: type[BaseModel], mode: str, components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(mode=mode, ref_template=REF)  # type: ignore[arg-type]
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _parameters(declared: Endpoint, components: dict[str, Any]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer" if conv == "int" else "string"}}
        for name, conv in declared.path_params
    ]
    if declared.query is not None:
        query_schema = declared.query.model_json_schema(mode="validation", ref_template=REF)
        components.update(query_schema.pop("$defs", {}))
        required = set(query_schema.get("required", []))
        for name, prop in query_schema.get("properties", {}).items():
            parameters.append({"name": name, "in": "query", "required": name in required,
                               "schema": prop, "description": prop.get("description", "")})
    return parameters


@cache
def _build(endpoints: tuple[Endpoint, ...]) -> dict[str, Any]:
    components: dict[str, Any] = {}
    error_ref = _named_model(ErrorOut, "serialization", components)
    paths: dict[str, dict[str, Any]] = {}
    for declared in endpoints:
        responses: dict[str, Any] = {}
        if declared.response is None:
            responses[str(declared.status)] = {"description": "Done"}
        else:
            responses[str(declared.status)] = {
                "description": "Success",
                "content": {"application/json": {
                    "schema": _schema(declared.response, "serialization", components)}},
            }
        for code in declared.errors:
            responses[str(code)] = {
                "description": STATUS_TEXT.get(code, "Error"),
                "content": {"application/json": {"schema": error_ref}},
            }
        operation: dict[str, Any] = {
            "operationId": declared.name,
            "summary": declared.summary,
            "tags": [declared.tag],
            "parameters": _parameters(declared, components),
            "responses": responses,
        }
        if declared.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {
                    "schema": _named_model(declared.body, "validation", components)}},
            }
        paths.setdefault(declared.openapi_path, {})[declared.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Plenary API",
            "version": "1",
            "description": (
                "Conferences, working groups, participants, recommendations and clauses; the "
                "discussion of clauses (threads and comments, optionally anchored to a range of "
                "the text), amendments with their sponsors, redlines and the chair's "
                "decisions, each participant's notifications; votes (secret or roll-call, "
                "under a decision rule, with a verifiable record) and the statements attached "
                "to adopted texts. "
                "Authenticate with 'Authorization: Bearer <token>' (create tokens on your "
                "profile page or with 'flask token create EMAIL'), or from the browser with the "
                "session cookie plus the X-CSRFToken header on writes. Every error has the "
                "shape {\"error\": {\"code\", \"message\", \"fields\"?}}."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "plenary_session"},
            },
        },
    }


def build_document(endpoints: list[Endpoint]) -> dict[str, Any]:
    return _build(tuple(endpoints))
