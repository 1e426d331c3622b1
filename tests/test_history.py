"""A clause's history: sessions by author, the text at any point, word diffs, restoring."""
from __future__ import annotations

import pytest

from drafting.editing.diff import word_diff
from drafting.history import services as history
from drafting.recommendations.schemas import ClausePatch
from drafting.recommendations.services import update_clause
from models import ClauseKind, ClauseUpdate, GroupRole, db


@pytest.fixture
def drafted(ctx, factories):
    """A clause edited three times, by two people."""
    group = factories.group()
    chair = factories.member_of(group, GroupRole.CHAIR, name="Chair Person")
    member = factories.member_of(group, GroupRole.MEMBER, name="Member Person")
    observer = factories.member_of(group, GroupRole.OBSERVER)
    recommendation = factories.recommendation(group, clauses=[
        (ClauseKind.OPERATIVE, "Calls on States to protect workers;")])
    clause = recommendation.clauses[0]
    update_clause(chair, clause, ClausePatch(text="Calls on States to protect migrant workers;"))
    db.session.commit()
    update_clause(member, clause, ClausePatch(text="Urges States to protect migrant workers and their families;"))
    db.session.commit()
    points = db.session.scalars(db.select(ClauseUpdate.id).order_by(ClauseUpdate.id)).all()
    return clause, chair, member, observer, points


def test_word_diff_marks_inserted_and_deleted_words():
    assert word_diff("Calls on States to act;", "Urges States to act now;") == [
        {"op": "delete", "text": "Calls on"}, {"op": "insert", "text": "Urges"},
        {"op": "equal", "text": " States to "}, {"op": "delete", "text": "act;"},
        {"op": "insert", "text": "act now;"},
    ]
    assert word_diff("same", "same") == [{"op": "equal", "text": "same"}]


def test_sessions_group_edits_by_author(drafted):
    clause, _chair, _member, _observer, points = drafted
    sessions = history.editing_sessions(clause)
    assert [(s.author.name if s.author else None, s.updates) for s in sessions] == [
        ("Member Person", 1), ("Chair Person", 1), (None, 1)]
    assert sessions[0].last_update_id == points[-1]


def test_text_at_every_point(drafted):
    clause, *_people, points = drafted
    assert [history.text_at(clause, point) for point in points] == [
        "Calls on States to protect workers;",
        "Calls on States to protect migrant workers;",
        "Urges States to protect migrant workers and their families;",
    ]


@pytest.mark.parametrize("bad", [0, -1, 10**30, "3", None, True])
def test_unknown_points_are_not_found(drafted, bad):
    from drafting.errors import NotFound

    clause, *_rest = drafted
    with pytest.raises(NotFound):
        history.text_at(clause, bad)


def test_restoring_an_earlier_wording_is_a_new_edit(drafted):
    clause, chair, _member, _observer, points = drafted
    history.restore_wording(chair, clause, points[0])
    db.session.commit()
    assert clause.text == "Calls on States to protect workers;"
    sessions = history.editing_sessions(clause)
    assert sessions[0].author.id == chair.id and len(sessions) == 4
    # ... and the wording it replaced is still in the history.
    assert history.text_at(clause, points[-1]).startswith("Urges")


def test_observers_cannot_restore(drafted):
    from drafting.errors import PermissionDenied

    clause, _chair, _member, observer, points = drafted
    with pytest.raises(PermissionDenied):
        history.restore_wording(observer, clause, points[0])


def test_history_page_and_api(app, factories):
    group = factories.group()
    member = factories.member_of(group, GroupRole.MEMBER)
    recommendation = factories.recommendation(group, clauses=[(ClauseKind.OPERATIVE, "Calls on <b>States</b>;")])
    token = factories.api_token(member)
    client = app.test_client()
    with app.app_context():
        from models import Clause

        clause_id = db.session.scalars(db.select(Clause.id).where(
            Clause.recommendation_id == recommendation.id)).one()
    api = f"/api/v1/clauses/{clause_id}"
    assert client.api("PATCH", api, {"text": "Urges <b>States</b> now;"}, token=token).status_code == 200
    sessions = client.api("GET", f"{api}/history", token=token).get_json()["sessions"]
    first = sessions[-1]["last_update_id"]
    assert client.api("GET", f"{api}/text?at={first}", token=token).get_json()["text"] == \
        "Calls on <b>States</b>;"
    pieces = client.api("GET", f"{api}/diff?from={first}", token=token).get_json()
    assert {"op": "insert", "text": "Urges"} in pieces
    assert client.api("GET", f"{api}/text?at=999999", token=token).status_code == 404
    client.sign_in(member)
    page = client.get(f"/clauses/{clause_id}/history?at={first}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    redline = text[text.index('<p class="redline">'):]
    redline = redline[:redline.index("</p>")]
    # User text in the redline is escaped, never markup (it is not rendered Markdown).
    assert "&lt;b&gt;States&lt;/b&gt;" in redline and "<b>" not in redline
    assert "<ins>Urges</ins>" in redline
    restored = client.api("POST", f"{api}/restore-wording", {"at": first}, token=token)
    assert restored.get_json()["text"] == "Calls on <b>States</b>;"
