"""The outcome document as JSON, for other systems: the outline in a documented, versioned
shape (``outcome.schema.json``, described field by field in docs/outcome-json.md).

Every object that stands for a row carries that row's database id (conference, working
groups, recommendations, clauses, votes, statements): ids never change and are never reused,
whereas the numbers ("2.3", "1.") are recomputed whenever the document is compiled. User
text is carried as written (``markdown``) and as the sanitiser's ``html``; a consumer that
shows formatting uses the ``html``, never its own rendering of the ``markdown``.

The bytes depend only on the outline: keys sorted, two-space indent, UTF-8 without
``\\u`` escapes, so the same outline always gives the same file.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drafting.export.outline import Outline

#: Raised when a field changes meaning or goes away; new optional fields keep the version.
FORMAT_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("outcome.schema.json")


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every rendered document validates against."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def _clause(clause: dict[str, Any]) -> dict[str, Any]:
    return {"id": clause["id"], "kind": clause["kind"], "number": clause["number"],
            "ad_referendum": clause["ad_referendum"],
            "text": clause["text"], "first_draft": clause["first_draft"],
            "changes": [{"op": p["op"], "text": p["text"]} for p in clause["changes"]]}


def _vote(vote: dict[str, Any]) -> dict[str, Any]:
    roll_call = vote["roll_call"]
    return {
        "id": vote["id"], "group": vote["group"], "subject": vote["subject"],
        "question": vote["question"], "rule": vote["rule"], "quorum": vote["quorum"],
        "eligible": vote["eligible"], "turnout": vote["turnout"], "secret": vote["secret"],
        # Pairs become objects: a consumer reads names, not positions.
        "counts": [{"option": label, "count": n} for label, n in vote["counts"]],
        "outcome": vote["outcome"], "closed_at": vote["closed_at"],
        "record_sha256": vote["record_sha256"],
        "roll_call": None if roll_call is None else [
            {"name": name, "choice": choice, "delegation": delegation or None}
            for name, choice, delegation in roll_call],
        "voting_unit": vote["voting_unit"],
        "roll_call_from": vote["roll_call_from"] or None,
        "number": vote["number"], "method": vote["method"], "decision": vote["decision"],
        "present": vote["present"],
    }


#: The members of the JSON form that make up the canonical text (see ``canonical_text``).
CANONICAL_MEMBERS = ("conference", "identification", "sections", "adoption")


def canonical_text(data: dict[str, Any]) -> bytes:
    """The canonical text of a document, from its JSON form (``document``, or the file read
    back): the members ``conference``, ``identification`` (less its ``canonical_sha256``),
    ``sections`` and ``adoption``, as one object serialised by the JSON Canonicalization
    Scheme (RFC 8785: keys sorted, no whitespace, strings as UTF-8 with only the required
    escapes; the document holds no floating-point numbers), in UTF-8. What the document
    adopts and says it is; not when it was generated, nor its records and annexes, which
    carry their own hashes. Documented in docs/outcome-json.md."""
    members = {name: data.get(name) for name in CANONICAL_MEMBERS}
    identification = members["identification"]
    if isinstance(identification, dict):
        members["identification"] = {k: v for k, v in identification.items()
                                     if k != "canonical_sha256"}
    return json.dumps(members, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def canonical_sha256(outline: Outline) -> str:
    """The SHA-256 (hex) of the outline's canonical text, as a final document prints it."""
    return hashlib.sha256(canonical_text(_document(outline, changes=False))).hexdigest()


def document(outline: Outline, *, changes: bool = False) -> dict[str, Any]:
    """The documented structure (before serialisation); a final one carries the SHA-256 of
    its canonical text."""
    data = _document(outline, changes=changes)
    if outline.final:
        data["identification"]["canonical_sha256"] = hashlib.sha256(
            canonical_text(data)).hexdigest()
    return data


def _identification(outline: Outline) -> dict[str, Any]:
    found = outline.identification
    if found is None:
        raise ValueError("an outline compiled without its identification")
    return {"symbol": found.symbol or None, "distribution": found.distribution,
            "distribution_label": found.distribution_label,
            "original_language": found.original_language, "original_label": found.original_label,
            "dates": found.dates, "place": found.place, "body_name": found.body_name,
            "final": outline.final, "canonical_sha256": None}


def _document(outline: Outline, *, changes: bool) -> dict[str, Any]:
    data = outline.to_dict()
    return {
        "format_version": FORMAT_VERSION,
        "changes_since_first_draft": changes,
        "generated_at": outline.generated_at.isoformat(),
        "draft": data["draft"],
        "pending": data["pending"],
        "group_id": data["group_id"],
        "conference": {
            "id": data["conference_id"], "title": data["title"], "venue": data["venue"],
            "starts_on": outline.starts_on.isoformat(), "ends_on": outline.ends_on.isoformat(),
            "organisers": data["organisers"], "preamble": data["preamble"],
        },
        "identification": _identification(outline),
        "sections": [{
            "id": s["id"], "number": s["number"], "name": s["name"], "mandate": s["mandate"],
            "recommendations": [{
                "id": r["id"], "number": r["number"], "title": r["title"],
                "preambular": [_clause(c) for c in r["preambular"]],
                "operative": [_clause(c) for c in r["operative"]],
            } for r in s["recommendations"]],
            "not_adopted": [{
                "id": n["id"], "title": n["title"], "outcome": n["outcome"],
                "votes": None if n["counts"] is None else dict(zip(
                    ("yes", "no", "abstain"), n["counts"], strict=True)),
                "how": n["how"],
            } for n in s["not_adopted"]],
        } for s in data["sections"]],
        "votes": [_vote(v) for v in data["votes"]],
        "statements": data["statements"],
        "participants": data["participants"],
        "adoption": _adoption(data["adoption"]),
        "chairs_summary": data["chairs_summary"] if outline.chairs_summary.markdown else None,
    }


def _adoption(adoption: dict[str, Any] | None) -> dict[str, Any] | None:
    if adoption is None:
        return None
    counts = adoption["counts"]
    return {"adopted_on": adoption["adopted_on"], "place": adoption["place"],
            "meeting": adoption["meeting"], "method": adoption["method"],
            "votes": None if counts is None else dict(zip(("yes", "no", "abstain"), counts,
                                                          strict=True)),
            "line": adoption["line"], "how": adoption["how"]}


def render(outline: Outline, *, changes: bool = False,
           progress: Callable[[float], None] | None = None) -> bytes:
    """UTF-8 JSON. The clauses always carry their first draft and word-level changes;
    ``changes`` only records which version of the document was asked for."""
    text = json.dumps(document(outline, changes=changes), ensure_ascii=False, sort_keys=True,
                      indent=2)
    return (text + "\n").encode("utf-8")
