"""Comments on clauses, as rules: who may say what where, anchors that follow the text,
mentions that notify, and the events open pages receive."""
from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape

import pytest
from sqlalchemy import event

from drafting.comments import services
from drafting.comments.anchors import thread_anchor
from drafting.comments.schemas import thread_out, threads_out
from drafting.editing import positions
from drafting.editing import services as editing
from drafting.errors import NotFound, PermissionDenied, ValidationFailed
from drafting.notifications.services import notifications_of, unread_count
from drafting.realtime import PENDING_KEY, QueuedEvent
from drafting.recommendations.schemas import ClausePatch
from drafting.recommendations.services import update_clause
from models import (
    ClauseKind,
    ClauseStatus,
    Comment,
    CommentThread,
    Notification,
    NotificationKind,
    RecommendationStatus,
    activity_by_clause,
    activity_by_recommendation,
    clause_activity,
    db,
    utcnow,
)
from tests.helpers.html import assert_inert

TEXT = "Calls on States to protect migrant workers and their families;"


@pytest.fixture
def draft(ctx, factories):
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, TEXT)])
    return cast, recommendation.clauses[0]


def anchor_on(clause, words: str) -> dict[str, str]:
    """An anchor on ``words`` of the clause, made as the browser makes one: relative positions
    on the clause's own document."""
    with editing._document(clause, writing=False) as live:
        start = str(live.text).index(words)
        encoded = (positions.encode(live, start, 0), positions.encode(live, start + len(words), -1))
    db.session.commit()
    return {"start": base64.b64encode(encoded[0]).decode(), "end": base64.b64encode(encoded[1]).decode()}


def events(name: str | None = None) -> list[QueuedEvent]:
    """What the current transaction would send when it commits."""
    queued = [e for e in db.session().info.get(PENDING_KEY, []) if isinstance(e, QueuedEvent)]
    return [e for e in queued if name is None or e.name == name]


# --- who may comment ---------------------------------------------------------------------


@pytest.mark.parametrize("role, allowed", [
    ("chair", True), ("member", True), ("observer", True), ("secretariat", True),
    ("other_chair", False), ("outsider", False),
])
def test_who_may_start_a_thread(draft, role, allowed):
    cast, clause = draft
    if allowed:
        thread = services.start_thread(getattr(cast, role), clause, {"body": "A point."})
        assert thread.comments[0].body == "A point."
    else:
        with pytest.raises(PermissionDenied):
            services.start_thread(getattr(cast, role), clause, {"body": "A point."})


def test_the_secretariat_can_restrict_observers_to_reading(draft):
    cast, clause = draft
    cast.group.observers_may_comment = False
    db.session.commit()
    with pytest.raises(PermissionDenied, match="does not allow you to comment"):
        services.start_thread(cast.observer, clause, {"body": "May I?"})
    thread = services.start_thread(cast.member, clause, {"body": "A point."})
    with pytest.raises(PermissionDenied):
        services.reply(cast.observer, thread, {"body": "May I?"})


@pytest.mark.parametrize("status", [RecommendationStatus.ADOPTED, RecommendationStatus.WITHDRAWN])
def test_no_discussion_once_the_recommendation_is_settled(draft, status):
    cast, clause = draft
    clause.recommendation.status = status
    db.session.commit()
    with pytest.raises(PermissionDenied, match="no longer a draft"):
        services.start_thread(cast.chair, clause, {"body": "Late."})


def test_a_locked_clause_can_still_be_discussed(draft):
    cast, clause = draft
    clause.status = ClauseStatus.LOCKED
    db.session.commit()
    assert services.start_thread(cast.member, clause, {"body": "Before we vote…"}).id


def test_a_deleted_clause_takes_no_comments(draft):
    cast, clause = draft
    thread = services.start_thread(cast.member, clause, {"body": "A point."})
    clause.deleted_at = utcnow()
    db.session.commit()
    with pytest.raises(NotFound):
        services.start_thread(cast.member, clause, {"body": "Too late."})
    with pytest.raises(NotFound):
        services.reply(cast.member, thread, {"body": "Too late."})
    with pytest.raises(NotFound):
        services.get_thread(thread.id, cast.member)


@pytest.mark.parametrize("body, field_message", [
    ("", "Required."), ("   \n ", "Required."), ("x" * 5001, "At most 5000 characters."),
    (None, "Required."), (42, "Must be text."), ("nul\x00", "Contains a character that is not allowed."),
])
def test_bodies_must_be_text_within_the_limit(draft, body, field_message):
    cast, clause = draft
    with pytest.raises(ValidationFailed) as refused:
        services.start_thread(cast.member, clause, {"body": body})
    assert refused.value.fields == {"body": field_message}
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(CommentThread.id))) == 0


def test_the_longest_body_allowed_is_kept_whole(draft):
    cast, clause = draft
    thread = services.start_thread(cast.member, clause, {"body": "x" * 5000})
    assert len(thread.comments[0].body) == 5000


# --- threads -----------------------------------------------------------------------------


def test_replies_answer_comments_of_their_own_thread_only(draft, factories):
    cast, clause = draft
    first = services.start_thread(cast.member, clause, {"body": "One."})
    second = services.start_thread(cast.chair, clause, {"body": "Two."})
    answer = services.reply(cast.observer, first, {"body": "Yes.", "parent_id": first.comments[0].id})
    assert answer.parent_id == first.comments[0].id
    for parent in (second.comments[0].id, 10**12, -1, "1", True):
        with pytest.raises(ValidationFailed) as refused:
            services.reply(cast.observer, first, {"body": "No.", "parent_id": parent})
        assert "parent_id" in refused.value.fields
    other_clause = factories.clause(clause.recommendation, text="Another;", position=2)
    elsewhere = services.start_thread(cast.member, other_clause, {"body": "Elsewhere."})
    with pytest.raises(ValidationFailed):
        services.reply(cast.member, first, {"body": "No.", "parent_id": elsewhere.comments[0].id})


def test_a_clause_of_another_group_is_not_found_for_outsiders(draft, factories):
    cast, _clause = draft
    theirs = factories.recommendation(cast.other_group, clauses=[(ClauseKind.OPERATIVE, "Theirs;")])
    thread = factories.thread(theirs.clauses[0], cast.other_chair)
    for person in (cast.member, cast.chair, cast.observer, cast.outsider):
        with pytest.raises(NotFound):
            services.get_thread(thread.id, person)
    assert services.get_thread(thread.id, cast.secretariat).id == thread.id


def test_only_the_author_edits_or_deletes_a_comment(draft):
    cast, clause = draft
    thread = services.start_thread(cast.member, clause, {"body": "Say *region*."})
    comment = thread.comments[0]
    for person in (cast.chair, cast.observer, cast.secretariat):
        with pytest.raises(PermissionDenied):
            services.edit_comment(person, comment, {"body": "Hijacked."})
        with pytest.raises(PermissionDenied):
            services.delete_comment(person, comment)
    services.edit_comment(cast.member, comment, {"body": "Say *CIS region*."})
    assert comment.body == "Say *CIS region*." and comment.edited_at is not None


def test_an_unchanged_edit_is_not_marked_edited(draft):
    cast, clause = draft
    comment = services.start_thread(cast.member, clause, {"body": "Same."}).comments[0]
    db.session.commit()
    services.edit_comment(cast.member, comment, {"body": "  Same.  "})
    assert comment.edited_at is None and not events()


def test_a_deleted_comment_leaves_a_placeholder_in_its_thread(draft):
    cast, clause = draft
    thread = services.start_thread(cast.member, clause, {"body": "First."})
    services.reply(cast.chair, thread, {"body": "Answer.", "parent_id": thread.comments[0].id})
    services.delete_comment(cast.member, thread.comments[0])
    db.session.commit()
    shown = thread_out(thread)
    assert [c.deleted for c in shown.comments] == [True, False]
    assert shown.comments[0].body == "" and shown.comments[0].body_html == ""
    assert shown.comments[1].parent_id == shown.comments[0].id
    with pytest.raises(ValidationFailed, match="removed"):
        services.edit_comment(cast.member, thread.comments[0], {"body": "Back."})


@pytest.mark.parametrize("role, allowed", [
    ("member", True), ("chair", True), ("observer", False), ("secretariat", False),
])
def test_the_starter_or_the_chair_resolves_and_reopens(draft, role, allowed):
    cast, clause = draft
    thread = services.start_thread(cast.member, clause, {"body": "Settled?"})
    person = getattr(cast, role)
    if not allowed:
        with pytest.raises(PermissionDenied):
            services.set_resolved(person, thread, True)
        return
    services.set_resolved(person, thread, True)
    assert thread.is_resolved and thread.resolved_by_id == person.id
    services.set_resolved(person, thread, True)  # twice: no error, nothing new
    services.set_resolved(person, thread, False)
    assert not thread.is_resolved


def test_filters_and_order_by_activity(draft):
    cast, clause = draft
    old = services.start_thread(cast.member, clause, {"body": "Old."})
    new = services.start_thread(cast.chair, clause, {"body": "New."})
    services.set_resolved(cast.chair, new, True)
    db.session.commit()
    assert [t.id for t in services.clause_threads(clause, "open")] == [old.id]
    assert [t.id for t in services.clause_threads(clause, "resolved")] == [new.id]
    services.reply(cast.observer, old, {"body": "Bump."})
    db.session.commit()
    assert [t.id for t in services.clause_threads(clause, "all")] == [old.id, new.id]
    with pytest.raises(ValidationFailed):
        services.clean_filter("everything")


def test_replying_to_a_resolved_thread_reopens_it(draft):
    cast, clause = draft
    thread = services.start_thread(cast.member, clause, {"body": "Done?"})
    services.set_resolved(cast.member, thread, True)
    db.session.commit()
    services.reply(cast.observer, thread, {"body": "Not quite."})
    assert not thread.is_resolved
    assert events("comment_created")[-1].args[0]["reopened"] is True


def test_activity_counts_for_badges(draft, factories):
    cast, clause = draft
    services.start_thread(cast.member, clause, {"body": "One."})
    done = services.start_thread(cast.member, clause, {"body": "Two."})
    services.reply(cast.chair, done, {"body": "Agreed."})
    services.set_resolved(cast.chair, done, True)
    db.session.commit()
    activity = activity_by_recommendation([clause.recommendation_id])[clause.recommendation_id]
    assert (activity.open_threads, activity.comments) == (1, 3)
    assert activity_by_clause(clause.recommendation)[clause.id].open_threads == 1
    assert clause_activity(clause).comments == 3


# --- anchors -----------------------------------------------------------------------------


def test_an_anchor_quotes_the_words_and_follows_them_through_edits(draft):
    cast, clause = draft
    thread = services.start_thread(cast.member, clause, {
        "body": "Why only workers?", "anchor": anchor_on(clause, "migrant workers")})
    db.session.commit()
    assert thread.quote == "migrant workers"
    # Edits right before and right after the words, as two people typing would make them.
    for text in ("Urgently calls on States to protect migrant workers and their families;",
                 "Urgently calls on States to protect migrant workers, and their families;",
                 "Urgently calls on States to protect the migrant workers, and their families;"):
        update_clause(cast.chair, clause, ClausePatch(text=text))
        db.session.commit()
    anchor = thread_anchor(thread)
    assert anchor["text"] == "migrant workers" and not anchor["detached"]


def test_an_anchor_whose_words_are_deleted_is_detached_and_keeps_its_quote(draft):
    cast, clause = draft
    thread = services.start_thread(cast.member, clause, {
        "body": "Keep this.", "anchor": anchor_on(clause, "and their families")})
    db.session.commit()
    update_clause(cast.chair, clause, ClausePatch(text="Calls on States to protect migrant workers;"))
    db.session.commit()
    anchor = thread_anchor(thread)
    assert anchor["detached"] and anchor["quote"] == "and their families" and anchor["text"] == ""


def test_anchors_in_unicode_text_quote_whole_characters(ctx, factories):
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, "Приветствует «мигрантов» 🌍 из региона;")])
    clause = recommendation.clauses[0]
    thread = services.start_thread(cast.member, clause, {
        "body": "Слово?", "anchor": anchor_on(clause, "«мигрантов» 🌍")})
    assert thread.quote == "«мигрантов» 🌍"


@pytest.mark.parametrize("anchor", [
    "start-end", {"start": "AA=="}, {"start": "not base64!", "end": "AA=="},
    {"start": "", "end": ""}, {"start": 1, "end": 2},
    {"start": base64.b64encode(b"\x00\x99\x01\x05\x00").decode(),  # an item it never had
     "end": base64.b64encode(b"\x00\x99\x01\x06\x41").decode()},
    {"start": base64.b64encode(b"\x01\x05other\x00").decode(),  # another root type
     "end": base64.b64encode(b"\x01\x05other\x00").decode()},
    {"start": base64.b64encode(b"\x02\x01\x01\x00").decode(), "end": base64.b64encode(b"\x07").decode()},
    {"start": "QQ==", "end": "QQ==", "quote": "made up"},
])
def test_anchors_that_are_not_positions_in_the_clause_are_refused(draft, anchor):
    cast, clause = draft
    with pytest.raises(ValidationFailed) as refused:
        services.start_thread(cast.member, clause, {"body": "Here.", "anchor": anchor})
    assert "anchor" in refused.value.fields


def test_an_anchor_from_another_clause_is_refused(draft, factories):
    cast, clause = draft
    other = factories.clause(clause.recommendation, text="Entirely different words;", position=2)
    with pytest.raises(ValidationFailed):
        services.start_thread(cast.member, clause, {"body": "Here.",
                                                    "anchor": anchor_on(other, "different")})


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    sent: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_clauses_anchors_are_resolved_under_one_catch_up_of_its_document(draft, factories):
    """Listing threads reads each clause's new updates once, not once per anchored thread
    (it was one catch-up query a thread: 5 for the 5 threads below)."""
    cast, clause = draft
    words = ["Calls", "States", "migrant workers", "their", "families"]
    for word in words:
        services.start_thread(cast.member, clause, {"body": word, "anchor": anchor_on(clause, word)})
    services.start_thread(cast.member, clause, {"body": "On the whole clause."})
    other = factories.clause(clause.recommendation, text="Invites employers to take part;", position=2)
    services.start_thread(cast.member, other, {"body": "Who?", "anchor": anchor_on(other, "employers")})
    db.session.commit()
    update_clause(cast.chair, clause,
                  ClausePatch(text="Calls on all States to protect migrant workers and their families;"))
    db.session.commit()

    threads = services.clause_threads(clause)
    with statements() as sent:
        shown = threads_out(threads)
    catch_ups = [s for s in sent if "FROM clause_update" in s]
    assert len(catch_ups) == 1, catch_ups
    assert sorted(t.anchor.text for t in shown if t.anchor) == sorted(words)
    assert [t.anchor for t in shown if t.comments[0].body == "On the whole clause."] == [None]

    # Across a recommendation: one catch-up a clause.
    by_clause = services.recommendation_threads(clause.recommendation)
    with statements() as sent:
        shown = threads_out(t for threads in by_clause.values() for t in threads)
    assert len([s for s in sent if "FROM clause_update" in s]) == 2
    assert sorted(t.anchor.text for t in shown if t.anchor) == sorted([*words, "employers"])
    assert len(shown) == 7


def test_an_empty_selection_is_refused(draft):
    cast, clause = draft
    anchor = anchor_on(clause, "States")
    with pytest.raises(ValidationFailed, match="Select some words"):
        services.start_thread(cast.member, clause, {"body": "Here.",
                                                    "anchor": {"start": anchor["start"],
                                                               "end": anchor["start"]}})


# --- mentions and notifications ----------------------------------------------------------


def test_mentions_notify_group_members_and_link_to_them(draft):
    cast, clause = draft
    body = (f"@**Chair Person** and @**observer person|{cast.observer.id}**, see also "
            f"@**Outsider Person** and @**Member Person** (me) and @**Chair Person|{cast.member.id}**")
    thread = services.start_thread(cast.member, clause, {"body": body})
    db.session.commit()
    assert unread_count(cast.chair) == 1 and unread_count(cast.observer) == 1
    assert unread_count(cast.outsider) == 0 and unread_count(cast.member) == 0
    html = thread_out(thread).comments[0].body_html
    assert f'href="/groups/{cast.group.id}#member-{cast.chair.id}"' in html
    assert f'href="/groups/{cast.group.id}#member-{cast.observer.id}"' in html
    # Nobody of the group, or a name that is not the id's: plain Markdown, no link.
    assert "@<strong>Outsider Person</strong>" in html
    assert f"@<strong>Chair Person|{cast.member.id}</strong>" in html
    assert html.count("<a ") == 3
    notification = notifications_of(cast.chair)[0]
    assert (notification.kind, notification.actor_id, notification.comment_id) == (
        NotificationKind.MENTION, cast.member.id, thread.comments[0].id)


def test_a_name_two_members_share_needs_the_id(draft, factories):
    cast, clause = draft
    twin = factories.member_of(cast.group, name="Chair Person")
    services.start_thread(cast.member, clause, {"body": "@**Chair Person** ?"})
    db.session.commit()
    assert unread_count(cast.chair) == unread_count(twin) == 0
    services.start_thread(cast.member, clause, {"body": f"@**Chair Person|{twin.id}** ?"})
    db.session.commit()
    assert (unread_count(cast.chair), unread_count(twin)) == (0, 1)


def test_editing_notifies_only_the_newly_mentioned(draft):
    cast, clause = draft
    comment = services.start_thread(cast.member, clause, {"body": "@**Chair Person**"}).comments[0]
    services.edit_comment(cast.member, comment, {"body": "@**Chair Person** @**Observer Person**"})
    db.session.commit()
    assert (unread_count(cast.chair), unread_count(cast.observer)) == (1, 1)


def test_a_mentioned_name_cannot_carry_markup(draft, factories, xss_payloads):
    cast, clause = draft
    for payload in xss_payloads[:40]:
        person = factories.member_of(cast.group, name=payload[:200])
        comment = services.start_thread(cast.member, clause, {
            "body": f"@**{person.name}|{person.id}** {payload}"}).comments[0]
        html = str(thread_out(comment.thread).comments[0].body_html)
        assert_inert(html)
        # The name reads as typed, inside the one link of the mention.
        link_text = re.search(r"<a [^>]*>(.*?)</a>", html, re.S)
        assert link_text and unescape(link_text.group(1)) == f"@{person.name.strip()}"


def test_the_starter_hears_of_replies(draft):
    cast, clause = draft
    thread = services.start_thread(cast.observer, clause, {"body": "NGO view."})
    services.reply(cast.chair, thread, {"body": "Noted."})
    services.reply(cast.observer, thread, {"body": "Thanks."})  # one's own reply: nothing
    db.session.commit()
    kinds = [n.kind for n in notifications_of(cast.observer)]
    assert kinds == [NotificationKind.REPLY]


# --- events ------------------------------------------------------------------------------


def test_each_change_queues_one_event_with_the_whole_thread(draft):
    cast, clause = draft
    thread = services.start_thread(cast.member, clause, {"body": "One."})
    comment = services.reply(cast.chair, thread, {"body": "Two."})
    services.edit_comment(cast.chair, comment, {"body": "Two, edited."})
    services.delete_comment(cast.chair, comment)
    services.set_resolved(cast.member, thread, True)
    services.set_resolved(cast.member, thread, False)
    names = [e.name for e in events() if not e.name.startswith("notification")]
    assert names == ["comment_created", "comment_created", "comment_updated", "comment_deleted",
                     "thread_resolved", "thread_reopened"]
    last = events("thread_reopened")[0]
    assert last.room == f"recommendation:{clause.recommendation_id}"
    payload = last.args[0]
    assert payload["clause"] == clause.id and payload["thread"]["id"] == thread.id
    assert [c["deleted"] for c in payload["thread"]["comments"]] == [False, True]
    assert (payload["open_threads"], payload["comments"]) == (1, 1)


def test_a_refused_change_queues_nothing_and_writes_nothing(draft):
    cast, clause = draft
    with pytest.raises(PermissionDenied):
        services.start_thread(cast.outsider, clause, {"body": "Hi"})
    db.session.rollback()
    assert not events()
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Notification.id))) == 0
