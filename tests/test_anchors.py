"""Anchors made by the real Yjs (Node, as in the browser) resolve on the server to the same
words, in text that is not ASCII too: Yjs counts UTF-16 units, pycrdt UTF-8 bytes."""
from __future__ import annotations

import base64
import json
import subprocess

import pytest

from drafting.editing import anchors
from drafting.editing import services as editing
from models import ClauseKind, db
from tests.test_node_client import ROOT, node  # noqa: F401 - the fixture

pytestmark = [pytest.mark.node, pytest.mark.usefixtures("node")]
SCRIPT = ROOT / "tests" / "node" / "relative_positions.mjs"


def browser_anchor(node: str, clause, edits: list[list], phrase: str) -> dict:  # noqa: F811
    """Edit the clause as a browser would, and anchor ``phrase`` there; the edits are applied
    on the server too, as accepted updates."""
    with editing._document(clause, writing=False) as live:
        state = live.doc.get_update()
    db.session.commit()
    config = {"state": base64.b64encode(state).decode(), "edits": edits, "phrase": phrase}
    made = json.loads(subprocess.run([node, str(SCRIPT), json.dumps(config)], cwd=ROOT,  # noqa: S603 - our own script
                                     capture_output=True, check=True, timeout=30, text=True).stdout)
    if edits:
        editing.apply_update(clause, clause.recommendation.group.memberships[0].participant,
                             base64.b64decode(made["update"]))
        db.session.commit()
    return made


@pytest.mark.parametrize("text, edits, phrase", [
    ("Calls on States to protect migrant workers;", [], "migrant workers"),
    ("Приветствует «мигрантов» 🌍 из региона;", [], "🌍 из регио"),
    ("Приветствует «мигрантов» 🌍 из региона;",
     [["insert", 0, "ab🌍"], ["delete", 5, 2], ["insert", 20, "ЖЖ🌍"]], "тов» 🌍 из"),
    ("aé🌍b c", [["insert", 2, "日本"]], "日本🌍b"),
])
def test_browser_anchors_resolve_to_the_same_words(ctx, factories, node, text, edits, phrase):  # noqa: F811
    cast = factories.cast()
    clause = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, text)]).clauses[0]
    made = browser_anchor(node, clause, edits, phrase)
    span = editing.resolve_anchor(clause, base64.b64decode(made["start"]), base64.b64decode(made["end"]))
    assert (span.text, clause.text) == (phrase, made["text"])
    assert made["text"][span.start:span.end] == phrase


def test_positions_the_server_makes_are_the_browsers(ctx, factories, node):  # noqa: F811
    cast = factories.cast()
    clause = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, "Приветствует «мигрантов» 🌍 из региона;")]).clauses[0]
    made = browser_anchor(node, clause, [["insert", 0, "ЖЖ🌍 "]], "🌍 из")
    with editing._document(clause, writing=False) as live:
        start = made["text"].index("🌍 из")
        assert anchors.encode(live, start, 0) == base64.b64decode(made["start"])
        assert anchors.encode(live, start + len("🌍 из"), -1) == base64.b64decode(made["end"])
