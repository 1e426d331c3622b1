"""The server's own reading of Yjs updates (drafting/realtime/yupdate.py) and its conversions
between code points, UTF-8 and UTF-16 (drafting/editing/positions.py), property-tested on
random Unicode and random edits: what it reads must be what pycrdt (and so Yjs) does."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text

from drafting.editing import docs, positions
from drafting.editing import services as editing
from drafting.realtime import protocol, yupdate
from models import ClauseKind, db

# What is checked here does not depend on the database: run once (tests/conftest.py).
pytestmark = pytest.mark.database_independent

CHARACTERS = st.sampled_from(list("ab zЖжё€日本🌍👍𝄞é\n«»"))
WORDS = st.text(alphabet=CHARACTERS, max_size=12)


@st.composite
def edited_documents(draw: st.DrawFn) -> tuple[Doc, list[bytes]]:
    """A document edited by up to three clients at random places, and each edit's update."""
    doc: Doc = Doc()
    text = doc.get("text", type=Text)
    updates: list[bytes] = []
    for _ in range(draw(st.integers(1, 12))):
        other: Doc = Doc(client_id=draw(st.sampled_from([11, 22, 33])))
        other_text = other.get("text", type=Text)
        other.apply_update(doc.get_update())
        before = other.get_state()
        current = str(other_text)
        if current and draw(st.booleans()):
            start = draw(st.integers(0, len(current) - 1))
            end = draw(st.integers(start + 1, len(current)))
            del other_text[positions.utf8_offset(current, start):positions.utf8_offset(current, end)]
        else:
            where = draw(st.integers(0, len(current)))
            other_text.insert(positions.utf8_offset(current, where), draw(WORDS.filter(bool)))
        update = other.get_update(before)
        doc.apply_update(update)
        updates.append(update)
    assert text is not None
    return doc, updates


@settings(max_examples=60, deadline=None)
@given(edited=edited_documents())
def test_what_the_server_reads_of_an_update_is_what_pycrdt_applies(edited):
    doc, updates = edited
    full = doc.get_update()
    known = yupdate.Known.of_document(full)
    assert known.state == protocol.parse_state_vector(doc.get_state())
    for update in updates:
        read = yupdate.read_update(update)
        yupdate.check_update(read, known)  # everything pycrdt's own editing makes is taken
        assert not yupdate.new_clients(read, known) and not yupdate.new_deletions(read, known)
    # The placeholder copy has the same items in the same order, one ASCII letter a UTF-16 unit.
    placeholder: Doc = Doc()
    placeholder_text = placeholder.get("text", type=Text)
    placeholder.apply_update(yupdate.with_placeholder_text(full, yupdate.read_update(full)))
    assert str(placeholder_text) == "a" * yupdate.utf16_length(str(doc.get("text", type=Text)))


@settings(max_examples=60, deadline=None)
@given(edited=edited_documents())
def test_a_whole_document_is_taken_in_any_order_of_its_clients(edited):
    """Yjs writes an update's clients in the order of their ids, not of what builds on what:
    a replica's whole state (a sync step 2 to an empty server) is taken whatever its clients'
    ids, and so is every update of it with its clients written in reverse."""
    doc, _updates = edited
    full = doc.get_update()
    read = yupdate.read_update(full)
    yupdate.check_update(read, yupdate.Known())
    groups = read.groups
    reversed_update = protocol.write_var_uint(len(groups)) + b"".join(
        full[start:end] for _client, start, end in reversed(groups)) + full[read.delete_set_offset:]
    yupdate.check_update(yupdate.read_update(reversed_update), yupdate.Known())
    replica: Doc = Doc()
    replica.apply_update(reversed_update)
    assert str(replica.get("text", type=Text)) == str(doc.get("text", type=Text))


@given(text=st.text(alphabet=CHARACTERS, max_size=30), data=st.data())
def test_offsets_convert_between_code_points_utf8_and_utf16(text, data):
    index = data.draw(st.integers(0, len(text)))
    assert positions.utf8_offset(text, index) == len(text[:index].encode())
    units = positions.utf16_offset(text, index)
    assert units == len(text[:index].encode("utf-16-le")) // 2
    assert positions.index_of_utf16(text, units) == index


@given(ranges=st.lists(st.tuples(st.integers(0, 50), st.integers(1, 10)), max_size=8),
       known=st.lists(st.tuples(st.integers(0, 50), st.integers(1, 10)), max_size=8))
def test_deleted_ranges_are_subtracted_exactly(ranges, known):
    covered = {c for clock, length in known for c in range(clock, clock + length)}
    wanted = {c for clock, length in ranges for c in range(clock, clock + length)} - covered
    left = yupdate.subtract_ranges(ranges, yupdate.normalise_ranges(known))
    assert {c for clock, length in left for c in range(clock, clock + length)} == wanted
    decoded = yupdate.read_update(b"\x00" + yupdate.encode_delete_set({7: left}))
    assert yupdate.normalise_ranges(decoded.deletions.get(7, [])) == yupdate.normalise_ranges(left)


@pytest.mark.parametrize("update", [
    b"\x01\x01\x05\x00\x08\x01\x04text\x01\x7d\x02",  # ContentAny, a number: read, refused later
    b"\x01\x01\x05\x00\x05\x01\x04text\x0b{\"image\":1}",  # an embed
    b"\x01\x01\x05\x00\x07\x01\x04text\x01",  # a nested map
])
def test_content_kinds_a_clause_never_holds_are_read_then_refused(update):
    read = yupdate.read_update(update + b"\x00")
    with pytest.raises(yupdate.Refused):
        yupdate.check_update(read, yupdate.Known())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.text(alphabet=CHARACTERS, max_size=20), target=st.text(alphabet=CHARACTERS, max_size=20))
def test_a_server_edit_turns_any_text_into_any_other_and_every_replica_agrees(ctx, factories, start, target):
    """The server's edits (an accepted amendment, a restore, a PATCH) in random Unicode: the
    document holds exactly the new text, a replica that applies the relayed update too, and so
    does the clause rebuilt from its log."""
    cast = factories.cast()
    clause = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, start)]).clauses[0]
    with editing._document(clause, writing=False) as live:
        replica: Doc = Doc()
        replica.apply_update(live.doc.get_update())
        before = live.doc.get_state()
    db.session.commit()
    editing.replace_text(clause, cast.chair, target)
    db.session.commit()
    with editing._document(clause, writing=False) as live:
        replica.apply_update(live.doc.get_update(before))
        assert str(live.text) == target
    db.session.commit()
    assert str(replica.get("text", type=Text)) == target == clause.text
    rebuilt = docs.LiveDoc(clause.id, *docs.new_doc())
    docs.catch_up(rebuilt)
    assert str(rebuilt.text) == target
