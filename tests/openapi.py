"""Check API answers against the served OpenAPI document: the contract is what we test."""
from __future__ import annotations

import re
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator


@cache
def _document(app: Any) -> dict[str, Any]:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


@cache
def _path_patterns(app: Any) -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for template in _document(app)["paths"]:
        regex = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "$"
        patterns.append((re.compile(regex), template))
    return patterns


def operation_for(app: Any, method: str, url: str) -> dict[str, Any] | None:
    path = urlsplit(url).path
    for pattern, template in _path_patterns(app):
        if pattern.match(path):
            return _document(app)["paths"][template].get(method.lower())
    return None


def assert_matches_document(app: Any, method: str, url: str, response: Any) -> None:
    operation = operation_for(app, method, url)
    if operation is None:
        # Unknown paths and methods answer with the error shape; nothing else to check.
        assert response.get_json()["error"]["code"] in {"not_found", "method_not_allowed"}
        return
    declared = operation["responses"].get(str(response.status_code))
    assert declared is not None, (
        f"{method} {url} answered {response.status_code}, which its OpenAPI operation "
        f"does not declare ({sorted(operation['responses'])}): {response.get_data(as_text=True)[:500]}"
    )
    content = declared.get("content")
    if content is None:
        assert not response.get_data(), f"{method} {url}: body on a response declared empty"
        return
    schema = {**content["application/json"]["schema"],
              "components": _document(app)["components"]}
    Draft202012Validator(schema).validate(response.get_json())
