"""Anchors made by the real Yjs (Node, as in the browser) resolve on the server to the same
words, in text that is not ASCII too: Yjs counts UTF-16 units, pycrdt UTF-8 bytes."""
from __future__ import annotations

import base64
import json
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drafting.editing import positions
from drafting.editing import services as editing
from models import ClauseKind, db
from tests.conftest import ROOT

pytestmark = [pytest.mark.node, pytest.mark.usefixtures("node")]
SCRIPT = ROOT / "tests" / "node" / "relative_positions.mjs"


def in_browser(node: str, clause, edits: list[list], *, keystrokes: bool = False,
               **config: object) -> dict:
    """Edit the clause as a browser would (tests/node/relative_positions.mjs, with ``config``:
    a ``phrase`` or ``indices`` to encode), and apply the edits on the server as accepted
    updates: all in one, or (``keystrokes``) each edit as its own update, as typing sends
    them (and pycrdt squashes them into blocks)."""
    with editing._document(clause, writing=False) as live:
        state = live.doc.get_update()
    db.session.commit()
    config = {"state": base64.b64encode(state).decode(), "edits": edits, **config}
    made = json.loads(subprocess.run([node, str(SCRIPT), json.dumps(config)], cwd=ROOT,  # noqa: S603 - our own script
                                     capture_output=True, check=True, timeout=30, text=True).stdout)
    author = clause.recommendation.group.memberships[0].participant
    for update in (made["updates"] if keystrokes else [made["update"]] if edits else []):
        editing.apply_update(clause, author, base64.b64decode(update))
        db.session.commit()
    return made


def browser_anchor(node: str, clause, edits: list[list], phrase: str) -> dict:
    """Edit the clause as a browser would, and anchor ``phrase`` there."""
    return in_browser(node, clause, edits, phrase=phrase)


@pytest.mark.parametrize("text, edits, phrase", [
    ("Calls on States to protect migrant workers;", [], "migrant workers"),
    ("Приветствует «мигрантов» 🌍 из региона;", [], "🌍 из регио"),
    ("Приветствует «мигрантов» 🌍 из региона;",
     [["insert", 0, "ab🌍"], ["delete", 5, 2], ["insert", 20, "ЖЖ🌍"]], "тов» 🌍 из"),
    ("aé🌍b c", [["insert", 2, "日本"]], "日本🌍b"),
])
def test_browser_anchors_resolve_to_the_same_words(ctx, factories, node, text, edits, phrase):
    cast = factories.cast()
    clause = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, text)]).clauses[0]
    made = browser_anchor(node, clause, edits, phrase)
    span = editing.resolve_anchor(clause, base64.b64decode(made["start"]), base64.b64decode(made["end"]))
    assert (span.text, clause.text) == (phrase, made["text"])
    assert made["text"][span.start:span.end] == phrase


def test_positions_the_server_makes_are_the_browsers(ctx, factories, node):
    cast = factories.cast()
    clause = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, "Приветствует «мигрантов» 🌍 из региона;")]).clauses[0]
    made = browser_anchor(node, clause, [["insert", 0, "ЖЖ🌍 "]], "🌍 из")
    with editing._document(clause, writing=False) as live:
        start = made["text"].index("🌍 из")
        assert positions.encode(live, start, 0) == base64.b64decode(made["start"])
        assert positions.encode(live, start + len("🌍 из"), -1) == base64.b64decode(made["end"])


def typed(node: str, clause, edits: list[list], indices: list[list[int]]) -> dict:
    """Type ``edits`` keystroke by keystroke, and encode the positions ``indices`` ([UTF-16
    offset, assoc]) as that browser would."""
    return in_browser(node, clause, edits, keystrokes=True, indices=indices)


def keystrokes(index: int, words: str) -> list[list]:
    """One insertion per character, as typing makes them (UTF-16 offsets)."""
    edits = []
    for character in words:
        edits.append(["insert", index, character])
        index += len(character.encode("utf-16-le")) // 2
    return edits


def test_anchors_in_text_typed_in_several_scripts_quote_the_anchored_words(ctx, factories, node):
    """Cyrillic typed at the end, Latin at the start, then Cyrillic at the end again: pycrdt
    squashes one person's keystrokes into blocks whose ids it counts in bytes, and anchors
    landed on other words ("zz" quoted "в ")."""
    cast = factories.cast()
    clause = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Strongly urges")]).clauses[0]
    edits = keystrokes(14, " в конец") + keystrokes(0, "zz ") + keystrokes(25, " и их семьи")
    final = "zz Strongly urges в конец и их семьи"
    wanted = {"zz": final.index("zz"), "в конец": final.index("в конец"), "Strongly": final.index("Strongly"),
              "их се": final.index("их се")}
    indices = []
    for words, start in wanted.items():
        indices += [[len(final[:start].encode("utf-16-le")) // 2, 0],
                    [len(final[:start + len(words)].encode("utf-16-le")) // 2, -1]]
    made = typed(node, clause, edits, indices)
    assert made["text"] == final == clause.text
    encoded = [base64.b64decode(position) for position in made["positions"]]
    for number, words in enumerate(wanted):
        span = editing.resolve_anchor(clause, encoded[2 * number], encoded[2 * number + 1])
        assert span.text == words
    # More typing everywhere: the anchors stay on their words.
    more = keystrokes(0, "Ёж ") + keystrokes(40, " 🌍 и ещё")
    typed(node, clause, more, [])
    for number, words in enumerate(wanted):
        assert editing.resolve_anchor(clause, encoded[2 * number], encoded[2 * number + 1]).text == words


UNICODE = st.text(alphabet=st.sampled_from(list("ab zЖжё€日本🌍👍𝄞é")), min_size=1, max_size=6)


@st.composite
def editing_scripts(draw: st.DrawFn) -> tuple[str, list[list], list[list[int]]]:
    """A starting text, a browser's keystrokes and deletions in it, and positions to anchor
    (UTF-16 offsets at character boundaries of the final text, with their assoc)."""
    text = ""
    edits: list[list] = []
    for _ in range(draw(st.integers(1, 6))):
        if text and draw(st.booleans()) and len(text) > 1:
            start = draw(st.integers(0, len(text) - 1))
            end = draw(st.integers(start + 1, len(text)))
            edits.append(["delete", len(text[:start].encode("utf-16-le")) // 2,
                          len(text[start:end].encode("utf-16-le")) // 2])
            text = text[:start] + text[end:]
        else:
            where = draw(st.integers(0, len(text)))
            words = draw(UNICODE)
            edits += keystrokes(len(text[:where].encode("utf-16-le")) // 2, words)
            text = text[:where] + words + text[where:]
    indices = [[len(text[:i].encode("utf-16-le")) // 2, draw(st.sampled_from([0, -1]))]
               for i in draw(st.lists(st.integers(0, len(text)), min_size=1, max_size=6))]
    return text, edits, indices


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=editing_scripts(), start=st.text(alphabet=st.sampled_from(list("Ab Жё🌍")), min_size=1, max_size=5))
def test_every_position_a_browser_makes_is_where_the_server_finds_it(ctx, factories, node, script, start):
    """Random Unicode, random keystrokes and deletions: each browser position resolves on the
    server to the same character, and the server encodes each index as the browser does."""
    final, edits, indices = script
    cast = factories.cast()
    clause = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, start)]).clauses[0]
    edits = [["insert", len(start.encode("utf-16-le")) // 2, " "]] + \
        [[op, index + len(start.encode("utf-16-le")) // 2 + 1, value] for op, index, value in edits]
    final = start + " " + final
    offset = len(start.encode("utf-16-le")) // 2 + 1
    indices = [[units + offset, assoc] for units, assoc in indices]
    made = typed(node, clause, edits, indices)
    assert made["text"] == final == clause.text
    with editing._document(clause, writing=False) as live:
        for (units, assoc), encoded in zip(indices, made["positions"], strict=True):
            index = positions.index_of_utf16(final, units)
            assert positions.resolve(live, base64.b64decode(encoded)) == index
            assert positions.encode(live, index, assoc) == base64.b64decode(encoded)
