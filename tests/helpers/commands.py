"""Refusals of what was sent, wherever they happen: a command refuses its shape when it is
built at the edge (pydantic's types and ranges, or its own ``ValidationFailed`` for texts and
bounds), a service what depends on the database. Tests of bad input accept either and read
the fields named."""
from __future__ import annotations

from pydantic import ValidationError

from drafting.errors import ValidationFailed

#: What a test of bad input expects: the command's refusal or the service's.
INPUT_REFUSED = (ValidationFailed, ValidationError)


def refused_fields(error: BaseException) -> set[str]:
    """The fields a refusal names (a pydantic error's first location, as the API reports it)."""
    if isinstance(error, ValidationError):
        return {str(problem["loc"][0]) for problem in error.errors() if problem["loc"]}
    assert isinstance(error, ValidationFailed), error
    return set(error.fields)
